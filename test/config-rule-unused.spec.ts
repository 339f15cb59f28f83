// The Config rule's `maxUnusedDays`: the real SDK over HTTP against the local fake (test/fake-aws), the
// clock injected. A key is NON_COMPLIANT as unused only after GetAccessKeyLastUsed agrees, and that call
// is made only for keys whose verdict it can change.
import { strict as assert } from "node:assert";
import { defaultClientFactory } from "../aws/clients";
import { evaluate, type LambdaContext, type RunSummary } from "../config-rule/evaluate";
import { ParameterError } from "../shared";
import { startFakeAws, type FakeAws, type FakeUser } from "./fake-aws";

const DAY = 86_400_000;
const T0 = Date.parse("2026-11-29T12:00:00Z");
const CONTEXT: LambdaContext = { getRemainingTimeInMillis: () => 300_000 };

function scheduled(fake: FakeAws, ruleParameters: Record<string, unknown>): Record<string, unknown> {
  return {
    invokingEvent: JSON.stringify({ messageType: "ScheduledNotification", notificationCreationTime: new Date(fake.now()).toISOString(), awsAccountId: fake.accountId }),
    ruleParameters: JSON.stringify(ruleParameters),
    resultToken: "token-1",
    configRuleName: fake.ruleName,
    accountId: fake.accountId,
  };
}

function change(fake: FakeAws, user: FakeUser, ruleParameters: Record<string, unknown>): Record<string, unknown> {
  const item = { resourceType: "AWS::IAM::User", resourceId: user.userId, resourceName: user.name, configurationItemStatus: "OK", configurationItemCaptureTime: new Date(fake.now()).toISOString() };
  return { invokingEvent: JSON.stringify({ messageType: "ConfigurationItemChangeNotification", configurationItem: item }), ruleParameters: JSON.stringify(ruleParameters), resultToken: "token-2", configRuleName: fake.ruleName };
}

async function run(fake: FakeAws, event: Record<string, unknown>): Promise<RunSummary> {
  return fake.withEnv(() => evaluate(event, CONTEXT, { clients: defaultClientFactory(), now: fake.now, log: () => undefined, sleep: async () => undefined }));
}

const PARAMS = { maxAccessKeyAge: "90", maxUnusedDays: "45" };

describe("config rule: maxUnusedDays", () => {
  let fake: FakeAws;
  let clock = T0;
  beforeEach(async () => {
    clock = T0;
    fake = await startFakeAws({ now: () => clock });
  });
  afterEach(async () => {
    await fake.close();
  });

  const result = (name: string): { complianceType: string; annotation?: string } | undefined => fake.evaluations.get(fake.user(name).userId);

  it("marks an unused key NON_COMPLIANT with a dated annotation, asking GetAccessKeyLastUsed only for keys that may be unused", async () => {
    fake.addUser("busy", { keys: [{ ageDays: 60, lastUsedDate: new Date(T0 - DAY) }] });
    fake.addUser("young", { keys: [{ ageDays: 5 }] });
    fake.addUser("expired", { keys: [{ ageDays: 120 }] });
    fake.addUser("idle", { keys: [{ createDate: new Date("2026-09-01T10:00:00Z"), lastUsedDate: new Date("2026-09-15T10:00:00Z") }] });
    const summary = await run(fake, scheduled(fake, PARAMS));
    assert.equal(result("busy")?.complianceType, "COMPLIANT");
    assert.equal(result("young")?.complianceType, "COMPLIANT");
    assert.equal(result("expired")?.complianceType, "NON_COMPLIANT");
    assert.deepEqual(result("idle"), {
      ...result("idle"),
      complianceType: "NON_COMPLIANT",
      annotation: "Access key created 2026-09-01, last used 2026-09-15, passed the 45-day unused limit on 2026-10-30; deactivate or delete it.",
    });
    assert.equal(summary.calls.GetAccessKeyLastUsed, 1, "only idle's key could be unused");
    assert.equal(summary.calls.ListAccessKeys, 1, "and one ListAccessKeys to learn its id");
  });

  it("believes GetAccessKeyLastUsed over a credential report that says the key was never used (N/A)", async () => {
    const late = fake.addUser("late", { keys: [{ ageDays: 60 }] });
    fake.generateReport(new Date(T0 - 5 * 60_000)); // fresh: 5 minutes old
    (late.keys[0] as { lastUsedDate?: Date }).lastUsedDate = new Date(T0 - 60_000);
    const summary = await run(fake, scheduled(fake, PARAMS));
    assert.equal(result("late")?.complianceType, "COMPLIANT");
    assert.equal(summary.calls.GetAccessKeyLastUsed, 1);
  });

  it("costs nothing extra with the parameter off: no GetAccessKeyLastUsed, no ListAccessKeys", async () => {
    fake.addUser("idle", { keys: [{ ageDays: 60 }] });
    const summary = await run(fake, scheduled(fake, { maxAccessKeyAge: "90" }));
    assert.equal(result("idle")?.complianceType, "COMPLIANT");
    assert.equal(summary.calls.GetAccessKeyLastUsed, undefined);
    assert.equal(summary.calls.ListAccessKeys, undefined);
  });

  it("writes an unchanged unused verdict only once: the next day's run sends nothing for it", async () => {
    fake.addUser("idle", { keys: [{ ageDays: 60 }] });
    await run(fake, scheduled(fake, PARAMS));
    fake.resetCounts();
    clock += DAY;
    const summary = await run(fake, scheduled(fake, PARAMS));
    assert.equal(summary.skippedUnchanged, 1);
    assert.equal(fake.putRequests.flatMap((r) => r.evaluations).length, 0);
  });

  it("evaluates a change notification with the key's last use", async () => {
    const idle = fake.addUser("idle", { keys: [{ ageDays: 60 }] });
    const summary = await run(fake, change(fake, idle, PARAMS));
    assert.equal(result("idle")?.complianceType, "NON_COMPLIANT");
    assert.equal(summary.calls.GetAccessKeyLastUsed, 1);
  });

  for (const bad of ["0", "3651", "x"]) {
    it(`refuses maxUnusedDays ${JSON.stringify(bad)}, naming the parameter, and writes nothing`, async () => {
      fake.addUser("idle", { keys: [{ ageDays: 60 }] });
      await assert.rejects(run(fake, scheduled(fake, { maxUnusedDays: bad })), (err: unknown) => err instanceof ParameterError && /^maxUnusedDays must be a whole number of days from 1 to 3650/.test(err.message));
      assert.equal(fake.putRequests.length, 0);
    });
  }
});
