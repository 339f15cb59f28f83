/**
 * `KeyageRotator`: the scheduled rotator's resources, as one component next to the Config rule: the Lambda with its role
 * and log group, an EventBridge Scheduler schedule that runs it (default daily) with the settings as its
 * input, and optionally an SNS topic that receives every keyage event through an EventBridge rule. In
 * organization mode the Lambda stays here and acts in every account through a member rotator role,
 * rolled out by a service-managed StackSet like the Config rule's reader role (and created directly in
 * the management account); its own role then only lists accounts, assumes that role, publishes events
 * and writes logs.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { packagedCode, validArgs } from "./bundles";
import { show } from "../shared";
import { DeployConfigError, type DeploySettings, type KeyageRotationArgs, type KeyageSettingsArgs, resourceStem, validateSettings } from "./settings";
import { alarmPublishStatement, createRunAlarms, onFailureDestination, runsDaily } from "./alarms";
import { deployMemberRole } from "./member-role";
import { lambdaTrustPolicy, notificationTopicsArn } from "./policies";
import { HANDLER, RUNTIME } from "./config-rule";
import {
  centralRotatorPolicy,
  memberRotatorPolicy,
  memberRotatorTemplate,
  memberRotatorTrustPolicy,
  rotatorBoundaryPolicy,
  rotatorRolePolicy,
  schedulerInvokePolicy,
  schedulerTrustPolicy,
  topicPolicy,
} from "./rotator-policies";
import { ROTATION_DEFAULTS, ROTATION_MODES, type RotationSettings } from "./rotator-settings";

/** The component's type token. */
export const ROTATOR_TYPE = "keyage:index:Rotator";
/** The type token of keyage 0.1's deploy stack: an alias, so a stack deployed then is updated in place, not replaced. */
export const ROTATOR_TYPE_0_1 = "keyage:deploy:Rotator";

/** The rotator's events, as an EventBridge pattern. */
export const EVENT_PATTERN = { source: ["keyage"] } as const;

/**
 * Inputs of {@link KeyageRotator}: `mode` (the `keyage:rotation` key), the rotator's own
 * `keyage:rotation*` / `keyage:notification*` settings, and the settings it shares with the Config rule
 * (`maxAccessKeyAge`, `warnDays`, `ruleName`, `lambdaMemorySize`, `logRetentionDays`, organization
 * mode), all under the deploy stack's names, validated at construction.
 */
export interface KeyageRotatorArgs extends KeyageSettingsArgs, KeyageRotationArgs {
  /** The Lambda's code; default the bundle this package ships (`keyage/rotator.zip`). */
  code?: pulumi.Input<pulumi.asset.Archive>;
  /** Tags on every taggable resource; default `{ "managed-by": "keyage" }`. */
  tags?: Record<string, string>;
}

/** Inputs of {@link KeyageRotator} with the settings already validated (what the deploy stack passes after reading its config). */
export interface ValidatedRotatorArgs {
  /** The rule's settings (limit, warning, memory, log retention). */
  settings: DeploySettings;
  /** Validated rotator settings; `rotation` must not be `off`. */
  rotation: RotationSettings;
  /** The Lambda's code; default the bundle this package ships. */
  code?: pulumi.Input<pulumi.asset.Archive>;
  /** Tags on every taggable resource; default `{ "managed-by": "keyage" }`. */
  tags?: Record<string, string>;
}

/** The modes a deployed rotator runs in (`off` deploys nothing). */
const ON_MODES = ROTATION_MODES.filter((m) => m !== "off");

