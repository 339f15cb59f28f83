/**
 * Reads every IAM user of an account with their access keys, in as few IAM calls as the answer allows.
 * Shared by the Config rule Lambda (periodic runs) and the CLI's live audit.
 *
 * Strategy (see README "config-rule"):
 * - `ListUsers` (MaxItems 1000, following `Marker`) gives every user's UserId, ARN and creation time,
 *   while, at the same time, the credential report is fetched (GenerateCredentialReport until COMPLETE
 *   with bounded backoff, then GetCredentialReport) and parsed with `shared/`.
 * - Each listed user is joined to its report row by name, ARN and creation time; a user missing from the
 *   report (created after it, or deleted and re-created under the same name) is read with ListAccessKeys.
 * - A report older than `reportFreshnessMs` that this run did not generate may miss a rotation made since:
 *   every user it makes NON_COMPLIANT is confirmed with ListAccessKeys.
 * - If the report is denied or unavailable, every user is read with ListAccessKeys, `concurrency` at once.
 */
import {
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  ListAccessKeysCommand,
  ListUsersCommand,
  type IAMClient,
  type User,
} from "@aws-sdk/client-iam";
import { evaluateUser, parseCredentialReport, parseTimestamp, validateParams, type AccessKey, type ReportUser, type RuleParams, type UserKeys } from "../shared";
import { awsErrorName, describeError, IamReadError, isNoSuchEntity } from "./errors";
import { CallCounter, pool, sleep as timerSleep } from "./calls";

