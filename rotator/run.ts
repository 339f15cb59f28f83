/**
 * One run of the scheduled rotator. It finds every IAM user with their tags in one bulk read
 * (GetAccountAuthorizationDetails) and every key's age from the credential report, so a run where nothing
 * is due costs ⌈users / 1000⌉ + 2–3 IAM calls. Only an opted-in user (`keyage:rotate` =
 * `secretsmanager:<secret id or ARN>`) whose report row says something may be due is read key by key,
 * with its secret (DescribeSecret: ARN and tags, so the planner can check that the secret's own
 * `keyage:rotate` tag is this user's ARN and that no other opted-in user resolves to it); `planRotation("scheduled")` (shared/) decides its one next step from IAM and the secret
 * alone, so a run cut short (crash, deadline) is finished or undone by the next. A run returns what it
 * found and did; its events are published by one writer at the end.
 *
 * Faults: throttling is the SDK's (standard retries); a user whose reads still fail is left for the next
 * run and named; a user deleted mid-run is skipped; a missing or denied secret blocks only that user
 * (`Rotation Blocked`); when the deadline nears, no further user is started.
 */
import type { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import type { IAMClient } from "@aws-sdk/client-iam";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  CREATED_TAG_PREFIX,
  createdTag,
  MAX_USER_TAGS,
  DEACTIVATED_TAG_PREFIX,
  describeStep,
  evaluateKey,
  planRotation,
  refersTo,
  wordPlan,
  withReportedUse,
  type ReportUser,
  type RotationDestination,
  type RotationKey,
  type RotationPlan,
  type RotationStep,
} from "../shared";
import { CallCounter, pool } from "../aws/calls";
import { countCalls } from "../aws/count";
import { listTaggedUsers, type TaggedUser } from "../aws/directory";
import { awsErrorName, describeError, IamReadError, isClientFault, isNoSuchEntity, isThrottling, redactKeyIds } from "../aws/errors";
import { putEvents, type PublishResult } from "../aws/events";
import { fetchCredentialReport, listAccessKeys, readContext, type ReadAccountOptions } from "../aws/iam";
import { createAccessKey, deleteAccessKey, readUserKeys, setAccessKeyStatus, tagUser, untagUser } from "../aws/keys";
import { carryReportedUse, withLastUse } from "../aws/usage";
import { putKeySecret, readSecret, SecretUndecidedError } from "../aws/secrets";
import { DETAIL_TYPES, eventEntry, keyAge, keySuffix, type DetailType, type KeyEventDetail } from "./events";
import type { Logger } from "../aws/log";
import { embeddedMetrics, ROTATOR_METRICS } from "../shared/metrics";
import type { RotatorSettings } from "./settings";

/** The user tag that opts a user in: `secretsmanager:<secret id or ARN>` (the secret's own tag of this name must be the user's ARN). */
export const ROTATE_TAG = "keyage:rotate";
/** The optional user tag naming who to tell (copied into every event about the user). */
export const OWNER_TAG = "keyage:owner";
const SECRET_PREFIX = "secretsmanager:";
const DAY_MS = 86_400_000;

/** The clients of a run. */
export interface RotatorClients {
  readonly iam: IAMClient;
  readonly secrets: SecretsManagerClient;
  readonly events: EventBridgeClient;
}

/** Everything a run needs from outside; only `clients` and `settings` are required. */
export interface RotatorDeps {
  readonly clients: RotatorClients;
  readonly settings: RotatorSettings;
  /** Clock, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Default: none. Never receives a secret; full key ids are redacted by the JSON logger. */
  readonly log?: Logger;
  /** Time left in the invocation (Lambda's `getRemainingTimeInMillis`). Default unlimited. */
  readonly remainingMs?: () => number;
  /** No user is started when fewer ms than this remain (kept for the events). Default 10 000. */
  readonly reserveMs?: number;
  /** Users read and advanced at once. Default 8. */
  readonly concurrency?: number;
  /** Credential report polling. See {@link ReadAccountOptions.reportWait}. */
  readonly reportWait?: ReadAccountOptions["reportWait"];
  /** Pauses between report polls. Default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * The Lambda function's name. When set, the summary line also carries the run's figures as CloudWatch
   * metrics (embedded metric format, see `shared/metrics.ts`); default none (no metrics).
   */
  readonly functionName?: string;
}

