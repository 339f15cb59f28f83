import { strict as assert } from "node:assert";
import fc from "fast-check";
import { DAY_MS, evaluateKey, evaluateUser, parseTimestamp, truncate, validateParams, type AccessKey, type RuleParams } from "../shared";

const NOW = Date.parse("2026-11-29T12:00:00.000Z");
const P30: RuleParams = validateParams({});
const ago = (ms: number): string => new Date(NOW - ms).toISOString();

describe("rule: evaluateKey", () => {
  describe("at the 30-day boundary (an active key with the default limit)", () => {
    const table: [string, number, string, number | null][] = [
      ["29 d 23:59:59 old is compliant and expiring", 30 * DAY_MS - 1000, "expiring", 29],
      ["exactly 30 d old is still compliant", 30 * DAY_MS, "expiring", 30],
      ["30 d + 1 ms old is expired", 30 * DAY_MS + 1, "expired", 30],
      ["31 d old is expired", 31 * DAY_MS, "expired", 31],
      ["23 d old is not yet expiring (7-day window)", 23 * DAY_MS, "ok", 23],
      ["23 d + 1 ms old is expiring", 23 * DAY_MS + 1, "expiring", 23],
      ["0 ms old is fine", 0, "ok", 0],
    ];
    for (const [name, age, reason, ageDays] of table) {
      it(name, () => {
        const v = evaluateKey({ accessKeyId: "AKIAEXAMPLE0000WXYZ", createDate: ago(age) }, P30, NOW);
        assert.equal(v.reason, reason);
        assert.equal(v.compliance, reason === "expired" ? "NON_COMPLIANT" : "COMPLIANT");
        assert.equal(v.ageDays, ageDays);
      });
    }
  });

  it("counts a createDate in the future as age 0, compliant", () => {
    const v = evaluateKey({ createDate: new Date(NOW + 5 * DAY_MS).toISOString() }, P30, NOW);
    assert.equal(v.compliance, "COMPLIANT");
    assert.equal(v.ageDays, 0);
    assert.equal(v.reason, "ok");
  });

  for (const bad of ["not a date", "2026-02-30T00:00:00Z", "1", "2026-11-01", "2026-11-01T10:00:00", "", "N/A"]) {
    it(`treats an active key with createDate ${JSON.stringify(bad)} as a violation, never compliant`, () => {
      const v = evaluateKey({ slot: 1, createDate: bad }, P30, NOW);
      assert.equal(v.compliance, "NON_COMPLIANT");
      assert.equal(v.reason, "undeterminable");
      assert.equal(v.ageDays, null);
      assert.match(v.message, /^The age of access key 1 cannot be determined/);
      assert.match(v.message, /limit 30 days/);
    });
  }

  it("treats an active key with no createDate at all as a violation", () => {
    const v = evaluateKey({ accessKeyId: "AKIA0000000000001234" }, P30, NOW);
    assert.equal(v.compliance, "NON_COMPLIANT");
    assert.match(v.message, /access key …1234 cannot be determined \(createDate none\)/);
  });

  it("does not count an inactive key, however old", () => {
    const v = evaluateKey({ slot: 2, status: "Inactive", createDate: ago(900 * DAY_MS) }, P30, NOW);
    assert.equal(v.compliance, "NOT_APPLICABLE");
    assert.equal(v.reason, "inactive");
    assert.equal(v.ageDays, 900);
    assert.equal(v.message, "Access key 2 is inactive, 900 days old; only active keys count.");
  });

  it("treats an absent or empty status as Active, and matches Active without regard to case", () => {
    for (const status of [undefined, "", "Active", "ACTIVE", "active"]) {
      const key: AccessKey = status === undefined ? { createDate: ago(40 * DAY_MS) } : { status, createDate: ago(40 * DAY_MS) };
      assert.equal(evaluateKey(key, P30, NOW).compliance, "NON_COMPLIANT", `status ${String(status)}`);
    }
  });

  describe("status: only Inactive (any case) makes a key inactive; anything else fails closed to Active", () => {
    const table: [string, string | undefined, boolean][] = [
      ["Inactive", "Inactive", false],
      ["INACTIVE", "INACTIVE", false],
      ["inactive", "inactive", false],
      ["Active", "Active", true],
      ["absent", undefined, true],
      ["empty", "", true],
      ["an unrecognised placeholder N/A", "N/A", true],
      ["an unknown value Pending", "Pending", true],
      ["Inactive with a stray blank", " Inactive", true],
      ["Disabled (not IAM's word)", "Disabled", true],
    ];
    for (const [name, status, counts] of table) {
      it(`${counts ? "counts" : "does not count"} a 40-day-old key whose status is ${name}`, () => {
        const key: AccessKey = status === undefined ? { slot: 1, createDate: ago(40 * DAY_MS) } : { slot: 1, status, createDate: ago(40 * DAY_MS) };
        const v = evaluateKey(key, P30, NOW);
        assert.equal(v.active, counts);
        assert.equal(v.reason, counts ? "expired" : "inactive");
        assert.equal(v.compliance, counts ? "NON_COMPLIANT" : "NOT_APPLICABLE");
      });
    }
  });

  it("applies a custom limit: 90 days (CIS) and 1 day", () => {
    const p90 = validateParams({ maxAgeDays: 90 });
    assert.equal(evaluateKey({ createDate: ago(90 * DAY_MS) }, p90, NOW).compliance, "COMPLIANT");
    assert.equal(evaluateKey({ createDate: ago(90 * DAY_MS + 1) }, p90, NOW).compliance, "NON_COMPLIANT");
    const p1 = validateParams({ maxAgeDays: 1 });
    assert.equal(p1.warnDays, 0);
    assert.equal(evaluateKey({ createDate: ago(DAY_MS) }, p1, NOW).reason, "ok");
    assert.equal(evaluateKey({ createDate: ago(DAY_MS + 1) }, p1, NOW).reason, "expired");
  });

  it("names the key by its last four id characters, its age and the limit", () => {
    const v = evaluateKey({ accessKeyId: "AKIAIOSFODNN7EXAMPLE", createDate: ago(45 * DAY_MS) }, P30, NOW);
    assert.equal(v.message, "Access key …MPLE is 45 days old, over the 30-day limit.");
    assert.ok(!v.message.includes("AKIAIOSFODNN7EXAMPLE"));
  });

  it("prefers a caller-given name, e.g. a Pulumi resource name", () => {
    const v = evaluateKey({ name: "ci-key", accessKeyId: "AKIAIOSFODNN7EXAMPLE", createDate: ago(45 * DAY_MS) }, P30, NOW);
    assert.equal(v.label, 'access key "ci-key"');
    assert.equal(v.message, 'Access key "ci-key" is 45 days old, over the 30-day limit.');
  });

  it("reports whole days left before expiry, and 0 once expired", () => {
    assert.equal(evaluateKey({ createDate: ago(26 * DAY_MS) }, P30, NOW).daysLeft, 4);
    assert.equal(evaluateKey({ createDate: ago(26 * DAY_MS + 1) }, P30, NOW).daysLeft, 4);
    assert.equal(evaluateKey({ createDate: ago(40 * DAY_MS) }, P30, NOW).daysLeft, 0);
  });

  it("keeps its message and annotation when copied or serialized", () => {
    const v = evaluateKey({ slot: 1, createDate: ago(45 * DAY_MS) }, P30, NOW);
    const u = evaluateUser({ user: "bob", keys: [{ slot: 1, createDate: ago(45 * DAY_MS) }] }, P30, NOW);
    assert.equal(JSON.parse(JSON.stringify(v)).message, "Access key 1 is 45 days old, over the 30-day limit.");
    assert.equal({ ...v }.message, v.message);
    assert.equal(JSON.parse(JSON.stringify(u)).annotation, "Access key 1 is 45 days old, over the 30-day limit; rotate it.");
  });

  it("accepts a Date createDate, as the AWS SDK returns it", () => {
    const v = evaluateKey({ createDate: new Date(NOW - 31 * DAY_MS) }, P30, NOW);
    assert.equal(v.reason, "expired");
    assert.equal(v.createDate, new Date(NOW - 31 * DAY_MS).toISOString());
  });
});

