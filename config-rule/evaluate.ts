/**
 * One run of the Config rule: parse and validate, read IAM, evaluate with `shared/`, write to Config.
 * Clients, clock, sleep and logger are injected so every path is testable; `index.ts` only wires the
 * real ones.
 */
import type { ConfigServiceClient, Evaluation } from "@aws-sdk/client-config-service";
import type { IAMClient } from "@aws-sdk/client-iam";
import { evaluateUser, truncate, type UserVerdict } from "../shared";
import type { ClientFactory } from "../aws/clients";
import { describeError } from "../aws/errors";
import { EventError } from "./errors";
import { GONE_STATUSES, parseEvent, parseRuleParameters, RESOURCE_TYPE, type ChangeInvocation, type MessageType, type RuleEvent, type RuleSettings } from "./event";
import { previouslyEvaluated, putEvaluations } from "./evaluations";
import { listAccessKeys, readAccount, type ReadAccountOptions } from "../aws/iam";
import { jsonLogger, type Logger } from "./log";
import { CallCounter } from "../aws/calls";

/** The part of the Lambda context the rule uses. */
export interface LambdaContext {
  /** Milliseconds before Lambda stops the invocation. */
  getRemainingTimeInMillis(): number;
  readonly awsRequestId?: string;
}

/** Everything {@link evaluate} needs from outside. Only `clients` is required. */
export interface EvaluateDeps {
  readonly clients: ClientFactory;
  /** Clock, epoch ms: ages are measured at `now()` when the reads are done. Default `Date.now`. */
  readonly now?: () => number;
  /** Default: JSON lines on stdout at level info. */
  readonly log?: Logger;
  /** Pauses for backoff and report polling. Default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Jitter source for backoff. Default `Math.random`. */
  readonly random?: () => number;
  /**
   * Stop reading when fewer than this many ms remain, keeping them for PutEvaluations. Default: a quarter
   * of the time left at the start, between 1 s and 10 s.
   */
  readonly reserveMs?: number;
  /** See {@link ReadAccountOptions.reportFreshnessMs}. Default 15 min. */
  readonly reportFreshnessMs?: number;
  /** ListAccessKeys calls in flight at once. Default 8. */
  readonly concurrency?: number;
  /** PutEvaluations calls in flight at once. Default 4. */
  readonly putConcurrency?: number;
  /** Tries per PutEvaluations batch. Default 5. */
  readonly putAttempts?: number;
  /** See {@link ReadAccountOptions.reportWait}. */
  readonly reportWait?: ReadAccountOptions["reportWait"];
}

/** Evaluations per compliance type. */
export type VerdictCounts = Record<"COMPLIANT" | "NON_COMPLIANT" | "NOT_APPLICABLE", number>;

/** What a run did; also logged as the run's summary line. */
export interface RunSummary {
  readonly messageType: MessageType;
  readonly testMode: boolean;
  /** Users evaluated (COMPLIANT or NON_COMPLIANT). */
  readonly users: number;
  readonly verdicts: VerdictCounts;
  /** Evaluations Config accepted. */
  readonly written: number;
  /** Users not evaluated because time ran out. */
  readonly skipped: readonly string[];
  /** True when some users were not evaluated or earlier results could not be checked: see the warn lines. */
  readonly partial: boolean;
  /** AWS calls made, by action. */
  readonly calls: Record<string, number>;
  readonly durationMs: number;
  /** The evaluations sent, in order. */
  readonly evaluations: readonly Evaluation[];
}

const LOGGED_NAMES = 100;

function evaluation(resourceId: string, compliance: Evaluation["ComplianceType"], annotation: string, at: Date): Evaluation {
  return { ComplianceResourceType: RESOURCE_TYPE, ComplianceResourceId: resourceId, ComplianceType: compliance, Annotation: truncate(annotation), OrderingTimestamp: at };
}

function fromVerdict(resourceId: string, verdict: UserVerdict, at: Date): Evaluation {
  return evaluation(resourceId, verdict.compliance, verdict.annotation, at);
}

function count(evaluations: readonly Evaluation[]): VerdictCounts {
  const counts: VerdictCounts = { COMPLIANT: 0, NON_COMPLIANT: 0, NOT_APPLICABLE: 0 };
  for (const e of evaluations) if (e.ComplianceType && e.ComplianceType in counts) counts[e.ComplianceType as keyof VerdictCounts] += 1;
  return counts;
}

/** The role to assume for an organization rule, or undefined. */
function roleArn(event: RuleEvent, settings: RuleSettings): string | undefined {
  if (!settings.executionRoleName) return undefined;
  if (!event.accountId) throw new EventError("executionRoleName is set but the event names no accountId to assume it in");
  return `arn:${event.partition}:iam::${event.accountId}:role/${settings.executionRoleName}`;
}

