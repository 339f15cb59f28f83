// The deploy program under Pulumi's unit-test mocks: every resource the program registers is recorded
// with its inputs, so the tests read exactly what `pulumi up` would ask AWS to create.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { validateParams } from "../shared";
import type { KeyageConfigRule } from "../pulumi/config-rule";
import type { DeploySettings, RawDeploySettings } from "../pulumi/settings";
import { ACCOUNT, ORG_ID, type Registered, ROOT, setDeployMocks, resolveOutput as resolve } from "./deploy-mocks";

const registered: Registered[] = [];

/** Every action the evaluator may be granted, in any role this program creates. */
const ALLOWED = new Set([
  "iam:GenerateCredentialReport",
  "iam:GetCredentialReport",
  "iam:ListUsers",
  "iam:ListAccessKeys",
  "iam:GetAccessKeyLastUsed", // only with maxUnusedDays, only for a key that may be unused
  "config:PutEvaluations",
  "config:GetComplianceDetailsByConfigRule",
  "logs:CreateLogStream",
  "logs:PutLogEvents",
  "sts:AssumeRole",
]);

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: Record<string, unknown>;
  Condition?: Record<string, Record<string, string>>;
}

function actions(policy: { Statement: Statement[] }): string[] {
  return policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

let program: typeof import("../pulumi/config-rule");
let settingsModule: typeof import("../pulumi/settings");

/** Builds the program under a fresh name and waits until every resource is registered. */
async function deploy(raw: RawDeploySettings): Promise<{ rule: KeyageConfigRule; resources: Registered[]; settings: DeploySettings }> {
  const name = `t${registered.length}-${Math.random().toString(36).slice(2, 8)}`;
  // reevaluateOnChange's resources are test/reevaluate-deploy.spec.ts's; here the rule's own are counted.
  const settings = settingsModule.validateSettings({ reevaluateOnChange: "false", ...raw });
  const rule = program.createKeyageRule({ settings, code: new pulumi.asset.FileArchive("dist/config-rule.zip") }, name);
  const children = [
    rule.logGroup, rule.executionRole, rule.executionRolePolicy, rule.function, rule.invokeConfig, rule.readResultsPolicy, ...rule.permissions, rule.rule, rule.organizationRule,
    rule.memberStackSet, rule.memberStackSetInstance, ...(await resolve(pulumi.all([rule.localMemberRole, rule.localMemberRolePolicy]))),
  ].filter((r): r is NonNullable<typeof r> => r !== undefined);
  await resolve(pulumi.all([rule.ruleArn, rule.functionArn, ...children.map((c) => c.urn)]));
  return { rule, settings, resources: registered.filter((r) => r.name.startsWith(`${name}-`)) };
}

function only(resources: Registered[], type: string): Registered {
  const found = resources.filter((r) => r.type === type);
  assert.equal(found.length, 1, `expected one ${type}, got ${found.length}`);
  return found[0]!;
}

function ofType(resources: Registered[], type: string): Registered[] {
  return resources.filter((r) => r.type === type);
}

function policyOf(resource: Registered, key = "policy"): { Statement: Statement[] } {
  return JSON.parse(resource.inputs[key] as string) as { Statement: Statement[] };
}

describe("deploy (Pulumi program under mocks)", () => {
  before(async function loadProgram() {
    this.timeout(20000);
    await setDeployMocks({ onResource: (r) => void registered.push(r) });
    program = await import("../pulumi/config-rule");
    settingsModule = await import("../pulumi/settings");
  });

  describe("settings", () => {
    it("fills in the documented defaults when nothing is set", () => {
      const s = settingsModule.validateSettings({});
      assert.deepEqual(s, {
        maxAccessKeyAge: 30,
        ruleName: "keyage-access-key-age",
        frequency: "TwentyFour_Hours",
        lambdaMemorySize: 512,
        lambdaTimeout: 900,
        logRetentionDays: 90,
        reevaluateOnChange: true,
      });
    });

    it("lists in deploy/Pulumi.example.yaml and in docs/deploy.md exactly the keys the program reads, each once", () => {
      const keys = [...settingsModule.SETTING_KEYS].sort();
      const example = [...readFileSync(path.join(__dirname, "..", "deploy", "Pulumi.example.yaml"), "utf8").matchAll(/^\s*#?\s*keyage:(\w+):/gm)].map((m) => m[1]!);
      assert.deepEqual([...example].sort(), keys, "deploy/Pulumi.example.yaml");
      const docs = readFileSync(path.join(__dirname, "..", "docs", "deploy.md"), "utf8");
      const table = docs.slice(docs.indexOf("## Config keys"), docs.indexOf("\n## ", docs.indexOf("## Config keys") + 1));
      const documented = [...table.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]!);
      assert.deepEqual([...documented].sort(), keys, "docs/deploy.md, Config keys");
    });

    it("refuses a rule name too long for the rotator's schedule name, saying how long it may be", () => {
      assert.equal(settingsModule.validateSettings({ ruleName: "a".repeat(64), reevaluateOnChange: "false" }).ruleName.length, 64);
      assert.throws(() => settingsModule.validateSettings({ ruleName: "a".repeat(50) }), (e: Error & { key?: string }) =>
        e.key === "ruleName" && /ruleName must be at most 49 characters with reevaluateOnChange on \(its EventBridge rule is named keyage-a+-changes/.test(e.message));
      assert.throws(() => settingsModule.validateSettings({ ruleName: "a".repeat(50), rotation: "plan" }), (e: Error & { key?: string }) =>
        e.key === "ruleName" && /ruleName must be at most 49 characters with rotation on \(the rotator's schedule is named keyage-a+-rotator, and EventBridge allows 64\)/.test(e.message));
      assert.equal(settingsModule.validateSettings({ ruleName: `keyage-${"a".repeat(49)}`, rotation: "plan" }).ruleName.length, 56);
    });

    it("validates every key it reads: a bad value of each is refused with the key's name", () => {
      for (const key of settingsModule.SETTING_KEYS) {
        const raw: RawDeploySettings = { organization: "true", rotation: "apply", [key]: key === "organization" ? "maybe" : key === "exemptions" ? "[1]" : key === "rotation" ? "sometimes" : "\u0000 not valid \u0000" };
        assert.throws(() => settingsModule.validateSettings(raw), (e: { key?: string }) => e.key === key, key);
      }
    });

    it("rejects a maxAccessKeyAge outside 1-3650 with the shared validator's message", () => {
      assert.throws(() => settingsModule.validateSettings({ maxAccessKeyAge: "0" }), {
        name: "DeployConfigError",
        key: "maxAccessKeyAge",
        message: 'maxAccessKeyAge must be a whole number of days from 1 to 3650, got "0"',
      });
    });

    it("rejects a warnDays that is not below maxAccessKeyAge", () => {
      assert.throws(() => settingsModule.validateSettings({ maxAccessKeyAge: "10", warnDays: "10" }), {
        key: "warnDays",
        message: 'warnDays must be a whole number of days from 0 to 9 (less than maxAccessKeyAge = 10), got "10"',
      });
    });

    it("rejects an unknown frequency, listing the ones AWS Config accepts", () => {
      assert.throws(() => settingsModule.validateSettings({ frequency: "Daily" }), {
        key: "frequency",
        message: 'frequency must be one of One_Hour, Three_Hours, Six_Hours, Twelve_Hours, TwentyFour_Hours, got "Daily"',
      });
    });

    it("rejects a Lambda timeout above the 900 s Lambda allows", () => {
      assert.throws(() => settingsModule.validateSettings({ lambdaTimeout: "901" }), { key: "lambdaTimeout", message: 'lambdaTimeout must be a whole number from 1 to 900, got "901"' });
    });

    it("reads whole numbers the way the rule parameters do", () => {
      const settings = settingsModule.validateSettings({ maxAccessKeyAge: "+90", lambdaTimeout: "+300", lambdaMemorySize: " 1024 ", logRetentionDays: "+30" });
      assert.deepEqual([settings.maxAccessKeyAge, settings.lambdaTimeout, settings.lambdaMemorySize, settings.logRetentionDays], [90, 300, 1024, 30]);
      assert.throws(() => settingsModule.validateSettings({ lambdaTimeout: "300.5" }), /lambdaTimeout must be a whole number from 1 to 900, got "300.5"/);
    });

    it("rejects a log retention CloudWatch does not offer", () => {
      assert.throws(() => settingsModule.validateSettings({ logRetentionDays: "10" }), { key: "logRetentionDays", message: /logRetentionDays must be one of 0, 1, 3, 5, 7, 14, 30/ });
    });

    it("rejects an organization target that is neither a root nor an OU id", () => {
      assert.throws(() => settingsModule.validateSettings({ organization: "true", organizationTargets: "r-ab12 123456789012" }), {
        key: "organizationTargets",
        message: 'organizationTargets: every entry must be a root id (r-…) or an OU id (ou-…-…), got "123456789012"',
      });
    });

    it("rejects an excluded account that is not 12 digits", () => {
      assert.throws(() => settingsModule.validateSettings({ organization: true, excludedAccounts: ["12345"] }), { key: "excludedAccounts", message: 'excludedAccounts: every entry must be a 12-digit account id, got "12345"' });
    });

    it("rejects an organization flag that is not a boolean", () => {
      assert.throws(() => settingsModule.validateSettings({ organization: "yes" }), { key: "organization", message: 'organization must be true or false, got "yes"' });
    });

    it("writes exemptions in a form the Lambda's validator reads back unchanged", () => {
      const raw = ["alice", { user: "bob", until: "2027-01-31" }, "carol:2026-12-31T12:00:00Z"];
      const s = settingsModule.validateSettings({ exemptions: JSON.stringify(raw) });
      assert.equal(s.exemptions, "alice bob:2027-01-31 carol:2026-12-31T12:00:00Z");
      assert.deepEqual(validateParams({ exemptions: s.exemptions }).exemptions, validateParams({ exemptions: raw }).exemptions);
    });

    it("rejects exemptions that would push the rule parameters past AWS Config's 1,024 characters", () => {
      const many = Array.from({ length: 60 }, (_, i) => `service-account-${String(i).padStart(3, "0")}`).join(" ");
      assert.throws(() => settingsModule.validateSettings({ exemptions: many }), { key: "exemptions", message: /the rule parameters are 1\d{3} characters, more than AWS Config's limit of 1024/ });
    });
  });

  describe("one account", () => {
    it("deploys an arm64 Lambda on the newest Node.js runtime from the built zip, logging to its own group", async () => {
      const { resources } = await deploy({});
      const fn = only(resources, "aws:lambda/function:Function");
      assert.equal(fn.inputs.runtime, "nodejs24.x");
      assert.deepEqual(fn.inputs.architectures, ["arm64"]);
      assert.equal(fn.inputs.handler, "index.handler");
      assert.equal(fn.inputs.memorySize, 512);
      assert.equal(fn.inputs.timeout, 900);
      const logs = only(resources, "aws:cloudwatch/logGroup:LogGroup");
      assert.equal(logs.inputs.name, "/aws/lambda/keyage/keyage-access-key-age");
      assert.equal(logs.inputs.retentionInDays, 90);
      assert.deepEqual(fn.inputs.loggingConfig, { logFormat: "Text", logGroup: "/aws/lambda/keyage/keyage-access-key-age" });
    });

    it("takes memory, timeout and log retention from the settings", async () => {
      const { resources } = await deploy({ lambdaMemorySize: "1024", lambdaTimeout: "300", logRetentionDays: "30" });
      const fn = only(resources, "aws:lambda/function:Function");
      assert.equal(fn.inputs.memorySize, 1024);
      assert.equal(fn.inputs.timeout, 300);
      assert.equal(only(resources, "aws:cloudwatch/logGroup:LogGroup").inputs.retentionInDays, 30);
    });

    it("grants the execution role only the IAM reads, the Config calls and its own log group", async () => {
      const { resources } = await deploy({});
      const policies = ofType(resources, "aws:iam/rolePolicy:RolePolicy");
      assert.equal(policies.length, 2, "the main policy, and reading the rule's own results");
      const policy = { Statement: policies.flatMap((p) => policyOf(p).Statement) };
      const granted = actions(policy);
      for (const action of granted) assert.ok(ALLOWED.has(action), `${action} is not on the allow list`);
      assert.ok(!granted.includes("sts:AssumeRole"), "sts:AssumeRole is for organization mode only");
      assert.deepEqual(new Set(granted), new Set([...ALLOWED].filter((a) => a !== "sts:AssumeRole")));
      assert.ok(policy.Statement.every((s) => s.Effect === "Allow"));
      const logs = policy.Statement.find((s) => actions({ Statement: [s] }).includes("logs:PutLogEvents"));
      assert.equal(logs?.Resource, `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/keyage/keyage-access-key-age:*`);
      const listKeys = policy.Statement.find((s) => actions({ Statement: [s] }).includes("iam:ListAccessKeys"));
      assert.equal(listKeys?.Resource, `arn:aws:iam::${ACCOUNT}:user/*`);
      assert.equal(ofType(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").length, 0, "no managed policy may widen the grant");
    });

    it("lets the Lambda read the earlier results of its own rule only, and write evaluations", async () => {
      const { resources, rule } = await deploy({});
      const ruleArn = await resolve(rule.ruleArn);
      const statements = ofType(resources, "aws:iam/rolePolicy:RolePolicy").flatMap((p) => policyOf(p).Statement);
      const reads = statements.filter((s) => actions({ Statement: [s] }).includes("config:GetComplianceDetailsByConfigRule"));
      assert.deepEqual(reads.map((s) => s.Resource), [ruleArn]);
      // PutEvaluations has no resource-level permission: the result token ties each write to the rule.
      const writes = statements.filter((s) => actions({ Statement: [s] }).includes("config:PutEvaluations"));
      assert.deepEqual(writes.map((s) => [actions({ Statement: [s] }), s.Resource]), [[["config:PutEvaluations"], "*"]]);
    });

    it("turns off Lambda's automatic retries of a failed run, so a failure never reads the account three times", async () => {
      const { resources } = await deploy({});
      const config = only(resources, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
      const fn = only(resources, "aws:lambda/function:Function");
      assert.equal(config.inputs.functionName, fn.inputs.name ?? fn.name);
      assert.equal(config.inputs.maximumRetryAttempts, 0);
    });

    it("registers the rule with exactly the resource type and triggers the Lambda handles", async () => {
      const event = await import("../config-rule/event");
      assert.equal(program.TRIGGERS, event.MESSAGE_TYPES, "one list, imported, not a copy");
      assert.equal(program.RESOURCE_TYPE, event.RESOURCE_TYPE);
    });

    it("lets only the Lambda service assume the execution role", async () => {
      const { resources } = await deploy({});
      const role = only(resources, "aws:iam/role:Role");
      const trust = policyOf(role, "assumeRolePolicy");
      assert.deepEqual(trust.Statement.map((s) => [s.Principal, s.Action]), [[{ Service: "lambda.amazonaws.com" }, ["sts:AssumeRole"]]]);
    });

    it("lets AWS Config invoke the Lambda only from this account", async () => {
      const { resources } = await deploy({});
      const permission = only(resources, "aws:lambda/permission:Permission");
      assert.equal(permission.inputs.principal, "config.amazonaws.com");
      assert.equal(permission.inputs.action, "lambda:InvokeFunction");
      assert.equal(permission.inputs.sourceAccount, ACCOUNT);
    });

    it("creates a CUSTOM_LAMBDA rule on IAM users, run daily and on every user change, with maxAccessKeyAge", async () => {
      const { resources } = await deploy({});
      const rule = only(resources, "aws:cfg/rule:Rule");
      const fn = only(resources, "aws:lambda/function:Function");
      assert.equal(rule.inputs.name, "keyage-access-key-age");
      assert.deepEqual(rule.inputs.scope, { complianceResourceTypes: ["AWS::IAM::User"] });
      assert.deepEqual(rule.inputs.source, {
        owner: "CUSTOM_LAMBDA",
        sourceIdentifier: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${fn.name}`,
        sourceDetails: [
          { eventSource: "aws.config", messageType: "ScheduledNotification", maximumExecutionFrequency: "TwentyFour_Hours" },
          { eventSource: "aws.config", messageType: "ConfigurationItemChangeNotification" },
          { eventSource: "aws.config", messageType: "OversizedConfigurationItemChangeNotification" },
        ],
      });
      assert.deepEqual(JSON.parse(rule.inputs.inputParameters as string), { maxAccessKeyAge: "30" });
    });

    it("passes frequency, warnDays and exemptions through to the rule", async () => {
      const { resources } = await deploy({ maxAccessKeyAge: "90", warnDays: "14", exemptions: "breakglass ci:2027-01-31", frequency: "Six_Hours" });
      const rule = only(resources, "aws:cfg/rule:Rule");
      const scheduled = (rule.inputs.source as { sourceDetails: { messageType: string; maximumExecutionFrequency?: string }[] }).sourceDetails[0];
      assert.equal(scheduled?.maximumExecutionFrequency, "Six_Hours");
      assert.deepEqual(JSON.parse(rule.inputs.inputParameters as string), { maxAccessKeyAge: "90", warnDays: "14", exemptions: "breakglass ci:2027-01-31" });
    });

    it("passes keyage:maxUnusedDays to the rule as its maxUnusedDays parameter, and refuses one out of range", async () => {
      const { resources } = await deploy({ maxAccessKeyAge: "90", maxUnusedDays: "45" });
      const rule = only(resources, "aws:cfg/rule:Rule");
      assert.deepEqual(JSON.parse(rule.inputs.inputParameters as string), { maxAccessKeyAge: "90", maxUnusedDays: "45" });
      assert.throws(() => settingsModule.validateSettings({ maxUnusedDays: "0" }), /maxUnusedDays must be a whole number of days from 1 to 3650, got "0"/);
    });

    it("creates no organization resources and no access key (keyage's own policy pack passes)", async () => {
      const { resources, rule } = await deploy({});
      for (const type of ["aws:cfg/organizationCustomRule:OrganizationCustomRule", "aws:cloudformation/stackSet:StackSet", "aws:cloudformation/stackSetInstance:StackSetInstance", "aws:iam/accessKey:AccessKey"]) {
        assert.equal(ofType(resources, type).length, 0, `${type} in account mode`);
      }
      assert.equal(await resolve(rule.ruleName), "keyage-access-key-age");
      assert.match(await resolve(rule.functionName), /-evaluator$/);
    });
  });

  describe("organization mode", () => {
    it("replaces the account rule with an organization rule carrying the member role name", async () => {
      const { resources } = await deploy({ organization: "true", excludedAccounts: "111111111111", maxAccessKeyAge: "45" });
      assert.equal(ofType(resources, "aws:cfg/rule:Rule").length, 0);
      const rule = only(resources, "aws:cfg/organizationCustomRule:OrganizationCustomRule");
      const fn = only(resources, "aws:lambda/function:Function");
      assert.equal(rule.inputs.lambdaFunctionArn, `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${fn.name}`);
      assert.deepEqual(rule.inputs.triggerTypes, ["ScheduledNotification", "ConfigurationItemChangeNotification", "OversizedConfigurationItemChangeNotification"]);
      assert.equal(rule.inputs.maximumExecutionFrequency, "TwentyFour_Hours");
      assert.deepEqual(rule.inputs.resourceTypesScopes, ["AWS::IAM::User"]);
      assert.deepEqual(rule.inputs.excludedAccounts, ["111111111111"]);
      assert.deepEqual(JSON.parse(rule.inputs.inputParameters as string), { maxAccessKeyAge: "45", executionRoleName: "keyage-config-rule-reader" });
    });

    it("rolls the reader role out with a service-managed, auto-deploying StackSet to the organization root", async () => {
      const { resources } = await deploy({ organization: "true" });
      const stackSet = only(resources, "aws:cloudformation/stackSet:StackSet");
      const role = only(resources.filter((r) => r.name.endsWith("-lambda")), "aws:iam/role:Role");
      assert.equal(stackSet.inputs.permissionModel, "SERVICE_MANAGED");
      assert.deepEqual(stackSet.inputs.autoDeployment, { enabled: true, retainStacksOnAccountRemoval: false });
      assert.deepEqual(stackSet.inputs.capabilities, ["CAPABILITY_NAMED_IAM"]);
      assert.deepEqual(stackSet.inputs.parameters, { ExecutionRoleArn: `arn:aws:iam::${ACCOUNT}:role/${role.name}` });
      const instance = only(resources, "aws:cloudformation/stackSetInstance:StackSetInstance");
      assert.deepEqual(instance.inputs.deploymentTargets, { organizationalUnitIds: [ROOT] });
      assert.equal(instance.inputs.stackSetInstanceRegion, "us-east-1", "one region only: IAM roles are global");
    });

    it("targets the given OUs and skips excluded accounts", async () => {
      const { resources } = await deploy({ organization: "true", organizationTargets: "ou-ab12-abcdefgh,ou-ab12-ijklmnop", excludedAccounts: ["111111111111"] });
      const instance = only(resources, "aws:cloudformation/stackSetInstance:StackSetInstance");
      assert.deepEqual(instance.inputs.deploymentTargets, { organizationalUnitIds: ["ou-ab12-abcdefgh", "ou-ab12-ijklmnop"], accountFilterType: "DIFFERENCE", accounts: ["111111111111"] });
    });

    it("templates a member role that trusts only the Lambda's role and can only read keys and write evaluations", async () => {
      const { resources } = await deploy({ organization: "true", memberRoleName: "acme-keyage-reader" });
      const template = JSON.parse(only(resources, "aws:cloudformation/stackSet:StackSet").inputs.templateBody as string) as {
        Resources: Record<string, { Type: string; Properties: { RoleName: string; AssumeRolePolicyDocument: { Statement: Statement[] }; Policies: { PolicyDocument: { Statement: Statement[] } }[] } }>;
      };
      const roles = Object.values(template.Resources);
      assert.deepEqual(roles.map((r) => r.Type), ["AWS::IAM::Role", "AWS::IAM::ManagedPolicy"], "the template holds the role and its permissions boundary, nothing else");
      assert.deepEqual((roles[0]!.Properties as unknown as { PermissionsBoundary: unknown }).PermissionsBoundary, { Ref: "Boundary" });
      const role = roles[0]!.Properties;
      assert.equal(role.RoleName, "acme-keyage-reader");
      assert.deepEqual(role.AssumeRolePolicyDocument.Statement.map((s) => s.Principal), [{ AWS: { Ref: "ExecutionRoleArn" } }]);
      const granted = role.Policies.flatMap((p) => actions(p.PolicyDocument));
      assert.deepEqual(new Set(granted), new Set(["iam:GenerateCredentialReport", "iam:GetCredentialReport", "iam:ListUsers", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "config:PutEvaluations", "config:GetComplianceDetailsByConfigRule"]));
      const reads = role.Policies.flatMap((p) => p.PolicyDocument.Statement).filter((s) => actions({ Statement: [s] }).includes("config:GetComplianceDetailsByConfigRule"));
      assert.deepEqual(reads.map((s) => s.Resource), [{ "Fn::Sub": "arn:${AWS::Partition}:config:${AWS::Region}:${AWS::AccountId}:config-rule/*" }], "only this account's rules, in this region");
    });

    it("lets the Lambda assume only the member role, and only in accounts of this organization", async () => {
      const { resources } = await deploy({ organization: "true" });
      const policy = policyOf(only(resources.filter((r) => r.name.endsWith("-lambda")), "aws:iam/rolePolicy:RolePolicy"));
      for (const action of actions(policy)) assert.ok(ALLOWED.has(action), `${action} is not on the allow list`);
      const assume = policy.Statement.filter((s) => actions({ Statement: [s] }).includes("sts:AssumeRole"));
      assert.equal(assume.length, 1);
      assert.equal(assume[0]!.Resource, "arn:aws:iam::*:role/keyage-config-rule-reader");
      assert.deepEqual(assume[0]!.Condition, { StringEquals: { "aws:ResourceOrgID": ORG_ID } });
    });

    it("gives the execution role no IAM or Config access of its own: every run acts through the member role", async () => {
      const { resources } = await deploy({ organization: "true" });
      const policy = policyOf(only(resources.filter((r) => r.name.endsWith("-lambda")), "aws:iam/rolePolicy:RolePolicy"));
      assert.deepEqual(new Set(actions(policy)), new Set(["sts:AssumeRole", "logs:CreateLogStream", "logs:PutLogEvents"]));
    });

    it("creates the reader role directly in the management account, where StackSets never deploy", async () => {
      const { resources } = await deploy({ organization: "true" });
      const local = only(resources.filter((r) => r.name.endsWith("-member-local")), "aws:iam/role:Role");
      const lambdaRole = only(resources.filter((r) => r.name.endsWith("-lambda")), "aws:iam/role:Role");
      assert.equal(local.inputs.name, "keyage-config-rule-reader");
      assert.deepEqual(policyOf(local, "assumeRolePolicy").Statement.map((s) => s.Principal), [{ AWS: `arn:aws:iam::${ACCOUNT}:role/${lambdaRole.name}` }]);
      const granted = actions(policyOf(only(resources.filter((r) => r.name.endsWith("-member-local")), "aws:iam/rolePolicy:RolePolicy")));
      for (const action of granted) assert.ok(ALLOWED.has(action) && !action.startsWith("sts:") && !action.startsWith("logs:"), `${action} in the member role`);
      const reads = policyOf(only(resources.filter((r) => r.name.endsWith("-member-local")), "aws:iam/rolePolicy:RolePolicy")).Statement.filter((s) =>
        actions({ Statement: [s] }).includes("config:GetComplianceDetailsByConfigRule"),
      );
      assert.deepEqual(reads.map((s) => s.Resource), [`arn:aws:config:us-east-1:${ACCOUNT}:config-rule/*`]);
    });

    it("creates no reader role in the management account when excludedAccounts lists it: excluded means no role", async () => {
      const { resources } = await deploy({ organization: "true", excludedAccounts: `111111111111 ${ACCOUNT}` });
      assert.deepEqual(resources.filter((r) => r.name.endsWith("-member-local")).map((r) => r.type), []);
      assert.deepEqual(only(resources, "aws:cfg/organizationCustomRule:OrganizationCustomRule").inputs.excludedAccounts, ["111111111111", ACCOUNT]);
      assert.deepEqual((only(resources, "aws:cloudformation/stackSetInstance:StackSetInstance").inputs.deploymentTargets as { accounts: string[] }).accounts, ["111111111111", ACCOUNT]);
    });

    it("leaves the management account's role to the user when run by a delegated administrator", async () => {
      const { resources } = await deploy({ organization: "true", callAs: "DELEGATED_ADMIN", organizationTargets: "r-ab12", organizationId: "o-zyxwvutsrq" });
      assert.equal(resources.filter((r) => r.name.endsWith("-member-local")).length, 0);
      assert.equal(only(resources, "aws:cloudformation/stackSet:StackSet").inputs.callAs, "DELEGATED_ADMIN");
      assert.equal(only(resources, "aws:cloudformation/stackSetInstance:StackSetInstance").inputs.callAs, "DELEGATED_ADMIN");
      const policy = policyOf(only(resources, "aws:iam/rolePolicy:RolePolicy"));
      assert.deepEqual(policy.Statement.find((s) => s.Condition)?.Condition, { StringEquals: { "aws:ResourceOrgID": "o-zyxwvutsrq" } });
    });

    it("lets member accounts' Config invoke the Lambda, per listed account when memberAccountIds is set", async () => {
      const open = await deploy({ organization: "true" });
      // Registration order follows output resolution, so compare sorted.
      const grants = (resources: Registered[]) =>
        ofType(resources, "aws:lambda/permission:Permission").map((p) => `${String(p.inputs.principal)} from ${String(p.inputs.sourceAccount ?? "any account")}`).sort();
      assert.deepEqual(grants(open.resources), [`config.amazonaws.com from ${ACCOUNT}`, "config.amazonaws.com from any account"]);
      const strict = await deploy({ organization: "true", memberAccountIds: "222222222222 333333333333" });
      assert.deepEqual(grants(strict.resources), [`config.amazonaws.com from ${ACCOUNT}`, "config.amazonaws.com from 222222222222", "config.amazonaws.com from 333333333333"]);
    });

    it("creates no access key in organization mode either", async () => {
      const { resources } = await deploy({ organization: "true" });
      assert.equal(ofType(resources, "aws:iam/accessKey:AccessKey").length, 0);
      assert.ok(resources.every((r) => !/accessKey|user:User|userPolicy/i.test(r.type)), "no IAM user resources at all");
    });
  });
});
