// The deployer policies in docs/ against what the deploy program really creates: the program runs under
// Pulumi's mocks in each mode, every registered resource type and every provider function it calls is
// collected, and the published policy must grant the actions that type needs to be created, read,
// updated and deleted. A new resource type in the program fails here until docs/ says what it needs.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { RawDeploySettings } from "../pulumi/settings";
import { ACCOUNT, type Registered, setDeployMocks } from "./deploy-mocks";

const DOCS = path.join(__dirname, "..", "docs");

/**
 * What `pulumi up` / `pulumi destroy` call for each resource type, through the AWS provider (the
 * Terraform provider's create, read, update, delete and tagging calls). `[]`: no AWS call at all.
 */
const NEEDS: Record<string, readonly string[]> = {
  "keyage:index:ConfigRule": [],
  "keyage:index:Rotator": [],
  // reevaluateOnChange's provider of us-east-1: a provider instance makes no AWS call of its own.
  "pulumi:providers:aws": [],
  "aws:sqs/queue:Queue": ["sqs:CreateQueue", "sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:DeleteQueue", "sqs:TagQueue", "sqs:UntagQueue", "sqs:ListQueueTags"],
  "aws:sqs/queuePolicy:QueuePolicy": ["sqs:SetQueueAttributes", "sqs:GetQueueAttributes"],
  "aws:scheduler/schedule:Schedule": ["scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule", "iam:PassRole"],
  "aws:sns/topic:Topic": [
    "sns:CreateTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:DeleteTopic", "sns:TagResource", "sns:UntagResource", "sns:ListTagsForResource",
  ],
  "aws:sns/topicPolicy:TopicPolicy": ["sns:SetTopicAttributes", "sns:GetTopicAttributes"],
  "aws:sns/topicSubscription:TopicSubscription": ["sns:Subscribe", "sns:Unsubscribe", "sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes"],
  "aws:cloudwatch/eventRule:EventRule": [
    "events:PutRule", "events:DescribeRule", "events:DeleteRule", "events:TagResource", "events:UntagResource", "events:ListTagsForResource",
  ],
  "aws:cloudwatch/metricAlarm:MetricAlarm": [
    "cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource",
    "cloudwatch:ListTagsForResource",
  ],
  "aws:cloudwatch/eventTarget:EventTarget": ["events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule"],
  "aws:cloudwatch/logGroup:LogGroup": [
    "logs:CreateLogGroup", "logs:DescribeLogGroups", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:DeleteLogGroup",
    "logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource",
  ],
  "aws:iam/role:Role": [
    "iam:CreateRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole", "iam:TagRole", "iam:UntagRole",
    "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
  ],
  "aws:iam/rolePolicy:RolePolicy": ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
  // The permissions boundary; iam:PutRolePermissionsBoundary adds it to roles made by an older keyage.
  "aws:iam/policy:Policy": [
    "iam:CreatePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion",
    "iam:DeletePolicy", "iam:TagPolicy", "iam:UntagPolicy", "iam:PutRolePermissionsBoundary",
  ],
  "aws:lambda/function:Function": [
    "lambda:CreateFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:GetFunctionCodeSigningConfig",
    "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:DeleteFunction", "lambda:ListVersionsByFunction",
    "lambda:TagResource", "lambda:UntagResource", "lambda:ListTags", "iam:PassRole",
  ],
  "aws:lambda/permission:Permission": ["lambda:AddPermission", "lambda:GetPolicy", "lambda:RemovePermission"],
  "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": [
    "lambda:PutFunctionEventInvokeConfig", "lambda:UpdateFunctionEventInvokeConfig", "lambda:GetFunctionEventInvokeConfig",
    "lambda:DeleteFunctionEventInvokeConfig",
  ],
  "aws:cfg/rule:Rule": ["config:PutConfigRule", "config:DescribeConfigRules", "config:DeleteConfigRule", "config:TagResource", "config:UntagResource", "config:ListTagsForResource"],
  "aws:cfg/organizationCustomRule:OrganizationCustomRule": [
    "config:PutOrganizationConfigRule", "config:DescribeOrganizationConfigRules", "config:DescribeOrganizationConfigRuleStatuses",
    "config:DeleteOrganizationConfigRule",
    // PutOrganizationConfigRule turns on Config's organization access and creates its service-linked role.
    "organizations:EnableAWSServiceAccess", "organizations:ListDelegatedAdministrators", "iam:CreateServiceLinkedRole",
  ],
  "aws:cloudformation/stackSet:StackSet": [
    "cloudformation:CreateStackSet", "cloudformation:DescribeStackSet", "cloudformation:UpdateStackSet", "cloudformation:DeleteStackSet",
    "cloudformation:DescribeStackSetOperation",
  ],
  "aws:cloudformation/stackSetInstance:StackSetInstance": [
    "cloudformation:CreateStackInstances", "cloudformation:DescribeStackInstance", "cloudformation:UpdateStackInstances",
    "cloudformation:DeleteStackInstances", "cloudformation:DescribeStackSetOperation",
  ],
};