/** What a run found and did; also logged as its summary line. */
export interface RotatorSummary {
  readonly mode: RotatorSettings["mode"];
  /** IAM users seen. */
  readonly users: number;
  /** Users with a `keyage:rotate` tag. */
  readonly optedIn: number;
  /** Opted-in users read key by key (the others had nothing due by the credential report). */
  readonly read: number;
  /** Steps carried out (apply) or planned (plan), by kind. */
  readonly steps: { readonly create: number; readonly deactivate: number; readonly delete: number };
  /** Users whose rotation is blocked (each got a `Rotation Blocked` event). */
  readonly blocked: number;
  /** New keys deleted again in the same run because their secret could not be stored. */
  readonly rolledBack: number;
  /** Users whose reads or writes failed (after the SDK's retries): the next run picks them up. */
  readonly failed: readonly string[];
  /** Users deleted while the run read them. */
  readonly vanished: readonly string[];
  /** Opted-in users not reached before the deadline. */
  readonly skipped: readonly string[];
  /** True when some user was not handled (failed, skipped, or not listed before the deadline). */
  readonly partial: boolean;
  readonly events: PublishResult;
  /** AWS calls made, by action. */
  readonly calls: Record<string, number>;
  readonly durationMs: number;
  /** The events sent (detail-type and detail), for tests and logs. */
  readonly sent: readonly { readonly type: DetailType; readonly detail: KeyEventDetail; readonly arn: string }[];
}

/** One run, passed on whole. */
interface Run {
  readonly deps: RotatorDeps;
  readonly s: RotatorSettings;
  readonly iam: IAMClient;
  readonly calls: CallCounter;
  readonly log: Logger;
  readonly now: number;
  readonly timeLeft: () => boolean;
  readonly apply: boolean;
  readonly events: { type: DetailType; detail: KeyEventDetail; arn: string }[];
  readonly tally: { read: number; create: number; deactivate: number; delete: number; blocked: number; rolledBack: number };
  readonly failed: string[];
  readonly vanished: string[];
  readonly skipped: string[];
  partial: boolean;
}

/** A user and what the run knows of them. */
interface Subject {
  readonly user: TaggedUser;
  readonly account: string;
  readonly owner?: string;
  /** The `keyage:rotate` tag's value, if set. */
  readonly rotate?: string;
  readonly row?: ReportUser;
}

/** A single-account run's figures as EMF fields (an organization run sums its accounts' instead). */
function rotatorMetrics(functionName: string, s: RotatorSummary, now: number) {
  return embeddedMetrics(functionName, ROTATOR_METRICS, {
    RunCompleted: 1, Users: s.users, OptedIn: s.optedIn, Created: s.steps.create, Deactivated: s.steps.deactivate, Deleted: s.steps.delete,
    RolledBack: s.rolledBack, Blocked: s.blocked, FailedUsers: s.failed.length, SkippedUsers: s.skipped.length, EventsUnpublished: s.events.failed,
    UnreachableAccounts: 0, FailedAccounts: 0, NotReachedAccounts: 0, Partial: s.partial ? 1 : 0,
  }, now);
}

function accountOf(arn: string): string {
  return arn.split(":")[4] ?? "";
}

/**
 * One run. Never throws for AWS trouble with one user; throws when the users cannot be listed at all.
 *
 * @example
 * const summary = await runRotator({ clients, settings: parseSettings({ mode: "plan" }) });
 */
export async function runRotator(deps: RotatorDeps): Promise<RotatorSummary> {
  const started = Date.now();
  const calls = new CallCounter();
  const reserveMs = deps.reserveMs ?? 10_000;
  const run: Run = {
    deps,
    s: deps.settings,
    iam: deps.clients.iam,
    calls,
    log: deps.log ?? (() => undefined),
    now: (deps.now ?? Date.now)(),
    timeLeft: () => deps.remainingMs === undefined || deps.remainingMs() > reserveMs,
    apply: deps.settings.mode === "apply",
    events: [],
    tally: { read: 0, create: 0, deactivate: 0, delete: 0, blocked: 0, rolledBack: 0 },
    failed: [],
    vanished: [],
    skipped: [],
    partial: false,
  };
  const { iam, secrets, events: eventBridge } = deps.clients;
  const stops = [countCalls(iam, calls), countCalls(secrets, calls), countCalls(eventBridge, calls)];
  try {
    return await runCounted(run, reserveMs, started);
  } finally {
    for (const stop of stops) stop();
  }
}

