// On-call's alarms and failure destinations (pulumi/alarms.ts) under Pulumi's unit-test mocks: what
// `pulumi up` would create for the Config rule's evaluator and the scheduled rotator, held against the
// metrics the two Lambdas really write (shared/metrics.ts, checked as EMF in their own specs) and
// against CloudWatch's limits.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_RULE_METRICS, METRIC_DIMENSION, METRIC_NAMESPACE, ROTATOR_METRICS } from "../shared/metrics";
import { ACCOUNT, type Registered, setDeployMocks, resolveOutput as resolve } from "./deploy-mocks";

const registered: Registered[] = [];
const TOPIC = `arn:aws:sns:us-east-1:${ACCOUNT}:keyage-access-key-age-events`;

let program: typeof import("../pulumi/config-rule");
let rotatorModule: typeof import("../pulumi/rotator");
let alarms: typeof import("../pulumi/alarms");
let settingsModule: typeof import("../pulumi/settings");
let rotationSettings: typeof import("../pulumi/rotator-settings");

const unique = (stem: string) => `${stem}${registered.length}-${Math.random().toString(36).slice(2, 8)}`;
const mine = (name: string) => registered.filter((r) => r.name.startsWith(`${name}-`));
const ofType = (resources: Registered[], type: string) => resources.filter((r) => r.type === type);
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig";

async function rule(raw: Record<string, unknown> = {}, topic?: string): Promise<Registered[]> {
  const name = unique("a");
  const r = program.createKeyageRule({ settings: settingsModule.validateSettings(raw), code: new pulumi.asset.FileArchive("dist/config-rule.zip"), notificationTopicArn: topic }, name);
  await resolve(pulumi.all([r.functionArn, r.invokeConfig.urn, ...r.alarms.map((a) => a.urn), ...(r.onFailurePolicy ? [r.onFailurePolicy.urn] : [])]));
  return mine(name);
}

async function rotator(raw: Record<string, unknown>): Promise<Registered[]> {
  const name = unique("b");
  const r = new rotatorModule.KeyageRotator(name, {
    settings: settingsModule.validateSettings({}),
    rotation: rotationSettings.validateRotationSettings({ rotation: "apply", ...raw }),
    code: new pulumi.asset.FileArchive("dist/rotator.zip"),
  });
  const parts = [r.function, r.invokeConfig, ...r.alarms, r.onFailurePolicy, r.topic, r.topicPolicy].filter((x): x is NonNullable<typeof x> => x !== undefined);
  await resolve(pulumi.all(parts.map((p) => p.urn)));
  return mine(name);
}

function functionName(resources: Registered[]): string {
  const fns = ofType(resources, "aws:lambda/function:Function");
  assert.equal(fns.length, 1);
  return (fns[0]!.inputs.name as string | undefined) ?? fns[0]!.name;
}

/** Checks what every alarm must hold, whatever it watches. */
function checkAlarm(inputs: Record<string, unknown>, fn: string, metrics: readonly string[]): void {
  const name = String(inputs.name);
  assert.equal(inputs.statistic, "Sum", name);
  assert.deepEqual(inputs.dimensions, { [METRIC_DIMENSION]: fn }, `${name} watches this function only`);
  if (inputs.namespace === "AWS/Lambda") assert.equal(inputs.metricName, "Errors", name);
  else {
    assert.equal(inputs.namespace, METRIC_NAMESPACE, name);
    assert.ok(metrics.includes(String(inputs.metricName)), `${name}: ${String(inputs.metricName)} is a metric the Lambda writes`);
  }
  // PutMetricAlarm's limits: a period under an hour may span one day; an hour or more, seven days.
  const span = Number(inputs.period) * Number(inputs.evaluationPeriods);
  assert.ok(Number(inputs.period) >= 3600 ? span <= 604_800 : span <= 86_400, `${name}: ${span} s of evaluation is more than CloudWatch allows`);
  assert.ok(Number(inputs.datapointsToAlarm) <= Number(inputs.evaluationPeriods), name);
}

