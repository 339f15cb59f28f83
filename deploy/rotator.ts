/**
 * The scheduled rotator's resources, as one component next to the Config rule: the Lambda with its role
 * and log group, an EventBridge Scheduler schedule that runs it (default daily) with the settings as its
 * input, and optionally an SNS topic that receives every keyage event through an EventBridge rule. In
 * organization mode the Lambda stays here and acts in every account through a member rotator role,
 * rolled out by a service-managed StackSet like the Config rule's reader role (and created directly in
 * the management account); its own role then only lists accounts, assumes that role, publishes events
 * and writes logs.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { DeploySettings } from "./settings";
import { deployMemberRole } from "./member-role";
import { lambdaTrustPolicy } from "./policies";
import { HANDLER, RUNTIME } from "./program";
import {
  centralRotatorPolicy,
  memberRotatorPolicy,
  memberRotatorTemplate,
  memberRotatorTrustPolicy,
  rotatorRolePolicy,
  schedulerInvokePolicy,
  schedulerTrustPolicy,
  topicPolicy,
} from "./rotator-policies";
import { ROTATION_DEFAULTS, type RotationSettings } from "./rotator-settings";

/** The rotator's events, as an EventBridge pattern. */
export const EVENT_PATTERN = { source: ["keyage"] } as const;

/** Inputs of {@link KeyageRotator}. */
export interface KeyageRotatorArgs {
  /** The rule's settings (limit, warning, memory, log retention). */
  settings: DeploySettings;
  /** Validated rotator settings; `rotation` must not be `off`. */
  rotation: RotationSettings;
  /** The built Lambda: `new pulumi.asset.FileArchive("dist/rotator.zip")`. */
  code: pulumi.Input<pulumi.asset.Archive>;
  /** Tags on every taggable resource; default `{ "managed-by": "keyage" }`. */
  tags?: Record<string, string>;
}

/** The payload the schedule hands the rotator: its settings (see the rotator's `parseSettings`). */
export function rotatorInput(settings: DeploySettings, rotation: RotationSettings): string {
  return JSON.stringify({
    mode: rotation.rotation,
    maxAccessKeyAge: settings.maxAccessKeyAge,
    // Absent when unset (JSON drops undefined): the rotator then uses the rule's default.
    warnDays: settings.warnDays,
    maxUnusedDays: settings.maxUnusedDays,
    cleanupDays: rotation.cleanupDays,
    graceHours: rotation.graceHours,
    // Organization mode: the run covers every ACTIVE account but these, through this role.
    organization: settings.organization ? { roleName: settings.organization.rotatorRoleName, excludedAccounts: settings.organization.excludedAccounts } : undefined,
  });
}

/**
 * keyage's scheduled rotator.
 *
 * @example
 * new KeyageRotator("keyage", { settings, rotation: validateRotationSettings({ rotation: "plan" }), code: new pulumi.asset.FileArchive("../dist/rotator.zip") });
 */
export class KeyageRotator extends pulumi.ComponentResource {
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly role: aws.iam.Role;
  readonly rolePolicy: aws.iam.RolePolicy;
  readonly function: aws.lambda.Function;
  readonly invokeConfig: aws.lambda.FunctionEventInvokeConfig;
  readonly schedulerRole: aws.iam.Role;
  readonly schedulerRolePolicy: aws.iam.RolePolicy;
  readonly schedule: aws.scheduler.Schedule;
  readonly topic?: aws.sns.Topic;
  readonly topicPolicy?: aws.sns.TopicPolicy;
  readonly eventRule?: aws.cloudwatch.EventRule;
  readonly eventTarget?: aws.cloudwatch.EventTarget;
  readonly subscription?: aws.sns.TopicSubscription;
  /** Organization mode only: the member rotator role template, deployed to every target account. */
  readonly memberStackSet?: aws.cloudformation.StackSet;
  /** Organization mode only. */
  readonly memberStackSetInstance?: aws.cloudformation.StackSetInstance;
  /** Organization mode from the management account only: StackSets never deploy there, so the role is made directly. */
  readonly localMemberRole?: aws.iam.Role;
  /** Its permissions (the same as the StackSet's role). */
  readonly localMemberRolePolicy?: aws.iam.RolePolicy;