/** Either form of the arguments, as validated settings. */
function resolveArgs(name: string, args: KeyageRotatorArgs | ValidatedRotatorArgs): ValidatedRotatorArgs {
  if ("settings" in args && args.settings !== undefined) return args as ValidatedRotatorArgs;
  const { code, tags, mode, ...raw } = args as KeyageRotatorArgs;
  return validArgs("KeyageRotator", name, () => {
    if (!(ON_MODES as readonly unknown[]).includes(mode)) throw new DeployConfigError("mode", `mode must be one of ${ON_MODES.join(", ")}, got ${show(mode)}`);
    const settings = validateSettings({ ...raw, rotation: mode });
    return { settings, rotation: settings.rotation as RotationSettings, ...(code !== undefined ? { code } : {}), ...(tags !== undefined ? { tags } : {}) };
  });
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
    // Organization mode: the run covers the ACTIVE accounts where the member role was rolled out (the
    // StackSet's targets, and the management account when its role is made directly) but these.
    organization: settings.organization
      ? {
          roleName: settings.organization.rotatorRoleName,
          excludedAccounts: settings.organization.excludedAccounts,
          targets: settings.organization.targets,
          managementAccount: settings.organization.callAs === "SELF",
        }
      : undefined,
  });
}

/**
 * keyage's scheduled rotator. Outputs: {@link functionName}, {@link functionArn}, {@link roleArn},
 * {@link scheduleName}, {@link topicArn} (when a topic is made). Every child's name starts with `name`;
 * physical names (schedule, topic, log group) come from `ruleName` (default `keyage-access-key-age`).
 *
 * @example
 * import { KeyageRotator } from "keyage/pulumi";
 * const rotator = new KeyageRotator("rot", { mode: "plan", notificationEmail: "ops@example.com" });
 * export const topicArn = rotator.topicArn;
 * @throws pulumi.RunError naming the argument, when one is out of range (before anything is registered).
 */
export class KeyageRotator extends pulumi.ComponentResource {
  readonly logGroup: aws.cloudwatch.LogGroup;
  /**
   * The permissions boundary every role of this component carries (`<stem>-rotator-boundary`, see
   * `resourceStem`): the union of what the rotator's roles and the schedule's need.
   */
  readonly boundary: aws.iam.Policy;
  readonly role: aws.iam.Role;
  readonly rolePolicy: aws.iam.RolePolicy;
  readonly function: aws.lambda.Function;
  readonly invokeConfig: aws.lambda.FunctionEventInvokeConfig;
  /** With the topic: the rotator's role may publish to it (the on-failure destination). */
  readonly onFailurePolicy?: aws.iam.RolePolicy;
  /** Errors, missed run (daily schedules), partial run, Rotation Blocked (see `alarms.ts`). */
  readonly alarms: aws.cloudwatch.MetricAlarm[];
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
  /**
   * Organization mode from the management account only: StackSets never deploy there, so the role is made
   * directly, unless `excludedAccounts` lists that account (then this resolves to `undefined`).
   */
  readonly localMemberRole?: pulumi.Output<aws.iam.Role | undefined>;
  /** Its permissions (the same as the StackSet's role). */
  readonly localMemberRolePolicy?: pulumi.Output<aws.iam.RolePolicy | undefined>;
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  /** The rotator Lambda's own role. */
  readonly roleArn: pulumi.Output<string>;
  readonly scheduleName: pulumi.Output<string>;
  /** The SNS topic that receives every keyage event; absent without `notificationTopic` or `notificationEmail`. */
  readonly topicArn?: pulumi.Output<string>;

