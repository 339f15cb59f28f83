/**
 * keyage's run figures as CloudWatch metrics, in the embedded metric format (EMF): a `_aws` block added
 * to the run's existing JSON summary line tells CloudWatch Logs to turn the named top-level numbers into
 * metrics, so no PutMetricData call (and no permission for one) is needed. The deploy program's alarms
 * are built from the same names, namespace and dimension, so the two cannot drift apart.
 *
 * Every metric is a Count, one data point per run, summed per period by the alarms. Pure: the caller
 * passes the time.
 */

/** The CloudWatch namespace of every keyage metric. */
export const METRIC_NAMESPACE = "keyage";
/** The one dimension: the Lambda function's name, so two deployments in one account never mix. */
export const METRIC_DIMENSION = "FunctionName";

/**
 * The Config rule's metrics, one data point per run:
 * - `RunCompleted`: 1 when the run finished (whatever it found), 0 when it failed as a whole;
 * - `ScheduledRunCompleted`: the same, for the scheduled (periodic) runs only, which the "no run" alarm
 *   watches (a change-triggered run reads one user and says nothing about the daily sweep);
 * - `Users`, `NonCompliant`, `Written`, `Failed` (evaluations Config did not accept), `Unreadable`
 *   (users whose keys could not be read), `Skipped` (users the deadline left), `StaleResults`;
 * - `Partial`: 1 when some user was not evaluated or some evaluation not written, else 0.
 */
export const CONFIG_RULE_METRICS = [
  "RunCompleted", "ScheduledRunCompleted", "Users", "NonCompliant", "Written", "Failed", "Unreadable", "Skipped", "StaleResults", "Partial",
] as const;
export type ConfigRuleMetric = (typeof CONFIG_RULE_METRICS)[number];

/**
 * The scheduled rotator's metrics, one data point per run (an organization run: one for the whole run,
 * summed over its accounts):
 * - `RunCompleted`: 1 for every run that finished;
 * - `Users`, `OptedIn`, `Created` (new keys; planned ones in plan mode), `Deactivated`, `Deleted`,
 *   `RolledBack`, `Blocked` (users that got a `Rotation Blocked` event), `FailedUsers`, `SkippedUsers`,
 *   `EventsUnpublished`;
 * - organization mode: `UnreachableAccounts` (member role could not be assumed), `FailedAccounts`,
 *   `NotReachedAccounts` (the deadline came first); 0 in one account;
 * - `Partial`: 1 when some user or account was not handled, else 0.
 */
export const ROTATOR_METRICS = [
  "RunCompleted", "Users", "OptedIn", "Created", "Deactivated", "Deleted", "RolledBack", "Blocked", "FailedUsers", "SkippedUsers",
  "EventsUnpublished", "UnreachableAccounts", "FailedAccounts", "NotReachedAccounts", "Partial",
] as const;
export type RotatorMetric = (typeof ROTATOR_METRICS)[number];

/** The `_aws` block of an EMF line. */
export interface EmfMetadata {
  readonly Timestamp: number;
  readonly CloudWatchMetrics: readonly {
    readonly Namespace: string;
    readonly Dimensions: readonly (readonly string[])[];
    readonly Metrics: readonly { readonly Name: string; readonly Unit: "Count" }[];
  }[];
}

/**
 * The fields to spread into a summary log line to make it an EMF record: `_aws`, the dimension
 * (`FunctionName`) and one top-level number per metric, in `names` order. A value that is not a finite
 * number is written as 0, so the line always stays valid EMF.
 *
 * @example
 * log("info", "run summary", { ...figures, ...embeddedMetrics("keyage-evaluator", CONFIG_RULE_METRICS, values, now) });
 */
export function embeddedMetrics<N extends string>(
  functionName: string,
  names: readonly N[],
  values: Readonly<Record<N, number>>,
  timestamp: number,
): { _aws: EmfMetadata; FunctionName: string } & Record<N, number> {
  const numbers = Object.fromEntries(names.map((n) => [n, Number.isFinite(values[n]) ? values[n] : 0])) as Record<N, number>;
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [{ Namespace: METRIC_NAMESPACE, Dimensions: [[METRIC_DIMENSION]], Metrics: names.map((Name) => ({ Name, Unit: "Count" as const })) }],
    },
    FunctionName: functionName,
    ...numbers,
  };
}
