// The Config rule with the real AWS SDK talking HTTP to the local fake IAM/Config endpoint
// (test/fake-aws), pointed at through AWS_ENDPOINT_URL_IAM / _CONFIG_SERVICE / _STS, set only for the
// duration of each test.
import { strict as assert } from "node:assert";
import { defaultClientFactory } from "../aws/clients";
import { evaluate, type EvaluateDeps, type LambdaContext, type RunSummary } from "../config-rule/evaluate";
import type { LogLevel } from "../aws/log";
import { SDK_MAX_ATTEMPTS } from "../aws/calls";
import { startFakeAws, type FakeAws, type FakeKey } from "./fake-aws";

const CONTEXT: LambdaContext = { getRemainingTimeInMillis: () => 300_000 };

function scheduled(fake: FakeAws, ruleParameters: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    invokingEvent: JSON.stringify({ messageType: "ScheduledNotification", notificationCreationTime: new Date(fake.now()).toISOString(), awsAccountId: fake.accountId }),
    ruleParameters: JSON.stringify(ruleParameters),
    resultToken: "token-1",
    eventLeftScope: false,
    configRuleName: fake.ruleName,
    configRuleArn: `arn:aws:config:us-east-1:${fake.accountId}:config-rule/config-rule-abc123`,
    accountId: fake.accountId,
  };
}

interface Run {
  summary: RunSummary;
  lines: { level: LogLevel; message: string; [field: string]: unknown }[];
  pauses: number[];
}

/** Runs one invocation against the fake with real SDK clients built from the environment. */
async function run(fake: FakeAws, event: Record<string, unknown>, options: Partial<EvaluateDeps> & { context?: LambdaContext } = {}): Promise<Run> {
  const lines: Run["lines"] = [];
  const pauses: number[] = [];
  const { context, ...deps } = options;
  const summary = await fake.withEnv(() =>
    evaluate(event, context ?? CONTEXT, {
      clients: defaultClientFactory(),
      log: (level, message, fields) => lines.push({ level, message, ...fields }),
      sleep: async (ms) => void pauses.push(ms),
      ...deps,
    }),
  );
  return { summary, lines, pauses };
}

function compliance(fake: FakeAws, name: string): string | undefined {
  return fake.evaluations.get(fake.user(name).userId)?.complianceType;
}

