/**
 * Writing to AWS Config: PutEvaluations in batches of at most 100, and reading the rule's earlier results
 * (to find users that no longer exist, and to know what a skipped user still shows).
 */
import { GetComplianceDetailsByConfigRuleCommand, PutEvaluationsCommand, type ConfigServiceClient, type Evaluation } from "@aws-sdk/client-config-service";
import { DAY_MS } from "../shared";
import { describeError } from "../aws/errors";
import { PutEvaluationsError } from "./errors";
import { RESOURCE_TYPE } from "./event";
import type { Logger } from "../aws/log";
import { backoff, CallCounter, pool } from "../aws/calls";

/** PutEvaluations accepts at most this many evaluations per call. */
export const MAX_BATCH = 100;

/** Defaults of {@link WriterContext}'s tunables. */
export const WRITER_DEFAULTS = { concurrency: 4, attempts: 5, backoffBaseMs: 200, backoffCapMs: 5000, deadlineMarginMs: 1000 } as const;

/**
 * Everything the one writer of a run needs, built once per run (see `evaluate`). Throttling is not here:
 * the SDK client's retry strategy owns it (`SDK_MAX_ATTEMPTS`); this writer retries only what the SDK
 * cannot know about, FailedEvaluations, and keeps clear of the Lambda deadline.
 */
export interface WriterContext {
  readonly config: ConfigServiceClient;
  readonly resultToken: string;
  /** Sends `TestMode: true` (the TESTMODE token). */
  readonly testMode: boolean;
  readonly calls: CallCounter;
  readonly log: Logger;
  /** Batches in flight at once (default 4). */
  readonly concurrency: number;
  /** Tries per batch for its FailedEvaluations, the first included (default 5). */
  readonly attempts: number;
  /** Backoff between FailedEvaluations retries: base and cap, ms (default 200 and 5 000). */
  readonly backoffMs: { readonly base: number; readonly cap: number };
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  /** Time left before the Lambda is stopped (`getRemainingTimeInMillis`). */
  readonly remainingMs: () => number;
  /** No call or pause that would leave less than this before the deadline (default 1 000 ms). */
  readonly deadlineMarginMs: number;
}

/** What a write achieved: every evaluation is either written or failed. */
export interface WriteResult {
  readonly written: number;
  readonly failed: number;
}

/**
 * Writes `evaluations` in batches of ≤ 100. The FailedEvaluations of a batch are retried with exponential
 * backoff up to `attempts` tries. A batch Config rejects outright (after the SDK's own retries) is
 * counted as failed and the other batches are still sent. An empty list is still sent once (as rdklib
 * does), so Config records that the run finished. No call or pause runs into the last `deadlineMarginMs`
 * before the Lambda deadline: what is left counts as failed. Throws {@link PutEvaluationsError}, with the
 * true `written` and `failed` numbers, after every batch has been tried, if any evaluation was not written.
 */
export async function putEvaluations(ctx: WriterContext, evaluations: readonly Evaluation[]): Promise<WriteResult> {
  const batches: Evaluation[][] = [];
  for (let i = 0; i < evaluations.length; i += MAX_BATCH) batches.push(evaluations.slice(i, i + MAX_BATCH));
  if (batches.length === 0) batches.push([]);
  let written = 0;
  let failed = 0;
  const reasons = new Set<string>();
  let firstCause: unknown;

  await pool(batches, ctx.concurrency, async (batch) => {
    let pending = batch;
    for (let attempt = 0; attempt < ctx.attempts; attempt += 1) {
      // Retries must not outlive the Lambda: a run killed mid-backoff logs nothing and says nothing.
      const pause = attempt > 0 ? backoff(attempt, ctx.backoffMs.base, ctx.backoffMs.cap, ctx.random) : 0;
      const left = ctx.remainingMs();
      if (left - pause < ctx.deadlineMarginMs) {
        reasons.add(`stopped with ${left} ms left before the Lambda deadline`);
        break;
      }
      if (pause > 0) await ctx.sleep(pause);
      let rejected;
      try {
        ctx.calls.add("PutEvaluations");
        const out = await ctx.config.send(new PutEvaluationsCommand({ ResultToken: ctx.resultToken, Evaluations: pending, TestMode: ctx.testMode || undefined }));
        rejected = out.FailedEvaluations ?? [];
      } catch (cause) {
        // Already retried by the SDK if it was throttling; this batch is lost, the others still go.
        firstCause ??= cause;
        reasons.add(`PutEvaluations failed: ${describeError(cause)}`);
        ctx.log("warn", "PutEvaluations rejected a batch; sending the others", { evaluations: pending.length, error: describeError(cause) });
        break;
      }
      written += pending.length - rejected.length;
      if (rejected.length === 0) return;
      // Config names failed evaluations by resource; retry exactly those.
      const ids = new Set(rejected.map((f) => `${f.ComplianceResourceType}|${f.ComplianceResourceId}`));
      pending = pending.filter((e) => ids.has(`${e.ComplianceResourceType}|${e.ComplianceResourceId}`));
      reasons.add(`FailedEvaluations after ${ctx.attempts} attempts`);
      ctx.log("warn", "PutEvaluations returned FailedEvaluations; retrying them", { failed: rejected.length, attempt: attempt + 1 });
    }
    failed += pending.length;
  });
  if (failed > 0) {
    throw new PutEvaluationsError(`${failed} of ${evaluations.length} evaluations could not be written (${[...reasons].join("; ")})`, { written, failed }, firstCause === undefined ? undefined : { cause: firstCause });
  }
  return { written, failed };
}

