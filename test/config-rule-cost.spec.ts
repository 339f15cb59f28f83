// What a Config rule run costs: a scheduled run writes only what changes what AWS Config shows (new,
// changed compliance, changed annotation, or a result older than refreshDays), with annotations that
// stay the same while nothing changes, whichever way the keys were read. The real SDK talks HTTP to the
// local fake (test/fake-aws), whose Config keeps each result with the time it recorded it; the clock is
// injected so a month passes in seconds.
import { strict as assert } from "node:assert";
import { defaultClientFactory } from "../aws/clients";
import { evaluate, type EvaluateDeps, type LambdaContext, type RunSummary } from "../config-rule/evaluate";
import type { LogLevel } from "../aws/log";
import { inputParameters, validateSettings } from "../pulumi/settings";
import { refreshDue, refreshPhase } from "../config-rule/evaluations";
import { configAnnotation, evaluateUser, ParameterError, validateParams, type AccessKey, type RuleParams } from "../shared";
import { startFakeAws, type FakeAws, type FakeUser } from "./fake-aws";

const DAY = 86_400_000;
const T0 = Date.parse("2026-11-01T00:05:00Z");
const CONTEXT: LambdaContext = { getRemainingTimeInMillis: () => 300_000 };

function scheduled(fake: FakeAws, ruleParameters: Record<string, unknown> = {}, resultToken = "token-1"): Record<string, unknown> {
  return {
    invokingEvent: JSON.stringify({ messageType: "ScheduledNotification", notificationCreationTime: new Date(fake.now()).toISOString(), awsAccountId: fake.accountId }),
    ruleParameters: JSON.stringify(ruleParameters),
    resultToken,
    configRuleName: fake.ruleName,
    accountId: fake.accountId,
  };
}

function change(fake: FakeAws, user: FakeUser): Record<string, unknown> {
  const item = { resourceType: "AWS::IAM::User", resourceId: user.userId, resourceName: user.name, configurationItemStatus: "OK", configurationItemCaptureTime: new Date(fake.now()).toISOString() };
  return { invokingEvent: JSON.stringify({ messageType: "ConfigurationItemChangeNotification", configurationItem: item }), ruleParameters: "{}", resultToken: "token-2", configRuleName: fake.ruleName };
}

interface Run {
  summary: RunSummary;
  lines: { level: LogLevel; message: string; [field: string]: unknown }[];
}

async function run(fake: FakeAws, event: Record<string, unknown>, deps: Partial<EvaluateDeps> = {}, context = CONTEXT): Promise<Run> {
  const lines: Run["lines"] = [];
  const summary = await fake.withEnv(() =>
    evaluate(event, context, { clients: defaultClientFactory(), now: fake.now, log: (level, message, fields) => lines.push({ level, message, ...fields }), sleep: async () => undefined, ...deps }),
  );
  return { summary, lines };
}

/** Resource ids sent in PutEvaluations since the last `resetCounts`. */
function sentIds(fake: FakeAws): string[] {
  return fake.putRequests.flatMap((r) => r.evaluations.map((e) => e.ComplianceResourceId));
}

