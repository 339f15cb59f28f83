import { strict as assert } from "node:assert";
import fc from "fast-check";
import { configAnnotation, DAY_MS, evaluateKey, evaluateUser, mayBeUnused, ParameterError, validateParams, withReportedUse, type RuleParams } from "../shared";

const NOW = Date.parse("2026-11-29T12:00:00.000Z");
const ago = (ms: number): string => new Date(NOW - ms).toISOString();
/** Age limit 90 (so age never interferes below it), unused limit 45. */
const P: RuleParams = validateParams({ maxAgeDays: 90, maxUnusedDays: 45 });

describe("rule: maxUnusedDays (an active key neither used nor created within N days)", () => {
  describe("boundary table at 45 days (key created 80 days ago, age limit 90)", () => {
    const created = ago(80 * DAY_MS);
    const table: [string, string | null | undefined, string, number | null][] = [
      ["last used exactly 45 d ago is compliant", ago(45 * DAY_MS), "ok", 45],
      ["last used 45 d + 1 ms ago is unused", ago(45 * DAY_MS + 1), "unused", 45],
      ["last used 44 d 23:59:59 ago is compliant", ago(45 * DAY_MS - 1000), "ok", 44],
      ["last used a minute ago is compliant", ago(60_000), "ok", 0],
      ["never used (null), created 80 d ago, is unused: it counts from creation", null, "unused", 80],
      ["use not known (undefined) is never called unused", undefined, "ok", null],
    ];
    for (const [name, lastUsedDate, reason, unusedDays] of table) {
      it(name, () => {
        const v = evaluateKey({ accessKeyId: "AKIAEXAMPLE0000WXYZ", createDate: created, lastUsedDate }, P, NOW);
        assert.equal(v.reason, reason);
        assert.equal(v.compliance, reason === "unused" ? "NON_COMPLIANT" : "COMPLIANT");
        assert.equal(v.unusedDays, unusedDays);
        assert.equal(v.maxUnusedDays, 45);
      });
    }
  });

  describe("never used: the idle time counts from creation", () => {
    for (const [name, age, reason] of [
      ["created exactly 45 d ago, never used: compliant", 45 * DAY_MS, "ok"],
      ["created 45 d + 1 ms ago, never used: unused", 45 * DAY_MS + 1, "unused"],
      ["created yesterday, never used: compliant", DAY_MS, "ok"],
    ] as const) {
      it(name, () => assert.equal(evaluateKey({ slot: 1, createDate: ago(age), lastUsedDate: null }, P, NOW).reason, reason));
    }
  });

  it("is off by default: validateParams leaves it out, and a key idle for years stays compliant", () => {
    const params = validateParams({ maxAgeDays: 3650 });
    assert.equal("maxUnusedDays" in params, false);
    const v = evaluateKey({ slot: 1, createDate: ago(1000 * DAY_MS), lastUsedDate: null }, params, NOW);
    assert.equal(v.reason, "ok");
    assert.equal(v.maxUnusedDays, null);
    assert.equal(v.unusedDays, 1000, "the idle days are still reported");
  });

  it("treats a last use before the creation (impossible data) as no use since creation: the later of the two counts", () => {
    // Used once 400 days ago, created yesterday: a key cannot be used before it exists.
    const v = evaluateKey({ slot: 1, createDate: ago(DAY_MS), lastUsedDate: ago(400 * DAY_MS) }, P, NOW);
    assert.equal(v.reason, "ok");
    assert.equal(v.unusedDays, 1);
    assert.equal(v.unusedSince, ago(DAY_MS));
    // ... and when the creation is itself old, the key is unused, worded as never used since creation.
    const old = evaluateKey({ slot: 1, createDate: ago(60 * DAY_MS), lastUsedDate: ago(400 * DAY_MS) }, P, NOW);
    assert.equal(old.reason, "unused");
    assert.equal(old.message, "Access key 1 has not been used in the 60 days since it was created, over the 45-day unused limit.");
  });

  it("counts a last use it cannot parse as no use at all (fail closed)", () => {
    const v = evaluateKey({ slot: 1, createDate: ago(60 * DAY_MS), lastUsedDate: "yesterday" }, P, NOW);
    assert.equal(v.reason, "unused");
  });

  it("keeps an expired key expired: the age verdict never changes when the unused limit is turned on", () => {
    const v = evaluateKey({ slot: 1, createDate: ago(100 * DAY_MS), lastUsedDate: null }, P, NOW);
    assert.equal(v.reason, "expired");
    assert.equal(v.unusedDays, 100);
  });

  it("leaves inactive keys, keys of unknown age and root keys as they were", () => {
    assert.equal(evaluateKey({ slot: 1, status: "Inactive", createDate: ago(60 * DAY_MS), lastUsedDate: null }, P, NOW).reason, "inactive");
    assert.equal(evaluateKey({ slot: 1, createDate: "N/A", lastUsedDate: null }, P, NOW).reason, "undeterminable");
    assert.equal(evaluateKey({ slot: 1, createDate: ago(60 * DAY_MS), lastUsedDate: null }, P, NOW, true).reason, "root-key");
  });

  it("words the verdict with the last use, the idle days and the limit, and says deactivate or delete (not rotate)", () => {
    const user = evaluateUser({ user: "alice", keys: [{ accessKeyId: "AKIAEXAMPLE0000WXYZ", createDate: ago(80 * DAY_MS), lastUsedDate: "2026-10-01T08:00:00Z" }] }, P, NOW);
    assert.equal(user.compliance, "NON_COMPLIANT");
    assert.equal(user.annotation, "Access key …WXYZ was last used 59 days ago (2026-10-01), over the 45-day unused limit; deactivate or delete it.");
  });

  it("names both kinds when one key is expired and the other unused, and says rotate or delete", () => {
    const user = evaluateUser(
      { user: "bob", keys: [{ slot: 1, createDate: ago(100 * DAY_MS), lastUsedDate: ago(DAY_MS) }, { slot: 2, createDate: ago(50 * DAY_MS), lastUsedDate: null }] },
      P,
      NOW,
    );
    assert.equal(user.annotation, "Access key 1 (100 days) and access key 2 (unused 50 days) are over the 90-day limit or unused for over 45 days; rotate or delete them.");
  });

  it("annotates Config with dates only, the same on every day the key stays unused", () => {
    const P = validateParams({ maxAgeDays: 365, maxUnusedDays: 45 });
    const key = { slot: 1 as const, createDate: "2026-08-01T10:00:00Z", lastUsedDate: "2026-09-15T10:00:00Z" };
    const texts = [0, 1, 7].map((d) => {
      const at = NOW + d * DAY_MS;
      return configAnnotation(evaluateUser({ user: "carol", keys: [key] }, P, at), P, at);
    });
    assert.deepEqual(new Set(texts).size, 1);
    assert.equal(texts[0], "Access key created 2026-08-01, last used 2026-09-15, passed the 45-day unused limit on 2026-10-30; deactivate or delete it.");
    const never = configAnnotation(evaluateUser({ user: "carol", keys: [{ ...key, lastUsedDate: null }] }, P, NOW), P, NOW);
    assert.equal(never, "Access key created 2026-08-01, not used since, passed the 45-day unused limit on 2026-09-15; deactivate or delete it.");
  });

  it("gives the same Config annotation from a credential report slot and from a listed key with its last use", () => {
    const P = validateParams({ maxAgeDays: 365, maxUnusedDays: 45 });
    const fromReport = evaluateUser({ user: "d", keys: [withReportedUse({ slot: 1 as const, createDate: "2026-08-01T10:00:00+00:00" })] }, P, NOW);
    const fromIam = evaluateUser({ user: "d", keys: [{ accessKeyId: "AKIAEXAMPLE0000WXYZ", createDate: new Date("2026-08-01T10:00:00Z"), lastUsedDate: null }] }, P, NOW);
    assert.equal(configAnnotation(fromReport, P, NOW), configAnnotation(fromIam, P, NOW));
  });

  it("property: a key is unused exactly when it is active, not expired, and idle strictly longer than the limit", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 * DAY_MS }), fc.option(fc.integer({ min: 0, max: 200 * DAY_MS }), { nil: null }), fc.integer({ min: 1, max: 120 }), (age, usedAgo, limit) => {
        const params = validateParams({ maxAgeDays: 100, maxUnusedDays: limit });
        const v = evaluateKey({ slot: 1, createDate: ago(age), lastUsedDate: usedAgo === null ? null : ago(usedAgo) }, params, NOW);
        const idle = usedAgo === null ? age : Math.min(age, usedAgo);
        const expected = age > 100 * DAY_MS ? "expired" : idle > limit * DAY_MS ? "unused" : undefined;
        if (expected) assert.equal(v.reason, expected);
        else assert.ok(v.reason === "ok" || v.reason === "expiring", v.reason);
      }),
    );
  });
});

