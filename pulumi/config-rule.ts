/**
 * `KeyageConfigRule`: the resources behind keyage's AWS Config rule, as one component a Pulumi program
 * imports from `keyage/pulumi` (the deploy stack in deploy/ is one such program): the Lambda and its least-privilege role and log group, the invoke permission for
 * AWS Config, and either an account rule or, in organization mode, an organization rule plus the
 * member-account reader role rolled out by a service-managed StackSet.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_RESOURCE_TYPE, CONFIG_RULE_TRIGGERS } from "../shared";
import { packagedCode, validArgs } from "./bundles";
import { createNotificationTopic, createRunAlarms, createTickAlarm, type NotificationTopic, onFailureDestination } from "./alarms";
import { type AuditRoleResources, deployAuditRole } from "./audit-role";
import { deployMemberRole } from "./member-role";
import { executionRolePolicy, lambdaTrustPolicy, memberRolePolicy, memberRoleTemplate, memberTrustPolicy, notificationTopicsArn, readResultsPolicy, ruleBoundaryPolicy } from "./policies";
import { DeploySettings, inputParameters, type KeyageSettingsArgs, resourceStem, validateSettings } from "./settings";
import { changeQueueEnvironment, createKeyChangeQueue, createReevaluateTick, grantReadChanges, KEY_CHANGE_SUFFIXES, type KeyChangeQueue, type ReevaluateTick } from "./key-changes";
import { IAM_EVENTS_REGION } from "../shared/key-changes";

/** The component's type token (its URNs read `…::keyage:index:ConfigRule::<name>`). */
export const CONFIG_RULE_TYPE = "keyage:index:ConfigRule";
/** The type token of keyage 0.1's deploy stack: an alias, so a stack deployed then is updated in place, not replaced. */
export const CONFIG_RULE_TYPE_0_1 = "keyage:deploy:ConfigRule";

/** The Lambda handler inside the zip: `index.js` exporting `handler`. */
export const HANDLER = "index.handler";
/** The newest Node.js Lambda runtime @pulumi/aws 7 knows; the bundle needs nothing newer than Node 20. */
export const RUNTIME = aws.lambda.Runtime.NodeJS24dX;
/** Config's resource type for IAM users; the rule's only scope (the Lambda checks events against the same constant). */
export const RESOURCE_TYPE = CONFIG_RESOURCE_TYPE;
/** Notifications that run the rule: exactly the message types the Lambda handles. */
export const TRIGGERS = CONFIG_RULE_TRIGGERS;
/**
 * Lambda's retries of a failed asynchronous invocation (AWS Config invokes the function asynchronously;
 * Lambda's default is 2). None: a run that failed as a whole (IAM or Config refusing, throttling that
 * outlasted the SDK's retries) would fail the same way again at once, and re-reading the account three
 * times triples the IAM load on an account that may already be throttled. A partial run does not fail
 * (it writes what it read and says what it skipped), and the next scheduled run comes anyway; to
 * re-run at once: `aws configservice start-config-rules-evaluation --config-rule-names <rule>`.
 */
export const ASYNC_RETRY_ATTEMPTS = 0;
/** AWS Config's service principal. */
export const CONFIG_PRINCIPAL = "config.amazonaws.com";

/**
 * Inputs of {@link KeyageConfigRule}: the deploy stack's `keyage:*` settings under the same names
 * (see {@link KeyageSettingsArgs}), validated at construction.
 */
export interface KeyageConfigRuleArgs extends KeyageSettingsArgs {
  /** The Lambda's code; default the bundle this package ships (`keyage/config-rule.zip`). */
  code?: pulumi.Input<pulumi.asset.Archive>;
  /** Tags on every taggable resource; default `{ "managed-by": "keyage" }`. */
  tags?: Record<string, string>;
  /**
   * The notification topic: the alarms and the Lambda's on-failure destination publish to it (e.g. a
   * {@link KeyageRotator}'s `topicArn`). Default: a topic of the rule's own when `notificationEmail` or
   * `notificationTopic` is set, else none (the alarms exist without actions, in the CloudWatch console
   * only, and a failed run has no destination).
   */
  notificationTopicArn?: pulumi.Input<string>;
  /** Without `notificationTopicArn`: make a topic of the rule's own (`<ruleName>-alarms`) and subscribe this address. */
  notificationEmail?: string;
  /** Without `notificationTopicArn`: make a topic of the rule's own for the alarms; default false (true with `notificationEmail`). */
  notificationTopic?: boolean;
  /**
   * With `reevaluateOnChange`: the provider the us-east-1 resources (EventBridge rule, changes queue) are
   * made with. Default: a provider of its own for us-east-1, with credentials from the environment; pass
   * one when the deploy needs a profile or a role (its `region` must be us-east-1).
   */
  usEast1Provider?: aws.Provider;
}

