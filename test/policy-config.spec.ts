// One config file for every front end: the policy pack's --policy-pack-config file, read by the shared
// reader (shared/policy-config.ts) and by `keyage audit --policy-config FILE` in-process.
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runCli, type CliResult } from "./fixtures/cli";
import type { JsonAudit } from "../cli/json";
import { ParameterError, readPolicyConfig, settingNames, validateParams } from "../shared";

const ROOT = path.join(__dirname, "..");
const EXAMPLE_CONFIG = path.join(ROOT, "examples", "policy-config.json");
const REPORT = path.join(ROOT, "examples", "credential-report.csv");
const NOW = "2026-11-29T12:00:00Z";
const dir = mkdtempSync(path.join(tmpdir(), "keyage-policy-config-"));

function configFile(name: string, doc: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof doc === "string" ? doc : JSON.stringify(doc));
  return file;
}

function audit(argv: string[]): Promise<CliResult> {
  return runCli(["audit", "--credential-report", REPORT, "--now", NOW, ...argv], { now: () => Date.parse(NOW) });
}

function read(doc: unknown) {
  const { raw, names } = settingNames(readPolicyConfig(doc));
  return validateParams(raw, names);
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe("policy config file: the shared reader", () => {
  it("reads examples/policy-config.json as one limit, one warning window and one exemption list", () => {
    const params = read(JSON.parse(readFileSync(EXAMPLE_CONFIG, "utf8")));
    assert.equal(params.maxAgeDays, 30);
    assert.equal(params.warnDays, 7);
    assert.deepEqual(params.exemptions.map((e) => e.user), ["legacy-batch", "break-glass"]);
    assert.equal(readPolicyConfig(JSON.parse(readFileSync(EXAMPLE_CONFIG, "utf8"))).allowedUsers?.name, "iam-access-key-creation.allowedUsers");
  });

  it("takes the limit from iam-access-key-max-age alone, and from iam-access-key-expiring only when the max-age policy is disabled", () => {
    assert.equal(read({ "iam-access-key-max-age": { maxAgeDays: 90 } }).maxAgeDays, 90);
    assert.equal(read({ "iam-access-key-max-age": "disabled", "iam-access-key-expiring": { maxAgeDays: 60 } }).maxAgeDays, 60);
    assert.equal(read({ "iam-access-key-max-age": { enforcementLevel: "disabled" }, "iam-access-key-expiring": { maxAgeDays: 60 } }).maxAgeDays, 60);
    assert.equal(read({ "iam-access-key-expiring": { maxAgeDays: 30 } }).maxAgeDays, 30);
    assert.equal(read({}).maxAgeDays, 30);
  });

  it("refuses a limit set only on iam-access-key-expiring, as the pack does (its max-age policy keeps enforcing its default)", () => {
    assert.throws(
      () => readPolicyConfig({ "iam-access-key-expiring": { maxAgeDays: 60 } }),
      (err: Error) => err instanceof ParameterError && /iam-access-key-expiring's maxAgeDays \(60\) differs from iam-access-key-max-age's \(30\)/.test(err.message),
    );
  });

  it("refuses two different limits, naming both values", () => {
    assert.throws(
      () => readPolicyConfig({ "iam-access-key-max-age": { maxAgeDays: 90 }, "iam-access-key-expiring": { maxAgeDays: 30 } }),
      (err: Error) => err instanceof ParameterError && /iam-access-key-expiring's maxAgeDays \(30\) differs from iam-access-key-max-age's \(90\)/.test(err.message),
    );
  });

  it("refuses two different exemption lists, but not the same users written differently", () => {
    assert.throws(
      () => readPolicyConfig({ "iam-access-key-max-age": { exemptions: ["alice"] }, "iam-access-key-expiring": { exemptions: ["bob"] } }),
      /iam-access-key-expiring's exemptions \(\["bob"\]\) differ from iam-access-key-max-age's \(\["alice"\]\)/,
    );
    const same = read({ "iam-access-key-max-age": { exemptions: ["Alice:2027-01-31"] }, "iam-access-key-expiring": { exemptions: [{ user: "alice", until: "2027-01-31" }] } });
    assert.deepEqual(same.exemptions.map((e) => e.user), ["Alice"]);
  });

  it("names an out-of-range value as the file spells it", () => {
    assert.throws(() => read({ "iam-access-key-max-age": { maxAgeDays: 0 } }), /^ParameterError: iam-access-key-max-age\.maxAgeDays must be a whole number of days from 1 to 3650, got 0$/);
    assert.throws(() => read({ "iam-access-key-expiring": { warnDays: 30 } }), /iam-access-key-expiring\.warnDays must be a whole number of days from 0 to 29 \(less than iam-access-key-max-age\.maxAgeDays = 30\), got 30/);
  });

  it("rejects an unknown setting of a keyage policy, a bad level and a file that is not an object", () => {
    assert.throws(() => readPolicyConfig({ "iam-access-key-max-age": { maxAge: 90 } }), /iam-access-key-max-age: unknown setting "maxAge" \(it takes maxAgeDays, exemptions and enforcementLevel\)/);
    assert.throws(() => readPolicyConfig({ "iam-access-key-max-age": "strict" }), /"strict" is not an enforcement level/);
    assert.throws(() => readPolicyConfig({ "iam-access-key-max-age": { enforcementLevel: "strict", maxAgeDays: 90 } }), /iam-access-key-max-age\.enforcementLevel: "strict" is not an enforcement level/);
    assert.throws(() => readPolicyConfig([]), /a policy config must be a JSON object keyed by policy name, got \[\]/);
  });

  it("ignores levels, `all` and the entries of a team's other policies", () => {
    assert.deepEqual(read({ all: "advisory", "iam-access-key-max-age": "mandatory", "acme-s3-no-public-read": { buckets: 3 } }), { maxAgeDays: 30, warnDays: 7, exemptions: [] });
  });
});

describe("keyage audit --policy-config", () => {
  it("audits with the limit and exemptions of the pack's config file", async () => {
    const file = configFile("limit.json", { "iam-access-key-max-age": { maxAgeDays: 90, exemptions: ["ci-deploy"] }, "iam-access-key-expiring": { warnDays: 14 } });
    const { status, stdout, stderr } = await audit(["--format", "json", "--policy-config", file]);
    assert.equal(stderr, "");
    assert.equal(status, 1);
    const json = JSON.parse(stdout) as JsonAudit;
    assert.equal(json.maxAgeDays, 90);
    assert.deepEqual(
      json.users.filter((u) => u.compliance === "NON_COMPLIANT").map((u) => u.user),
      ["svc.legacy@example.com"],
    );
  });

  it("does not exempt a user listed only under iam-access-key-expiring, whose keys the pack still blocks", async () => {
    // In the pack, the expiring policy's own exemptions only silence its warnings: iam-access-key-max-age
    // still fails the preview for that user's expired key, so the audit must not call the user compliant.
    const file = configFile("warn-only.json", { "iam-access-key-max-age": { maxAgeDays: 90 }, "iam-access-key-expiring": { exemptions: ["svc.legacy@example.com"] } });
    const { status, stdout } = await audit(["--format", "json", "--policy-config", file]);
    assert.equal(status, 1);
    const json = JSON.parse(stdout) as JsonAudit;
    assert.deepEqual(json.exemptions, []);
    const legacy = json.users.find((u) => u.user === "svc.legacy@example.com");
    assert.equal(legacy?.compliance, "NON_COMPLIANT");
    assert.equal(legacy?.exempt, false);
  });

  it("lets a flag typed on the command line win over the file", async () => {
    const file = configFile("ninety.json", { "iam-access-key-max-age": { maxAgeDays: 90 } });
    const json = JSON.parse((await audit(["--format", "json", "--policy-config", file, "--max-age-days", "20"])).stdout) as JsonAudit;
    assert.equal(json.maxAgeDays, 20);
  });

  it("accepts examples/policy-config.json", async () => {
    const { status, stdout } = await audit(["--format", "json", "--policy-config", EXAMPLE_CONFIG]);
    assert.equal(status, 1);
    assert.equal((JSON.parse(stdout) as JsonAudit).maxAgeDays, 30);
  });

  it("exits 2 with one line naming both values when the file gives two limits", async () => {
    const file = configFile("conflict.json", { "iam-access-key-max-age": { maxAgeDays: 90 }, "iam-access-key-expiring": { maxAgeDays: 30 } });
    const { status, stdout, stderr } = await audit(["--policy-config", file]);
    assert.equal(status, 2);
    assert.equal(stdout, "");
    assert.equal(
      stderr,
      `keyage: ${file}: iam-access-key-expiring's maxAgeDays (30) differs from iam-access-key-max-age's (90): ` +
        "set maxAgeDays once, under iam-access-key-max-age (iam-access-key-expiring follows it), or give both the same value\n",
    );
  });

  it("exits 2 naming the file for a missing file, bad JSON and an out-of-range value", async () => {
    assert.deepEqual(await audit(["--policy-config", path.join(dir, "nope.json")]), {
      status: 2,
      stdout: "",
      stderr: `keyage: cannot read the policy config "${path.join(dir, "nope.json")}": no such file\n`,
    });
    const bad = configFile("bad.json", "{ not json");
    const broken = await audit(["--policy-config", bad]);
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, new RegExp(`^keyage: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: not JSON: `));
    const zero = configFile("zero.json", { "iam-access-key-max-age": { maxAgeDays: 0 } });
    assert.equal((await audit(["--policy-config", zero])).stderr, `keyage: ${zero}: iam-access-key-max-age.maxAgeDays must be a whole number of days from 1 to 3650, got 0\n`);
  });
});
