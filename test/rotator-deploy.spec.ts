// The scheduled rotator's deploy resources (deploy/rotator.ts) under Pulumi's unit-test mocks: what
// `pulumi up` would create for each `keyage:rotation` mode, and the exact grants of its roles held against
// an allow list, with the conditions IAM enforces.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { parseSettings } from "../rotator/settings";
import type { KeyageRotator } from "../deploy/rotator";
import type { RawRotationSettings } from "../deploy/rotator-settings";

const ACCOUNT = "123456789012";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
const registered: Registered[] = [];

/** Every action the rotator's role may ever be granted. */
const ALLOWED = new Set([
  "iam:GetAccountAuthorizationDetails",
  "iam:GenerateCredentialReport",
  "iam:GetCredentialReport",
  "iam:ListAccessKeys",
  "iam:GetAccessKeyLastUsed",
  "iam:ListUserTags",
  "iam:CreateAccessKey",
  "iam:UpdateAccessKey",
  "iam:DeleteAccessKey",
  "iam:TagUser",
  "iam:UntagUser",
  "secretsmanager:DescribeSecret",
  "secretsmanager:GetSecretValue",
  "secretsmanager:PutSecretValue",
  "events:PutEvents",
  "logs:CreateLogStream",
  "logs:PutLogEvents",
]);
const WRITES = ["iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey", "iam:TagUser", "iam:UntagUser", "secretsmanager:PutSecretValue"];

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string[];
  Resource?: string | string[];
  Principal?: Record<string, unknown>;
  Condition?: Record<string, Record<string, string>>;
}

let rotatorModule: typeof import("../deploy/rotator");
let rotationSettings: typeof import("../deploy/rotator-settings");
let settingsModule: typeof import("../deploy/settings");

function resolve<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((done) => output.apply(done));
}

async function deploy(raw: RawRotationSettings, rule: Record<string, unknown> = {}): Promise<{ rotator: KeyageRotator; resources: Registered[] }> {
  const name = `r${registered.length}-${Math.random().toString(36).slice(2, 8)}`;
  const rotator = new rotatorModule.KeyageRotator(name, {
    settings: settingsModule.validateSettings(rule),
    rotation: rotationSettings.validateRotationSettings(raw),
    code: new pulumi.asset.FileArchive("dist/rotator.zip"),
  });
  const children = [rotator.logGroup, rotator.role, rotator.rolePolicy, rotator.function, rotator.invokeConfig, rotator.schedulerRole, rotator.schedulerRolePolicy, rotator.schedule, rotator.topic, rotator.topicPolicy, rotator.eventRule, rotator.eventTarget, rotator.subscription].filter(
    (r): r is NonNullable<typeof r> => r !== undefined,
  );
  await resolve(pulumi.all([rotator.function.arn, ...children.map((c) => c.urn)]));
  return { rotator, resources: registered.filter((r) => r.name.startsWith(`${name}-`)) };
}

function policyOf(resources: Registered[], logicalSuffix: string): { Statement: Statement[] } {
  const found = resources.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name.endsWith(logicalSuffix));
  assert.ok(found, `no role policy ${logicalSuffix}`);
  return JSON.parse(found.inputs.policy as string) as { Statement: Statement[] };
}

const granted = (p: { Statement: Statement[] }): string[] => p.Statement.flatMap((s) => s.Action);

