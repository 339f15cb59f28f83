// The policies the deploy program generates, decided as IAM would decide them: the program runs under
// Pulumi's mocks, every role's inline policies, its permissions boundary and the StackSets' member-role
// templates are collected, and each API call a keyage Lambda makes (and each it must never make) is
// evaluated by an offline IAM simulator (@cloud-copilot/iam-simulate, a devDependency) that also checks
// the action, the resource ARN's type and the condition keys against AWS's service authorization data.
// The deployer policies in docs/ are evaluated the same way. docs/design.md shows these tables.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { RawDeploySettings } from "../pulumi/settings";
import { ACCOUNT, ORG_ID, type Registered, setDeployMocks, resolveOutput as resolve } from "./deploy-mocks";

const MEMBER = "222222222222";
/** The security team's role that `keyage:auditRoleTrust` names, in an audit account of its own. */
const AUDITOR = "arn:aws:iam::111111111111:role/security-audit";
const FOREIGN = "999999999999";
const REGION = "us-east-1";
/** The physical names `pulumi up` gives auto-named resources: the logical name and seven random hex digits. */
const SUFFIX = "a1b2c3d";

type Policy = { Version: string; Statement: unknown[] };
type Decision = "allowed" | "denied";

/** One role as IAM sees it: its ARN, its identity policies, its permissions boundary. */
interface Role {
  arn: string;
  account: string;
  policies: Policy[];
  boundary?: Policy;
  /** Its trust policy (who may assume it). */
  trust?: Policy;
}