interface Plan {
  evaluations: Evaluation[];
  skipped: string[];
  partial: boolean;
  users: number;
  /** Evaluations written (periodic runs write as they go). */
  written: number;
  /** The first write failure of a periodic run, raised after the rest was written. */
  failure?: unknown;
}

/** The one evaluation of a change notification. */
async function changed(event: RuleEvent, settings: RuleSettings, iam: IAMClient, calls: CallCounter, now: () => number): Promise<Evaluation> {
  const invocation = event.invocation as ChangeInvocation;
  const at = invocation.orderingTimestamp;
  if (event.eventLeftScope) return evaluation(invocation.resourceId, "NOT_APPLICABLE", "The user left the rule's scope.", at);
  if (GONE_STATUSES.includes(invocation.status)) {
    return evaluation(invocation.resourceId, "NOT_APPLICABLE", `The user is not applicable (configuration item status ${invocation.status}).`, at);
  }
  const name = invocation.resourceName as string;
  const keys = await listAccessKeys(iam, name, calls);
  if (keys === undefined) return evaluation(invocation.resourceId, "NOT_APPLICABLE", "The user no longer exists.", at);
  return fromVerdict(invocation.resourceId, evaluateUser({ user: name, keys }, settings.params, now()), at);
}

/**
 * Handles one Config rule invocation. Throws (and writes nothing) on a malformed event or bad rule
 * parameters; throws after writing what it could when Config rejects evaluations. Logs one summary line
 * per run, whatever the outcome.
 */
export async function evaluate(rawEvent: unknown, context: LambdaContext, deps: EvaluateDeps): Promise<RunSummary> {
  const now = deps.now ?? Date.now;
  const started = now();
  const log = deps.log ?? jsonLogger();
  const calls = new CallCounter();

  let event: RuleEvent;
  let settings: RuleSettings;
  try {
    event = parseEvent(rawEvent);
    settings = parseRuleParameters(event.ruleParameters);
    if (event.invocation.kind === "change" && !event.eventLeftScope && !GONE_STATUSES.includes(event.invocation.status) && !event.invocation.resourceName) {
      throw new EventError(`the configuration item of ${event.invocation.resourceId} has no resourceName (user name) to read the keys of`);
    }
  } catch (err) {
    log("error", "rejected the invocation; no evaluations written", { error: describeError(err) });
    throw err;
  }

  const { invocation } = event;
  const base = { messageType: invocation.messageType, configRuleName: event.configRuleName, accountId: event.accountId, testMode: event.testMode };
  log("info", "run started", { ...base, maxAccessKeyAge: settings.params.maxAgeDays, warnDays: settings.params.warnDays, exemptions: settings.params.exemptions.length });

  const initialRemaining = context.getRemainingTimeInMillis();
  const reserveMs = deps.reserveMs ?? Math.min(10_000, Math.max(1000, initialRemaining / 4));
  const timeLeft = (): boolean => context.getRemainingTimeInMillis() > reserveMs;

  let plan: Plan | undefined;
  let written = 0;
  let failure: unknown;
  let dispose: (() => void) | undefined;
  try {
    const { iam, config, ...rest } = await deps.clients(roleArn(event, settings), calls);
    dispose = rest.dispose;
    const put = (list: readonly Evaluation[]): Promise<{ written: number }> =>
      putEvaluations(config, list, {
        resultToken: event.resultToken,
        testMode: event.testMode,
        calls,
        log,
        ...(deps.putConcurrency !== undefined ? { concurrency: deps.putConcurrency } : {}),
        ...(deps.putAttempts !== undefined ? { attempts: deps.putAttempts } : {}),
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
        ...(deps.random ? { random: deps.random } : {}),
        remainingMs: () => context.getRemainingTimeInMillis(),
      });
    if (invocation.kind === "scheduled") {
      plan = await periodic(event, settings, config, deps, put, { iam, calls, log, timeLeft, remainingMs: () => context.getRemainingTimeInMillis(), reserveMs, now });
      written = plan.written;
      if (plan.failure) throw plan.failure;
    } else {
      const one = await changed(event, settings, iam, calls, now);
      plan = { evaluations: [one], skipped: [], partial: false, users: one.ComplianceType === "NOT_APPLICABLE" ? 0 : 1, written: 0 };
      written = (await put(plan.evaluations)).written;
    }
  } catch (err) {
    failure = err;
  } finally {
    dispose?.();
  }

  const evaluations = plan?.evaluations ?? [];
  const summary: RunSummary = {
    messageType: invocation.messageType,
    testMode: event.testMode,
    users: plan?.users ?? 0,
    verdicts: count(evaluations),
    written,
    skipped: plan?.skipped ?? [],
    partial: plan?.partial ?? false,
    calls: calls.toJSON(),
    durationMs: now() - started,
    evaluations,
  };
  log(failure ? "error" : summary.partial ? "warn" : "info", "run summary", {
    ...base,
    users: summary.users,
    verdicts: summary.verdicts,
    evaluations: evaluations.length,
    written,
    skipped: summary.skipped.length,
    partial: summary.partial,
    calls: summary.calls,
    apiCalls: calls.total(),
    durationMs: summary.durationMs,
    ...(failure ? { error: describeError(failure) } : {}),
  });
  if (failure) throw failure;
  return summary;
}