describe("config rule annotations: the same keys give the same text", () => {
  const params = validateParams();
  const text = (keys: AccessKey[], now: number, p: RuleParams = params, user = "alice"): string => configAnnotation(evaluateUser({ user, keys }, p, now), p, now);

  it("words a violation with dates, naming the key, when it passed the limit and the limit, unchanged from day to day", () => {
    const keys = [{ accessKeyId: "AKIAIOSFODNN7EXAWXYZ", createDate: "2026-10-15T09:00:00Z" }];
    const day1 = text(keys, Date.parse("2026-11-29T12:00:00Z"));
    assert.equal(day1, "Access key created 2026-10-15 passed the 30-day limit on 2026-11-14; rotate it.");
    assert.equal(text(keys, Date.parse("2027-02-01T12:00:00Z")), day1);
  });

  it("words a compliant user with the day the oldest key reaches the limit, unchanged from day to day", () => {
    const keys = [{ createDate: "2026-11-20T08:00:00Z" }, { createDate: "2026-11-25T08:00:00Z" }];
    const expected = "Access keys within the 30-day limit; the oldest, created 2026-11-20, reaches it on 2026-12-20.";
    assert.equal(text(keys, Date.parse("2026-11-26T00:00:00Z")), expected);
    assert.equal(text(keys, Date.parse("2026-12-01T00:00:00Z")), expected);
  });

  it("words the warning window with the day the key reaches the limit, so it too stays put", () => {
    const keys = [{ createDate: "2026-11-20T08:00:00Z" }];
    const first = text(keys, Date.parse("2026-12-14T00:00:00Z"));
    assert.equal(first, "Within the 30-day limit, but access key created 2026-11-20 reaches it on 2026-12-20 (warning 7 days ahead).");
    assert.equal(text(keys, Date.parse("2026-12-19T23:00:00Z")), first);
  });

  it("gives the same text for the credential report's slots as for ListAccessKeys' ids, in either order", () => {
    const now = Date.parse("2026-11-29T12:00:00Z");
    const report = [{ slot: 1 as const, createDate: "2026-10-01T10:00:00+00:00" }, { slot: 2 as const, createDate: "2026-11-20T10:00:00+00:00" }];
    const listed = [{ accessKeyId: "AKIAEXAMPLEKEYB2222", createDate: "2026-11-20T10:00:00Z" }, { accessKeyId: "AKIAEXAMPLEKEYA1111", createDate: "2026-10-01T10:00:00Z" }];
    assert.equal(text(report, now), text(listed, now));
    assert.equal(text(report, now), "Access key created 2026-10-01 passed the 30-day limit on 2026-10-31; rotate it.");
  });

  it("keeps exemptions stable: the end date, not the days left, and the end once it has passed", () => {
    const p = validateParams({ exemptions: "ci-bot:2027-01-31" });
    const keys = [{ createDate: "2026-08-21T00:00:00Z" }];
    const during = text(keys, Date.parse("2026-12-01T00:00:00Z"), p, "ci-bot");
    assert.equal(during, "Exempt until 2027-01-31: Access key created 2026-08-21 passed the 30-day limit on 2026-09-20.");
    assert.equal(text(keys, Date.parse("2027-01-20T00:00:00Z"), p, "ci-bot"), during);
    assert.equal(text(keys, Date.parse("2027-02-05T00:00:00Z"), p, "ci-bot"), "Access key created 2026-08-21 passed the 30-day limit on 2026-09-20; rotate it. Exemption ended 2027-01-31.");
  });

  it("says when a key's age cannot be known, and stays within Config's 256 characters", () => {
    assert.equal(text([{ slot: 1, createDate: "N/A" }], T0), "An active access key has no readable creation date, so it cannot be held to the 30-day limit; rotate it.");
    const many = Array.from({ length: 12 }, (_, i) => ({ createDate: `2026-0${1 + (i % 9)}-1${i % 9}T00:00:00Z` }));
    assert.ok(text(many, T0).length <= 256);
  });
});

describe("config rule: refreshDays", () => {
  let fake: FakeAws;
  beforeEach(async () => {
    fake = await startFakeAws();
  });
  afterEach(async () => {
    await fake.close();
  });

  it("accepts 1 to 80 days and rejects anything else, naming the value and the range, writing nothing", async () => {
    fake.addUser("alice", { keys: [{ ageDays: 3 }] });
    for (const bad of ["0", "81", "7.5", "soon"]) {
      await assert.rejects(run(fake, scheduled(fake, { refreshDays: bad })), (err: unknown) => {
        assert.ok(err instanceof ParameterError);
        assert.equal(err.message, `refreshDays must be a whole number of days from 1 to 80, got "${bad}"`);
        return true;
      });
    }
    assert.equal(fake.putRequests.length, 0);
    for (const good of ["1", "80"]) await run(fake, scheduled(fake, { refreshDays: good }));
    await assert.rejects(run(fake, scheduled(fake, { refreshDay: "7" })), /unknown rule parameter "refreshDay"; expected maxAccessKeyAge, warnDays, exemptions, refreshDays, executionRoleName/);
  });

  it("is a deploy setting passed to the rule as a parameter, checked by the same validator", () => {
    assert.equal(inputParameters(validateSettings({ refreshDays: "14" })), JSON.stringify({ maxAccessKeyAge: "30", refreshDays: "14" }));
    assert.equal(inputParameters(validateSettings({})), JSON.stringify({ maxAccessKeyAge: "30" }), "the Lambda's default applies when unset");
    assert.throws(() => validateSettings({ refreshDays: "90" }), { name: "DeployConfigError", key: "refreshDays", message: 'refreshDays must be a whole number of days from 1 to 80, got "90"' });
  });
});