describe("rule: evaluateUser", () => {
  const key = (days: number, extra: Partial<AccessKey> = {}): AccessKey => ({ createDate: ago(days * DAY_MS), ...extra });

  it("finds a user with no keys compliant", () => {
    const v = evaluateUser({ user: "dave", keys: [] }, P30, NOW);
    assert.equal(v.compliance, "COMPLIANT");
    assert.equal(v.annotation, "No active access keys.");
  });

  it("finds a user with only an inactive old key compliant", () => {
    const v = evaluateUser({ user: "carol", keys: [key(400, { status: "Inactive", slot: 1 })] }, P30, NOW);
    assert.equal(v.compliance, "COMPLIANT");
    assert.equal(v.annotation, "No active access keys.");
  });

  it("finds a user with one fresh key compliant and names the oldest age", () => {
    const v = evaluateUser({ user: "alice", keys: [key(12, { slot: 1 })] }, P30, NOW);
    assert.equal(v.compliance, "COMPLIANT");
    assert.equal(v.annotation, "All active keys within the 30-day limit (oldest 12 days).");
  });

  it("finds a user non-compliant when one of two active keys is expired", () => {
    const v = evaluateUser({ user: "ci", keys: [key(151, { slot: 1 }), key(9, { slot: 2 })] }, P30, NOW);
    assert.equal(v.compliance, "NON_COMPLIANT");
    assert.equal(v.violations.length, 1);
    assert.equal(v.annotation, "Access key 1 is 151 days old, over the 30-day limit; rotate it.");
  });

  it("names every violating key when both are", () => {
    const v = evaluateUser({ user: "ci", keys: [key(151, { accessKeyId: "AKIA00000000000AAAA" }), { slot: 2, createDate: "garbage" }] }, P30, NOW);
    assert.equal(v.compliance, "NON_COMPLIANT");
    assert.equal(v.annotation, "Access key …AAAA (151 days) and access key 2 (age unknown) are over the 30-day limit or of unknown age; rotate them.");
  });

  it("warns about a key close to the limit while staying compliant", () => {
    const v = evaluateUser({ user: "erin", keys: [key(26, { slot: 1 })] }, P30, NOW);
    assert.equal(v.compliance, "COMPLIANT");
    assert.equal(v.expiring.length, 1);
    assert.equal(v.annotation, "Within the 30-day limit, but access key 1 (26 days) is close to it: it expires within 4 days.");
  });

  it("makes an exempt user compliant while the exemption holds, and says so", () => {
    const params = validateParams({ exemptions: ["Legacy:2026-11-29"] });
    const v = evaluateUser({ user: "legacy", keys: [key(45, { slot: 1 })] }, params, NOW);
    assert.equal(v.compliance, "COMPLIANT");
    assert.equal(v.exemption?.user, "Legacy");
    assert.equal(v.annotation, "Exempt until 2026-11-29: Access key 1 is 45 days old, over the 30-day limit.");
  });

  it("stops honouring an exemption after its end date and says it ended", () => {
    const params = validateParams({ exemptions: ["legacy:2026-11-28"] });
    const v = evaluateUser({ user: "legacy", keys: [key(45, { slot: 1 })] }, params, NOW);
    assert.equal(v.compliance, "NON_COMPLIANT");
    assert.equal(v.annotation, "Access key 1 is 45 days old, over the 30-day limit; rotate it. Exemption ended 2026-11-28.");
  });

  it("keeps every annotation within 256 characters, however many long names", () => {
    const keys = [key(99, { name: "x".repeat(200) }), key(98, { name: "y".repeat(200) })];
    const v = evaluateUser({ user: "u", keys }, P30, NOW);
    assert.ok(v.annotation.length <= 256, `length ${v.annotation.length}`);
    assert.ok(v.annotation.endsWith(" [truncated]"));
  });
});

