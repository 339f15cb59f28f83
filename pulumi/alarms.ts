/**
 * On-call's view of keyage's two Lambdas (the Config rule's evaluator and the scheduled rotator): a
 * broken or partial run must reach a person, not only CloudWatch Logs. Both Lambdas run with no
 * automatic retry, and AWS Config keeps no evaluation status for custom Lambda rules, so without these a
 * failed run is silent. For each Lambda:
 * - CloudWatch alarms on Lambda's own `Errors` metric and on the run figures the Lambda writes into its
 *   summary log line as embedded metrics (`shared/metrics.ts`: namespace `keyage`, dimension
 *   `FunctionName`): no completed run for 26 hours, a partial run, and (rotator) `Rotation Blocked`;
 * - an on-failure destination: Lambda publishes a failed asynchronous invocation (the request and the
 *   error) to the notification topic.
 * Every alarm and the destination use the notification topic (`keyage:notificationEmail` /
 * `keyage:notificationTopic`); without one the alarms still exist, in the CloudWatch console only.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { METRIC_DIMENSION, METRIC_NAMESPACE, type ConfigRuleMetric, type RotatorMetric } from "../shared/metrics";
import { onFailurePublishPolicy } from "./policies";

/** Alarm period: one hour. Runs are daily (at most hourly), so an hour holds at most a few runs. */
export const ALARM_PERIOD_SECONDS = 3600;
/**
 * A run is missed when none completed for this many hours: a daily run plus two hours of slack (a run
 * can take 15 minutes, and AWS Config's "every 24 hours" drifts).
 *
 * How: the run metric is 1 per completed run and absent otherwise, so the alarm sums it per hour over
 * 26 one-hour periods, treats a missing hour as breaching and goes off only when all 26 are below 1.
 * One 26-hour period would not do: CloudWatch allows period × evaluation periods up to 7 days only with
 * periods of at least an hour, and a single long period is judged once per period rather than hourly.
 */
export const MISSED_RUN_HOURS = 26;
/** Lambda's own metrics. */
const LAMBDA_NAMESPACE = "AWS/Lambda";

/** Which Lambda the alarms watch. */
export type AlarmedFunction = "config-rule" | "rotator";

/** Inputs of {@link createRunAlarms}. */
export interface RunAlarmsArgs {
  readonly kind: AlarmedFunction;
  /** Alarm names start with this (e.g. `keyage-access-key-age-rotator`); it must start with the rule name (see {@link alarmPublishStatement}). */
  readonly namePrefix: string;
  readonly functionName: pulumi.Input<string>;
  /** The notification topic; absent: alarms without actions (console only). */
  readonly topicArn?: pulumi.Input<string>;
  /** Default true. False: no missed-run alarm (a schedule less often than daily cannot be watched this way). */
  readonly missedRun?: boolean;
  readonly tags: Record<string, string>;
}

/** One alarm as data, before it becomes a resource (tests read the same list). */
export interface AlarmSpec {
  /** Suffix of the alarm's name and of its resource name. */
  readonly suffix: string;
  readonly description: string;
  readonly namespace: string;
  readonly metricName: ConfigRuleMetric | RotatorMetric | "Errors";
  readonly comparisonOperator: "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
  readonly threshold: number;
  readonly evaluationPeriods: number;
  readonly treatMissingData: "breaching" | "notBreaching";
  /** Also notify when the alarm clears. */
  readonly notifyOk: boolean;
  /** Period in seconds; default {@link ALARM_PERIOD_SECONDS}. */
  readonly periodSeconds?: number;
}

const WHAT: Record<AlarmedFunction, string> = { "config-rule": "keyage Config rule", rotator: "keyage rotator" };

/**
 * The alarms of one Lambda, as data: errors, missed run, partial run, and for the rotator `Rotation
 * Blocked`. The Config rule's missed-run alarm watches `ScheduledRunCompleted` (a change-triggered run
 * reads one user and says nothing about the daily sweep), the rotator's `RunCompleted`.
 */
