/**
 * One run of the Config rule: parse and validate, read IAM, evaluate with `shared/`, write to Config.
 * A run returns what it found (its evaluations, and whether it is partial); one writer sends them.
 * Clients, clock, sleep and logger are injected so every path is testable; `index.ts` only wires the
 * real ones.
 */
import type { ConfigServiceClient, Evaluation } from "@aws-sdk/client-config-service";
import type { IAMClient } from "@aws-sdk/client-iam";
import { configAnnotation, evaluateUser, truncate, type RuleParams, type UserKeys } from "../shared";
import type { ClientFactory } from "../aws/clients";
import { describeError } from "../aws/errors";
import { EventError, PutEvaluationsError } from "./errors";
import { GONE_STATUSES, parseEvent, parseRuleParameters, RESOURCE_TYPE, type ChangeInvocation, type MessageType, type RuleEvent, type RuleSettings } from "./event";
import { previouslyEvaluated, putEvaluations, refreshDue, selectChanged, WRITER_DEFAULTS, type EarlierResults, type WriteResult, type WriterContext } from "./evaluations";
import { withLastUse } from "../aws/usage";
import { listAccessKeys, readAccount, type ChangedUsers, type IamUserRecord, type ListedUser, type ReadAccountOptions, type UnreadableUser } from "../aws/iam";
import { jsonLogger, type Logger } from "../aws/log";
import { CallCounter, sleep as timerSleep } from "../aws/calls";
import { CONFIG_RULE_METRICS, embeddedMetrics } from "../shared/metrics";
import { acknowledgeChanges, drainChanges, type ChangeQueue, type DrainedChanges } from "./changes";

/** The part of the Lambda context the rule uses. */
export interface LambdaContext {
  /** Milliseconds before Lambda stops the invocation. */
  getRemainingTimeInMillis(): number;
  readonly awsRequestId?: string;
  /**
   * The function's name (Lambda sets it). When present, the run's summary line also carries the run's
   * figures as CloudWatch metrics (embedded metric format, namespace `keyage`, dimension `FunctionName`).
   */
  readonly functionName?: string;
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
  /** Jitter for backoff, and where a run starts reading the users not due for a write. Default `Math.random`. */
  readonly random?: () => number;
  /**
   * Stop reading when fewer than this many ms remain, keeping them for PutEvaluations. Default: a quarter
   * of the time left at the start, between 1 s and 10 s. Writes stop only at a quarter of the reserve
   * (at most 1 s), so the reserve is there for the writes.
   */
  readonly reserveMs?: number;
  /** See {@link ReadAccountOptions.reportFreshnessMs}. Default 15 min. */
  readonly reportFreshnessMs?: number;
  /** ListAccessKeys calls in flight at once. Default 8. */
  readonly concurrency?: number;
  /** PutEvaluations calls in flight at once. Default 4. */
  readonly putConcurrency?: number;
  /** Tries per PutEvaluations batch for its FailedEvaluations (throttling is the SDK's). Default 5. */
  readonly putAttempts?: number;
  /** See {@link ReadAccountOptions.reportWait}. */
  readonly reportWait?: ReadAccountOptions["reportWait"];
  /**
   * The changes queue of `keyage:reevaluateOnChange` (see `changes.ts`): a scheduled run that is not a
   * TESTMODE run and assumes no role reads it, confirms the users it names live, and deletes what it
   * read once their results are written. Default: none (index.ts sets it from
   * `KEYAGE_CHANGE_QUEUE_URL` and `KEYAGE_CHANGE_QUEUE_REGION`).
   */
  readonly changes?: ChangeQueue;
}

/** Evaluations per compliance type. */
export type VerdictCounts = Record<"COMPLIANT" | "NON_COMPLIANT" | "NOT_APPLICABLE", number>;

