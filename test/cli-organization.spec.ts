// `keyage audit --organization` through the real SDK against the fake organization (test/fake-aws/
// organization.ts): one endpoint, Organizations and STS answered by the organization, IAM by the fake of
// the account whose session signed the request. A throttled account, an account without the role and an
// account whose credential report is cut short, next to healthy ones.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { parse } from "csv-parse/sync";
import type { JsonAudit } from "../cli/json";
import { runCli } from "./fixtures/cli";
import { orgClients } from "./fake-aws/org-clients";
import { startFakeOrganization, type FakeOrganization } from "./fake-aws/organization";

const NOW = "2026-11-29T12:00:00Z";
const CENTRAL = "111111111111";
const HEALTHY = "222222222222";
const THROTTLED = "333333333333";
const NO_ROLE = "444444444444";
const TRUNCATED = "555555555555";
const SUSPENDED = "666666666666";
const ROLE = "keyage-audit";


interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

function keyage(org: FakeOrganization, argv: string[], tty = false): Promise<Result> {
  return runCli(argv, { stderrTTY: tty, now: () => Date.parse(NOW), clients: orgClients(org) });
}

describe("keyage audit --organization", function () {
  this.timeout(30_000);
  let org: FakeOrganization;

  beforeEach(async () => {
    org = await startFakeOrganization({ central: CENTRAL, members: [HEALTHY, THROTTLED, NO_ROLE, TRUNCATED, SUSPENDED], roles: [ROLE], now: () => Date.parse(NOW) });
    org.pageSize = 2; // three pages of ListAccounts
    org.account(CENTRAL).fake.addUser("admin", { keys: [{ ageDays: 3 }] });
    org.account(HEALTHY).fake.addUser("alice", { keys: [{ ageDays: 10 }] });
    org.account(HEALTHY).fake.addUser("bob", { keys: [{ ageDays: 45 }] });
    org.account(THROTTLED).fake.addUser("carol", { keys: [{ ageDays: 40 }] });
    org.account(NO_ROLE).fake.addUser("dave", { keys: [{ ageDays: 400 }] });
    org.account(NO_ROLE).roles.delete(ROLE);
    const cut = org.account(TRUNCATED).fake;
    cut.addUser("erin", { keys: [{ ageDays: 5 }] });
    cut.addUser("frank", { keys: [{ ageDays: 31 }] });
    // The report ends in the middle of a row (a download cut short).
    const full = cut.renderReport(new Date(Date.parse(NOW)));
    cut.reportOverride = full.slice(0, full.lastIndexOf("\n", full.length - 2) + 40);
    org.account(SUSPENDED).state = "SUSPENDED";
    org.account(SUSPENDED).fake.addUser("ghost", { keys: [{ ageDays: 999 }] });
  });
  afterEach(async () => org.close());

  it("audits every ACTIVE account through the role, reports the one whose role is missing, lists the others' findings and exits 3", async () => {
    // IAM throttles this account's ListUsers twice; the SDK's retries carry it through.
    org.account(THROTTLED).fake.fail("ListUsers", { code: "Throttling", times: 2 });
    const result = await keyage(org, ["audit", "--organization", "--role-name", ROLE, "--now", NOW, "--format", "json"]);
    assert.equal(result.status, 3, result.stderr);
    const doc = JSON.parse(result.stdout) as JsonAudit;
    assert.equal(doc.schemaVersion, "1.1.0");
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(path.join(__dirname, "..", "docs", "schema", "audit-v1.schema.json"), "utf8")) as object);
    assert.ok(validate(doc), ajv.errorsText(validate.errors));
    assert.equal(doc.incomplete, true);
    assert.deepEqual(
      doc.accounts?.map((a) => [a.account, a.status]),
      [[CENTRAL, "audited"], [HEALTHY, "audited"], [THROTTLED, "audited"], [NO_ROLE, "failed"], [TRUNCATED, "audited"]],
      "the suspended account is not chosen",
    );
    const failed = doc.accounts?.find((a) => a.account === NO_ROLE);
    assert.match(String(failed?.error), /AccessDenied.*sts:AssumeRole on resource: arn:aws:iam::444444444444:role\/keyage-audit/);
    assert.equal(failed?.name, `account-${NO_ROLE}`);
    // Every user of every audited account, with its account, the root rows included.
    const users = doc.users.map((u) => `${u.account}/${u.user}:${u.compliance}`);
    assert.deepEqual(users.filter((u) => !u.includes("<root_account>")), [
      `${CENTRAL}/admin:COMPLIANT`,
      `${HEALTHY}/alice:COMPLIANT`,
      `${HEALTHY}/bob:NON_COMPLIANT`,
      `${THROTTLED}/carol:NON_COMPLIANT`,
      `${TRUNCATED}/erin:COMPLIANT`,
      `${TRUNCATED}/frank:NON_COMPLIANT`,
    ]);
    assert.ok(!users.some((u) => u.startsWith(NO_ROLE) || u.includes("ghost")));
    assert.ok((org.account(THROTTLED).fake.calls.ListUsers ?? 0) >= 3, "the throttled calls were retried");
    // The truncated report is not trusted: its users are read one by one, and the root row is named as unchecked.
    const truncated = doc.accounts?.find((a) => a.account === TRUNCATED);
    assert.equal(truncated?.notes.length, 1);
    assert.match(String(truncated?.notes[0]), /the root user's keys were not checked \(no credential report: the credential report could not be parsed/);
    assert.ok(!users.includes(`${TRUNCATED}/<root_account>:COMPLIANT`));
    assert.equal(org.account(TRUNCATED).fake.calls.ListAccessKeys, 2);
    assert.deepEqual(truncated?.summary, { users: 2, compliant: 1, nonCompliant: 1 });
    assert.deepEqual(doc.summary, { users: users.length, compliant: users.filter((u) => u.endsWith(":COMPLIANT")).length, nonCompliant: 3 });
    // stderr: the unaudited account with its error, the note, and that the audit is incomplete.
    assert.match(result.stderr, /keyage: account 444444444444 \(account-444444444444\) was not audited: could not assume arn:aws:iam::444444444444:role\/keyage-audit: AccessDenied/);
    assert.match(result.stderr, /keyage: note: account 555555555555: the root user's keys were not checked/);
    assert.match(result.stderr, /keyage: the audit is incomplete: 1 of 5 accounts could not be audited/);
    assert.equal(org.calls.ListAccounts, 3, "every page of ListAccounts");
    assert.equal(org.calls.AssumeRole, 5, "one AssumeRole per chosen account");
  });

  it("exits 1 when every chosen account is audited and one holds a violation, and 0 when none does", async () => {
    const some = await keyage(org, ["audit", "--organization", "--role-name", ROLE, "--now", NOW, "--exclude-accounts", NO_ROLE]);
    assert.equal(some.status, 1, some.stderr);
    assert.doesNotMatch(some.stderr, /incomplete/);
    const clean = await keyage(org, ["audit", "--organization", "--role-name", ROLE, "--now", NOW, "--accounts", `${CENTRAL},${HEALTHY}`, "--exempt", "bob"]);
    assert.equal(clean.status, 0, clean.stderr);
    assert.equal(org.calls.ListAccounts, 3, "--accounts does not list the organization (only the first run did)");
  });

  it("writes the account on every row of the table, the CSV, and the asff and ocsf findings", async () => {
    const argv = ["audit", "--organization", "--role-name", ROLE, "--now", NOW, "--accounts", `${HEALTHY} ${NO_ROLE}`, "--region", "eu-west-1"];
    const table = await keyage(org, argv);
    assert.equal(table.status, 3);
    assert.match(table.stdout, /^ACCOUNT\s+USER\s+KEY/m);
    assert.match(table.stdout, /^222222222222\s+bob\s+…\w{4}\s+Active/m, "bob's key is named by id, as in a single-account live audit");
    assert.match(table.stdout, /Account 444444444444 was NOT audited: could not assume .*: AccessDenied/);
    const csv = parse((await keyage(org, [...argv, "--format", "csv"])).stdout, { columns: true }) as Record<string, string>[];
    assert.deepEqual([...new Set(csv.map((r) => r.account))], [HEALTHY]);
    const asff = JSON.parse((await keyage(org, [...argv, "--format", "asff"])).stdout) as { AwsAccountId: string; ProductArn: string }[];
    assert.deepEqual([...new Set(asff.map((f) => f.AwsAccountId))], [HEALTHY]);
    assert.ok(asff.every((f) => f.ProductArn.startsWith("arn:aws:securityhub:eu-west-1:222222222222:")));
    const ocsf = (await keyage(org, [...argv, "--format", "ocsf"])).stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as { cloud: { account: { uid: string } } });
    assert.deepEqual([...new Set(ocsf.map((f) => f.cloud.account.uid))], [HEALTHY]);
  });

  it("shows accounts done/total on a terminal's stderr, and nothing of the kind in a pipe", async () => {
    const tty = await keyage(org, ["audit", "--organization", "--role-name", ROLE, "--now", NOW, "--format", "json", "--exclude-accounts", NO_ROLE], true);
    assert.match(tty.stderr, /\rkeyage: auditing accounts 4\/4/);
    const pipe = await keyage(org, ["audit", "--organization", "--role-name", ROLE, "--now", NOW, "--format", "json", "--exclude-accounts", NO_ROLE]);
    assert.doesNotMatch(pipe.stderr, /auditing accounts/);
  });

  const usage: [string, string[], RegExp][] = [
    ["--organization without --role-name", ["--organization"], /--organization needs --role-name/],
    ["--role-name without --organization", ["--role-name", ROLE], /--role-name is only used with --organization/],
    ["an account id that is not 12 digits", ["--organization", "--role-name", ROLE, "--accounts", "12345"], /--accounts takes 12-digit AWS account ids, got "12345"/],
    ["a role name with a blank", ["--organization", "--role-name", "my role"], /--role-name must be an IAM role name/],
    ["--organization with --credential-report", ["--organization", "--role-name", ROLE, "--credential-report", "x.csv"], /cannot be used with --credential-report/],
    ["--organization with --security-hub", ["--organization", "--role-name", ROLE, "--security-hub"], /cannot be used with --security-hub/],
  ];
  for (const [what, argv, message] of usage) {
    it(`refuses ${what} with exit 2 and one line, before any AWS call`, async () => {
      const result = await keyage(org, ["audit", ...argv]);
      assert.equal(result.status, 2);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.split("\n").length, 2, result.stderr);
      assert.equal(org.calls.ListAccounts, undefined);
    });
  }
});
