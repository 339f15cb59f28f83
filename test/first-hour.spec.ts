// What a new user meets in the first hour: a report that is not a whole credential report, a profile
// that does not exist, a rotate without a destination, error lines that name what failed (not a class),
// and the JSON/CSV fields of an inactive key. Run in-process through `run(argv, io)`, except where the
// process's own environment (HOME, AWS_CONFIG_FILE) is the point.
import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "csv-parse/sync";
import type { ClientFactory } from "../cli/io";
import type { JsonAudit } from "../cli/json";
import { runCli, sdkClients } from "./fixtures/cli";
import { startFakeAws, type FakeAws } from "./fake-aws";
import { OFFLINE_AWS_ENV } from "./fixtures";
import { type ProcessResult, runProcess, runTypeScript } from "./fixtures/process";

const ROOT = path.join(__dirname, "..");
const EXAMPLE = path.join(ROOT, "examples", "credential-report.csv");
const exampleText = readFileSync(EXAMPLE, "utf8");
const HEADER = exampleText.split("\n")[0] as string;
const ROOT_ROW = exampleText.split("\n").find((l) => l.startsWith("<root_account>,")) as string;
const NOW = "2026-11-29T12:00:00Z";
const dir = mkdtempSync(path.join(tmpdir(), "keyage-first-hour-"));

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

async function keyage(argv: string[], options: { clients?: ClientFactory; stdin?: string; env?: Record<string, string> } = {}): Promise<Result> {
  return runCli(argv, {
    env: options.env ?? {},
    readStdin: async () => options.stdin ?? "",
    now: () => Date.parse(NOW),
    ...(options.clients ? { clients: options.clients } : {}),
  });
}

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** A report row: `keys` as [active, lastRotated] per slot. */
function row(user: string, keys: [boolean, string][] = []): string {
  const slots = [0, 1].map((i) => {
    const k = keys[i];
    return k ? `${k[0]},${k[1]},N/A,N/A,N/A` : "false,N/A,N/A,N/A,N/A";
  });
  return `${user},arn:aws:iam::123456789012:user/${user},2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,${slots[0]},${slots[1]},false,N/A,false,N/A`;
}

describe("first hour: a credential report without its <root_account> row", () => {
  it("refuses a report that is only the header line: exit 2, one line, nothing on stdout", async () => {
    const result = await keyage(["audit", "--credential-report", file("header-only.csv", `${HEADER}\n`), "--now", NOW]);
    assert.equal(result.status, 2);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^keyage: .*header-only\.csv: no <root_account> row: every credential report AWS writes has one, so this file is cut short or not a credential report \(pass --allow-partial-report if it is a deliberate extract\)\n$/);
  });

  it("refuses a report whose users are there but whose root row was cut out", async () => {
    const result = await keyage(["audit", "--credential-report", "-", "--now", NOW], { stdin: [HEADER, row("alice")].join("\n") });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^keyage: standard input: no <root_account> row/);
  });

  it("audits a deliberate extract with --allow-partial-report, and says root went unchecked as the live audit does", async () => {
    const result = await keyage(["audit", "--credential-report", file("extract.csv", [HEADER, row("alice", [[true, "2026-11-20T00:00:00+00:00"]])].join("\n")), "--now", NOW, "--allow-partial-report"]);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /All 1 users? compliant/);
    assert.match(result.stderr, /^keyage: note: the root user's keys were not checked \(no <root_account> row in .*extract\.csv\)\n$/);
  });

  it("audits a header-only extract with --allow-partial-report as no users, root unchecked", async () => {
    const result = await keyage(["audit", "--credential-report", file("header-only-ok.csv", `${HEADER}\n`), "--now", NOW, "--allow-partial-report", "--format", "json"]);
    assert.equal(result.status, 0);
    assert.deepEqual((JSON.parse(result.stdout) as JsonAudit).summary, { users: 0, compliant: 0, nonCompliant: 0 });
    assert.match(result.stderr, /the root user's keys were not checked/);
  });

  it("says nothing about root when the report has its root row, with or without the flag", async () => {
    const text = [HEADER, ROOT_ROW, row("alice")].join("\n");
    for (const extra of [[], ["--allow-partial-report"]]) {
      const result = await keyage(["audit", "--credential-report", "-", "--now", NOW, ...extra], { stdin: text });
      assert.equal(result.status, 0);
      assert.equal(result.stderr, "");
    }
  });

  it("documents --allow-partial-report in --help", async () => {
    const result = await keyage(["audit", "--help"]);
    assert.match(result.stdout, /--allow-partial-report +.*<root_account>/s);
  });
});

