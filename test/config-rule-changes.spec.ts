// keyage:reevaluateOnChange on the fakes: IAM's CloudTrail events reach the changes queue, the tick
// starts the Config rule, and the rule confirms the named users live (real SDK over HTTP to test/fake-aws).
import { strict as assert } from "node:assert";
import { ConfigServiceClient } from "@aws-sdk/client-config-service";
import { SQSClient } from "@aws-sdk/client-sqs";
import { defaultClientFactory } from "../aws/clients";
import { evaluate, type LambdaContext, type RunSummary } from "../config-rule/evaluate";
import { changedUser, keyChangeEventPattern, MAX_CHANGED_USERS, startIfChanged, type ChangeQueue } from "../config-rule/changes";
import { startFakeAws, type FakeAws } from "./fake-aws";
import { addQueue, addRuleStarts, cloudTrailEvent, type FakeQueue } from "./fake-aws/sqs";

const DAY = 86_400_000;
const MIN = 60_000;
const CONTEXT: LambdaContext = { getRemainingTimeInMillis: () => 300_000 };

function scheduled(fake: FakeAws, token = "token-1"): Record<string, unknown> {
  return {
    invokingEvent: JSON.stringify({ messageType: "ScheduledNotification", notificationCreationTime: new Date(fake.now()).toISOString(), awsAccountId: fake.accountId }),
    ruleParameters: "{}",
    resultToken: token,
    eventLeftScope: false,
    configRuleName: fake.ruleName,
    accountId: fake.accountId,
  };
}

function clientsOf(fake: FakeAws, queue: FakeQueue): { changes: ChangeQueue; config: ConfigServiceClient } {
  const sqs = new SQSClient({ region: "us-east-1", endpoint: fake.url, maxAttempts: 1 });
  return { changes: { sqs, queueUrl: queue.url }, config: new ConfigServiceClient({ region: "eu-west-1", endpoint: fake.url, maxAttempts: 1 }) };
}

async function runRule(fake: FakeAws, changes: ChangeQueue | undefined, lines: string[] = []): Promise<RunSummary> {
  return fake.withEnv(() =>
    evaluate(scheduled(fake), CONTEXT, {
      clients: defaultClientFactory(),
      log: (_level, message) => void lines.push(message),
      sleep: async () => undefined,
      now: fake.now,
      ...(changes ? { changes } : {}),
    }),
  );
}

/** Rotates `name`'s only key on the fake IAM: a new key, the old one deleted; returns the events CloudTrail would send. */
function rotate(fake: FakeAws, name: string): Record<string, unknown>[] {
  const user = fake.user(name);
  const old = user.keys[0];
  fake.addKey(name, { ageDays: 0 });
  if (old) user.keys.splice(user.keys.indexOf(old), 1);
  const at = new Date(fake.now());
  return ["CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey"].map((e) => cloudTrailEvent(e, name, fake.accountId, at));
}

