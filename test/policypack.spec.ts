// Unit tests of the pack's validate functions, called the way @pulumi/policy's server calls them
// (properties behind its unknown-checking proxy, secrets already unwrapped), with a fixed clock so the
// exact 30-day boundary can be hit. The gRPC spec (policypack-grpc.spec.ts) drives the real process.
import { strict as assert } from "node:assert";
import * as policySdk from "@pulumi/policy";
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { DAY_MS, DEFAULT_MAX_AGE_DAYS, DEFAULT_WARN_DAYS, MAX_MAX_AGE_DAYS, MIN_MAX_AGE_DAYS } from "../shared";
import { ACCESS_KEY_TYPE } from "../policypack/access-key";
import { PolicyConfigError } from "../policypack/config";
import { CREATION_POLICY, EXPIRING_POLICY, MAX_AGE_POLICY, createPolicies, keyagePolicies } from "../policypack/policies";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRETzz";

// @pulumi/policy exports the proxy at run time; its .d.ts strips it (@internal).
const { unknownCheckingProxy } = policySdk as unknown as { unknownCheckingProxy: <T extends object>(o: T) => T };

const [maxAge, expiring, creation] = createPolicies({ now: () => NOW }) as [StackValidationPolicy, StackValidationPolicy, ResourceValidationPolicy];

function iso(msBeforeNow: number): string {
  return new Date(NOW - msBeforeNow).toISOString();
}

interface Key {
  name: string;
  props: Record<string, unknown>;
  urn?: string;
  type?: string;
}

function urn(name: string, parents = ""): string {
  return `urn:pulumi:dev::app::${parents}${ACCESS_KEY_TYPE}::${name}`;
}

function resource(k: Key): PolicyResource {
  return {
    type: k.type ?? ACCESS_KEY_TYPE,
    name: k.name,
    urn: k.urn ?? urn(k.name),
    props: unknownCheckingProxy(k.props),
    opts: { protect: false, ignoreChanges: [], aliases: [], additionalSecretOutputs: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 } },
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
  };
}

interface Violation {
  message: string;
  urn: string | undefined;
}

/** Runs a stack policy over `keys` with `config` (the CLI has already filled the schema defaults). */
async function runStack(policy: StackValidationPolicy, keys: Key[], config: Record<string, unknown> = {}): Promise<Violation[]> {
  const out: Violation[] = [];
  const defaults = Object.fromEntries(Object.entries(policy.configSchema?.properties ?? {}).map(([k, s]) => [k, (s as { default?: unknown }).default]));
  await policy.validateStack(
    {
      resources: keys.map(resource),
      getConfig: <T extends object>() => ({ ...defaults, ...config }) as T,
      stackTags: new Map(),
      notApplicable: (reason?: string): never => {
        throw new Error(`not applicable: ${reason}`);
      },
    },
    (message: string, u?: string) => out.push({ message, urn: u }),
  );
  return out;
}

async function runResource(props: Record<string, unknown>, config: Record<string, unknown> = {}, name = "ci-key"): Promise<Violation[]> {
  const out: Violation[] = [];
  const validate = creation.validateResource;
  assert.ok(typeof validate === "function");
  const args = {
    type: ACCESS_KEY_TYPE,
    name,
    urn: urn(name),
    props: unknownCheckingProxy(props),
    getConfig: <T extends object>() => ({ allowedUsers: [], ...config }) as T,
  } as unknown as ResourceValidationArgs;
  await validate(args, (message: string, u?: string) => out.push({ message, urn: u }));
  return out;
}

