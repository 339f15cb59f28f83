/**
 * `keyage audit`: reads users and keys (a credential report file, standard input, or the live account),
 * evaluates them with the shared rule, prints them in the chosen format and, with `--security-hub`,
 * imports them as findings. Returns the exit status: 0 all compliant, 1 violations (see {@link EXIT}).
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import {
  CredentialReportError,
  evaluateUser,
  ParameterError,
  parseCredentialReport,
  parseTimestamp,
  ROOT_ACCOUNT,
  show,
  validateParams,
  withReportedUse,
  type RuleParams,
} from "../shared";
import { AwsError, EXIT, UsageError, type CliIO, type Clients, type ExitStatus } from "./io";
import { accountOf, evaluateAll, incomplete, nameKeysById, summarize, type Audit, type AuditInput } from "./model";

/** The formats `--format` accepts. */
export const FORMATS = ["table", "json", "csv", "asff", "ocsf", "html"] as const;
export type Format = (typeof FORMATS)[number];

/** `keyage audit`'s options, as commander hands them over (strings, unparsed). */
export interface AuditOptions {
  /** Credential report file; `-` reads standard input. Absent: the live account. */
  readonly credentialReport?: string;
  /** Accept a report without the `<root_account>` row (a deliberate extract); root then goes unchecked. Default false. */
  readonly allowPartialReport?: boolean;
  /** Default 30. */
  readonly maxAgeDays?: string;
  /** Default 7 (or maxAgeDays − 1 when smaller). */
  readonly warnDays?: string;
  /** RFC 3339 instant to evaluate at. Default: now. */
  readonly now?: string;
  /** Default `table`. */
  readonly format?: Format;
  /** Unused-key limit in days (1–3650). Default off. */
  readonly maxUnusedDays?: string;
  /** `USER` or `USER:YYYY-MM-DD`, repeatable. Default none. */
  readonly exempt?: readonly string[];
  readonly profile?: string;
  readonly region?: string;
  /** Import the findings into Security Hub. Default false. */
  readonly securityHub?: boolean;
  /** Audit every account of the organization through `roleName`. Default false (the caller's account). */
  readonly organization?: boolean;
  /** The read-only audit role assumed in each account (`--organization` only; required there). */
  readonly roleName?: string;
  /** Only these accounts (ids separated by blanks or commas, or a JSON array). Default: every ACTIVE account. */
  readonly accounts?: string;
  /** Leave these accounts out. Default none. */
  readonly excludeAccounts?: string;
}

/** How a note on stderr says that the root user's keys went unchecked (live audit and offline extract alike). */
const ROOT_UNCHECKED = "the root user's keys were not checked";

const NAMES = { maxAgeDays: "--max-age-days", warnDays: "--warn-days", exemptions: "--exempt", maxUnusedDays: "--max-unused-days" };