/** Inputs of {@link KeyageConfigRule} with the settings already validated (what the deploy stack passes after reading its config). */
export interface ValidatedConfigRuleArgs {
  /** Validated settings (see `validateSettings`). */
  settings: DeploySettings;
  /** The Lambda's code; default the bundle this package ships. */
  code?: pulumi.Input<pulumi.asset.Archive>;
  /** Tags on every taggable resource; default `{ "managed-by": "keyage" }`. */
  tags?: Record<string, string>;
  /** As in {@link KeyageConfigRuleArgs}; without it, `settings.notification` makes a topic of the rule's own. */
  notificationTopicArn?: pulumi.Input<string>;
  /** As in {@link KeyageConfigRuleArgs}. */
  usEast1Provider?: aws.Provider;
}

/** Either form of the arguments, as validated settings. */
function resolveArgs(name: string, args: KeyageConfigRuleArgs | ValidatedConfigRuleArgs): ValidatedConfigRuleArgs {
  if ("settings" in args && args.settings !== undefined) return args as ValidatedConfigRuleArgs;
  const { code, tags, notificationTopicArn, usEast1Provider, ...raw } = args as KeyageConfigRuleArgs;
  // Rotation keys belong to KeyageRotator: a JavaScript caller's stray `rotation` does not sneak in here.
  const settings = validArgs("KeyageConfigRule", name, () => validateSettings({ ...raw, rotation: undefined }));
  return {
    settings,
    ...(code !== undefined ? { code } : {}),
    ...(tags !== undefined ? { tags } : {}),
    ...(notificationTopicArn !== undefined ? { notificationTopicArn } : {}),
    ...(usEast1Provider !== undefined ? { usEast1Provider } : {}),
  };
}

/**
 * keyage's Config rule and everything it needs. Outputs: {@link ruleName}, {@link ruleArn},
 * {@link functionName}, {@link functionArn}, {@link executionRoleArn}, {@link logGroupName}. Every
 * child's name starts with `name`; physical names come from `ruleName` (default
 * `keyage-access-key-age`), so a second rule in the same account needs its own `ruleName`.
 *
 * @example
 * import { KeyageConfigRule } from "keyage/pulumi";
 * const rule = new KeyageConfigRule("keys", { maxAccessKeyAge: 90 });
 * export const ruleArn = rule.ruleArn;
 * @throws pulumi.RunError naming the argument, when one is out of range (before anything is registered).
 */
export class KeyageConfigRule extends pulumi.ComponentResource {
  readonly logGroup: aws.cloudwatch.LogGroup;
  /**
   * The permissions boundary every role of this component carries (`<stem>-boundary`, see
   * `resourceStem`): the union of what the evaluator and the management account's reader role need.
   */
  readonly boundary: aws.iam.Policy;
  readonly executionRole: aws.iam.Role;
  readonly executionRolePolicy: aws.iam.RolePolicy;
  readonly function: aws.lambda.Function;
  /** How Lambda handles the function's asynchronous invocations: no automatic retry (see {@link ASYNC_RETRY_ATTEMPTS}), failures to the notification topic. */
  readonly invokeConfig: aws.lambda.FunctionEventInvokeConfig;
  /** With a notification topic: the execution role may publish to it (the on-failure destination). */
  readonly onFailurePolicy?: aws.iam.RolePolicy;
  /** Errors, missed scheduled run, partial run (see `alarms.ts`). */
  readonly alarms: aws.cloudwatch.MetricAlarm[];
  /** Account mode only: reading this rule's earlier results, on the rule's ARN. */
  readonly readResultsPolicy?: aws.iam.RolePolicy;
  /** One per invoking source: this account, plus member accounts in organization mode. */
  readonly permissions: aws.lambda.Permission[];
  /** Account mode only. */
  readonly rule?: aws.cfg.Rule;
  /** Organization mode only. */
  readonly organizationRule?: aws.cfg.OrganizationCustomRule;
  /** Organization mode only: the member role template, deployed to every target account. */
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
  readonly ruleName: pulumi.Output<string>;
  readonly ruleArn: pulumi.Output<string>;
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  readonly executionRoleArn: pulumi.Output<string>;
  /** The evaluator's log group (one JSON summary line per run). */
  readonly logGroupName: pulumi.Output<string>;
  /** `reevaluateOnChange` (account mode): the us-east-1 EventBridge rule and the changes queue it feeds. */
  readonly keyChanges?: KeyChangeQueue;
  /** `reevaluateOnChange` (account mode): the evaluator's right to read the changes queue. */
  readonly readKeyChangesPolicy?: aws.iam.RolePolicy;
  /** `reevaluateOnChange` (account mode): the 5-minute tick that starts the rule when changes are waiting. */
  readonly reevaluate?: ReevaluateTick;
  /** `reevaluateOnChange` (account mode): `<stem>-recheck-errors`, the tick failing for 15 minutes. */
  readonly reevaluateAlarm?: aws.cloudwatch.MetricAlarm;
  /** The topic of the rule's own, made when no `notificationTopicArn` was given and `notificationEmail` / `notificationTopic` were set. */
  readonly notificationTopic?: NotificationTopic;
  /** Where the alarms and failed runs go: the given `notificationTopicArn` or the rule's own topic; absent without either. */
  readonly notificationTopicArn?: pulumi.Output<string>;
  /**
   * With `auditRoleTrust` only: the read-only role `keyage audit --organization --role-name` assumes, in this
   * account and, in organization mode, in every target account (see `audit-role.ts`).
   */
  readonly auditRole?: AuditRoleResources;
  /** With `auditRoleTrust` only: the audit role's name (`<stem>-audit`), what to pass as `--role-name`. */
  readonly auditRoleName?: pulumi.Output<string>;