  constructor(name: string, args: KeyageRotatorArgs | ValidatedRotatorArgs, opts?: pulumi.ComponentResourceOptions) {
    const valid = resolveArgs(name, args);
    const { settings, rotation } = valid;
    if (rotation.rotation === "off") throw new Error("KeyageRotator: rotation is off; create nothing instead");
    super(ROTATOR_TYPE, name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: ROTATOR_TYPE_0_1 }] });
    const mode = rotation.rotation;
    const code = valid.code ?? packagedCode("rotator.zip");
    const tags = valid.tags ?? { "managed-by": "keyage" };
    const child = { parent: this };
    const partition = aws.getPartitionOutput({}, child).partition;
    const accountId = aws.getCallerIdentityOutput({}, child).accountId;
    const region = aws.getRegionOutput({}, child).region;
    const org = settings.organization;
    const organization = org && (org.organizationId === undefined || org.targets.length === 0) ? aws.organizations.getOrganizationOutput({}, child) : undefined;
    const organizationId = org ? (org.organizationId !== undefined ? pulumi.output(org.organizationId) : organization!.id) : pulumi.output("");

    this.logGroup = new aws.cloudwatch.LogGroup(`${name}-rotator-logs`, { name: `/aws/lambda/keyage/${settings.ruleName}-rotator`, retentionInDays: settings.logRetentionDays, tags }, child);
    const stem = resourceStem(settings.ruleName);
    this.boundary = new aws.iam.Policy(`${name}-rotator-boundary`, {
      name: `${stem}-rotator-boundary`,
      description: "keyage: permissions boundary of the keyage rotator's roles (what they may ever be granted)",
      policy: pulumi.all([partition, accountId, region, this.logGroup.arn, organizationId]).apply(([p, a, r, logGroupArn, orgId]) =>
        JSON.stringify(rotatorBoundaryPolicy({
          partition: p,
          accountId: a,
          region: r,
          logGroupArn,
          mode,
          secretPrefix: rotation.secretPrefix,
          ...(org ? { organization: { rotatorRoleName: org.rotatorRoleName, organizationId: orgId } } : {}),
          // The function is auto-named from its logical name (below) plus a random suffix.
          functionNamePrefix: `${name}-rotator`,
          notificationTopics: notificationTopicsArn(p, r, a, stem),
        })),
      ),
      tags,
    }, child);
    this.role = new aws.iam.Role(`${name}-rotator`, {
      description: org
        ? `keyage scheduled rotator (${mode}): assumes ${org.rotatorRoleName} in the organization's accounts, publishes events`
        : `keyage scheduled rotator (${mode}): reads IAM users, ${mode === "apply" ? "rotates the keys of users tagged keyage:rotate, " : ""}publishes events`,
      assumeRolePolicy: JSON.stringify(lambdaTrustPolicy()),
      permissionsBoundary: this.boundary.arn,
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
      code,
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

    this.schedulerRole = new aws.iam.Role(`${name}-rotator-schedule`, {
      description: "keyage: lets EventBridge Scheduler invoke the rotator",
      assumeRolePolicy: accountId.apply((a) => JSON.stringify(schedulerTrustPolicy(a))),
      permissionsBoundary: this.boundary.arn,
      tags,
    }, child);
    this.schedulerRolePolicy = new aws.iam.RolePolicy(`${name}-rotator-schedule`, {
      role: this.schedulerRole.id,
      policy: this.function.arn.apply((arn) => JSON.stringify(schedulerInvokePolicy(arn))),
    }, child);
    if (org) {
      const member = deployMemberRole({
        stem: `${name}-rotator`,
        // StackSet names take letters, digits and hyphens only.
        stackSetName: `${stem}-rotator-role`.replace(/_/g, "-"),
        description: "keyage: the role the keyage scheduled rotator assumes in each account",
        localDescription: "keyage: the role the keyage scheduled rotator assumes in this (management) account",
        roleName: org.rotatorRoleName,
        templateBody: memberRotatorTemplate(org.rotatorRoleName, mode, rotation.secretPrefix),
        parameters: { RotatorRoleArn: this.role.arn },
        assumeRolePolicy: this.role.arn.apply((arn) => JSON.stringify(memberRotatorTrustPolicy(arn))),
        policy: (partition, accountId, region) => memberRotatorPolicy({ partition, accountId, region, mode, secretPrefix: rotation.secretPrefix }),
      }, { org, organization, partition, accountId, region, tags, child, boundaryArn: this.boundary.arn });
      this.memberStackSet = member.stackSet;
      this.memberStackSetInstance = member.instance;
      this.localMemberRole = member.local?.apply((l) => l?.role);
      this.localMemberRolePolicy = member.local?.apply((l) => l?.policy);
    }
    // The first run comes only once the roles it assumes exist.
    const rolesReady = pulumi.output(this.localMemberRolePolicy).apply((local) => [this.memberStackSetInstance, local].filter((r): r is NonNullable<typeof r> => r !== undefined));
    this.schedule = new aws.scheduler.Schedule(`${name}-rotator`, {
      name: `${stem}-rotator`,
      description: "keyage: runs the scheduled access key rotator",
      scheduleExpression: rotation.schedule,
      flexibleTimeWindow: { mode: "OFF" },
      target: {
        arn: this.function.arn,
        roleArn: this.schedulerRole.arn,
        input: rotatorInput(settings, rotation),
        retryPolicy: { maximumRetryAttempts: 0 },
      },
    }, { ...child, dependsOn: rolesReady.apply((ready) => [this.schedulerRolePolicy, ...ready]) });

    if (rotation.topic) {
      this.topic = new aws.sns.Topic(`${name}-events`, { name: `${stem}-events`, tags }, child);
      this.eventRule = new aws.cloudwatch.EventRule(`${name}-events`, {
        name: `${stem}-events`,
        description: "keyage: every keyage event (expiring, expired, rotated, deactivated, deleted, blocked) to SNS",
        eventPattern: JSON.stringify(EVENT_PATTERN),
        tags,
      }, child);
      this.topicPolicy = new aws.sns.TopicPolicy(`${name}-events`, {
        arn: this.topic.arn,
        // keyage's events, and keyage's alarms (the Config rule's too).
        policy: pulumi.all([this.topic.arn, this.eventRule.arn, partition, region, accountId]).apply(([t, r, p, reg, a]) => {
          const events = topicPolicy(t, r);
          return JSON.stringify({ ...events, Statement: [...events.Statement, alarmPublishStatement({ topicArn: t, partition: p, region: reg, accountId: a, ruleName: stem })] });
        }),
      }, child);
      this.eventTarget = new aws.cloudwatch.EventTarget(`${name}-events`, { rule: this.eventRule.name, arn: this.topic.arn }, { ...child, dependsOn: [this.topicPolicy] });
      if (rotation.email) {
        this.subscription = new aws.sns.TopicSubscription(`${name}-events-email`, { topic: this.topic.arn, protocol: "email", endpoint: rotation.email }, child);
      }
    }
    // A failed run is not retried at once: the next scheduled run picks up where it stopped. It goes to
    // the topic, when there is one, as do the alarms.
    const topicArn = this.topic?.arn;
    const onFailure = onFailureDestination(`${name}-rotator`, this.role, topicArn, child);
    this.onFailurePolicy = onFailure.grant;
    this.invokeConfig = new aws.lambda.FunctionEventInvokeConfig(`${name}-rotator-async`, {
      functionName: this.function.name,
      maximumRetryAttempts: 0,
      ...(onFailure.destinationConfig ? { destinationConfig: onFailure.destinationConfig } : {}),
    }, { ...child, dependsOn: onFailure.grant ? [onFailure.grant] : [] });
    this.alarms = createRunAlarms(`${name}-rotator`, {
      kind: "rotator",
      namePrefix: `${stem}-rotator`,
      functionName: this.function.name,
      topicArn,
      missedRun: runsDaily(rotation.schedule),
      tags,
    }, child);
    this.functionName = this.function.name;
    this.functionArn = this.function.arn;
    this.roleArn = this.role.arn;
    this.scheduleName = this.schedule.name;
    if (this.topic) this.topicArn = this.topic.arn;
    this.registerOutputs({
      functionName: this.functionName,
      functionArn: this.functionArn,
      roleArn: this.roleArn,
      scheduleName: this.scheduleName,
      topicArn: this.topicArn,
      memberStackSetName: this.memberStackSet?.name,
    });
  }
}
