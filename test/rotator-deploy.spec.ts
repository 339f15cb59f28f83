// The scheduled rotator's deploy resources (pulumi/rotator.ts) under Pulumi's unit-test mocks: what
// `pulumi up` would create for each `keyage:rotation` mode, and the exact grants of its roles held against
// an allow list, with the conditions IAM enforces.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { parseSettings } from "../rotator/settings";
import type { KeyageRotator } from "../pulumi/rotator";
import type { RawRotationSettings } from "../pulumi/rotator-settings";
import { ACCOUNT, ORG_ID, type Registered, setDeployMocks, resolveOutput as resolve } from "./deploy-mocks";

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
  // Organization mode, the central role only: the accounts, and the hop into each account's rotator role.
  "organizations:ListAccounts",
  // ... and the organization targets' OU tree, so it runs only where the member role was rolled out.
  "organizations:ListChildren",
  "organizations:ListAccountsForParent",
  "sts:AssumeRole",
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

let rotatorModule: typeof import("../pulumi/rotator");
let rotationSettings: typeof import("../pulumi/rotator-settings");
let settingsModule: typeof import("../pulumi/settings");

async function deploy(raw: RawRotationSettings, rule: Record<string, unknown> = {}): Promise<{ rotator: KeyageRotator; resources: Registered[] }> {
  const name = `r${registered.length}-${Math.random().toString(36).slice(2, 8)}`;
  const rotator = new rotatorModule.KeyageRotator(name, {
    settings: settingsModule.validateSettings(rule),
    rotation: rotationSettings.validateRotationSettings(raw),
    code: new pulumi.asset.FileArchive("dist/rotator.zip"),
  });
  const children = [
    rotator.logGroup, rotator.role, rotator.rolePolicy, rotator.function, rotator.invokeConfig, rotator.schedulerRole, rotator.schedulerRolePolicy, rotator.schedule,
    rotator.topic, rotator.topicPolicy, rotator.eventRule, rotator.eventTarget, rotator.subscription,
    rotator.memberStackSet, rotator.memberStackSetInstance, ...(await resolve(pulumi.all([rotator.localMemberRole, rotator.localMemberRolePolicy]))),
  ].filter(
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
    await setDeployMocks({ onResource: (r) => void registered.push(r) });
    rotatorModule = await import("../pulumi/rotator");
    rotationSettings = await import("../pulumi/rotator-settings");
    settingsModule = await import("../pulumi/settings");
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

  describe("maxUnusedDays", () => {
    it("hands the rotator keyage:maxUnusedDays, which its parser reads back", () => {
      const rule = settingsModule.validateSettings({ maxAccessKeyAge: "90", maxUnusedDays: "45" });
      const input = rotatorModule.rotatorInput(rule, rotationSettings.validateRotationSettings({ rotation: "notify" }));
      assert.equal(parseSettings(JSON.parse(input)).maxUnusedDays, 45);
    });
  });

  describe("apply", () => {
    it("grants the rotator only actions from the allow list", async () => {
      const { resources } = await deploy({ rotation: "apply", rotationSecretPrefix: "keyage/" });
      for (const action of granted(policyOf(resources, "-rotator"))) assert.ok(ALLOWED.has(action), `${action} is not on the allow list`);
    });

    it("lets IAM itself confine key and tag writes to users tagged keyage:rotate, and tag writes to keyage's bookkeeping keys", async () => {
      const { resources } = await deploy({ rotation: "apply" });
      const policy = policyOf(resources, "-rotator");
      for (const s of policy.Statement.filter((x) => x.Action.some((a) => a.startsWith("iam:") && WRITES.includes(a)))) {
        assert.deepEqual(s.Condition?.StringLike, { "iam:ResourceTag/keyage:rotate": "secretsmanager:*" }, s.Sid);
        assert.equal(s.Resource, `arn:aws:iam::${ACCOUNT}:user/*`);
      }
      const tags = policy.Statement.find((s) => s.Action.includes("iam:TagUser"));
      assert.deepEqual(tags?.Condition?.["ForAllValues:StringLike"], { "aws:TagKeys": ["keyage:deactivated:*", "keyage:created:*"] });
    });

    it("lets the rotator read or write only secrets whose keyage:rotate tag holds a user ARN of this account", async () => {
      const { resources } = await deploy({ rotation: "apply" });
      const uses = policyOf(resources, "-rotator").Statement.filter((s) => s.Action.some((a) => a.startsWith("secretsmanager:")));
      assert.deepEqual(uses.map((s) => [s.Action, s.Resource, s.Condition]), [[
        ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
        `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:*`,
        { StringLike: { "aws:ResourceTag/keyage:rotate": `arn:aws:iam::${ACCOUNT}:user/*` } },
      ]]);
    });

    it("confines the rotator to secrets under rotationSecretPrefix when set, and they must carry the tag too", async () => {
      const { resources } = await deploy({ rotation: "apply", rotationSecretPrefix: "keyage/" });
      const uses = policyOf(resources, "-rotator").Statement.filter((s) => s.Action.some((a) => a.startsWith("secretsmanager:")));
      assert.deepEqual(uses.map((s) => [s.Resource, s.Condition]), [[
        `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:keyage/*`,
        { StringLike: { "aws:ResourceTag/keyage:rotate": `arn:aws:iam::${ACCOUNT}:user/*` } },
      ]]);
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
    it("routes every keyage event to an SNS topic that only its rule (and keyage's own alarms) may publish to, and subscribes the email address", async () => {
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

  describe("organization mode", () => {
    const ORG = { organization: "true", excludedAccounts: "111111111111" };
    type Template = {
      Parameters: Record<string, unknown>;
      Resources: { RotatorRole: { Properties: { RoleName: string; AssumeRolePolicyDocument: { Statement: Statement[] }; Policies: { PolicyDocument: { Statement: (Omit<Statement, "Resource"> & { Resource: unknown })[] } }[] } } };
    };
    const templateOf = (resources: Registered[]): Template => {
      const set = resources.find((r) => r.type === "aws:cloudformation/stackSet:StackSet");
      assert.ok(set, "no StackSet");
      return JSON.parse(set.inputs.templateBody as string) as Template;
    };

    it("narrows the central role to listing accounts, assuming the member rotator role inside the organization, publishing on its own bus and its logs", async () => {
      const { resources } = await deploy({ rotation: "apply" }, ORG);
      const policy = policyOf(resources, "-rotator");
      assert.deepEqual(granted(policy).sort(), [
        "events:PutEvents", "logs:CreateLogStream", "logs:PutLogEvents", "organizations:ListAccounts", "organizations:ListAccountsForParent", "organizations:ListChildren", "sts:AssumeRole",
      ]);
      for (const action of granted(policy)) assert.ok(ALLOWED.has(action), `${action} is not on the allow list`);
      const assume = policy.Statement.find((s) => s.Action.includes("sts:AssumeRole"));
      assert.equal(assume?.Resource, "arn:aws:iam::*:role/keyage-rotator");
      assert.deepEqual(assume?.Condition, { StringEquals: { "aws:ResourceOrgID": ORG_ID } });
      assert.equal(policy.Statement.find((s) => s.Action.includes("events:PutEvents"))?.Resource, `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`);
      assert.equal(policy.Statement.find((s) => s.Action.includes("organizations:ListAccounts"))?.Resource, "*");
    });

    it("rolls out a member rotator role with a service-managed StackSet to the organization, trusted only by the central rotator's role, carrying exactly the conditioned rotator policy", async () => {
      const { rotator, resources } = await deploy({ rotation: "apply", rotationSecretPrefix: "keyage/" }, ORG);
      const set = resources.find((r) => r.type === "aws:cloudformation/stackSet:StackSet");
      assert.equal(set?.inputs.permissionModel, "SERVICE_MANAGED");
      assert.deepEqual(set?.inputs.autoDeployment, { enabled: true, retainStacksOnAccountRemoval: false });
      assert.equal((set?.inputs.parameters as { RotatorRoleArn: string }).RotatorRoleArn, await resolve(rotator.role.arn));
      const role = templateOf(resources).Resources.RotatorRole.Properties;
      assert.equal(role.RoleName, "keyage-rotator");
      assert.deepEqual(role.AssumeRolePolicyDocument.Statement.map((s) => [s.Principal, s.Action]), [[{ AWS: { Ref: "RotatorRoleArn" } }, ["sts:AssumeRole"]]]);
      const statements = role.Policies.flatMap((p) => p.PolicyDocument.Statement);
      const actions = statements.flatMap((s) => s.Action);
      for (const action of actions) assert.ok(ALLOWED.has(action), `${action} is not on the allow list`);
      for (const central of ["events:PutEvents", "logs:CreateLogStream", "organizations:ListAccounts", "sts:AssumeRole"]) assert.ok(!actions.includes(central), `${central} in the member role`);
      for (const s of statements.filter((x) => x.Action.some((a) => a.startsWith("iam:") && WRITES.includes(a)))) {
        assert.deepEqual(s.Condition?.StringLike, { "iam:ResourceTag/keyage:rotate": "secretsmanager:*" }, s.Sid);
        assert.deepEqual(s.Resource, { "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*" });
      }
      assert.deepEqual(statements.find((s) => s.Action.includes("iam:TagUser"))?.Condition?.["ForAllValues:StringLike"], { "aws:TagKeys": ["keyage:deactivated:*", "keyage:created:*"] });
      const secretWrites = statements.filter((s) => s.Action.includes("secretsmanager:PutSecretValue"));
      assert.deepEqual(secretWrites.map((s) => [s.Resource, s.Condition]), [
        [
          { "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:keyage/*" },
          { StringLike: { "aws:ResourceTag/keyage:rotate": { "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*" } } },
        ],
      ]);
      const instance = resources.find((r) => r.type === "aws:cloudformation/stackSetInstance:StackSetInstance");
      assert.deepEqual(instance?.inputs.deploymentTargets, { organizationalUnitIds: ["r-ab12"], accountFilterType: "DIFFERENCE", accounts: ["111111111111"] });
      assert.equal(instance?.inputs.stackSetInstanceRegion, "us-east-1");
    });

    it("gives the member role in plan mode reads only, and in notify mode no secret at all", async () => {
      const plan = templateOf((await deploy({ rotation: "plan" }, ORG)).resources).Resources.RotatorRole.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement.flatMap((s) => s.Action));
      assert.ok(plan.includes("secretsmanager:GetSecretValue"));
      for (const w of WRITES) assert.ok(!plan.includes(w), `${w} in plan mode`);
      const notify = templateOf((await deploy({ rotation: "notify" }, ORG)).resources).Resources.RotatorRole.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement.flatMap((s) => s.Action));
      assert.ok(!notify.some((a) => a.startsWith("secretsmanager:") || WRITES.includes(a)));
    });

    it("creates the same role directly in the management account, trusted only by the central rotator's role", async () => {
      const { rotator, resources } = await deploy({ rotation: "apply" }, ORG);
      const local = resources.find((r) => r.type === "aws:iam/role:Role" && r.name.endsWith("-rotator-local"));
      assert.equal(local?.inputs.name, "keyage-rotator");
      const trust = JSON.parse(local?.inputs.assumeRolePolicy as string) as { Statement: Statement[] };
      assert.deepEqual(trust.Statement.map((s) => [s.Principal, s.Action]), [[{ AWS: await resolve(rotator.role.arn) }, ["sts:AssumeRole"]]]);
      const policy = policyOf(resources, "-rotator-local");
      const member = templateOf(resources).Resources.RotatorRole.Properties.Policies[0]!.PolicyDocument.Statement;
      // The template's placeholders, filled in as CloudFormation would in this account.
      const filled = (v: unknown): unknown =>
        Array.isArray(v) ? v.map(filled)
        : v !== null && typeof v === "object" ? ("Fn::Sub" in v ? String((v as { "Fn::Sub": string })["Fn::Sub"]).replace("${AWS::Partition}", "aws").replace("${AWS::AccountId}", ACCOUNT).replace("${AWS::Region}", "us-east-1") : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, filled(x)])))
        : v;
      assert.deepEqual(policy.Statement.map((s) => [s.Sid, s.Action, s.Resource, s.Condition]), member.map((s) => filled([s.Sid, s.Action, s.Resource, s.Condition])));
      assert.equal(policy.Statement.find((s) => s.Sid === "RotateOptedInKeys")?.Resource, `arn:aws:iam::${ACCOUNT}:user/*`);
    });

    it("creates no rotator role in the management account when excludedAccounts lists it: excluded means no role", async () => {
      const { resources } = await deploy({ rotation: "apply" }, { organization: "true", excludedAccounts: `${ACCOUNT} 111111111111` });
      assert.deepEqual(resources.filter((r) => r.name.endsWith("-rotator-local")).map((r) => r.type), []);
      assert.ok(resources.some((r) => r.type === "aws:scheduler/schedule:Schedule"), "the schedule is still created");
    });

    it("leaves the management account's role to the StackSet's targets from a delegated administrator", async () => {
      const { resources } = await deploy({ rotation: "plan" }, { ...ORG, callAs: "DELEGATED_ADMIN", organizationTargets: "ou-ab12-abcdefgh", organizationId: "o-zyxwvutsrq" });
      assert.ok(!resources.some((r) => r.name.endsWith("-rotator-local")));
      assert.deepEqual((resources.find((r) => r.type === "aws:cloudformation/stackSetInstance:StackSetInstance")?.inputs.deploymentTargets as { organizationalUnitIds: string[] }).organizationalUnitIds, ["ou-ab12-abcdefgh"]);
      assert.deepEqual(policyOf(resources, "-rotator").Statement.find((s) => s.Action.includes("sts:AssumeRole"))?.Condition, { StringEquals: { "aws:ResourceOrgID": "o-zyxwvutsrq" } });
    });

    it("hands the rotator the member role's name and the excluded accounts, which its own parser reads back", () => {
      const rule = settingsModule.validateSettings({ ...ORG, rotatorRoleName: "acme-keyage-rotator" });
      const input = rotatorModule.rotatorInput(rule, rotationSettings.validateRotationSettings({ rotation: "apply" }));
      assert.deepEqual(parseSettings(JSON.parse(input)).organization, { roleName: "acme-keyage-rotator", excludedAccounts: ["111111111111"], targets: [], managementAccount: true });
      assert.equal(JSON.parse(rotatorModule.rotatorInput(settingsModule.validateSettings({}), rotationSettings.validateRotationSettings({ rotation: "apply" }))).organization, undefined);
      assert.throws(() => settingsModule.validateSettings({ ...ORG, rotatorRoleName: "no spaces" }), (e: { key?: string }) => e.key === "rotatorRoleName");
      assert.throws(() => settingsModule.validateSettings({ ...ORG, rotatorRoleName: "keyage-config-rule-reader" }), /rotatorRoleName must differ from memberRoleName, both are "keyage-config-rule-reader"/);
    });

    it("hands the rotator the targets the member role was rolled out to, and whether the management account holds it, so it runs only there", () => {
      const targets = "ou-ab12-abcdefgh, ou-ab12-12345678";
      const self = settingsModule.validateSettings({ ...ORG, organizationTargets: targets });
      const fromSelf = parseSettings(JSON.parse(rotatorModule.rotatorInput(self, rotationSettings.validateRotationSettings({ rotation: "apply" })))).organization;
      assert.deepEqual([fromSelf?.targets, fromSelf?.managementAccount], [["ou-ab12-abcdefgh", "ou-ab12-12345678"], true], "from the management account, deploy makes the role there directly");
      const delegated = settingsModule.validateSettings({ ...ORG, organizationTargets: targets, callAs: "DELEGATED_ADMIN" });
      const fromDelegated = parseSettings(JSON.parse(rotatorModule.rotatorInput(delegated, rotationSettings.validateRotationSettings({ rotation: "apply" })))).organization;
      assert.equal(fromDelegated?.managementAccount, false, "StackSets never deploy to the management account");
    });

    it("creates no StackSet and no member role in one account", async () => {
      const { resources } = await deploy({ rotation: "apply" });
      assert.ok(!resources.some((r) => r.type.startsWith("aws:cloudformation/") || r.name.endsWith("-rotator-local")));
    });
  });
});
