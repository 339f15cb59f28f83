/**
 * The read-only audit role `keyage audit --organization --role-name <stem>-audit` assumes (`keyage:auditRoleTrust`):
 * in the deploying account, and in organization mode in every target account through the same
 * service-managed StackSet machinery as the member roles (excluded accounts get none). It trusts exactly the
 * principals given, may only make the live audit's reads, and carries a permissions boundary of the same
 * grants (`<roleName>-boundary`).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { deployMemberRole, type LocalMemberRole } from "./member-role";
import { auditRolePolicy, auditRoleTemplate, auditTrustPolicy } from "./policies";
import type { AuditRoleSettings, OrganizationSettings } from "./settings";

/** Where the program runs (the Config rule component's context). */
export interface AuditRoleContext {
  /** The organization settings; absent in account mode (then only the deploying account gets the role). */
  readonly org: OrganizationSettings | undefined;
  /** Needed when `org.targets` is empty: the StackSet then targets the organization's root. */
  readonly organization: pulumi.Output<aws.organizations.GetOrganizationResult> | undefined;
  /** `resourceStem` of the rule name: the StackSet is `<stem>-audit-role`. */
  readonly stem: string;
  readonly partition: pulumi.Output<string>;
  readonly accountId: pulumi.Output<string>;
  readonly region: pulumi.Output<string>;
  readonly tags: Record<string, string>;
  readonly child: pulumi.CustomResourceOptions;
}


/** The resources of {@link deployAuditRole}. */
export interface AuditRoleResources {
  /** The role's name in every account: what to pass as `--role-name`. */
  readonly roleName: string;
  /** Organization mode only: the StackSet (`<stem>-audit-role`) and its instance over the targets, minus `excludedAccounts`. */
  readonly stackSet?: aws.cloudformation.StackSet;
  readonly instance?: aws.cloudformation.StackSetInstance;
  /**
   * The role in the deploying account: always in account mode; in organization mode from the management
   * account (`callAs: SELF`) unless `excludedAccounts` lists it (then `undefined`); absent with
   * `DELEGATED_ADMIN` (the delegated administrator is a member account: the StackSet covers it when targeted).
   */
  readonly local?: pulumi.Output<LocalMemberRole | undefined>;
  /** The local role's permissions boundary (`<roleName>-boundary`): present and `undefined` exactly as {@link local}. */
  readonly boundary?: pulumi.Output<aws.iam.Policy | undefined>;
}

/** Creates the audit role wherever the settings say. */
export function deployAuditRole(name: string, audit: AuditRoleSettings, ctx: AuditRoleContext): AuditRoleResources {
  const { child, tags, org } = ctx;
  const trust = JSON.stringify(auditTrustPolicy(audit.trust));
  const policyIn = (partition: string, accountId: string) => auditRolePolicy(`arn:${partition}:iam::${accountId}:user/*`);
  const boundaryIn = (accountId: string) =>
    new aws.iam.Policy(`${name}-audit-boundary`, {
      name: `${audit.roleName}-boundary`,
      description: "keyage: permissions boundary of the keyage audit role (what it may ever be granted)",
      policy: ctx.partition.apply((p) => JSON.stringify(policyIn(p, accountId))),
      tags,
    }, child);
  const description = "keyage: read-only role for keyage audit: reads the credential report and access keys, writes nothing";

  if (!org) {
    // One account: the role here, nothing elsewhere. Its id is known only once the caller identity is read.
    const boundary = ctx.accountId.apply((accountId) => boundaryIn(accountId));
    const local = pulumi.all([ctx.accountId, ctx.partition]).apply(([accountId, partition]): LocalMemberRole => {
      const role = new aws.iam.Role(`${name}-audit-local`, { name: audit.roleName, description, assumeRolePolicy: trust, permissionsBoundary: boundary.arn, tags }, child);
      const policy = new aws.iam.RolePolicy(`${name}-audit-local`, { role: role.id, policy: JSON.stringify(policyIn(partition, accountId)) }, child);
      return { role, policy };
    });
    return { roleName: audit.roleName, local, boundary };
  }

  // The deploying account's boundary exists only where its role does (an excluded account gets neither).
  const boundary = org.callAs === "SELF" ? ctx.accountId.apply((accountId) => (org.excludedAccounts.includes(accountId) ? undefined : boundaryIn(accountId))) : undefined;
  const member = deployMemberRole({
    stem: `${name}-audit`,
    // StackSet names take letters, digits and hyphens only.
    stackSetName: `${ctx.stem}-audit-role`.replace(/_/g, "-"),
    description: "keyage: the read-only audit role keyage audit --organization assumes in each account",
    localDescription: description,
    roleName: audit.roleName,
    templateBody: auditRoleTemplate(audit.roleName, audit.trust),
    parameters: {},
    assumeRolePolicy: trust,
    policy: (partition, accountId) => policyIn(partition, accountId),
  }, {
    org,
    organization: ctx.organization,
    partition: ctx.partition,
    accountId: ctx.accountId,
    region: ctx.region,
    tags,
    child,
    // Read only when the local role is created, which is exactly when the boundary is.
    boundaryArn: boundary ? boundary.apply((b) => (b ? b.arn : pulumi.output(""))) : pulumi.output(""),
  });
  return { roleName: audit.roleName, stackSet: member.stackSet, instance: member.instance, ...(member.local && boundary ? { local: member.local, boundary } : {}) };
}