async function runCounted(run: Run, reserveMs: number, started: number): Promise<RotatorSummary> {
  const { deps, calls } = run;
  const readCtx = readContext(run.iam, { now: () => run.now, remainingMs: deps.remainingMs, reserveMs, log: run.log, sleep: deps.sleep, reportWait: deps.reportWait });
  const [listed, report] = await Promise.all([listTaggedUsers(run.iam, undefined, run.timeLeft), fetchCredentialReport(readCtx)]);
  if (!listed.complete) {
    run.partial = true;
    run.log("warn", "the deadline came before every user was listed; the rest wait for the next run", { listed: listed.users.length });
  }
  const rows = new Map<string, ReportUser>();
  if ("unavailable" in report) {
    run.log("warn", "credential report unavailable: every user is read key by key", { reason: report.unavailable });
  } else {
    for (const row of report.rows) if (!row.root) rows.set(row.user, row);
  }
  const subjects: Subject[] = listed.users.map((user) => {
    const row = rows.get(user.user);
    return {
      user,
      account: accountOf(user.arn),
      owner: user.tags[OWNER_TAG] || undefined,
      rotate: user.tags[ROTATE_TAG],
      // A row of an earlier user of the same name (deleted and re-created) says nothing about this one.
      row: row && row.arn === user.arn && Math.abs(Date.parse(row.userCreationTime) - Date.parse(user.createDate)) < 1000 ? row : undefined,
    };
  });
  const reportUsable = !("unavailable" in report);
  const optedIn = subjects.filter((x) => x.rotate !== undefined);
  const toRead = subjects.filter((x) => needsRead(run, x, reportUsable));
  const work = readingOrder(run, toRead);
  const reading = new Set(toRead);
  for (const x of subjects) if (!reading.has(x) && x.row) notifyFromReport(run, x);

  await pool(work, deps.concurrency ?? 8, async (x) => {
    if (!run.timeLeft()) {
      if (x.rotate !== undefined) run.skipped.push(x.user.user);
      else if (x.row) notifyFromReport(run, x);
      run.partial = true;
      return;
    }
    try {
      if (x.rotate !== undefined && run.s.mode !== "notify") await advance(run, x, optedIn);
      else await notifyWithIds(run, x);
    } catch (err) {
      run.failed.push(x.user.user);
      run.partial = true;
      run.log("error", "user left for the next run", { user: x.user.user, error: describeError(err instanceof IamReadError && err.cause ? err.cause : err) });
    }
  });
  if (run.skipped.length) run.log("warn", "the deadline came before these opted-in users; the next runs start elsewhere, so they are reached", { users: run.skipped.slice(0, 100), count: run.skipped.length });

  const entries = run.events.map((e) => eventEntry(e.type, e.detail, e.arn || undefined));
  const events = await putEvents(deps.clients.events, entries);
  if (events.failed) run.log("error", "some events were not published", { failed: events.failed, errors: events.errors });
  const summary: RotatorSummary = {
    mode: run.s.mode,
    users: listed.users.length,
    optedIn: optedIn.length,
    read: run.tally.read,
    steps: { create: run.tally.create, deactivate: run.tally.deactivate, delete: run.tally.delete },
    blocked: run.tally.blocked,
    rolledBack: run.tally.rolledBack,
    failed: run.failed,
    vanished: run.vanished,
    skipped: run.skipped,
    partial: run.partial,
    events,
    calls: calls.toJSON(),
    durationMs: Date.now() - started,
    sent: run.events,
  };
  const { sent: _sent, ...logged } = summary;
  const metrics = deps.functionName ? rotatorMetrics(deps.functionName, summary, (deps.now ?? Date.now)()) : {};
  run.log("info", "run summary", { ...logged, failed: run.failed.slice(0, 100), skipped: run.skipped.slice(0, 100), ...metrics });
  return summary;
}