/** What a run did; also logged as the run's summary line. */
export interface RunSummary {
  readonly messageType: MessageType;
  readonly testMode: boolean;
  /** Users evaluated (COMPLIANT or NON_COMPLIANT). */
  readonly users: number;
  /** What the run found, by compliance type (sent or not). */
  readonly verdicts: VerdictCounts;
  /** Evaluations Config accepted. */
  readonly written: number;
  /** Evaluations sent that Config did not accept (or that the deadline left unsent). */
  readonly failed: number;
  /**
   * Evaluations not sent because Config already shows them: same ComplianceType, same annotation, and
   * recorded less than `refreshDays` ago (scheduled runs with a complete sweep only).
   */
  readonly skippedUnchanged: number;
  /** Users not evaluated because time ran out. */
  readonly skipped: readonly string[];
  /** Users not evaluated because their keys could not be read (after the SDK's retries). */
  readonly unreadable: readonly string[];
  /** Skipped or unreadable users whose earlier result (possibly out of date) still stands in Config. */
  readonly staleResults: number;
  /** True when some users were not evaluated or earlier results could not be checked: see the warn lines. */
  readonly partial: boolean;
  /** AWS calls made, by action. */
  readonly calls: Record<string, number>;
  /**
   * With a changes queue: messages read, users they named (each confirmed live), whether every change
   * was named (else the report counted as stale), and whether the messages were deleted (they are kept
   * for the next run when a named user was not evaluated or a write failed).
   */
  readonly changes?: { readonly messages: number; readonly users: number; readonly complete: boolean; readonly acknowledged: boolean };
  readonly durationMs: number;
  /** The evaluations sent, in order. */
  readonly evaluations: readonly Evaluation[];
}

const LOGGED_NAMES = 100;
/** An earlier result recorded up to this long before a report's GeneratedTime still counts as newer (clocks and IAM's lag). */
const REPORT_CLOCK_MARGIN_MS = 5 * 60_000;

function evaluation(resourceId: string, compliance: Evaluation["ComplianceType"], annotation: string, at: Date): Evaluation {
  return { ComplianceResourceType: RESOURCE_TYPE, ComplianceResourceId: resourceId, ComplianceType: compliance, Annotation: truncate(annotation), OrderingTimestamp: at };
}

/** A user's evaluation, worded for Config: dates rather than ages, so it stays the same while nothing changes. */
function judged(resourceId: string, user: UserKeys, params: RuleParams, now: number, at: Date): Evaluation {
  const verdict = evaluateUser(user, params, now);
  return evaluation(resourceId, verdict.compliance, configAnnotation(verdict, params, now), at);
}

function count(evaluations: readonly Evaluation[]): VerdictCounts {
  const counts: VerdictCounts = { COMPLIANT: 0, NON_COMPLIANT: 0, NOT_APPLICABLE: 0 };
  for (const e of evaluations) if (e.ComplianceType && e.ComplianceType in counts) counts[e.ComplianceType as keyof VerdictCounts] += 1;
  return counts;
}

/** The run's figures as metrics (see `shared/metrics.ts`). */
function runMetrics(summary: RunSummary, scheduled: boolean, failed: boolean): Record<(typeof CONFIG_RULE_METRICS)[number], number> {
  const completed = failed ? 0 : 1;
  return {
    RunCompleted: completed,
    ScheduledRunCompleted: scheduled ? completed : 0,
    Users: summary.users,
    NonCompliant: summary.verdicts.NON_COMPLIANT,
    Written: summary.written,
    Failed: summary.failed,
    Unreadable: summary.unreadable.length,
    Skipped: summary.skipped.length,
    StaleResults: summary.staleResults,
    Partial: summary.partial ? 1 : 0,
  };
}

/** The role to assume for an organization rule, or undefined. */
function roleArn(event: RuleEvent, settings: RuleSettings): string | undefined {
  if (!settings.executionRoleName) return undefined;
  if (!event.accountId) throw new EventError("executionRoleName is set but the event names no accountId to assume it in");
  return `arn:${event.partition}:iam::${event.accountId}:role/${settings.executionRoleName}`;
}

/** One invocation: the parsed event, its clients and every dependency with its default filled in. */
interface RunContext {
  readonly event: RuleEvent;
  readonly settings: RuleSettings;
  readonly iam: IAMClient;
  readonly config: ConfigServiceClient;
  readonly calls: CallCounter;
  readonly log: Logger;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly remainingMs: () => number;
  /** Reads stop when this much time is left. */
  readonly reserveMs: number;
  /** True while reads may still start. */
  readonly timeLeft: () => boolean;
  readonly deps: EvaluateDeps;
}

