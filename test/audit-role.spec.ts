// keyage:auditRoleTrust: the read-only audit role `keyage audit --organization --role-name` assumes, rolled
// out by the deploy (settings validation, and the resources under Pulumi's mocks). What IAM decides for the
// role's grants and trust is in iam-simulation.spec.ts.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { DeploySettings, RawDeploySettings } from "../pulumi/settings";
import { ACCOUNT, ROOT, type Registered, setDeployMocks, resolveOutput as resolve } from "./deploy-mocks";

const AUDITOR = "arn:aws:iam::111111111111:role/security-audit";
const SSO_AUDITOR = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_SecurityAudit_0123456789abcdef";
const READS = ["iam:GenerateCredentialReport", "iam:GetCredentialReport", "iam:ListUsers", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"];

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: Record<string, unknown>;
  Condition?: unknown;
}
type Policy = { Statement: Statement[] };

const actions = (policy: Policy): string[] => policy.Statement.flatMap((s) => [s.Action].flat());
const json = (r: Registered, key: string): Policy => JSON.parse(r.inputs[key] as string) as Policy;

const registered: Registered[] = [];
let settingsModule: typeof import("../pulumi/settings");
let program: typeof import("../pulumi/config-rule");

/** The Config rule component for these settings, once every resource is registered. */
async function deploy(raw: RawDeploySettings): Promise<{ settings: DeploySettings; resources: Registered[] }> {
  const name = `a${registered.length}-${Math.random().toString(36).slice(2, 8)}`;
  const settings = settingsModule.validateSettings(raw);
  const rule = program.createKeyageRule({ settings, code: new pulumi.asset.FileArchive("dist/config-rule.zip") }, name);
  const audit = rule.auditRole;
  const waits: pulumi.Output<unknown>[] = [rule.ruleArn, rule.functionArn, pulumi.output(rule.localMemberRolePolicy).apply((p) => p?.urn)];
  if (audit?.stackSet) waits.push(audit.stackSet.urn, audit.instance!.urn);
  if (audit?.local) waits.push(audit.local.apply((l) => l && pulumi.all([l.role.urn, l.policy.urn])));
  if (audit?.boundary) waits.push(audit.boundary.apply((b) => b?.urn));
  await resolve(pulumi.all(waits));
  await new Promise((done) => setTimeout(done, 20));
  return { settings, resources: registered.filter((r) => r.name.startsWith(`${name}-`)) };
}

const auditResources = (resources: Registered[]) => resources.filter((r) => /-audit(-|$)/.test(r.name));
const one = (resources: Registered[], type: string, suffix: string): Registered => {
  const found = resources.filter((r) => r.type === type && r.name.endsWith(suffix));
  assert.equal(found.length, 1, `one ${type} ${suffix}, got ${found.length}`);
  return found[0]!;
};