describe("config rule over HTTP: the credential report", () => {
  let fake: FakeAws;
  beforeEach(async () => {
    fake = await startFakeAws();
  });
  afterEach(async () => {
    await fake.close();
  });

  it("waits for a new report through STARTED and INPROGRESS to COMPLETE with growing pauses, then trusts it", async () => {
    fake.reportPolls = 2;
    fake.addUser("alice", { keys: [{ ageDays: 45 }] });
    fake.addUser("bob", { keys: [{ ageDays: 3 }] });
    const { summary, pauses } = await run(fake, scheduled(fake));
    assert.deepEqual(fake.calls, { ListUsers: 1, GenerateCredentialReport: 4, GetComplianceDetailsByConfigRule: 1, GetCredentialReport: 1, PutEvaluations: 1 });
    assert.deepEqual(pauses, [200, 400, 800]);
    assert.equal(summary.calls.ListAccessKeys, undefined, "a report generated in this run needs no confirmation");
    assert.equal(compliance(fake, "alice"), "NON_COMPLIANT");
    assert.equal(compliance(fake, "bob"), "COMPLIANT");
    assert.equal(fake.evaluations.size, 2, "no evaluation for the root account");
  });

  it("generates the report again when Get finds it not present or expired", async () => {
    for (const code of ["ReportNotPresent", "ReportExpired"]) {
      fake.resetCounts();
      fake.generateReport();
      fake.addUser(`user-${code}`, { keys: [{ ageDays: 31 }] });
      fake.generateReport();
      fake.fail("GetCredentialReport", { code, status: 410 });
      const { summary } = await run(fake, scheduled(fake));
      assert.deepEqual(summary.calls, { GenerateCredentialReport: 2, GetComplianceDetailsByConfigRule: 1, GetCredentialReport: 2, ListUsers: 1, PutEvaluations: 1 }, code);
      assert.equal(compliance(fake, `user-${code}`), "NON_COMPLIANT");
    }
  });

  it("regenerates a report older than IAM's four hours instead of using it", async () => {
    fake.addUser("carol", { keys: [{ ageDays: 50 }] });
    fake.generateReport(new Date(fake.now() - 5 * 3600_000));
    fake.user("carol").keys = [];
    fake.addKey("carol", { ageDays: 0 }); // rotated since that old report
    const { summary } = await run(fake, scheduled(fake));
    assert.equal(summary.calls.GenerateCredentialReport, 3);
    assert.equal(compliance(fake, "carol"), "COMPLIANT");
  });

  it("confirms each violation of a stale report with one ListAccessKeys, and nothing more for users with two active keys", async () => {
    for (let i = 0; i < 10; i += 1) fake.addUser(`u${i}`, { keys: [{ ageDays: i < 3 ? 40 : 5 }, { ageDays: 3 }] });
    fake.generateReport(new Date(fake.now() - 3600_000));
    fake.user("u0").keys = [];
    fake.addKey("u0", { ageDays: 0 }); // u0 rotated after the report
    const { summary } = await run(fake, scheduled(fake));
    assert.equal(summary.calls.ListAccessKeys, 3);
    assert.equal(fake.calls.ListAccessKeys, 3);
    assert.equal(compliance(fake, "u0"), "COMPLIANT");
    assert.equal(compliance(fake, "u1"), "NON_COMPLIANT");
    const created = fake.user("u1").keys[0]?.createDate.toISOString().slice(0, 10);
    assert.match(fake.evaluations.get(fake.user("u1").userId)?.annotation ?? "", new RegExp(`^Access key created ${created} passed the 30-day limit on `));
    assert.equal(summary.verdicts.NON_COMPLIANT, 2);
  });

  it("trusts a report generated within the freshness bound without any ListAccessKeys", async () => {
    for (let i = 0; i < 10; i += 1) fake.addUser(`u${i}`, { keys: [{ ageDays: i < 3 ? 40 : 5 }] });
    fake.generateReport(new Date(fake.now() - 5 * 60_000));
    const { summary } = await run(fake, scheduled(fake));
    assert.equal(fake.calls.ListAccessKeys, undefined);
    assert.equal(summary.verdicts.NON_COMPLIANT, 3);
  });

  it("gives up waiting for a report that never completes and reads each user instead", async () => {
    fake.reportPolls = 1000;
    fake.addUser("alice", { keys: [{ ageDays: 45 }] });
    const { summary, lines } = await run(fake, scheduled(fake), { reportWait: { initialMs: 100, maxMs: 400, totalMs: 1000 } });
    assert.equal(summary.calls.GenerateCredentialReport, 4, "pauses of 100, 200 and 400 ms fit in 1 s; a fourth (400) would not");
    assert.equal(summary.calls.ListAccessKeys, 1);
    assert.equal(compliance(fake, "alice"), "NON_COMPLIANT");
    assert.ok(lines.some((l) => /not ready after 700 ms/.test(String(l.reason))));
  });
});