/** What a run found, before anything is written. */
interface Outcome {
  /** Every evaluation the run has to say, in order. */
  readonly evaluations: Evaluation[];
  /** Users evaluated (COMPLIANT or NON_COMPLIANT). */
  readonly users: number;
  readonly skipped: string[];
  readonly unreadable: UnreadableUser[];
  /** Skipped or unreadable users whose earlier result still stands. */
  readonly staleResults: number;
  readonly partial: boolean;
  /** The rule's earlier results, when the sweep read them all: what a write filter may compare against. */
  readonly earlier?: EarlierResults;
  /** What the changes queue named, and whether every named user was evaluated. */
  readonly changes?: { readonly drained: DrainedChanges; readonly allEvaluated: boolean };
}

/** The one evaluation of a change notification. */
async function changed(run: RunContext): Promise<Outcome> {
  const invocation = run.event.invocation as ChangeInvocation;
  const at = invocation.orderingTimestamp;
  const one = (e: Evaluation): Outcome => ({ evaluations: [e], users: e.ComplianceType === "NOT_APPLICABLE" ? 0 : 1, skipped: [], unreadable: [], staleResults: 0, partial: false });
  if (run.event.eventLeftScope) return one(evaluation(invocation.resourceId, "NOT_APPLICABLE", "The user left the rule's scope.", at));
  if (GONE_STATUSES.includes(invocation.status)) {
    return one(evaluation(invocation.resourceId, "NOT_APPLICABLE", `The user is not applicable (configuration item status ${invocation.status}).`, at));
  }
  const name = invocation.resourceName as string;
  const listed = await listAccessKeys(run.iam, name, run.calls);
  if (listed === undefined) return one(evaluation(invocation.resourceId, "NOT_APPLICABLE", "The user no longer exists.", at));
  const keys = await withLastUse(run.iam, listed, run.settings.params, run.now(), run.calls);
  return one(judged(invocation.resourceId, { user: name, keys }, run.settings.params, run.now(), at));
}

/**
 * What a run writes. Config charges for every evaluation recorded, so a scheduled run sends only what
 * changes what Config shows (see {@link selectChanged}), judged against the earlier results its sweep
 * read in full. Everything is sent by a change notification (Config asked about that user), a run whose
 * sweep was incomplete or failed (a missing result would look "new" and a stale one "fresh"), and a
 * TESTMODE run (nothing is recorded, so nothing can be compared).
 */
function toSend(run: RunContext, outcome: Outcome): { send: Evaluation[]; unchanged: number } {
  if (run.event.invocation.kind !== "scheduled" || run.event.testMode || !outcome.earlier) return { send: outcome.evaluations, unchanged: 0 };
  const { changed, unchanged } = selectChanged(outcome.evaluations, outcome.earlier, run.settings.refreshDays, run.now());
  return { send: changed, unchanged: unchanged.length };
}

/** The one writer of a run: sends what {@link toSend} keeps. */
async function write(run: RunContext, outcome: Outcome): Promise<{ sent: readonly Evaluation[]; skippedUnchanged: number; result: WriteResult; failure?: unknown }> {
  const { deps } = run;
  const writer: WriterContext = {
    config: run.config,
    resultToken: run.event.resultToken,
    testMode: run.event.testMode,
    calls: run.calls,
    log: run.log,
    concurrency: deps.putConcurrency ?? WRITER_DEFAULTS.concurrency,
    attempts: Math.max(1, deps.putAttempts ?? WRITER_DEFAULTS.attempts),
    backoffMs: { base: WRITER_DEFAULTS.backoffBaseMs, cap: WRITER_DEFAULTS.backoffCapMs },
    sleep: run.sleep,
    random: run.random,
    remainingMs: run.remainingMs,
    // Reads stopped with `reserveMs` left so that the writes have it: stopping the writes at the same
    // mark would spend the reserve on nothing (a 4 s Lambda kept 1 s and then wrote nothing).
    deadlineMarginMs: Math.min(WRITER_DEFAULTS.deadlineMarginMs, Math.floor(run.reserveMs / 4)),
  };
  const { send: sent, unchanged: skippedUnchanged } = toSend(run, outcome);
  try {
    return { sent, skippedUnchanged, result: await putEvaluations(writer, sent) };
  } catch (failure) {
    const counts = failure instanceof PutEvaluationsError ? { written: failure.written, failed: failure.failed } : { written: 0, failed: sent.length };
    return { sent, skippedUnchanged, result: counts, failure };
  }
}