/** An earlier result of this rule for one user, as Config holds it. */
export interface EarlierResult {
  readonly complianceType: string;
  /** When Config recorded it (`ResultRecordedTime`), when known. */
  readonly recordedAt?: Date;
  readonly annotation?: string;
}

/** The rule's earlier results, by resource id (UserId); `complete` is false when the deadline cut the paging short. */
export interface EarlierResults {
  readonly results: Map<string, EarlierResult>;
  readonly complete: boolean;
}

/**
 * The rule's COMPLIANT and NON_COMPLIANT results for IAM users (GetComplianceDetailsByConfigRule, 100 per
 * page), with when each was recorded. `complete` is false when `timeLeft()` turned false before the last page.
 */
export async function previouslyEvaluated(
  ctx: { config: ConfigServiceClient; calls: CallCounter; timeLeft: () => boolean },
  configRuleName: string,
): Promise<EarlierResults> {
  const results = new Map<string, EarlierResult>();
  let token: string | undefined;
  do {
    if (!ctx.timeLeft()) return { results, complete: false };
    ctx.calls.add("GetComplianceDetailsByConfigRule");
    const page = await ctx.config.send(
      new GetComplianceDetailsByConfigRuleCommand({ ConfigRuleName: configRuleName, ComplianceTypes: ["COMPLIANT", "NON_COMPLIANT"], Limit: 100, NextToken: token }),
    );
    for (const r of page.EvaluationResults ?? []) {
      const q = r.EvaluationResultIdentifier?.EvaluationResultQualifier;
      if (q?.ResourceType !== RESOURCE_TYPE || !q.ResourceId) continue;
      results.set(q.ResourceId, { complianceType: r.ComplianceType ?? "", recordedAt: r.ResultRecordedTime, annotation: r.Annotation });
    }
    token = page.NextToken;
  } while (token);
  return { results, complete: true };
}

/** Evaluations split by whether they change what Config shows. */
export interface WriteSelection {
  /** New, changed (ComplianceType or annotation) or due for a refresh: to be written. */
  readonly changed: Evaluation[];
  /** What Config already shows, recorded recently enough: not written. */
  readonly unchanged: Evaluation[];
}

/**
 * Keeps the evaluations that change what Config shows: a resource with no earlier result, a different
 * ComplianceType (NOT_APPLICABLE for a deleted user always differs: earlier results are only COMPLIANT
 * or NON_COMPLIANT), a different annotation, or an earlier result due for a refresh ({@link refreshDue}).
 * Everything else is `unchanged`. `earlier` must be complete: a missing result means "new" only when
 * every result was read.
 */
export function selectChanged(evaluations: readonly Evaluation[], earlier: EarlierResults, refreshDays: number, now: number): WriteSelection {
  const changed: Evaluation[] = [];
  const unchanged: Evaluation[] = [];
  for (const e of evaluations) {
    const id = e.ComplianceResourceId ?? "";
    const before = earlier.results.get(id);
    const same = before !== undefined && before.complianceType === e.ComplianceType && before.annotation === e.Annotation && !refreshDue(before, refreshDays, now, id);
    (same ? unchanged : changed).push(e);
  }
  return { changed, unchanged };
}

/**
 * Where in each `refreshDays` cycle a resource's refresh falls: a fraction in [0, 1) from its id (FNV-1a,
 * then MurmurHash3's finaliser so that ids differing in one character land far apart), the same on every
 * run and in every Lambda, so it needs no state.
 */
export function refreshPhase(resourceId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < resourceId.length; i += 1) {
    h ^= resourceId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/** The resource's latest refresh point at or before `now` (epoch ms): see {@link refreshDue}. */
export function lastRefreshPoint(resourceId: string, refreshDays: number, now: number): number {
  const cycle = refreshDays * DAY_MS;
  const phase = refreshPhase(resourceId) * cycle;
  return Math.floor((now - phase) / cycle) * cycle + phase;
}

/**
 * True when an earlier result must be written again whatever it says: it was recorded at an unknown
 * time, or the resource's own refresh point has passed since it was recorded. Each resource's refresh
 * points are `refreshDays` apart, offset by its {@link refreshPhase}: so a month after a first run that
 * wrote every user, the refreshes fall evenly over the days instead of all on one (a burst of every user
 * on day `refreshDays + 1`), and a result is never older than `refreshDays` plus one run interval. A
 * result written because it changed is refreshed at the resource's next point (up to `refreshDays`
 * later), then every `refreshDays`. Without a `resourceId` the phase is 0.
 */
export function refreshDue(before: EarlierResult, refreshDays: number, now: number, resourceId = ""): boolean {
  if (before.recordedAt === undefined) return true;
  return before.recordedAt.getTime() < lastRefreshPoint(resourceId, refreshDays, now);
}