describe("config rule over HTTP: paging, throttling, vanishing users, the deadline", () => {
  let fake: FakeAws;
  beforeEach(async () => {
    fake = await startFakeAws();
  });
  afterEach(async () => {
    await fake.close();
  });

  it("follows IsTruncated/Marker when IAM returns fewer users than asked for", async () => {
    fake.iamPageLimit = 7;
    for (let i = 0; i < 30; i += 1) fake.addUser(`u${i}`, { keys: [{ ageDays: i }] });
    const { summary } = await run(fake, scheduled(fake));
    assert.equal(fake.calls.ListUsers, 5);
    assert.equal(fake.evaluations.size, 30);
    assert.deepEqual(summary.verdicts, { COMPLIANT: 30, NON_COMPLIANT: 0, NOT_APPLICABLE: 0 });
  });

  it("rides out throttling of IAM and Config", async () => {
    fake.addUser("alice", { keys: [{ ageDays: 31 }] });
    fake.fail("ListUsers", { code: "Throttling" });
    fake.fail("PutEvaluations", { code: "ThrottlingException" });
    const { summary } = await run(fake, scheduled(fake));
    assert.equal(fake.calls.ListUsers, 2, "the SDK retried");
    assert.equal(summary.written, 1);
    assert.equal(compliance(fake, "alice"), "NON_COMPLIANT");
  });

  it("marks a user deleted mid-run NOT_APPLICABLE and evaluates the others", async () => {
    fake.fail("GenerateCredentialReport", { code: "AccessDenied", times: Infinity });
    for (const name of ["alice", "bob", "carol"]) fake.addUser(name, { keys: [{ ageDays: 40 }] });
    const bobId = fake.user("bob").userId;
    fake.beforeCall = (action, params) => {
      if (action === "ListAccessKeys" && params.UserName === "bob") fake.deleteUser("bob");
    };
    const { summary } = await run(fake, scheduled(fake));
    assert.equal(fake.evaluations.get(bobId)?.complianceType, "NOT_APPLICABLE");
    assert.equal(fake.evaluations.get(bobId)?.annotation, "The user was deleted during the evaluation.");
    assert.equal(compliance(fake, "alice"), "NON_COMPLIANT");
    assert.equal(compliance(fake, "carol"), "NON_COMPLIANT");
    assert.equal(summary.users, 2);
  });

  it("retries the FailedEvaluations Config returns", async () => {
    for (let i = 0; i < 5; i += 1) fake.addUser(`u${i}`);
    fake.failEvaluations(2);
    const { summary } = await run(fake, scheduled(fake));
    assert.equal(fake.calls.PutEvaluations, 2);
    assert.equal(fake.putRequests[1]?.evaluations.length, 2, "only the failed ones again");
    assert.equal(fake.evaluations.size, 5);
    assert.equal(summary.written, 5);
  });

  it("marks users evaluated earlier that no longer exist NOT_APPLICABLE", async () => {
    fake.addUser("alice");
    fake.seedEvaluation("AIDAGONEGONEGONEGONE", "NON_COMPLIANT");
    await run(fake, scheduled(fake));
    assert.equal(fake.evaluations.get("AIDAGONEGONEGONEGONE")?.complianceType, "NOT_APPLICABLE");
  });

  it("stops reading when time runs short, writes what it evaluated and logs the rest", async () => {
    fake.fail("GenerateCredentialReport", { code: "AccessDenied", times: Infinity });
    for (let i = 0; i < 40; i += 1) fake.addUser(`u${String(i).padStart(2, "0")}`, { keys: [{ ageDays: 1 }] });
    // Every request costs 2 s of the Lambda's 60: reads stop when 10 s (the reserve) are left.
    const context = { getRemainingTimeInMillis: () => 60_000 - 2_000 * fake.totalCalls() };
    const { summary, lines } = await run(fake, scheduled(fake), { context, reserveMs: 10_000, concurrency: 1 });
    assert.equal(summary.partial, true);
    assert.ok(summary.skipped.length > 0 && summary.skipped.length < 40, `skipped ${summary.skipped.length}`);
    assert.equal(fake.evaluations.size + summary.skipped.length, 40, "every user is either written or named as skipped");
    for (const name of summary.skipped) assert.equal(compliance(fake, name), undefined);
    const warn = lines.find((l) => l.message === "deadline: stopped reading; these users are not evaluated this run");
    assert.deepEqual(warn?.users, summary.skipped);
    assert.equal(lines.at(-1)?.message, "run summary");
    assert.equal(lines.at(-1)?.partial, true);
  });

  it("assumes executionRoleName through STS for organization rules", async () => {
    fake.addUser("alice", { keys: [{ ageDays: 2 }] });
    const { summary } = await run(fake, scheduled(fake, { executionRoleName: "KeyageAudit" }));
    assert.equal(fake.calls.AssumeRole, 1);
    assert.equal(summary.calls.AssumeRole, 1);
    assert.equal(compliance(fake, "alice"), "COMPLIANT");
  });
});