describe("deploy: the scheduled rotator (Pulumi program under mocks)", () => {
  before(async function loadProgram() {
    this.timeout(20000);
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
          const name = (args.inputs as { name?: string }).name ?? args.name;
          const arn =
            args.type === "aws:lambda/function:Function" ? `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}` : `arn:aws:mock:us-east-1:${ACCOUNT}:${args.type}/${name}`;
          return { id: `${args.name}-id`, state: { ...args.inputs, name, arn } };
        },
        call(args) {
          switch (args.token) {
            case "aws:index/getPartition:getPartition":
              return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com" };
            case "aws:index/getCallerIdentity:getCallerIdentity":
              return { id: ACCOUNT, accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/deployer`, userId: "AIDAEXAMPLE" };
            case "aws:index/getRegion:getRegion":
              return { id: "us-east-1", region: "us-east-1", name: "us-east-1" };
            default:
              throw new Error(`unexpected invoke ${args.token}`);
          }
        },
      },
      "keyage",
      "test",
      false,
    );
    rotatorModule = await import("../deploy/rotator");
    rotationSettings = await import("../deploy/rotator-settings");
    settingsModule = await import("../deploy/settings");
  });

  describe("settings", () => {
    it("is off by default, daily when on, and deletes a week after deactivating", () => {
      assert.deepEqual(rotationSettings.validateRotationSettings({}), { rotation: "off", schedule: "rate(1 day)", cleanupDays: 7, graceHours: 24, secretPrefix: undefined, topic: false, email: undefined });
    });

    it("is part of the deploy settings, validated with them, and absent while off", () => {
      assert.equal(settingsModule.validateSettings({}).rotation, undefined);
      assert.equal(settingsModule.validateSettings({ rotation: "plan" }).rotation?.schedule, "rate(1 day)");
      assert.throws(() => settingsModule.validateSettings({ rotationCleanupDays: "0" }), (e: { key?: string }) => e.key === "rotationCleanupDays");
    });

    it("rejects a mode it does not know, listing the modes", () => {
      assert.throws(() => rotationSettings.validateRotationSettings({ rotation: "on" }), /rotation must be one of off, notify, plan, apply, got "on"/);
    });

    it("rejects a schedule EventBridge Scheduler would not take", () => {
      assert.throws(() => rotationSettings.validateRotationSettings({ rotation: "plan", rotationSchedule: "daily" }), /rotationSchedule must be an EventBridge Scheduler expression/);
    });

    it("creates the topic when an email address is given", () => {
      assert.equal(rotationSettings.validateRotationSettings({ rotation: "notify", notificationEmail: "ops@example.com" }).topic, true);
      assert.throws(() => rotationSettings.validateRotationSettings({ notificationEmail: "ops" }), /notificationEmail must be an email address/);
    });

    it("hands the rotator a payload its own parser reads back: mode, limit, warning, cleanup and grace", () => {
      const rule = settingsModule.validateSettings({ maxAccessKeyAge: "90", warnDays: "10" });
      const input = rotatorModule.rotatorInput(rule, rotationSettings.validateRotationSettings({ rotation: "apply", rotationCleanupDays: "14", rotationGraceHours: "48" }));
      assert.deepEqual(parseSettings(JSON.parse(input)), { mode: "apply", maxAgeDays: 90, warnDays: 10, cleanupDays: 14, graceHours: 48 });
    });
  });

  describe("apply", () => {
    it("grants the rotator only actions from the allow list", async () => {
      const { resources } = await deploy({ rotation: "apply", rotationSecretPrefix: "keyage/" });
      for (const action of granted(policyOf(resources, "-rotator"))) assert.ok(ALLOWED.has(action), `${action} is not on the allow list`);
    });

    it("lets IAM itself confine key and tag writes to users tagged keyage:rotate, and tag writes to keyage:deactivated:* keys", async () => {
      const { resources } = await deploy({ rotation: "apply" });
      const policy = policyOf(resources, "-rotator");
      for (const s of policy.Statement.filter((x) => x.Action.some((a) => a.startsWith("iam:") && WRITES.includes(a)))) {
        assert.deepEqual(s.Condition?.StringLike, { "iam:ResourceTag/keyage:rotate": "secretsmanager:*" }, s.Sid);
        assert.equal(s.Resource, `arn:aws:iam::${ACCOUNT}:user/*`);
      }
      const tags = policy.Statement.find((s) => s.Action.includes("iam:TagUser"));
      assert.deepEqual(tags?.Condition?.["ForAllValues:StringLike"], { "aws:TagKeys": "keyage:deactivated:*" });
    });

    it("lets the rotator write only secrets tagged keyage:rotate or under the configured prefix", async () => {
      const { resources } = await deploy({ rotation: "apply", rotationSecretPrefix: "keyage/" });
      const writes = policyOf(resources, "-rotator").Statement.filter((s) => s.Action.includes("secretsmanager:PutSecretValue"));
      assert.equal(writes.length, 2);
      const [tagged, prefixed] = writes;
      assert.deepEqual(tagged?.Condition, { Null: { "aws:ResourceTag/keyage:rotate": "false" } });
      assert.equal(prefixed?.Resource, `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:keyage/*`);
    });

    it("runs the rotator daily through EventBridge Scheduler with its settings as input, and one run at a time", async () => {
      const { resources } = await deploy({ rotation: "apply" });
      const schedule = resources.find((r) => r.type === "aws:scheduler/schedule:Schedule");
      assert.equal(schedule?.inputs.scheduleExpression, "rate(1 day)");
      const target = schedule?.inputs.target as { arn: string; input: string; retryPolicy: { maximumRetryAttempts: number } };
      assert.match(target.arn, /^arn:aws:lambda:us-east-1:123456789012:function:/);
      assert.deepEqual(JSON.parse(target.input), { mode: "apply", maxAccessKeyAge: 30, cleanupDays: 7, graceHours: 24 });
      assert.equal(target.retryPolicy.maximumRetryAttempts, 0);
      const fn = resources.find((r) => r.type === "aws:lambda/function:Function");
      assert.equal(fn?.inputs.reservedConcurrentExecutions, 1);
      const trust = JSON.parse(resources.find((r) => r.type === "aws:iam/role:Role" && r.name.endsWith("-rotator-schedule"))?.inputs.assumeRolePolicy as string) as { Statement: Statement[] };
      assert.deepEqual(trust.Statement[0]?.Principal, { Service: "scheduler.amazonaws.com" });
      assert.deepEqual(trust.Statement[0]?.Condition, { StringEquals: { "aws:SourceAccount": ACCOUNT } });
      assert.deepEqual(granted(policyOf(resources, "-rotator-schedule")), ["lambda:InvokeFunction"]);
    });
  });

  describe("plan and notify", () => {
    it("plan may read secrets but write nothing", async () => {
      const actions = granted(policyOf((await deploy({ rotation: "plan" })).resources, "-rotator"));
      assert.ok(actions.includes("secretsmanager:GetSecretValue"));
      for (const w of WRITES) assert.ok(!actions.includes(w), `${w} in plan mode`);
    });

    it("notify may neither write nor read any secret", async () => {
      const actions = granted(policyOf((await deploy({ rotation: "notify" })).resources, "-rotator"));
      for (const w of WRITES) assert.ok(!actions.includes(w), `${w} in notify mode`);
      assert.ok(!actions.some((a) => a.startsWith("secretsmanager:")));
    });
  });

  describe("notifications", () => {
    it("routes every keyage event to an SNS topic that only its rule may publish to, and subscribes the email address", async () => {
      const { resources } = await deploy({ rotation: "notify", notificationEmail: "ops@example.com" });
      const rule = resources.find((r) => r.type === "aws:cloudwatch/eventRule:EventRule");
      assert.deepEqual(JSON.parse(rule?.inputs.eventPattern as string), { source: ["keyage"] });
      assert.ok(resources.some((r) => r.type === "aws:cloudwatch/eventTarget:EventTarget"));
      const sub = resources.find((r) => r.type === "aws:sns/topicSubscription:TopicSubscription");
      assert.deepEqual([sub?.inputs.protocol, sub?.inputs.endpoint], ["email", "ops@example.com"]);
      const policy = JSON.parse(resources.find((r) => r.type === "aws:sns/topicPolicy:TopicPolicy")?.inputs.policy as string) as { Statement: Statement[] };
      assert.deepEqual(policy.Statement[0]?.Action, ["sns:Publish"]);
      assert.ok(policy.Statement[0]?.Condition?.ArnEquals?.["aws:SourceArn"]);
    });

    it("creates no topic unless asked", async () => {
      const { resources } = await deploy({ rotation: "plan" });
      assert.deepEqual(resources.filter((r) => r.type.startsWith("aws:sns/") || r.type.startsWith("aws:cloudwatch/event")), []);
    });
  });
});