export function alarmSpecs(kind: AlarmedFunction, missedRun = true): AlarmSpec[] {
  const what = WHAT[kind];
  const whenever = { comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1, evaluationPeriods: 1, treatMissingData: "notBreaching", notifyOk: false } as const;
  const specs: AlarmSpec[] = [
    {
      ...whenever,
      suffix: "errors",
      description: `${what}: a run failed as a whole (Lambda error); it is not retried. See the log group and keyage's operations guide, "Alarms".`,
      namespace: LAMBDA_NAMESPACE,
      metricName: "Errors",
    },
  ];
  if (missedRun) {
    specs.push({
      suffix: "missed-run",
      description: `${what}: no ${kind === "config-rule" ? "scheduled " : ""}run completed in ${MISSED_RUN_HOURS} hours. See keyage's operations guide, "Alarms".`,
      namespace: METRIC_NAMESPACE,
      metricName: kind === "config-rule" ? "ScheduledRunCompleted" : "RunCompleted",
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      evaluationPeriods: MISSED_RUN_HOURS,
      treatMissingData: "breaching",
      notifyOk: true,
    });
  }
  specs.push({
    ...whenever,
    suffix: "partial",
    description: `${what}: a run left ${kind === "config-rule" ? "users unevaluated (unreadable, deadline) or evaluations unwritten" : "users or accounts unhandled"}; the next run tries again. See keyage's operations guide, "Alarms".`,
    namespace: METRIC_NAMESPACE,
    metricName: "Partial",
  });
  if (kind === "rotator") {
    specs.push({
      ...whenever,
      suffix: "blocked",
      description: `${what}: a rotation is blocked (Rotation Blocked event); it stays blocked until fixed. See keyage's operations guide, "Alarms".`,
      namespace: METRIC_NAMESPACE,
      metricName: "Blocked",
    });
  }
  return specs;
}

/**
 * Creates the alarms of one Lambda ({@link alarmSpecs}), named `<namePrefix>-<suffix>`.
 *
 * @example createRunAlarms("keyage", { kind: "config-rule", namePrefix: "keyage-access-key-age", functionName: fn.name, topicArn, tags }, { parent: this });
 */
export function createRunAlarms(stem: string, args: RunAlarmsArgs, opts: pulumi.CustomResourceOptions): aws.cloudwatch.MetricAlarm[] {
  return alarmSpecs(args.kind, args.missedRun ?? true).map((spec) => createAlarm(stem, spec, args, opts));
}

/** One alarm of {@link AlarmSpec} on one function's metric, named `<namePrefix>-<suffix>`, notifying `topicArn` when given. */
function createAlarm(
  stem: string,
  spec: AlarmSpec,
  args: { readonly namePrefix: string; readonly functionName: pulumi.Input<string>; readonly topicArn?: pulumi.Input<string>; readonly tags: Record<string, string> },
  opts: pulumi.CustomResourceOptions,
): aws.cloudwatch.MetricAlarm {
  const actions = args.topicArn === undefined ? [] : [args.topicArn];
  return new aws.cloudwatch.MetricAlarm(`${stem}-alarm-${spec.suffix}`, {
    name: `${args.namePrefix}-${spec.suffix}`,
    alarmDescription: spec.description,
    namespace: spec.namespace,
    metricName: spec.metricName,
    dimensions: { [METRIC_DIMENSION]: args.functionName },
    statistic: "Sum",
    period: spec.periodSeconds ?? ALARM_PERIOD_SECONDS,
    evaluationPeriods: spec.evaluationPeriods,
    datapointsToAlarm: spec.evaluationPeriods,
    comparisonOperator: spec.comparisonOperator,
    threshold: spec.threshold,
    treatMissingData: spec.treatMissingData,
    actionsEnabled: true,
    alarmActions: actions,
    okActions: spec.notifyOk ? actions : [],
    tags: args.tags,
  }, opts);
}

/** Minutes of failing ticks before the re-evaluation tick's alarm goes off (a change then waits longer than promised). */
export const TICK_FAILING_MINUTES = 15;

/**
 * `keyage:reevaluateOnChange`'s tick (`<namePrefix>-recheck`, every 5 minutes) failing in each 5-minute
 * period for {@link TICK_FAILING_MINUTES} minutes: key changes no longer start a re-evaluation. One
 * transient error (the next tick retries) does not alarm.
 */
export const TICK_ALARM: AlarmSpec = {
  suffix: "recheck-errors",
  description: `keyage re-evaluation tick: failing for ${TICK_FAILING_MINUTES} minutes, so IAM key changes no longer start the Config rule (the daily run still does). See keyage's operations guide, "Alarms".`,
  namespace: LAMBDA_NAMESPACE,
  metricName: "Errors",
  comparisonOperator: "GreaterThanOrEqualToThreshold",
  threshold: 1,
  periodSeconds: 300,
  evaluationPeriods: TICK_FAILING_MINUTES / 5,
  treatMissingData: "notBreaching",
  notifyOk: true,
};

/** The {@link TICK_ALARM} on the tick function, named `<namePrefix>-recheck-errors`. */
export function createTickAlarm(stem: string, args: { readonly namePrefix: string; readonly functionName: pulumi.Input<string>; readonly topicArn?: pulumi.Input<string>; readonly tags: Record<string, string> }, opts: pulumi.CustomResourceOptions): aws.cloudwatch.MetricAlarm {
  return createAlarm(stem, TICK_ALARM, args, opts);
}

