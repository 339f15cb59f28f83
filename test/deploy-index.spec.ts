// The deploy program's entry point (deploy/index.ts) under Pulumi's mocks, with the Config rule alone and
// a notification email: the alarms and the failed-run destination still reach a topic, one of its own.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { ACCOUNT, type Registered, setDeployMocks, resolveOutput as resolve } from "./deploy-mocks";

const registered: Registered[] = [];

describe("deploy/index.ts: the Config rule alone, with keyage:notificationEmail and keyage:auditRoleTrust", () => {
  let outputs: Record<string, pulumi.Output<unknown> | undefined>;

  before(async function loadProgram() {
    this.timeout(30000);
    // The entry point names its components `keyage`; the other specs use random names.
    await setDeployMocks({ onResource: (r) => void (r.name === "keyage" || r.name.startsWith("keyage-") ? registered.push(r) : undefined) });
    // Only deploy/index.ts reads Pulumi config; every other spec passes settings directly.
    pulumi.runtime.setAllConfig({ "keyage:notificationEmail": "oncall@example.com", "keyage:auditRoleTrust": "arn:aws:iam::111111111111:role/security-audit" });
    outputs = (await import("../deploy/index")) as unknown as Record<string, pulumi.Output<unknown> | undefined>;
    await resolve(pulumi.all([outputs.ruleArn!, outputs.functionArn!, outputs.notificationTopicArn!]));
    // Let the remaining registrations (alarms, subscription) land.
    await new Promise((r) => setTimeout(r, 200));
  });

  it("creates the <ruleName>-alarms topic with the address subscribed, and sends the rule's alarms and failed runs there", async () => {
    const topic = registered.find((r) => r.type === "aws:sns/topic:Topic");
    assert.equal(topic?.inputs.name, "keyage-access-key-age-alarms");
    const arn = `arn:aws:sns:us-east-1:${ACCOUNT}:keyage-access-key-age-alarms`;
    assert.equal(await resolve(outputs.notificationTopicArn as pulumi.Output<string>), arn);
    assert.equal(registered.find((r) => r.type === "aws:sns/topicSubscription:TopicSubscription")?.inputs.endpoint, "oncall@example.com");
    const alarms = registered.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm");
    assert.deepEqual(alarms.map((a) => a.inputs.name).sort(), ["keyage-access-key-age-errors", "keyage-access-key-age-missed-run", "keyage-access-key-age-partial", "keyage-access-key-age-recheck-errors"]);
    for (const a of alarms) assert.deepEqual(a.inputs.alarmActions, [arn]);
    const invokeConfig = registered.find((r) => r.type === "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
    assert.deepEqual(invokeConfig?.inputs.destinationConfig, { onFailure: { destination: arn } });
    assert.ok(!registered.some((r) => r.type === "aws:scheduler/schedule:Schedule"), "the rotator stays off");
  });

  it("reads keyage:auditRoleTrust: the stack output auditRoleName is the audit role it creates (what users pass as --role-name)", async () => {
    const role = registered.find((r) => r.type === "aws:iam/role:Role" && r.name === "keyage-audit-local");
    assert.equal(role?.inputs.name, "keyage-access-key-age-audit");
    assert.equal(await resolve(outputs.auditRoleName as pulumi.Output<string>), role?.inputs.name);
    assert.deepEqual((JSON.parse(role?.inputs.assumeRolePolicy as string) as { Statement: { Principal: unknown }[] }).Statement.map((s) => s.Principal), [{ AWS: ["arn:aws:iam::111111111111:role/security-audit"] }]);
    assert.equal(outputs.auditStackSetName, undefined, "no StackSet in one account");
  });
});