/**
 * Opted-in users first (when time runs short, rotations matter more than key ids in notifications),
 * starting each day at another one of them, so that a deadline never leaves the same users behind twice.
 */
function readingOrder(run: Run, users: readonly Subject[]): Subject[] {
  const opted = users.filter((x) => x.rotate !== undefined);
  const others = users.filter((x) => x.rotate === undefined);
  const start = opted.length === 0 ? 0 : Math.floor(run.now / DAY_MS) % opted.length;
  return [...opted.slice(start), ...opted.slice(0, start), ...others];
}

/**
 * Whether a user must be read key by key: an opted-in user unless the report shows exactly one active
 * key that is not yet expiring and nothing keyage left to clean up; anyone else only to name (by id) a
 * key that is expiring or past the limit, or when there is no report.
 */
function needsRead(run: Run, x: Subject, reportUsable: boolean): boolean {
  if (!reportUsable) return true;
  const row = x.row;
  if (x.rotate !== undefined && run.s.mode !== "notify") {
    if (!row) return true;
    if (Object.keys(x.user.tags).some((t) => t.startsWith(DEACTIVATED_TAG_PREFIX) || t.startsWith(CREATED_TAG_PREFIX))) return true;
    if (row.keys.length !== 1) return true;
    const only = evaluateKey(withReportedUse(row.keys[0] as ReportUser["keys"][number]), run.s, run.now);
    return !only.active || only.reason !== "ok";
  }
  // A user missing from the report was created after it: none of its keys can be old yet.
  return row !== undefined && row.keys.some((k) => {
    const v = evaluateKey(withReportedUse(k), run.s, run.now);
    return v.active && v.reason !== "ok";
  });
}

function baseDetail(run: Run, x: Subject): Pick<KeyEventDetail, "account" | "user" | "maxAgeDays" | "owner" | "rotation"> {
  return { account: x.account, user: x.user.user, maxAgeDays: run.s.maxAgeDays, owner: x.owner, rotation: x.rotate !== undefined };
}

function emit(run: Run, x: Subject, type: DetailType, detail: KeyEventDetail): void {
  run.events.push({ type, arn: x.user.arn, detail: detail.reason === undefined ? detail : { ...detail, reason: redactKeyIds(detail.reason) } });
}

/**
 * Expiring / Expired events for the active keys of `keys` (with ids), and Access Key Unused when
 * `maxUnusedDays` is set: `keys` carry their last use where it can matter (absent means never used).
 */
function notifyKeys(run: Run, x: Subject, keys: readonly RotationKey[]): void {
  for (const k of keys) {
    if (k.status !== "Active") continue;
    const lastUsedDate = k.lastUsed === undefined ? null : new Date(k.lastUsed);
    const v = evaluateKey({ accessKeyId: k.id, createDate: new Date(k.created), status: k.status, lastUsedDate }, run.s, run.now);
    if (v.reason === "unused") {
      emit(run, x, DETAIL_TYPES.unused, {
        ...baseDetail(run, x),
        accessKeyIdSuffix: keySuffix(k.id),
        ageDays: v.ageDays ?? undefined,
        maxUnusedDays: v.maxUnusedDays ?? undefined,
        unusedDays: v.unusedDays ?? undefined,
        lastUsedDate: lastUsedDate === null ? null : lastUsedDate.toISOString(),
        reason: `${v.message.replace(/\.$/, "")}; rotating it would not make it used: deactivate it, or delete it if nothing needs it`,
      });
      continue;
    }
    if (v.reason !== "expired" && v.reason !== "expiring") continue;
    emit(run, x, v.reason === "expired" ? DETAIL_TYPES.expired : DETAIL_TYPES.expiring, {
      ...baseDetail(run, x),
      accessKeyIdSuffix: keySuffix(k.id),
      ageDays: v.ageDays ?? undefined,
      daysLeft: v.daysLeft ?? undefined,
    });
  }
}

