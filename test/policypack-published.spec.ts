// dist/pack/, the directory to `pulumi policy publish`: the Pulumi service installs its dependencies
// wherever the pack runs, so it must depend on @pulumi/policy and @pulumi/pulumi only (exact versions),
// and run from that directory alone. Installed offline into a copy, then driven over the Analyzer gRPC
// protocol the way the Pulumi CLI drives it.
import { strict as assert } from "node:assert";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DAY_MS } from "../shared";
import { buildOnce, REPO_ROOT } from "./fixtures/build";
import { closure, installOffline } from "./fixtures/offline-install";
import { PackProcess, urnOf, type PolicyPackConfigFile, type ResourceInput } from "./harness/analyzer";

const KEY = "aws:iam/accessKey:AccessKey";

function ago(ms: number): string {
  return new Date(Math.floor((Date.now() - ms) / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function key(name: string, createDate: string, user = "ci-deployer"): ResourceInput {
  return { type: KEY, name, props: { user, status: "Active", createDate } };
}

describe("the published policy pack (dist/pack/)", function () {
  this.timeout(180_000);
  let dir: string;
  let pack: PackProcess;

  before(async () => {
    await buildOnce();
    dir = mkdtempSync(path.join(tmpdir(), "keyage-published-pack-"));
    cpSync(path.join(REPO_ROOT, "dist", "pack"), dir, { recursive: true });
    const { dependencies } = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    await installOffline(dir, { dependencies, packages: closure(dependencies) });
    pack = await PackProcess.start({ root: dir, probe: true });
  });

  after(async () => {
    const report = await pack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(report?.awsModules, [], "the pack loaded an AWS SDK or @pulumi/aws");
    assert.deepEqual(report?.refusedConnections, [], "the pack tried to reach the network");
  });

  it("depends only on @pulumi/policy and @pulumi/pulumi, pinned to the versions keyage is tested with", () => {
    const own = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string; devDependencies: Record<string, string> };
    const published = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string; main: string; dependencies: Record<string, string> };
    assert.deepEqual(published.dependencies, { "@pulumi/policy": own.devDependencies["@pulumi/policy"], "@pulumi/pulumi": own.devDependencies["@pulumi/pulumi"] });
    assert.match(published.dependencies["@pulumi/policy"] ?? "", /^\d+\.\d+\.\d+$/);
    assert.equal(published.version, own.version);
    assert.deepEqual(readdirSync(dir).filter((f) => !["node_modules", "package-lock.json"].includes(f)).sort(), ["LICENSE", "PulumiPolicy.yaml", "index.js", "package.json"]);
  });

  it("installs without the AWS SDK, @pulumi/aws or the CLI's dependencies", () => {
    for (const name of ["@aws-sdk", "@pulumi/aws", "commander", "csv-parse"]) {
      assert.ok(!existsSync(path.join(dir, "node_modules", name)), `${name} was installed`);
    }
  });

  it("runs from its own directory as the keyage pack, with the three policies", async () => {
    const info = await pack.getAnalyzerInfo();
    assert.equal(info.name, "keyage");
    assert.deepEqual(
      info.policies.map((p) => [p.name, p.enforcementLevel]),
      [
        ["iam-access-key-max-age", "mandatory"],
        ["iam-access-key-expiring", "advisory"],
        ["iam-access-key-creation", "advisory"],
      ],
    );
    assert.equal(pack.extraStdout, "");
  });

  it("enforces examples/policy-config.json: the limit, the warning, the exemptions", async () => {
    const file = JSON.parse(readFileSync(path.join(REPO_ROOT, "examples", "policy-config.json"), "utf8")) as PolicyPackConfigFile;
    await pack.configure(file);
    const ds = await pack.analyzeStack([key("old", ago(40 * DAY_MS)), key("soon", ago(25 * DAY_MS)), key("legacy", ago(400 * DAY_MS), "legacy-batch")]);
    assert.deepEqual(
      ds.map((d) => [d.policyName, d.enforcementLevel, d.urn]),
      [
        ["iam-access-key-max-age", "mandatory", urnOf(KEY, "old")],
        ["iam-access-key-expiring", "advisory", urnOf(KEY, "soon")],
      ],
    );
    assert.match(ds[0]?.message ?? "", /is 40 days old, over the 30-day limit; rotate it\. The 30-day limit is iam-access-key-max-age's maxAgeDays\./);
  });
});