/**
 * Handles one Config rule invocation. Throws (and writes nothing) on a malformed event, bad rule
 * parameters or an IAM read that fails as a whole; throws after writing what it could when Config
 * rejects evaluations. Logs one summary line per run, whatever the outcome.
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
  log("info", "run started", { ...base, maxAccessKeyAge: settings.params.maxAgeDays, warnDays: settings.params.warnDays, exemptions: settings.params.exemptions.length, refreshDays: settings.refreshDays, maxUnusedDays: settings.params.maxUnusedDays });

  const remainingMs = (): number => context.getRemainingTimeInMillis();
  const reserveMs = deps.reserveMs ?? Math.min(10_000, Math.max(1000, remainingMs() / 4));

  let outcome: Outcome | undefined;
  let sent: readonly Evaluation[] = [];
  let skippedUnchanged = 0;
  let result: WriteResult = { written: 0, failed: 0 };
  let failure: unknown;
  let acknowledged = false;
  let dispose: (() => void) | undefined;
  try {
    const clients = await deps.clients(roleArn(event, settings), calls);
    dispose = clients.dispose;
    const run: RunContext = {
      event,
      settings,
      iam: clients.iam,
      config: clients.config,
      calls,
      log,
      now,
      sleep: deps.sleep ?? timerSleep,
      random: deps.random ?? Math.random,
      remainingMs,
      reserveMs,
      timeLeft: () => remainingMs() > reserveMs,
      deps,
    };
    outcome = invocation.kind === "scheduled" ? await periodic(run) : await changed(run);
    ({ sent, skippedUnchanged, result, failure } = await write(run, outcome));
    if (outcome.changes && deps.changes) {
      // Kept for the next run when a named user was left unread or a write failed: a change is never dropped unconfirmed.
      if (outcome.changes.allEvaluated && result.failed === 0 && failure === undefined) {
        const notDeleted = await acknowledgeChanges(deps.changes, outcome.changes.drained.receipts, calls);
        acknowledged = notDeleted === 0;
        if (notDeleted > 0) log("warn", "some change messages were not deleted; the next run reads them again", { notDeleted });
      }
    }
  } catch (err) {
    failure = err;
  } finally {
    dispose?.();
  }

  const summary: RunSummary = {
    messageType: invocation.messageType,
    testMode: event.testMode,
    users: outcome?.users ?? 0,
    verdicts: count(outcome?.evaluations ?? []),
    written: result.written,
    failed: result.failed,
    skippedUnchanged,
    skipped: outcome?.skipped ?? [],
    unreadable: outcome?.unreadable.map((u) => u.user) ?? [],
    staleResults: outcome?.staleResults ?? 0,
    partial: (outcome?.partial ?? false) || result.failed > 0,
    calls: calls.toJSON(),
    ...(outcome?.changes
      ? { changes: { messages: outcome.changes.drained.messages, users: outcome.changes.drained.users.size, complete: outcome.changes.drained.complete, acknowledged } }
      : {}),
    durationMs: now() - started,
    evaluations: sent,
  };
  log(failure ? "error" : summary.partial ? "warn" : "info", "run summary", {
    ...base,
    users: summary.users,
    verdicts: summary.verdicts,
    evaluations: sent.length,
    written: summary.written,
    failed: summary.failed,
    skippedUnchanged: summary.skippedUnchanged,
    skipped: summary.skipped.length,
    unreadable: summary.unreadable.length,
    staleResults: summary.staleResults,
    partial: summary.partial,
    calls: summary.calls,
    changes: summary.changes,
    apiCalls: calls.total(),
    durationMs: summary.durationMs,
    error: failure ? describeError(failure) : undefined,
    ...(context.functionName ? embeddedMetrics(context.functionName, CONFIG_RULE_METRICS, runMetrics(summary, invocation.kind === "scheduled", failure !== undefined), now()) : {}),
  });
  if (failure) throw failure;
  return summary;
}

/**
 * The order in which users are read one by one, so that when time runs out the users left unread
 * differ from run to run. When the earlier results are already known: users with no earlier result
 * first, then those due for a refresh (oldest first), since these are written whatever they say. Every
 * other user, and every user when the earlier results are not known, follows in ListUsers order from a
 * random starting point. Not by recording time alone: a scheduled run writes only what changed, so a
 * result's age says when it last changed, not when the user was last read, and "oldest first" would
 * leave the users who changed most recently unread run after run.
 */