describe("config rule over HTTP: partial trouble never costs the whole account", () => {
  let fake: FakeAws;
  beforeEach(async () => {
    fake = await startFakeAws();
  });
  afterEach(async () => {
    await fake.close();
  });

  const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `u${String(i).padStart(2, "0")}`);

  it("evaluates and writes every other user when one user's ListAccessKeys stays throttled and another's fails with a 5xx", async () => {
    fake.fail("GenerateCredentialReport", { code: "AccessDenied", times: Infinity });
    for (const name of ["alice", "bob", "carol", "dave", "erin"]) fake.addUser(name, { keys: [{ ageDays: 40 }] });
    fake.fail("ListAccessKeys", { code: "Throttling", times: Infinity, match: (p) => p.UserName === "bob" });
    fake.fail("ListAccessKeys", { code: "ServiceFailure", times: Infinity, match: (p) => p.UserName === "dave" });
    const { summary, lines } = await run(fake, scheduled(fake));
    for (const name of ["alice", "carol", "erin"]) assert.equal(compliance(fake, name), "NON_COMPLIANT", name);
    assert.equal(compliance(fake, "bob"), undefined, "no guessed verdict for bob");
    assert.equal(compliance(fake, "dave"), undefined, "no guessed verdict for dave");
    assert.deepEqual(summary.unreadable, ["bob", "dave"]);
    assert.equal(summary.written, 3);
    assert.equal(summary.partial, true);
    const warn = lines.find((l) => l.message === "could not read these users' keys; they are not evaluated this run");
    assert.deepEqual((warn?.users as { user: string }[]).map((u) => u.user), ["bob", "dave"]);
    assert.match(JSON.stringify(warn?.users), /Throttling/);
    assert.equal(lines.at(-1)?.level, "warn");
    assert.equal(lines.at(-1)?.unreadable, 2);
  });

  it("tries a throttled credential report again rather than reading every user one by one", async () => {
    for (const name of names(20)) fake.addUser(name, { keys: [{ ageDays: 40 }] });
    // More failures than the SDK's own attempts: only keyage's second try gets through.
    fake.fail("GenerateCredentialReport", { code: "Throttling", times: 5 });
    const { summary } = await run(fake, scheduled(fake));
    assert.equal(fake.calls.ListAccessKeys, undefined, "no per-user fallback");
    assert.equal(summary.calls.GenerateCredentialReport, 4, "one throttled call (the SDK's 4 attempts), one more that starts the report, a poll, COMPLETE");
    assert.equal(summary.verdicts.NON_COMPLIANT, 20);
  });

  it("reads first, on the next run, the users a deadline left unread, and leaves the same users unread twice in a row never", async () => {
    fake.fail("GenerateCredentialReport", { code: "AccessDenied", times: Infinity });
    for (const name of names(30)) fake.addUser(name, { keys: [{ ageDays: 1 }] });
    // Every request costs 2 s of the Lambda's 60: reads stop when 10 s (the reserve) are left.
    const deadline = (): LambdaContext => {
      const start = fake.totalCalls();
      return { getRemainingTimeInMillis: () => 60_000 - 2_000 * (fake.totalCalls() - start) };
    };
    const first = await run(fake, scheduled(fake), { context: deadline(), reserveMs: 10_000, concurrency: 2 });
    const second = await run(fake, scheduled(fake), { context: deadline(), reserveMs: 10_000, concurrency: 2 });
    assert.ok(first.summary.skipped.length > 0, "the deadline cut the first run short");
    assert.ok(second.summary.skipped.length > 0, "and the second");
    const both = first.summary.skipped.filter((name) => second.summary.skipped.includes(name));
    assert.deepEqual(both, [], "no user is skipped by both runs");
    for (const name of first.summary.skipped) assert.ok(compliance(fake, name), `${name} evaluated by the second run`);
  });

  it("names the earlier result each skipped user still shows, and says in the summary how many stand", async () => {
    fake.fail("GenerateCredentialReport", { code: "AccessDenied", times: Infinity });
    for (const name of names(30)) fake.addUser(name, { keys: [{ ageDays: 1 }] });
    for (const u of fake.users.values()) fake.seedEvaluation(u.userId, "NON_COMPLIANT");
    const context = { getRemainingTimeInMillis: () => 60_000 - 2_000 * fake.totalCalls() };
    const { summary, lines } = await run(fake, scheduled(fake), { context, reserveMs: 10_000, concurrency: 2 });
    assert.ok(summary.skipped.length > 0);
    assert.equal(summary.staleResults, summary.skipped.length);
    const warn = lines.find((l) => l.message === "deadline: stopped reading; these users are not evaluated this run");
    const earlier = warn?.earlierResults as { user: string; earlier: string; recordedAt?: string }[];
    assert.deepEqual(earlier.map((e) => e.user), summary.skipped);
    for (const e of earlier) {
      assert.equal(e.earlier, "NON_COMPLIANT");
      assert.match(String(e.recordedAt), /^\d{4}-\d\d-\d\dT/);
    }
    assert.equal(lines.at(-1)?.message, "run summary");
    assert.equal(lines.at(-1)?.staleResults, summary.skipped.length);
    assert.equal(lines.at(-1)?.partial, true);
  });

  it("still writes what it read when the reads ran into the reserve of a 4-second Lambda", async () => {
    fake.fail("GenerateCredentialReport", { code: "AccessDenied", times: Infinity });
    for (const name of names(20)) fake.addUser(name, { keys: [{ ageDays: 1 }] });
    // 4 s to start with; each request costs 700 ms, so the last reads overshoot the 1 s reserve.
    const context = { getRemainingTimeInMillis: () => 4_000 - 700 * fake.totalCalls() };
    const { summary } = await run(fake, scheduled(fake), { context, concurrency: 1 });
    assert.ok(summary.users > 0, "some users were read");
    assert.equal(summary.written, summary.users, "and every one of them was written");
    assert.equal(fake.evaluations.size, summary.users);
    assert.equal(summary.partial, true);
  });

  it("keeps sending the other PutEvaluations batches when Config rejects one, and reports the true numbers", async () => {
    for (const name of names(50)) fake.addUser(name, { keys: [{ ageDays: 40 }] });
    for (let i = 0; i < 450; i += 1) fake.addUser(`v${String(i).padStart(3, "0")}`, { keys: [{ ageDays: 1 }] });
    fake.fail("PutEvaluations", { code: "ValidationException", message: "1 validation error detected" });
    const lines: { level: string; message: string; [k: string]: unknown }[] = [];
    await assert.rejects(
      fake.withEnv(() =>
        evaluate(scheduled(fake), CONTEXT, { clients: defaultClientFactory(), putConcurrency: 1, log: (level, message, fields) => lines.push({ level, message, ...fields }) }),
      ),
      /100 of 500 evaluations could not be written \(PutEvaluations failed: ValidationException: 1 validation error detected\)/,
    );
    assert.equal(fake.calls.PutEvaluations, 5, "every batch was sent");
    assert.equal(fake.evaluations.size, 400);
    const summary = lines.at(-1);
    assert.equal(summary?.message, "run summary");
    assert.equal(summary?.written, 400);
    assert.equal(summary?.failed, 100);
    assert.equal(summary?.level, "error");
  });

  it("flags a key the stale report showed inactive and that was re-activated since", async () => {
    fake.addUser("dana", { keys: [{ ageDays: 100, status: "Inactive" }] });
    fake.addUser("erik", { keys: [{ ageDays: 5 }, { ageDays: 3 }] });
    fake.generateReport(new Date(fake.now() - 3600_000));
    (fake.user("dana").keys[0] as FakeKey).status = "Active"; // re-activated after the report
    const { summary } = await run(fake, scheduled(fake));
    assert.equal(compliance(fake, "dana"), "NON_COMPLIANT");
    assert.equal(compliance(fake, "erik"), "COMPLIANT");
    assert.equal(summary.calls.ListAccessKeys, 1, "two active, compliant keys need no confirmation");
  });

  it("leaves throttled writes to the SDK's retries: no second retry loop on top of its attempts", async () => {
    fake.addUser("alice", { keys: [{ ageDays: 1 }] });
    fake.fail("PutEvaluations", { code: "ThrottlingException", times: Infinity });
    await assert.rejects(fake.withEnv(() => evaluate(scheduled(fake), CONTEXT, { clients: defaultClientFactory(), log: () => undefined })), /1 of 1 evaluations could not be written/);
    assert.equal(fake.calls.PutEvaluations, SDK_MAX_ATTEMPTS);
  });

  it("sends a run's verdicts and its NOT_APPLICABLE results for deleted users through one writer, in full batches", async () => {
    for (const name of names(70)) fake.addUser(name, { keys: [{ ageDays: 1 }] });
    for (let i = 0; i < 60; i += 1) fake.seedEvaluation(`AIDAGONE${String(i).padStart(12, "0")}`, "COMPLIANT");
    const { summary } = await run(fake, scheduled(fake));
    assert.deepEqual(summary.verdicts, { COMPLIANT: 70, NON_COMPLIANT: 0, NOT_APPLICABLE: 60 });
    assert.deepEqual(fake.putRequests.map((r) => r.evaluations.length), [100, 30], "⌈130 / 100⌉ calls");
    assert.equal(summary.written, 130);
  });
});
