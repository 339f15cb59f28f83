/**
 * Writing to AWS Config: PutEvaluations in batches of at most 100 with bounded retries, and reading the
 * rule's earlier results to find users that no longer exist.
 */
import { GetComplianceDetailsByConfigRuleCommand, PutEvaluationsCommand, type ConfigServiceClient, type Evaluation } from "@aws-sdk/client-config-service";
import { awsErrorName, describeError } from "../aws/errors";
import { PutEvaluationsError } from "./errors";
import { RESOURCE_TYPE } from "./event";
import type { Logger } from "./log";
import { backoff, CallCounter, pool, sleep as timerSleep } from "../aws/calls";

/** PutEvaluations accepts at most this many evaluations per call. */
export const MAX_BATCH = 100;

/** Error names that mean "slow down and try again". */
const THROTTLING = new Set(["ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"]);

/** Options of {@link putEvaluations}. */
export interface PutOptions {
  readonly resultToken: string;
  /** Sends `TestMode: true` (the TESTMODE token). */
  readonly testMode: boolean;
  readonly calls?: CallCounter;
  /** Batches in flight at once. Default 4. */
  readonly concurrency?: number;
  /** Tries per batch (first included), for throttling and FailedEvaluations. Default 5. */
  readonly attempts?: number;
  /** Backoff base and cap, ms. Default 200 and 5 000. */
  readonly backoffMs?: { readonly base?: number; readonly cap?: number };
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly log?: Logger;
  /** Time left before the Lambda is stopped (`getRemainingTimeInMillis`). Default: unlimited. */
  readonly remainingMs?: () => number;
  /** No backoff pause, and no new batch, that would leave less than this before the deadline. Default 1 000 ms. */
  readonly deadlineMarginMs?: number;
}

/**
 * Writes `evaluations` in batches of ≤ 100. A throttled batch, and the FailedEvaluations of a batch, are
 * retried with exponential backoff up to `attempts` tries. An empty list is still sent once (as rdklib
 * does), so Config records that the run finished. With `remainingMs`, no pause or batch runs into the
 * last `deadlineMarginMs` before the Lambda deadline: what is left counts as not written. Throws
 * {@link PutEvaluationsError} after every batch has been tried if any evaluation could not be written,
 * or at once on a non-retryable error.
 */
export async function putEvaluations(config: ConfigServiceClient, evaluations: readonly Evaluation[], options: PutOptions): Promise<{ written: number }> {
  const calls = options.calls ?? new CallCounter();
  const attempts = Math.max(1, options.attempts ?? 5);
  const base = options.backoffMs?.base ?? 200;
  const cap = options.backoffMs?.cap ?? 5000;
  const sleep = options.sleep ?? timerSleep;
  const batches: Evaluation[][] = [];
  for (let i = 0; i < evaluations.length; i += MAX_BATCH) batches.push(evaluations.slice(i, i + MAX_BATCH));
  if (batches.length === 0) batches.push([]);
  const margin = options.deadlineMarginMs ?? 1000;
  let written = 0;
  let failed = 0;
  let lastError = "";
  let deadline = "";

  await pool(batches, options.concurrency ?? 4, async (batch) => {
    let pending = batch;
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      // Retries must not outlive the Lambda: a run killed mid-backoff logs nothing and says nothing.
      const pause = attempt > 0 ? backoff(attempt, base, cap, options.random) : 0;
      const left = options.remainingMs?.();
      if (left !== undefined && left - pause < margin) {
        deadline = `; stopped with ${left} ms left before the Lambda deadline`;
        break;
      }
      if (pause > 0) await sleep(pause);
      try {
        calls.add("PutEvaluations");
        const out = await config.send(
          new PutEvaluationsCommand({ ResultToken: options.resultToken, Evaluations: pending, ...(options.testMode ? { TestMode: true } : {}) }),
        );
        const rejected = out.FailedEvaluations ?? [];
        written += pending.length - rejected.length;
        if (rejected.length === 0) return;
        // Config names failed evaluations by resource; retry exactly those.
        const ids = new Set(rejected.map((f) => `${f.ComplianceResourceType}|${f.ComplianceResourceId}`));
        pending = pending.filter((e) => ids.has(`${e.ComplianceResourceType}|${e.ComplianceResourceId}`));
        lastError = `${rejected.length} FailedEvaluations`;
        options.log?.("warn", "PutEvaluations returned FailedEvaluations; retrying them", { failed: rejected.length, attempt: attempt + 1 });
      } catch (cause) {
        const name = awsErrorName(cause);
        if (!THROTTLING.has(name)) {
          throw new PutEvaluationsError(`PutEvaluations failed: ${describeError(cause)}`, pending.length, { cause });
        }
        lastError = describeError(cause);
        options.log?.("warn", "PutEvaluations throttled; backing off", { attempt: attempt + 1, error: name });
      }
    }
    failed += pending.length;
  });
  if (failed > 0) {
    throw new PutEvaluationsError(`${failed} of ${evaluations.length} evaluations could not be written after ${attempts} attempts (last: ${lastError || "none"})${deadline}`, failed);
  }
  return { written };
}

/**
 * The resource ids of IAM users this rule has a COMPLIANT or NON_COMPLIANT result for
 * (GetComplianceDetailsByConfigRule, 100 per page). `complete` is false when `timeLeft()` turned false
 * before the last page.
 */
export async function previouslyEvaluated(
  config: ConfigServiceClient,
  configRuleName: string,
  options: { calls?: CallCounter; timeLeft?: () => boolean } = {},
): Promise<{ resourceIds: Set<string>; complete: boolean }> {
  const calls = options.calls ?? new CallCounter();
  const resourceIds = new Set<string>();
  let token: string | undefined;
  do {
    if (options.timeLeft && !options.timeLeft()) return { resourceIds, complete: false };
    calls.add("GetComplianceDetailsByConfigRule");
    const page = await config.send(
      new GetComplianceDetailsByConfigRuleCommand({
        ConfigRuleName: configRuleName,
        ComplianceTypes: ["COMPLIANT", "NON_COMPLIANT"],
        Limit: 100,
        ...(token ? { NextToken: token } : {}),
      }),
    );
    for (const r of page.EvaluationResults ?? []) {
      const q = r.EvaluationResultIdentifier?.EvaluationResultQualifier;
      if (q?.ResourceType === RESOURCE_TYPE && q.ResourceId) resourceIds.add(q.ResourceId);
    }
    token = page.NextToken;
  } while (token);
  return { resourceIds, complete: true };
}