async function periodic(
  event: RuleEvent,
  settings: RuleSettings,
  config: ConfigServiceClient,
  deps: EvaluateDeps,
  put: (list: readonly Evaluation[]) => Promise<{ written: number }>,
  run: { iam: IAMClient; calls: CallCounter; log: Logger; timeLeft: () => boolean; remainingMs: () => number; reserveMs: number; now: () => number },
): Promise<Plan> {
  const at = event.invocation.orderingTimestamp;
  const { calls, log } = run;
  // Earlier results are read while IAM is being read: users that no longer exist get NOT_APPLICABLE.
  const sweep = event.configRuleName
    ? previouslyEvaluated(config, event.configRuleName, { calls, timeLeft: run.timeLeft }).then(
        (ok) => ok,
        (err: unknown) => ({ error: describeError(err) }),
      )
    : Promise.resolve({ error: "the event names no configRuleName" });
  let snapshot;
  try {
    snapshot = await readAccount(run.iam, {
      now: run.now,
      params: settings.params,
      remainingMs: run.remainingMs,
      reserveMs: run.reserveMs,
      ...(deps.reportFreshnessMs !== undefined ? { reportFreshnessMs: deps.reportFreshnessMs } : {}),
      ...(deps.concurrency !== undefined ? { concurrency: deps.concurrency } : {}),
      ...(deps.reportWait ? { reportWait: deps.reportWait } : {}),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      log,
    });
  } catch (err) {
    await sweep; // never rejects; settle it before failing the run
    throw err;
  }
  calls.merge(snapshot.calls);
  const nowMs = run.now();
  const evaluations = snapshot.users.map((u) => fromVerdict(u.userId, evaluateUser(u, settings.params, nowMs), at));
  const users = evaluations.length;
  for (const d of snapshot.deleted) evaluations.push(evaluation(d.userId, "NOT_APPLICABLE", "The user was deleted during the evaluation.", at));
  // Write the users' verdicts while earlier results are still being paged through; ghosts follow.
  const writes: Promise<{ written: number }>[] = [];
  const write = (list: readonly Evaluation[]): void => {
    const p = put(list);
    // Settled below with allSettled; a handler now keeps a rejection during `await sweep` from being
    // "unhandled", which Lambda turns into Runtime.UnhandledPromiseRejection (no summary, run dropped).
    p.catch(() => undefined);
    writes.push(p);
  };
  if (evaluations.length > 0) write([...evaluations]);

  let partial = false;
  const earlier = await sweep;
  if ("error" in earlier) {
    partial = true;
    log("warn", "could not read earlier results; users deleted since are not marked NOT_APPLICABLE this run", { reason: earlier.error });
  } else if (!earlier.complete || !snapshot.listComplete) {
    partial = true;
    log("warn", "deadline: earlier results not fully checked; users deleted since are not marked NOT_APPLICABLE this run", {
      earlierResultsComplete: earlier.complete,
      listUsersComplete: snapshot.listComplete,
    });
  } else {
    const present = new Set(snapshot.listed.map((u) => u.userId));
    for (const d of snapshot.deleted) present.add(d.userId);
    const ghosts = [...earlier.resourceIds].filter((id) => !present.has(id)).map((id) => evaluation(id, "NOT_APPLICABLE", "The IAM user no longer exists.", at));
    if (ghosts.length > 0) {
      log("info", "users evaluated earlier no longer exist; marking them NOT_APPLICABLE", { count: ghosts.length });
      evaluations.push(...ghosts);
      write(ghosts);
    }
  }
  // Config records that a run finished when it receives its result token, even with nothing to say.
  if (writes.length === 0) write([]);
  if (snapshot.skipped.length > 0 || !snapshot.listComplete) {
    partial = true;
    log("warn", "deadline: stopped reading; these users are not evaluated this run", {
      skipped: snapshot.skipped.length,
      users: snapshot.skipped.slice(0, LOGGED_NAMES),
      ...(snapshot.skipped.length > LOGGED_NAMES ? { more: snapshot.skipped.length - LOGGED_NAMES } : {}),
      listUsersComplete: snapshot.listComplete,
    });
  }
  if (snapshot.reportUnavailable) log("info", "keys read with ListAccessKeys", { reason: snapshot.reportUnavailable });
  const outcomes = await Promise.allSettled(writes);
  let written = 0;
  let failure: unknown;
  for (const o of outcomes) {
    if (o.status === "fulfilled") written += o.value.written;
    else failure ??= o.reason;
  }
  return { evaluations, skipped: snapshot.skipped, partial, users, written, ...(failure !== undefined ? { failure } : {}) };
}