/** The topic policy statement that lets CloudWatch publish the alarms named `<ruleName>-*` of this account (and only those). */
export function alarmPublishStatement(input: { topicArn: string; partition: string; region: string; accountId: string; ruleName: string }): object {
  return {
    Sid: "KeyageAlarmsPublish",
    Effect: "Allow",
    Principal: { Service: "cloudwatch.amazonaws.com" },
    Action: ["sns:Publish"],
    Resource: input.topicArn,
    Condition: {
      ArnLike: { "aws:SourceArn": `arn:${input.partition}:cloudwatch:${input.region}:${input.accountId}:alarm:${input.ruleName}-*` },
      StringEquals: { "aws:SourceAccount": input.accountId },
    },
  };
}

/**
 * The on-failure destination of a Lambda: the grant on its role, to wait for before the
 * FunctionEventInvokeConfig (Lambda checks the role's permission when the destination is set), and the
 * `destinationConfig` to give it. Nothing when there is no topic.
 */
export function onFailureDestination(
  stem: string,
  role: aws.iam.Role,
  topicArn: pulumi.Input<string> | undefined,
  opts: pulumi.CustomResourceOptions,
): { grant?: aws.iam.RolePolicy; destinationConfig?: aws.types.input.lambda.FunctionEventInvokeConfigDestinationConfig } {
  if (topicArn === undefined) return {};
  const grant = new aws.iam.RolePolicy(`${stem}-on-failure`, {
    role: role.id,
    policy: pulumi.output(topicArn).apply((arn) => JSON.stringify(onFailurePublishPolicy(arn))),
  }, opts);
  return { grant, destinationConfig: { onFailure: { destination: topicArn } } };
}

/** Inputs of {@link createNotificationTopic}. */
export interface NotificationTopicArgs {
  /** The name stem (`resourceStem(ruleName)`: always starts with `keyage-`, as the deployer policy requires). */
  readonly ruleName: string;
  readonly email?: string;
  readonly tags: Record<string, string>;
}

/** The notification topic when there is no rotator (whose events topic serves otherwise). */
export interface NotificationTopic {
  readonly topic: aws.sns.Topic;
  readonly policy: aws.sns.TopicPolicy;
  readonly subscription?: aws.sns.TopicSubscription;
}

/**
 * Without the rotator, the Config rule's alarms still need a topic when `keyage:notificationEmail` (or
 * `keyage:notificationTopic`) is set: `<stem>-alarms`, which only this account's keyage alarms may
 * publish to (the Lambda's on-failure destination publishes with its role's grant), with the address
 * subscribed.
 */
export function createNotificationTopic(stem: string, args: NotificationTopicArgs, opts?: pulumi.CustomResourceOptions): NotificationTopic {
  const topic = new aws.sns.Topic(`${stem}-alarms`, { name: `${args.ruleName}-alarms`, tags: args.tags }, opts);
  const partition = aws.getPartitionOutput({}, opts).partition;
  const accountId = aws.getCallerIdentityOutput({}, opts).accountId;
  const region = aws.getRegionOutput({}, opts).region;
  const policy = new aws.sns.TopicPolicy(`${stem}-alarms`, {
    arn: topic.arn,
    policy: pulumi.all([topic.arn, partition, region, accountId]).apply(([topicArn, p, r, a]) =>
      JSON.stringify({ Version: "2012-10-17", Statement: [alarmPublishStatement({ topicArn, partition: p, region: r, accountId: a, ruleName: args.ruleName })] }),
    ),
  }, opts);
  const subscription = args.email ? new aws.sns.TopicSubscription(`${stem}-alarms-email`, { topic: topic.arn, protocol: "email", endpoint: args.email }, opts) : undefined;
  return { topic, policy, ...(subscription ? { subscription } : {}) };
}

/**
 * True when `schedule` (an EventBridge Scheduler expression) runs at least once a day, so the 26-hour
 * missed-run alarm fits it: `rate(…)` of at most a day, or a `cron(…)` on every day of the month and
 * week. Anything else (weekly, `at(…)` once) gets no missed-run alarm rather than one always going off.
 */
export function runsDaily(schedule: string): boolean {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule);
  if (rate) {
    const hours = Number(rate[1]) * (rate[2]!.startsWith("minute") ? 1 / 60 : rate[2]!.startsWith("hour") ? 1 : 24);
    return hours <= 24;
  }
  const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+)(?: (\S+))?\)$/.exec(schedule);
  if (cron) {
    const [, , , dom, month, dow] = cron;
    const every = (f: string | undefined) => f === "*" || f === "?";
    return every(dom) && every(month) && every(dow);
  }
  return false;
}