  constructor(name: string, args: KeyageRotatorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keyage:deploy:Rotator", name, {}, opts);
    const { settings, rotation } = args;
    if (rotation.rotation === "off") throw new Error("KeyageRotator: rotation is off; create nothing instead");
    const mode = rotation.rotation;
    const tags = args.tags ?? { "managed-by": "keyage" };
    const child = { parent: this };
    const partition = aws.getPartitionOutput({}, child).partition;
    const accountId = aws.getCallerIdentityOutput({}, child).accountId;
    const region = aws.getRegionOutput({}, child).region;
    const org = settings.organization;
    const organization = org && (org.organizationId === undefined || org.targets.length === 0) ? aws.organizations.getOrganizationOutput({}, child) : undefined;
    const organizationId = org ? (org.organizationId !== undefined ? pulumi.output(org.organizationId) : organization!.id) : pulumi.output("");

    this.logGroup = new aws.cloudwatch.LogGroup(`${name}-rotator-logs`, { name: `/aws/lambda/keyage/${settings.ruleName}-rotator`, retentionInDays: settings.logRetentionDays, tags }, child);
    this.role = new aws.iam.Role(`${name}-rotator`, {
      description: org
        ? `keyage scheduled rotator (${mode}): assumes ${org.rotatorRoleName} in the organization's accounts, publishes events`
        : `keyage scheduled rotator (${mode}): reads IAM users, ${mode === "apply" ? "rotates the keys of users tagged keyage:rotate, " : ""}publishes events`,
      assumeRolePolicy: JSON.stringify(lambdaTrustPolicy()),
      tags,
    }, child);
    this.rolePolicy = new aws.iam.RolePolicy(`${name}-rotator`, {
      role: this.role.id,
      policy: pulumi.all([partition, accountId, region, this.logGroup.arn, organizationId]).apply(([p, a, r, logGroupArn, orgId]) =>
        JSON.stringify(
          org
            ? centralRotatorPolicy({ partition: p, accountId: a, region: r, logGroupArn, rotatorRoleName: org.rotatorRoleName, organizationId: orgId })
            : rotatorRolePolicy({ partition: p, accountId: a, region: r, logGroupArn, mode, secretPrefix: rotation.secretPrefix }),
        ),
      ),
    }, child);
    this.function = new aws.lambda.Function(`${name}-rotator`, {
      description: `keyage: scheduled access key rotation (${mode}), limit ${settings.maxAccessKeyAge} days`,
      code: args.code,
      handler: HANDLER,
      runtime: RUNTIME,
      architectures: ["arm64"],
      memorySize: settings.lambdaMemorySize,
      timeout: ROTATION_DEFAULTS.rotationLambdaTimeout,
      // One run at a time: two runs at once could both find a user due.
      reservedConcurrentExecutions: 1,
      role: this.role.arn,
      loggingConfig: { logFormat: "Text", logGroup: this.logGroup.name },
      tags,
    }, { ...child, dependsOn: [this.rolePolicy] });
    // A failed run is not retried at once: the next scheduled run picks up where it stopped.
    this.invokeConfig = new aws.lambda.FunctionEventInvokeConfig(`${name}-rotator-async`, { functionName: this.function.name, maximumRetryAttempts: 0 }, child);

    this.schedulerRole = new aws.iam.Role(`${name}-rotator-schedule`, {
      description: "keyage: lets EventBridge Scheduler invoke the rotator",
      assumeRolePolicy: accountId.apply((a) => JSON.stringify(schedulerTrustPolicy(a))),
      tags,
    }, child);
    this.schedulerRolePolicy = new aws.iam.RolePolicy(`${name}-rotator-schedule`, {
      role: this.schedulerRole.id,
      policy: this.function.arn.apply((arn) => JSON.stringify(schedulerInvokePolicy(arn))),
    }, child);
    if (org) {
      const member = deployMemberRole({
        stem: `${name}-rotator`,
        stackSetName: `${settings.ruleName}-rotator-role`,
        description: "keyage: the role the keyage scheduled rotator assumes in each account",
        localDescription: "keyage: the role the keyage scheduled rotator assumes in this (management) account",
        roleName: org.rotatorRoleName,
        templateBody: memberRotatorTemplate(org.rotatorRoleName, mode, rotation.secretPrefix),
        parameters: { RotatorRoleArn: this.role.arn },
        trustedArn: this.role.arn,
        trustPolicy: memberRotatorTrustPolicy,
        policy: (partition, accountId, region) => memberRotatorPolicy({ partition, accountId, region, mode, secretPrefix: rotation.secretPrefix }),
      }, { org, organization, partition, accountId, region, tags, child });
      this.memberStackSet = member.stackSet;
      this.memberStackSetInstance = member.instance;
      this.localMemberRole = member.localRole;
      this.localMemberRolePolicy = member.localRolePolicy;
    }
    // The first run comes only once the roles it assumes exist.
    const rolesReady = [this.memberStackSetInstance, this.localMemberRolePolicy].filter((r): r is NonNullable<typeof r> => r !== undefined);
    this.schedule = new aws.scheduler.Schedule(`${name}-rotator`, {
      name: `${settings.ruleName}-rotator`,
      description: "keyage: runs the scheduled access key rotator",
      scheduleExpression: rotation.schedule,
      flexibleTimeWindow: { mode: "OFF" },
      target: {
        arn: this.function.arn,
        roleArn: this.schedulerRole.arn,
        input: rotatorInput(settings, rotation),
        retryPolicy: { maximumRetryAttempts: 0 },
      },
    }, { ...child, dependsOn: [this.schedulerRolePolicy, ...rolesReady] });

    if (rotation.topic) {
      this.topic = new aws.sns.Topic(`${name}-events`, { name: `${settings.ruleName}-events`, tags }, child);
      this.eventRule = new aws.cloudwatch.EventRule(`${name}-events`, {
        name: `${settings.ruleName}-events`,
        description: "keyage: every keyage event (expiring, expired, rotated, deactivated, deleted, blocked) to SNS",
        eventPattern: JSON.stringify(EVENT_PATTERN),
        tags,
      }, child);
      this.topicPolicy = new aws.sns.TopicPolicy(`${name}-events`, {
        arn: this.topic.arn,
        policy: pulumi.all([this.topic.arn, this.eventRule.arn]).apply(([t, r]) => JSON.stringify(topicPolicy(t, r))),
      }, child);
      this.eventTarget = new aws.cloudwatch.EventTarget(`${name}-events`, { rule: this.eventRule.name, arn: this.topic.arn }, { ...child, dependsOn: [this.topicPolicy] });
      if (rotation.email) {
        this.subscription = new aws.sns.TopicSubscription(`${name}-events-email`, { topic: this.topic.arn, protocol: "email", endpoint: rotation.email }, child);
      }
    }
    this.registerOutputs({ functionName: this.function.name, scheduleName: this.schedule.name, topicArn: this.topic?.arn, memberStackSetName: this.memberStackSet?.name });
  }
}