describe("keyage:auditRoleTrust (the audit role for keyage audit --organization)", () => {
  before(async function loadProgram() {
    this.timeout(20000);
    await setDeployMocks({ onResource: (r) => void registered.push(r) });
    program = await import("../pulumi/config-rule");
    settingsModule = await import("../pulumi/settings");
  });

  describe("settings", () => {
    const refused = (value: unknown, message: RegExp, raw: RawDeploySettings = {}) =>
      assert.throws(() => settingsModule.validateSettings({ ...raw, auditRoleTrust: value }), (e: Error & { key?: string }) => {
        assert.equal(e.key, "auditRoleTrust");
        assert.match(e.message, message);
        return true;
      });

    it("names the role after the rule (<stem>-audit) and keeps each trusted ARN once, from a list in any of the config forms", () => {
      for (const value of [`${AUDITOR} ${SSO_AUDITOR}`, `${SSO_AUDITOR},${AUDITOR}`, JSON.stringify([AUDITOR, SSO_AUDITOR, AUDITOR]), [SSO_AUDITOR, AUDITOR]]) {
        assert.deepEqual(settingsModule.validateSettings({ auditRoleTrust: value }).auditRole, { roleName: "keyage-access-key-age-audit", trust: [AUDITOR, SSO_AUDITOR].sort() }, JSON.stringify(value));
      }
      assert.equal(settingsModule.validateSettings({ auditRoleTrust: AUDITOR, ruleName: "acme_keys" }).auditRole?.roleName, "keyage-acme_keys-audit");
      assert.equal(settingsModule.validateSettings({ auditRoleTrust: "arn:aws:iam::111111111111:user/auditor" }).auditRole?.roleName, "keyage-access-key-age-audit");
      assert.equal(settingsModule.auditRoleName("keyage-access-key-age"), "keyage-access-key-age-audit");
    });

    it("deploys no audit role when unset or empty", () => {
      for (const value of [undefined, "", "  ", "[]"]) assert.equal(settingsModule.validateSettings({ auditRoleTrust: value }).auditRole, undefined, JSON.stringify(value));
    });

    it("refuses anyone (*) and wildcard accounts: the role would trust every AWS account", () => {
      refused("*", /auditRoleTrust must name the principals that may assume the audit role, not "\*": that would let any AWS account in/);
      refused(`${AUDITOR} *`, /not "\*"/);
      refused("arn:aws:iam::*:role/security-audit", /not "arn:aws:iam::\*:role\/security-audit": that would let any AWS account in/);
    });

    it("refuses a whole account (its root ARN or its bare id), saying to name a role", () => {
      refused("arn:aws:iam::111111111111:root", /auditRoleTrust: "arn:aws:iam::111111111111:root" is a whole account .* name a role or user ARN instead, e.g. arn:aws:iam::111111111111:role\/security-audit/);
      refused("111111111111", /"111111111111" is a whole account/);
    });

    it("refuses wildcards inside an ARN (a trust policy matches principals exactly) and anything that is not a role or user ARN", () => {
      refused("arn:aws:iam::111111111111:role/security-*", /has a wildcard; a trust policy matches principals exactly: list each role or user ARN/);
      for (const value of ["security-audit", "arn:aws:sts::111111111111:assumed-role/security-audit/alice", "arn:aws:iam::11111111111:role/x", "arn:aws:iam::111111111111:group/auditors", "arn:aws:s3:::bucket"]) {
        refused(value, /every entry must be an IAM role or user ARN \(arn:aws:iam::<account>:role\/<name>\)/);
      }
    });

    it("refuses a rule name that makes the role name longer than IAM's 64 characters, saying how long it may be", () => {
      // reevaluateOnChange off: its own EventBridge rule name would refuse these lengths first.
      assert.equal(settingsModule.validateSettings({ auditRoleTrust: AUDITOR, reevaluateOnChange: false, ruleName: `keyage-${"a".repeat(51)}` }).auditRole?.roleName.length, 64);
      assert.throws(() => settingsModule.validateSettings({ auditRoleTrust: AUDITOR, reevaluateOnChange: false, ruleName: "a".repeat(52) }), (e: Error & { key?: string }) =>
        e.key === "ruleName" && /ruleName must be at most 51 characters with auditRoleTrust set \(the audit role is named keyage-a+-audit, and IAM allows 64\)/.test(e.message));
      assert.equal(settingsModule.validateSettings({ ruleName: "a".repeat(64), reevaluateOnChange: false }).auditRole, undefined, "without auditRoleTrust the name may be longer");
    });

    it("refuses a reader or rotator role of the same name (two StackSets would create one role)", () => {
      assert.throws(() => settingsModule.validateSettings({ auditRoleTrust: AUDITOR, organization: "true", memberRoleName: "keyage-access-key-age-audit" }), (e: Error & { key?: string }) => e.key === "memberRoleName" && /must differ from the audit role's name/.test(e.message));
      assert.throws(() => settingsModule.validateSettings({ auditRoleTrust: AUDITOR, organization: "true", rotation: "plan", rotatorRoleName: "keyage-access-key-age-audit" }), (e: Error & { key?: string }) => e.key === "rotatorRoleName");
    });

    it("refuses more principals than IAM's 2,048-character trust policy holds", () => {
      const many = Array.from({ length: 40 }, (_, i) => `arn:aws:iam::111111111111:role/security-audit-${i}`);
      refused(many, /the audit role's trust policy would be \d+ characters, more than IAM's 2048/);
      assert.equal(settingsModule.validateSettings({ auditRoleTrust: many.slice(0, 20) }).auditRole?.trust.length, 20);
    });
  });

  describe("resources", () => {
    /** The role, its inline policy and its boundary in the deploying account. */
    function localRole(resources: Registered[]) {
      const role = one(resources, "aws:iam/role:Role", "-audit-local");
      const policy = one(resources, "aws:iam/rolePolicy:RolePolicy", "-audit-local");
      const boundary = one(resources, "aws:iam/policy:Policy", "-audit-boundary");
      return { role, policy, boundary };
    }

    it("one account: the role <stem>-audit here, trusted by exactly the given principals, read-only, under a boundary of the same grants", async () => {
      const { resources } = await deploy({ auditRoleTrust: `${AUDITOR} ${SSO_AUDITOR}` });
      const { role, policy, boundary } = localRole(resources);
      assert.equal(role.inputs.name, "keyage-access-key-age-audit");
      assert.deepEqual(json(role, "assumeRolePolicy").Statement, [{ Sid: "AuditorsAssume", Effect: "Allow", Principal: { AWS: [AUDITOR, SSO_AUDITOR].sort() }, Action: ["sts:AssumeRole"] }]);
      assert.deepEqual(actions(json(policy, "policy")).sort(), [...READS].sort());
      assert.deepEqual(json(policy, "policy").Statement.find((s) => [s.Action].flat().includes("iam:ListAccessKeys"))?.Resource, `arn:aws:iam::${ACCOUNT}:user/*`);
      assert.equal(boundary.inputs.name, "keyage-access-key-age-audit-boundary");
      assert.equal(role.inputs.permissionsBoundary, `arn:aws:iam::${ACCOUNT}:policy/keyage-access-key-age-audit-boundary`);
      assert.deepEqual(json(boundary, "policy"), json(policy, "policy"), "the boundary is the role's own grants");
      assert.equal(resources.filter((r) => r.type.startsWith("aws:cloudformation/")).length, 0, "no StackSet in one account");
    });

    it("unset: no audit role, boundary or StackSet anywhere, in either mode", async () => {
      for (const raw of [{}, { organization: "true" }, { organization: "true", rotation: "apply" }] as RawDeploySettings[]) {
        const { resources } = await deploy(raw);
        assert.deepEqual(auditResources(resources).map((r) => r.name), [], JSON.stringify(raw));
        assert.ok(!resources.some((r) => String(r.inputs.name ?? "").includes("audit")), JSON.stringify(raw));
      }
    });

    it("organization: a service-managed StackSet puts the role in every target account, same targets and exclusions as the reader role", async () => {
      const { resources } = await deploy({ organization: "true", auditRoleTrust: AUDITOR, organizationTargets: "ou-ab12-abcdefgh", excludedAccounts: "333333333333" });
      const stackSet = one(resources, "aws:cloudformation/stackSet:StackSet", "-audit-role");
      assert.equal(stackSet.inputs.name, "keyage-access-key-age-audit-role");
      assert.equal(stackSet.inputs.permissionModel, "SERVICE_MANAGED");
      assert.deepEqual(stackSet.inputs.autoDeployment, { enabled: true, retainStacksOnAccountRemoval: false });
      const instance = one(resources, "aws:cloudformation/stackSetInstance:StackSetInstance", "-audit-role");
      const reader = one(resources, "aws:cloudformation/stackSetInstance:StackSetInstance", "-member-role");
      assert.deepEqual(instance.inputs.deploymentTargets, { organizationalUnitIds: ["ou-ab12-abcdefgh"], accountFilterType: "DIFFERENCE", accounts: ["333333333333"] });
      assert.deepEqual(instance.inputs.deploymentTargets, reader.inputs.deploymentTargets);

      const template = JSON.parse(stackSet.inputs.templateBody as string) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
      assert.deepEqual(Object.values(template.Resources).map((r) => r.Type), ["AWS::IAM::Role", "AWS::IAM::ManagedPolicy"], "the role and its boundary, nothing else");
      const role = template.Resources.AuditRole!.Properties as { RoleName: string; AssumeRolePolicyDocument: Policy; Policies: { PolicyDocument: Policy }[]; PermissionsBoundary: unknown };
      assert.equal(role.RoleName, "keyage-access-key-age-audit");
      assert.deepEqual(role.AssumeRolePolicyDocument.Statement.map((s) => s.Principal), [{ AWS: [AUDITOR] }]);
      assert.deepEqual(role.Policies.flatMap((p) => actions(p.PolicyDocument)).sort(), [...READS].sort());
      assert.deepEqual(role.PermissionsBoundary, { Ref: "Boundary" });
      const boundary = template.Resources.Boundary!.Properties as { ManagedPolicyName: string; PolicyDocument: Policy };
      assert.equal(boundary.ManagedPolicyName, "keyage-access-key-age-audit-boundary");
      assert.deepEqual(boundary.PolicyDocument, role.Policies[0]!.PolicyDocument);
      assert.deepEqual(
        role.Policies[0]!.PolicyDocument.Statement.find((s) => [s.Action].flat().includes("iam:ListAccessKeys"))?.Resource,
        { "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*" },
        "only its own account's users",
      );
    });

    it("organization from the management account: the role is also created there (StackSets skip it), unless excludedAccounts lists it", async () => {
      const { resources } = await deploy({ organization: "true", auditRoleTrust: AUDITOR });
      const { role, policy } = localRole(resources);
      assert.equal(role.inputs.name, "keyage-access-key-age-audit");
      assert.deepEqual(json(role, "assumeRolePolicy").Statement.map((s) => s.Principal), [{ AWS: [AUDITOR] }]);
      assert.deepEqual(actions(json(policy, "policy")).sort(), [...READS].sort());
      assert.deepEqual((one(resources, "aws:cloudformation/stackSetInstance:StackSetInstance", "-audit-role").inputs.deploymentTargets as { organizationalUnitIds: string[] }).organizationalUnitIds, [ROOT]);

      const excluded = await deploy({ organization: "true", auditRoleTrust: AUDITOR, excludedAccounts: ACCOUNT });
      assert.deepEqual(auditResources(excluded.resources).filter((r) => r.type.startsWith("aws:iam/")).map((r) => r.name), [], "excluded means no role (nor its boundary)");
      assert.deepEqual((one(excluded.resources, "aws:cloudformation/stackSetInstance:StackSetInstance", "-audit-role").inputs.deploymentTargets as { accounts: string[] }).accounts, [ACCOUNT]);
    });

    it("organization from a delegated administrator: the StackSet only (the management account's role is left to the user)", async () => {
      const { resources } = await deploy({ organization: "true", callAs: "DELEGATED_ADMIN", organizationTargets: "r-ab12", organizationId: "o-zyxwvutsrq", auditRoleTrust: AUDITOR });
      assert.equal(one(resources, "aws:cloudformation/stackSet:StackSet", "-audit-role").inputs.callAs, "DELEGATED_ADMIN");
      assert.deepEqual(auditResources(resources).filter((r) => r.type.startsWith("aws:iam/")).map((r) => r.name), []);
    });

    it("a rule name with underscores: role keyage-<rule>-audit, StackSet name with hyphens only", async () => {
      const { resources } = await deploy({ organization: "true", ruleName: "acme_keys", auditRoleTrust: AUDITOR });
      assert.equal(one(resources, "aws:cloudformation/stackSet:StackSet", "-audit-role").inputs.name, "keyage-acme-keys-audit-role");
      assert.equal(localRole(resources).role.inputs.name, "keyage-acme_keys-audit");
    });
  });

  describe("docs", () => {
    it("tells users to pass the deployed role's name as --role-name, and lists the same reads as the role grants", async () => {
      // The name the default deploy gives the role, in member accounts and in the management account.
      const { resources } = await deploy({ organization: "true", auditRoleTrust: AUDITOR });
      const template = JSON.parse(one(resources, "aws:cloudformation/stackSet:StackSet", "-audit-role").inputs.templateBody as string) as { Resources: { AuditRole: { Properties: { RoleName: string } } } };
      const name = template.Resources.AuditRole.Properties.RoleName;
      assert.equal(one(resources, "aws:iam/role:Role", "-audit-local").inputs.name, name);
      const cli = readFileSync(path.join(__dirname, "..", "docs", "cli.md"), "utf8");
      const deployDoc = readFileSync(path.join(__dirname, "..", "docs", "deploy.md"), "utf8");
      assert.ok(cli.includes(`--role-name ${name}`), "docs/cli.md names the deployed role");
      assert.ok(deployDoc.includes(`--role-name ${name}`), "docs/deploy.md names the deployed role");
      // The hand template for users who do not deploy with keyage grants the same reads.
      const hand = cli.slice(cli.indexOf("AWSTemplateFormatVersion"), cli.indexOf("```", cli.indexOf("AWSTemplateFormatVersion")));
      for (const action of READS) assert.ok(hand.includes(action), `the template in docs/cli.md grants ${action}`);
    });
  });
});
