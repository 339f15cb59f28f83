// The `keyage` binary as a separate process: exit statuses reach the shell, stdout carries only the
// output (no progress, no warnings), and failures are one line on stderr, never a stack trace.
// Runs cli/main.ts through ts-node (always the current source); the compiled dist/cli/main.js is timed
// by bench/cli.bench.ts. Every child gets dummy credentials and talks only to the local fake AWS.
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { JsonAudit } from "../cli/json";
import { startFakeAws, type FakeAws } from "./fake-aws";
import { OFFLINE_AWS_ENV } from "./fixtures";
import { type ProcessResult, runProcess, runTypeScript } from "./fixtures/process";

const ROOT = path.join(__dirname, "..");
const MAIN = path.join(ROOT, "cli", "main.ts");
const EXAMPLE = path.join(ROOT, "examples", "credential-report.csv");
const NOW = "2026-11-29T12:00:00Z";

const BASE_ENV = {
  PATH: process.env.PATH ?? "",
  ...OFFLINE_AWS_ENV,
  TS_NODE_TRANSPILE_ONLY: "true",
};

function keyage(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<ProcessResult> {
  return runTypeScript(MAIN, args, { cwd: ROOT, env: { ...BASE_ENV, ...env }, ...(stdin !== undefined ? { input: stdin } : {}) });
}

describe("the keyage binary", () => {
  it("keeps the real exit status (1, violations) when the reader stops early, as `keyage audit | head -n 1` does", async () => {
    // A large report, so that the output outlives the pipe: head closes it after the first line.
    const rows = readFileSync(EXAMPLE, "utf8").trimEnd().split("\n");
    const body = Array.from({ length: 3000 }, (_, i) => rows[3]!.replace(/^[^,]+,arn:aws:iam::(\d+):user\/[^,]+/, `u${i},arn:aws:iam::$1:user/u${i}`));
    const file = path.join(mkdtempSync(path.join(tmpdir(), "keyage-pipe-")), "report.csv");
    writeFileSync(file, [...rows, ...body].join("\n") + "\n");
    const cmd = `set -o pipefail; node -r ts-node/register/transpile-only ${JSON.stringify(MAIN)} audit --credential-report ${JSON.stringify(file)} --now ${NOW} | head -n 1`;
    const result = await runProcess("bash", ["--norc", "--noprofile", "-c", cmd], { cwd: ROOT, env: BASE_ENV });
    assert.equal(result.stdout.split("\n").filter(Boolean).length, 1);
    assert.equal(result.stderr, "");
    assert.equal(result.status, 1, "pipefail reports keyage's own status: violations were found");
  });

  it("starts with a node shebang", () => {
    assert.equal(readFileSync(MAIN, "utf8").split("\n")[0], "#!/usr/bin/env node");
  });

  it("exits 1 on violations with nothing but the JSON document on stdout", async () => {
    const { status, stdout, stderr } = await keyage(["audit", "--credential-report", "-", "--now", NOW, "--format", "json"], {}, readFileSync(EXAMPLE, "utf8"));
    assert.equal(status, 1, stderr);
    assert.equal(stderr, "");
    assert.deepEqual((JSON.parse(stdout) as JsonAudit).summary, { users: 9, compliant: 6, nonCompliant: 3 });
  });

  it("exits 2 with one line and no stack trace for a bad flag value", async () => {
    const { status, stdout, stderr } = await keyage(["audit", "--credential-report", EXAMPLE, "--max-age-days", "-5"]);
    assert.equal(status, 2);
    assert.equal(stdout, "");
    assert.equal(stderr, 'keyage: --max-age-days must be a whole number of days from 1 to 3650, got "-5"\n');
  });

  describe("help and errors", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "keyage-cli-process-"));
    const header = readFileSync(EXAMPLE, "utf8").split("\n")[0] as string;
    /** A report row for `user` with one active key created on `created` (a name with a comma is quoted, as AWS does). */
    const row = (user: string, created: string): string => {
      const q = (s: string) => (s.includes(",") ? `"${s}"` : s);
      return `${q(user)},${q(`arn:aws:iam::123456789012:user/${user}`)},2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,${created},N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`;
    };
    const file = (name: string, content: string | Buffer): string => {
      const f = path.join(dir, name);
      writeFileSync(f, content);
      return f;
    };

    it("puts an unknown option and commander's suggestion on one line", async () => {
      const { status, stdout, stderr } = await keyage(["audit", "--formt", "json"]);
      assert.equal(status, 2);
      assert.equal(stdout, "");
      assert.equal(stderr, "keyage audit: unknown option '--formt', did you mean --format? (see `keyage audit --help`)\n");
    });

    it("puts an unknown command and its suggestion on one line", async () => {
      const { status, stderr } = await keyage(["rotat"]);
      assert.equal(status, 2);
      assert.equal(stderr, "keyage: unknown command 'rotat', did you mean rotate? (see `keyage --help`)\n");
    });

    it("answers binary garbage given as a credential report with one short printable line", async () => {
      // 300 bytes of every value, quote characters and NULs included.
      const garbage = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 97 + 13) % 256));
      const { status, stdout, stderr } = await keyage(["audit", "--credential-report", file("garbage.bin", garbage)]);
      assert.equal(status, 2);
      assert.equal(stdout, "");
      assert.match(stderr, /^keyage: .*garbage\.bin: the credential report is not text \(binary data, or not UTF-8\)[^\n]*\n$/);
      assert.match(stderr, /^[\x20-\x7e]*\n$/, "printable ASCII only");
      assert.ok(stderr.length < 200, `short: ${stderr.length} characters`);
    });

    it("does not echo a long malformed CSV field back, only where it is", async () => {
      const junk = `${header}\n"alice"${"x".repeat(300)},arn\n`;
      const { status, stderr } = await keyage(["audit", "--credential-report", file("junk.csv", junk)]);
      assert.equal(status, 2);
      assert.match(stderr, /: the credential report is not valid CSV: invalid closing quote \(line 2\)\n$/);
      assert.ok(!stderr.includes("xxxxxxxxxx"), stderr);
    });

    it("quotes user names with commas in the summary, so the list reads unambiguously", async () => {
      const report = [header, row("ops,admin", "2026-01-01T00:00:00+00:00"), row("carol", "2026-01-01T00:00:00+00:00"), row("dave", "2026-11-27T00:00:00+00:00")].join("\n");
      const { status, stdout } = await keyage(["audit", "--credential-report", file("commas.csv", report), "--allow-partial-report", "--now", NOW]);
      assert.equal(status, 1);
      assert.ok(stdout.includes('\n2 of 3 users non-compliant: "ops,admin" and carol.\n'), stdout);
    });

    it("takes --exempt as a blank-separated list or a JSON array, and as a repeated flag", async () => {
      const { status, stdout, stderr } = await keyage([
        "audit", "--credential-report", EXAMPLE, "--now", NOW, "--format", "json",
        "--exempt", "bob ci-deploy:2027-01-31", "--exempt", '["svc.legacy@example.com"]',
      ]);
      assert.equal(stderr, "");
      assert.equal(status, 0, stdout);
      assert.equal((JSON.parse(stdout) as JsonAudit).summary.nonCompliant, 0);
    });

    it("shows the help of rotate start for `keyage help rotate start`", async () => {
      const { status, stdout } = await keyage(["help", "rotate", "start"]);
      assert.equal(status, 0);
      assert.match(stdout, /^Usage: keyage rotate start \[options\]/);
      assert.match(stdout, /--secrets-manager <secret-id>/);
    });

    it("says `keyage help` of an unknown command is unknown, with a suggestion, on one line", async () => {
      const { status, stdout, stderr } = await keyage(["help", "rotate", "strat"]);
      assert.equal(status, 2);
      assert.equal(stdout, "");
      assert.equal(stderr, "keyage rotate: unknown command 'strat', did you mean start? (see `keyage rotate --help`)\n");
    });

    it("says in the audit help that --exempt takes a list and repeats", async () => {
      const { stdout } = await keyage(["help", "audit"]);
      assert.match(stdout.replace(/\s+/g, " "), /--exempt <users> exempt users: USER or USER:YYYY-MM-DD .* separated by blanks .* JSON array; repeatable/);
    });
  });

  describe("against AWS (a local fake)", () => {
    let fake: FakeAws;
    const now = Date.parse(NOW);
    before(async () => {
      fake = await startFakeAws({ now: () => now });
      fake.addUser("alice", { keys: [{ ageDays: 3 }] });
      fake.addUser("bob", { keys: [{ ageDays: 400 }] });
      fake.generateReport();
    });
    after(async () => fake.close());

    it("audits the live account through AWS_ENDPOINT_URL_IAM, exiting 1 with clean JSON on stdout", async () => {
      const { status, stdout, stderr } = await keyage(["audit", "--now", NOW, "--format", "json"], fake.env());
      assert.equal(status, 1, stderr);
      const doc = JSON.parse(stdout) as JsonAudit;
      assert.deepEqual(
        doc.users.map((u) => [u.user, u.compliance]),
        [["<root_account>", "COMPLIANT"], ["alice", "COMPLIANT"], ["bob", "NON_COMPLIANT"]],
      );
      assert.equal(stderr, "");
    });

    it("exits 3 with one line when there are no credentials at all", async () => {
      const { status, stdout, stderr } = await keyage(["audit"], { ...fake.env(), AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" });
      assert.equal(status, 3);
      assert.equal(stdout, "");
      assert.match(stderr, /^keyage: reading the account's IAM users failed: no AWS credentials found: pass --profile, set AWS_PROFILE or AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY, or run `aws sso login`\n$/);
    });
  });
});
