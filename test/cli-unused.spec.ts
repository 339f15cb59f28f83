// `keyage audit --max-unused-days`: offline on credential reports (the report knows every key's last
// use) and live against the fake IAM, where a key is called unused only after GetAccessKeyLastUsed agrees.
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { AwsSecurityFinding } from "@aws-sdk/client-securityhub";
import { relatedRequirements, ROTATION_REQUIREMENTS, UNUSED_REQUIREMENTS } from "../cli/asff";
import { runCli, sdkClients, type CliResult } from "./fixtures/cli";
import type { ClientFactory } from "../cli/io";
import type { JsonAudit } from "../cli/json";
import { startFakeAws } from "./fake-aws";

const NOW = "2026-11-29T12:00:00Z";
const NOW_MS = Date.parse(NOW);
const DAY_MS = 86_400_000;
const EXAMPLE_LINES = readFileSync(path.join(__dirname, "..", "examples", "credential-report.csv"), "utf8").split("\n");
const HEADER = EXAMPLE_LINES[0] as string;
/** The example's root row (no keys): every report AWS writes has one, and keyage refuses a report without it. */
const ROOT_ROW = EXAMPLE_LINES.find((l) => l.startsWith("<root_account>,")) as string;
const dir = mkdtempSync(path.join(tmpdir(), "keyage-unused-"));

function keyage(argv: string[], clients?: ClientFactory): Promise<CliResult> {
  return runCli(argv, { stdoutTTY: false, readStdin: async () => "", now: () => NOW_MS, ...(clients ? { clients } : {}) });
}

/** The CLI's clients on the fake's endpoint. */
const fakeClients = (endpoint: string): ClientFactory => sdkClients({ region: "us-east-1", endpoint });

const at = (daysAgo: number): string => new Date(NOW_MS - daysAgo * DAY_MS).toISOString().replace(".000Z", "+00:00");

/** A report row: one active key created `createdDaysAgo` days ago, last used `usedDaysAgo` days ago (null: N/A). */
function row(user: string, createdDaysAgo: number, usedDaysAgo: number | null): string {
  const used = usedDaysAgo === null ? "N/A,N/A,N/A" : `${at(usedDaysAgo)},us-east-1,s3`;
  return `${user},arn:aws:iam::123456789012:user/${user},2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,${at(createdDaysAgo)},${used},false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`;
}

function report(name: string, rows: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, [HEADER, ...rows, ROOT_ROW].join("\n"));
  return file;
}

describe("keyage audit --max-unused-days: a credential report", () => {
  const file = report("unused.csv", [row("active", 60, 2), row("idle", 60, 50), row("never", 60, null), row("fresh", 10, null), row("old", 100, null)]);

  it("reports keys idle past the limit as unused (never used counts from creation), exit 1, reason unused in JSON", async () => {
    const result = await keyage(["audit", "--credential-report", file, "--now", NOW, "--max-age-days", "90", "--max-unused-days", "45", "--format", "json"]);
    assert.equal(result.status, 1);
    const doc = JSON.parse(result.stdout) as JsonAudit;
    assert.equal(doc.schemaVersion, "1.1.0");
    assert.equal(doc.maxUnusedDays, 45);
    const reason = Object.fromEntries(doc.users.filter((u) => u.root !== true).map((u) => [u.user, u.keys[0]?.reason]));
    assert.deepEqual(reason, { active: "ok", idle: "unused", never: "unused", fresh: "ok", old: "expired" });
    const idle = doc.users.find((u) => u.user === "idle");
    assert.equal(idle?.keys[0]?.unusedDays, 50);
    assert.match(idle?.annotation ?? "", /was last used 50 days ago \(\d{4}-\d\d-\d\d\), over the 45-day unused limit; deactivate or delete it\.$/);
  });

  it("is off without the flag: the same report has only the expired key, and maxUnusedDays is null", async () => {
    const result = await keyage(["audit", "--credential-report", file, "--now", NOW, "--max-age-days", "90", "--format", "json"]);
    const doc = JSON.parse(result.stdout) as JsonAudit;
    assert.equal(doc.maxUnusedDays, null);
    assert.deepEqual(doc.users.filter((u) => u.compliance === "NON_COMPLIANT").map((u) => u.user), ["old"]);
  });

  it("says UNUSED in the table and fills unused_days and max_unused_days in CSV", async () => {
    const table = await keyage(["audit", "--credential-report", file, "--now", NOW, "--max-age-days", "90", "--max-unused-days", "45"]);
    assert.match(table.stdout, /UNUSED 50 days: over the 45-day unused limit, deactivate or delete it/);
    assert.match(table.stdout, /: limit 90 days, warning 7 days before, unused limit 45 days\.\n/);
    assert.match(table.stdout, /\nDeactivate an unused key with: aws iam update-access-key /);
    const csv = await keyage(["audit", "--credential-report", file, "--now", NOW, "--max-age-days", "90", "--max-unused-days", "45", "--format", "csv"]);
    const [head, , idle] = csv.stdout.trim().split("\n");
    assert.ok(head?.endsWith(",unused_days,max_unused_days"));
    assert.ok(idle?.endsWith(",50,45"), idle);
  });

  for (const bad of ["0", "3651", "4.5", ""]) {
    it(`refuses --max-unused-days ${JSON.stringify(bad)} with exit 2 and the range`, async () => {
      const result = await keyage(["audit", "--credential-report", file, "--max-unused-days", bad]);
      assert.equal(result.status, 2);
      assert.match(result.stderr, /--max-unused-days (must be a whole number of days from 1 to 3650|needs a whole number of days)/);
    });
  }
});

