import { strict as assert } from "node:assert";
import { findExemption, MAX_MAX_AGE_DAYS, MIN_MAX_AGE_DAYS, ParameterError, parseExemptions, validateParams } from "../shared";

function throwsParam(fn: () => unknown, message: RegExp, parameter?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ParameterError, `expected ParameterError, got ${String(err)}`);
    assert.match(err.message, message);
    if (parameter) assert.equal(err.parameter, parameter);
    return true;
  });
}

describe("params: validateParams", () => {
  it("defaults to 30 days, a 7-day warning and no exemptions", () => {
    assert.deepEqual(validateParams({}), { maxAgeDays: 30, warnDays: 7, exemptions: [] });
    assert.deepEqual(validateParams(), { maxAgeDays: 30, warnDays: 7, exemptions: [] });
  });

  it("treats null and blank strings as absent (Config sends strings, Pulumi may send null)", () => {
    assert.deepEqual(validateParams({ maxAgeDays: null, warnDays: "  ", exemptions: "" }), { maxAgeDays: 30, warnDays: 7, exemptions: [] });
  });

  it("accepts the whole range as numbers and as decimal strings", () => {
    assert.equal(validateParams({ maxAgeDays: MIN_MAX_AGE_DAYS }).maxAgeDays, 1);
    assert.equal(validateParams({ maxAgeDays: MAX_MAX_AGE_DAYS }).maxAgeDays, 3650);
    assert.equal(validateParams({ maxAgeDays: "90" }).maxAgeDays, 90);
    assert.equal(validateParams({ maxAgeDays: " 45 " }).maxAgeDays, 45);
  });

  const bad: [unknown, string][] = [
    [0, "0"],
    [3651, "3651"],
    [-5, "-5"],
    [30.5, "30.5"],
    ["30.5", '"30.5"'],
    ["thirty", '"thirty"'],
    ["1e2", '"1e2"'],
    ["0x1E", '"0x1E"'],
    [true, "true"],
    [Number.NaN, "null"],
  ];
  for (const [value, shown] of bad) {
    it(`rejects maxAgeDays ${shown}, naming the value and the range`, () => {
      throwsParam(() => validateParams({ maxAgeDays: value }), new RegExp(`^maxAgeDays must be a whole number of days from 1 to 3650, got ${shown.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`), "maxAgeDays");
    });
  }

  it("names the parameter the way the caller's users spell it", () => {
    throwsParam(() => validateParams({ maxAgeDays: "400000" }, { maxAgeDays: "maxAccessKeyAge" }), /^maxAccessKeyAge must be a whole number of days from 1 to 3650, got "400000"$/, "maxAccessKeyAge");
    throwsParam(() => validateParams({ maxAgeDays: "x" }, { maxAgeDays: "--max-age-days" }), /^--max-age-days must be/);
  });

  it("requires warnDays to be below maxAgeDays", () => {
    assert.equal(validateParams({ maxAgeDays: 30, warnDays: 29 }).warnDays, 29);
    assert.equal(validateParams({ maxAgeDays: 30, warnDays: 0 }).warnDays, 0);
    throwsParam(() => validateParams({ maxAgeDays: 30, warnDays: 30 }), /^warnDays must be a whole number of days from 0 to 29 \(less than maxAgeDays = 30\), got 30$/, "warnDays");
    throwsParam(() => validateParams({ warnDays: -1 }), /from 0 to 29/);
  });

  it("shrinks the default warning window under a short limit instead of failing", () => {
    assert.equal(validateParams({ maxAgeDays: 5 }).warnDays, 4);
    assert.equal(validateParams({ maxAgeDays: 1 }).warnDays, 0);
  });
});

describe("params: exemptions", () => {
  it("reads names, names with an end date, objects, JSON arrays and blank-separated lists", () => {
    assert.deepEqual(parseExemptions(["alice", "bob:2027-01-31"]), [{ user: "alice" }, { user: "bob", until: Date.parse("2027-02-01T00:00:00Z") - 1 }]);
    assert.deepEqual(parseExemptions([{ user: "carol", until: "2027-01-01T12:00:00Z" }]), [{ user: "carol", until: Date.parse("2027-01-01T12:00:00Z") }]);
    assert.deepEqual(parseExemptions('["dave"]'), [{ user: "dave" }]);
    assert.deepEqual(parseExemptions("erin  svc,deploy\nbot@example.com"), [{ user: "erin" }, { user: "svc,deploy" }, { user: "bot@example.com" }]);
  });

  it("rejects a name IAM would not allow, naming it", () => {
    throwsParam(() => parseExemptions(["bad name!"]), /^exemptions: "bad name!" is not an IAM user name/);
    throwsParam(() => parseExemptions([{ user: "x".repeat(65) }]), /is not an IAM user name \(1-64 characters/);
  });

  it("rejects an end date that is not a date, naming it", () => {
    throwsParam(() => parseExemptions(["bob:next-week"]), /^exemptions: the end date for "bob" must be YYYY-MM-DD or an RFC 3339 timestamp, got "next-week"$/);
    throwsParam(() => parseExemptions(["bob:2027-02-30"]), /got "2027-02-30"/);
  });

  it("rejects a malformed JSON list and a non-list", () => {
    throwsParam(() => parseExemptions("[alice"), /^exemptions looks like a JSON array but does not parse/);
    throwsParam(() => parseExemptions(42), /^exemptions must be a list of user names, got 42$/);
    throwsParam(() => parseExemptions([42]), /each entry must be a user name/);
  });

  it("holds an exemption through the end of its end date (UTC) and not a millisecond later", () => {
    const [e] = parseExemptions(["bob:2027-01-31"]);
    assert.ok(e);
    assert.ok(findExemption("bob", [e], Date.parse("2027-01-31T23:59:59.999Z")).active);
    const after = findExemption("bob", [e], Date.parse("2027-02-01T00:00:00Z"));
    assert.equal(after.active, undefined);
    assert.equal(after.ended, e);
  });

  it("matches user names without regard to case, as IAM does", () => {
    assert.ok(findExemption("CI-Deploy", parseExemptions(["ci-deploy"]), 0).active);
    assert.deepEqual(findExemption("other", parseExemptions(["ci-deploy"]), 0), {});
  });
});