describe("deploy: alarms and failure destinations (Pulumi program under mocks)", () => {
  before(async function loadProgram() {
    this.timeout(20000);
    await setDeployMocks({ onResource: (r) => void registered.push(r) });
    program = await import("../pulumi/config-rule");
    rotatorModule = await import("../pulumi/rotator");
    alarms = await import("../pulumi/alarms");
    settingsModule = await import("../pulumi/settings");
    rotationSettings = await import("../pulumi/rotator-settings");
  });

  describe("the Config rule's evaluator", () => {
    it("alarms on errors, on no scheduled run for 26 hours and on partial runs, each on a metric the Lambda writes, all to the notification topic", async () => {
      const resources = await rule({}, TOPIC);
      const fn = functionName(resources);
      const byName = Object.fromEntries(ofType(resources, ALARM).map((a) => [a.inputs.name as string, a.inputs]));
      assert.deepEqual(Object.keys(byName).sort(), ["keyage-access-key-age-errors", "keyage-access-key-age-missed-run", "keyage-access-key-age-partial"]);
      for (const inputs of Object.values(byName)) {
        checkAlarm(inputs, fn, CONFIG_RULE_METRICS);
        assert.deepEqual(inputs.alarmActions, [TOPIC]);
      }
      const errors = byName["keyage-access-key-age-errors"]!;
      assert.deepEqual([errors.namespace, errors.metricName, errors.comparisonOperator, errors.threshold, errors.treatMissingData], ["AWS/Lambda", "Errors", "GreaterThanOrEqualToThreshold", 1, "notBreaching"]);
      const partial = byName["keyage-access-key-age-partial"]!;
      assert.deepEqual([partial.metricName, partial.comparisonOperator, partial.threshold, partial.treatMissingData], ["Partial", "GreaterThanOrEqualToThreshold", 1, "notBreaching"]);
    });

    it("goes off only when none of the last 26 hours saw a completed scheduled run: an hour without a run counts against it, one run clears it", async () => {
      const resources = await rule({}, TOPIC);
      const missed = ofType(resources, ALARM).find((a) => String(a.inputs.name).endsWith("-missed-run"))!.inputs;
      assert.equal(missed.metricName, "ScheduledRunCompleted", "a change-triggered run says nothing about the daily sweep");
      assert.equal(Number(missed.period) * Number(missed.evaluationPeriods), 26 * 3600);
      assert.equal(missed.datapointsToAlarm, missed.evaluationPeriods, "every hour must be empty");
      assert.deepEqual([missed.comparisonOperator, missed.threshold, missed.treatMissingData], ["LessThanThreshold", 1, "breaching"]);
      assert.deepEqual(missed.okActions, [TOPIC], "on-call hears when runs come back");
    });

    it("sends a failed invocation to the notification topic, and lets the execution role publish to that topic only", async () => {
      const resources = await rule({}, TOPIC);
      const [config] = ofType(resources, INVOKE_CONFIG);
      assert.deepEqual(config?.inputs.destinationConfig, { onFailure: { destination: TOPIC } });
      assert.equal(config?.inputs.maximumRetryAttempts, 0);
      const grant = ofType(resources, "aws:iam/rolePolicy:RolePolicy").find((r) => r.name.endsWith("-on-failure"));
      assert.ok(grant, "a grant for the destination");
      assert.deepEqual(JSON.parse(grant.inputs.policy as string).Statement, [{ Sid: "OnFailureDestination", Effect: "Allow", Action: ["sns:Publish"], Resource: TOPIC }]);
      const role = ofType(resources, "aws:iam/role:Role").find((r) => r.name.endsWith("-lambda"))!;
      assert.equal(grant.inputs.role, `${role.name}-id`, "on the evaluator's own role");
    });

    it("without a topic, still creates the alarms (console only) and sets no destination and no grant", async () => {
      const resources = await rule({});
      const found = ofType(resources, ALARM);
      assert.equal(found.length, 3);
      for (const a of found) assert.deepEqual(a.inputs.alarmActions ?? [], []);
      assert.equal(ofType(resources, INVOKE_CONFIG)[0]?.inputs.destinationConfig, undefined);
      assert.ok(!resources.some((r) => r.name.endsWith("-on-failure")));
    });

    it("names the alarms after a custom rule name, inside the keyage-* names the deployer may manage", async () => {
      const resources = await rule({ ruleName: "keyage-prod" }, TOPIC);
      assert.deepEqual(ofType(resources, ALARM).map((a) => a.inputs.name).sort(), ["keyage-prod-errors", "keyage-prod-missed-run", "keyage-prod-partial"]);
    });
  });

  describe("the scheduled rotator", () => {
    it("alarms on errors, a missed run, partial runs and Rotation Blocked, on the metrics the rotator writes, to its events topic", async () => {
      const resources = await rotator({ notificationEmail: "ops@example.com" });
      const fn = functionName(resources);
      const topic = ofType(resources, "aws:sns/topic:Topic")[0]!;
      const topicArn = `arn:aws:sns:us-east-1:${ACCOUNT}:${topic.inputs.name as string}`;
      const byName = Object.fromEntries(ofType(resources, ALARM).map((a) => [a.inputs.name as string, a.inputs]));
      assert.deepEqual(Object.keys(byName).sort(), [
        "keyage-access-key-age-rotator-blocked", "keyage-access-key-age-rotator-errors", "keyage-access-key-age-rotator-missed-run", "keyage-access-key-age-rotator-partial",
      ]);
      for (const inputs of Object.values(byName)) {
        checkAlarm(inputs, fn, ROTATOR_METRICS);
        assert.deepEqual(inputs.alarmActions, [topicArn]);
      }
      assert.equal(byName["keyage-access-key-age-rotator-missed-run"]!.metricName, "RunCompleted");
      assert.equal(byName["keyage-access-key-age-rotator-blocked"]!.metricName, "Blocked");
      assert.equal(byName["keyage-access-key-age-rotator-blocked"]!.comparisonOperator, "GreaterThanOrEqualToThreshold");
      const [config] = ofType(resources, INVOKE_CONFIG);
      assert.deepEqual(config?.inputs.destinationConfig, { onFailure: { destination: topicArn } });
      const grant = ofType(resources, "aws:iam/rolePolicy:RolePolicy").find((r) => r.name.endsWith("-on-failure"))!;
      assert.deepEqual(JSON.parse(grant.inputs.policy as string).Statement[0].Resource, topicArn);
    });

    it("lets CloudWatch publish to the events topic only for keyage's own alarms of this account, next to the events rule", async () => {
      const resources = await rotator({ notificationEmail: "ops@example.com" });
      const policy = JSON.parse(ofType(resources, "aws:sns/topicPolicy:TopicPolicy")[0]!.inputs.policy as string) as { Statement: Record<string, unknown>[] };
      assert.deepEqual(policy.Statement.map((s) => s.Principal), [{ Service: "events.amazonaws.com" }, { Service: "cloudwatch.amazonaws.com" }]);
      const alarm = policy.Statement[1]!;
      assert.deepEqual(alarm.Action, ["sns:Publish"]);
      assert.deepEqual(alarm.Condition, {
        ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:keyage-access-key-age-*` },
        StringEquals: { "aws:SourceAccount": ACCOUNT },
      });
    });

    it("leaves out the missed-run alarm for a schedule less often than daily, rather than one that always goes off", async () => {
      const weekly = await rotator({ rotationSchedule: "rate(7 days)" });
      assert.deepEqual(ofType(weekly, ALARM).map((a) => String(a.inputs.name).replace("keyage-access-key-age-rotator-", "")).sort(), ["blocked", "errors", "partial"]);
      for (const [schedule, daily] of [
        ["rate(1 day)", true], ["rate(12 hours)", true], ["rate(30 minutes)", true], ["rate(24 hours)", true], ["rate(2 days)", false], ["rate(25 hours)", false],
        ["cron(0 3 * * ? *)", true], ["cron(0 3 ? * MON-FRI *)", false], ["cron(0 3 1 * ? *)", false], ["at(2027-01-01T00:00:00)", false],
      ] as const) {
        assert.equal(alarms.runsDaily(schedule), daily, schedule);
      }
    });
  });

  describe("the notification topic without the rotator", () => {
    it("is created when an email address is given, though the rotator is off, and the settings say so", async () => {
      assert.deepEqual(settingsModule.validateSettings({ notificationEmail: "ops@example.com" }).notification, { email: "ops@example.com" });
      assert.deepEqual(settingsModule.validateSettings({ notificationTopic: "true" }).notification, {});
      assert.equal(settingsModule.validateSettings({}).notification, undefined);
      const name = unique("c");
      const made = alarms.createNotificationTopic(name, { ruleName: "keyage-access-key-age", email: "ops@example.com", tags: {} });
      await resolve(pulumi.all([made.topic.urn, made.policy.urn, made.subscription!.urn]));
      const resources = mine(name);
      assert.equal(ofType(resources, "aws:sns/topic:Topic")[0]?.inputs.name, "keyage-access-key-age-alarms");
      assert.deepEqual(ofType(resources, "aws:sns/topicSubscription:TopicSubscription")[0]?.inputs.endpoint, "ops@example.com");
      const policy = JSON.parse(ofType(resources, "aws:sns/topicPolicy:TopicPolicy")[0]!.inputs.policy as string) as { Statement: Record<string, unknown>[] };
      assert.deepEqual(policy.Statement.map((s) => s.Principal), [{ Service: "cloudwatch.amazonaws.com" }], "only keyage's alarms publish through the topic policy");
    });
  });
});