describe("config rule: a scheduled run writes only what changes what Config shows", () => {
  let clock: number;
  let fake: FakeAws;
  beforeEach(async () => {
    clock = T0;
    fake = await startFakeAws({ now: () => clock });
    // UserIds whose refresh point (refreshDue) falls 29+ days after T0: no refresh blurs what these tests watch.
    fake.addUser("alice", { keys: [{ ageDays: 3 }], userId: "AIDAQUIET000000000004" });
    fake.addUser("bob", { keys: [{ ageDays: 45 }], userId: "AIDAQUIET000000000031" });
    fake.addUser("carol", { keys: [{ ageDays: 10 }, { ageDays: 2 }], userId: "AIDAQUIET000000000099" });
    await run(fake, scheduled(fake));
    assert.equal(fake.evaluations.size, 3);
    fake.resetCounts();
    clock += DAY;
  });
  afterEach(async () => {
    await fake.close();
  });

  it("skips users whose result Config already shows, counts them in the summary line, and still tells Config the run finished", async () => {
    const { summary, lines } = await run(fake, scheduled(fake));
    assert.deepEqual(sentIds(fake), []);
    assert.equal(fake.putRequests.length, 1, "one empty PutEvaluations");
    assert.equal(summary.skippedUnchanged, 3);
    assert.deepEqual(summary.verdicts, { COMPLIANT: 2, NON_COMPLIANT: 1, NOT_APPLICABLE: 0 }, "the verdicts are what the run found, written or not");
    const line = lines.find((l) => l.message === "run summary");
    assert.equal(line?.skippedUnchanged, 3);
    assert.equal(line?.evaluations, 0);
  });

  it("writes a user with no earlier result", async () => {
    const dave = fake.addUser("dave", { keys: [{ ageDays: 1 }] });
    const { summary } = await run(fake, scheduled(fake));
    assert.deepEqual(sentIds(fake), [dave.userId]);
    assert.equal(summary.skippedUnchanged, 3);
  });

  it("writes a user whose compliance changed: a key that crossed the limit is NON_COMPLIANT after the next run", async () => {
    clock += 26 * DAY + 1000; // alice's key is now 30 days and 1 s old: past the limit
    await run(fake, scheduled(fake));
    assert.ok(sentIds(fake).includes(fake.user("alice").userId));
    assert.ok(!sentIds(fake).includes(fake.user("bob").userId), "bob's key is as expired as it was");
    assert.equal(fake.evaluations.get(fake.user("alice").userId)?.complianceType, "NON_COMPLIANT");
  });

  it("writes a user whose annotation changed with the same compliance: a rotation", async () => {
    const carol = fake.user("carol");
    carol.keys.shift(); // the 10-day-old key is deleted; the 2-day-old one is now the oldest
    await run(fake, scheduled(fake));
    assert.deepEqual(sentIds(fake), [carol.userId]);
    assert.equal(fake.evaluations.get(carol.userId)?.complianceType, "COMPLIANT");
    assert.match(fake.evaluations.get(carol.userId)?.annotation ?? "", /^Access key created \d{4}-\d{2}-\d{2} is within the 30-day limit, which it reaches on /);
  });

  it("writes each unchanged result again exactly once per refreshDays, at a point of the cycle fixed per user", async () => {
    clock = T0 + 29 * DAY; // recorded at T0: 29 days old
    assert.deepEqual((await run(fake, scheduled(fake, { maxAccessKeyAge: 365 }))).summary.skippedUnchanged, 0, "a new limit changes every annotation");
    const written = new Map<string, number[]>();
    for (let day = 1; day <= 7; day += 1) {
      fake.resetCounts();
      clock += DAY;
      await run(fake, scheduled(fake, { maxAccessKeyAge: 365, refreshDays: 7 }));
      for (const id of sentIds(fake)) written.set(id, [...(written.get(id) ?? []), day]);
    }
    assert.equal(written.size, 3, "every user once in the 7 daily runs after the write");
    assert.ok([...written.values()].every((days) => days.length === 1), JSON.stringify([...written.values()]));
  });

  it("refreshes once in every 30 days by default, on the same day of the cycle each time", async () => {
    const bob = fake.user("bob").userId; // NON_COMPLIANT since T0, with the same annotation
    const days: number[] = [];
    for (let day = 1; day <= 60; day += 1) {
      fake.resetCounts();
      clock = T0 + day * DAY;
      await run(fake, scheduled(fake));
      if (sentIds(fake).includes(bob)) days.push(day);
    }
    assert.equal(days.length, 2, `written on days ${days.join(", ")}`);
    assert.equal((days[1] as number) - (days[0] as number), 30);
    assert.ok((days[0] as number) <= 30);
  });

  it("writes NOT_APPLICABLE for a deleted user", async () => {
    const bob = fake.user("bob");
    fake.deleteUser("bob");
    await run(fake, scheduled(fake));
    assert.deepEqual(sentIds(fake), [bob.userId]);
    assert.equal(fake.evaluations.get(bob.userId)?.complianceType, "NOT_APPLICABLE");
  });

  it("rewrites nothing when the next run reads the keys with ListAccessKeys instead of the credential report", async () => {
    fake.fail("GenerateCredentialReport", { code: "AccessDenied", times: Infinity });
    const { summary } = await run(fake, scheduled(fake));
    assert.equal(summary.calls.ListAccessKeys, 3, "keys read by id this time");
    assert.deepEqual(sentIds(fake), []);
    assert.equal(summary.skippedUnchanged, 3);
  });

  it("writes everything when the earlier results could not be read in full", async () => {
    fake.fail("GetComplianceDetailsByConfigRule", { code: "AccessDeniedException", times: Infinity });
    const { summary } = await run(fake, scheduled(fake));
    assert.equal(sentIds(fake).length, 3);
    assert.equal(summary.skippedUnchanged, 0);
    assert.equal(summary.partial, true);
  });

  it("writes everything when the deadline cut the earlier results short", async () => {
    for (let i = 0; i < 150; i += 1) fake.seedEvaluation(`AIDAGONE${i}`, "COMPLIANT", "AWS::IAM::User", { recordedAt: new Date(clock - DAY) });
    fake.generateReport(); // fresh: no read after the deadline is needed
    let remaining = 300_000;
    fake.beforeCall = (action) => {
      if (action === "GetComplianceDetailsByConfigRule") remaining = 5_000; // the next page would eat into the reserve
    };
    const { summary } = await run(fake, scheduled(fake), { reserveMs: 10_000 }, { getRemainingTimeInMillis: () => remaining });
    assert.equal(fake.calls.GetComplianceDetailsByConfigRule, 1, "one page of two read");
    assert.equal(summary.partial, true);
    assert.equal(summary.skippedUnchanged, 0);
    assert.equal(sentIds(fake).length, 3, "every user written, none of the 150 earlier results turned NOT_APPLICABLE");
  });

  it("always writes a change notification's evaluation", async () => {
    await run(fake, change(fake, fake.user("alice")));
    assert.deepEqual(sentIds(fake), [fake.user("alice").userId]);
  });

  it("writes everything for the TESTMODE token, as before", async () => {
    const { summary } = await run(fake, scheduled(fake, {}, "TESTMODE"));
    assert.equal(sentIds(fake).length, 3);
    assert.ok(fake.putRequests.every((r) => r.testMode));
    assert.equal(summary.skippedUnchanged, 0);
  });
});