describe("re-evaluation on key changes (reevaluateOnChange)", () => {
  let fake: FakeAws;
  let clock: number;
  let queue: FakeQueue;
  beforeEach(async () => {
    clock = Date.parse("2026-12-01T10:00:00Z");
    fake = await startFakeAws({ now: () => clock });
    queue = addQueue(fake);
  });
  afterEach(async () => {
    await fake.close();
  });

  it("turns a rotated user COMPLIANT in one run although the report, made before the rotation, still shows the old key", async () => {
    fake.addUser("alice", { keys: [{ ageDays: 45 }] });
    fake.addUser("bob", { keys: [{ ageDays: 3 }] });
    await runRule(fake, undefined);
    assert.equal(fake.evaluations.get(fake.user("alice").userId)?.complianceType, "NON_COMPLIANT");

    // The rotator's run: a report at 10:00 (IAM reuses it for 4 hours), then the rotation at 10:02.
    clock += DAY;
    fake.generateReport();
    clock += 2 * MIN;
    for (const e of rotate(fake, "alice")) queue.deliver(e);
    // The change-driven run 6 minutes after the report: "fresh" (under 15 minutes), so only the named user is read.
    clock += 4 * MIN;
    fake.resetCounts();
    const { changes } = clientsOf(fake, queue);
    const lines: string[] = [];
    const summary = await runRule(fake, changes, lines);

    assert.equal(fake.evaluations.get(fake.user("alice").userId)?.complianceType, "COMPLIANT");
    assert.equal(fake.calls.ListAccessKeys, 1, "only the named user is confirmed");
    assert.equal(fake.calls.GenerateCredentialReport, 1, "the report IAM already had is used");
    assert.deepEqual(summary.changes, { messages: 3, users: 1, complete: true, acknowledged: true });
    assert.equal(queue.messages.length, 0, "the messages read are deleted once written");
    assert.equal(summary.written, 1, "only what changed is written (bob's result stands)");
    assert.ok(lines.includes("key changes read"));
  });

  it("a later run on the same report does not undo a change an earlier run confirmed (and deleted from the queue)", async () => {
    fake.addUser("alice", { keys: [{ ageDays: 45 }] });
    await runRule(fake, undefined);
    clock += DAY;
    fake.generateReport();
    clock += MIN;
    for (const e of rotate(fake, "alice")) queue.deliver(e);
    clock += 5 * MIN;
    const { changes } = clientsOf(fake, queue);
    await runRule(fake, changes);
    assert.equal(fake.evaluations.get(fake.user("alice").userId)?.complianceType, "COMPLIANT");
    assert.equal(queue.messages.length, 0);
    // 5 minutes later, another run (another user's change, or the daily run) on the same, still fresh report.
    clock += 5 * MIN;
    fake.resetCounts();
    await runRule(fake, changes);
    assert.equal(fake.evaluations.get(fake.user("alice").userId)?.complianceType, "COMPLIANT");
    assert.equal(fake.calls.ListAccessKeys, 1, "alice's newer result contradicts the report's row: read live");
  });

  it("without the change, the same report keeps the old key's verdict (what the queue fixes)", async () => {
    fake.addUser("alice", { keys: [{ ageDays: 45 }] });
    fake.generateReport();
    clock += 2 * MIN;
    rotate(fake, "alice");
    clock += 4 * MIN;
    await runRule(fake, undefined);
    assert.equal(fake.evaluations.get(fake.user("alice").userId)?.complianceType, "NON_COMPLIANT");
  });

  it("200 rotations in a minute start at most 2 re-evaluations, also when Config first refuses (LimitExceeded) and the next tick retries", async () => {
    for (let i = 0; i < 200; i += 1) fake.addUser(`svc-${i}`, { keys: [{ ageDays: 40 }] });
    await runRule(fake, undefined);
    const starts = addRuleStarts(fake);
    const { changes, config } = clientsOf(fake, queue);
    let runs = 0;
    starts.onStart = async () => {
      runs += 1;
      await runRule(fake, changes);
    };
    // The daily run is in progress until 10:06: the first two ticks are refused.
    clock += DAY;
    fake.generateReport();
    starts.busyUntil = clock + 6 * MIN;
    const tick = (): Promise<unknown> => fake.withEnv(() => startIfChanged({ ...changes, config, ruleName: fake.ruleName }));

    const ticks: number[] = [0.5, 5.5, 10.5, 15.5, 20.5].map((m) => clock + m * MIN);
    const rotations = Array.from({ length: 200 }, (_, i) => ({ at: clock + (i * 60_000) / 200, user: `svc-${i}` }));
    const end = clock + 25 * MIN;
    const results: unknown[] = [];
    for (let t = clock; t <= end; t += 1000) {
      clock = t;
      for (const r of rotations.filter((x) => x.at <= t && x.at > t - 1000)) for (const e of rotate(fake, r.user)) queue.deliver(e);
      if (ticks.some((x) => x <= t && x > t - 1000)) {
        results.push(await tick());
        await starts.settle();
      }
    }

    assert.ok(starts.accepted.length >= 1 && starts.accepted.length <= 2, `accepted starts: ${starts.accepted.length}`);
    assert.ok(starts.refused.length >= 1, "Config refused while the daily run was in progress");
    assert.ok(starts.accepted[0]! > starts.refused[0]!, "the refused start was retried by a later tick");
    assert.equal(runs, starts.accepted.length);
    for (let i = 0; i < 200; i += 1) assert.equal(fake.evaluations.get(fake.user(`svc-${i}`).userId)?.complianceType, "COMPLIANT", `svc-${i}`);
    assert.equal(queue.messages.length, 0);
    assert.deepEqual(results.at(-1), { waiting: 0, started: false }, "an empty queue starts nothing");
  });

  it("200 rotations in a minute with Config free start at most 2 re-evaluations", async () => {
    for (let i = 0; i < 200; i += 1) fake.addUser(`svc-${i}`, { keys: [{ ageDays: 40 }] });
    const starts = addRuleStarts(fake);
    const { changes, config } = clientsOf(fake, queue);
    starts.onStart = () => runRule(fake, changes).then(() => undefined);
    fake.generateReport();
    const t0 = clock;
    for (let t = t0; t <= t0 + 30 * MIN; t += 1000) {
      clock = t;
      const i = Math.floor((t - t0) / 300);
      if (t - t0 < 60_000) for (let j = i; j < Math.min(200, i + 4); j += 1) if (fake.user(`svc-${j}`).keys[0]!.createDate.getTime() < t0) for (const e of rotate(fake, `svc-${j}`)) queue.deliver(e);
      // The tick's schedule: every 5 minutes, the first 20 s into the burst.
      if ((t - t0 - 20_000) % (5 * MIN) === 0) {
        await fake.withEnv(() => startIfChanged({ ...changes, config, ruleName: fake.ruleName }));
        await starts.settle();
      }
    }
    assert.ok(starts.accepted.length <= 2, `accepted starts: ${starts.accepted.length}`);
    for (let i = 0; i < 200; i += 1) assert.equal(fake.evaluations.get(fake.user(`svc-${i}`).userId)?.complianceType, "COMPLIANT", `svc-${i}`);
  });

  it("caps the users one run names: beyond the cap the report counts as stale, and messages are never trusted for a verdict", async () => {
    fake.addUser("alice", { keys: [{ ageDays: 45 }] });
    fake.generateReport();
    for (let i = 0; i <= MAX_CHANGED_USERS; i += 1) queue.deliver(cloudTrailEvent("DeleteAccessKey", `ghost-${i}`, fake.accountId));
    // A forged message saying alice's key is new changes nothing: her keys are read live.
    queue.deliver(cloudTrailEvent("CreateAccessKey", "alice", fake.accountId, new Date(clock), { responseElements: { accessKey: { userName: "alice", status: "Active", createDate: new Date(clock).toISOString() } } }));
    clock += 5 * MIN;
    const { changes } = clientsOf(fake, queue);
    const dbg: string[] = [];
    const summary = await runRule(fake, changes, dbg);
    assert.equal(summary.changes?.users, MAX_CHANGED_USERS);
    assert.equal(summary.changes?.complete, false);
    assert.equal(fake.evaluations.get(fake.user("alice").userId)?.complianceType, "NON_COMPLIANT");
    assert.equal(fake.calls.ListAccessKeys, 1, "alice is confirmed (stale report), the ghosts are not IAM users");
  });

  it("keeps the messages for the next run when the write fails", async () => {
    fake.addUser("alice", { keys: [{ ageDays: 45 }] });
    fake.generateReport();
    for (const e of rotate(fake, "alice")) queue.deliver(e);
    fake.fail("PutEvaluations", { code: "InternalFailure", status: 500, times: 10 });
    const { changes } = clientsOf(fake, queue);
    await assert.rejects(() => runRule(fake, changes));
    assert.equal(queue.messages.length, 3);
  });

  it("the tick handler (index.reevaluate) starts the rule named in its environment when changes wait, and says what it needs when not configured", async () => {
    const { reevaluate } = await import("../config-rule/index");
    const saved = { ...process.env };
    try {
      delete process.env.KEYAGE_CHANGE_QUEUE_URL;
      await assert.rejects(() => reevaluate({}), /reevaluate needs KEYAGE_CHANGE_QUEUE_URL and KEYAGE_CONFIG_RULE_NAME/);
      Object.assign(process.env, { KEYAGE_CHANGE_QUEUE_URL: queue.url, KEYAGE_CHANGE_QUEUE_REGION: "us-east-1", KEYAGE_CONFIG_RULE_NAME: fake.ruleName, LOG_LEVEL: "error" });
      const starts = addRuleStarts(fake);
      assert.deepEqual(await fake.withEnv(() => reevaluate({})), { waiting: 0, started: false });
      queue.deliver(cloudTrailEvent("DeleteAccessKey", "alice", fake.accountId));
      assert.deepEqual(await fake.withEnv(() => reevaluate({})), { waiting: 1, started: true });
      starts.busyUntil = clock + MIN;
      const busy = await fake.withEnv(() => reevaluate({}));
      assert.equal(busy.started, false);
      assert.match(busy.busy ?? "", /LimitExceededException/);
      assert.equal(queue.messages.length, 1, "the tick never reads or deletes a message");
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it("leaves the queue alone in a TESTMODE run and in a change notification's run", async () => {
    fake.addUser("alice", { keys: [{ ageDays: 45 }] });
    for (const e of rotate(fake, "alice")) queue.deliver(e);
    const { changes } = clientsOf(fake, queue);
    const run = (event: Record<string, unknown>): Promise<RunSummary> =>
      fake.withEnv(() => evaluate(event, CONTEXT, { clients: defaultClientFactory(), log: () => undefined, sleep: async () => undefined, now: fake.now, changes }));
    const test = await run({ ...scheduled(fake), resultToken: "TESTMODE" });
    const change = await run({
      ...scheduled(fake),
      invokingEvent: JSON.stringify({
        messageType: "ConfigurationItemChangeNotification",
        notificationCreationTime: new Date(clock).toISOString(),
        configurationItem: { resourceType: "AWS::IAM::User", resourceId: fake.user("alice").userId, resourceName: "alice", configurationItemStatus: "OK", configurationItemCaptureTime: new Date(clock).toISOString() },
      }),
    });
    for (const summary of [test, change]) assert.equal(summary.changes, undefined);
    assert.equal(fake.calls.ReceiveMessage, undefined);
    assert.equal(queue.messages.length, 3);
  });

  it("reads a user name only from a successful key change: no name, another account, a failed call or another event name give none", () => {
    const ok = cloudTrailEvent("UpdateAccessKey", "alice", "123456789012");
    assert.equal(changedUser(JSON.stringify(ok), "123456789012"), "alice");
    assert.equal(changedUser(JSON.stringify(ok), "210987654321"), undefined);
    assert.equal(changedUser(JSON.stringify(cloudTrailEvent("CreateUser", "alice", "123456789012"))), undefined);
    assert.equal(changedUser(JSON.stringify(cloudTrailEvent("DeleteUser", "alice", "123456789012", new Date(), { errorCode: "AccessDenied" }))), undefined);
    assert.equal(changedUser(JSON.stringify(cloudTrailEvent("DeleteAccessKey", "a b<script>", "123456789012"))), undefined);
    assert.equal(changedUser("not json"), undefined);
    const self = cloudTrailEvent("CreateAccessKey", "x", "123456789012", new Date(), { requestParameters: {}, userIdentity: { type: "IAMUser", userName: "carol" } });
    assert.equal(changedUser(JSON.stringify(self)), "carol", "a call without UserName acts on the calling IAM user");
    assert.deepEqual((keyChangeEventPattern().detail as { eventName: string[] }).eventName, ["CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "DeleteUser"]);
  });
});
