// The policy pack as the Pulumi CLI runs it: `run-policy-pack` in its own process, driven over the
// Analyzer gRPC protocol with property maps as the engine sends them. One pack process for the whole
// file. The pack uses the real clock, so ages near the 30-day boundary keep a 2-minute margin (the exact
// boundary is tested with a fixed clock in policypack.spec.ts).
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { DAY_MS } from "../shared";
import { PackProcess, REPO_ROOT, UNKNOWN, ensureBuilt, secret, urnOf, type Diagnostic, type PolicyPackConfigFile, type ResourceInput } from "./harness/analyzer";

const KEY = "aws:iam/accessKey:AccessKey";
const MARGIN = 2 * 60_000;
const SECRETS = ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRET1", "BMr1kSMTPpasswordSECRET2", "wcBMA-encrypted-SECRET3", "wcBMA-encrypted-smtp-SECRET4"];

function ago(ms: number): string {
  // IAM's createDate has whole seconds; round towards "older" so the margin only grows.
  return new Date(Math.floor((Date.now() - ms) / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function key(name: string, outputs: Record<string, unknown>, parentTypes: string[] = []): ResourceInput {
  return {
    type: KEY,
    name,
    urn: urnOf(KEY, name, parentTypes),
    props: {
      id: `AKIA${name.toUpperCase().replace(/[^A-Z0-9]/g, "").padEnd(16, "X").slice(0, 16)}`,
      user: "ci-deployer",
      status: "Active",
      secret: secret(SECRETS[0] as string),
      sesSmtpPasswordV4: secret(SECRETS[1] as string),
      encryptedSecret: SECRETS[2] as string,
      encryptedSesSmtpPasswordV4: SECRETS[3] as string,
      keyFingerprint: "",
      pgpKey: "",
      ...(outputs as Record<string, never>),
    },
  };
}

/** A stack as AnalyzeStack sees it during a preview: the stack, a provider, a user and its keys. */
function stack(...keys: ResourceInput[]): ResourceInput[] {
  return [
    { type: "pulumi:pulumi:Stack", name: "app-dev", props: {} },
    { type: "pulumi:providers:aws", name: "default_7_48_0", props: { region: "us-east-1", version: "7.48.0" } },
    { type: "aws:iam/user:User", name: "ci", props: { name: "ci-deployer", arn: "arn:aws:iam::123456789012:user/ci-deployer", path: "/" } },
    ...keys,
  ];
}

/**
 * A config error as the preview shows it: @pulumi/policy's own header line, then keyage's one line (as
 * docs/policy-pack.md shows it), with no stack frames and no error class name.
 */
function assertOneLine(message: string): void {
  const [, ...ours] = message.split("\n");
  assert.equal(ours.length, 1, `one line after the header:\n${message}`);
  assert.match(ours[0] as string, /^policy iam-access-key-[a-z-]+: invalid config: /);
  assert.doesNotMatch(message, /\n\s+at |PolicyConfigError|KeyageError/);
}

const seen: Diagnostic[] = [];
function record(ds: Diagnostic[]): Diagnostic[] {
  seen.push(...ds);
  return ds;
}

describe("policy pack over the Analyzer gRPC protocol", function () {
  this.timeout(60_000);
  let pack: PackProcess;

  before(async () => {
    await ensureBuilt();
    pack = await PackProcess.start({ probe: true });
  });

  after(async () => {
    const report = await pack?.stop();
    assert.deepEqual(report?.awsModules, [], "the pack loaded an AWS SDK or @pulumi/aws");
    assert.deepEqual(report?.refusedConnections, [], "the pack tried to reach the network");
  });

  beforeEach(async () => {
    await pack.configure({});
  });

  it("prints only its port on stdout and nothing on stderr", () => {
    assert.equal(pack.extraStdout, "");
    assert.equal(pack.stderr, "");
  });

  it("describes the keyage pack, its version and its three policies with their default levels", async () => {
    const info = await pack.getAnalyzerInfo();
    const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    assert.equal(info.name, "keyage");
    assert.equal(info.version, version);
    assert.deepEqual(
      info.policies.map((p) => [p.name, p.type, p.enforcementLevel]),
      [
        ["iam-access-key-max-age", "stack", "mandatory"],
        ["iam-access-key-expiring", "stack", "advisory"],
        ["iam-access-key-creation", "resource", "advisory"],
      ],
    );
  });

  it("gets its config defaults filled in by the CLI from its schema", async () => {
    const config = await pack.configure({});
    assert.deepEqual(config["iam-access-key-max-age"], { enforcementLevel: "mandatory", properties: { maxAgeDays: 30, exemptions: [] } });
    // The expiring policy's limit and exemptions follow the max-age policy's: no defaults of its own.
    assert.deepEqual(config["iam-access-key-expiring"]?.properties, {});
    assert.deepEqual(config["iam-access-key-creation"]?.properties, { allowedUsers: [] });
  });

  it("blocks the preview (mandatory) for a key just past 30 days, and not for one just short of it", async () => {
    const ds = record(await pack.analyzeStack(stack(key("young", { createDate: ago(30 * DAY_MS - MARGIN) }), key("old", { createDate: ago(30 * DAY_MS + MARGIN) }))));
    const maxAge = ds.filter((d) => d.policyName === "iam-access-key-max-age");
    assert.deepEqual(
      maxAge.map((d) => [d.urn, d.enforcementLevel]),
      [[urnOf(KEY, "old"), "mandatory"]],
    );
    assert.match(maxAge[0]?.message ?? "", /\nAccess key "old" is 30 days old, over the 30-day limit; rotate it\. The 30-day limit is iam-access-key-max-age's maxAgeDays\. Replace it now with `pulumi up --replace 'urn:pulumi:dev::keyage-test::aws:iam\/accessKey:AccessKey::old'`/);
  });

  it("warns (advisory) about the key that is about to expire", async () => {
    const ds = record(await pack.analyzeStack(stack(key("soon", { createDate: ago(25 * DAY_MS) }))));
    assert.deepEqual(
      ds.map((d) => [d.policyName, d.enforcementLevel, d.urn]),
      [["iam-access-key-expiring", "advisory", urnOf(KEY, "soon")]],
    );
    assert.match(ds[0]?.message ?? "", /Access key "soon" is 25 days old and expires within 5 days \(limit 30 days\)/);
  });

  it("lets a key being created in this preview through and still checks an old key next to it", async () => {
    const creating = key("new", { createDate: UNKNOWN, id: UNKNOWN, secret: UNKNOWN, sesSmtpPasswordV4: UNKNOWN, user: UNKNOWN });
    const ds = record(await pack.analyzeStack(stack(creating, key("old", { createDate: ago(90 * DAY_MS) }))));
    assert.deepEqual(
      ds.map((d) => [d.policyName, d.urn]),
      [["iam-access-key-max-age", urnOf(KEY, "old")]],
    );
    assert.ok(!ds.some((d) => /can't run policy/.test(d.message)), "an unknown value aborted a policy");
  });

  it("reports a malformed createDate, finds keys inside components, and skips inactive keys", async () => {
    const ds = record(
      await pack.analyzeStack(
        stack(
          key("garbled", { createDate: "2026-02-30T00:00:00Z" }),
          key("nested", { createDate: ago(60 * DAY_MS) }, ["acme:index:CiUser"]),
          key("disabled", { createDate: ago(400 * DAY_MS), status: "Inactive" }),
          key("no-status", { createDate: ago(31 * DAY_MS), status: null }),
        ),
      ),
    );
    assert.deepEqual(
      ds.map((d) => d.urn),
      [urnOf(KEY, "garbled"), urnOf(KEY, "nested", ["acme:index:CiUser"]), urnOf(KEY, "no-status")],
    );
    assert.match(ds[0]?.message ?? "", /The age of access key "garbled" cannot be determined \(createDate "2026-02-30T00:00:00Z"\)/);
  });

  it("reads secret-wrapped outputs, including a secret user name it never shows", async () => {
    const ds = record(await pack.analyzeStack(stack(key("wrapped", { createDate: secret(ago(40 * DAY_MS)), user: secret("payments-batch-9f2c") }))));
    assert.equal(ds.length, 1);
    assert.ok(!ds[0]?.message.includes("payments-batch-9f2c"));
  });

  it("flags declaring a user access key (advisory) on Analyze, but not other resources", async () => {
    const ds = record(await pack.analyze({ type: KEY, name: "ci-key", props: { user: "ci-deployer" } }));
    assert.deepEqual(
      ds.map((d) => [d.policyName, d.enforcementLevel]),
      [["iam-access-key-creation", "advisory"]],
    );
    assert.match(ds[0]?.message ?? "", /Prefer a role the workload assumes, OIDC federation for CI, or Pulumi ESC \(fn::rotate::aws-iam\)/);
    assert.deepEqual(await pack.analyze({ type: "aws:iam/user:User", name: "ci", props: { name: "ci-deployer" } }), []);
  });

  it("honours a policy config file: limit, warning window, exemptions, allowedUsers", async () => {
    await pack.configure({
      "iam-access-key-max-age": { maxAgeDays: 90, exemptions: ["legacy-batch:2099-12-31"] },
      "iam-access-key-expiring": { maxAgeDays: 90, warnDays: 14 },
      "iam-access-key-creation": { allowedUsers: ["ci-deployer"] },
    });
    const ds = record(
      await pack.analyzeStack(
        stack(
          key("k45", { createDate: ago(45 * DAY_MS) }),
          key("k80", { createDate: ago(80 * DAY_MS) }),
          key("k95", { createDate: ago(95 * DAY_MS) }),
          key("legacy", { createDate: ago(500 * DAY_MS), user: "legacy-batch" }),
        ),
      ),
    );
    assert.deepEqual(
      ds.map((d) => [d.policyName, d.urn]),
      [
        ["iam-access-key-max-age", urnOf(KEY, "k95")],
        ["iam-access-key-expiring", urnOf(KEY, "k80")],
      ],
    );
    assert.match(ds[0]?.message ?? "", /95 days old, over the 90-day limit/);
    assert.deepEqual(await pack.analyze({ type: KEY, name: "ci-key", props: { user: "ci-deployer" } }), []);
  });

  it("reports with the level the config sets: advisory, mandatory, or nothing when disabled", async () => {
    const stale = stack(key("old", { createDate: ago(45 * DAY_MS) }));
    await pack.configure({ "iam-access-key-max-age": "advisory" });
    assert.deepEqual(
      (await pack.analyzeStack(stale)).map((d) => d.enforcementLevel),
      ["advisory"],
    );
    await pack.configure({ "iam-access-key-creation": { enforcementLevel: "mandatory" } });
    assert.deepEqual(
      (await pack.analyze({ type: KEY, name: "k", props: {} })).map((d) => d.enforcementLevel),
      ["mandatory"],
    );
    await pack.configure({ "iam-access-key-max-age": "disabled" });
    assert.deepEqual(await pack.analyzeStack(stale), []);
    await pack.configure({ all: "disabled" });
    assert.deepEqual(await pack.analyzeStack(stale), []);
    assert.deepEqual(await pack.analyze({ type: KEY, name: "k", props: {} }), []);
  });

  it("warns 7 days ahead by default, and shrinks the window under a short limit instead of failing", async () => {
    await pack.configure({ "iam-access-key-max-age": { maxAgeDays: 5 } });
    const ds = record(await pack.analyzeStack(stack(key("k4", { createDate: ago(4 * DAY_MS + 60_000) }), key("k0", { createDate: ago(60_000) }))));
    assert.deepEqual(ds.map((d) => [d.policyName, d.urn.split("::").pop()]), [["iam-access-key-expiring", "k4"]]);
    await pack.configure({});
    const week = record(await pack.analyzeStack(stack(key("k22", { createDate: ago(22 * DAY_MS + 60_000) }), key("k23", { createDate: ago(23 * DAY_MS + 60_000) }))));
    assert.deepEqual(week.filter((d) => d.policyName === "iam-access-key-expiring").map((d) => d.urn.split("::").pop()), ["k23"]);
  });

  it("fails the preview with a clear error when warnDays is not below maxAgeDays", async () => {
    await pack.configure({ "iam-access-key-max-age": { maxAgeDays: 10 }, "iam-access-key-expiring": { warnDays: 10 } });
    await assert.rejects(pack.analyzeStack(stack(key("k", { createDate: ago(DAY_MS) }))), (err: Error) => {
      assert.match(err.message, /Error validating resource with policy 'iam-access-key-expiring' from policy pack 'keyage@v\d+\.\d+\.\d+'/);
      assert.match(err.message, /warnDays must be a whole number of days from 0 to 9 \(less than maxAgeDays = 10\), got 10/);
      assertOneLine(err.message);
      return true;
    });
  });

  it("fails Analyze on a malformed allowedUsers with one line naming the policy, no stack trace", async () => {
    // Sent as is, past the schema check the CLI would make, to reach the pack's own validator.
    await pack.sendConfigure({ "iam-access-key-creation": { enforcementLevel: "advisory", properties: { allowedUsers: "bob" } } });
    await assert.rejects(pack.analyze(key("k", {})), (err: Error) => {
      assert.match(err.message, /policy iam-access-key-creation: invalid config: allowedUsers must be a list of IAM user names, got "bob"$/);
      assertOneLine(err.message);
      return true;
    });
  });

  it("warns against the limit set once, on iam-access-key-max-age, and names whose limit it is", async () => {
    await pack.configure({ "iam-access-key-max-age": { maxAgeDays: 90 } });
    const ds = record(await pack.analyzeStack(stack(key("k86", { createDate: ago(86 * DAY_MS) }), key("k91", { createDate: ago(91 * DAY_MS) }))));
    assert.deepEqual(
      ds.map((d) => [d.policyName, d.urn.split("::").pop()]),
      [
        ["iam-access-key-max-age", "k91"],
        ["iam-access-key-expiring", "k86"],
      ],
    );
    assert.match(ds[0]?.message ?? "", /over the 90-day limit; rotate it\. The 90-day limit is iam-access-key-max-age's maxAgeDays\./);
    assert.match(ds[1]?.message ?? "", /is 86 days old and expires within 4 days \(limit 90 days\)\. The 90-day limit is iam-access-key-max-age's maxAgeDays\./);
  });

  it("fails the preview naming both values when the two age policies are given different limits", async () => {
    await pack.configure({ "iam-access-key-max-age": { maxAgeDays: 90 }, "iam-access-key-expiring": { maxAgeDays: 30 } });
    await assert.rejects(pack.analyzeStack(stack(key("k", { createDate: ago(DAY_MS) }))), (err: Error) => {
      assert.match(err.message, /iam-access-key-expiring's maxAgeDays \(30\) differs from iam-access-key-max-age's \(90\)/);
      assertOneLine(err.message);
      return true;
    });
  });

  it("publishes a schema the CLI uses to reject out-of-range values before the pack sees them", async () => {
    await assert.rejects(pack.configure({ "iam-access-key-max-age": { maxAgeDays: 0 } }), /iam-access-key-max-age: maxAgeDays: Must be greater than or equal to 1/);
    await assert.rejects(pack.configure({ "iam-access-key-creation": { allowedUsers: ["not a user"] } }), /allowedUsers\.0: Does not match pattern/);
  });

  it("accepts examples/policy-config.json as the CLI would pass it", async () => {
    const file = JSON.parse(readFileSync(path.join(REPO_ROOT, "examples", "policy-config.json"), "utf8")) as PolicyPackConfigFile;
    const config = await pack.configure(file);
    assert.deepEqual(Object.keys(config).sort(), ["iam-access-key-creation", "iam-access-key-expiring", "iam-access-key-max-age"]);
    const ds = record(await pack.analyzeStack(stack(key("old", { createDate: ago(40 * DAY_MS) }), key("legacy", { createDate: ago(40 * DAY_MS), user: "legacy-batch" }))));
    assert.deepEqual(
      ds.map((d) => d.urn),
      [urnOf(KEY, "old")],
    );
  });

  it("never shows a key's secret in any diagnostic", () => {
    assert.ok(seen.length >= 8, `only ${seen.length} diagnostics were collected`);
    for (const d of seen) for (const s of SECRETS) assert.ok(!d.message.includes(s) && !d.description.includes(s), `${d.policyName} leaked a secret`);
  });
});
