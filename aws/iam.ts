/**
 * Reads every IAM user of an account with their access keys, in as few IAM calls as the answer allows.
 * Shared by the Config rule Lambda (periodic runs) and the CLI's live audit.
 *
 * Strategy (see docs/config-rule.md):
 * - `ListUsers` (MaxItems 1000, following `Marker`) gives every user's UserId, ARN and creation time,
 *   while, at the same time, the credential report is fetched (GenerateCredentialReport until COMPLETE
 *   with bounded backoff, then GetCredentialReport) and parsed with `shared/`.
 * - Each listed user is joined to its report row by name, ARN and creation time; a user missing from the
 *   report (created after it, or deleted and re-created under the same name) is read with ListAccessKeys.
 * - A report older than `reportFreshnessMs` that this run did not generate may miss a rotation or a
 *   re-activation made since: every user it makes NON_COMPLIANT, and every user with an inactive or empty
 *   key slot, is confirmed with ListAccessKeys (only two active, compliant keys are taken as shown).
 * - A throttled report is tried again within its wait budget; if the report is denied or unavailable,
 *   every user is read with ListAccessKeys, `concurrency` at once.
 * - With `onUnreadable: "skip"`, a user whose ListAccessKeys still fails after the SDK's retries is left
 *   out and named; every other user is still read.
 * - With `maxUnusedDays` set, a key is called unused only after GetAccessKeyLastUsed agrees: a user
 *   whose report row shows a key that may be unused is read with ListAccessKeys (the report has no key
 *   ids), keeps the report's last uses, and each key that may still be unused costs one
 *   GetAccessKeyLastUsed. No other key costs a call; with `maxUnusedDays` off, none does.
 */
import {
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  ListAccessKeysCommand,
  ListUsersCommand,
  type IAMClient,
  type User,
} from "@aws-sdk/client-iam";
import { evaluateUser, mayBeUnused, parseCredentialReport, parseTimestamp, validateParams, type AccessKey, type ReportUser, type RuleParams, type UserKeys } from "../shared";
import { carryReportedUse, withLastUse } from "./usage";
import { awsErrorName, describeError, IamReadError, isNoSuchEntity, isThrottling } from "./errors";
import { CallCounter, pool, sleep as timerSleep } from "./calls";

/** One access key of a user: an id when read with ListAccessKeys, a slot when read from the report. */
export interface IamAccessKey extends AccessKey {
  /** `Active` or `Inactive`. */
  readonly status: "Active" | "Inactive";
  /** Creation time as IAM reports it (RFC 3339); `N/A` from a report row is kept (undeterminable). */
  readonly createDate: string;
  /**
   * Last use, RFC 3339: from the credential report (`null` when it says the key was never used), or
   * from GetAccessKeyLastUsed for a key that could be unused (see `aws/usage.ts`); absent when not read.
   */
  readonly lastUsedDate?: string | null;
}

/** An IAM user (never the root account) and their keys. */
export interface IamUserRecord extends UserKeys {
  /** User name. */
  readonly user: string;
  /** The stable id AWS Config uses as the resource id (`AIDA…`). */
  readonly userId: string;
  readonly arn: string;
  /** Creation time of the user, RFC 3339. */
  readonly createDate: string;
  readonly keys: readonly IamAccessKey[];
  /** Where the keys came from: the credential report (slots) or ListAccessKeys (ids). */
  readonly source: "credential-report" | "list-access-keys";
}