describe("rule: mayBeUnused (which keys are worth a GetAccessKeyLastUsed)", () => {
  const table: [string, Parameters<typeof mayBeUnused>[0], boolean][] = [
    ["an old key of unknown use", { accessKeyId: "AKIAX", createDate: ago(60 * DAY_MS) }, true],
    ["an old key the report says was never used", { slot: 1, createDate: ago(60 * DAY_MS), lastUsedDate: null }, true],
    ["an old key the report shows used 50 days ago", { slot: 1, createDate: ago(60 * DAY_MS), lastUsedDate: ago(50 * DAY_MS) }, true],
    ["a key known to be used yesterday: no answer can make it unused", { slot: 1, createDate: ago(60 * DAY_MS), lastUsedDate: ago(DAY_MS) }, false],
    ["a key created within the limit", { accessKeyId: "AKIAX", createDate: ago(45 * DAY_MS) }, false],
    ["an expired key (it stays expired)", { accessKeyId: "AKIAX", createDate: ago(100 * DAY_MS) }, false],
    ["an inactive key", { accessKeyId: "AKIAX", createDate: ago(60 * DAY_MS), status: "Inactive" }, false],
  ];
  for (const [name, key, expected] of table) it(`${expected ? "asks" : "does not ask"} for ${name}`, () => assert.equal(mayBeUnused(key, P, NOW), expected));

  it("never asks with maxUnusedDays off", () => {
    assert.equal(mayBeUnused({ accessKeyId: "AKIAX", createDate: ago(60 * DAY_MS) }, validateParams({ maxAgeDays: 90 }), NOW), false);
  });
});

describe("params: maxUnusedDays", () => {
  for (const bad of [0, 3651, "45.5", "abc", -1]) {
    it(`refuses ${JSON.stringify(bad)}, naming the parameter as the caller spells it and the range`, () => {
      assert.throws(
        () => validateParams({ maxUnusedDays: bad }, { maxUnusedDays: "--max-unused-days" }),
        (err: unknown) => err instanceof ParameterError && /^--max-unused-days must be a whole number of days from 1 to 3650, got /.test(err.message),
      );
    });
  }
  it("accepts 1, \"45\" and 3650", () => {
    assert.deepEqual([1, "45", 3650].map((v) => validateParams({ maxUnusedDays: v }).maxUnusedDays), [1, 45, 3650]);
  });
});