/** One call: action, resource ARN (`*` where the action has no resource type) and request context. */
interface Call {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

/** Runs one simulation; a validation error (unknown action, wrong resource type, unknown context key) fails the test. */
async function decide(principal: string, account: string, policies: Policy[], call: Call, boundary?: Policy, resourcePolicy?: Policy): Promise<Decision> {
  const result = await runSimulation(
    {
      request: { principal, action: call.action, resource: { resource: call.resource, accountId: account }, contextVariables: call.context ?? {} },
      identityPolicies: policies.map((policy, i) => ({ name: `policy${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(boundary ? { permissionBoundaryPolicies: [{ name: "boundary", policy: boundary }] } : {}),
      ...(resourcePolicy ? { resourcePolicy } : {}),
    },
    {},
  );
  if (result.resultType === "error") throw new Error(`${call.action} on ${call.resource}: ${JSON.stringify(result.errors)}`);
  return result.overallResult === "Allowed" ? "allowed" : "denied";
}

const registered: Registered[] = [];
let program: typeof import("../pulumi/config-rule");
let rotatorModule: typeof import("../pulumi/rotator");
let settingsModule: typeof import("../pulumi/settings");

/** The program's resources for these settings (the Config rule, and the rotator when on), under a fresh component name. */
async function build(raw: RawDeploySettings): Promise<{ prefix: string; resources: Registered[] }> {
  const prefix = `sim${registered.length}x${Math.random().toString(36).slice(2, 8)}`;
  const settings = settingsModule.validateSettings(raw);
  const rule = program.createKeyageRule({ settings, code: new pulumi.asset.FileArchive("dist/config-rule.zip") }, prefix);
  const waits: pulumi.Output<unknown>[] = [rule.ruleArn, rule.functionArn, rule.executionRolePolicy.urn, pulumi.output(rule.localMemberRolePolicy).apply((p) => p?.urn)];
  if (rule.readResultsPolicy) waits.push(rule.readResultsPolicy.urn);
  if (rule.readKeyChangesPolicy) waits.push(rule.readKeyChangesPolicy.urn);
  if (rule.reevaluate) waits.push(rule.reevaluate.rolePolicy.urn, rule.reevaluate.function.urn);
  if (rule.memberStackSet) waits.push(rule.memberStackSet.urn);
  if (rule.auditRole?.stackSet) waits.push(rule.auditRole.stackSet.urn);
  if (rule.auditRole?.local) waits.push(rule.auditRole.local.apply((l) => l?.policy.urn), pulumi.output(rule.auditRole.boundary).apply((b) => b?.urn));
  if (settings.rotation) {
    const rotator = new rotatorModule.KeyageRotator(prefix, { settings, rotation: settings.rotation, code: new pulumi.asset.FileArchive("dist/rotator.zip") });
    waits.push(rotator.rolePolicy.urn, rotator.schedulerRolePolicy.urn, rotator.schedule.urn, pulumi.output(rotator.localMemberRolePolicy).apply((p) => p?.urn));
    for (const r of [rotator.memberStackSet, rotator.topic, rotator.eventRule, rotator.eventTarget, rotator.subscription, rotator.topicPolicy]) if (r) waits.push(r.urn);
  }
  await resolve(pulumi.all(waits));
  await new Promise((done) => setTimeout(done, 50));
  return { prefix, resources: registered.filter((r) => r.name.startsWith(`${prefix}-`)) };
}

/** The physical name `pulumi up` would give a resource of the real program (component name `keyage`). */
function physical(prefix: string, r: Registered): string {
  return typeof r.inputs.name === "string" ? r.inputs.name : `${r.name.replace(prefix, "keyage")}-${SUFFIX}`;
}

/** A role of the deploying account, by its logical name's suffix (`-lambda`, `-rotator`, `-rotator-local`, ...). */
function roleOf(built: { prefix: string; resources: Registered[] }, suffix: string): Role {
  const role = built.resources.find((r) => r.type === "aws:iam/role:Role" && r.name === `${built.prefix}${suffix}`);
  assert.ok(role, `no role ${suffix}`);
  const policies = built.resources
    .filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.inputs.role === `${role.name}-id`)
    .map((r) => JSON.parse(r.inputs.policy as string) as Policy);
  assert.ok(policies.length > 0, `role ${suffix} has no policy`);
  const boundaryArn = role.inputs.permissionsBoundary;
  const boundaryPolicy = built.resources.find((r) => r.type === "aws:iam/policy:Policy" && `arn:aws:iam::${ACCOUNT}:policy/${String(r.inputs.name)}` === boundaryArn);
  return {
    arn: `arn:aws:iam::${ACCOUNT}:role/${physical(built.prefix, role)}`,
    account: ACCOUNT,
    policies,
    trust: JSON.parse(role.inputs.assumeRolePolicy as string) as Policy,
    ...(boundaryPolicy ? { boundary: JSON.parse(boundaryPolicy.inputs.policy as string) as Policy } : {}),
  };
}

/** The template's placeholders, filled in as CloudFormation would in `account`. */
function filled(value: unknown, account: string): unknown {
  if (Array.isArray(value)) return value.map((v) => filled(v, account));
  if (value !== null && typeof value === "object") {
    if ("Fn::Sub" in value) {
      return String((value as { "Fn::Sub": string })["Fn::Sub"]).replaceAll("${AWS::Partition}", "aws").replaceAll("${AWS::AccountId}", account).replaceAll("${AWS::Region}", REGION);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, filled(v, account)]));
  }
  return value;
}

/** The role a StackSet's template creates in a member account, with its boundary from the same template. */
function memberRoleOf(built: { resources: Registered[] }, stackSetSuffix: string): Role {
  const set = built.resources.find((r) => r.type === "aws:cloudformation/stackSet:StackSet" && String(r.inputs.name).endsWith(stackSetSuffix));
  assert.ok(set, `no StackSet ${stackSetSuffix}`);
  const template = filled(JSON.parse(set.inputs.templateBody as string), MEMBER) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const [, role] = Object.entries(template.Resources).find(([, r]) => r.Type === "AWS::IAM::Role")!;
  const props = role.Properties as { RoleName: string; Policies: { PolicyDocument: Policy }[]; PermissionsBoundary?: { Ref: string }; AssumeRolePolicyDocument: Policy };
  const boundary = props.PermissionsBoundary ? (template.Resources[props.PermissionsBoundary.Ref]?.Properties as { PolicyDocument: Policy } | undefined)?.PolicyDocument : undefined;
  return { arn: `arn:aws:iam::${MEMBER}:role/${props.RoleName}`, account: MEMBER, policies: props.Policies.map((p) => p.PolicyDocument), trust: props.AssumeRolePolicyDocument, ...(boundary ? { boundary } : {}) };
}

/** A row of the tables in docs/design.md: who, what, on which resource, under which condition, and IAM's answer. */
interface Row {
  who: string;
  call: Call;
  why: string;
  expect: Decision;
}

const user = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:user/${name}`;
const secret = (name: string, account = ACCOUNT) => `arn:aws:secretsmanager:${REGION}:${account}:secret:${name}-AbCdEf`;
const OPTED_IN = { "iam:ResourceTag/keyage:rotate": `secretsmanager:${secret("app/build-bot")}` };
const BOUND = (u: string) => ({ "aws:ResourceTag/keyage:rotate": u });

/** Every call each Lambda makes, and the calls it must never make. */
function lambdaRows(account: string, member: boolean): Row[] {
  const logs = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/keyage/keyage-access-key-age:log-stream:2026/12/03/[$LATEST]abc`;
  return [
    { who: "config rule", call: { action: "iam:GenerateCredentialReport", resource: "*" }, why: "reads the credential report", expect: "allowed" },
    { who: "config rule", call: { action: "iam:GetCredentialReport", resource: "*" }, why: "reads the credential report", expect: "allowed" },
    { who: "config rule", call: { action: "iam:ListUsers", resource: "*" }, why: "lists users", expect: "allowed" },
    { who: "config rule", call: { action: "iam:ListAccessKeys", resource: user("alice", account) }, why: "a user's keys, this account", expect: "allowed" },
    { who: "config rule", call: { action: "iam:ListAccessKeys", resource: user("alice", FOREIGN) }, why: "a user of another account", expect: "denied" },
    { who: "config rule", call: { action: "config:PutEvaluations", resource: "*" }, why: "writes verdicts", expect: "allowed" },
    { who: "config rule", call: { action: "iam:CreateAccessKey", resource: user("alice", account) }, why: "any IAM write", expect: "denied" },
    { who: "config rule", call: { action: "iam:UpdateAccessKey", resource: user("alice", account) }, why: "any IAM write", expect: "denied" },
    { who: "config rule", call: { action: "secretsmanager:GetSecretValue", resource: secret("app/build-bot", account), context: BOUND(user("alice", account)) }, why: "any secret", expect: "denied" },
    ...(member ? [] : [{ who: "config rule", call: { action: "logs:PutLogEvents", resource: logs }, why: "its own log group", expect: "allowed" } as Row]),
  ];
}

describe("IAM simulation of the generated policies (@cloud-copilot/iam-simulate)", function () {
  this.timeout(60000);

  before(async function loadProgram() {
    this.timeout(30000);
    await setDeployMocks({ onResource: (r) => void registered.push(r) });
    program = await import("../pulumi/config-rule");
    rotatorModule = await import("../pulumi/rotator");
    settingsModule = await import("../pulumi/settings");
  });

  /** Evaluates rows against a role, with and without its boundary, and reports every row IAM decides otherwise. */
  async function check(role: Role, rows: Row[]): Promise<void> {
    const wrong: string[] = [];
    for (const row of rows) {
      const decided = await decide(role.arn, role.account, role.policies, row.call, role.boundary);
      if (decided !== row.expect) wrong.push(`${row.call.action} on ${row.call.resource} ${JSON.stringify(row.call.context ?? {})} (${row.why}): ${decided}, expected ${row.expect}`);
    }
    assert.deepEqual(wrong, []);
  }

  describe("every role carries keyage's permissions boundary, which caps it", () => {
    it("gives every role the program creates a boundary, itself created by the program, in every mode", async () => {
      for (const raw of [{ rotation: "apply", notificationEmail: "ops@example.com", auditRoleTrust: AUDITOR }, { organization: "true", rotation: "apply", auditRoleTrust: AUDITOR }, { organization: "true", callAs: "DELEGATED_ADMIN", organizationTargets: "r-ab12", organizationId: ORG_ID, rotation: "plan", auditRoleTrust: AUDITOR }] as RawDeploySettings[]) {
        const built = await build(raw);
        const roles = built.resources.filter((r) => r.type === "aws:iam/role:Role");
        assert.ok(roles.length >= 3);
        const boundaries = built.resources.filter((r) => r.type === "aws:iam/policy:Policy").map((p) => `arn:aws:iam::${ACCOUNT}:policy/${String(p.inputs.name)}`);
        for (const role of roles) assert.ok(boundaries.includes(String(role.inputs.permissionsBoundary)), `${role.name}: boundary ${String(role.inputs.permissionsBoundary)}`);
        for (const set of built.resources.filter((r) => r.type === "aws:cloudformation/stackSet:StackSet")) {
          const template = JSON.parse(set.inputs.templateBody as string) as { Resources: Record<string, { Type: string; Properties: { PermissionsBoundary?: { Ref: string } } }> };
          for (const [id, r] of Object.entries(template.Resources).filter(([, r]) => r.Type === "AWS::IAM::Role")) {
            const ref = r.Properties.PermissionsBoundary?.Ref;
            assert.equal(ref !== undefined && template.Resources[ref]?.Type, "AWS::IAM::ManagedPolicy", `${String(set.inputs.name)}: ${id}`);
          }
        }
      }
    });

    it("denies a keyage role anything outside keyage's needs even if a policy granting everything were attached to it", async () => {
      const built = await build({ organization: "true", rotation: "apply", auditRoleTrust: AUDITOR });
      for (const suffix of ["-lambda", "-rotator", "-rotator-schedule", "-member-local", "-rotator-local", "-audit-local"]) {
        const role = roleOf(built, suffix);
        assert.ok(role.boundary, `${suffix} has a boundary`);
        const admin: Policy = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
        for (const call of [
          { action: "iam:CreateUser", resource: user("mallory") },
          { action: "iam:AttachRolePolicy", resource: `arn:aws:iam::${ACCOUNT}:role/Admin` },
          { action: "iam:TagUser", resource: user("mallory"), context: { "aws:TagKeys": ["keyage:rotate"] } },
          { action: "s3:GetObject", resource: "arn:aws:s3:::payroll/2026.csv" },
          { action: "lambda:UpdateFunctionCode", resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:keyage-rotator-${SUFFIX}` },
        ]) {
          assert.equal(await decide(role.arn, ACCOUNT, [admin], call, role.boundary), "denied", `${suffix}: ${call.action}`);
        }
      }
    });
  });

  describe("the boundary never cuts off a grant", () => {
    /** A concrete value a wildcard pattern matches (`*` and `?` filled in; a log group's `:*` as a log stream). */
    const sample = (pattern: string): string =>
      pattern === "*" ? "*" : pattern.replace(/:log-group:([^:]+):\*$/, ":log-group:$1:log-stream:x1").replace(/\*/g, "x1").replace(/\?/g, "a");
    /** The request context a statement's conditions ask for, filled in with matching values. */
    function contextFor(condition: Record<string, Record<string, string | string[]>> | undefined): Record<string, string | string[]> {
      const context: Record<string, string | string[]> = {};
      for (const [operator, keys] of Object.entries(condition ?? {})) {
        for (const [key, value] of Object.entries(keys)) {
          if (operator === "Null") context[key] = "x1";
          else if (operator.startsWith("ForAllValues:")) context[key] = [sample(Array.isArray(value) ? value[0]! : value)];
          else context[key] = sample(Array.isArray(value) ? value[0]! : value);
        }
      }
      return context;
    }

    it("allows, with the boundary attached, every action on every resource each role's own policies grant", async () => {
      const builds = [
        await build({ rotation: "apply", notificationEmail: "ops@example.com" }),
        await build({ organization: "true", rotation: "apply", rotationSecretPrefix: "keyage/", auditRoleTrust: AUDITOR }),
        await build({ organization: "true", callAs: "DELEGATED_ADMIN", organizationTargets: "r-ab12", organizationId: ORG_ID, rotation: "plan" }),
        await build({ auditRoleTrust: AUDITOR }),
      ];
      const cut: string[] = [];
      let checked = 0;
      for (const built of builds) {
        const roles = built.resources.filter((r) => r.type === "aws:iam/role:Role").map((r) => roleOf(built, r.name.slice(built.prefix.length)));
        roles.push(...built.resources.filter((r) => r.type === "aws:cloudformation/stackSet:StackSet").map((r) => memberRoleOf(built, String(r.inputs.name).slice(-12))));
        for (const role of roles) {
          assert.ok(role.boundary, `${role.arn} has a boundary`);
          for (const statement of role.policies.flatMap((p) => p.Statement as { Action: string[]; Resource: string | string[]; Condition?: Record<string, Record<string, string | string[]>> }[])) {
            for (const action of statement.Action) {
              for (const resource of [statement.Resource].flat()) {
                const call = { action, resource: sample(resource), context: contextFor(statement.Condition) };
                checked++;
                if ((await decide(role.arn, role.account, role.policies, call, role.boundary)) !== "allowed") cut.push(`${role.arn}: ${action} on ${call.resource}`);
              }
            }
          }
        }
      }
      assert.ok(checked > 60, `${checked} grants checked`);
      assert.deepEqual(cut, [], "grants the boundary denies: add them to ruleBoundaryPolicy / rotatorBoundaryPolicy (deploy/) as well");
    });
  });

  describe("the Config rule's roles", () => {
    it("one account: the evaluator's role may make every call the evaluator makes, and nothing else", async () => {
      const built = await build({});
      const role = roleOf(built, "-lambda");
      const ruleArn = `arn:aws:config:${REGION}:${ACCOUNT}:config-rule/config-rule-keyage`;
      assert.ok(built.resources.some((r) => r.type === "aws:cfg/rule:Rule"));
      await check(role, [
        ...lambdaRows(ACCOUNT, false),
        { who: "config rule", call: { action: "config:GetComplianceDetailsByConfigRule", resource: ruleArn }, why: "its own rule's earlier results", expect: "allowed" },
        { who: "config rule", call: { action: "config:GetComplianceDetailsByConfigRule", resource: `arn:aws:config:${REGION}:${ACCOUNT}:config-rule/config-rule-pci123` }, why: "another rule's results", expect: "denied" },
        { who: "config rule", call: { action: "sts:AssumeRole", resource: `arn:aws:iam::${MEMBER}:role/keyage-config-rule-reader`, context: { "aws:ResourceOrgID": ORG_ID } }, why: "no role to assume in one account", expect: "denied" },
      ]);
    });

    it("reevaluateOnChange: the evaluator reads and deletes only the changes queue's messages; the tick only counts them and starts this rule", async () => {
      const built = await build({});
      const queue = `arn:aws:sqs:us-east-1:${ACCOUNT}:keyage-access-key-age-changes`;
      const other = `arn:aws:sqs:us-east-1:${ACCOUNT}:payments-orders`;
      const ruleArn = `arn:aws:config:${REGION}:${ACCOUNT}:config-rule/config-rule-keyage`;
      const anotherRule = `arn:aws:config:${REGION}:${ACCOUNT}:config-rule/config-rule-pci123`;
      const tickLogs = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/keyage/keyage-access-key-age-recheck:log-stream:2026/12/03/[$LATEST]abc`;
      await check(roleOf(built, "-lambda"), [
        { who: "config rule", call: { action: "sqs:ReceiveMessage", resource: queue }, why: "reads the changes queue", expect: "allowed" },
        { who: "config rule", call: { action: "sqs:DeleteMessage", resource: queue }, why: "deletes what it confirmed", expect: "allowed" },
        { who: "config rule", call: { action: "sqs:ReceiveMessage", resource: other }, why: "another queue's messages", expect: "denied" },
        { who: "config rule", call: { action: "sqs:SendMessage", resource: queue }, why: "writing changes itself", expect: "denied" },
        { who: "config rule", call: { action: "config:StartConfigRulesEvaluation", resource: ruleArn }, why: "the evaluator never starts a run", expect: "denied" },
      ]);
      await check(roleOf(built, "-reevaluate"), [
        { who: "re-evaluation tick", call: { action: "sqs:GetQueueAttributes", resource: queue }, why: "how many changes wait", expect: "allowed" },
        { who: "re-evaluation tick", call: { action: "config:StartConfigRulesEvaluation", resource: ruleArn }, why: "starts this rule", expect: "allowed" },
        { who: "re-evaluation tick", call: { action: "logs:PutLogEvents", resource: tickLogs }, why: "its own log group", expect: "allowed" },
        { who: "re-evaluation tick", call: { action: "config:StartConfigRulesEvaluation", resource: anotherRule }, why: "another rule's evaluation", expect: "denied" },
        { who: "re-evaluation tick", call: { action: "sqs:ReceiveMessage", resource: queue }, why: "the messages themselves", expect: "denied" },
        { who: "re-evaluation tick", call: { action: "sqs:PurgeQueue", resource: queue }, why: "dropping changes", expect: "denied" },
        { who: "re-evaluation tick", call: { action: "config:PutEvaluations", resource: "*" }, why: "writing verdicts", expect: "denied" },
        { who: "re-evaluation tick", call: { action: "iam:ListAccessKeys", resource: user("alice") }, why: "any IAM read", expect: "denied" },
      ]);
    });

    it("organization: the evaluator may only assume the reader role inside the organization; the reader role reads its own account", async () => {
      const built = await build({ organization: "true" });
      await check(roleOf(built, "-lambda"), [
        { who: "config rule (organization)", call: { action: "sts:AssumeRole", resource: `arn:aws:iam::${MEMBER}:role/keyage-config-rule-reader`, context: { "aws:ResourceOrgID": ORG_ID } }, why: "the reader role, in the organization", expect: "allowed" },
        { who: "config rule (organization)", call: { action: "sts:AssumeRole", resource: `arn:aws:iam::${FOREIGN}:role/keyage-config-rule-reader`, context: { "aws:ResourceOrgID": "o-otherorgxyz" } }, why: "a role outside the organization", expect: "denied" },
        { who: "config rule (organization)", call: { action: "sts:AssumeRole", resource: `arn:aws:iam::${MEMBER}:role/OrganizationAccountAccessRole`, context: { "aws:ResourceOrgID": ORG_ID } }, why: "another role of the organization", expect: "denied" },
        { who: "config rule (organization)", call: { action: "iam:ListAccessKeys", resource: user("alice") }, why: "no IAM read of its own", expect: "denied" },
      ]);
      await check(memberRoleOf(built, "-member-role"), [
        ...lambdaRows(MEMBER, true),
        { who: "reader role", call: { action: "config:GetComplianceDetailsByConfigRule", resource: `arn:aws:config:${REGION}:${MEMBER}:config-rule/config-rule-ab12cd` }, why: "this account's rule results", expect: "allowed" },
      ]);
      await check(roleOf(built, "-member-local"), lambdaRows(ACCOUNT, true));
    });
  });

  describe("the rotator's roles", () => {
    /** The calls of a rotator run in `account`, as `mode` allows them. */
    function rotatorRows(account: string, mode: "notify" | "plan" | "apply", prefix?: string): Row[] {
      const bound = secret(prefix ? `${prefix}build-bot` : "app/build-bot", account);
      const writes: Decision = mode === "apply" ? "allowed" : "denied";
      const reads: Decision = mode === "notify" ? "denied" : "allowed";
      const tagged = { "iam:ResourceTag/keyage:rotate": `secretsmanager:${bound}` };
      return [
        { who: `rotator (${mode})`, call: { action: "iam:GetAccountAuthorizationDetails", resource: "*" }, why: "finds opted-in users in bulk", expect: "allowed" },
        { who: `rotator (${mode})`, call: { action: "iam:ListAccessKeys", resource: user("alice", account) }, why: "a user's keys", expect: "allowed" },
        { who: `rotator (${mode})`, call: { action: "iam:GetAccessKeyLastUsed", resource: user("alice", account) }, why: "when a key was last used", expect: "allowed" },
        { who: `rotator (${mode})`, call: { action: "iam:ListUserTags", resource: user("alice", account) }, why: "a user's tags", expect: "allowed" },
        { who: `rotator (${mode})`, call: { action: "secretsmanager:DescribeSecret", resource: bound, context: BOUND(user("alice", account)) }, why: "a secret bound to a user (tag = user ARN)", expect: reads },
        { who: `rotator (${mode})`, call: { action: "secretsmanager:GetSecretValue", resource: bound, context: BOUND(user("alice", account)) }, why: "a secret bound to a user", expect: reads },
        { who: `rotator (${mode})`, call: { action: "secretsmanager:PutSecretValue", resource: bound, context: BOUND(user("alice", account)) }, why: "a secret bound to a user", expect: writes },
        { who: `rotator (${mode})`, call: { action: "iam:CreateAccessKey", resource: user("alice", account), context: tagged }, why: "an opted-in user", expect: writes },
        { who: `rotator (${mode})`, call: { action: "iam:UpdateAccessKey", resource: user("alice", account), context: tagged }, why: "an opted-in user", expect: writes },
        { who: `rotator (${mode})`, call: { action: "iam:DeleteAccessKey", resource: user("alice", account), context: tagged }, why: "an opted-in user", expect: writes },
        { who: `rotator (${mode})`, call: { action: "iam:TagUser", resource: user("alice", account), context: { ...tagged, "aws:TagKeys": ["keyage:deactivated:WXYZ"] } }, why: "bookkeeping tag on an opted-in user", expect: writes },
        { who: `rotator (${mode})`, call: { action: "iam:TagUser", resource: user("alice", account), context: { ...tagged, "aws:TagKeys": ["keyage:created:WXYZ"] } }, why: "bookkeeping tag on an opted-in user", expect: writes },
        { who: `rotator (${mode})`, call: { action: "iam:UntagUser", resource: user("alice", account), context: { ...tagged, "aws:TagKeys": ["keyage:deactivated:WXYZ", "keyage:created:ABCD"] } }, why: "removes its bookkeeping", expect: writes },
        { who: `rotator (${mode})`, call: { action: "iam:CreateAccessKey", resource: user("bob", account) }, why: "an untagged user", expect: "denied" },
        { who: `rotator (${mode})`, call: { action: "iam:DeleteAccessKey", resource: user("bob", account), context: { "iam:ResourceTag/keyage:rotate": "true" } }, why: "a user tagged with something else", expect: "denied" },
        { who: `rotator (${mode})`, call: { action: "iam:CreateAccessKey", resource: user("alice", FOREIGN), context: OPTED_IN }, why: "another account's user", expect: "denied" },
        { who: `rotator (${mode})`, call: { action: "iam:TagUser", resource: user("bob", account), context: { "aws:TagKeys": ["keyage:rotate"] } }, why: "opting a user in", expect: "denied" },
        { who: `rotator (${mode})`, call: { action: "iam:TagUser", resource: user("alice", account), context: { ...tagged, "aws:TagKeys": ["keyage:rotate"] } }, why: "re-pointing an opted-in user", expect: "denied" },
        { who: `rotator (${mode})`, call: { action: "iam:TagUser", resource: user("alice", account), context: { ...tagged, "aws:TagKeys": ["keyage:deactivated:WXYZ", "keyage:owner"] } }, why: "a bookkeeping tag plus another", expect: "denied" },
        { who: `rotator (${mode})`, call: { action: "iam:UntagUser", resource: user("alice", account), context: { ...tagged, "aws:TagKeys": ["keyage:rotate"] } }, why: "opting a user out", expect: "denied" },
        { who: `rotator (${mode})`, call: { action: "secretsmanager:PutSecretValue", resource: secret("payroll/db", account) }, why: "an untagged secret", expect: "denied" },
        { who: `rotator (${mode})`, call: { action: "secretsmanager:GetSecretValue", resource: secret("payroll/db", account) }, why: "an untagged secret", expect: "denied" },
        { who: `rotator (${mode})`, call: { action: "secretsmanager:PutSecretValue", resource: bound, context: BOUND("true") }, why: "a secret tagged with a non-ARN", expect: "denied" },
        { who: `rotator (${mode})`, call: { action: "secretsmanager:GetSecretValue", resource: bound, context: BOUND(`arn:aws:iam::${account}:role/app`) }, why: "a secret tagged with a role ARN", expect: "denied" },
        { who: `rotator (${mode})`, call: { action: "secretsmanager:PutSecretValue", resource: bound, context: BOUND(user("alice", FOREIGN)) }, why: "a secret tagged with another account's user", expect: "denied" },
        { who: `rotator (${mode})`, call: { action: "secretsmanager:PutSecretValue", resource: secret("app/build-bot", FOREIGN), context: BOUND(user("alice", FOREIGN)) }, why: "another account's secret", expect: "denied" },
        { who: `rotator (${mode})`, call: { action: "secretsmanager:DeleteSecret", resource: bound, context: BOUND(user("alice", account)) }, why: "deleting a secret", expect: "denied" },
        { who: `rotator (${mode})`, call: { action: "secretsmanager:TagResource", resource: bound, context: BOUND(user("alice", account)) }, why: "re-binding a secret", expect: "denied" },
        { who: `rotator (${mode})`, call: { action: "iam:CreateUser", resource: user("mallory", account) }, why: "any other IAM write", expect: "denied" },
        ...(prefix
          ? [{ who: `rotator (${mode}, prefix)`, call: { action: "secretsmanager:GetSecretValue", resource: secret("app/build-bot", account), context: BOUND(user("alice", account)) }, why: "a bound secret outside the prefix", expect: "denied" } as Row]
          : []),
      ];
    }

    it("one account, apply: every call the rotator makes is allowed, the hostile ones are denied", async () => {
      const built = await build({ rotation: "apply" });
      await check(roleOf(built, "-rotator"), [
        ...rotatorRows(ACCOUNT, "apply"),
        { who: "rotator (apply)", call: { action: "events:PutEvents", resource: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default` }, why: "publishes events", expect: "allowed" },
        { who: "rotator (apply)", call: { action: "events:PutEvents", resource: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/other` }, why: "another bus", expect: "denied" },
        { who: "rotator (apply)", call: { action: "sts:AssumeRole", resource: `arn:aws:iam::${MEMBER}:role/keyage-rotator`, context: { "aws:ResourceOrgID": ORG_ID } }, why: "no role to assume in one account", expect: "denied" },
      ]);
    });

    it("with a notification topic: a failed run reaches that topic (on-failure destination, inside the boundary) and no other", async () => {
      const built = await build({ rotation: "apply", notificationEmail: "ops@example.com" });
      const topic = `arn:aws:sns:${REGION}:${ACCOUNT}:keyage-access-key-age-events`;
      const rows = (who: string): Row[] => [
        { who, call: { action: "sns:Publish", resource: topic }, why: "its on-failure destination", expect: "allowed" },
        { who, call: { action: "sns:Publish", resource: `arn:aws:sns:${REGION}:${ACCOUNT}:payments-alerts` }, why: "another topic", expect: "denied" },
      ];
      await check(roleOf(built, "-rotator"), rows("rotator"));
    });

    it("one account, plan and notify: reads only, and notify no secret at all", async () => {
      await check(roleOf(await build({ rotation: "plan" }), "-rotator"), rotatorRows(ACCOUNT, "plan"));
      await check(roleOf(await build({ rotation: "notify" }), "-rotator"), rotatorRows(ACCOUNT, "notify"));
    });

    it("rotationSecretPrefix confines the secrets to the prefix, and they must still be bound", async () => {
      await check(roleOf(await build({ rotation: "apply", rotationSecretPrefix: "keyage/" }), "-rotator"), rotatorRows(ACCOUNT, "apply", "keyage/"));
    });

    it("organization: the central role only assumes the member rotator role inside the organization; the member role acts in its own account", async () => {
      const built = await build({ organization: "true", rotation: "apply" });
      await check(roleOf(built, "-rotator"), [
        { who: "rotator (organization)", call: { action: "organizations:ListAccounts", resource: "*" }, why: "lists the accounts", expect: "allowed" },
        { who: "rotator (organization)", call: { action: "sts:AssumeRole", resource: `arn:aws:iam::${MEMBER}:role/keyage-rotator`, context: { "aws:ResourceOrgID": ORG_ID } }, why: "the member rotator role, in the organization", expect: "allowed" },
        { who: "rotator (organization)", call: { action: "sts:AssumeRole", resource: `arn:aws:iam::${FOREIGN}:role/keyage-rotator`, context: { "aws:ResourceOrgID": "o-otherorgxyz" } }, why: "a role outside the organization", expect: "denied" },
        { who: "rotator (organization)", call: { action: "sts:AssumeRole", resource: `arn:aws:iam::${MEMBER}:role/keyage-config-rule-reader`, context: { "aws:ResourceOrgID": ORG_ID } }, why: "another role of the organization", expect: "denied" },
        { who: "rotator (organization)", call: { action: "iam:CreateAccessKey", resource: user("alice"), context: OPTED_IN }, why: "no IAM write of its own", expect: "denied" },
        { who: "rotator (organization)", call: { action: "events:PutEvents", resource: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default` }, why: "publishes events centrally", expect: "allowed" },
      ]);
      await check(memberRoleOf(built, "-rotator-role"), rotatorRows(MEMBER, "apply"));
      await check(roleOf(built, "-rotator-local"), rotatorRows(ACCOUNT, "apply"));
    });

    it("the schedule's role may invoke the rotator and nothing else", async () => {
      const built = await build({ rotation: "apply" });
      const fn = built.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name.endsWith("-rotator"));
      assert.ok(fn);
      await check(roleOf(built, "-rotator-schedule"), [
        { who: "schedule", call: { action: "lambda:InvokeFunction", resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn.name}` }, why: "runs the rotator", expect: "allowed" },
        { who: "schedule", call: { action: "lambda:InvokeFunction", resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:billing` }, why: "another function", expect: "denied" },
      ]);
    });
  });

  describe("the audit role (keyage:auditRoleTrust)", () => {
    /** Every call `keyage audit` makes in an account (`--max-unused-days` adds GetAccessKeyLastUsed), and writes it must never make. */
    function auditRows(account: string): Row[] {
      return [
        { who: "audit role", call: { action: "iam:GenerateCredentialReport", resource: "*" }, why: "asks for the credential report", expect: "allowed" },
        { who: "audit role", call: { action: "iam:GetCredentialReport", resource: "*" }, why: "reads the credential report", expect: "allowed" },
        { who: "audit role", call: { action: "iam:ListUsers", resource: "*" }, why: "lists users", expect: "allowed" },
        { who: "audit role", call: { action: "iam:ListAccessKeys", resource: user("alice", account) }, why: "names a violator's keys", expect: "allowed" },
        { who: "audit role", call: { action: "iam:GetAccessKeyLastUsed", resource: user("alice", account) }, why: "--max-unused-days", expect: "allowed" },
        { who: "audit role", call: { action: "iam:ListAccessKeys", resource: user("alice", FOREIGN) }, why: "a user of another account", expect: "denied" },
        { who: "audit role", call: { action: "iam:CreateAccessKey", resource: user("alice", account) }, why: "any IAM write", expect: "denied" },
        { who: "audit role", call: { action: "iam:UpdateAccessKey", resource: user("alice", account) }, why: "any IAM write", expect: "denied" },
        { who: "audit role", call: { action: "iam:DeleteAccessKey", resource: user("alice", account) }, why: "any IAM write", expect: "denied" },
        { who: "audit role", call: { action: "iam:TagUser", resource: user("alice", account), context: { "aws:TagKeys": ["keyage:rotate"] } }, why: "opting a user in to rotation", expect: "denied" },
        { who: "audit role", call: { action: "config:PutEvaluations", resource: "*" }, why: "writing verdicts", expect: "denied" },
        { who: "audit role", call: { action: "secretsmanager:GetSecretValue", resource: secret("app/build-bot", account), context: BOUND(user("alice", account)) }, why: "any secret", expect: "denied" },
        { who: "audit role", call: { action: "sts:AssumeRole", resource: `arn:aws:iam::${account}:role/keyage-rotator` }, why: "another role", expect: "denied" },
      ];
    }

    /** Who may assume `role` under its trust policy, each holding an identity policy that allows everything (IAM then decides on the trust alone). */
    async function checkTrust(role: Role): Promise<void> {
      assert.ok(role.trust, `${role.arn} has a trust policy`);
      const admin: Policy = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
      const assume = { action: "sts:AssumeRole", resource: role.arn };
      const wrong: string[] = [];
      for (const [principal, expect] of [
        [AUDITOR, "allowed"],
        ["arn:aws:iam::111111111111:role/developer", "denied"],
        ["arn:aws:iam::111111111111:user/security-audit", "denied"],
        [`arn:aws:iam::${role.account}:role/Admin`, "denied"],
        [`arn:aws:iam::${FOREIGN}:role/security-audit`, "denied"],
      ] as const) {
        const decided = await decide(principal, role.account, [admin], assume, undefined, role.trust);
        if (decided !== expect) wrong.push(`${principal} assuming ${role.arn}: ${decided}, expected ${expect}`);
      }
      assert.deepEqual(wrong, []);
    }

    it("in every member account and the management account: each read of the live audit is allowed, every write denied", async () => {
      const built = await build({ organization: "true", auditRoleTrust: AUDITOR });
      await check(memberRoleOf(built, "-audit-role"), auditRows(MEMBER));
      await check(roleOf(built, "-audit-local"), auditRows(ACCOUNT));
    });

    it("in one account: the same", async () => {
      await check(roleOf(await build({ auditRoleTrust: AUDITOR }), "-audit-local"), auditRows(ACCOUNT));
    });

    it("only the named principal may assume it (trust policy): not another role of the auditors' account, nor the member account's own admin, nor another account", async () => {
      const built = await build({ organization: "true", auditRoleTrust: AUDITOR });
      await checkTrust(memberRoleOf(built, "-audit-role"));
      await checkTrust(roleOf(built, "-audit-local"));
    });
  });

  describe("the deployer policies in docs/", () => {
    const deployer = `arn:aws:iam::${ACCOUNT}:user/deployer`;
    const read = (file: string) => JSON.parse(readFileSync(path.join(__dirname, "..", "docs", file), "utf8")) as Policy;
    const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/keyage-access-key-age-boundary`;
    const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
    const withBoundary = { "iam:PermissionsBoundary": BOUNDARY };

    function deployerRows(organization: boolean): Row[] {
      const stackSet = (name: string) => `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stackset/${name}:0b5c3e7a-1d2f-4a6b-9c8d-7e6f5a4b3c2d`;
      return [
        { who: "deployer", call: { action: "iam:CreateRole", resource: role(`keyage-lambda-${SUFFIX}`), context: withBoundary }, why: "a keyage role with keyage's boundary", expect: "allowed" },
        { who: "deployer", call: { action: "iam:PutRolePolicy", resource: role(`keyage-rotator-${SUFFIX}`), context: withBoundary }, why: "its inline policy", expect: "allowed" },
        { who: "deployer", call: { action: "iam:PutRolePermissionsBoundary", resource: role(`keyage-lambda-${SUFFIX}`), context: withBoundary }, why: "adds the boundary to an older keyage role", expect: "allowed" },
        { who: "deployer", call: { action: "iam:CreatePolicy", resource: BOUNDARY }, why: "creates the boundary", expect: "allowed" },
        { who: "deployer", call: { action: "iam:CreateRole", resource: role(`keyage-lambda-${SUFFIX}`) }, why: "a role without a boundary", expect: "denied" },
        { who: "deployer", call: { action: "iam:CreateRole", resource: role(`keyage-lambda-${SUFFIX}`), context: { "iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess" } }, why: "a role with another boundary", expect: "denied" },
        { who: "deployer", call: { action: "iam:CreateRole", resource: role("Admin"), context: withBoundary }, why: "a role outside keyage's names", expect: "denied" },
        { who: "deployer", call: { action: "iam:PutRolePolicy", resource: role(`keyage-lambda-${SUFFIX}`) }, why: "an inline policy on a role without the boundary", expect: "denied" },
        { who: "deployer", call: { action: "iam:DeleteRolePermissionsBoundary", resource: role(`keyage-lambda-${SUFFIX}`), context: withBoundary }, why: "deleting the boundary", expect: "denied" },
        { who: "deployer", call: { action: "iam:AttachRolePolicy", resource: role(`keyage-lambda-${SUFFIX}`), context: { ...withBoundary, "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess" } }, why: "attaching a managed policy", expect: "denied" },
        { who: "deployer", call: { action: "iam:CreatePolicyVersion", resource: `arn:aws:iam::${ACCOUNT}:policy/AdminPolicy` }, why: "another managed policy", expect: "denied" },
        { who: "deployer", call: { action: "iam:PassRole", resource: role(`keyage-lambda-${SUFFIX}`), context: { "iam:PassedToService": "lambda.amazonaws.com" } }, why: "the evaluator's role to Lambda", expect: "allowed" },
        { who: "deployer", call: { action: "iam:PassRole", resource: role(`keyage-rotator-${SUFFIX}`), context: { "iam:PassedToService": "lambda.amazonaws.com" } }, why: "the rotator's role to Lambda", expect: "allowed" },
        { who: "deployer", call: { action: "iam:PassRole", resource: role(`keyage-rotator-schedule-${SUFFIX}`), context: { "iam:PassedToService": "scheduler.amazonaws.com" } }, why: "the schedule's role to EventBridge Scheduler", expect: "allowed" },
        { who: "deployer", call: { action: "iam:PassRole", resource: role(`keyage-lambda-${SUFFIX}`), context: { "iam:PassedToService": "ec2.amazonaws.com" } }, why: "a keyage role to another service", expect: "denied" },
        { who: "deployer", call: { action: "iam:PassRole", resource: role(`keyage-rotator-schedule-${SUFFIX}`), context: { "iam:PassedToService": "lambda.amazonaws.com" } }, why: "the schedule's role to Lambda", expect: "denied" },
        { who: "deployer", call: { action: "iam:PassRole", resource: role(`keyage-rotator-${SUFFIX}`), context: { "iam:PassedToService": "scheduler.amazonaws.com" } }, why: "the rotator's role to Scheduler", expect: "denied" },
        { who: "deployer", call: { action: "iam:PassRole", resource: role("keyage-rotator"), context: { "iam:PassedToService": "lambda.amazonaws.com" } }, why: "the member rotator role to Lambda", expect: "denied" },
        { who: "deployer", call: { action: "iam:PassRole", resource: role("keyage-config-rule-reader"), context: { "iam:PassedToService": "lambda.amazonaws.com" } }, why: "the reader role to Lambda", expect: "denied" },
        ...(organization
          ? ([
              { who: "deployer (organization)", call: { action: "cloudformation:UpdateStackSet", resource: stackSet("keyage-access-key-age-member-role") }, why: "keyage's StackSet", expect: "allowed" },
              { who: "deployer (organization)", call: { action: "cloudformation:CreateStackInstances", resource: stackSet("keyage-access-key-age-rotator-role") }, why: "keyage's StackSet", expect: "allowed" },
              { who: "deployer (organization)", call: { action: "cloudformation:UpdateStackSet", resource: stackSet("AWSControlTowerBP-BASELINE-ROLES") }, why: "another StackSet of the organization", expect: "denied" },
              { who: "deployer (organization)", call: { action: "cloudformation:CreateStackInstances", resource: stackSet("org-admin-roles") }, why: "another StackSet of the organization", expect: "denied" },
              { who: "deployer (organization)", call: { action: "cloudformation:DeleteStackSet", resource: stackSet("org-admin-roles") }, why: "another StackSet of the organization", expect: "denied" },
            ] as Row[])
          : ([
              { who: "deployer", call: { action: "cloudformation:UpdateStackSet", resource: stackSet("keyage-access-key-age-member-role") }, why: "no StackSet in one account", expect: "denied" },
              { who: "deployer", call: { action: "iam:PassRole", resource: role(`keyage-reevaluate-${SUFFIX}`), context: { "iam:PassedToService": "lambda.amazonaws.com" } }, why: "the re-evaluation tick's role to Lambda", expect: "allowed" },
              { who: "deployer", call: { action: "sqs:CreateQueue", resource: `arn:aws:sqs:us-east-1:${ACCOUNT}:keyage-access-key-age-changes` }, why: "the changes queue, in us-east-1", expect: "allowed" },
              { who: "deployer", call: { action: "sqs:SetQueueAttributes", resource: `arn:aws:sqs:us-east-1:${ACCOUNT}:payments-orders` }, why: "another team's queue", expect: "denied" },
            ] as Row[])),
      ];
    }

    it("one account: roles only with keyage's boundary, each passed only to its service", async () => {
      await check({ arn: deployer, account: ACCOUNT, policies: [read("deployer-policy.json")] }, deployerRows(false));
    });

    it("organization: the same, and StackSet actions only on keyage's StackSets", async () => {
      await check({ arn: deployer, account: ACCOUNT, policies: [read("deployer-policy-organization.json")] }, deployerRows(true));
    });

    it("covers every name the program builds from keyage:ruleName, with or without the keyage- prefix", async () => {
      for (const ruleName of ["keyage-access-key-age", "acme_access_keys"]) {
        const built = await build({ ruleName, organization: "true", rotation: "apply", notificationEmail: "ops@example.com", auditRoleTrust: AUDITOR });
        const policy = read("deployer-policy-organization.json");
        const calls: Call[] = [];
        for (const r of built.resources) {
          const name = physical(built.prefix, r);
          if (r.type === "aws:iam/role:Role") calls.push({ action: "iam:CreateRole", resource: role(name), context: { "iam:PermissionsBoundary": `arn:aws:iam::${ACCOUNT}:policy/${String(built.resources.find((p) => p.type === "aws:iam/policy:Policy" && `arn:aws:iam::${ACCOUNT}:policy/${String(p.inputs.name)}` === r.inputs.permissionsBoundary)?.inputs.name)}` } });
          if (r.type === "aws:iam/policy:Policy") calls.push({ action: "iam:CreatePolicy", resource: `arn:aws:iam::${ACCOUNT}:policy/${name}` });
          if (r.type === "aws:lambda/function:Function") calls.push({ action: "lambda:CreateFunction", resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}` });
          if (r.type === "aws:cloudwatch/logGroup:LogGroup") calls.push({ action: "logs:CreateLogGroup", resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}` });
          if (r.type === "aws:scheduler/schedule:Schedule") calls.push({ action: "scheduler:CreateSchedule", resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/${name}` });
          if (r.type === "aws:sns/topic:Topic") calls.push({ action: "sns:CreateTopic", resource: `arn:aws:sns:${REGION}:${ACCOUNT}:${name}` });
          if (r.type === "aws:cloudwatch/eventRule:EventRule") calls.push({ action: "events:PutRule", resource: `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}` });
          if (r.type === "aws:cloudformation/stackSet:StackSet") calls.push({ action: "cloudformation:UpdateStackSet", resource: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stackset/${name}:0b5c3e7a-1d2f-4a6b-9c8d-7e6f5a4b3c2d` });
        }
        assert.ok(calls.length >= 12, `${calls.length} names`);
        const refused: string[] = [];
        for (const call of calls) if ((await decide(deployer, ACCOUNT, [policy], call)) !== "allowed") refused.push(`${call.action} ${call.resource} ${JSON.stringify(call.context ?? {})}`);
        assert.deepEqual(refused, [], `ruleName ${ruleName}`);
      }
    });
  });
});