/** Expiring / Expired events from the credential report alone (slots, no ids): when a read was not possible. */
function notifyFromReport(run: Run, x: Subject): void {
  for (const k of x.row?.keys ?? []) {
    const v = evaluateKey(k, run.s, run.now);
    if (!v.active || (v.reason !== "expired" && v.reason !== "expiring")) continue;
    emit(run, x, v.reason === "expired" ? DETAIL_TYPES.expired : DETAIL_TYPES.expiring, {
      ...baseDetail(run, x),
      slot: k.slot,
      ageDays: v.ageDays ?? undefined,
      daysLeft: v.daysLeft ?? undefined,
    });
  }
}

/**
 * A user who did not opt in (or notify mode): ListAccessKeys to name the keys in the events by id, and
 * GetAccessKeyLastUsed only for a key the report's last use leaves possibly unused.
 */
async function notifyWithIds(run: Run, x: Subject): Promise<void> {
  const found = await listAccessKeys(run.iam, x.user.user);
  if (found === undefined) {
    run.vanished.push(x.user.user);
    return;
  }
  const reported = (x.row?.keys ?? []).map(withReportedUse);
  const listed = await withLastUse(run.iam, carryReportedUse(found, reported), run.s, run.now);
  notifyKeys(
    run,
    x,
    listed.map((k) => {
      const used = k.lastUsedDate ? Date.parse(k.lastUsedDate) : Number.NaN;
      return { id: k.accessKeyId as string, status: k.status, created: Date.parse(k.createDate), ...(Number.isFinite(used) ? { lastUsed: used } : {}) };
    }),
  );
}

/**
 * The secret named by the tag and what it is, as a destination for the planner. `secretId` is the full ARN
 * DescribeSecret resolved (every later read and write uses it), or the tag's id when it did not resolve.
 */
interface ObservedSecret {
  readonly secretId: string;
  readonly dest: RotationDestination;
}

async function observeSecret(run: Run, x: Subject, optedIn: readonly Subject[]): Promise<ObservedSecret> {
  return describeSecret(run, x, secretIdOf(x.rotate ?? ""), optedIn);
}

function secretIdOf(tag: string): string {
  return tag.startsWith(SECRET_PREFIX) ? tag.slice(SECRET_PREFIX.length).trim() : "";
}

async function describeSecret(run: Run, x: Subject, id: string, optedIn: readonly Subject[]): Promise<ObservedSecret> {
  const tag = x.rotate ?? "";
  const label = `Secrets Manager secret ${id}`;
  const unusable = (why: string): ObservedSecret => ({ secretId: id, dest: { kind: "secret", label, unusable: why } });
  if (!id) return { secretId: id, dest: { kind: "secret", label: `the ${ROTATE_TAG} tag`, unusable: `the ${ROTATE_TAG} tag must be ${SECRET_PREFIX}<secret id or ARN>, not ${JSON.stringify(tag.slice(0, 80))}` } };
  let state;
  try {
    state = await readSecret(run.deps.clients.secrets, id);
  } catch (err) {
    // Denied (or any other 4xx) is a standing problem of this user's setup, told in an event; a 5xx or
    // throttling after the SDK's retries is passing trouble: the user is left for the next run.
    if (isClientFault(err)) return unusable(`reading the secret ${id} failed: ${awsErrorName(err) || "Error"} (the rotator may read and write only secrets tagged for keyage)`);
    throw err;
  }
  if (!state.exists) return unusable(`there is no secret ${id} (create it first: aws secretsmanager create-secret --name ${id})`);
  if (state.scheduledForDeletion) return unusable(`the secret ${id} is scheduled for deletion (restore it: aws secretsmanager restore-secret --secret-id ${id})`);
  // Two users storing their keys in one secret would overwrite each other's: compare what each tag
  // resolves to (name, full or partial ARN), not the tags' text.
  const sharedWith = optedIn.filter((y) => y !== x && refersTo(secretIdOf(y.rotate ?? ""), state)).map((y) => y.user.user);
  return {
    secretId: state.arn,
    dest: { kind: "secret", label, holds: state.holds, foreign: state.foreign, boundTo: state.boundTo, sharedWith: sharedWith.length ? sharedWith : undefined },
  };
}