/** A structured log sink: one JSON line per call is what the Lambda does with it. */
export type ReaderLog = (level: "debug" | "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) => void;

/** Options of {@link readAccount}. */
export interface ReadAccountOptions {
  /** Clock, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Rule parameters, used to find the users a stale report makes NON_COMPLIANT. Default `validateParams()`. */
  readonly params?: RuleParams;
  /** A report generated longer ago than this (and not by this call) has its users confirmed. Default 15 min. */
  readonly reportFreshnessMs?: number;
  /** Use the credential report at all. `false` reads every user with ListAccessKeys (key ids). Default true. */
  readonly useCredentialReport?: boolean;
  /** ListAccessKeys calls in flight at once. Default 8. */
  readonly concurrency?: number;
  /** Called as users are resolved: `done` of `total` (total is known once ListUsers has finished). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Time left before the caller must stop (e.g. Lambda's `getRemainingTimeInMillis`). Default: unlimited. */
  readonly remainingMs?: () => number;
  /** Stop issuing reads when `remainingMs()` falls below this. Default 10 000 ms. */
  readonly reserveMs?: number;
  /**
   * Waiting for the report (polling, and trying again after throttling): first pause, cap of one pause,
   * and total bound of all pauses. Default 200 ms, 3 s, 60 s.
   */
  readonly reportWait?: { readonly initialMs?: number; readonly maxMs?: number; readonly totalMs?: number };
  /** Sleep used between report polls (injectable for tests). Default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Structured log sink. Default: none. Never receives a full access key id or a secret. */
  readonly log?: ReaderLog;
  /**
   * What a user whose ListAccessKeys fails (after the SDK's retries; not NoSuchEntity) does to the read:
   * `"throw"` fails the whole read with {@link IamReadError} (the CLI: an audit is all or nothing);
   * `"skip"` leaves that user out, named in {@link AccountSnapshot.unreadable}, and reads every other
   * one (the Config rule: no guessed verdict, and no blank account for one throttled user). Default `"throw"`.
   */
  readonly onUnreadable?: "throw" | "skip";
  /**
   * Orders the users read one by one with ListAccessKeys before the reads start, e.g. those whose
   * earlier result is oldest first, so that when time runs out the users left unread are not the same
   * ones every run. Called only when there are more such users than `concurrency` (otherwise every read
   * starts at once and order cannot matter). Default: ListUsers order.
   */
  readonly prioritize?: (users: readonly ListedUser[]) => Promise<readonly ListedUser[]> | readonly ListedUser[];
  /**
   * Users known to have changed their keys since the report may have been made (e.g. named by IAM's
   * CloudTrail events): each is read with ListAccessKeys whatever the report says, so a report made
   * before the change cannot undo it. `complete: false` (more changes than could be named) makes the
   * report count as stale. Awaited after the report and ListUsers. Default: none.
   */
  readonly changed?: PromiseLike<ChangedUsers>;
}

/** See {@link ReadAccountOptions.changed}. */
export interface ChangedUsers {
  readonly users: ReadonlySet<string>;
  readonly complete: boolean;
  /**
   * True when the caller knows something newer than the report about this user (e.g. a result recorded
   * after `reportGeneratedAt` that the report's row contradicts): the user is read with ListAccessKeys.
   * Default: never.
   */
  readonly newer?: (record: IamUserRecord, reportGeneratedAt: Date) => boolean;
}

/** How the credential report was used. */
export interface ReportInfo {
  /** The report's GeneratedTime. */
  readonly generatedAt: Date;
  /** True when this call started the report's generation (GenerateCredentialReport said STARTED). */
  readonly generatedThisRun: boolean;
  /** True when no confirmation was needed (generated this run, or within `reportFreshnessMs`). */
  readonly fresh: boolean;
}

/** A user whose keys could not be read (see {@link ReadAccountOptions.onUnreadable}). */
export interface UnreadableUser {
  readonly user: string;
  readonly userId: string;
  /** Why, e.g. "Throttling: Rate exceeded". */
  readonly error: string;
}

/** What {@link readAccount} found. */
export interface AccountSnapshot {
  /** Every listed user that could be read, in ListUsers order. */
  readonly users: IamUserRecord[];
  /** The report's `<root_account>` row, when the report was read (the Config rule never reports it). */
  readonly root?: ReportUser;
  /** Set when the credential report was read. */
  readonly report?: ReportInfo;
  /** Why the report was not used (e.g. "AccessDenied: ..."), when it was not. */
  readonly reportUnavailable?: string;
  /** Every user ListUsers returned (read or not), in its order. */
  readonly listed: ListedUser[];
  /** User names that were not read because time ran out (never silently dropped). */
  readonly skipped: string[];
  /** Users whose ListAccessKeys failed, with `onUnreadable: "skip"` (always empty otherwise). */
  readonly unreadable: UnreadableUser[];
  /** Users that vanished during the run (NoSuchEntity on ListAccessKeys): name and UserId. */
  readonly deleted: { readonly user: string; readonly userId: string }[];
  /** False when ListUsers itself was cut short by the deadline: users beyond it are unknown. */
  readonly listComplete: boolean;
  /** IAM calls made, by action (one per `send`, SDK retries not counted). */
  readonly calls: Record<string, number>;
}

/** Default {@link ReadAccountOptions.reportFreshnessMs}: 15 minutes. */
export const DEFAULT_REPORT_FRESHNESS_MS = 15 * 60_000;
/** Default {@link ReadAccountOptions.concurrency}. */
export const DEFAULT_CONCURRENCY = 8;
/** Default {@link ReadAccountOptions.reserveMs}. */
export const DEFAULT_RESERVE_MS = 10_000;
/** Default {@link ReadAccountOptions.reportWait}. */
export const DEFAULT_REPORT_WAIT = { initialMs: 200, maxMs: 3000, totalMs: 60_000 } as const;
/** IAM's largest page for ListUsers and ListAccessKeys. */
export const IAM_MAX_ITEMS = 1000;

/**
 * One read of an account: the client, the tally and every setting with its default filled in, built once
 * by {@link readContext} and handed whole to each step.
 */
export interface ReadContext {
  readonly iam: IAMClient;
  readonly calls: CallCounter;
  readonly now: () => number;
  /** True while there is time to issue another read. */
  readonly timeLeft: () => boolean;
  readonly log: ReaderLog;
  readonly sleep: (ms: number) => Promise<void>;
  readonly wait: { readonly initialMs: number; readonly maxMs: number; readonly totalMs: number };
}

/** Fills in the defaults of `options` once, for every step of one read. */
export function readContext(iam: IAMClient, options: ReadAccountOptions = {}, calls = new CallCounter()): ReadContext {
  const reserveMs = options.reserveMs ?? DEFAULT_RESERVE_MS;
  const remainingMs = options.remainingMs;
  return {
    iam,
    calls,
    now: options.now ?? Date.now,
    timeLeft: () => remainingMs === undefined || remainingMs() > reserveMs,
    log: options.log ?? (() => undefined),
    sleep: options.sleep ?? timerSleep,
    wait: { ...DEFAULT_REPORT_WAIT, ...options.reportWait },
  };
}

/** A listed user (what ListUsers returns, with the fields keyage needs made non-optional). */
export interface ListedUser {
  readonly user: string;
  readonly userId: string;
  readonly arn: string;
  readonly createDate: string;
}

function toListed(u: User): ListedUser {
  return {
    user: u.UserName as string,
    userId: u.UserId as string,
    arn: u.Arn as string,
    createDate: u.CreateDate instanceof Date ? u.CreateDate.toISOString() : String(u.CreateDate),
  };
}

/**
 * Lists every IAM user with ListUsers (MaxItems 1000, following Marker; IAM may return fewer with
 * IsTruncated). Stops early, with `complete: false`, when `ctx.timeLeft()` turns false.
 */
export async function listUsers(ctx: Pick<ReadContext, "iam" | "calls" | "timeLeft">): Promise<{ users: ListedUser[]; complete: boolean }> {
  const users: ListedUser[] = [];
  let marker: string | undefined;
  do {
    if (!ctx.timeLeft()) return { users, complete: false };
    ctx.calls.add("ListUsers");
    const page = await ctx.iam.send(new ListUsersCommand({ MaxItems: IAM_MAX_ITEMS, Marker: marker }));
    for (const u of page.Users ?? []) users.push(toListed(u));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return { users, complete: true };
}

/**
 * Reads one user's access keys with ListAccessKeys (following Marker). Returns `undefined` when the user
 * no longer exists (NoSuchEntity). Other errors are thrown as {@link IamReadError}.
 */
export async function listAccessKeys(iam: IAMClient, userName: string, calls: CallCounter = new CallCounter()): Promise<IamAccessKey[] | undefined> {
  const keys: IamAccessKey[] = [];
  let marker: string | undefined;
  do {
    calls.add("ListAccessKeys");
    let page;
    try {
      page = await iam.send(new ListAccessKeysCommand({ UserName: userName, MaxItems: IAM_MAX_ITEMS, Marker: marker }));
    } catch (cause) {
      if (isNoSuchEntity(cause)) return undefined;
      throw new IamReadError(`ListAccessKeys for user ${JSON.stringify(userName)} failed: ${describeError(cause)}`, { cause });
    }
    for (const k of page.AccessKeyMetadata ?? []) {
      keys.push({
        accessKeyId: k.AccessKeyId as string,
        status: k.Status === "Inactive" ? "Inactive" : "Active",
        createDate: k.CreateDate instanceof Date ? k.CreateDate.toISOString() : String(k.CreateDate ?? ""),
      });
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return keys;
}

/** A credential report as fetched. */
export interface FetchedReport {
  readonly rows: ReportUser[];
  readonly generatedAt: Date;
  readonly generatedThisRun: boolean;
}

/** Why the report could not be used; the caller falls back to ListAccessKeys. */
export interface ReportUnavailable {
  readonly unavailable: string;
}

/**
 * Fetches and parses the credential report: GenerateCredentialReport until COMPLETE (pausing
 * `wait.initialMs`, doubling up to `wait.maxMs`, at most `wait.totalMs` of pauses in all), then
 * GetCredentialReport. A report that is missing or expired at Get is regenerated once. A call still
 * throttled after the SDK's own retries is tried again after the next pause of the same budget: one
 * more report call is far cheaper for a throttled IAM than the fallback's ListAccessKeys per user.
 * Access denied, a report that never completes, a budget spent, a report that does not parse:
 * `{ unavailable: reason }` rather than an exception.
 */
export async function fetchCredentialReport(ctx: ReadContext): Promise<FetchedReport | ReportUnavailable> {
  const { iam, calls, wait } = ctx;
  let generatedThisRun = false;
  let waited = 0;
  let pause = wait.initialMs;
  let regenerated = false;
  /** Pauses before the next try, or says why not (budget or deadline). */
  const another = async (what: string): Promise<string | undefined> => {
    if (waited + pause > wait.totalMs) return `${what} after ${waited} ms of waiting`;
    if (!ctx.timeLeft()) return `${what} before the deadline`;
    await ctx.sleep(pause);
    waited += pause;
    pause = Math.min(pause * 2, wait.maxMs);
    return undefined;
  };

  generate: for (;;) {
    // Generate until COMPLETE. IAM answers COMPLETE at once when a report under 4 hours old exists.
    for (;;) {
      let state: string | undefined;
      try {
        calls.add("GenerateCredentialReport");
        state = (await iam.send(new GenerateCredentialReportCommand({}))).State;
      } catch (cause) {
        const reason = `GenerateCredentialReport failed: ${describeError(cause)}`;
        if (!isThrottling(cause)) return { unavailable: reason };
        ctx.log("warn", "credential report throttled; trying it again rather than reading every user", { error: awsErrorName(cause) });
        const stop = await another(`${reason}, still throttled`);
        if (stop !== undefined) return { unavailable: stop };
        continue;
      }
      if (state === "STARTED") generatedThisRun = true;
      if (state === "COMPLETE") break;
      const stop = await another("the credential report was not ready");
      if (stop !== undefined) return { unavailable: stop };
    }
    for (;;) {
      let out;
      try {
        calls.add("GetCredentialReport");
        out = await iam.send(new GetCredentialReportCommand({}));
      } catch (cause) {
        const name = awsErrorName(cause);
        const reason = `GetCredentialReport failed: ${describeError(cause)}`;
        if (isThrottling(cause)) {
          ctx.log("warn", "credential report throttled; trying it again rather than reading every user", { error: name });
          const stop = await another(`${reason}, still throttled`);
          if (stop !== undefined) return { unavailable: stop };
          continue;
        }
        const retryable = /^CredentialReport(NotPresent|Expired|NotReady)Exception$|^Report(NotPresent|Expired|InProgress)$/.test(name);
        if (!retryable || regenerated || !ctx.timeLeft()) return { unavailable: reason };
        ctx.log("info", "credential report not available at Get; generating it again", { error: name });
        regenerated = true;
        continue generate;
      }
      const text = Buffer.from(out.Content ?? new Uint8Array()).toString("utf8");
      const generatedAt = out.GeneratedTime instanceof Date ? out.GeneratedTime : new Date(String(out.GeneratedTime));
      try {
        return { rows: parseCredentialReport(text), generatedAt, generatedThisRun };
      } catch (cause) {
        return { unavailable: `the credential report could not be parsed: ${describeError(cause)}` };
      }
    }
  }
}

function sameSecond(a: string, b: string): boolean {
  const x = parseTimestamp(a);
  const y = parseTimestamp(b);
  return x !== undefined && y !== undefined && Math.floor(x / 1000) === Math.floor(y / 1000);
}

/**
 * True when a stale report's row cannot be taken at its word: the user is NON_COMPLIANT by it (a
 * rotation since would be missed), or a key slot is inactive or empty (the report shows no creation time
 * for an inactive key, so a key re-activated since would be missed). Only two active, compliant keys are
 * safe: a user holds at most two keys, and a key created since is younger than the report.
 */
function needsConfirmation(record: IamUserRecord, params: RuleParams, now: number): boolean {
  if (record.keys.length < 2 || record.keys.some((k) => k.status !== "Active")) return true;
  return evaluateUser(record, params, now).compliance === "NON_COMPLIANT";
}

/**
 * Reads every IAM user of the account and their access keys. See the module comment for the strategy.
 * Users who cannot be read in time are listed in `skipped`; users deleted meanwhile in `deleted`; users
 * whose keys cannot be read in `unreadable` (with `onUnreadable: "skip"`). Throws {@link IamReadError}
 * when ListUsers fails, or (by default) a ListAccessKeys fails for a reason other than the user's
 * deletion (after the SDK's own retries).
 *
 * @example
 * const snapshot = await readAccount(new IAMClient({}), { onProgress: (d, t) => process.stderr.write(`${d}/${t}\r`) });
 * for (const u of snapshot.users) console.log(u.user, evaluateUser(u, params, Date.now()).compliance);
 */
export async function readAccount(iam: IAMClient, options: ReadAccountOptions = {}): Promise<AccountSnapshot> {
  const ctx = readContext(iam, options);
  const { calls, now, log } = ctx;
  const params = options.params ?? validateParams();
  const freshnessMs = options.reportFreshnessMs ?? DEFAULT_REPORT_FRESHNESS_MS;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));

  // ListUsers and the report are independent: fetch them side by side.
  const useReport = options.useCredentialReport ?? true;
  const reportPromise: Promise<FetchedReport | ReportUnavailable> = useReport ? fetchCredentialReport(ctx) : Promise.resolve({ unavailable: "not requested" });
  let listed: { users: ListedUser[]; complete: boolean };
  try {
    listed = await listUsers(ctx);
  } catch (cause) {
    await reportPromise.catch(() => undefined);
    throw new IamReadError(`ListUsers failed: ${describeError(cause)}`, { cause });
  }
  const fetched = await reportPromise;
  const changed: ChangedUsers = (await options.changed) ?? { users: new Set(), complete: true };

  let root: ReportUser | undefined;
  let report: ReportInfo | undefined;
  let reportUnavailable: string | undefined;
  const rowsByName = new Map<string, ReportUser>();
  if ("rows" in fetched) {
    for (const row of fetched.rows) {
      if (row.root) root = row;
      else rowsByName.set(row.user, row);
    }
    const fresh = changed.complete && (fetched.generatedThisRun || now() - fetched.generatedAt.getTime() <= freshnessMs);
    report = { generatedAt: fetched.generatedAt, generatedThisRun: fetched.generatedThisRun, fresh };
  } else {
    reportUnavailable = fetched.unavailable;
    if (useReport) log("warn", "credential report unavailable; reading every user with ListAccessKeys", { reason: fetched.unavailable });
  }

  const total = listed.users.length;
  let done = 0;
  const progress = (): void => options.onProgress?.(done, total);
  const resolved = new Map<string, IamUserRecord>();
  const toRead: ListedUser[] = [];
  let notInReport = 0;
  let confirmations = 0;
  let changedConfirmations = 0;
  let unusedChecks = 0;
  // The report's keys of users read again, so their last uses carry over (no call for what it knows).
  const reported = new Map<string, IamAccessKey[]>();
  for (const u of listed.users) {
    const row = rowsByName.get(u.user);
    // Name, ARN and creation time must all agree: a user deleted and re-created under the same name
    // after the report has the same name and ARN but not the same keys.
    if (!report || !row || row.arn !== u.arn || !sameSecond(row.userCreationTime, u.createDate)) {
      if (report) notInReport += 1;
      toRead.push(u);
      continue;
    }
    // The report knows every key's use: no last_used_date (N/A) means never used.
    const keys: IamAccessKey[] = row.keys.map((k) => ({ slot: k.slot, status: k.status, createDate: k.createDate, lastUsedDate: k.lastUsedDate ?? null }));
    const record: IamUserRecord = { ...u, keys, source: "credential-report" };
    // A change after the report (even one made in a "fresh" report's 15 minutes) is read live.
    if (changed.users.has(u.user) || changed.newer?.(record, report.generatedAt)) {
      changedConfirmations += 1;
      reported.set(u.userId, keys);
      toRead.push(u);
      continue;
    }
    // A stale report may hide a rotation or a re-activation made since: confirm before trusting it.
    if (!report.fresh && needsConfirmation(record, params, now())) {
      confirmations += 1;
      reported.set(u.userId, keys);
      toRead.push(u);
      continue;
    }
    // A key the report shows idle may have been used since (or the report lags): ask IAM before saying so.
    if (keys.some((k) => mayBeUnused(k, params, now()))) {
      unusedChecks += 1;
      reported.set(u.userId, keys);
      toRead.push(u);
      continue;
    }
    resolved.set(u.userId, record);
    done += 1;
  }
  progress();
  if (report) {
    log("info", "credential report joined", {
      generatedAt: report.generatedAt.toISOString(),
      generatedThisRun: report.generatedThisRun,
      fresh: report.fresh,
      notInReport,
      confirmations,
      ...(options.changed === undefined ? {} : { changedConfirmations, changesComplete: changed.complete }),
      ...(params.maxUnusedDays === undefined ? {} : { unusedChecks }),
    });
  }

  const skippedSet = new Set<string>();
  const unreadable: UnreadableUser[] = [];
  const deleted: { user: string; userId: string }[] = [];
  const ordered = options.prioritize && toRead.length > concurrency ? await options.prioritize(toRead) : toRead;
  await pool(ordered, concurrency, async (u) => {
    if (!ctx.timeLeft()) {
      skippedSet.add(u.user);
      return;
    }
    let keys: IamAccessKey[] | undefined;
    try {
      keys = await listAccessKeys(iam, u.user, calls);
      if (keys !== undefined && params.maxUnusedDays !== undefined) {
        keys = await withLastUse(iam, carryReportedUse(keys, reported.get(u.userId) ?? []), params, now(), calls);
      }
    } catch (err) {
      if (options.onUnreadable !== "skip") throw err;
      // No verdict rather than a guess: the report's row (if any) is exactly what could not be confirmed.
      const error = describeError(err instanceof IamReadError && err.cause !== undefined ? err.cause : err);
      unreadable.push({ user: u.user, userId: u.userId, error });
      log("warn", "could not read a user's access keys; the user is not evaluated this run", { user: u.user, error });
      return;
    }
    if (keys === undefined) deleted.push({ user: u.user, userId: u.userId });
    else resolved.set(u.userId, { ...u, keys, source: "list-access-keys" });
    done += 1;
    progress();
  });

  const order = new Map(listed.users.map((u, i) => [u.user, i]));
  unreadable.sort((x, y) => (order.get(x.user) ?? 0) - (order.get(y.user) ?? 0));
  return {
    users: listed.users.map((u) => resolved.get(u.userId)).filter((u): u is IamUserRecord => u !== undefined),
    root,
    report,
    reportUnavailable,
    listed: listed.users,
    skipped: listed.users.filter((u) => skippedSet.has(u.user)).map((u) => u.user),
    unreadable,
    deleted,
    listComplete: listed.complete,
    calls: calls.toJSON(),
  };
}
