/**
 * `keyage:reevaluateOnChange`: the resources that turn IAM key changes into a Config re-evaluation.
 *
 * - In **us-east-1** (IAM's CloudTrail events reach EventBridge there only, whatever the rule's Region),
 *   through a provider of that Region: an EventBridge rule matching successful CreateAccessKey,
 *   UpdateAccessKey, DeleteAccessKey and DeleteUser calls, and its target, the **changes queue** (SQS;
 *   an SQS target must be in the rule's Region, so the queue is there too), which only that rule may
 *   send to. The Lambdas in the Config rule's Region read it across Regions through the SQS API.
 * - In the rule's Region: the **tick**, a small Lambda run every 5 minutes that starts the Config rule
 *   when the queue holds messages (StartConfigRulesEvaluation on this rule only), and the evaluator's
 *   right to read and delete the queue's messages.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { IAM_EVENTS_REGION, keyChangeEventPattern } from "../shared/key-changes";
import { changeQueuePolicy, lambdaTrustPolicy, readChangesPolicy, reevaluatePolicy } from "./policies";

/** The tick's schedule: a burst of changes costs at most one start per tick. */
export const REEVALUATE_SCHEDULE = "rate(5 minutes)";
/** The tick's handler in the Config rule's bundle. */
export const REEVALUATE_HANDLER = "index.reevaluate";
/** How long the changes queue keeps a message no run has deleted: a day, then the scheduled run has seen the change anyway. */
export const CHANGE_RETENTION_SECONDS = 86_400;
/** Suffixes of the names built from the resource stem (EventBridge rule names: at most 64 characters). */
export const KEY_CHANGE_SUFFIXES = { queue: "-changes", tick: "-recheck" } as const;

/** The queue side, made before the evaluator (whose environment names the queue). */
export interface KeyChangeQueue {
  /** The provider of us-east-1 the queue and its EventBridge rule are made with. */
  readonly provider: aws.Provider;
  readonly queue: aws.sqs.Queue;
  readonly queuePolicy: aws.sqs.QueuePolicy;
  readonly eventRule: aws.cloudwatch.EventRule;
  readonly eventTarget: aws.cloudwatch.EventTarget;
}

/** The us-east-1 EventBridge rule and the changes queue it sends to. */
export function createKeyChangeQueue(name: string, args: { stem: string; tags: Record<string, string>; provider?: aws.Provider }, child: pulumi.CustomResourceOptions): KeyChangeQueue {
  const provider = args.provider ?? new aws.Provider(`${name}-${IAM_EVENTS_REGION}`, { region: IAM_EVENTS_REGION }, child);
  const inUsEast1 = { ...child, provider };
  const queue = new aws.sqs.Queue(`${name}-key-changes`, {
    name: `${args.stem}${KEY_CHANGE_SUFFIXES.queue}`,
    messageRetentionSeconds: CHANGE_RETENTION_SECONDS,
    sqsManagedSseEnabled: true,
    tags: args.tags,
  }, inUsEast1);
  const eventRule = new aws.cloudwatch.EventRule(`${name}-key-changes`, {
    name: `${args.stem}${KEY_CHANGE_SUFFIXES.queue}`,
    description: "keyage: IAM access key changes (CloudTrail), for the Config rule to re-evaluate the users named",
    eventPattern: JSON.stringify(keyChangeEventPattern()),
    tags: args.tags,
  }, inUsEast1);
  const queuePolicy = new aws.sqs.QueuePolicy(`${name}-key-changes`, {
    queueUrl: queue.url,
    policy: pulumi.all([queue.arn, eventRule.arn]).apply(([q, r]) => JSON.stringify(changeQueuePolicy(q, r))),
  }, inUsEast1);
  const eventTarget = new aws.cloudwatch.EventTarget(`${name}-key-changes`, {
    rule: eventRule.name,
    arn: queue.arn,
  }, { ...inUsEast1, dependsOn: [queuePolicy] });
  return { provider, queue, queuePolicy, eventRule, eventTarget };
}