/** Validates the flags that need no I/O; throws {@link UsageError} naming the flag and the value. */
export function parseAuditFlags(opts: AuditOptions, clock: () => number): { params: RuleParams; now: number } {
  for (const [flag, value] of [["--max-age-days", opts.maxAgeDays], ["--warn-days", opts.warnDays], ["--max-unused-days", opts.maxUnusedDays]] as const) {
    if (value !== undefined && value.trim() === "") throw new UsageError(`${flag} needs a whole number of days, got ""`);
  }
  let params: RuleParams;
  try {
    params = validateParams({ maxAgeDays: opts.maxAgeDays, warnDays: opts.warnDays, exemptions: [...(opts.exempt ?? [])], maxUnusedDays: opts.maxUnusedDays }, NAMES);
  } catch (err) {
    if (err instanceof ParameterError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
  let now = clock();
  if (opts.now !== undefined) {
    const parsed = parseTimestamp(opts.now);
    if (parsed === undefined) {
      throw new UsageError(`--now must be an RFC 3339 timestamp with a time zone, e.g. 2026-11-29T12:00:00Z, got ${show(opts.now)}`);
    }
    now = parsed;
  }
  return { params, now };
}

function readError(file: string, err: unknown): UsageError {
  const code = (err as { code?: string }).code;
  const why =
    code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : (err as Error).message;
  return new UsageError(`cannot read the credential report ${show(file)}: ${why}`, { cause: err });
}

async function readReport(file: string, io: CliIO, allowPartial: boolean): Promise<ReadResult> {
  let text: string;
  const source = file === "-" ? "standard input" : file;
  try {
    if (file === "-") {
      text = await (io.readStdin ?? readProcessStdin)();
    } else {
      text = await readFile(path.resolve(io.cwd ?? process.cwd(), file), "utf8");
    }
  } catch (err) {
    throw readError(file, err);
  }
  let inputs: AuditInput[];
  try {
    // The report knows every key's use (N/A: never used), so --max-unused-days applies to it as it is.
    inputs = parseCredentialReport(text).map((r): AuditInput => ({ user: r.user, arn: r.arn, root: r.root, userCreatedAt: r.userCreationTime, keys: r.keys.map(withReportedUse) }));
  } catch (err) {
    if (err instanceof CredentialReportError) throw new UsageError(`${source}: ${err.message}`, { cause: err });
    throw err;
  }
  // AWS always writes the root row: without it, "All 0 users compliant" would be a pass for a cut-off file.
  if (!inputs.some((u) => u.root)) {
    if (!allowPartial) {
      throw new UsageError(
        `${source}: no ${ROOT_ACCOUNT} row: every credential report AWS writes has one, so this file is cut short or not a credential report (pass --allow-partial-report if it is a deliberate extract)`,
      );
    }
    io.stderr.write(`keyage: note: ${ROOT_UNCHECKED} (no ${ROOT_ACCOUNT} row in ${source})\n`);
  }
  return { inputs, source };
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Progress on stderr while a live audit reads many users: a rewritten line on a terminal, else a line per 1 000. */
function progressReporter(io: CliIO): { update(done: number, total: number): void; end(): void } {
  const tty = io.stderr.isTTY === true;
  let last = 0;
  let shown = false;
  return {
    update(done, total) {
      if (total < 100) return;
      if (tty) {
        const t = Date.now();
        if (t - last < 100 && done < total) return;
        last = t;
        shown = true;
        io.stderr.write(`\rkeyage: reading IAM users ${done}/${total}`);
      } else if (done % 1000 === 0 || done === total) {
        io.stderr.write(`keyage: read ${done} of ${total} IAM users\n`);
      }
    },
    end() {
      if (shown) io.stderr.write("\r\x1b[K");
    },
  };
}

/** What a read found: the users to audit and where they came from. */
export interface ReadResult {
  readonly inputs: AuditInput[];
  readonly source: string;
  /** The region the live read's IAM client resolved, for asff findings. */
  readonly region?: string | undefined;
  /** What a live read could not check or list (also written to stderr). */
  readonly notes?: readonly string[];
}

/** Where a live read's notes go (the root row not checked, a user deleted mid-audit): one line each, without the "keyage: " prefix. */
export type NoteSink = (note: string) => void;

async function readLive(opts: AuditOptions, io: CliIO, params: RuleParams, now: number): Promise<ReadResult> {
  const { checkProfile } = await import("./aws");
  checkProfile(opts.profile, io);
  const { defaultClients } = await import("../aws/lazy-clients");
  const clients = await (io.clients ?? defaultClients)({ profile: opts.profile, region: opts.region });
  const progress = progressReporter(io);
  try {
    return await readLiveAccount(clients, params, now, (note) => io.stderr.write(`keyage: note: ${note}\n`), (d, t) => progress.update(d, t));
  } finally {
    progress.end();
  }
}

/**
 * The live audit of one account, with the clients given (the caller's own, or an assumed role's): IAM
 * users and keys through the shared reader (credential report fast path), the root row from the report,
 * and one ListAccessKeys per NON_COMPLIANT user read from the report, so its keys are named by id. The
 * organization audit runs exactly this in every account.
 *
 * @throws AwsError when the account cannot be read in full (the audit would be incomplete).
 */
export async function readLiveAccount(
  clients: Pick<Clients, "iam">,
  params: RuleParams,
  now: number,
  note: NoteSink,
  onProgress?: (done: number, total: number) => void,
): Promise<ReadResult> {
  const { awsFailure } = await import("./aws");
  const { readAccount, listAccessKeys, DEFAULT_CONCURRENCY } = await import("../aws/iam");
  const { pool } = await import("../aws/calls");
  const iam = clients.iam();
  let snapshot;
  try {
    snapshot = await readAccount(iam, { params, now: () => now, ...(onProgress ? { onProgress } : {}) });
  } catch (err) {
    throw awsFailure("reading the account's IAM users", err);
  }
  if (!snapshot.listComplete || snapshot.skipped.length > 0) {
    throw new AwsError(`could not read every IAM user (${snapshot.skipped.length} left unread); the audit is incomplete`);
  }
  const root = snapshot.root;
  const inputs: AuditInput[] = [];
  const notes: string[] = [];
  if (root) inputs.push({ user: root.user, arn: root.arn, root: true, userCreatedAt: root.userCreationTime, keys: root.keys.map(withReportedUse) });
  else notes.push(`${ROOT_UNCHECKED} (no credential report${snapshot.reportUnavailable ? `: ${snapshot.reportUnavailable}` : ""})`);
  const deleted = [...snapshot.deleted];
  // A user read from the credential report has key slots, not ids, and a slot cannot be rotated: for a
  // NON_COMPLIANT user only (compliant users cost no call), one ListAccessKeys names the keys by id.
  const read: (AuditInput | undefined)[] = [];
  try {
    await pool(snapshot.users, DEFAULT_CONCURRENCY, async (u, i) => {
      const input: AuditInput = { user: u.user, arn: u.arn, userCreatedAt: u.createDate, keys: u.keys };
      if (u.source !== "credential-report" || evaluateUser(input, params, now).compliance !== "NON_COMPLIANT") {
        read[i] = input;
        return;
      }
      const listed = await listAccessKeys(iam, u.user);
      if (listed === undefined) deleted.push({ user: u.user, userId: u.userId });
      else read[i] = { ...input, keys: nameKeysById(input.keys, listed) };
    });
  } catch (err) {
    throw awsFailure("naming the non-compliant users' keys (iam:ListAccessKeys)", err);
  }
  for (const input of read) if (input) inputs.push(input);
  for (const d of deleted) notes.push(`user ${d.user} was deleted during the audit and is not listed`);
  for (const n of notes) note(n);
  const account = inputs.map((u) => accountOf(u.arn)).find((a) => a !== undefined);
  // The region the IAM client resolved (--region, environment or profile), for asff findings.
  let region: string | undefined;
  try {
    region = await iam.config.region();
  } catch {
    region = undefined;
  }
  return { inputs, source: account ? `account ${account}` : "the account", region, notes };
}

/** Runs `keyage audit`. Throws {@link UsageError} / {@link AwsError} for the caller to print. */
export async function runAudit(opts: AuditOptions, io: CliIO): Promise<ExitStatus> {
  const env = io.env ?? process.env;
  const format: Format = opts.format ?? "table";
  const { params, now } = parseAuditFlags(opts, io.now ?? Date.now);
  const live = opts.credentialReport === undefined;
  let region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (format === "asff" && !region && !live && !opts.securityHub) {
    throw new UsageError("--format asff needs a region for the findings' ProductArn: pass --region or set AWS_REGION");
  }

  const { parseOrganizationFlags, auditOrganization } = await import("./organization");
  const organization = parseOrganizationFlags(opts);
  let audit: Audit;
  let liveRegion: string | undefined;
  if (organization) {
    ({ audit, region: liveRegion } = await auditOrganization(opts, organization, io, params, now));
  } else {
    const read = live ? await readLive(opts, io, params, now) : await readReport(opts.credentialReport as string, io, opts.allowPartialReport === true);
    liveRegion = read.region;
    audit = evaluateAll(read.inputs, params, now, read.source);
  }
  for (const e of params.exemptions) {
    if (!audit.entries.some((u) => u.user.toLowerCase() === e.user.toLowerCase())) {
      io.stderr.write(`keyage: note: --exempt ${e.user}: no such user in ${audit.source}\n`);
    }
  }
  const source = audit.source;

  let findings: import("@aws-sdk/client-securityhub").AwsSecurityFinding[] | undefined;
  let hub: Awaited<ReturnType<typeof prepareSecurityHub>> | undefined;
  if (opts.securityHub) {
    hub = await prepareSecurityHub(opts, io, audit, region);
    region = hub.region;
  }
  if (format === "asff" || hub) {
    const { AsffError, toFindings } = await import("./asff");
    // A live audit may get its region from a profile rather than flags or the environment.
    region ??= liveRegion;
    try {
      findings = toFindings(audit, { region: region as string, ...(hub ? { accountId: hub.accountId } : {}) });
    } catch (err) {
      // An ARN without an account id is bad input (an edited report), not a bug.
      if (err instanceof AsffError) throw new UsageError(`${source}: ${err.message}`, { cause: err });
      throw err;
    }
  }

  io.stdout.write(await render(audit, format, findings, io));

  // An account left unaudited makes the whole audit incomplete: 3, whatever the others showed.
  let status: ExitStatus = incomplete(audit) ? EXIT.AWS : summarize(audit).nonCompliant > 0 ? EXIT.VIOLATIONS : EXIT.OK;
  if (hub && findings) {
    const { importFindings } = await import("./security-hub");
    const result = await importFindings(hub.client, findings);
    io.stderr.write(`keyage: imported ${result.imported} of ${findings.length} findings into Security Hub (${hub.region}, account ${hub.accountId})\n`);
    for (const f of result.failed.slice(0, 20)) io.stderr.write(`keyage: finding ${f.id} was rejected: ${f.code}: ${f.message}\n`);
    if (result.failed.length > 20) io.stderr.write(`keyage: ... and ${result.failed.length - 20} more rejected findings\n`);
    if (result.failed.length > 0) status = EXIT.AWS;
  }
  return status;
}

async function render(audit: Audit, format: Format, findings: unknown[] | undefined, io: CliIO): Promise<string> {
  switch (format) {
    case "json":
      return (await import("./json")).formatJson(audit);
    case "csv":
      return (await import("./csv")).formatCsv(audit);
    case "asff":
      return `${JSON.stringify(findings, null, 2)}\n`;
    case "ocsf":
      return (await import("./ocsf")).formatOcsf(audit);
    case "html":
      return (await import("./html")).formatHtml(audit);
    case "table": {
      const env = io.env ?? process.env;
      const colour = io.stdout.isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
      return (await import("./table")).formatTable(audit, colour);
    }
    default:
      return format satisfies never;
  }
}

/**
 * Before anything is imported: the findings must carry the caller's account (Security Hub rejects
 * others), so ask STS who we are and refuse a report from another account.
 */
async function prepareSecurityHub(opts: AuditOptions, io: CliIO, audit: Audit, region: string | undefined) {
  const { awsFailure, checkProfile } = await import("./aws");
  checkProfile(opts.profile, io);
  const { defaultClients } = await import("../aws/lazy-clients");
  const { GetCallerIdentityCommand } = await import("@aws-sdk/client-sts");
  const clients = await (io.clients ?? defaultClients)({ profile: opts.profile, region: opts.region });
  const client = clients.securityHub();
  let accountId: string | undefined;
  try {
    accountId = (await clients.sts().send(new GetCallerIdentityCommand({}))).Account;
    region ??= await client.config.region();
  } catch (err) {
    throw awsFailure("finding the caller's account for Security Hub (sts:GetCallerIdentity)", err);
  }
  if (!accountId) throw new AwsError("sts:GetCallerIdentity returned no account id");
  const other = audit.entries.map((e) => accountOf(e.arn)).find((a) => a !== undefined && a !== accountId);
  if (other) {
    throw new UsageError(`--security-hub: the report is for account ${other} but the credentials are for account ${accountId}; Security Hub only accepts findings for the caller's own account`);
  }
  return { client, accountId, region: region as string };
}