describe("first hour: rotate's usage errors come before any AWS call", () => {
  /** A client factory that fails the test if the command builds any client. */
  let made = 0;
  const noAws: ClientFactory = async () => {
    made += 1;
    throw new Error("no AWS client may be made for bad usage");
  };
  beforeEach(() => {
    made = 0;
  });

  const cases: [string, string[], RegExp][] = [
    ["start without a destination", ["start", "--user", "bob"], /^keyage: rotate start needs somewhere to put the new secret: --secrets-manager SECRET_ID, --output FILE or --show-secret\n$/],
    ["start --apply without a destination", ["start", "--user", "bob", "--apply"], /^keyage: rotate start needs somewhere to put the new secret/],
    ["--output in a directory that does not exist", ["start", "--user", "bob", "--output", path.join(dir, "no-such-dir", "key.json")], /^keyage: --output ".*key\.json": the directory .*no-such-dir does not exist\n$/],
    ["--output where the directory is a file", ["start", "--user", "bob", "--output", path.join(EXAMPLE, "key.json")], /is not a directory\n$/],
    ["a user name IAM would refuse", ["finish", "--user", "bob smith"], /^keyage: --user: "bob smith" is not an IAM user name/],
    ["a --grace of 0 hours", ["cleanup", "--user", "bob", "--grace", "0"], /^keyage: --grace must be a whole number of hours from 1 to /],
    ["a bad --config-rule-name", ["finish", "--user", "bob", "--config-rule-name", "no spaces"], /^keyage: --config-rule-name: "no spaces" is not a Config rule name/],
  ];
  for (const [what, argv, message] of cases) {
    it(`exits 2 for ${what}, having made no AWS client`, async () => {
      const result = await keyage(["rotate", ...argv], { clients: noAws });
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, "");
      assert.equal(made, 0, "an AWS client was made before the usage error");
    });
  }

  it("exits 2, not 3, as a process without any AWS region or credentials", async () => {
    // No region at all (the old code then failed on AWS, exit 3); an endpoint on loopback in case it tries.
    const result = await processKeyage(["rotate", "start", "--user", "bob"], { HOME: dir, AWS_ENDPOINT_URL: "http://127.0.0.1:9" }, ["AWS_REGION"]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /^keyage: rotate start needs somewhere to put the new secret/);
  });
});

/** The CLI as a process (ts-node), with only PATH, the offline AWS settings and `env`. */
function processKeyage(args: string[], env: Record<string, string>, unset: string[] = []): Promise<ProcessResult> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? "", ...OFFLINE_AWS_ENV, TS_NODE_TRANSPILE_ONLY: "true" };
  for (const name of unset) delete base[name];
  return runTypeScript(path.join(ROOT, "cli", "main.ts"), args, { cwd: ROOT, env: { ...base, ...env } });
}

describe("first hour: error lines say what failed, not which class", () => {
  let fake: FakeAws;
  beforeEach(async () => {
    fake = await startFakeAws({ now: () => Date.parse(NOW) });
    fake.addUser("alice", { keys: [{ ageDays: 10 }] });
    fake.generateReport();
  });
  afterEach(async () => fake.close());

  /** SDK clients against the fake IAM on loopback, one attempt per call (no retry delays). */
  const clients = (): ClientFactory => sdkClients({ region: "us-east-1", endpoint: fake.url, maxAttempts: 1 });

  it("says access was denied when ListUsers is denied in a live audit", async () => {
    fake.fail("ListUsers", { code: "AccessDenied", message: "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: iam:ListUsers", times: Infinity });
    const result = await keyage(["audit", "--now", NOW], { clients: clients() });
    assert.equal(result.status, 3);
    assert.equal(result.stderr, "keyage: reading the account's IAM users failed: access denied: User: arn:aws:iam::123456789012:user/dev is not authorized to perform: iam:ListUsers\n");
  });

  it("names the IAM call and AWS's error code, and no class, when ListUsers is throttled", async () => {
    fake.fail("ListUsers", { code: "Throttling", message: "Rate exceeded", times: Infinity });
    const result = await keyage(["audit", "--now", NOW], { clients: clients() });
    assert.equal(result.status, 3);
    assert.equal(result.stderr, "keyage: reading the account's IAM users failed: ListUsers failed: Throttling: Rate exceeded\n");
  });

  it("never names an error class in any of these lines", async () => {
    for (const code of ["AccessDenied", "Throttling", "ServiceFailure"]) {
      fake.fail("ListUsers", { code, times: Infinity });
      const result = await keyage(["audit", "--now", NOW], { clients: clients() });
      assert.doesNotMatch(result.stderr, /\b\w*Error\b/, result.stderr);
    }
  });
});