  constructor(name: string, args: KeyageConfigRuleArgs | ValidatedConfigRuleArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    const valid = resolveArgs(name, args);
    super(CONFIG_RULE_TYPE, name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: CONFIG_RULE_TYPE_0_1 }] });
    const { settings } = valid;
    const code = valid.code ?? packagedCode("config-rule.zip");
    const org = settings.organization;
    const tags = valid.tags ?? { "managed-by": "keyage" };
    const child = { parent: this };
    const partition = aws.getPartitionOutput({}, child).partition;
    const accountId = aws.getCallerIdentityOutput({}, child).accountId;
    const region = aws.getRegionOutput({}, child).region;
    const organization = org && (org.organizationId === undefined || org.targets.length === 0) ? aws.organizations.getOrganizationOutput({}, child) : undefined;
    const organizationId = org ? (org.organizationId !== undefined ? pulumi.output(org.organizationId) : organization!.id) : undefined;

    this.logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
      name: `/aws/lambda/keyage/${settings.ruleName}`,
      retentionInDays: settings.logRetentionDays,
      tags,
    }, child);

    const stem = resourceStem(settings.ruleName);
    // Organization mode re-evaluates on schedule only (validateSettings turns the option off there).
    const onChange = settings.reevaluateOnChange && !org;
    const tickLogGroupName = `/aws/lambda/keyage/${settings.ruleName}${KEY_CHANGE_SUFFIXES.tick}`;
    const policyInput = pulumi.all([partition, accountId, region, this.logGroup.arn, organizationId]).apply(([p, a, r, logGroupArn, orgId]) => ({
      partition: p,
      accountId: a,
      region: r,
      logGroupArn,
      notificationTopics: notificationTopicsArn(p, r, a, stem),
      ...(org && orgId !== undefined ? { organization: { memberRoleName: org.memberRoleName, organizationId: orgId } } : {}),
      ...(onChange ? { keyChanges: { queues: `arn:${p}:sqs:${IAM_EVENTS_REGION}:${a}:${stem}-*`, logGroupArn: `arn:${p}:logs:${r}:${a}:log-group:${tickLogGroupName}` } } : {}),
    }));
    this.boundary = new aws.iam.Policy(`${name}-boundary`, {
      name: `${resourceStem(settings.ruleName)}-boundary`,
      description: "keyage: permissions boundary of the keyage Config rule's roles (what they may ever be granted)",
      policy: policyInput.apply((input) => JSON.stringify(ruleBoundaryPolicy(input))),
      tags,
    }, child);
    this.executionRole = new aws.iam.Role(`${name}-lambda`, {
      description: "keyage Config rule Lambda: reads IAM access keys, writes Config evaluations",
      assumeRolePolicy: JSON.stringify(lambdaTrustPolicy()),
      permissionsBoundary: this.boundary.arn,
      tags,
    }, child);
    this.executionRolePolicy = new aws.iam.RolePolicy(`${name}-lambda`, {
      role: this.executionRole.id,
      policy: policyInput.apply((input) => JSON.stringify(executionRolePolicy(input))),
    }, child);

    if (onChange) {
      this.keyChanges = createKeyChangeQueue(name, { stem, tags, ...(valid.usEast1Provider ? { provider: valid.usEast1Provider } : {}) }, child);
      this.readKeyChangesPolicy = grantReadChanges(name, this.executionRole, this.keyChanges, child);
    }

    this.function = new aws.lambda.Function(`${name}-evaluator`, {
      description: `keyage: IAM access keys older than ${settings.maxAccessKeyAge} days are NON_COMPLIANT`,
      code,
      handler: HANDLER,
      runtime: RUNTIME,
      architectures: ["arm64"],
      memorySize: settings.lambdaMemorySize,
      timeout: settings.lambdaTimeout,
      role: this.executionRole.arn,
      ...(this.keyChanges ? { environment: { variables: changeQueueEnvironment(this.keyChanges) } } : {}),
      loggingConfig: { logFormat: "Text", logGroup: this.logGroup.name },
      tags,
    }, { ...child, dependsOn: [this.executionRolePolicy, ...(this.readKeyChangesPolicy ? [this.readKeyChangesPolicy] : [])] });
    // No topic given: `notificationEmail` / `notificationTopic` make one of the rule's own (`<stem>-alarms`).
    this.notificationTopic =
      valid.notificationTopicArn === undefined && settings.notification
        ? createNotificationTopic(name, { ruleName: resourceStem(settings.ruleName), ...(settings.notification.email !== undefined ? { email: settings.notification.email } : {}), tags }, child)
        : undefined;
    const topicArn = valid.notificationTopicArn ?? this.notificationTopic?.topic.arn;
    if (topicArn !== undefined) this.notificationTopicArn = pulumi.output(topicArn);
    const onFailure = onFailureDestination(name, this.executionRole, topicArn, child);
    this.onFailurePolicy = onFailure.grant;
    this.invokeConfig = new aws.lambda.FunctionEventInvokeConfig(`${name}-async`, {
      functionName: this.function.name,
      maximumRetryAttempts: ASYNC_RETRY_ATTEMPTS,
      ...(onFailure.destinationConfig ? { destinationConfig: onFailure.destinationConfig } : {}),
    }, { ...child, dependsOn: onFailure.grant ? [onFailure.grant] : [] });
    this.alarms = createRunAlarms(name, { kind: "config-rule", namePrefix: resourceStem(settings.ruleName), functionName: this.function.name, topicArn, tags }, child);

    this.permissions = [
      // Config in this account; SourceAccount keeps any other account's Config out.
      new aws.lambda.Permission(`${name}-config-invoke`, {
        function: this.function.name,
        action: "lambda:InvokeFunction",
        principal: CONFIG_PRINCIPAL,
        sourceAccount: accountId,
      }, child),
    ];

    if (!org) {
      this.rule = new aws.cfg.Rule(`${name}-rule`, {
        name: settings.ruleName,
        description: `keyage: every IAM user's active access keys must be at most ${settings.maxAccessKeyAge} days old`,
        source: {
          owner: "CUSTOM_LAMBDA",
          sourceIdentifier: this.function.arn,
          // With reevaluateOnChange the changes queue does what the change triggers did (a deleted user, a
          // user's keys), and a start (StartConfigRulesEvaluation) must mean one periodic run: on a rule
          // with change triggers it would re-evaluate every user's last configuration item as well.
          sourceDetails: (onChange ? TRIGGERS.filter((t) => t === "ScheduledNotification") : TRIGGERS).map((messageType) =>
            messageType === "ScheduledNotification" ? { eventSource: "aws.config", messageType, maximumExecutionFrequency: settings.frequency } : { eventSource: "aws.config", messageType },
          ),
        },
        scope: { complianceResourceTypes: [RESOURCE_TYPE] },
        inputParameters: inputParameters(settings),
        tags,
      }, { ...child, dependsOn: this.permissions });
      this.ruleName = this.rule.name;
      this.ruleArn = this.rule.arn;
      // Until this exists the first run cannot read earlier results: it says so and is marked partial.
      this.readResultsPolicy = new aws.iam.RolePolicy(`${name}-read-results`, {
        role: this.executionRole.id,
        policy: this.rule.arn.apply((arn) => JSON.stringify(readResultsPolicy(arn))),
      }, child);
      if (this.keyChanges) {
        this.reevaluate = createReevaluateTick(name, {
          stem,
          ruleName: this.rule.name,
          ruleArn: this.rule.arn,
          queue: this.keyChanges,
          code,
          runtime: RUNTIME,
          boundaryArn: this.boundary.arn,
          logGroupName: tickLogGroupName,
          logRetentionDays: settings.logRetentionDays,
          tags,
        }, child);
        this.reevaluateAlarm = createTickAlarm(name, { namePrefix: stem, functionName: this.reevaluate.function.name, ...(topicArn === undefined ? {} : { topicArn }), tags }, child);
      }
    } else {
      // Config in member accounts invokes the function across accounts. A Lambda permission can only be
      // conditioned on SourceAccount, SourceArn or PrincipalOrgID, and PrincipalOrgID never matches a
      // service principal (it is only set for IAM principals of an organization), so the choice is:
      // listed accounts (strict; new accounts need a deploy) or any account's Config (the default),
      // where the execution role's aws:ResourceOrgID condition keeps the function inside the organization.
      const members = org.memberAccountIds.map(
        (id) => new aws.lambda.Permission(`${name}-config-invoke-${id}`, {
          function: this.function.name,
          action: "lambda:InvokeFunction",
          principal: CONFIG_PRINCIPAL,
          sourceAccount: id,
        }, child),
      );
      this.permissions.push(
        ...(members.length > 0
          ? members
          : [new aws.lambda.Permission(`${name}-config-invoke-members`, { function: this.function.name, action: "lambda:InvokeFunction", principal: CONFIG_PRINCIPAL }, child)]),
      );

      const member = deployMemberRole({
        stem: `${name}-member`,
        // StackSet names take letters, digits and hyphens only.
        stackSetName: `${resourceStem(settings.ruleName)}-member-role`.replace(/_/g, "-"),
        description: "keyage: the read-only role the keyage Config rule assumes in each account",
        localDescription: "keyage: read-only role the keyage Config rule assumes in this (management) account",
        roleName: org.memberRoleName,
        templateBody: memberRoleTemplate(org.memberRoleName),
        parameters: { ExecutionRoleArn: this.executionRole.arn },
        assumeRolePolicy: this.executionRole.arn.apply((arn) => JSON.stringify(memberTrustPolicy(arn))),
        policy: memberRolePolicy,
      }, { org, organization, partition, accountId, region, tags, child, boundaryArn: this.boundary.arn });
      this.memberStackSet = member.stackSet;
      this.memberStackSetInstance = member.instance;
      this.localMemberRole = member.local?.apply((l) => l?.role);
      this.localMemberRolePolicy = member.local?.apply((l) => l?.policy);

      this.organizationRule = new aws.cfg.OrganizationCustomRule(`${name}-org-rule`, {
        name: settings.ruleName,
        description: `keyage: every IAM user's active access keys must be at most ${settings.maxAccessKeyAge} days old`,
        lambdaFunctionArn: this.function.arn,
        triggerTypes: [...TRIGGERS],
        maximumExecutionFrequency: settings.frequency,
        resourceTypesScopes: [RESOURCE_TYPE],
        inputParameters: inputParameters(settings),
        ...(org.excludedAccounts.length > 0 ? { excludedAccounts: [...org.excludedAccounts] } : {}),
      }, {
        ...child,
        // Each account's rule is created only once Config may invoke the function and the role exists there.
        dependsOn: pulumi.output(this.localMemberRolePolicy).apply((local) => [...this.permissions, this.memberStackSetInstance!, ...(local ? [local] : [])]),
      });
      this.ruleName = this.organizationRule.name;
      this.ruleArn = this.organizationRule.arn;
    }

    if (settings.auditRole) {
      this.auditRole = deployAuditRole(name, settings.auditRole, { org, organization, stem: resourceStem(settings.ruleName), partition, accountId, region, tags, child });
      this.auditRoleName = pulumi.output(settings.auditRole.roleName);
    }

    this.functionName = this.function.name;
    this.functionArn = this.function.arn;
    this.executionRoleArn = this.executionRole.arn;
    this.logGroupName = this.logGroup.name;
    this.registerOutputs({
      ruleName: this.ruleName,
      ruleArn: this.ruleArn,
      functionName: this.functionName,
      functionArn: this.functionArn,
      executionRoleArn: this.executionRoleArn,
      logGroupName: this.logGroupName,
      notificationTopicArn: this.notificationTopicArn,
      auditRoleName: this.auditRoleName,
    });
  }
}

/**
 * Builds keyage's Config rule (a fresh set of resources on every call).
 *
 * @example const rule = createKeyageRule({ settings: validateSettings({}), code: new pulumi.asset.FileArchive(zip) });
 */
export function createKeyageRule(args: KeyageConfigRuleArgs | ValidatedConfigRuleArgs, name = "keyage", opts?: pulumi.ComponentResourceOptions): KeyageConfigRule {
  return new KeyageConfigRule(name, args, opts);
}