/** One access key of a user: an id when read with ListAccessKeys, a slot when read from the report. */
export interface IamAccessKey extends AccessKey {
  /** `Active` or `Inactive`. */
  readonly status: "Active" | "Inactive";
  /** Creation time as IAM reports it (RFC 3339); `N/A` from a report row is kept (undeterminable). */
  readonly createDate: string;
  /** Last use (report only), RFC 3339. */
  readonly lastUsedDate?: string;
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
  /** A report generated longer ago than this (and not by this call) has its violations confirmed. Default 15 min. */
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
  /** Waiting for the report: first pause, cap of one pause, and total bound. Default 200 ms, 3 s, 60 s. */
  readonly reportWait?: { readonly initialMs?: number; readonly maxMs?: number; readonly totalMs?: number };
  /** Sleep used between report polls (injectable for tests). Default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Structured log sink. Default: none. Never receives a full access key id or a secret. */
  readonly log?: ReaderLog;
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
/** IAM's largest page for ListUsers and ListAccessKeys. */
export const IAM_MAX_ITEMS = 1000;

/** Internal state shared by the steps of one read. */
interface Run {
  readonly iam: IAMClient;
  readonly calls: CallCounter;
  readonly now: () => number;
  /** True while there is time to issue another read. */
  readonly timeLeft: () => boolean;
  readonly log: ReaderLog;
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
 * IsTruncated). Stops early, with `complete: false`, when `timeLeft()` turns false.
 */
export async function listUsers(
  iam: IAMClient,
  options: { calls?: CallCounter; timeLeft?: () => boolean } = {},
): Promise<{ users: ListedUser[]; complete: boolean }> {
  const calls = options.calls ?? new CallCounter();
  const timeLeft = options.timeLeft ?? (() => true);
  const users: ListedUser[] = [];
  let marker: string | undefined;
  do {
    if (!timeLeft()) return { users, complete: false };
    calls.add("ListUsers");
    const page = await iam.send(new ListUsersCommand({ MaxItems: IAM_MAX_ITEMS, ...(marker ? { Marker: marker } : {}) }));
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
      page = await iam.send(new ListAccessKeysCommand({ UserName: userName, MaxItems: IAM_MAX_ITEMS, ...(marker ? { Marker: marker } : {}) }));
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
 * `initialMs`, doubling up to `maxMs`, at most `totalMs` of pauses in all), then GetCredentialReport.
 * A report that is missing or expired at Get is regenerated once. Access denied, LimitExceeded, a report
 * that never completes or does not parse: `{ unavailable: reason }` rather than an exception.
 */
export async function fetchCredentialReport(
  iam: IAMClient,
  options: {
    calls?: CallCounter;
    timeLeft?: () => boolean;
    wait?: ReadAccountOptions["reportWait"];
    sleep?: (ms: number) => Promise<void>;
    log?: ReaderLog;
  } = {},
): Promise<FetchedReport | ReportUnavailable> {
  const calls = options.calls ?? new CallCounter();
  const timeLeft = options.timeLeft ?? (() => true);
  const sleep = options.sleep ?? timerSleep;
  const initialMs = options.wait?.initialMs ?? 200;
  const maxMs = options.wait?.maxMs ?? 3000;
  const totalMs = options.wait?.totalMs ?? 60_000;
  let generatedThisRun = false;
  let waited = 0;
  let pause = initialMs;
  let regenerated = false;

  for (;;) {
    // Generate until COMPLETE. IAM answers COMPLETE at once when a report under 4 hours old exists.
    for (;;) {
      let state: string | undefined;
      try {
        calls.add("GenerateCredentialReport");
        state = (await iam.send(new GenerateCredentialReportCommand({}))).State;
      } catch (cause) {
        return { unavailable: `GenerateCredentialReport failed: ${describeError(cause)}` };
      }
      if (state === "STARTED") generatedThisRun = true;
      if (state === "COMPLETE") break;
      if (waited + pause > totalMs) return { unavailable: `the credential report was not ready after ${waited} ms of waiting` };
      if (!timeLeft()) return { unavailable: "the credential report was not ready before the deadline" };
      await sleep(pause);
      waited += pause;
      pause = Math.min(pause * 2, maxMs);
    }
    try {
      calls.add("GetCredentialReport");
      const out = await iam.send(new GetCredentialReportCommand({}));
      const text = Buffer.from(out.Content ?? new Uint8Array()).toString("utf8");
      const generatedAt = out.GeneratedTime instanceof Date ? out.GeneratedTime : new Date(String(out.GeneratedTime));
      let rows: ReportUser[];
      try {
        rows = parseCredentialReport(text);
      } catch (cause) {
        return { unavailable: `the credential report could not be parsed: ${describeError(cause)}` };
      }
      return { rows, generatedAt, generatedThisRun };
    } catch (cause) {
      const name = awsErrorName(cause);
      const retryable = /^CredentialReport(NotPresent|Expired|NotReady)Exception$|^Report(NotPresent|Expired|InProgress)$/.test(name);
      if (!retryable || regenerated || !timeLeft()) return { unavailable: `GetCredentialReport failed: ${describeError(cause)}` };
      options.log?.("info", "credential report not available at Get; generating it again", { error: name });
      regenerated = true;
    }
  }
}

function sameSecond(a: string, b: string): boolean {
  const x = parseTimestamp(a);
  const y = parseTimestamp(b);
  return x !== undefined && y !== undefined && Math.floor(x / 1000) === Math.floor(y / 1000);
}

/**
 * Reads every IAM user of the account and their access keys. See the module comment for the strategy.
 * Users who cannot be read in time are listed in `skipped`; users deleted meanwhile in `deleted`.
 * Throws {@link IamReadError} when ListUsers or a ListAccessKeys fails for a reason other than the user's
 * deletion (after the SDK's own retries).
 *
 * @example
 * const snapshot = await readAccount(new IAMClient({}), { onProgress: (d, t) => process.stderr.write(`${d}/${t}\r`) });
 * for (const u of snapshot.users) console.log(u.user, evaluateUser(u, params, Date.now()).compliance);
 */
export async function readAccount(iam: IAMClient, options: ReadAccountOptions = {}): Promise<AccountSnapshot> {
  const now = options.now ?? Date.now;
  const params = options.params ?? validateParams();
  const freshnessMs = options.reportFreshnessMs ?? DEFAULT_REPORT_FRESHNESS_MS;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
  const reserveMs = options.reserveMs ?? DEFAULT_RESERVE_MS;
  const remainingMs = options.remainingMs;
  const log: ReaderLog = options.log ?? (() => undefined);
  const calls = new CallCounter();
  const run: Run = { iam, calls, now, log, timeLeft: () => remainingMs === undefined || remainingMs() > reserveMs };

  // ListUsers and the report are independent: fetch them side by side.
  const useReport = options.useCredentialReport ?? true;
  const reportPromise: Promise<FetchedReport | ReportUnavailable> = useReport
    ? fetchCredentialReport(iam, { calls, timeLeft: run.timeLeft, log, ...(options.reportWait ? { wait: options.reportWait } : {}), ...(options.sleep ? { sleep: options.sleep } : {}) })
    : Promise.resolve({ unavailable: "not requested" });
  let listed: { users: ListedUser[]; complete: boolean };
  try {
    listed = await listUsers(iam, { calls, timeLeft: run.timeLeft });
  } catch (cause) {
    await reportPromise.catch(() => undefined);
    throw new IamReadError(`ListUsers failed: ${describeError(cause)}`, { cause });
  }
  const fetched = await reportPromise;

  let root: ReportUser | undefined;
  let report: ReportInfo | undefined;
  let reportUnavailable: string | undefined;
  const rowsByName = new Map<string, ReportUser>();
  if ("rows" in fetched) {
    for (const row of fetched.rows) {
      if (row.root) root = row;
      else rowsByName.set(row.user, row);
    }
    const fresh = fetched.generatedThisRun || now() - fetched.generatedAt.getTime() <= freshnessMs;
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
  for (const u of listed.users) {
    const row = rowsByName.get(u.user);
    // Name, ARN and creation time must all agree: a user deleted and re-created under the same name
    // after the report has the same name and ARN but not the same keys.
    if (!report || !row || row.arn !== u.arn || !sameSecond(row.userCreationTime, u.createDate)) {
      if (report) notInReport += 1;
      toRead.push(u);
      continue;
    }
    const keys: IamAccessKey[] = row.keys.map((k) => ({
      slot: k.slot,
      status: k.status,
      createDate: k.createDate,
      ...(k.lastUsedDate ? { lastUsedDate: k.lastUsedDate } : {}),
    }));
    const record: IamUserRecord = { ...u, keys, source: "credential-report" };
    // A stale report may still show a key that has since been rotated away: confirm before flagging.
    if (!report.fresh && evaluateUser(record, params, now()).compliance === "NON_COMPLIANT") {
      confirmations += 1;
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
    });
  }

  const skippedSet = new Set<string>();
  const deleted: { user: string; userId: string }[] = [];
  await pool(toRead, concurrency, async (u) => {
    if (!run.timeLeft()) {
      skippedSet.add(u.user);
      return;
    }
    const keys = await listAccessKeys(iam, u.user, calls);
    if (keys === undefined) deleted.push({ user: u.user, userId: u.userId });
    else resolved.set(u.userId, { ...u, keys, source: "list-access-keys" });
    done += 1;
    progress();
  });

  const users = listed.users.map((u) => resolved.get(u.userId)).filter((u): u is IamUserRecord => u !== undefined);
  return {
    users,
    ...(root ? { root } : {}),
    ...(report ? { report } : {}),
    ...(reportUnavailable !== undefined ? { reportUnavailable } : {}),
    listed: listed.users,
    skipped: listed.users.filter((u) => skippedSet.has(u.user)).map((u) => u.user),
    deleted,
    listComplete: listed.complete,
    calls: calls.toJSON(),
  };
}
