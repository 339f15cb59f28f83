// keyage/pulumi's components as a program of one's own uses them (typed args, not the deploy stack's
// validated settings), under Pulumi's mocks: one schema with the deploy stack, children parented to the
// component, one-line errors naming the argument.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { ACCOUNT, type Registered, setDeployMocks, resolveOutput as resolve } from "./deploy-mocks";

const registered: Registered[] = [];
let components: typeof import("../pulumi");

function unique(stem: string): string {
  return `${stem}${registered.length}${Math.random().toString(36).slice(2, 7)}`;
}

/** What was registered under `name`, with the component's own name replaced by `X` (so two runs compare). */
function shape(name: string): { type: string; name: string; inputs: string }[] {
  return registered
    .filter((r) => r.name === name || r.name.startsWith(`${name}-`))
    .map((r) => ({ type: r.type, name: r.name.replace(name, "X"), inputs: JSON.stringify(r.inputs, (k, v: unknown) => (k === "code" ? undefined : v)).split(name).join("X") }))
    .sort((a, b) => `${a.type}${a.name}`.localeCompare(`${b.type}${b.name}`));
}

describe("keyage/pulumi components (typed args, under Pulumi mocks)", () => {
  before(async function load() {
    this.timeout(20000);
    await setDeployMocks({ onResource: (r) => void registered.push(r) });
    components = await import("../pulumi");
  });

  it("registers exactly what the deploy stack registers for the same settings (one schema)", async () => {
    const typed = unique("typed");
    const fromConfig = unique("config");
    const code = new pulumi.asset.FileArchive("dist/config-rule.zip");
    const a = new components.KeyageConfigRule(typed, { maxAccessKeyAge: 90, warnDays: 10, exemptions: ["breakglass", { user: "ci", until: "2027-01-31" }], organization: true, excludedAccounts: ["111111111111"], code });
    // The deploy stack's path: config strings through validateSettings, then the validated form.
    const settings = components.validateSettings({ maxAccessKeyAge: "90", warnDays: "10", exemptions: "breakglass ci:2027-01-31", organization: "true", excludedAccounts: "111111111111" });
    const b = new components.KeyageConfigRule(fromConfig, { settings, code });
    await resolve(pulumi.all([a.ruleArn, b.ruleArn, a.memberStackSet!.urn, b.memberStackSet!.urn, a.memberStackSetInstance!.urn, b.memberStackSetInstance!.urn]));
    assert.ok(shape(typed).length > 8);
    assert.deepEqual(shape(typed), shape(fromConfig));
  });

  it("parents every child to its component, under the keyage:index type tokens", async () => {
    const name = unique("parented");
    const rule = new components.KeyageConfigRule(name, { code: new pulumi.asset.FileArchive("dist/config-rule.zip") });
    const rotator = new components.KeyageRotator(name, { mode: "notify", notificationTopic: true, code: new pulumi.asset.FileArchive("dist/rotator.zip") });
    const ruleUrns = await resolve(pulumi.all([rule.urn, rule.function.urn, rule.executionRole.urn, rule.logGroup.urn, rule.rule!.urn]));
    const rotatorUrns = await resolve(pulumi.all([rotator.urn, rotator.function.urn, rotator.schedule.urn, rotator.topic!.urn]));
    assert.match(ruleUrns[0], /::keyage:index:ConfigRule::/);
    assert.match(rotatorUrns[0], /::keyage:index:Rotator::/);
    for (const urn of ruleUrns.slice(1)) assert.match(urn, /::keyage:index:ConfigRule\$aws:/, urn);
    for (const urn of rotatorUrns.slice(1)) assert.match(urn, /::keyage:index:Rotator\$aws:/, urn);
  });

  it("outputs the rule's name and ARN, the functions', roles' and topic's ARNs", async () => {
    const name = unique("outputs");
    const rule = new components.KeyageConfigRule(name, { ruleName: `${name}-rule`, code: new pulumi.asset.FileArchive("dist/config-rule.zip") });
    const rotator = new components.KeyageRotator(name, { mode: "plan", ruleName: `${name}-rule`, notificationEmail: "ops@example.com", code: new pulumi.asset.FileArchive("dist/rotator.zip") });
    const [ruleName, ruleArn, functionArn, roleArn, rotatorFunctionArn, rotatorRoleArn, topicArn] = await resolve(
      pulumi.all([rule.ruleName, rule.ruleArn, rule.functionArn, rule.executionRoleArn, rotator.functionArn, rotator.roleArn, rotator.topicArn!]),
    );
    assert.equal(ruleName, `${name}-rule`);
    assert.match(ruleArn, /^arn:aws:/);
    assert.match(functionArn, new RegExp(`^arn:aws:lambda:us-east-1:${ACCOUNT}:function:`));
    assert.match(roleArn, new RegExp(`^arn:aws:iam::${ACCOUNT}:role/`));
    assert.match(rotatorFunctionArn, /^arn:aws:lambda:/);
    assert.match(rotatorRoleArn, /^arn:aws:iam::/);
    assert.match(topicArn, new RegExp(`${name}-rule-events$`));
  });

  it("refuses a bad argument with one line naming the component, its name and the argument, registering nothing", () => {
    const name = unique("bad");
    const cases: [() => unknown, RegExp][] = [
      [() => new components.KeyageConfigRule(name, { maxAccessKeyAge: 0 }), /^KeyageConfigRule "bad\w+": maxAccessKeyAge must be a whole number of days from 1 to 3650, got 0$/],
      [() => new components.KeyageConfigRule(name, { frequency: "Daily" as never }), /^KeyageConfigRule "bad\w+": frequency must be one of One_Hour, .*, got "Daily"$/],
      [() => new components.KeyageRotator(name, { mode: "off" as never }), /^KeyageRotator "bad\w+": mode must be one of notify, plan, apply, got "off"$/],
      [() => new components.KeyageRotator(name, { mode: "apply", rotationSchedule: "daily" }), /^KeyageRotator "bad\w+": rotationSchedule must be an EventBridge Scheduler expression/],
    ];
    for (const [construct, message] of cases) {
      assert.throws(construct, (e: Error) => pulumi.RunError.isInstance(e) && message.test(e.message), String(message));
    }
    assert.deepEqual(registered.filter((r) => r.name.startsWith(name)), []);
  });

  it("sends the rule's alarms to a topic of its own with notificationEmail, or to the topic it is given", async () => {
    const own = unique("owntopic");
    const given = unique("giventopic");
    const code = new pulumi.asset.FileArchive("dist/config-rule.zip");
    const a = new components.KeyageConfigRule(own, { ruleName: `keyage-${own}`, notificationEmail: "ops@example.com", code });
    const b = new components.KeyageConfigRule(given, { ruleName: `keyage-${given}`, notificationTopicArn: "arn:aws:sns:us-east-1:123456789012:elsewhere", code });
    const [ownArn, givenArn] = await resolve(pulumi.all([a.notificationTopicArn!, b.notificationTopicArn!, a.function.urn, b.function.urn, ...a.alarms.map((x) => x.urn), ...b.alarms.map((x) => x.urn)]));
    assert.match(ownArn, new RegExp(`keyage-${own}-alarms$`));
    assert.equal(givenArn, "arn:aws:sns:us-east-1:123456789012:elsewhere");
    assert.deepEqual(registered.filter((r) => r.name.startsWith(`${own}-alarms`)).map((r) => r.type).sort(), ["aws:sns/topicPolicy:TopicPolicy", "aws:sns/topicSubscription:TopicSubscription", "aws:sns/topic:Topic"].sort());
    assert.deepEqual(registered.filter((r) => r.name.startsWith(given) && r.type.startsWith("aws:sns/")), []);
    const alarmActions = registered.filter((r) => r.name.startsWith(`${given}-`) && r.type === "aws:cloudwatch/metricAlarm:MetricAlarm").map((r) => r.inputs.alarmActions);
    assert.ok(alarmActions.length > 0 && alarmActions.every((actions) => JSON.stringify(actions) === JSON.stringify(["arn:aws:sns:us-east-1:123456789012:elsewhere"])), JSON.stringify(alarmActions));
  });

  it("takes the Lambda zips from the package when no code is given", async () => {
    const name = unique("packaged");
    const rule = new components.KeyageConfigRule(name, {});
    await resolve(rule.function.urn);
    const fn = registered.find((r) => r.name === `${name}-evaluator`);
    const archive = fn?.inputs.code as { path: Promise<string> } | undefined;
    assert.match(await archive!.path, /dist\/config-rule\.zip$/);
  });
});