describe("rule: the root user (CIS 1.4, Security Hub IAM.4)", () => {
  const key = (days: number, extra: Partial<AccessKey> = {}): AccessKey => ({ slot: 1, createDate: ago(days * DAY_MS), ...extra });
  const table: [string, AccessKey[], "COMPLIANT" | "NON_COMPLIANT", string][] = [
    ["no keys", [], "COMPLIANT", "No active access keys."],
    ["only an inactive key", [key(400, { status: "Inactive" })], "COMPLIANT", "No active access keys."],
    [
      "an active key one day old",
      [key(1)],
      "NON_COMPLIANT",
      "Access key 1 of the root user is active (1 day old), and the root user should have no access keys; delete it.",
    ],
    [
      "an active key created in the future",
      [key(-3)],
      "NON_COMPLIANT",
      "Access key 1 of the root user is active (0 days old), and the root user should have no access keys; delete it.",
    ],
    [
      "an active key of unknown age",
      [{ slot: 1, createDate: "N/A" }],
      "NON_COMPLIANT",
      "Access key 1 of the root user is active, and the root user should have no access keys; delete it.",
    ],
    [
      "two active keys",
      [key(2), key(500, { slot: 2 })],
      "NON_COMPLIANT",
      "Access key 1 (2 days) and access key 2 (500 days) of the root user are active, and the root user should have no access keys; delete them.",
    ],
    [
      "an active key with an unrecognised status",
      [key(2, { status: "Pending" })],
      "NON_COMPLIANT",
      "Access key 1 of the root user is active (2 days old), and the root user should have no access keys; delete it.",
    ],
  ];
  for (const [name, keys, compliance, annotation] of table) {
    it(`finds the root user with ${name} ${compliance}`, () => {
      const v = evaluateUser({ user: "<root_account>", root: true, keys }, P30, NOW);
      assert.equal(v.compliance, compliance);
      assert.equal(v.annotation, annotation);
      for (const k of v.keys) assert.equal(k.reason, k.active ? "root-key" : "inactive");
    });
  }

  it("holds a root key to no age at all, while the same key of an IAM user is compliant", () => {
    const keys = [key(1)];
    assert.equal(evaluateUser({ user: "alice", keys }, P30, NOW).compliance, "COMPLIANT");
    const root = evaluateUser({ user: "<root_account>", root: true, keys }, P30, NOW);
    assert.equal(root.compliance, "NON_COMPLIANT");
    assert.deepEqual(
      root.keys.map((k) => [k.compliance, k.reason, k.daysLeft, k.ageDays]),
      [["NON_COMPLIANT", "root-key", 0, 1]],
    );
    assert.equal(root.violations.length, 1);
    assert.equal(root.expiring.length, 0);
  });

  it("recognises the root user by the report's name <root_account> even without the root flag", () => {
    assert.equal(evaluateUser({ user: "<root_account>", keys: [key(1)] }, P30, NOW).compliance, "NON_COMPLIANT");
  });

  it("keeps a root annotation within 256 characters", () => {
    const v = evaluateUser({ user: "<root_account>", root: true, keys: [key(1, { name: "r".repeat(300) })] }, P30, NOW);
    assert.ok(v.annotation.length <= 256);
  });
});