/** An opted-in user: read, plan one step, carry it out (apply) or log it (plan), and tell. */
async function advance(run: Run, x: Subject, optedIn: readonly Subject[]): Promise<void> {
  const name = x.user.user;
  run.tally.read += 1;
  const [found, secret] = await Promise.all([readUserKeys(run.iam, name), observeSecret(run, x, optedIn)]);
  if (found === undefined) {
    run.vanished.push(name);
    run.log("info", "user deleted during the run: skipped", { user: name });
    return;
  }
  notifyKeys(run, x, found.keys);
  const plan = planRotation(
    "scheduled",
    { user: name, userArn: x.user.arn, keys: found.keys, tags: found.tags, destinations: [secret.dest] },
    { graceHours: run.s.graceHours, schedule: { maxAgeDays: run.s.maxAgeDays, warnDays: run.s.warnDays, cleanupDays: run.s.cleanupDays } },
    run.now,
  );
  const keyOf = (k: RotationKey): Partial<KeyEventDetail> => ({ accessKeyIdSuffix: keySuffix(k.id), ...keyAge(k.created, run.now, run.s.maxAgeDays) });
  const current = found.keys.filter((k) => k.status === "Active").sort((a, b) => a.created - b.created)[0];
  const block = (reason: string): void => {
    run.tally.blocked += 1;
    emit(run, x, DETAIL_TYPES.blocked, { ...baseDetail(run, x), ...(current ? keyOf(current) : {}), reason });
    run.log("warn", "rotation blocked", { user: name, reason });
  };
  if (!run.apply) {
    run.log("info", "dry run", { user: name, plan: wordPlan(plan) });
    for (const s of plan.steps) run.tally[s.kind] += 1;
  } else {
    try {
      for (const step of plan.steps) {
        const done = await perform(run, x, plan, step, secret);
        if (!done) return;
      }
    } catch (err) {
      if (!(err instanceof Blocked)) throw err;
      return block(err.reason);
    }
    for (const tag of plan.untag ?? []) await untagQuietly(run, name, tag);
  }
  if (plan.refusal) block(plan.refusal.reason);
}

/** A bookkeeping write IAM refused: the step is not done, and the user is blocked until someone acts. */
class Blocked extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Whether IAM refused a write for a standing reason (a quota such as 50 tags per user, a denial, bad
 * input), which the next run would meet again; throttling and concurrent changes pass by themselves.
 */
function refusedWrite(err: unknown): boolean {
  // IAM's quota error (the SDK names it LimitExceededException and retries it as throttling first).
  if (/^LimitExceeded(Exception)?$/.test(awsErrorName(err))) return true;
  return isClientFault(err) && !isThrottling(err) && !isNoSuchEntity(err) && awsErrorName(err) !== "ConcurrentModification";
}

/** TagUser for keyage's records; a refusal becomes {@link Blocked} naming what could not be recorded. */
async function record(run: Run, user: string, tag: { key: string; value: string }, what: string): Promise<void> {
  try {
    await tagUser(run.iam, user, tag.key, tag.value);
  } catch (err) {
    if (!refusedWrite(err)) throw err;
    throw new Blocked(`blocked: keyage could not record ${what} on ${user} (iam:TagUser ${tag.key} refused: ${describeError(err)}), so it did not go on. Make room for the tag (IAM allows ${MAX_USER_TAGS} per user) or allow the rotator to tag ${user}`);
  }
}

/** Carries out one step; false when it failed or was undone (the rest of the plan is left for the next run). */
async function perform(run: Run, x: Subject, plan: RotationPlan, step: RotationStep, secret: ObservedSecret): Promise<boolean> {
  const name = plan.user;
  const detail = (k: RotationKey, reason: string): KeyEventDetail => ({
    ...baseDetail(run, x),
    accessKeyIdSuffix: keySuffix(k.id),
    ...keyAge(k.created, run.now, run.s.maxAgeDays),
    reason,
  });
  switch (step.kind) {
    case "delete": {
      try {
        await deleteAccessKey(run.iam, name, step.key.id);
      } catch (err) {
        // Gone already (a run that stopped before untagging, or the user went): nothing left to delete.
        if (!isNoSuchEntity(err)) throw err;
      }
      run.tally.delete += 1;
      emit(run, x, DETAIL_TYPES.deleted, detail(step.key, describeStep(step, name, true)));
      run.log("info", describeStep(step, name, true), { user: name });
      if (step.untag !== undefined) await untagQuietly(run, name, step.untag);
      return true;
    }
    case "deactivate": {
      // The tag goes first: a key that is inactive without it would count its wait from its last use.
      await record(run, name, step.tag, `when it deactivates ${step.key.id}`);
      try {
        await setAccessKeyStatus(run.iam, name, step.key.id, "Inactive");
      } catch (err) {
        await untagQuietly(run, name, step.tag.key);
        throw err;
      }
      run.tally.deactivate += 1;
      emit(run, x, DETAIL_TYPES.deactivated, detail(step.key, describeStep(step, name, true)));
      run.log("info", describeStep(step, name, true), { user: name });
      return true;
    }
    case "create":
      return createAndStore(run, x, plan, step, secret);
    default:
      return step satisfies never;
  }
}

