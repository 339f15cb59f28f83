// The deployable artefact: config-rule/build.mjs bundles the Lambda; the zip must be small, hold
// index.js at its root, and the bundle's handler must work on its own against the fake endpoint.
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { startFakeAws, type FakeAws } from "./fake-aws";
import { OFFLINE_AWS_ENV } from "./fixtures";
import { type ProcessResult, runProcess } from "./fixtures/process";
import { readEmf } from "./emf";

const ROOT = path.join(__dirname, "..");
/** The target for the deployment zip. */
const MAX_ZIP_BYTES = 300 * 1024;

/** Environment for child processes: dummy credentials, no metadata lookups, nothing but 127.0.0.1. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    ...OFFLINE_AWS_ENV,
    ...extra,
  };
}

const node = (args: string[], env: NodeJS.ProcessEnv): Promise<ProcessResult> => runProcess(process.execPath, args, { cwd: ROOT, env });

/** File names in a zip, read from its central directory. */
function zipEntries(zip: Buffer): string[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const nameLength = zip.readUInt16LE(offset + 28);
    const extra = zip.readUInt16LE(offset + 30);
    const comment = zip.readUInt16LE(offset + 32);
    names.push(zip.toString("utf8", offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extra + comment;
  }
  return names;
}

describe("config rule bundle", function () {
  this.timeout(60_000);
  let dist: string;
  let fake: FakeAws;
  before(async () => {
    dist = mkdtempSync(path.join(tmpdir(), "keyage-bundle-"));
    const built = await node([path.join(ROOT, "config-rule", "build.mjs")], childEnv({ KEYAGE_DIST: dist }));
    assert.equal(built.status, 0, built.stderr);
    fake = await startFakeAws();
  });
  after(async () => {
    await fake?.close();
    rmSync(dist, { recursive: true, force: true });
  });

  it("zips the bundle as index.js at the root, within 300 KiB", () => {
    const zip = readFileSync(path.join(dist, "config-rule.zip"));
    assert.deepEqual(zipEntries(zip), ["index.js"]);
    assert.ok(statSync(path.join(dist, "config-rule.zip")).size <= MAX_ZIP_BYTES, `zip is ${(zip.length / 1024).toFixed(1)} KiB`);
  });

  it("runs on its own, with no node_modules, against the endpoints in the environment", async () => {
    fake.addUser("alice", { keys: [{ ageDays: 45 }] });
    fake.addUser("bob", { keys: [{ ageDays: 2 }] });
    const event = {
      invokingEvent: JSON.stringify({ messageType: "ScheduledNotification", notificationCreationTime: new Date().toISOString() }),
      ruleParameters: JSON.stringify({ maxAccessKeyAge: "30" }),
      resultToken: "token-bundle",
      configRuleName: fake.ruleName,
      accountId: fake.accountId,
    };
    // Copy nothing: the bundle is required from the temporary directory, where no node_modules exists.
    const script =
      `const m = require(${JSON.stringify(path.join(dist, "config-rule", "index.js"))});` +
      `m.handler(${JSON.stringify(event)}, { getRemainingTimeInMillis: () => 60000, awsRequestId: "req-1", functionName: "keyage-evaluator" })` +
      `.then((s) => console.log("RESULT " + JSON.stringify(s)), (e) => { console.error(e); process.exit(1); });`;
    const out = await node(["-e", script], childEnv(fake.env()));
    assert.equal(out.status, 0, out.stderr);
    const result = JSON.parse(out.stdout.split("\n").find((l) => l.startsWith("RESULT "))?.slice(7) ?? "{}") as Record<string, unknown>;
    assert.deepEqual(result.verdicts, { COMPLIANT: 1, NON_COMPLIANT: 1, NOT_APPLICABLE: 0 });
    assert.equal(fake.evaluations.get(fake.user("alice").userId)?.complianceType, "NON_COMPLIANT");
    const summary = out.stdout.split("\n").filter((l) => l.includes('"message":"run summary"'));
    assert.equal(summary.length, 1);
    assert.match(summary[0] as string, /"requestId":"req-1"/);
    // The summary line is also the run's metrics (embedded metric format), straight from the bundle.
    const emf = readEmf(summary[0] as string);
    assert.deepEqual(emf.dimensions, [{ FunctionName: "keyage-evaluator" }]);
    assert.equal(emf.values.ScheduledRunCompleted, 1);
  });
});