describe("rule: properties of the age arithmetic", () => {
  const ageArb = fc.integer({ min: 0, max: 4000 * DAY_MS });
  const limitArb = fc.integer({ min: 1, max: 3650 });

  it("never lets a key become compliant by getting older", () => {
    fc.assert(
      fc.property(ageArb, fc.integer({ min: 0, max: 1000 * DAY_MS }), limitArb, (age, more, maxAgeDays) => {
        const params = validateParams({ maxAgeDays });
        const created = new Date(NOW - age).toISOString();
        const before = evaluateKey({ createDate: created }, params, NOW);
        const after = evaluateKey({ createDate: created }, params, NOW + more);
        return !(before.compliance === "NON_COMPLIANT" && after.compliance === "COMPLIANT");
      }),
    );
  });

  it("expires exactly when the age passes maxAgeDays × 24 h", () => {
    fc.assert(
      fc.property(ageArb, limitArb, (age, maxAgeDays) => {
        const v = evaluateKey({ createDate: new Date(NOW - age).toISOString() }, validateParams({ maxAgeDays }), NOW);
        return (v.compliance === "NON_COMPLIANT") === age > maxAgeDays * DAY_MS && v.ageDays === Math.floor(age / DAY_MS);
      }),
    );
  });

  it("gives the same verdict whatever time zone the timestamp is written in", () => {
    const offsetArb = fc.integer({ min: -12 * 60, max: 14 * 60 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 * DAY_MS }).map((a) => Math.floor(a / 1000) * 1000), offsetArb, limitArb, (age, offsetMin, maxAgeDays) => {
        const instant = NOW - age;
        const local = new Date(instant + offsetMin * 60_000).toISOString().slice(0, 19);
        const sign = offsetMin < 0 ? "-" : "+";
        const abs = Math.abs(offsetMin);
        const zoned = `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
        const params = validateParams({ maxAgeDays });
        const a = evaluateKey({ createDate: new Date(instant).toISOString() }, params, NOW);
        const b = evaluateKey({ createDate: zoned }, params, NOW);
        return parseTimestamp(zoned) === instant && a.compliance === b.compliance && a.ageDays === b.ageDays && a.reason === b.reason;
      }),
    );
  });

  it("truncates any text to at most the limit without splitting a surrogate pair", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 400 }), fc.integer({ min: 20, max: 300 }), (text, max) => {
        const out = truncate(text, max);
        const last = out.charCodeAt(out.length - 1 - (out.endsWith(" [truncated]") ? 12 : 0));
        return out.length <= max && (out === text || out.endsWith(" [truncated]")) && !(last >= 0xd800 && last <= 0xdbff);
      }),
    );
  });
});

describe("rule: parseTimestamp", () => {
  it("reads what IAM, Pulumi and the credential report write", () => {
    assert.equal(parseTimestamp("2026-11-17T09:30:00+00:00"), Date.parse("2026-11-17T09:30:00Z"));
    assert.equal(parseTimestamp("2026-11-17T09:30:00Z"), Date.parse("2026-11-17T09:30:00Z"));
    assert.equal(parseTimestamp("2026-11-17T09:30:00.123Z"), Date.parse("2026-11-17T09:30:00.123Z"));
    assert.equal(parseTimestamp("2026-11-17T10:30:00+0100"), Date.parse("2026-11-17T09:30:00Z"));
  });
  it("rejects what Date.parse would wrongly accept", () => {
    for (const bad of ["1", "2024-02-30T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00:00", "Tue, 01 Oct 2024 00:00:00 GMT", "2024-01-01T00:00:00+25:00"]) {
      assert.equal(parseTimestamp(bad), undefined, bad);
    }
  });
  it("accepts 29 February only in leap years", () => {
    assert.notEqual(parseTimestamp("2024-02-29T00:00:00Z"), undefined);
    assert.equal(parseTimestamp("2026-02-29T00:00:00Z"), undefined);
  });
});