describe("policy pack: iam-access-key-max-age", () => {
  const cases: [string, number, boolean][] = [
    ["29 days 23:59:59", 30 * DAY_MS - 1000, false],
    ["exactly 30 days", 30 * DAY_MS, false],
    ["30 days and 1 ms", 30 * DAY_MS + 1, true],
    ["45 days", 45 * DAY_MS, true],
  ];
  for (const [label, age, violates] of cases) {
    it(`${violates ? "reports" : "accepts"} an active key ${label} old`, async () => {
      const v = await runStack(maxAge, [{ name: "deploy", props: { user: "ci", createDate: iso(age), status: "Active" } }]);
      assert.equal(v.length, violates ? 1 : 0, JSON.stringify(v));
    });
  }

  it("names the resource, its age, the limit and both ways to rotate, on the key's URN", async () => {
    const [v] = await runStack(maxAge, [{ name: "deploy", props: { user: "ci", createDate: iso(45 * DAY_MS) } }]);
    assert.ok(v);
    assert.equal(v.urn, urn("deploy"));
    assert.match(v.message, /^Access key "deploy" is 45 days old, over the 30-day limit; rotate it\./);
    assert.ok(v.message.includes(`pulumi up --replace '${urn("deploy")}'`), v.message);
    assert.match(v.message, /declare it as keyage\/pulumi's RotatingAccessKey instead of aws\.iam\.AccessKey\.$/);
  });

  it("treats a key with no status as active", async () => {
    assert.equal((await runStack(maxAge, [{ name: "k", props: { createDate: iso(31 * DAY_MS) } }])).length, 1);
  });

  it("ignores an inactive key, whatever its age", async () => {
    assert.deepEqual(await runStack(maxAge, [{ name: "k", props: { createDate: iso(400 * DAY_MS), status: "Inactive" } }]), []);
  });

  it("accepts a createDate in the future (clock skew) as age 0", async () => {
    assert.deepEqual(await runStack(maxAge, [{ name: "k", props: { createDate: iso(-DAY_MS) } }]), []);
  });

  it("reports a malformed createDate as a key whose age cannot be determined", async () => {
    const [v] = await runStack(maxAge, [{ name: "k", props: { createDate: "last tuesday" } }]);
    assert.match(v?.message ?? "", /The age of access key "k" cannot be determined \(createDate "last tuesday"\); limit 30 days/);
  });

  it("skips a key being created in this preview (unknown createDate) and still checks the others", async () => {
    const v = await runStack(maxAge, [
      { name: "new", props: { user: UNKNOWN, createDate: UNKNOWN, secret: UNKNOWN } },
      { name: "old", props: { user: "ci", createDate: iso(40 * DAY_MS) } },
    ]);
    assert.deepEqual(
      v.map((x) => x.urn),
      [urn("old")],
    );
  });

  it("treats an unknown status as active rather than letting an old key through", async () => {
    assert.equal((await runStack(maxAge, [{ name: "k", props: { createDate: iso(40 * DAY_MS), status: UNKNOWN } }])).length, 1);
  });

  it("finds keys declared inside components", async () => {
    const inside = urn("k", "acme:index:CiUser$");
    const v = await runStack(maxAge, [{ name: "k", urn: inside, props: { createDate: iso(40 * DAY_MS) } }]);
    assert.deepEqual(
      v.map((x) => x.urn),
      [inside],
    );
  });

  it("ignores resources of other types", async () => {
    assert.deepEqual(await runStack(maxAge, [{ name: "b", type: "aws:s3/bucket:Bucket", props: { createDate: iso(400 * DAY_MS) } }]), []);
  });

  it("never puts the key's secrets or its (possibly secret) user name in a message", async () => {
    const v = await runStack(maxAge, [
      {
        name: "k",
        props: {
          user: "svc-payments-7f3a",
          createDate: iso(40 * DAY_MS),
          secret: SECRET,
          sesSmtpPasswordV4: `${SECRET}smtp`,
          encryptedSecret: `${SECRET}enc`,
          encryptedSesSmtpPasswordV4: `${SECRET}encsmtp`,
        },
      },
    ]);
    assert.equal(v.length, 1);
    assert.ok(!v[0]?.message.includes(SECRET.slice(0, 12)), v[0]?.message);
    assert.ok(!v[0]?.message.includes("svc-payments-7f3a"), v[0]?.message);
  });

  it("uses maxAgeDays from the config", async () => {
    const keys = [{ name: "k", props: { createDate: iso(45 * DAY_MS) } }];
    assert.deepEqual(await runStack(maxAge, keys, { maxAgeDays: 90 }), []);
    const [v] = await runStack(maxAge, keys, { maxAgeDays: 44 });
    assert.match(v?.message ?? "", /45 days old, over the 44-day limit/);
  });

  it("skips keys of exempt users, matching the name without regard to case", async () => {
    const keys = [{ name: "k", props: { user: "Legacy-Batch", createDate: iso(200 * DAY_MS) } }];
    assert.deepEqual(await runStack(maxAge, keys, { exemptions: ["legacy-batch"] }), []);
    assert.deepEqual(await runStack(maxAge, keys, { exemptions: [{ user: "LEGACY-BATCH", until: "2026-06-30" }] }), []);
  });

  it("reports a key again once its user's exemption has ended, and says so", async () => {
    const [v] = await runStack(maxAge, [{ name: "k", props: { user: "legacy", createDate: iso(200 * DAY_MS) } }], { exemptions: ["legacy:2026-05-31"] });
    assert.match(v?.message ?? "", /Exemption ended 2026-05-31/);
  });

  it("cannot match an exemption when the user name is unknown, so the key is still checked", async () => {
    const v = await runStack(maxAge, [{ name: "k", props: { user: UNKNOWN, createDate: iso(40 * DAY_MS) } }], { exemptions: ["legacy"] });
    assert.equal(v.length, 1);
  });

  it("rejects an exemption that is not a user name with an error naming the policy", async () => {
    await assert.rejects(runStack(maxAge, [{ name: "k", props: { createDate: iso(1) } }], { exemptions: ["bad name!"] }), (err: Error) => {
      assert.ok(err instanceof PolicyConfigError);
      assert.match(err.message, /^policy iam-access-key-max-age: invalid config: exemptions: "bad name!" is not an IAM user name/);
      return true;
    });
  });
});

describe("policy pack: iam-access-key-expiring", () => {
  it("warns about an active key within warnDays of the limit, naming the days left", async () => {
    const [v, ...rest] = await runStack(expiring, [
      { name: "soon", props: { createDate: iso(25 * DAY_MS) } },
      { name: "fresh", props: { createDate: iso(22 * DAY_MS) } },
    ]);
    assert.deepEqual(rest, []);
    assert.equal(v?.urn, urn("soon"));
    assert.match(v?.message ?? "", /^Access key "soon" is 25 days old and expires within 5 days \(limit 30 days\)\. The 30-day limit is the pack's default maxAgeDays\. Rotate it before then/);
  });

  it("leaves expired keys to iam-access-key-max-age", async () => {
    assert.deepEqual(await runStack(expiring, [{ name: "old", props: { createDate: iso(31 * DAY_MS) } }]), []);
  });

  it("uses warnDays and maxAgeDays from the config", async () => {
    const keys = [{ name: "k", props: { createDate: iso(70 * DAY_MS) } }];
    assert.deepEqual(await runStack(expiring, keys), []);
    assert.equal((await runStack(expiring, keys, { maxAgeDays: 90, warnDays: 21 })).length, 1);
  });

  it("does not warn about exempt users' keys", async () => {
    assert.deepEqual(await runStack(expiring, [{ name: "k", props: { user: "legacy", createDate: iso(25 * DAY_MS) } }], { exemptions: ["legacy"] }), []);
  });

  it("rejects warnDays not below maxAgeDays, naming the value and the range", async () => {
    await assert.rejects(runStack(expiring, [{ name: "k", props: { createDate: iso(1) } }], { maxAgeDays: 30, warnDays: 30 }), /^PolicyConfigError: policy iam-access-key-expiring: invalid config: warnDays must be a whole number of days from 0 to 29 \(less than maxAgeDays = 30\), got 30$/);
  });
});

describe("policy pack: iam-access-key-creation", () => {
  it("recommends roles, OIDC or Pulumi ESC for a declared user access key", async () => {
    const [v, ...rest] = await runResource({ user: "ci" });
    assert.deepEqual(rest, []);
    assert.equal(v?.urn, urn("ci-key"));
    assert.match(v?.message ?? "", /^Access key "ci-key" gives an IAM user a long-lived credential\. Prefer a role/);
    assert.match(v?.message ?? "", /OIDC/);
    assert.match(v?.message ?? "", /fn::rotate::aws-iam/);
    assert.match(v?.message ?? "", /allowedUsers/);
  });

  it("exempts keys of allowedUsers, matching without regard to case", async () => {
    assert.deepEqual(await runResource({ user: "Legacy" }, { allowedUsers: ["legacy"] }), []);
    assert.equal((await runResource({ user: "other" }, { allowedUsers: ["legacy"] })).length, 1);
  });

  it("says allowedUsers could not be checked when the user name is unknown in preview", async () => {
    const [v] = await runResource({ user: UNKNOWN }, { allowedUsers: ["legacy"] });
    assert.match(v?.message ?? "", /Its user name is not known until the deployment, so allowedUsers could not be checked\.$/);
  });

  it("does not flag a key declared inactive", async () => {
    assert.deepEqual(await runResource({ user: "ci", status: "Inactive" }), []);
  });

  it("rejects an allowedUsers entry that is not a user name", async () => {
    await assert.rejects(runResource({ user: "ci" }, { allowedUsers: ["a b"] }), /policy iam-access-key-creation: invalid config: allowedUsers: "a b" is not an IAM user name/);
  });
});

describe("policy pack: metadata", () => {
  it("declares the contract's policies, levels and types", () => {
    assert.deepEqual(
      [maxAge, expiring, creation].map((p) => [p.name, p.enforcementLevel]),
      [
        [MAX_AGE_POLICY, "mandatory"],
        [EXPIRING_POLICY, "advisory"],
        [CREATION_POLICY, "advisory"],
      ],
    );
  });

  it("gives every policy a description, remediation steps, severity, URL and a described config schema", () => {
    for (const p of [maxAge, expiring, creation]) {
      assert.ok(p.description && p.remediationSteps && p.severity && p.url?.startsWith("https://"), p.name);
      const props = p.configSchema?.properties ?? {};
      assert.ok(Object.keys(props).length > 0, p.name);
      for (const [k, s] of Object.entries(props)) {
        // The expiring policy's settings have no default: maxAgeDays and exemptions follow the max-age
        // policy's, and warnDays' default depends on maxAgeDays (the rule module supplies it).
        const follows = p.name === EXPIRING_POLICY;
        assert.ok(typeof s === "object" && ("default" in s || follows) && s.description, `${p.name}.${k}`);
      }
    }
  });

  it("takes the schema's bounds and defaults from the shared constants, and leaves the limit to iam-access-key-max-age", () => {
    const own = maxAge.configSchema?.properties ?? {};
    assert.deepEqual(own.maxAgeDays, { ...(own.maxAgeDays as object), minimum: MIN_MAX_AGE_DAYS, maximum: MAX_MAX_AGE_DAYS, default: DEFAULT_MAX_AGE_DAYS });
    const props = expiring.configSchema?.properties ?? {};
    assert.equal((props.maxAgeDays as { default?: number }).default, undefined);
    assert.match((props.maxAgeDays as { description: string }).description, /^Leave unset: the limit is iam-access-key-max-age's maxAgeDays/);
    assert.equal((props.exemptions as { default?: unknown }).default, undefined);
    assert.equal((props.warnDays as { default?: number }).default, undefined);
    assert.match((props.warnDays as { description: string }).description, new RegExp(`default ${DEFAULT_WARN_DAYS} \\(or maxAgeDays-1 when smaller\\)`));
  });
});

describe("policy pack: one limit for both age policies", () => {
  // The two stack policies as @pulumi/policy's server runs them in one AnalyzeStack request: each with
  // its own config, one after the other in the pack's order.
  async function analyzeStack(keys: Key[], config: { maxAge?: Record<string, unknown>; expiring?: Record<string, unknown> }, policies = createPolicies({ now: () => NOW })) {
    const [m, e] = policies;
    return { maxAge: await runStack(m, keys, config.maxAge), expiring: await runStack(e, keys, config.expiring) };
  }
  const k85 = [{ name: "k85", props: { createDate: iso(85 * DAY_MS) } }];

  it("warns against the limit set only on iam-access-key-max-age, and says whose limit it is", async () => {
    const { maxAge: blocked, expiring: warned } = await analyzeStack(k85, { maxAge: { maxAgeDays: 90 } });
    assert.deepEqual(blocked, []);
    assert.match(warned[0]?.message ?? "", /^Access key "k85" is 85 days old and expires within 5 days \(limit 90 days\)\. The 90-day limit is iam-access-key-max-age's maxAgeDays\./);
  });

  it("accepts the same limit repeated on iam-access-key-expiring, as older config files do", async () => {
    const { expiring: warned } = await analyzeStack(k85, { maxAge: { maxAgeDays: 90 }, expiring: { maxAgeDays: "90", warnDays: 7 } });
    assert.equal(warned.length, 1);
  });

  it("refuses two different limits with an error naming both values", async () => {
    await assert.rejects(analyzeStack(k85, { maxAge: { maxAgeDays: 90 }, expiring: { maxAgeDays: 30 } }), (err: Error) => {
      assert.ok(err instanceof PolicyConfigError);
      assert.equal(
        err.message,
        "policy iam-access-key-expiring: invalid config: iam-access-key-expiring's maxAgeDays (30) differs from iam-access-key-max-age's (90): " +
          "set maxAgeDays once, under iam-access-key-max-age (iam-access-key-expiring follows it), or give both the same value",
      );
      return true;
    });
  });

  it("refuses a limit set only on iam-access-key-expiring, since iam-access-key-max-age still enforces its default (as keyage audit --policy-config does)", async () => {
    await assert.rejects(analyzeStack(k85, { expiring: { maxAgeDays: 60 } }), /iam-access-key-expiring's maxAgeDays \(60\) differs from iam-access-key-max-age's \(30\)/);
  });

  it("uses its own limit, and says so, when iam-access-key-max-age did not run (disabled)", async () => {
    const [, e] = createPolicies({ now: () => NOW });
    const [v] = await runStack(e, k85, { maxAgeDays: 90 });
    assert.match(v?.message ?? "", /\(limit 90 days\)\. The 90-day limit is iam-access-key-expiring's maxAgeDays\./);
  });

  it("skips the users iam-access-key-max-age exempts unless it lists its own", async () => {
    const legacy = [{ name: "k", props: { user: "legacy", createDate: iso(25 * DAY_MS) } }];
    assert.deepEqual((await analyzeStack(legacy, { maxAge: { exemptions: ["legacy"] } })).expiring, []);
    assert.equal((await analyzeStack(legacy, { maxAge: { exemptions: ["legacy"] }, expiring: { exemptions: ["someone-else"] } })).expiring.length, 1);
  });
});

describe("policy pack: keyagePolicies, the factory for a team's own pack", () => {
  it("takes one maxAgeDays for both age policies, as their schema default", async () => {
    const [m, e] = keyagePolicies({ maxAgeDays: 90, warnDays: 14, now: () => NOW });
    assert.equal((m.configSchema?.properties.maxAgeDays as { default?: number }).default, 90);
    assert.equal((e.configSchema?.properties.warnDays as { default?: number }).default, 14);
    const keys = [{ name: "k80", props: { createDate: iso(80 * DAY_MS) } }, { name: "k95", props: { createDate: iso(95 * DAY_MS) } }];
    const blocked = await runStack(m, keys);
    const warned = await runStack(e, keys);
    assert.deepEqual(blocked.map((v) => v.urn), [urn("k95")]);
    assert.match(blocked[0]?.message ?? "", /over the 90-day limit; rotate it\. The 90-day limit is iam-access-key-max-age's maxAgeDays\./);
    assert.deepEqual(warned.map((v) => v.urn), [urn("k80")]);
    assert.match(warned[0]?.message ?? "", /expires within 10 days \(limit 90 days\)\. The 90-day limit is iam-access-key-max-age's maxAgeDays\./);
  });

  it("sets one level for every policy, or a level per policy", () => {
    assert.deepEqual(keyagePolicies({ enforcementLevel: "advisory" }).map((p) => p.enforcementLevel), ["advisory", "advisory", "advisory"]);
    assert.deepEqual(keyagePolicies({ enforcementLevel: { [EXPIRING_POLICY]: "mandatory" } }).map((p) => p.enforcementLevel), ["mandatory", "mandatory", "advisory"]);
  });

  it("passes its exemptions and allowedUsers on as defaults", async () => {
    const [m, , c] = keyagePolicies({ exemptions: ["legacy:2099-12-31"], allowedUsers: ["legacy"], now: () => NOW });
    assert.deepEqual(await runStack(m, [{ name: "k", props: { user: "legacy", createDate: iso(400 * DAY_MS) } }]), []);
    assert.deepEqual(c.configSchema?.properties.allowedUsers && (c.configSchema.properties.allowedUsers as { default?: unknown }).default, ["legacy"]);
  });

  it("rejects an option out of range where the pack is built, naming it and the range", () => {
    assert.throws(() => keyagePolicies({ maxAgeDays: 0 }), /^ParameterError: maxAgeDays must be a whole number of days from 1 to 3650, got 0$/);
    assert.throws(() => keyagePolicies({ maxAgeDays: 10, warnDays: 10 }), /warnDays must be a whole number of days from 0 to 9 \(less than maxAgeDays = 10\), got 10/);
    assert.throws(() => keyagePolicies({ allowedUsers: ["not a user"] }), /^PolicyConfigError: policy iam-access-key-creation: invalid config: allowedUsers: "not a user" is not an IAM user name/);
  });
});