describe("keyage audit --max-unused-days --format asff: CIS 1.12 / IAM.22 only when the limit is at most 45", () => {
  const file = report("asff-unused.csv", [row("never", 60, null)]);
  const requirements = async (limit: string): Promise<string[]> => {
    const result = await keyage(["audit", "--credential-report", file, "--now", NOW, "--max-age-days", "90", "--max-unused-days", limit, "--format", "asff", "--region", "eu-west-1"]);
    const [finding] = JSON.parse(result.stdout) as AwsSecurityFinding[];
    assert.equal(finding?.Compliance?.Status, "FAILED");
    return finding?.Compliance?.RelatedRequirements ?? [];
  };

  it("names them at 45", async () => assert.deepEqual(await requirements("45"), [...ROTATION_REQUIREMENTS, ...UNUSED_REQUIREMENTS]));
  it("does not at 46", async () => assert.deepEqual(await requirements("46"), [...ROTATION_REQUIREMENTS]));
  it("dates the finding from when the key passed the unused limit, and tells to deactivate or delete", async () => {
    const result = await keyage(["audit", "--credential-report", file, "--now", NOW, "--max-age-days", "90", "--max-unused-days", "45", "--format", "asff", "--region", "eu-west-1"]);
    const [finding] = JSON.parse(result.stdout) as AwsSecurityFinding[];
    assert.equal(finding?.CreatedAt, new Date(NOW_MS - 15 * DAY_MS).toISOString());
    assert.match(finding?.Remediation?.Recommendation?.Text ?? "", /^Deactivate or delete the unused keys/);
  });
  it("is one function for every format: none with the limit off, none for an exempt user", () => {
    assert.deepEqual(relatedRequirements(false, 90, false), [...ROTATION_REQUIREMENTS]);
    assert.deepEqual(relatedRequirements(false, 365, false, 30), [...UNUSED_REQUIREMENTS]);
    assert.deepEqual(relatedRequirements(false, 90, true, 30), []);
  });
});

describe("keyage audit --max-unused-days: the live account", () => {
  it("asks GetAccessKeyLastUsed only for keys that may be unused, and believes it over a report that says N/A", async () => {
    const fake = await startFakeAws({ now: () => NOW_MS });
    try {
      fake.addUser("busy", { keys: [{ ageDays: 60, lastUsedDate: new Date(NOW_MS - 2 * DAY_MS) }] });
      fake.addUser("young", { keys: [{ ageDays: 10 }] });
      fake.addUser("expired", { keys: [{ ageDays: 100 }] });
      fake.addUser("idle", { keys: [{ ageDays: 60 }] });
      const late = fake.addUser("late", { keys: [{ ageDays: 60 }] });
      fake.generateReport(new Date(NOW_MS - 3600_000));
      // Used after the report was made: the report still says N/A.
      (late.keys[0] as { lastUsedDate?: Date }).lastUsedDate = new Date(NOW_MS - 60_000);
      fake.resetCounts();
      const result = await keyage(["audit", "--now", NOW, "--max-age-days", "90", "--max-unused-days", "45", "--format", "json"], fakeClients(fake.url));
      const doc = JSON.parse(result.stdout) as JsonAudit;
      const reason = Object.fromEntries(doc.users.filter((u) => u.root !== true).map((u) => [u.user, u.keys[0]?.reason]));
      assert.deepEqual(reason, { busy: "ok", young: "ok", expired: "expired", idle: "unused", late: "ok" });
      // Only idle and late may be unused by the report: one ListAccessKeys (ids) and one GetAccessKeyLastUsed each.
      assert.equal(fake.calls.GetAccessKeyLastUsed, 2);
      assert.equal(result.status, 1);
    } finally {
      await fake.close();
    }
  });

  it("makes no GetAccessKeyLastUsed call at all with the limit off", async () => {
    const fake = await startFakeAws({ now: () => NOW_MS });
    try {
      fake.addUser("idle", { keys: [{ ageDays: 60 }] });
      fake.generateReport();
      const result = await keyage(["audit", "--now", NOW, "--max-age-days", "90"], fakeClients(fake.url));
      assert.equal(result.status, 0);
      assert.equal(fake.calls.GetAccessKeyLastUsed, undefined);
    } finally {
      await fake.close();
    }
  });
});