/** What each provider function the program calls needs. */
const INVOKE_NEEDS: Record<string, readonly string[]> = {
  "aws:index/getPartition:getPartition": [],
  "aws:index/getRegion:getRegion": [],
  "aws:index/getCallerIdentity:getCallerIdentity": ["sts:GetCallerIdentity"],
  "aws:organizations/getOrganization:getOrganization": [
    "organizations:DescribeOrganization", "organizations:ListRoots", "organizations:ListAccounts", "organizations:ListAWSServiceAccessForOrganization",
  ],
};

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: unknown;
}
interface Policy {
  Version: string;
  Statement: Statement[];
}

const list = (x: string | string[]): string[] => (Array.isArray(x) ? x : [x]);

/** IAM wildcard match: `*` any run of characters, `?` one; actions compare without regard to case. */
function matches(pattern: string, value: string, ignoreCase: boolean): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`, ignoreCase ? "i" : "").test(value);
}

/** Statements of `policy` that allow `action` (on any resource). */
function allowing(policy: Policy, action: string): Statement[] {
  return policy.Statement.filter((s) => s.Effect === "Allow" && list(s.Action).some((a) => matches(a, action, true)));
}

function readPolicy(file: string): Policy {
  return JSON.parse(readFileSync(path.join(DOCS, file), "utf8")) as Policy;
}

interface Created {
  types: Set<string>;
  invokes: Set<string>;
  /** Physical names as `pulumi up` would make them under the real program's component name, `keyage`. */
  roleNames: string[];
  functionNames: string[];
  logGroupNames: string[];
}

const registrations: Registered[] = [];
const invokes: string[] = [];
let program: typeof import("../pulumi/config-rule");
let settingsModule: typeof import("../pulumi/settings");

/** Runs the program in one mode and reports what it created and called. */
async function create(raw: RawDeploySettings): Promise<Created> {
  const prefix = `perm${registrations.length}x${Math.random().toString(36).slice(2, 8)}`;
  const firstInvoke = invokes.length;
  const rule = program.createKeyageRule({ settings: settingsModule.validateSettings(raw), code: new pulumi.asset.FileArchive("dist/config-rule.zip") }, prefix);
  const children = [
    rule.logGroup, rule.executionRole, rule.executionRolePolicy, rule.function, ...rule.permissions, rule.rule, rule.organizationRule,
    rule.memberStackSet, rule.memberStackSetInstance, ...(await new Promise<(pulumi.Resource | undefined)[]>((done) => pulumi.all([rule.localMemberRole, rule.localMemberRolePolicy]).apply(done))),
  ].filter((r): r is NonNullable<typeof r> => r !== undefined);
  await new Promise((done) => pulumi.all([rule.ruleArn, rule.functionArn, rule.urn, ...children.map((c) => c.urn)]).apply(done));
  const mine = registrations.filter((r) => r.name === prefix || r.name.startsWith(`${prefix}-`));
  // Auto-named resources get a random suffix after the logical name; the real program names its component `keyage`.
  const physical = (r: { name: string; inputs: Record<string, unknown> }) =>
    typeof r.inputs.name === "string" ? r.inputs.name : `${r.name.replace(prefix, "keyage")}-a1b2c3d`;
  return {
    types: new Set(mine.map((r) => r.type)),
    invokes: new Set(invokes.slice(firstInvoke)),
    roleNames: mine.filter((r) => r.type === "aws:iam/role:Role").map(physical),
    functionNames: mine.filter((r) => r.type === "aws:lambda/function:Function").map(physical),
    logGroupNames: mine.filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup").map(physical),
  };
}

/** Every action `created` needs that `policy` does not allow, as readable lines. */
function missing(policy: Policy, created: Created): string[] {
  const gaps: string[] = [];
  for (const type of created.types) {
    const needs = NEEDS[type];
    if (needs === undefined) {
      gaps.push(`${type}: the program creates it, but NEEDS does not say which actions it takes (add it here and to the deployer policies in docs/)`);
      continue;
    }
    for (const action of needs) if (allowing(policy, action).length === 0) gaps.push(`${type}: ${action}`);
  }
  for (const token of created.invokes) {
    const needs = INVOKE_NEEDS[token];
    if (needs === undefined) {
      gaps.push(`${token}: the program calls it, but INVOKE_NEEDS does not say which actions it takes`);
      continue;
    }
    for (const action of needs) if (allowing(policy, action).length === 0) gaps.push(`${token}: ${action}`);
  }
  return gaps;
}

/** True when some statement allows `action` on `arn`. */
function allowsOn(policy: Policy, action: string, arn: string): boolean {
  return allowing(policy, action).some((s) => list(s.Resource).some((r) => matches(r, arn, false)));
}

describe("deployer permissions (docs/deployer-policy*.json against the deploy program)", () => {
  const accountPolicy = readPolicy("deployer-policy.json");
  const orgPolicy = readPolicy("deployer-policy-organization.json");

  before(async function loadProgram() {
    this.timeout(20000);
    await setDeployMocks({ onResource: (r) => void registrations.push(r), onInvoke: (token) => void invokes.push(token), unknownInvoke: "empty" });
    program = await import("../pulumi/config-rule");
    settingsModule = await import("../pulumi/settings");
  });

  it("publishes both policies as IAM policy documents that only allow", () => {
    for (const policy of [accountPolicy, orgPolicy]) {
      assert.equal(policy.Version, "2012-10-17");
      assert.ok(policy.Statement.length > 0);
      for (const s of policy.Statement) {
        assert.equal(s.Effect, "Allow", `${s.Sid ?? "a statement"} must allow`);
        assert.ok(list(s.Action).every((a) => /^[a-z0-9-]+:[A-Za-z*?]+$/.test(a)), `${s.Sid ?? "a statement"}: malformed action`);
        assert.ok(list(s.Action).every((a) => a !== "*" && !a.endsWith(":*")), `${s.Sid ?? "a statement"} grants a whole service`);
      }
    }
  });

  it("keeps both policies within IAM's 6,144 characters for a managed policy (whitespace not counted)", () => {
    for (const file of ["deployer-policy.json", "deployer-policy-organization.json"]) {
      const size = readFileSync(path.join(DOCS, file), "utf8").replace(/\s/g, "").length;
      assert.ok(size <= 6144, `${file}: ${size} characters`);
    }
  });

  it("lets a deployer create, update and delete everything the program creates in one account", async () => {
    const created = await create({});
    assert.ok(created.types.has("aws:cfg/rule:Rule"), "the account rule is created");
    assert.deepEqual(missing(accountPolicy, created), []);
  });

  it("lets a deployer create, update and delete everything the program creates in organization mode, from the management account", async () => {
    const created = await create({ organization: "true", excludedAccounts: "111111111111", memberAccountIds: "222222222222" });
    assert.ok(created.types.has("aws:cfg/organizationCustomRule:OrganizationCustomRule"));
    assert.ok(created.invokes.has("aws:organizations/getOrganization:getOrganization"));
    assert.deepEqual(missing(orgPolicy, created), []);
  });

  it("lets a delegated administrator deploy organization mode with the same policy", async () => {
    const created = await create({ organization: "true", callAs: "DELEGATED_ADMIN", organizationTargets: "ou-ab12-abcdefgh", organizationId: "o-zyxwvutsrq" });
    assert.deepEqual(missing(orgPolicy, created), []);
  });

  it("grants what the evaluator's asynchronous invocation settings (FunctionEventInvokeConfig) need", () => {
    const needs = NEEDS["aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"]!;
    for (const policy of [accountPolicy, orgPolicy]) {
      for (const action of needs) assert.ok(allowsOn(policy, action, `arn:aws:lambda:us-east-1:${ACCOUNT}:function:keyage-evaluator-a1b2c3d`), action);
    }
  });

  it("scopes role, Lambda and log-group management to the names the program gives them", async () => {
    for (const [policy, created] of [
      [accountPolicy, await create({})],
      [orgPolicy, await create({ organization: "true" })],
    ] as const) {
      assert.ok(created.roleNames.length > 0 && created.functionNames.length >= 1 && created.logGroupNames.length >= 1);
      for (const role of created.roleNames) {
        for (const action of [...NEEDS["aws:iam/role:Role"]!, ...NEEDS["aws:iam/rolePolicy:RolePolicy"]!]) {
          assert.ok(allowsOn(policy, action, `arn:aws:iam::${ACCOUNT}:role/${role}`), `${action} on role ${role}`);
        }
        assert.ok(!allowsOn(policy, "iam:CreateRole", `arn:aws:iam::${ACCOUNT}:role/Admin`), "roles outside keyage's names stay out of reach");
      }
      for (const name of created.functionNames) {
        const fn = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;
        for (const action of NEEDS["aws:lambda/function:Function"]!.filter((a) => a.startsWith("lambda:"))) assert.ok(allowsOn(policy, action, fn), `${action} on ${fn}`);
      }
      for (const name of created.logGroupNames) {
        const logs = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${name}`;
        for (const action of ["logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy"]) assert.ok(allowsOn(policy, action, logs), `${action} on ${logs}`);
      }
      // The changes queue (reevaluateOnChange, one account) lives in us-east-1 under keyage's names.
      if (policy === accountPolicy) {
        assert.ok(allowsOn(policy, "sqs:CreateQueue", `arn:aws:sqs:us-east-1:${ACCOUNT}:keyage-access-key-age-changes`));
        assert.ok(!allowsOn(policy, "sqs:SetQueueAttributes", `arn:aws:sqs:us-east-1:${ACCOUNT}:payments-orders`), "queues outside keyage's names stay out of reach");
      }
    }
  });

  it("lets a deployer manage keyage's alarms by name, and no other alarm", () => {
    for (const policy of [accountPolicy, orgPolicy]) {
      for (const action of ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource"]) {
        assert.ok(allowsOn(policy, action, `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:keyage-access-key-age-rotator-missed-run`), action);
        assert.ok(!allowsOn(policy, action, `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:prod-database-cpu`), `${action} on another team's alarm`);
      }
    }
  });

  it("lets keyage's roles be passed to Lambda (the functions) and EventBridge Scheduler (the rotator's schedule) only", () => {
    for (const policy of [accountPolicy, orgPolicy]) {
      const pass = allowing(policy, "iam:PassRole");
      assert.ok(pass.length > 0);
      const services = pass.map((s) => s.Condition);
      for (const c of services) {
        assert.ok(
          [JSON.stringify({ StringEquals: { "iam:PassedToService": "lambda.amazonaws.com" } }), JSON.stringify({ StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } })].includes(JSON.stringify(c)),
          `PassRole with ${JSON.stringify(c)}`,
        );
      }
    }
  });

  it("lets a deployer create, update and delete the scheduled rotator, its schedule and its events topic, in either mode's policy", async () => {
    const rotatorModule = await import("../pulumi/rotator");
    const rotation = await import("../pulumi/rotator-settings");
    const prefix = `rot${registrations.length}x${Math.random().toString(36).slice(2, 8)}`;
    const rotator = new rotatorModule.KeyageRotator(prefix, {
      settings: settingsModule.validateSettings({}),
      rotation: rotation.validateRotationSettings({ rotation: "apply", notificationEmail: "ops@example.com" }),
      code: new pulumi.asset.FileArchive("dist/rotator.zip"),
    });
    const parts = [rotator.function, rotator.schedule, rotator.topic, rotator.topicPolicy, rotator.eventRule, rotator.eventTarget, rotator.subscription, rotator.invokeConfig, rotator.schedulerRolePolicy];
    await new Promise((done) => pulumi.all(parts.map((p) => p!.urn)).apply(done));
    const mine = registrations.filter((r) => r.name === prefix || r.name.startsWith(`${prefix}-`));
    const created: Created = { types: new Set(mine.map((r) => r.type)), invokes: new Set(), roleNames: [], functionNames: [], logGroupNames: [] };
    for (const t of ["aws:scheduler/schedule:Schedule", "aws:sns/topic:Topic", "aws:cloudwatch/eventRule:EventRule"]) assert.ok(created.types.has(t), t);
    for (const policy of [accountPolicy, orgPolicy]) {
      assert.deepEqual(missing(policy, created), []);
      // One run at a time: the rotator's reserved concurrency.
      for (const action of ["lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:GetFunctionConcurrency"]) {
        assert.ok(allowsOn(policy, action, `arn:aws:lambda:us-east-1:${ACCOUNT}:function:keyage-rotator-a1b2c3d`), action);
      }
      assert.ok(allowsOn(policy, "scheduler:CreateSchedule", `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule/default/keyage-access-key-age-rotator`));
      assert.ok(allowsOn(policy, "sns:CreateTopic", `arn:aws:sns:us-east-1:${ACCOUNT}:keyage-access-key-age-events`));
      assert.ok(allowsOn(policy, "events:PutRule", `arn:aws:events:us-east-1:${ACCOUNT}:rule/keyage-access-key-age-events`));
      assert.ok(!allowsOn(policy, "sns:CreateTopic", `arn:aws:sns:us-east-1:${ACCOUNT}:billing`), "topics outside keyage's names stay out of reach");
    }
  });

  it("lets a deployer create, update and delete the rotator's organization mode (its member-role StackSet and the management account's role) with the organization policy", async () => {
    const rotatorModule = await import("../pulumi/rotator");
    const rotation = await import("../pulumi/rotator-settings");
    const prefix = `rotorg${registrations.length}x${Math.random().toString(36).slice(2, 8)}`;
    const firstInvoke = invokes.length;
    const rotator = new rotatorModule.KeyageRotator(prefix, {
      settings: settingsModule.validateSettings({ organization: "true", excludedAccounts: "111111111111" }),
      rotation: rotation.validateRotationSettings({ rotation: "apply" }),
      code: new pulumi.asset.FileArchive("dist/rotator.zip"),
    });
    const local = await new Promise<(pulumi.Resource | undefined)[]>((done) => pulumi.all([rotator.localMemberRole, rotator.localMemberRolePolicy]).apply(done));
    const parts = [rotator.rolePolicy, rotator.schedule, rotator.memberStackSet, rotator.memberStackSetInstance, ...local];
    await new Promise((done) => pulumi.all(parts.map((p) => p!.urn)).apply(done));
    const mine = registrations.filter((r) => r.name === prefix || r.name.startsWith(`${prefix}-`));
    const created: Created = { types: new Set(mine.map((r) => r.type)), invokes: new Set(invokes.slice(firstInvoke)), roleNames: [], functionNames: [], logGroupNames: [] };
    for (const t of ["aws:cloudformation/stackSet:StackSet", "aws:cloudformation/stackSetInstance:StackSetInstance"]) assert.ok(created.types.has(t), t);
    assert.deepEqual(missing(orgPolicy, created), []);
    for (const action of [...NEEDS["aws:iam/role:Role"]!, ...NEEDS["aws:iam/rolePolicy:RolePolicy"]!]) {
      assert.ok(allowsOn(orgPolicy, action, `arn:aws:iam::${ACCOUNT}:role/keyage-rotator`), `${action} on the management account's rotator role`);
    }
  });

  it("keeps organization permissions out of the single-account policy", () => {
    for (const action of ["organizations:DescribeOrganization", "cloudformation:CreateStackSet", "config:PutOrganizationConfigRule", "iam:CreateServiceLinkedRole"]) {
      assert.equal(allowing(accountPolicy, action).length, 0, action);
    }
  });
});