/**
 * CreateAccessKey, then PutSecretValue. If the store is refused (a 4xx), the new key, which nobody can
 * hold, is deleted again at once; if it is undecided (a timeout whose read-back failed too), the key is
 * kept and the next run decides from the secret: finish the rotation if it holds the key, undo it if not.
 */
async function createAndStore(run: Run, x: Subject, plan: RotationPlan, step: RotationStep & { kind: "create" }, { secretId, dest: secret }: ObservedSecret): Promise<boolean> {
  const name = plan.user;
  const created = await createAccessKey(run.iam, name);
  // Recorded before it is stored: only a key with this record is ever undone (deleted) by a later run.
  const recordTag = { key: createdTag(created.id), value: new Date(created.created ?? Date.now()).toISOString() };
  try {
    await record(run, name, recordTag, `that it created ${created.id}`);
  } catch (err) {
    try {
      await deleteAccessKey(run.iam, name, created.id);
    } catch (deleteErr) {
      run.log("error", "recording the new key failed, and deleting it failed too: delete it by hand", { user: name, key: keySuffix(created.id), error: describeError(deleteErr) });
      throw err;
    }
    run.tally.rolledBack += 1;
    throw err;
  }
  try {
    await putKeySecret(run.deps.clients.secrets, secretId, created.id, created.secret);
  } catch (err) {
    if (err instanceof SecretUndecidedError) {
      run.log("error", "the new key is kept: the secret may hold it; the next run finishes or undoes the rotation", { user: name, error: err.message });
      throw err;
    }
    try {
      await deleteAccessKey(run.iam, name, created.id);
    } catch (deleteErr) {
      run.log("error", "storing the new key failed, and deleting it failed too: the next run undoes it", { user: name, error: describeError(deleteErr) });
      throw err;
    }
    await untagQuietly(run, name, recordTag.key);
    run.tally.rolledBack += 1;
    run.tally.blocked += 1;
    const old = step.replacing[0];
    const reason = `blocked: storing the new key in ${secret.label} failed (${describeError(err)}), so the new key was deleted again and nothing changed`;
    emit(run, x, DETAIL_TYPES.blocked, { ...baseDetail(run, x), accessKeyIdSuffix: old === undefined ? undefined : keySuffix(old), reason });
    run.log("warn", "rotation blocked", { user: name, reason });
    return false;
  }
  run.tally.create += 1;
  // Stored: the record has done its work (a record left behind is removed by the next run).
  await untagQuietly(run, name, recordTag.key);
  const fresh = { id: created.id, created: run.now };
  const replaced = step.replacing[0];
  emit(run, x, DETAIL_TYPES.rotated, {
    ...baseDetail(run, x),
    accessKeyIdSuffix: replaced === undefined ? undefined : keySuffix(replaced),
    newAccessKeyIdSuffix: keySuffix(fresh.id),
    reason: `a new key is in ${secret.label} (AWSCURRENT); the previous one stays readable as AWSPREVIOUS until it is deactivated`,
  });
  run.log("info", `created a new access key for ${name} and stored it in ${secret.label}`, { user: name, newKey: keySuffix(fresh.id) });
  return true;
}

async function untagQuietly(run: Run, user: string, tag: string): Promise<void> {
  try {
    await untagUser(run.iam, user, tag);
  } catch (err) {
    // A tag left behind is harmless: the next run that reads this user removes it.
    run.log("warn", "could not remove a tag; the next run tries again", { user, tag, error: awsErrorName(err) });
  }
}