function readingOrder(users: readonly ListedUser[], earlier: EarlierResults | undefined, run: RunContext): readonly ListedUser[] {
  if (users.length < 2) return users;
  const start = Math.min(users.length - 1, Math.floor(run.random() * users.length));
  const rotated = [...users.slice(start), ...users.slice(0, start)];
  if (!earlier?.complete) return rotated;
  const now = run.now();
  const first: { u: ListedUser; i: number; t: number }[] = [];
  const rest: ListedUser[] = [];
  rotated.forEach((u, i) => {
    const before = earlier.results.get(u.userId);
    if (before === undefined) first.push({ u, i, t: Number.NEGATIVE_INFINITY });
    else if (refreshDue(before, run.settings.refreshDays, now, u.userId)) first.push({ u, i, t: before.recordedAt?.getTime() ?? Number.NEGATIVE_INFINITY });
    else rest.push(u);
  });
  first.sort((a, b) => a.t - b.t || a.i - b.i);
  return [...first.map((x) => x.u), ...rest];
}

/** A scheduled run: every IAM user, plus NOT_APPLICABLE for users evaluated earlier that no longer exist. */
async function periodic(run: RunContext): Promise<Outcome> {
  const { event, calls, log, deps } = run;
  const at = event.invocation.orderingTimestamp;
  // Earlier results are read while IAM is being read: users that no longer exist get NOT_APPLICABLE, and
  // a user left unread this run is known to still show an older result.
  const sweep: Promise<EarlierResults | { error: string }> = event.configRuleName
    ? previouslyEvaluated(run, event.configRuleName).catch((err: unknown) => ({ error: describeError(err) }))
    : Promise.resolve({ error: "the event names no configRuleName" });
  // Reading many users one by one: wait for the earlier results to read first the users due for a write,
  // but never longer than a quarter of the reading time left (a random starting point does the rotating).
  const prioritize = async (users: readonly ListedUser[]): Promise<readonly ListedUser[]> => {
    let timer: NodeJS.Timeout | undefined;
    const waitMs = Math.max(0, (run.remainingMs() - run.reserveMs) / 4);
    const earlier = await Promise.race([sweep, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), waitMs)))]);
    clearTimeout(timer);
    return readingOrder(users, earlier && !("error" in earlier) ? earlier : undefined, run);
  };
  // Key changes named by IAM's events (reevaluateOnChange): read while IAM is, confirmed live by the reader.
  const queue = deps.changes && !event.testMode && !run.settings.executionRoleName ? deps.changes : undefined;
  const draining: Promise<DrainedChanges> | undefined = queue
    ? drainChanges(queue, { calls, timeLeft: run.timeLeft, visibilitySeconds: run.remainingMs() / 1000 + 60, accountId: event.accountId }).catch((err: unknown) => {
        log("warn", "could not read the changes queue; the credential report counts as stale this run", { error: describeError(err) });
        return { users: new Set<string>(), complete: false, messages: 0, ignored: 0, receipts: [] };
      })
    : undefined;
  const changed = draining?.then((d) => {
    log("info", "key changes read", { messages: d.messages, users: d.users.size, ignored: d.ignored, complete: d.complete, names: [...d.users].slice(0, LOGGED_NAMES) });
    return d;
  });
  // A change an earlier run confirmed (and deleted from the queue) is newer than a report made before it:
  // a user whose result was recorded after the report, and whom the report's row contradicts, is read
  // live too, so a later run on the same report cannot undo the change.
  const changedUsers: Promise<ChangedUsers> | undefined = changed
    ? Promise.all([changed, sweep]).then(([d, earlier]): ChangedUsers => {
        if ("error" in earlier || !earlier.complete) return { users: d.users, complete: false };
        const params = run.settings.params;
        const newer = (record: IamUserRecord, generatedAt: Date): boolean => {
          const before = earlier.results.get(record.userId);
          if (before?.recordedAt === undefined || before.recordedAt.getTime() < generatedAt.getTime() - REPORT_CLOCK_MARGIN_MS) return false;
          const now = run.now();
          const e = judged(record.userId, record, params, now, at);
          return e.ComplianceType !== before.complianceType || e.Annotation !== before.annotation;
        };
        return { users: d.users, complete: d.complete, newer };
      })
    : undefined;
  let snapshot;
  try {
    snapshot = await readAccount(run.iam, {
      now: run.now,
      params: run.settings.params,
      remainingMs: run.remainingMs,
      reserveMs: run.reserveMs,
      reportFreshnessMs: deps.reportFreshnessMs,
      concurrency: deps.concurrency,
      reportWait: deps.reportWait,
      sleep: run.sleep,
      log,
      onUnreadable: "skip",
      prioritize,
      ...(changedUsers ? { changed: changedUsers } : {}),
    });
  } catch (err) {
    await sweep; // never rejects; settle it before failing the run
    await changedUsers; // never rejects either; its messages stay in the queue for the next run
    throw err;
  }
  calls.merge(snapshot.calls);
  const nowMs = run.now();
  const evaluations = snapshot.users.map((u) => judged(u.userId, u, run.settings.params, nowMs, at));
  const users = evaluations.length;
  for (const d of snapshot.deleted) evaluations.push(evaluation(d.userId, "NOT_APPLICABLE", "The user was deleted during the evaluation.", at));

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
    const ghosts = [...earlier.results.keys()].filter((id) => !present.has(id)).map((id) => evaluation(id, "NOT_APPLICABLE", "The IAM user no longer exists.", at));
    if (ghosts.length > 0) {
      log("info", "users evaluated earlier no longer exist; marking them NOT_APPLICABLE", { count: ghosts.length });
      evaluations.push(...ghosts);
    }
  }

  // A user not evaluated this run keeps whatever Config shows from before: say what that is.
  const ids = new Map(snapshot.listed.map((u) => [u.user, u.userId]));
  const results = "error" in earlier ? undefined : earlier.results;
  const standing = (name: string): { user: string; earlier: string; recordedAt?: string } => {
    const r = results?.get(ids.get(name) ?? "");
    return { user: name, earlier: r?.complianceType ?? (results ? "none" : "unknown"), recordedAt: r?.recordedAt?.toISOString() };
  };
  let staleResults = 0;
  const described = (names: readonly string[]): ReturnType<typeof standing>[] => {
    const list = names.map(standing);
    staleResults += list.filter((s) => s.earlier !== "none" && s.earlier !== "unknown").length;
    return list.slice(0, LOGGED_NAMES);
  };
  if (snapshot.skipped.length > 0 || !snapshot.listComplete) {
    partial = true;
    log("warn", "deadline: stopped reading; these users are not evaluated this run", {
      skipped: snapshot.skipped.length,
      users: snapshot.skipped.slice(0, LOGGED_NAMES),
      earlierResults: described(snapshot.skipped),
      more: snapshot.skipped.length > LOGGED_NAMES ? snapshot.skipped.length - LOGGED_NAMES : undefined,
      listUsersComplete: snapshot.listComplete,
    });
  }
  if (snapshot.unreadable.length > 0) {
    partial = true;
    const names = snapshot.unreadable.map((u) => u.user);
    log("warn", "could not read these users' keys; they are not evaluated this run", {
      unreadable: names.length,
      users: snapshot.unreadable.slice(0, LOGGED_NAMES).map((u) => ({ user: u.user, error: u.error })),
      earlierResults: described(names),
      more: names.length > LOGGED_NAMES ? names.length - LOGGED_NAMES : undefined,
    });
  }
  if (snapshot.reportUnavailable) log("info", "keys read with ListAccessKeys", { reason: snapshot.reportUnavailable });
  const drained = changed ? await changed : undefined;
  const notEvaluated = new Set([...snapshot.skipped, ...snapshot.unreadable.map((u) => u.user)]);
  return {
    ...(drained ? { changes: { drained, allEvaluated: snapshot.listComplete && ![...drained.users].some((u) => notEvaluated.has(u)) } } : {}),
    evaluations,
    users,
    skipped: snapshot.skipped,
    unreadable: snapshot.unreadable,
    staleResults,
    partial,
    earlier: "error" in earlier || !earlier.complete ? undefined : earlier,
  };
}
