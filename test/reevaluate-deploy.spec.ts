// keyage:reevaluateOnChange in the deploy (Pulumi mocks): the EventBridge rule on IAM's CloudTrail events
// is made in us-east-1 whatever the rule's Region, sends to the changes queue, and a 5-minute tick starts
// this rule only; with the option off, or in organization mode, none of it exists.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { ACCOUNT, type Registered, setDeployMocks } from "./deploy-mocks";

const registered: Registered[] = [];
let components: typeof import("../pulumi");

function resolve<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((done) => output.apply(done));
}

function unique(stem: string): string {
  return `${stem}${registered.length}${Math.random().toString(36).slice(2, 7)}`;
}

const mine = (name: string) => registered.filter((r) => r.name === name || r.name.startsWith(`${name}-`));
const KEY_TYPES = ["aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventTarget:EventTarget", "aws:sqs/queue:Queue", "aws:sqs/queuePolicy:QueuePolicy", "pulumi:providers:aws"];

describe("reevaluateOnChange in the deploy (Pulumi mocks)", () => {
  before(async function load() {
    this.timeout(20000);
    await setDeployMocks({ onResource: (r) => void registered.push(r) });
    components = await import("../pulumi");
  });

  it("makes the EventBridge rule with a provider of us-east-1, matching the four key changes, and sends them to the changes queue there", async () => {
    const name = unique("onchange");
    const rule = new components.KeyageConfigRule(name, { code: new pulumi.asset.FileArchive("dist/config-rule.zip") });
    await resolve(pulumi.all([rule.ruleArn, rule.reevaluate!.scheduleTarget.urn, rule.keyChanges!.eventTarget.urn, rule.keyChanges!.queuePolicy.urn]));
    await new Promise((done) => setTimeout(done, 50));
    const resources = mine(name);
    const provider = resources.find((r) => r.type === "pulumi:providers:aws");
    assert.equal(provider?.inputs.region, "us-east-1");
    const providerUrn = await resolve(rule.keyChanges!.provider.urn);

    const eventRule = resources.find((r) => r.type === "aws:cloudwatch/eventRule:EventRule" && r.inputs.eventPattern !== undefined);
    assert.ok(eventRule, "an event-pattern rule");
    assert.ok(eventRule.provider?.startsWith(`${providerUrn}::`), `its provider is the us-east-1 one: ${eventRule.provider}`);
    const pattern = JSON.parse(eventRule.inputs.eventPattern as string) as { source: string[]; "detail-type": string[]; detail: { eventName: string[]; errorCode: unknown } };
    assert.deepEqual(pattern.source, ["aws.iam"]);
    assert.deepEqual(pattern["detail-type"], ["AWS API Call via CloudTrail"]);
    assert.deepEqual([...pattern.detail.eventName].sort(), ["CreateAccessKey", "DeleteAccessKey", "DeleteUser", "UpdateAccessKey"]);
    assert.deepEqual(pattern.detail.errorCode, [{ exists: false }], "failed calls are not changes");

    const queue = resources.find((r) => r.type === "aws:sqs/queue:Queue");
    assert.ok(queue?.provider?.startsWith(`${providerUrn}::`), "the queue is in us-east-1 too (an SQS target must be in the rule's Region)");
    assert.equal(queue!.inputs.name, "keyage-access-key-age-changes");
    const target = resources.find((r) => r.type === "aws:cloudwatch/eventTarget:EventTarget" && r.inputs.rule === eventRule.inputs.name);
    assert.equal(target?.inputs.arn, `arn:aws:sqs:us-east-1:${ACCOUNT}:keyage-access-key-age-changes`);
    assert.ok(target.provider?.startsWith(`${providerUrn}::`));
    const queuePolicy = JSON.parse(resources.find((r) => r.type === "aws:sqs/queuePolicy:QueuePolicy")!.inputs.policy as string) as { Statement: { Principal: unknown; Condition: unknown }[] };
    assert.deepEqual(queuePolicy.Statement[0]!.Principal, { Service: "events.amazonaws.com" });
    assert.deepEqual(queuePolicy.Statement[0]!.Condition, { ArnEquals: { "aws:SourceArn": `arn:aws:events:us-east-1:${ACCOUNT}:rule/keyage-access-key-age-changes` } });

    // The evaluator is told where the queue is; the tick runs every 5 minutes in the rule's Region, with this rule's name.
    const evaluator = resources.find((r) => r.type === "aws:lambda/function:Function" && r.inputs.handler === "index.handler");
    assert.deepEqual((evaluator?.inputs.environment as { variables: Record<string, string> }).variables, {
      KEYAGE_CHANGE_QUEUE_URL: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/keyage-access-key-age-changes`,
      KEYAGE_CHANGE_QUEUE_REGION: "us-east-1",
    });
    const tick = resources.find((r) => r.type === "aws:lambda/function:Function" && r.inputs.handler === "index.reevaluate");
    assert.equal(tick?.provider, undefined, "the tick runs in the rule's Region (the default provider)");
    assert.equal((tick!.inputs.environment as { variables: Record<string, string> }).variables.KEYAGE_CONFIG_RULE_NAME, "keyage-access-key-age");
    const schedule = resources.find((r) => r.type === "aws:cloudwatch/eventRule:EventRule" && r.inputs.scheduleExpression !== undefined);
    assert.equal(schedule?.inputs.scheduleExpression, "rate(5 minutes)");
    // A start must mean one periodic run, not one re-evaluation per user's configuration item.
    const configRule = resources.find((r) => r.type === "aws:cfg/rule:Rule");
    assert.deepEqual((configRule?.inputs.source as { sourceDetails: { messageType: string }[] }).sourceDetails.map((d) => d.messageType), ["ScheduledNotification"]);
    const tickRole = resources.find((r) => r.type === "aws:iam/role:Role" && r.name === `${name}-reevaluate`);
    assert.ok(String(tickRole?.inputs.permissionsBoundary).endsWith(":policy/keyage-access-key-age-boundary"), "the tick's role carries keyage's boundary");
  });

  it("alarms to the notification topic when the tick keeps failing (15 minutes of errors: the promise is broken)", async () => {
    const name = unique("tickalarm");
    const rule = new components.KeyageConfigRule(name, { code: new pulumi.asset.FileArchive("dist/config-rule.zip"), notificationEmail: "ops@example.com" });
    await resolve(pulumi.all([rule.ruleArn, rule.reevaluate!.function.name, rule.notificationTopicArn!]));
    await new Promise((done) => setTimeout(done, 50));
    const alarm = mine(name).find((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && r.inputs.name === "keyage-access-key-age-recheck-errors");
    assert.ok(alarm, "an alarm on the tick");
    assert.equal(alarm.inputs.namespace, "AWS/Lambda");
    assert.equal(alarm.inputs.metricName, "Errors");
    assert.deepEqual(alarm.inputs.dimensions, { FunctionName: await resolve(rule.reevaluate!.function.name) });
    assert.equal(Number(alarm.inputs.period) * Number(alarm.inputs.evaluationPeriods), 900, "15 minutes of failing ticks");
    assert.equal(alarm.inputs.datapointsToAlarm, alarm.inputs.evaluationPeriods, "every period failed, not one transient error");
    assert.deepEqual(alarm.inputs.alarmActions, [await resolve(rule.notificationTopicArn!)]);
  });

  it("takes a us-east-1 provider of the program's own", async () => {
    const name = unique("ownprovider");
    const provider = new (await import("@pulumi/aws")).Provider(`${name}-mine`, { region: "us-east-1", profile: "deploy" });
    const rule = new components.KeyageConfigRule(name, { code: new pulumi.asset.FileArchive("dist/config-rule.zip"), usEast1Provider: provider });
    assert.equal(rule.keyChanges?.provider, provider);
    await resolve(rule.keyChanges!.eventTarget.urn);
    assert.equal(mine(name).filter((r) => r.type === "pulumi:providers:aws").length, 1, "no second provider");
  });

  it("makes none of it with reevaluateOnChange false, nor in organization mode (schedule only)", async () => {
    for (const args of [{ reevaluateOnChange: false }, { organization: true }]) {
      const name = unique("off");
      const rule = new components.KeyageConfigRule(name, { ...args, code: new pulumi.asset.FileArchive("dist/config-rule.zip") });
      await resolve(pulumi.all([rule.ruleArn, rule.functionArn]));
      await new Promise((done) => setTimeout(done, 50));
      const resources = mine(name);
      assert.deepEqual(resources.filter((r) => KEY_TYPES.includes(r.type)).map((r) => r.name), [], JSON.stringify(args));
      assert.equal(resources.filter((r) => r.type === "aws:lambda/function:Function").length, 1);
      assert.equal(rule.keyChanges, undefined);
      assert.equal(rule.reevaluate, undefined);
      assert.equal((resources.find((r) => r.type === "aws:lambda/function:Function")?.inputs.environment as unknown) ?? undefined, undefined);
      if (args.reevaluateOnChange === false) {
        const configRule = resources.find((r) => r.type === "aws:cfg/rule:Rule");
        assert.equal((configRule?.inputs.source as { sourceDetails: unknown[] }).sourceDetails.length, 3, "the change triggers stay without the option");
      }
    }
  });

  it("refuses reevaluateOnChange true in organization mode, naming the key", () => {
    assert.throws(() => components.validateSettings({ organization: "true", reevaluateOnChange: "true" }), /reevaluateOnChange must be false \(or unset\) in organization mode/);
    assert.equal(components.validateSettings({}).reevaluateOnChange, true);
    assert.equal(components.validateSettings({ reevaluateOnChange: "false" }).reevaluateOnChange, false);
    assert.equal(components.validateSettings({ organization: "true" }).reevaluateOnChange, false);
    assert.throws(() => components.validateSettings({ reevaluateOnChange: "yes" }), /reevaluateOnChange must be true or false, got "yes"/);
  });
});
