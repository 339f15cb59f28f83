/**
 * One role in every account of the organization, the way keyage's organization modes need it (the Config
 * rule's read-only member role, the rotator's member role, the audit role): a service-managed StackSet with
 * auto-deployment to the target OUs (minus excluded accounts), and, from the management account where
 * StackSets never deploy, the same role created directly.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { OrganizationSettings } from "./settings";

/** What differs between the member roles. */
export interface MemberRoleArgs {
  /** Resource names: `<stem>-role` (the StackSet and its instance) and `<stem>-local` (the direct role). */
  readonly stem: string;
  /** The StackSet's name in CloudFormation. */
  readonly stackSetName: string;
  /** The StackSet's description. */
  readonly description: string;
  /** The directly created role's description. */
  readonly localDescription: string;
  /** The role's name in every account. */
  readonly roleName: string;
  /** The CloudFormation template that creates the role. */
  readonly templateBody: string;
  /** The template's parameters (the ARN of the role allowed to assume it, if the template takes it so). */
  readonly parameters: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** The directly created role's trust policy (JSON): who may assume it. */
  readonly assumeRolePolicy: pulumi.Input<string>;
  /** The role's permissions in an account. */
  readonly policy: (partition: string, accountId: string, region: string) => object;
}

/** Where the program runs. */
export interface MemberRoleContext {
  readonly org: OrganizationSettings;
  /** Needed when `org.targets` is empty: the StackSet then targets the organization's root. */
  readonly organization: pulumi.Output<aws.organizations.GetOrganizationResult> | undefined;
  readonly partition: pulumi.Output<string>;
  readonly accountId: pulumi.Output<string>;
  readonly region: pulumi.Output<string>;
  readonly tags: Record<string, string>;
  readonly child: pulumi.CustomResourceOptions;
  /** The permissions boundary the directly created role carries (the component's own). */
  readonly boundaryArn: pulumi.Output<string>;
}

/** The resources of {@link deployMemberRole}. */
export interface MemberRoleResources {
  readonly stackSet: aws.cloudformation.StackSet;
  readonly instance: aws.cloudformation.StackSetInstance;
  /**
   * From the management account only (`callAs: SELF`), and only when that account is not in
   * `excludedAccounts`: resolves to `undefined` otherwise. Absent with `callAs: DELEGATED_ADMIN`.
   */
  readonly local?: pulumi.Output<LocalMemberRole | undefined>;
}

/** The role created directly in the management account, and its inline policy. */
export interface LocalMemberRole {
  readonly role: aws.iam.Role;
  readonly policy: aws.iam.RolePolicy;
}

/** Creates the member role everywhere the organization settings say. */
export function deployMemberRole(args: MemberRoleArgs, ctx: MemberRoleContext): MemberRoleResources {
  const { org, child, tags } = ctx;
  const stackSet = new aws.cloudformation.StackSet(`${args.stem}-role`, {
    name: args.stackSetName,
    description: args.description,
    permissionModel: "SERVICE_MANAGED",
    autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
    callAs: org.callAs,
    capabilities: ["CAPABILITY_NAMED_IAM"],
    managedExecution: { active: true },
    operationPreferences: { failureTolerancePercentage: 10, maxConcurrentPercentage: 25 },
    templateBody: args.templateBody,
    parameters: args.parameters,
    tags,
  }, { ...child, ignoreChanges: ["administrationRoleArn"] });
  const targets = org.targets.length > 0 ? pulumi.output([...org.targets]) : ctx.organization!.roots.apply((roots) => roots.map((r) => r.id).slice(0, 1));
  const instance = new aws.cloudformation.StackSetInstance(`${args.stem}-role`, {
    stackSetName: stackSet.name,
    callAs: org.callAs,
    // IAM is global: one region per account, or the second stack would collide on the role name.
    stackSetInstanceRegion: ctx.region,
    deploymentTargets: {
      organizationalUnitIds: targets,
      ...(org.excludedAccounts.length > 0 ? { accountFilterType: "DIFFERENCE", accounts: [...org.excludedAccounts] } : {}),
    },
    operationPreferences: { failureTolerancePercentage: 10, maxConcurrentPercentage: 25 },
  }, child);
  if (org.callAs !== "SELF") return { stackSet, instance };
  // Excluded means no role: the management account gets its own copy only when it is not excluded. Its id
  // is known only once the caller identity is read (at preview too, since data sources run then), so the
  // role is created inside that value's apply.
  const local = ctx.accountId.apply((accountId): LocalMemberRole | undefined => {
    if (org.excludedAccounts.includes(accountId)) return undefined;
    const role = new aws.iam.Role(`${args.stem}-local`, {
      name: args.roleName,
      description: args.localDescription,
      assumeRolePolicy: args.assumeRolePolicy,
      permissionsBoundary: ctx.boundaryArn,
      tags,
    }, child);
    const policy = new aws.iam.RolePolicy(`${args.stem}-local`, {
      role: role.id,
      policy: pulumi.all([ctx.partition, ctx.region]).apply(([p, r]) => JSON.stringify(args.policy(p, accountId, r))),
    }, child);
    return { role, policy };
  });
  return { stackSet, instance, local };
}