describe("config rule: a month of daily runs on a 200-user account", () => {
  let clock: number;
  let fake: FakeAws;
  beforeEach(async () => {
    clock = T0;
    fake = await startFakeAws({ now: () => clock });
  });
  afterEach(async () => {
    await fake.close();
  });

  it("shows every user's compliance correctly every day while writing under 10 % of what re-stating everyone writes", async function () {
    this.timeout(60_000);
    const params = validateParams();
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 200; i += 1) {
      const keys = [{ ageDays: ((i * 37) % 150) + 0.3 }, ...(i % 5 === 0 ? [{ ageDays: (i % 20) + 0.6 }] : [])];
      fake.addUser(`user-${String(i).padStart(3, "0")}`, { keys });
    }
    const expected = (u: FakeUser): string => evaluateUser({ user: u.name, keys: u.keys.map((k) => ({ accessKeyId: k.accessKeyId, status: k.status, createDate: k.createDate })) }, params, clock).compliance;
    const deleted: string[] = [];
    let written = 0;
    let restated = 0;
    let crossings = 0;
    let yesterday = new Map<string, string>();
    for (let day = 0; day < 30; day += 1) {
      clock = T0 + day * DAY;
      if (day > 0) {
        // 1 % of users rotate each day: the old key goes, a new one is created two hours before the run.
        for (let r = 0; r < 2; r += 1) {
          const names = [...fake.users.keys()];
          const user = fake.user(names[Math.floor(random() * names.length)] as string);
          user.keys = [];
          fake.addKey(user.name, { createDate: new Date(clock - 2 * 3600_000) });
        }
      }
      if (day === 10) {
        deleted.push(fake.user("user-007").userId);
        fake.deleteUser("user-007");
      }
      if (day === 15) fake.addUser("newcomer", { keys: [{ ageDays: 45 }] });
      // Some days the credential report is denied and every key is read by id instead.
      if (day % 7 === 3) fake.fail("GenerateCredentialReport", { code: "AccessDenied" });
      const before = new Map([...fake.evaluations].map(([id, e]) => [id, { ...e }]));
      fake.resetCounts();
      const { summary } = await run(fake, scheduled(fake));
      assert.equal(summary.partial, false, `day ${day}`);

      const sent = sentIds(fake);
      written += sent.length;
      restated += summary.users + summary.verdicts.NOT_APPLICABLE;
      for (const u of fake.users.values()) {
        const shown = fake.evaluations.get(u.userId)?.complianceType;
        assert.equal(shown, expected(u), `day ${day}: ${u.name}`);
        if (yesterday.get(u.userId) === "COMPLIANT" && shown === "NON_COMPLIANT") crossings += 1;
      }
      for (const id of deleted) assert.equal(fake.evaluations.get(id)?.complianceType, "NOT_APPLICABLE", `day ${day}: deleted user`);
      // Nothing written that Config already showed, unless the user's refresh point has passed since.
      for (const id of sent) {
        const was = before.get(id);
        const now = fake.evaluations.get(id);
        if (!was || !now) continue;
        const changed = was.complianceType !== now.complianceType || was.annotation !== now.annotation || refreshDue(was, 30, clock, id);
        assert.ok(changed, `day ${day}: ${id} was written again unchanged`);
      }
      yesterday = new Map([...fake.users.values()].map((u) => [u.userId, expected(u)]));
    }
    assert.ok(crossings >= 5, `keys crossed the limit during the month (${crossings})`);
    assert.ok(written <= restated / 10, `${written} evaluations written; re-stating everyone writes ${restated}`);
  });
});