describe("first hour: --profile naming no profile", () => {
  const home = mkdtempSync(path.join(tmpdir(), "keyage-home-"));
  const awsDir = path.join(home, ".aws");
  before(() => {
    mkdirSync(awsDir);
    writeFileSync(path.join(awsDir, "config"), "[default]\nregion = eu-west-1\n\n[profile dev]\nregion = eu-west-1\n[sso-session corp]\nsso_region = eu-west-1\n");
    writeFileSync(path.join(awsDir, "credentials"), "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n[ci]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n");
  });
  // The SDK reads HOME and these two variables; the endpoint keeps any call that slips through on loopback.
  const env = (): Record<string, string> => ({
    HOME: home,
    AWS_CONFIG_FILE: path.join(awsDir, "config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(awsDir, "credentials"),
    AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  });

  it("names the missing profile and the files it looked in, exit 2, for a live audit", async () => {
    const result = await processKeyage(["audit", "--profile", "prod"], env(), ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    assert.equal(result.status, 2, result.stderr);
    assert.equal(
      result.stderr,
      `keyage: --profile: AWS profile "prod" not found in ${path.join(awsDir, "config")} or ${path.join(awsDir, "credentials")} (\`aws configure list-profiles\` lists the profiles there)\n`,
    );
  });

  it("names a missing AWS_PROFILE the same way, for rotate", async () => {
    const result = await processKeyage(["rotate", "finish", "--user", "alice"], { ...env(), AWS_PROFILE: "staging" }, ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /^keyage: AWS_PROFILE: AWS profile "staging" not found in /);
  });

  it("lets through a profile of either file, with or without the `profile ` prefix, to the SDK", async () => {
    for (const profile of ["dev", "ci", "default"]) {
      const result = await keyage(["audit", "--profile", profile], {
        env: env(),
        clients: async () => {
          throw new Error("reached the clients");
        },
      });
      assert.match(result.stderr, /reached the clients/, `${profile}: ${result.stderr}`);
    }
  });

  it("reads AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE given as ~/…, as the SDK does", async () => {
    const tilde = { HOME: home, AWS_CONFIG_FILE: "~/.aws/config", AWS_SHARED_CREDENTIALS_FILE: "~/.aws/credentials" };
    for (const profile of ["dev", "ci"]) {
      const result = await keyage(["audit", "--profile", profile], {
        env: tilde,
        clients: async () => {
          throw new Error("reached the clients");
        },
      });
      assert.match(result.stderr, /reached the clients/, `${profile}: ${result.stderr}`);
    }
  });

  it("refuses before any client is made", async () => {
    const result = await keyage(["audit", "--profile", "nope"], { env: env(), clients: async () => assert.fail("no client for a missing profile") });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /AWS profile "nope" not found/);
  });
});

describe("first hour: an inactive key has no daysLeft", () => {
  // carol's key 1 in the example report is inactive and 242 days old: it expires never, so it has no
  // days left to count; 0 is reserved for expired keys and root keys.
  it("is null in JSON, as the schema allows, and the key's other fields stay", async () => {
    const result = await keyage(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--format", "json"]);
    const doc = JSON.parse(result.stdout) as JsonAudit;
    const carol = doc.users.find((u) => u.user === "carol");
    assert.deepEqual(
      carol?.keys.map((k) => [k.slot, k.status, k.reason, k.ageDays, k.daysLeft]),
      [
        [1, "Inactive", "inactive", 242, null],
        [2, "Active", "ok", 2, 28],
      ],
    );
    const bob = doc.users.find((u) => u.user === "bob");
    assert.equal(bob?.keys[0]?.daysLeft, 0, "an expired key still has 0 days left");
  });

  it("is an empty days_left cell in CSV", async () => {
    const result = await keyage(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--format", "csv"]);
    const rows = parse(result.stdout, { columns: true }) as Record<string, string>[];
    const carol = rows.filter((r) => r.user === "carol").map((r) => [r.key, r.status, r.days_left]);
    assert.deepEqual(carol, [
      ["1", "Inactive", ""],
      ["2", "Active", "28"],
    ]);
  });
});

describe("first hour: a file that is not a credential report is called what it is", () => {
  const cases: [string, string, RegExp][] = [
    ["a plain-text note", "Notes on our IAM users\nalice and bob rotate monthly\n", /line 1: header "Notes on our IAM users" is not a credential report's/],
    ["a single word", "report\n", /line 1: header "report" is not a credential report's/],
    ["a Markdown file whose body is not valid CSV", `# keyage\n\nSee "the docs", then "more\n`, /line 1: header "# keyage" is not a credential report's/],
    ["a JSON file", '{\n  "iam-access-key-max-age": { "maxAgeDays": 90 }\n}\n', /line 1: header "{" is not a credential report's/],
    ["base64 of something else", `${Buffer.from("name,email\nbob,bob@example.com\n").toString("base64")}\n`, /line 1: header ".*" is not a credential report's/],
    ["the report's base64 (GetCredentialReport's Content)", Buffer.from(exampleText).toString("base64"), /looks base64-encoded .* decode it first/],
    ["the base64 of the report with a byte-order mark", Buffer.from(`\ufeff${exampleText}`).toString("base64"), /looks base64-encoded .* decode it first/],
    ["the report's base64 wrapped at 76 columns, as `base64` writes it", `${Buffer.from(exampleText).toString("base64").replace(/.{76}/g, "$&\n")}\n`, /looks base64-encoded .* decode it first/],
  ];
  for (const [what, text, message] of cases) {
    it(`${message.source.includes("base64") ? "calls" : "does not call"} ${what} base64-encoded${message.source.includes("header") ? ", and says its header is not a report's" : ""}`, async () => {
      const result = await keyage(["audit", "--credential-report", "-"], { stdin: text });
      assert.equal(result.status, 2);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.split("\n").length, 2);
    });
  }
});

describe("first hour: npm start on a clone that is not built", () => {
  const prestart = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.prestart as string;
  // The exit status and stderr only: what a person running `npm start` sees of the prestart check.
  const runIn = (cwd: string): Promise<{ status: number | null; stderr: string }> =>
    runProcess("sh", ["-c", prestart], { cwd, env: { PATH: process.env.PATH ?? "" } }).then(({ status, stderr }) => ({ status, stderr }));

  it("says npm ci when nothing is installed (npm run build would fail with tsc: not found)", async () => {
    const clone = mkdtempSync(path.join(tmpdir(), "keyage-clone-"));
    const { status, stderr } = await runIn(clone);
    assert.equal(status, 2);
    assert.equal(stderr, "keyage: keyage is not built and its dependencies are not installed: run npm ci first (it installs them and builds dist/)\n");
  });

  it("says npm run build when the dependencies are installed but dist/ is not built", async () => {
    const clone = mkdtempSync(path.join(tmpdir(), "keyage-clone-"));
    mkdirSync(path.join(clone, "node_modules", ".bin"), { recursive: true });
    writeFileSync(path.join(clone, "node_modules", ".bin", "tsc"), "");
    const { status, stderr } = await runIn(clone);
    assert.equal(status, 2);
    assert.equal(stderr, "keyage: dist/cli/main.js is missing: run npm run build first\n");
  });

  it("lets npm start run when dist/ is built", async () => {
    const clone = mkdtempSync(path.join(tmpdir(), "keyage-clone-"));
    mkdirSync(path.join(clone, "dist", "cli"), { recursive: true });
    writeFileSync(path.join(clone, "dist", "cli", "main.js"), "");
    assert.deepEqual(await runIn(clone), { status: 0, stderr: "" });
  });
});

describe("first hour: docs/json-output.md's example is what the CLI prints", () => {
  it("matches the CLI's output for the command it names, field for field, for every user it shows", async () => {
    const doc = readFileSync(path.join(ROOT, "docs", "json-output.md"), "utf8");
    const section = doc.slice(doc.indexOf("## Example"));
    const command = /`keyage (audit [^`]+)`/.exec(section.replace(/\n/g, " "))?.[1] as string;
    const example = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(section)?.[1] as string) as JsonAudit;
    const result = await keyage(command.split(/\s+/).map((a) => (a === "examples/credential-report.csv" ? EXAMPLE : a)));
    const printed = JSON.parse(result.stdout) as JsonAudit;
    const { users, ...top } = printed;
    const { users: shown, ...shownTop } = example;
    assert.deepEqual(shownTop, top);
    assert.ok(shown.length >= 3);
    for (const u of shown) assert.deepEqual(u, users.find((p) => p.user === u.user), u.user);
    assert.deepEqual(
      shown.map((u) => u.user),
      users.map((u) => u.user).filter((name) => shown.some((s) => s.user === name)),
      "in the CLI's order",
    );
  });
});
