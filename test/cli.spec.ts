// `keyage audit` run in-process through `run(argv, io)`: offline on real-shaped credential reports, every
// format, every exit status, every bad input; live against the fake IAM over HTTP; --security-hub with
// the SDK mocked by aws-sdk-client-mock.
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { IAMClient } from "@aws-sdk/client-iam";
import { BatchImportFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from "@aws-sdk/client-securityhub";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { mockClient } from "aws-sdk-client-mock";
import { parse } from "csv-parse/sync";
import { ROOT_KEY_REQUIREMENTS, ROTATION_REQUIREMENTS } from "../cli/asff";
import { runCli, sdkClients } from "./fixtures/cli";
import type { ClientFactory } from "../cli/io";
import type { JsonAudit } from "../cli/json";
import { startFakeAws, type FakeAws } from "./fake-aws";
import { EXAMPLE_VERDICTS } from "./fixtures";

const NOW = "2026-11-29T12:00:00Z";
const EXAMPLE = path.join(__dirname, "..", "examples", "credential-report.csv");
const exampleText = readFileSync(EXAMPLE, "utf8");
const dir = mkdtempSync(path.join(tmpdir(), "keyage-cli-"));
const HEADER = exampleText.split("\n")[0] as string;

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

interface Options {
  stdin?: string;
  tty?: boolean;
  env?: Record<string, string>;
  clients?: ClientFactory;
}

async function keyage(argv: string[], options: Options = {}): Promise<Result> {
  return runCli(argv, {
    stdoutTTY: options.tty === true,
    env: options.env ?? {},
    readStdin: async () => options.stdin ?? "",
    now: () => Date.parse(NOW),
    ...(options.clients ? { clients: options.clients } : {}),
  });
}

/** Writes a report variant to a temporary file and returns its path. */
function reportFile(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** A report row in AWS's layout: `keys` as [active, lastRotated] per slot. */
function row(user: string, keys: [boolean, string][] = [], account = "123456789012"): string {
  const slots = [0, 1].map((i) => {
    const k = keys[i];
    return k ? `${k[0]},${k[1]},N/A,N/A,N/A` : "false,N/A,N/A,N/A,N/A";
  });
  const name = user.includes(",") ? `"${user}"` : user;
  const arn = user === "<root_account>" ? `arn:aws:iam::${account}:root` : `arn:aws:iam::${account}:user/${user}`;
  return `${name},${user.includes(",") ? `"${arn}"` : arn},2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,${slots[0]},${slots[1]},false,N/A,false,N/A`;
}

async function json(argv: string[], options: Options = {}): Promise<{ result: Result; doc: JsonAudit }> {
  const result = await keyage([...argv, "--format", "json"], options);
  return { result, doc: JSON.parse(result.stdout) as JsonAudit };
}

function byUser(doc: JsonAudit): Record<string, string> {
  return Object.fromEntries(doc.users.map((u) => [u.user, u.compliance]));
}

const EXPECTED = EXAMPLE_VERDICTS;

describe("keyage audit of a credential report", () => {
  describe("verdicts and exit status", () => {
    it("finds bob, ci-deploy and svc.legacy@example.com over 30 days in the example report and exits 1", async () => {
      const { result, doc } = await json(["audit", "--credential-report", EXAMPLE, "--now", NOW]);
      assert.equal(result.status, 1);
      assert.deepEqual(byUser(doc), EXPECTED);
      assert.equal(result.stderr, "");
    });

    it("exits 0 when every user is within the limit", async () => {
      const result = await keyage(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--max-age-days", "1100"]);
      assert.equal(result.status, 0);
      assert.match(result.stdout, /All 9 users compliant\./);
    });

    it("exits 0 when every violating user is exempt, and says they are exempt", async () => {
      const result = await keyage(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--exempt", "bob", "--exempt", "ci-deploy:2026-12-31", "--exempt", "SVC.legacy@example.com"]);
      assert.equal(result.status, 0);
      assert.match(result.stdout, /3 exempt users over the limit: bob, ci-deploy and svc\.legacy@example\.com\./);
    });

    it("stops honouring an exemption after its end date", async () => {
      const { result, doc } = await json(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--exempt", "bob:2026-11-28"]);
      assert.equal(result.status, 1);
      assert.equal(byUser(doc).bob, "NON_COMPLIANT");
      assert.match(doc.users.find((u) => u.user === "bob")?.annotation ?? "", /Exemption ended 2026-11-28/);
    });

    it("keeps a key exactly 30 days old compliant and makes it non-compliant one millisecond later", async () => {
      const atLimit = await json(["audit", "--credential-report", EXAMPLE, "--now", NOW]);
      assert.equal(byUser(atLimit.doc)["build-bot"], "COMPLIANT");
      const after = await json(["audit", "--credential-report", EXAMPLE, "--now", "2026-11-29T12:00:00.001Z"]);
      assert.equal(byUser(after.doc)["build-bot"], "NON_COMPLIANT");
    });

    it("notes on stderr an --exempt user who is not in the report", async () => {
      const result = await keyage(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--exempt", "zoe"]);
      assert.equal(result.stderr, `keyage: note: --exempt zoe: no such user in ${EXAMPLE}\n`);
    });
  });

  describe("real-shaped report variants", () => {
    it("reads a report with CRLF line ends and a byte-order mark exactly like the original", async () => {
      const file = reportFile("crlf-bom.csv", `\ufeff${exampleText.replace(/\n/g, "\r\n")}`);
      const { result, doc } = await json(["audit", "--credential-report", file, "--now", NOW]);
      assert.equal(result.status, 1);
      assert.deepEqual(byUser(doc), EXPECTED);
      assert.equal(doc.users[0]?.user, "<root_account>");
    });

    it("reads the report from standard input with --credential-report -", async () => {
      const { result, doc } = await json(["audit", "--credential-report", "-", "--now", NOW], { stdin: exampleText });
      assert.equal(result.status, 1);
      assert.deepEqual(byUser(doc), EXPECTED);
    });

    it("flags an active root access key and marks the row root", async () => {
      const file = reportFile("root-key.csv", [HEADER, row("<root_account>", [[true, "2025-01-01T00:00:00+00:00"]]), row("alice", [[true, "2026-11-20T00:00:00+00:00"]])].join("\n"));
      const { result, doc } = await json(["audit", "--credential-report", file, "--now", NOW]);
      assert.equal(result.status, 1);
      const root = doc.users[0];
      assert.equal(root?.root, true);
      assert.equal(root?.compliance, "NON_COMPLIANT");
      assert.equal(root?.annotation, "Access key 1 of the root user is active (697 days old), and the root user should have no access keys; delete it.");
      assert.equal("root" in (doc.users[1] as object), false);
      assert.deepEqual(doc.summary, { users: 2, compliant: 1, nonCompliant: 1 });
    });

    it("treats an active key whose last_rotated is N/A as a violation of unknown age", async () => {
      const file = reportFile("na.csv", [HEADER, row("alice", [[true, "N/A"]])].join("\n"));
      const { result, doc } = await json(["audit", "--credential-report", file, "--allow-partial-report", "--now", NOW]);
      assert.equal(result.status, 1);
      assert.deepEqual(doc.users[0]?.keys[0], {
        slot: 1,
        status: "Active",
        createDate: null,
        ageDays: null,
        compliance: "NON_COMPLIANT",
        reason: "undeterminable",
        daysLeft: null,
        lastUsed: null,
        unusedDays: null,
      });
    });

    it("reads a user name with a comma in it", async () => {
      const file = reportFile("comma.csv", [HEADER, row("ops,admin", [[true, "2025-01-01T00:00:00+00:00"]])].join("\n"));
      const { doc } = await json(["audit", "--credential-report", file, "--allow-partial-report", "--now", NOW]);
      assert.equal(doc.users[0]?.user, "ops,admin");
      assert.equal(doc.users[0]?.arn, "arn:aws:iam::123456789012:user/ops,admin");
    });
  });

  describe("bad input: exit 2 and one line on stderr saying what is wrong", () => {
    const cases: [string, string[], string | RegExp, string?][] = [
      ["a limit of 0 days", ["--max-age-days", "0"], 'keyage: --max-age-days must be a whole number of days from 1 to 3650, got "0"'],
      ["a limit that is not a number", ["--max-age-days", "thirty"], 'keyage: --max-age-days must be a whole number of days from 1 to 3650, got "thirty"'],
      ["a fractional limit", ["--max-age-days", "30.5"], 'keyage: --max-age-days must be a whole number of days from 1 to 3650, got "30.5"'],
      ["an empty limit", ["--max-age-days", ""], 'keyage: --max-age-days needs a whole number of days, got ""'],
      ["a warning window as long as the limit", ["--warn-days", "30"], 'keyage: --warn-days must be a whole number of days from 0 to 29 (less than --max-age-days = 30), got "30"'],
      ["a --now without a time zone", ["--now", "2026-11-29T12:00:00"], 'keyage: --now must be an RFC 3339 timestamp with a time zone, e.g. 2026-11-29T12:00:00Z, got "2026-11-29T12:00:00"'],
      ["a --now on an impossible date", ["--now", "2026-02-30T00:00:00Z"], /--now must be an RFC 3339 timestamp .* got "2026-02-30T00:00:00Z"/],
      ["an exemption with a bad date", ["--exempt", "bob:next-week"], 'keyage: --exempt: the end date for "bob" must be YYYY-MM-DD or an RFC 3339 timestamp, got "next-week"'],
      ["an exemption that is not a user name", ["--exempt", "bob/smith"], /--exempt: "bob\/smith" is not an IAM user name/],
      ["an unknown format", ["--format", "xml"], "keyage audit: option '--format <format>' argument 'xml' is invalid. Allowed choices are table, json, csv, asff, ocsf, html. (see `keyage audit --help`)"],
      ["an unknown option", ["--max-age", "30"], /^keyage audit: unknown option '--max-age'/],
    ];
    for (const [what, flags, message] of cases) {
      it(`rejects ${what}`, async () => {
        const result = await keyage(["audit", "--credential-report", EXAMPLE, ...flags]);
        assert.equal(result.status, 2);
        assert.equal(result.stdout, "");
        assert.equal(result.stderr.split("\n").length, 2, `one line: ${result.stderr}`);
        if (typeof message === "string") assert.equal(result.stderr, `${message}\n`);
        else assert.match(result.stderr, message);
      });
    }

    const files: [string, string | undefined, RegExp][] = [
      ["a missing file", undefined, /^keyage: cannot read the credential report ".*missing\.csv": no such file\n$/],
      ["an empty file", "", /: the credential report is empty\n$/],
      ["a CSV that is not a credential report", "name,email\nbob,bob@example.com\n", /line 1: header "name,email" is not a credential report's \(expected a header starting user,arn,user_creation_time\)\n$/],
      ["a report missing a column", exampleText.replace(",mfa_active", ""), /line 1: missing column mfa_active \(expected a header starting user,arn,user_creation_time\)/],
      ["a truncated row", `${HEADER}\n${row("alice").split(",").slice(0, 10).join(",")}\n`, /line 2: expected 22 fields, found 10/],
      ["a report still base64-encoded", Buffer.from(exampleText).toString("base64"), /looks base64-encoded .* decode it first/],
      ["a bad true/false flag", `${HEADER}\n${row("alice").replace(",false,N/A,N/A,N/A,N/A,false", ",yes,N/A,N/A,N/A,N/A,false")}\n`, /line 2: column access_key_1_active must be true or false, got "yes"/],
    ];
    for (const [what, text, message] of files) {
      it(`rejects ${what}`, async () => {
        const file = text === undefined ? path.join(dir, "missing.csv") : reportFile(`${what.replace(/\W+/g, "-")}.csv`, text);
        const result = await keyage(["audit", "--credential-report", file]);
        assert.equal(result.status, 2);
        assert.equal(result.stdout, "");
        assert.equal(result.stderr.split("\n").length, 2, `one line: ${result.stderr}`);
        assert.match(result.stderr, message);
      });
    }

    it("rejects a directory given as the report", async () => {
      const result = await keyage(["audit", "--credential-report", dir]);
      assert.equal(result.status, 2);
      assert.match(result.stderr, /cannot read the credential report ".*": it is a directory\n$/);
    });

    it("asks for a region when asff findings have none", async () => {
      const result = await keyage(["audit", "--credential-report", EXAMPLE, "--format", "asff"]);
      assert.equal(result.status, 2);
      assert.equal(result.stderr, "keyage: --format asff needs a region for the findings' ProductArn: pass --region or set AWS_REGION\n");
    });

    it("rejects, as bad input and on one line, an asff audit of a report whose ARN carries no account id", async () => {
      const file = reportFile("bad-arn.csv", [HEADER, row("<root_account>"), row("bob", [[true, "2026-11-01T00:00:00+00:00"]]).replace("arn:aws:iam::123456789012:", "arn:aws:iam::12345:")].join("\n"));
      const result = await keyage(["audit", "--credential-report", file, "--format", "asff", "--region", "eu-west-1"]);
      assert.equal(result.status, 2);
      assert.equal(result.stdout, "");
      assert.equal(result.stderr, `keyage: ${file}: cannot file a finding for "bob": its ARN "arn:aws:iam::12345:user/bob" carries no account id\n`);
    });

    it("prints the usage on stderr and exits 2 when no command is given", async () => {
      const result = await keyage([]);
      assert.equal(result.status, 2);
      assert.match(result.stderr, /Usage: keyage \[options\] \[command\]/);
    });

    it("prints help on stdout and exits 0 with --help", async () => {
      const result = await keyage(["audit", "--help"]);
      assert.equal(result.status, 0);
      assert.match(result.stdout, /--credential-report <file>/);
      assert.match(result.stdout, /Exit status: 0 all compliant, 1 violations found, 2 bad usage or input, 3 AWS error/);
    });
  });

  describe("formats", () => {
    it("prints the JSON document of the CLI contract, field for field", async () => {
      const { doc } = await json(["audit", "--credential-report", EXAMPLE, "--now", NOW]);
      assert.deepEqual(Object.keys(doc), ["schemaVersion", "maxAgeDays", "warnDays", "maxUnusedDays", "exemptions", "evaluatedAt", "summary", "users"]);
      assert.equal(doc.schemaVersion, "1.1.0");
      assert.equal(doc.maxUnusedDays, null);
      assert.equal(doc.maxAgeDays, 30);
      assert.equal(doc.warnDays, 7);
      assert.deepEqual(doc.exemptions, []);
      assert.equal(doc.evaluatedAt, "2026-11-29T12:00:00.000Z");
      assert.deepEqual(doc.summary, { users: 9, compliant: 6, nonCompliant: 3 });
      assert.deepEqual(doc.users[0], {
        user: "<root_account>",
        arn: "arn:aws:iam::123456789012:root",
        compliance: "COMPLIANT",
        annotation: "No active access keys.",
        root: true,
        exempt: false,
        exemptUntil: null,
        keys: [],
      });
      assert.deepEqual(doc.users.find((u) => u.user === "ci-deploy"), {
        user: "ci-deploy",
        arn: "arn:aws:iam::123456789012:user/automation/ci-deploy",
        compliance: "NON_COMPLIANT",
        annotation: "Access key 1 is 151 days old, over the 30-day limit; rotate it.",
        exempt: false,
        exemptUntil: null,
        keys: [
          {
            slot: 1,
            status: "Active",
            createDate: "2026-07-01T00:00:00.000Z",
            ageDays: 151,
            compliance: "NON_COMPLIANT",
            reason: "expired",
            daysLeft: 0,
            lastUsed: { date: "2026-11-29T10:40:00.000Z", service: "cloudformation", region: "us-east-1" },
            unusedDays: 0,
          },
          {
            slot: 2,
            status: "Active",
            createDate: "2026-11-20T13:00:00.000Z",
            ageDays: 8,
            compliance: "COMPLIANT",
            reason: "ok",
            daysLeft: 22,
            lastUsed: { date: "2026-11-29T10:41:00.000Z", service: "cloudformation", region: "us-east-1" },
            unusedDays: 0,
          },
        ],
      });
      assert.deepEqual(doc.users.find((u) => u.user === "carol")?.keys[0], {
        slot: 1,
        status: "Inactive",
        createDate: "2026-04-01T10:00:00.000Z",
        ageDays: 242,
        compliance: "NOT_APPLICABLE",
        reason: "inactive",
        daysLeft: null,
        lastUsed: { date: "2026-11-25T16:00:00.000Z", service: "sts", region: "us-east-1" },
        unusedDays: 3,
      });
    });

    it("rounds ageDays down: a key one second short of 30 days is 29 days old", async () => {
      const file = reportFile("round.csv", [HEADER, row("alice", [[true, "2026-10-30T12:00:01+00:00"]])].join("\n"));
      const { doc } = await json(["audit", "--credential-report", file, "--allow-partial-report", "--now", NOW]);
      assert.equal(doc.users[0]?.keys[0]?.ageDays, 29);
    });

    it("prints a table with one line per key and a summary naming the non-compliant users", async () => {
      const result = await keyage(["audit", "--credential-report", EXAMPLE, "--now", NOW]);
      const lines = result.stdout.split("\n");
      assert.equal(lines[0], `Access keys in ${EXAMPLE} at 2026-11-29T12:00:00Z: limit 30 days, warning 7 days before.`);
      assert.match(lines[2] as string, /^USER\s+KEY\s+STATUS\s+CREATED\s+AGE\s+VERDICT$/);
      assert.match(result.stdout, /\nbob\s+1\s+Active\s+2026-10-15\s+45 days\s+EXPIRED: over the 30-day limit\n/);
      assert.match(result.stdout, /\n\s+2\s+Active\s+2026-11-20\s+8 days\s+ok\n/);
      assert.match(result.stdout, /\nerin\s+1\s+Active\s+2026-11-03\s+26 days\s+ok, expires within 4 days\n/);
      assert.match(result.stdout, /\n3 of 9 users non-compliant: bob, ci-deploy and svc\.legacy@example\.com\.\n/);
      assert.doesNotMatch(result.stdout, /\x1b\[/);
    });

    it("colours the table only on a terminal, and not when NO_COLOR is set", async () => {
      const args = ["audit", "--credential-report", EXAMPLE, "--now", NOW];
      assert.match((await keyage(args, { tty: true })).stdout, /\x1b\[1;31mEXPIRED: over the 30-day limit\x1b\[0m/);
      assert.doesNotMatch((await keyage(args, { tty: true, env: { NO_COLOR: "1" } })).stdout, /\x1b\[/);
      assert.doesNotMatch((await keyage(args, { tty: false })).stdout, /\x1b\[/);
    });

    it("prints CSV with one row per key, quoting a user name with a comma", async () => {
      const file = reportFile("csv.csv", [HEADER, row("ops,admin", [[true, "2025-01-01T00:00:00+00:00"], [false, "N/A"]]), row("dave")].join("\n"));
      const result = await keyage(["audit", "--credential-report", file, "--allow-partial-report", "--now", NOW, "--format", "csv"]);
      assert.equal(result.status, 1);
      const rows = parse(result.stdout, { columns: true }) as Record<string, string>[];
      assert.deepEqual(rows, [
        {
          user: "ops,admin",
          arn: "arn:aws:iam::123456789012:user/ops,admin",
          root: "false",
          compliance: "NON_COMPLIANT",
          key: "1",
          status: "Active",
          create_date: "2025-01-01T00:00:00.000Z",
          age_days: "697",
          key_compliance: "NON_COMPLIANT",
          annotation: "Access key 1 is 697 days old, over the 30-day limit; rotate it.",
          reason: "expired",
          days_left: "0",
          last_used_date: "",
          last_used_service: "",
          last_used_region: "",
          exempt: "false",
          exempt_until: "",
          max_age_days: "30",
          warn_days: "7",
          evaluated_at: "2026-11-29T12:00:00.000Z",
          unused_days: "697",
          max_unused_days: "",
        },
        {
          user: "dave",
          arn: "arn:aws:iam::123456789012:user/dave",
          root: "false",
          compliance: "COMPLIANT",
          key: "",
          status: "",
          create_date: "",
          age_days: "",
          key_compliance: "",
          annotation: "No active access keys.",
          reason: "",
          days_left: "",
          last_used_date: "",
          last_used_service: "",
          last_used_region: "",
          exempt: "false",
          exempt_until: "",
          max_age_days: "30",
          warn_days: "7",
          evaluated_at: "2026-11-29T12:00:00.000Z",
          unused_days: "",
          max_unused_days: "",
        },
      ]);
    });

    it("prints one ASFF finding per user with the required fields, the standards and a remediation", async () => {
      const result = await keyage(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--format", "asff", "--region", "eu-west-1"]);
      assert.equal(result.status, 1);
      const findings = JSON.parse(result.stdout) as AwsSecurityFinding[];
      assert.equal(findings.length, 9);
      const bob = findings.find((f) => f.Resources?.[0]?.Id === "arn:aws:iam::123456789012:user/bob") as AwsSecurityFinding;
      for (const field of ["SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types", "CreatedAt", "UpdatedAt", "Severity", "Title", "Description", "Resources"]) {
        assert.ok(field in bob, `missing ${field}`);
      }
      assert.equal(bob.SchemaVersion, "2018-10-08");
      assert.equal(bob.ProductArn, "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default");
      assert.equal(bob.AwsAccountId, "123456789012");
      assert.equal(bob.Compliance?.Status, "FAILED");
      assert.equal(bob.Severity?.Label, "MEDIUM");
      assert.ok(bob.Compliance?.RelatedRequirements?.includes("AWS Foundational Security Best Practices v1.0.0/IAM.3"));
      assert.ok(bob.Compliance?.RelatedRequirements?.some((r) => r.startsWith("CIS AWS Foundations Benchmark")));
      assert.equal(bob.Description, "Access key 1 is 45 days old, over the 30-day limit; rotate it.");
      assert.match(bob.Remediation?.Recommendation?.Text ?? "", /keyage rotate start\|finish\|cleanup --user bob/);
      assert.deepEqual(bob.Resources?.[0], { Type: "AwsIamUser", Id: "arn:aws:iam::123456789012:user/bob", Partition: "aws", Region: "eu-west-1", Details: { AwsIamUser: { UserName: "bob" } } });
      assert.equal(findings.find((f) => f.Title?.startsWith("IAM user alice"))?.Compliance?.Status, "PASSED");
      assert.equal(findings[0]?.Resources?.[0]?.Type, "AwsAccount");
      assert.equal(new Set(findings.map((f) => f.Id)).size, 9);
      const again = JSON.parse((await keyage(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--format", "asff", "--region", "eu-west-1"])).stdout) as AwsSecurityFinding[];
      assert.deepEqual(again.map((f) => f.Id), findings.map((f) => f.Id), "Ids are deterministic");
    });

    it("takes the asff region from AWS_REGION", async () => {
      const result = await keyage(["audit", "--credential-report", EXAMPLE, "--format", "asff"], { env: { AWS_REGION: "ap-southeast-2" } });
      assert.match((JSON.parse(result.stdout) as AwsSecurityFinding[])[0]?.ProductArn ?? "", /^arn:aws:securityhub:ap-southeast-2:/);
    });
  });
});

/** The CLI's clients pointed at the fake. */
const clientsAt = (endpoint: string): ClientFactory => sdkClients({ region: "us-east-1", endpoint });

describe("keyage: an unexpected failure", () => {
  it("is still one line on stderr, however many lines the error's message has", async () => {
    const clients: ClientFactory = async () => {
      throw new Error("Cannot find module '@aws-sdk/client-iam'\nRequire stack:\n- /opt/keyage/dist/aws/lazy-clients.js\n- /opt/keyage/dist/cli/audit.js");
    };
    const { status, stdout, stderr } = await keyage(["audit"], { clients });
    assert.equal(status, 3);
    assert.equal(stdout, "");
    assert.equal(stderr, "keyage: internal error: Cannot find module '@aws-sdk/client-iam' (set KEYAGE_DEBUG=1 for details)\n");
  });
});

describe("keyage audit --security-hub", () => {
  // Created in `before`, restored in `after`, so that no other spec's clients are intercepted.
  const mockSecurityHubClient = () => mockClient(SecurityHubClient);
  let hub: ReturnType<typeof mockSecurityHubClient>;
  const mockSTSClient = () => mockClient(STSClient);
  let sts: ReturnType<typeof mockSTSClient>;
  before(() => {
    hub = mockSecurityHubClient();
    sts = mockSTSClient();
  });
  beforeEach(() => {
    hub.reset();
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: "123456789012" });
  });
  after(() => {
    hub.restore();
    sts.restore();
  });

  function bigReport(users: number): string {
    // The root row (no keys) and users − 1 IAM users: `users` entries in all.
    const rows = [row("<root_account>"), ...Array.from({ length: users - 1 }, (_, i) => row(`user${i}`, [[true, "2026-11-01T00:00:00+00:00"]]))];
    return reportFile(`big-${users}.csv`, [HEADER, ...rows].join("\n"));
  }

  it("imports 250 findings in batches of 100, 100 and 50", async () => {
    hub.on(BatchImportFindingsCommand).callsFake((input: { Findings: unknown[] }) => ({ SuccessCount: input.Findings.length, FailedCount: 0, FailedFindings: [] }));
    const result = await keyage(["audit", "--credential-report", bigReport(250), "--now", NOW, "--security-hub", "--format", "json"], { clients: sdkClients() });
    assert.equal(result.status, 0);
    const sizes = hub.commandCalls(BatchImportFindingsCommand).map((c) => c.args[0].input.Findings?.length);
    assert.deepEqual(sizes, [100, 100, 50]);
    assert.equal(result.stderr, "keyage: imported 250 of 250 findings into Security Hub (us-east-1, account 123456789012)\n");
    assert.equal((JSON.parse(result.stdout) as JsonAudit).summary.users, 250, "stdout holds only the JSON");
  });

  it("reports the findings Security Hub rejected and exits 3", async () => {
    hub.on(BatchImportFindingsCommand).callsFake((input: { Findings: AwsSecurityFinding[] }) => ({
      SuccessCount: input.Findings.length - 1,
      FailedCount: 1,
      FailedFindings: [{ Id: input.Findings[1]?.Id, ErrorCode: "InvalidInput", ErrorMessage: "Finding does not adhere to ASFF" }],
    }));
    const result = await keyage(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--security-hub"], { clients: sdkClients() });
    assert.equal(result.status, 3);
    assert.match(result.stderr, /imported 8 of 9 findings/);
    assert.match(result.stderr, /keyage: finding 123456789012\/keyage\/iam-access-key-max-age\/arn:aws:iam::123456789012:user\/alice was rejected: InvalidInput: Finding does not adhere to ASFF\n/);
  });

  it("says plainly when Security Hub refuses every batch", async () => {
    hub.on(BatchImportFindingsCommand).rejects(Object.assign(new Error("Account 123456789012 is not subscribed to AWS Security Hub"), { name: "InvalidAccessException", $metadata: { httpStatusCode: 401 } }));
    const result = await keyage(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--security-hub"], { clients: sdkClients() });
    assert.equal(result.status, 3);
    assert.match(result.stderr, /keyage: importing findings into Security Hub \(securityhub:BatchImportFindings\) failed: InvalidAccessException: Account 123456789012 is not subscribed to AWS Security Hub\n$/);
  });

  it("refuses to import a report from another account than the caller's", async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: "999999999999" });
    const result = await keyage(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--security-hub"], { clients: sdkClients() });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /the report is for account 123456789012 but the credentials are for account 999999999999/);
    assert.equal(hub.commandCalls(BatchImportFindingsCommand).length, 0);
  });
});

describe("keyage audit of the live account", () => {
  let fake: FakeAws;
  const now = Date.parse(NOW);
  beforeEach(async () => {
    fake = await startFakeAws({ now: () => now });
  });
  afterEach(async () => fake.close());

  it("reads users over the IAM API and includes the root row from the credential report", async () => {
    fake.addUser("alice", { keys: [{ ageDays: 10 }] });
    fake.addUser("bob", { keys: [{ ageDays: 45 }, { ageDays: 2 }] });
    fake.generateReport();
    const { result, doc } = await json(["audit", "--now", NOW], { clients: clientsAt(fake.url) });
    assert.equal(result.status, 1, result.stderr);
    assert.deepEqual(byUser(doc), { "<root_account>": "COMPLIANT", alice: "COMPLIANT", bob: "NON_COMPLIANT" });
    assert.equal(doc.users[0]?.root, true);
    assert.deepEqual(doc.summary, { users: 3, compliant: 2, nonCompliant: 1 });
  });

  it("files asff findings of a live audit in the region the clients resolved (e.g. a profile's), not in 'undefined'", async () => {
    fake.addUser("alice", { keys: [{ ageDays: 10 }] });
    fake.generateReport();
    const profileRegion = sdkClients({ region: "eu-central-1", endpoint: fake.url });
    const result = await keyage(["audit", "--now", NOW, "--format", "asff"], { clients: profileRegion });
    assert.equal(result.status, 0, result.stderr);
    const findings = JSON.parse(result.stdout) as AwsSecurityFinding[];
    assert.deepEqual([...new Set(findings.map((f) => f.ProductArn))], ["arn:aws:securityhub:eu-central-1:123456789012:product/123456789012/default"]);
  });

  it("shows progress on stderr, never on stdout, when it reads many users", async () => {
    for (let i = 0; i < 1000; i += 1) fake.addUser(`user${i}`, { keys: [{ ageDays: 3 }] });
    fake.generateReport();
    const { result, doc } = await json(["audit", "--now", NOW], { clients: clientsAt(fake.url) });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(doc.summary.users, 1001);
    assert.match(result.stderr, /keyage: read 1000 of 1000 IAM users\n/);
  });

  it("turns missing credentials into one line and exit 3", async () => {
    const noCredentials: ClientFactory = async () => ({
      ...(await clientsAt(fake.url)({})),
      iam: () =>
        new IAMClient({
          region: "us-east-1",
          endpoint: fake.url,
          credentials: () => Promise.reject(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" })),
        }),
    });
    const result = await keyage(["audit"], { clients: noCredentials });
    assert.equal(result.status, 3);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^keyage: .*no AWS credentials found: pass --profile, set AWS_PROFILE/);
    assert.equal(result.stderr.split("\n").length, 2);
  });
});

describe("keyage audit: the root user's access keys (CIS 1.4, Security Hub IAM.4)", () => {
  // A root key one day old: well within any age limit, and still a violation.
  const file = (): string =>
    reportFile("root-young.csv", [HEADER, row("<root_account>", [[true, "2026-11-28T12:00:00+00:00"]]), row("alice", [[true, "2026-11-20T00:00:00+00:00"]])].join("\n"));

  it("reports an active root key one day old as NON_COMPLIANT in JSON, saying why", async () => {
    const { result, doc } = await json(["audit", "--credential-report", file(), "--now", NOW, "--max-age-days", "365"]);
    assert.equal(result.status, 1);
    assert.equal(doc.users[0]?.compliance, "NON_COMPLIANT");
    assert.equal(doc.users[0]?.annotation, "Access key 1 of the root user is active (1 day old), and the root user should have no access keys; delete it.");
    assert.equal(doc.users[0]?.keys[0]?.reason, "root-key");
    assert.deepEqual(doc.summary, { users: 2, compliant: 1, nonCompliant: 1 });
  });

  it("shows it in the table, with the root row named in the summary", async () => {
    const result = await keyage(["audit", "--credential-report", file(), "--now", NOW]);
    assert.equal(result.status, 1);
    assert.match(result.stdout, /\n<root_account>\s+1\s+Active\s+2026-11-28\s+1 day\s+ROOT KEY: the root user should have none, delete it\n/);
    assert.match(result.stdout, /\n1 of 2 users non-compliant: <root_account>\.\n/);
    assert.match(result.stdout, /\nDelete the root user's access keys: sign in as the root user, open Security credentials, and delete them\.\n$/);
    assert.doesNotMatch(result.stdout, /keyage rotate start/, "keyage rotate cannot rotate the root user's keys");
  });

  it("shows it in CSV", async () => {
    const result = await keyage(["audit", "--credential-report", file(), "--now", NOW, "--format", "csv"]);
    const rows = parse(result.stdout, { columns: true }) as Record<string, string>[];
    assert.deepEqual(
      [rows[0]?.user, rows[0]?.root, rows[0]?.compliance, rows[0]?.key_compliance, rows[0]?.reason],
      ["<root_account>", "true", "NON_COMPLIANT", "NON_COMPLIANT", "root-key"],
    );
  });

  it("files it in ASFF as a CRITICAL failure of the root-key controls, not of the rotation controls", async () => {
    const result = await keyage(["audit", "--credential-report", file(), "--now", NOW, "--format", "asff", "--region", "eu-west-1"]);
    const [root, alice] = JSON.parse(result.stdout) as AwsSecurityFinding[];
    assert.equal(root?.Compliance?.Status, "FAILED");
    assert.equal(root?.Severity?.Label, "CRITICAL");
    assert.deepEqual(root?.Compliance?.RelatedRequirements, [...ROOT_KEY_REQUIREMENTS]);
    assert.equal(root?.Title, "Root user of account 123456789012: no access keys");
    assert.equal(root?.CreatedAt, "2026-11-28T12:00:00.000Z", "a root key is a violation from its creation");
    assert.deepEqual(alice?.Compliance?.RelatedRequirements, [...ROTATION_REQUIREMENTS]);
  });

  it("reports the root row of the live account's credential report the same way", async () => {
    const fake = await startFakeAws({ now: () => Date.parse(NOW) });
    try {
      fake.addUser("alice", { keys: [{ ageDays: 3 }] });
      fake.generateReport();
      const report = fake.report as { generatedAt: Date; csv: string };
      fake.report = { ...report, csv: report.csv.replace(/^(<root_account>,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,)false,N\/A,/m, "$1true,2026-11-28T12:00:00+00:00,") };
      const { result, doc } = await json(["audit", "--now", NOW], { clients: clientsAt(fake.url) });
      assert.equal(result.status, 1, result.stderr);
      assert.deepEqual(byUser(doc), { "<root_account>": "NON_COMPLIANT", alice: "COMPLIANT" });
      assert.equal(doc.users[0]?.keys[0]?.reason, "root-key");
    } finally {
      await fake.close();
    }
  });
});

describe("keyage audit --format csv: safe to open in a spreadsheet", () => {
  it("prefixes with ' every field a spreadsheet would run as a formula, and nothing else", async () => {
    const names = ["=HYPERLINK(1)", "+SUM(1)", "-2+3", "@SUM(1)", "\tx", "\rx", "alice"];
    const rows = names.map((n) => row(n, [[true, "2026-11-20T00:00:00+00:00"]]).replace(/^[^,]*,/, `"${n}",`));
    const file = reportFile("formulas.csv", [HEADER, ...rows].join("\n"));
    const result = await keyage(["audit", "--credential-report", file, "--allow-partial-report", "--now", NOW, "--format", "csv"]);
    assert.equal(result.status, 0, result.stderr);
    const parsed = parse(result.stdout, { columns: true }) as Record<string, string>[];
    assert.deepEqual(
      parsed.map((r) => r.user),
      ["'=HYPERLINK(1)", "'+SUM(1)", "'-2+3", "'@SUM(1)", "'\tx", "'\rx", "alice"],
    );
    assert.equal(parsed[6]?.create_date, "2026-11-20T00:00:00.000Z", "ordinary fields are left alone");
    assert.ok(result.stdout.split("\n").slice(1).every((l) => l === "" || /^['"a]/.test(l)), "no line starts with a formula character");
  });
});

describe("keyage audit --format table: names cannot drive the terminal", () => {
  it("refuses a report with a control character anywhere, not only in its first few kilobytes", async () => {
    // What the parser lets through reaches every format: csv and the stderr notes print names as they are.
    const ordinary = Array.from({ length: 100 }, (_, i) => row(`user${i}`, [[true, "2026-11-20T00:00:00+00:00"]]));
    const file = reportFile("late-escape.csv", [HEADER, ...ordinary, row("ev\u001b[2Jil", [[true, "2026-11-20T00:00:00+00:00"]])].join("\n"));
    const result = await keyage(["audit", "--credential-report", file, "--now", NOW, "--format", "csv"]);
    assert.equal(result.status, 2);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^keyage: .*late-escape\.csv: the credential report is not text \(binary data, or not UTF-8\)[^\n]*\n$/);
  });

  it("strips control characters and bidirectional overrides from user names, in rows and in the summary", async () => {
    // C0 controls (ESC, BEL) make the report "not text" and are refused by the parser; a C1 CSI (U+009B,
    // which terminals read as ESC [) and a bidirectional override get through it and must not reach the screen.
    const evil = "ev\u009b2Jil\u202e";
    const file = reportFile("control.csv", [HEADER, row(evil, [[true, "2025-01-01T00:00:00+00:00"]])].join("\n"));
    const result = await keyage(["audit", "--credential-report", file, "--allow-partial-report", "--now", NOW]);
    assert.equal(result.status, 1);
    assert.doesNotMatch(result.stdout, /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/);
    assert.match(result.stdout, /\nev2Jil\s+1\s+Active/);
    assert.match(result.stdout, /non-compliant: ev2Jil\.\n/);
  });
});

describe("keyage audit --format asff: claims only what is true", () => {
  async function findings(args: string[], now = NOW): Promise<AwsSecurityFinding[]> {
    const result = await keyage(["audit", "--credential-report", EXAMPLE, "--now", now, "--format", "asff", "--region", "eu-west-1", ...args]);
    return JSON.parse(result.stdout) as AwsSecurityFinding[];
  }
  const of = (fs: AwsSecurityFinding[], user: string) => fs.find((f) => f.ProductFields?.["keyage/user"] === user) as AwsSecurityFinding;

  for (const [limit, claims] of [["30", true], ["90", true], ["91", false], ["365", false]] as const) {
    it(`${claims ? "names" : "does not name"} CIS "rotated every 90 days or less" and FSBP IAM.3 with --max-age-days ${limit}`, async () => {
      const fs = await findings(["--max-age-days", limit]);
      const bob = of(fs, "bob");
      const alice = of(fs, "alice");
      for (const f of [bob, alice]) {
        assert.deepEqual(f.Compliance?.RelatedRequirements, claims ? [...ROTATION_REQUIREMENTS] : undefined);
        assert.equal(f.Types?.some((t) => t.includes("CIS AWS Foundations Benchmark")), claims);
      }
      // The root row answers the root-key controls whatever the limit.
      assert.deepEqual(of(fs, "<root_account>").Compliance?.RelatedRequirements, [...ROOT_KEY_REQUIREMENTS]);
    });
  }

  it("claims no CIS or FSBP control for a user who passes only by an exemption", async () => {
    // bob's key is 45 days old, over the 30-day limit: PASSED under keyage's exemption, which could go on
    // long past 90 days; an exemption is keyage's, and no control's requirement is met by it.
    const fs = await findings(["--exempt", "bob", "--max-age-days", "30"]);
    const bob = of(fs, "bob");
    assert.equal(bob.Compliance?.Status, "PASSED");
    assert.equal(bob.Compliance?.RelatedRequirements, undefined);
    assert.equal(bob.Types?.some((t) => t.includes("CIS AWS Foundations Benchmark")), false);
    assert.equal(of(fs, "alice").Compliance?.Status, "PASSED");
    assert.deepEqual(of(fs, "alice").Compliance?.RelatedRequirements, [...ROTATION_REQUIREMENTS], "a user that passes on its own still names them");
  });

  it("derives CreatedAt from the data: when a key passed the limit, or the user's creation when compliant", async () => {
    const fs = await findings([]);
    // bob's key was created 2026-10-15T08:00:00Z: it passed the 30-day limit 30 days later.
    assert.equal(of(fs, "bob").CreatedAt, "2026-11-14T08:00:00.000Z");
    // ci-deploy's expired key was created 2026-07-01: the limit passed on 2026-07-31.
    assert.equal(of(fs, "ci-deploy").CreatedAt, "2026-07-31T00:00:00.000Z");
    assert.equal(of(fs, "alice").CreatedAt, "2021-05-10T14:02:11.000Z");
    for (const f of fs) {
      assert.equal(f.FirstObservedAt, f.CreatedAt);
      assert.equal(f.UpdatedAt, "2026-11-29T12:00:00.000Z");
      assert.equal(f.LastObservedAt, "2026-11-29T12:00:00.000Z");
    }
  });

  it("keeps CreatedAt when the same state is imported again later, and moves UpdatedAt", async () => {
    const first = await findings([], "2026-11-29T06:00:00Z");
    const later = await findings([]);
    assert.deepEqual(later.map((f) => f.Compliance?.Status), first.map((f) => f.Compliance?.Status), "same state");
    assert.deepEqual(later.map((f) => f.CreatedAt), first.map((f) => f.CreatedAt));
    assert.deepEqual(later.map((f) => f.FirstObservedAt), first.map((f) => f.FirstObservedAt));
    assert.ok(first.every((f) => f.UpdatedAt === "2026-11-29T06:00:00.000Z" && f.LastObservedAt === f.UpdatedAt));
    assert.ok(later.every((f) => f.UpdatedAt === "2026-11-29T12:00:00.000Z" && f.LastObservedAt === f.UpdatedAt));
  });
});

describe("keyage audit of the live account: keys named by id", () => {
  let fake: FakeAws;
  const now = Date.parse(NOW);
  beforeEach(async () => {
    fake = await startFakeAws({ now: () => now });
  });
  afterEach(async () => fake.close());

  function account() {
    const alice = fake.addUser("alice", { keys: [{ ageDays: 10 }] });
    const bob = fake.addUser("bob", { keys: [{ ageDays: 45, lastUsedDate: new Date(now - 3600_000) }, { ageDays: 2 }] });
    const carol = fake.addUser("carol", { keys: [{ ageDays: 50 }] });
    for (let i = 0; i < 20; i += 1) fake.addUser(`ok${i}`, { keys: [{ ageDays: 1 }] });
    fake.generateReport();
    return { alice, bob, carol };
  }

  it("gives each key of a non-compliant user its full id in JSON, with the report's last use, in one ListAccessKeys per such user", async () => {
    const { alice, bob, carol } = account();
    const { result, doc } = await json(["audit", "--now", NOW], { clients: clientsAt(fake.url) });
    assert.equal(result.status, 1, result.stderr);
    const keysOf = (name: string) => doc.users.find((u) => u.user === name)?.keys ?? [];
    assert.deepEqual(keysOf("bob").map((k) => k.accessKeyId), bob.keys.map((k) => k.accessKeyId));
    assert.deepEqual(keysOf("bob").map((k) => "slot" in k), [false, false]);
    assert.deepEqual(keysOf("bob")[0]?.lastUsed, { date: new Date(Math.floor((now - 3600_000) / 1000) * 1000).toISOString(), service: null, region: null });
    assert.deepEqual(keysOf("carol").map((k) => k.accessKeyId), carol.keys.map((k) => k.accessKeyId));
    // Compliant users keep their report slots: naming them would cost a call each for nothing.
    assert.deepEqual(keysOf("alice").map((k) => k.slot), [1]);
    assert.ok(!result.stdout.includes(alice.keys[0]?.accessKeyId as string));
    assert.equal(fake.calls.ListAccessKeys, 2, "one call per non-compliant user (bob, carol), none for the 21 compliant ones");
  });

  it("shows the last four characters of each id in the table, never the whole id", async () => {
    const { bob } = account();
    const result = await keyage(["audit", "--now", NOW], { clients: clientsAt(fake.url) });
    assert.equal(result.status, 1, result.stderr);
    const [old, fresh] = bob.keys.map((k) => k.accessKeyId);
    assert.match(result.stdout, new RegExp(`\\nbob\\s+…${(old as string).slice(-4)}\\s+Active\\s+\\S+\\s+45 days\\s+EXPIRED`));
    assert.match(result.stdout, new RegExp(`\\n\\s+…${(fresh as string).slice(-4)}\\s+Active\\s+\\S+\\s+2 days\\s+ok\\n`));
    assert.ok(!result.stdout.includes(old as string) && !result.stdout.includes(fresh as string));
  });
});

describe("keyage audit: JSON and CSV carry the facts", () => {
  it("gives each key its reason, days left and last use, and each user whether and until when they are exempt", async () => {
    const { doc } = await json(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--exempt", "bob:2026-12-31", "--warn-days", "5"]);
    assert.equal(doc.warnDays, 5);
    assert.deepEqual(doc.exemptions, [{ user: "bob", until: "2026-12-31T23:59:59.999Z" }]);
    const bob = doc.users.find((u) => u.user === "bob");
    assert.deepEqual([bob?.compliance, bob?.exempt, bob?.exemptUntil], ["COMPLIANT", true, "2026-12-31T23:59:59.999Z"]);
    assert.deepEqual([bob?.keys[0]?.reason, bob?.keys[0]?.daysLeft], ["expired", 0]);
    const erin = doc.users.find((u) => u.user === "erin")?.keys[0];
    assert.deepEqual([erin?.reason, erin?.daysLeft, erin?.lastUsed], ["expiring", 4, { date: "2026-11-29T09:00:00.000Z", service: "dynamodb", region: "eu-central-1" }]);
    assert.deepEqual([doc.users.find((u) => u.user === "alice")?.exempt, doc.users.find((u) => u.user === "alice")?.exemptUntil], [false, null]);
  });

  it("puts the same facts, and the parameters used, in CSV columns", async () => {
    const result = await keyage(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--exempt", "bob:2026-12-31", "--format", "csv"]);
    const rows = parse(result.stdout, { columns: true }) as Record<string, string>[];
    const bob = rows.find((r) => r.user === "bob") as Record<string, string>;
    assert.deepEqual(
      [bob.reason, bob.days_left, bob.last_used_date, bob.last_used_service, bob.last_used_region, bob.exempt, bob.exempt_until, bob.max_age_days, bob.warn_days, bob.evaluated_at],
      ["expired", "0", "2026-11-28T22:01:00.000Z", "ec2", "us-east-1", "true", "2026-12-31T23:59:59.999Z", "30", "7", "2026-11-29T12:00:00.000Z"],
    );
  });
});

describe("keyage audit --format json: the versioned schema", () => {
  const schema = JSON.parse(readFileSync(path.join(__dirname, "..", "docs", "schema", "audit-v1.schema.json"), "utf8")) as object;
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  const check = (doc: unknown): void => assert.ok(validate(doc), ajv.errorsText(validate.errors));

  it("validates the output of a credential report, with an exemption and an expiring key", async () => {
    const { doc } = await json(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--exempt", "bob:2026-12-31", "--exempt", "ci-deploy"]);
    assert.ok(doc.users.some((u) => u.exempt && u.exemptUntil === null), "an exemption without an end");
    check(doc);
  });

  it("validates the output with an active root key and a key of undeterminable age", async () => {
    const file = reportFile("schema-root.csv", [HEADER, row("<root_account>", [[true, "2026-11-28T12:00:00+00:00"]]), row("alice", [[true, "N/A"]]), row("dave")].join("\n"));
    const { doc } = await json(["audit", "--credential-report", file, "--now", NOW]);
    assert.deepEqual(doc.users.map((u) => u.keys[0]?.reason), ["root-key", "undeterminable", undefined]);
    check(doc);
  });

  it("validates the output of a live audit, with keys named by id", async () => {
    const fake = await startFakeAws({ now: () => Date.parse(NOW) });
    try {
      fake.addUser("alice", { keys: [{ ageDays: 10 }] });
      fake.addUser("bob", { keys: [{ ageDays: 45 }, { ageDays: 2, status: "Inactive" }] });
      fake.generateReport();
      fake.addUser("late", { keys: [{ ageDays: 0 }] }); // not in the report: read with ListAccessKeys
      const { doc } = await json(["audit", "--now", NOW], { clients: clientsAt(fake.url) });
      assert.ok(doc.users.some((u) => u.keys.some((k) => k.accessKeyId !== undefined)));
      check(doc);
    } finally {
      await fake.close();
    }
  });

  it("validates the example in docs/json-output.md", () => {
    const text = readFileSync(path.join(__dirname, "..", "docs", "json-output.md"), "utf8");
    const example = /```json\n([\s\S]*?)\n```/.exec(text)?.[1];
    check(JSON.parse(example as string));
  });

  it("rejects a document that lacks a field of the contract, so the check can fail", async () => {
    const { doc } = await json(["audit", "--credential-report", EXAMPLE, "--now", NOW]);
    const broken = JSON.parse(JSON.stringify(doc)) as { users: Record<string, unknown>[] };
    delete broken.users[1]?.compliance;
    assert.equal(validate(broken), false);
  });
});