describe("config rule: refreshes spread over the cycle (refreshDue)", () => {
  /** Days 1–89 after a first run that wrote `n` users: unchanged users re-written each day. */
  function simulate(n: number, refreshDays: number): number[] {
    const recorded = new Map<string, number>();
    for (let i = 0; i < n; i += 1) recorded.set(`AIDA${String(i * 7919).padStart(17, "0")}`, T0);
    const perDay: number[] = [];
    for (let day = 1; day < 90; day += 1) {
      const now = T0 + day * DAY;
      let count = 0;
      for (const [id, at] of recorded) {
        if (refreshDue({ complianceType: "COMPLIANT", recordedAt: new Date(at) }, refreshDays, now, id)) {
          recorded.set(id, now);
          count += 1;
        }
      }
      perDay.push(count);
    }
    return perDay;
  }

  it("re-writes no day more than twice the mean after 5,000 users were first written on the same day", () => {
    for (const refreshDays of [7, 30, 80]) {
      const perDay = simulate(5000, refreshDays);
      const mean = perDay.reduce((a, b) => a + b, 0) / perDay.length;
      const busiest = Math.max(...perDay);
      assert.ok(busiest <= 2 * mean, `refreshDays ${refreshDays}: busiest day ${busiest}, mean ${mean.toFixed(0)}`);
      assert.ok(Math.abs(mean - 5000 / refreshDays) <= 5000 / refreshDays / 10, `refreshDays ${refreshDays}: about once per cycle (mean ${mean.toFixed(0)})`);
    }
  });

  it("never leaves a result older than refreshDays plus one daily run", () => {
    for (const id of ["AIDAA", "AIDAB", "AIDAEXAMPLE00000000001", ""]) {
      for (const hour of [0, 5, 23]) {
        const at = T0 + hour * 3_600_000;
        let last = at;
        for (let day = 1; day <= 200; day += 1) {
          const now = T0 + day * DAY;
          if (refreshDue({ complianceType: "COMPLIANT", recordedAt: new Date(last) }, 30, now, id)) last = now;
          assert.ok(now - last <= 31 * DAY, `${id} at day ${day}`);
        }
      }
    }
  });

  it("puts each id at its own point of the cycle, the same on every call", () => {
    const phases = ["AIDAA", "AIDAB", "AIDAC"].map(refreshPhase);
    assert.deepEqual(phases, ["AIDAA", "AIDAB", "AIDAC"].map(refreshPhase));
    assert.equal(new Set(phases).size, 3);
    assert.ok(phases.every((p) => p >= 0 && p < 1));
  });
});