/** The evaluator's environment for the queue. */
export function changeQueueEnvironment(queue: KeyChangeQueue): Record<string, pulumi.Input<string>> {
  return { KEYAGE_CHANGE_QUEUE_URL: queue.queue.url, KEYAGE_CHANGE_QUEUE_REGION: IAM_EVENTS_REGION };
}

/** The evaluator may read and delete the queue's messages. */
export function grantReadChanges(name: string, role: aws.iam.Role, queue: KeyChangeQueue, child: pulumi.CustomResourceOptions): aws.iam.RolePolicy {
  return new aws.iam.RolePolicy(`${name}-read-key-changes`, {
    role: role.id,
    policy: queue.queue.arn.apply((arn) => JSON.stringify(readChangesPolicy(arn))),
  }, child);
}

/** The tick and what it needs. */
export interface ReevaluateTick {
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly role: aws.iam.Role;
  readonly rolePolicy: aws.iam.RolePolicy;
  readonly function: aws.lambda.Function;
  readonly schedule: aws.cloudwatch.EventRule;
  readonly scheduleTarget: aws.cloudwatch.EventTarget;
  readonly permission: aws.lambda.Permission;
}

/** The tick in the rule's Region: every 5 minutes, start the rule when the queue holds messages. */
export function createReevaluateTick(
  name: string,
  args: {
    stem: string;
    ruleName: pulumi.Input<string>;
    ruleArn: pulumi.Input<string>;
    queue: KeyChangeQueue;
    code: pulumi.Input<pulumi.asset.Archive>;
    runtime: aws.lambda.Runtime;
    boundaryArn: pulumi.Input<string>;
    logGroupName: string;
    logRetentionDays: number;
    tags: Record<string, string>;
  },
  child: pulumi.CustomResourceOptions,
): ReevaluateTick {
  const logGroup = new aws.cloudwatch.LogGroup(`${name}-reevaluate-logs`, { name: args.logGroupName, retentionInDays: args.logRetentionDays, tags: args.tags }, child);
  const role = new aws.iam.Role(`${name}-reevaluate`, {
    description: "keyage re-evaluation tick: starts the keyage Config rule when IAM key changes are waiting",
    assumeRolePolicy: JSON.stringify(lambdaTrustPolicy()),
    permissionsBoundary: args.boundaryArn,
    tags: args.tags,
  }, child);
  const rolePolicy = new aws.iam.RolePolicy(`${name}-reevaluate`, {
    role: role.id,
    policy: pulumi.all([args.queue.queue.arn, pulumi.output(args.ruleArn), logGroup.arn]).apply(([queueArn, ruleArn, logGroupArn]) => JSON.stringify(reevaluatePolicy({ queueArn, ruleArn, logGroupArn }))),
  }, child);
  const fn = new aws.lambda.Function(`${name}-reevaluate`, {
    description: "keyage: starts the Config rule when IAM key changes are waiting (every 5 minutes)",
    code: args.code,
    handler: REEVALUATE_HANDLER,
    runtime: args.runtime,
    architectures: ["arm64"],
    memorySize: 128,
    timeout: 60,
    role: role.arn,
    environment: { variables: { ...changeQueueEnvironment(args.queue), KEYAGE_CONFIG_RULE_NAME: args.ruleName } },
    loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
    tags: args.tags,
  }, { ...child, dependsOn: [rolePolicy] });
  const schedule = new aws.cloudwatch.EventRule(`${name}-reevaluate`, {
    name: `${args.stem}${KEY_CHANGE_SUFFIXES.tick}`,
    description: "keyage: every 5 minutes, start the Config rule if IAM key changes are waiting",
    scheduleExpression: REEVALUATE_SCHEDULE,
    tags: args.tags,
  }, child);
  const permission = new aws.lambda.Permission(`${name}-reevaluate`, {
    function: fn.name,
    action: "lambda:InvokeFunction",
    principal: "events.amazonaws.com",
    sourceArn: schedule.arn,
  }, child);
  const scheduleTarget = new aws.cloudwatch.EventTarget(`${name}-reevaluate`, { rule: schedule.name, arn: fn.arn }, { ...child, dependsOn: [permission] });
  return { logGroup, role, rolePolicy, function: fn, schedule, scheduleTarget, permission };
}
