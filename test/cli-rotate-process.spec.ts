// `keyage rotate start` as a separate process, against the local fake IAM and Secrets Manager: once a
// new key exists, neither a closed stdout (`| head -n 2`) nor SIGINT/SIGTERM/SIGHUP ends the process
// before the key is delivered or deleted again, and the exit status is 0 only when delivery was confirmed.
import { strict as assert } from "node:assert";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as path from "node:path";
import { startFakeAws, type FakeAws } from "./fake-aws";
import { addRotationServices, type FakeSecretsManager } from "./fake-aws/secrets-manager";
import { OFFLINE_AWS_ENV } from "./fixtures";

const ROOT = path.join(__dirname, "..");
const MAIN = path.join(ROOT, "cli", "main.ts");
const NOW = Date.parse("2026-11-29T12:00:00Z");
const OLD = "AKIAOLDOLDOLDOLD0001";
const DENIED = { code: "AccessDeniedException", status: 400, message: "User is not authorized to perform secretsmanager:PutSecretValue" };

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `keyage rotate start --user alice --apply` with `delivery` (default: the secret app/alice) against the fake. */
function startRotation(fake: FakeAws, delivery: string[] = ["--secrets-manager", "app/alice"]): { child: ChildProcessWithoutNullStreams; exit: Promise<Exit>; lines: (n: number) => Promise<void> } {
  const child = spawn(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", MAIN, "rotate", "start", "--user", "alice", ...delivery, "--apply"],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...OFFLINE_AWS_ENV, TS_NODE_TRANSPILE_ONLY: "true", ...fake.env() } },
  );
  let stdout = "";
  let stderr = "";
  const waiting: { n: number; resolve: () => void }[] = [];
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
    const count = stdout.split("\n").length - 1;
    for (const w of waiting.splice(0)) (count >= w.n ? w.resolve() : waiting.push(w));
  });
  child.stdout.on("error", () => undefined);
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<Exit>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  const lines = (n: number): Promise<void> =>
    new Promise((resolve) => {
      if (stdout.split("\n").length - 1 >= n) resolve();
      else waiting.push({ n, resolve });
    });
  return { child, exit, lines };
}

/** Resolves when `reached` does, or when the process ended first (the bug this spec guards against). */
async function reachedOrExited(reached: Promise<void>, exit: Promise<Exit>): Promise<void> {
  await Promise.race([reached, exit]);
}

describe("keyage rotate start, as a process, never orphans a created key", function () {
  this.timeout(60_000);
  let fake: FakeAws;
  let sm: FakeSecretsManager;

  beforeEach(async () => {
    fake = await startFakeAws({ now: () => NOW });
    sm = addRotationServices(fake);
    fake.addUser("alice", { keys: [{ accessKeyId: OLD, ageDays: 45, lastUsedDate: new Date(NOW - 3_600_000) }] });
    sm.addSecret("app/alice", JSON.stringify({ AccessKeyId: OLD, SecretAccessKey: "old-secret" }));
  });
  afterEach(async () => fake.close());

  const keysOfAlice = (): { id: string; status: string }[] => fake.user("alice").keys.map((k) => ({ id: k.accessKeyId, status: k.status }));

  it("with stdout closed after two lines (| head -n 2) and PutSecretValue failing, deletes the new key and exits non-zero", async () => {
    const create = sm.hold("CreateAccessKey");
    const put = sm.hold("PutSecretValue");
    const run = startRotation(fake);
    await run.lines(2);
    run.child.stdout.destroy(); // what `head -n 2` does once it has its two lines
    await reachedOrExited(create.reached, run.exit);
    create.release();
    await reachedOrExited(put.reached, run.exit);
    put.release(DENIED);
    const result = await run.exit;
    assert.equal(result.code, 3, `exit ${result.code} ${result.signal}; stderr: ${result.stderr}`);
    assert.deepEqual(keysOfAlice(), [{ id: OLD, status: "Active" }], "the new key was deleted again");
    assert.equal(sm.currentKeyId("app/alice"), OLD);
    assert.match(result.stderr, /^keyage: delivering the new secret to Secrets Manager secret app\/alice failed, so the new key was deleted and nothing changed: .*access denied/m);
  });

  it("with --show-secret and stdout closed before the secret is printed, deletes the new key again and exits non-zero", async () => {
    const create = sm.hold("CreateAccessKey");
    const run = startRotation(fake, ["--show-secret"]);
    await run.lines(2);
    run.child.stdout.destroy();
    await reachedOrExited(create.reached, run.exit);
    create.release();
    const result = await run.exit;
    assert.equal(result.code, 3, `exit ${result.code} ${result.signal}; stderr: ${result.stderr}`);
    assert.deepEqual(keysOfAlice(), [{ id: OLD, status: "Active" }], "nobody got the secret, so the key is gone again");
    assert.match(result.stderr, /^keyage: delivering the new secret to stdout failed, so the new key was deleted and nothing changed: stdout is closed/m);
  });

  it("holds SIGTERM sent during delivery until the secret is stored, then dies of it (never exit 0)", async () => {
    const put = sm.hold("PutSecretValue");
    const run = startRotation(fake);
    await reachedOrExited(put.reached, run.exit);
    run.child.kill("SIGTERM");
    // Give the signal time to land before the answer, as if Secrets Manager were slow.
    await new Promise((resolve) => setTimeout(resolve, 300));
    put.release();
    const result = await run.exit;
    assert.equal(result.signal, "SIGTERM", `exit ${result.code} ${result.signal}; stderr: ${result.stderr}`);
    const fresh = keysOfAlice().find((k) => k.id !== OLD);
    assert.ok(fresh, "the new key exists");
    assert.equal(fresh.status, "Active");
    assert.equal(sm.currentKeyId("app/alice"), fresh.id, "its secret was delivered");
    assert.equal(sm.currentKeyId("app/alice", "AWSPREVIOUS"), OLD, "the old key stays readable as the previous version");
    assert.match(result.stdout, /^Stored it in Secrets Manager secret app\/alice \(version .+\)\.$/m);
    assert.match(result.stderr, /SIGTERM received: finishing the delivery of the new key first/);
  });

  it("holds SIGINT and SIGHUP sent during a failing delivery until the new key is deleted again, then exits non-zero", async () => {
    const put = sm.hold("PutSecretValue");
    const run = startRotation(fake);
    await reachedOrExited(put.reached, run.exit);
    run.child.kill("SIGINT");
    run.child.kill("SIGHUP");
    await new Promise((resolve) => setTimeout(resolve, 300));
    put.release(DENIED);
    const result = await run.exit;
    assert.ok(result.code !== 0, `exit ${result.code} ${result.signal}`);
    assert.ok(result.signal === "SIGINT" || result.signal === "SIGHUP", `died of ${result.signal}`);
    assert.deepEqual(keysOfAlice(), [{ id: OLD, status: "Active" }], "the new key was deleted again");
    assert.match(result.stdout, /^Deleted AKIA\w+ again because its secret could not be delivered\.$/m);
    assert.match(result.stderr, /^keyage: delivering the new secret to Secrets Manager secret app\/alice failed/m);
  });
});
