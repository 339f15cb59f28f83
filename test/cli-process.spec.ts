// The `keyage` binary as a separate process: exit statuses reach the shell, stdout carries only the
// output (no progress, no warnings), and failures are one line on stderr, never a stack trace.
// Runs cli/main.ts through ts-node (always the current source); the compiled dist/cli/main.js is timed
// by bench/cli.bench.ts. Every child gets dummy credentials and talks only to the local fake AWS.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { JsonAudit } from "../cli/json";
import { startFakeAws, type FakeAws } from "./fake-aws";
import { OFFLINE_AWS_ENV } from "./fixtures";

const ROOT = path.join(__dirname, "..");
const MAIN = path.join(ROOT, "cli", "main.ts");
const EXAMPLE = path.join(ROOT, "examples", "credential-report.csv");
const NOW = "2026-11-29T12:00:00Z";

const BASE_ENV = {
  PATH: process.env.PATH ?? "",
  ...OFFLINE_AWS_ENV,
  TS_NODE_TRANSPILE_ONLY: "true",
};

function keyage(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", MAIN, ...args], { cwd: ROOT, env: { ...BASE_ENV, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(stdin ?? "");
  });
}

describe("the keyage binary", () => {
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
