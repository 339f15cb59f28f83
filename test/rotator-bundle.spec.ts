// The rotator's deployable artefact: rotator/build.mjs bundles the Lambda; the zip holds index.js at its
// root, and the bundle's handler runs on its own, with the schedule's payload, against the fake endpoints.
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { addEventBridge, type FakeEventBridge } from "./fake-aws/eventbridge";
import { startFakeAws, type FakeAws } from "./fake-aws";
import { startFakeOrganization } from "./fake-aws/organization";
import { addRotationServices } from "./fake-aws/secrets-manager";
import { OFFLINE_AWS_ENV } from "./fixtures";
import { type ProcessResult, runProcess } from "./fixtures/process";
import { readEmf } from "./emf";

const ROOT = path.join(__dirname, "..");
const MAX_ZIP_BYTES = 300 * 1024;

const node = (args: string[], env: Record<string, string>): Promise<ProcessResult> =>
  runProcess(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...OFFLINE_AWS_ENV, ...env } });

describe("rotator bundle", function () {
  this.timeout(60_000);
  let dist: string;
  let fake: FakeAws;
  let bus: FakeEventBridge;
  before(async () => {
    dist = mkdtempSync(path.join(tmpdir(), "keyage-rotator-"));
    const built = await node([path.join(ROOT, "rotator", "build.mjs")], { KEYAGE_DIST: dist });
    assert.equal(built.status, 0, built.stderr);
    fake = await startFakeAws();
    addRotationServices(fake);
    bus = addEventBridge(fake);
  });
  after(async () => {
    await fake?.close();
    rmSync(dist, { recursive: true, force: true });
  });

  it("zips the bundle as index.js within 300 KiB", () => {
    const zip = readFileSync(path.join(dist, "rotator.zip"));
    assert.ok(zip.includes(Buffer.from("index.js")));
    assert.ok(statSync(path.join(dist, "rotator.zip")).size <= MAX_ZIP_BYTES, `zip is ${(zip.length / 1024).toFixed(1)} KiB`);
  });

  it("runs on its own, with no node_modules, against the endpoints in the environment, and logs one summary line", async () => {
    fake.addUser("old", { keys: [{ ageDays: 45 }] });
    const script =
      `const m = require(${JSON.stringify(path.join(dist, "rotator", "index.js"))});` +
      `m.handler({ mode: "notify" }, { getRemainingTimeInMillis: () => 60000, awsRequestId: "req-9", functionName: "keyage-rotator" })` +
      `.then((s) => console.log("RESULT " + JSON.stringify(s)), (e) => { console.error(e); process.exit(1); });`;
    const out = await node(["-e", script], fake.env());
    assert.equal(out.status, 0, out.stderr);
    const result = JSON.parse(out.stdout.split("\n").find((l) => l.startsWith("RESULT "))?.slice(7) ?? "{}") as { mode?: string; events?: { published: number } };
    assert.equal(result.mode, "notify");
    assert.equal(result.events?.published, 1);
    assert.deepEqual(bus.events.map((e) => e.detailType), ["Access Key Expired"]);
    const summary = out.stdout.split("\n").filter((l) => l.includes('"message":"run summary"'));
    assert.equal(summary.length, 1);
    assert.match(summary[0] as string, /"requestId":"req-9"/);
    const emf = readEmf(summary[0] as string);
    assert.deepEqual(emf.dimensions, [{ FunctionName: "keyage-rotator" }]);
    assert.equal(emf.values.RunCompleted, 1);
  });

  it("in organization mode, runs in every account through the rotator role, with the endpoints in the environment, and logs one organization summary", async () => {
    const org = await startFakeOrganization({ central: "111111111111", members: ["222222222222", "333333333333"], roles: ["keyage-rotator"] });
    try {
      const central = addEventBridge(org.account("111111111111").fake);
      for (const a of org.accounts.values()) addRotationServices(a.fake);
      org.account("333333333333").fake.addUser("old", { keys: [{ ageDays: 45 }] });
      org.account("222222222222").roles.clear();
      const script =
        `const m = require(${JSON.stringify(path.join(dist, "rotator", "index.js"))});` +
        `m.handler({ mode: "notify", organization: { roleName: "keyage-rotator" } }, { getRemainingTimeInMillis: () => 60000, awsRequestId: "req-7" })` +
        `.then((s) => console.log("RESULT " + JSON.stringify(s)), (e) => { console.error(e); process.exit(1); });`;
      const env = Object.fromEntries(
        ["IAM", "SECRETS_MANAGER", "EVENTBRIDGE", "STS", "ORGANIZATIONS"].map((service) => [`AWS_ENDPOINT_URL_${service}`, org.url]),
      );
      const out = await node(["-e", script], env);
      assert.equal(out.status, 0, out.stderr);
      const result = JSON.parse(out.stdout.split("\n").find((l) => l.startsWith("RESULT "))?.slice(7) ?? "{}") as { accounts?: number; unreachable?: { account: string }[]; runs?: { account: string }[] };
      assert.equal(result.accounts, 3);
      assert.deepEqual(result.unreachable?.map((u) => u.account), ["222222222222"]);
      assert.deepEqual(result.runs?.map((r) => r.account).sort(), ["111111111111", "333333333333"]);
      assert.deepEqual(central.events.map((e) => [e.detailType, e.detail.account]), [["Access Key Expired", "333333333333"]]);
      const summary = out.stdout.split("\n").filter((l) => l.includes('"message":"organization run summary"'));
      assert.equal(summary.length, 1);
      assert.match(summary[0] as string, /"requestId":"req-7"/);
    } finally {
      await org.close();
    }
  });

  it("rejects a payload with an unknown mode before any AWS call", async () => {
    fake.resetCounts();
    const script =
      `const m = require(${JSON.stringify(path.join(dist, "rotator", "index.js"))});` +
      `m.handler({ mode: "yolo" }, { getRemainingTimeInMillis: () => 60000 }).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3); });`;
    const out = await node(["-e", script], fake.env());
    assert.equal(out.status, 3);
    assert.match(out.stderr, /mode must be one of notify, plan, apply, got "yolo"/);
    assert.equal(fake.totalCalls(), 0);
  });
});
