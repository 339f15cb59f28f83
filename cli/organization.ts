/**
 * `keyage audit --organization`: the live audit of every chosen account of an AWS organization, through a
 * read-only role assumed in each. Each account is read exactly as `keyage audit` reads the caller's own
 * ({@link readLiveAccount}); an account that cannot be assumed or read is reported with its error and
 * never stops the others. Returns one {@link Audit} whose entries carry their account, and whose
 * `accounts` lists every account chosen, audited or not.
 */
import { parseList, show, type RuleParams } from "../shared";
import { readLiveAccount, type AuditOptions } from "./audit";
import { AwsError, UsageError, type CliIO, type Clients } from "./io";
import { evaluateAll, type AccountRun, type Audit, type AuditEntry } from "./model";

/** Accounts audited at once. Each account's own reads run 8 ListAccessKeys at a time at most (aws/iam.ts). */
export const ACCOUNT_CONCURRENCY = 8;

/** The session name the audit's assumed-role sessions carry (CloudTrail shows it in every account). */
export const AUDIT_SESSION_NAME = "keyage-audit";

/** An IAM role name, with an optional path (`audit/keyage-audit`), as `--role-name` takes it. */
const ROLE_NAME = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const ACCOUNT_ID = /^\d{12}$/;

/** What `--organization` was asked to do, validated. */
export interface OrganizationRequest {
  readonly roleName: string;
  /** `--accounts`: only these (Organizations is then not asked for the list). */
  readonly accounts?: readonly string[];
  /** `--exclude-accounts`. */
  readonly exclude: readonly string[];
}

function accountList(value: string | undefined, flag: string): string[] | undefined {
  if (value === undefined) return undefined;
  // Account ids have no blanks or commas: either separates them, as does a JSON array.
  const list = parseList(value, flag, "12-digit account ids", /[\s,]+/);
  const bad = list.find((a) => typeof a !== "string" || !ACCOUNT_ID.test(a));
  if (bad !== undefined) throw new UsageError(`${flag} takes 12-digit AWS account ids, got ${show(bad)}`);
  if (list.length === 0) throw new UsageError(`${flag} needs at least one 12-digit AWS account id`);
  return [...new Set(list as string[])];
}

/**
 * Validates the organization flags: `--role-name` is required with `--organization`, and the account
 * flags and `--role-name` mean nothing without it. Returns undefined for a single-account audit.
 *
 * @throws UsageError naming the flag and the value.
 */
export function parseOrganizationFlags(opts: AuditOptions): OrganizationRequest | undefined {
  if (!opts.organization) {
    for (const [flag, value] of [["--role-name", opts.roleName], ["--accounts", opts.accounts], ["--exclude-accounts", opts.excludeAccounts]] as const) {
      if (value !== undefined) throw new UsageError(`${flag} is only used with --organization`);
    }
    return undefined;
  }
  if (opts.credentialReport !== undefined) throw new UsageError("--organization audits live accounts: it cannot be used with --credential-report");
  if (opts.securityHub) {
    throw new UsageError("--organization cannot be used with --security-hub: Security Hub takes findings only for the caller's own account (write --format asff and import them in each account, or use Security Hub's organization aggregation)");
  }
  if (opts.roleName === undefined) throw new UsageError("--organization needs --role-name: the read-only audit role to assume in each account (see docs/cli.md)");
  if (!ROLE_NAME.test(opts.roleName)) throw new UsageError(`--role-name must be an IAM role name (letters, digits and +=,.@_-, at most 64), optionally after a path, got ${show(opts.roleName)}`);
  const accounts = accountList(opts.accounts, "--accounts");
  const exclude = accountList(opts.excludeAccounts, "--exclude-accounts") ?? [];
  return { roleName: opts.roleName, exclude, ...(accounts ? { accounts } : {}) };
}

/** Progress on stderr while accounts are audited: a rewritten line, on a terminal only (quiet in pipes and CI logs). */
function accountProgress(io: CliIO): { update(done: number, total: number): void; end(): void } {
  if (io.stderr.isTTY !== true) return { update: () => undefined, end: () => undefined };
  let shown = false;
  return {
    update(done, total) {
      shown = true;
      io.stderr.write(`\rkeyage: auditing accounts ${done}/${total}`);
    },
    end() {
      if (shown) io.stderr.write("\r\x1b[K");
    },
  };
}

interface ChosenAccount {
  readonly id: string;
  readonly name?: string;
  readonly partition: string;
}

/** The accounts to audit: the organization's ACTIVE ones (or `--accounts`), less `--exclude-accounts`, in id order. */
async function chooseAccounts(request: OrganizationRequest, central: Clients, io: CliIO): Promise<ChosenAccount[]> {
  const { awsFailure } = await import("./aws");
  let chosen: ChosenAccount[];
  if (request.accounts) {
    // No ListAccounts (it needs the management or a delegated administrator account): the partition comes
    // from the caller's own identity.
    const { GetCallerIdentityCommand } = await import("@aws-sdk/client-sts");
    let arn: string | undefined;
    try {
      arn = (await central.sts().send(new GetCallerIdentityCommand({}))).Arn;
    } catch (err) {
      throw awsFailure("finding the caller's partition (sts:GetCallerIdentity)", err);
    }
    const partition = arn?.split(":")[1] || "aws";
    chosen = [...request.accounts].sort().map((id) => ({ id, partition }));
  } else {
    if (!central.organizations) throw new AwsError("these AWS clients have no Organizations client; pass --accounts to name the accounts");
    const { listActiveAccounts, partitionOf } = await import("../aws/organizations");
    let listed;
    try {
      listed = await listActiveAccounts(central.organizations());
    } catch (err) {
      throw awsFailure("listing the organization's accounts (organizations:ListAccounts; run from the management account or a delegated administrator, or pass --accounts)", err);
    }
    chosen = listed.map((a) => ({ id: a.id, partition: partitionOf(a), ...(a.name ? { name: a.name } : {}) }));
  }
  const excluded = new Set(request.exclude);
  for (const id of request.exclude) {
    if (!chosen.some((a) => a.id === id)) io.stderr.write(`keyage: note: --exclude-accounts ${id}: not among the accounts to audit\n`);
  }
  return chosen.filter((a) => !excluded.has(a.id));
}

/**
 * Runs the organization audit: lists the accounts, assumes `--role-name` in each ({@link ACCOUNT_CONCURRENCY}
 * at a time), audits each with {@link readLiveAccount}. Failures of single accounts are data in the result
 * (`accounts[].status: "failed"`); only a failure to list the accounts at all throws.
 *
 * @throws AwsError when the accounts cannot be listed; UsageError when none is left to audit.
 */
export async function auditOrganization(opts: AuditOptions, request: OrganizationRequest, io: CliIO, params: RuleParams, now: number): Promise<{ audit: Audit; region?: string }> {
  const { checkProfile } = await import("./aws");
  checkProfile(opts.profile, io);
  const { defaultClients } = await import("../aws/lazy-clients");
  const { assumeRole } = await import("../aws/sessions");
  const { describeError } = await import("../aws/errors");
  const { pool } = await import("../aws/calls");
  const factory = io.clients ?? defaultClients;
  const central = await factory({ profile: opts.profile, region: opts.region });
  const accounts = await chooseAccounts(request, central, io);
  if (accounts.length === 0) throw new UsageError("no account to audit: the organization has no ACTIVE account left after --exclude-accounts");

  const runs: AccountRun[] = new Array(accounts.length);
  const entries: AuditEntry[][] = new Array(accounts.length);
  const progress = accountProgress(io);
  let done = 0;
  progress.update(0, accounts.length);
  await pool(accounts, ACCOUNT_CONCURRENCY, async (account, i) => {
    const named = account.name ? { name: account.name } : {};
    const roleArn = `arn:${account.partition}:iam::${account.id}:role/${request.roleName}`;
    const notes: string[] = [];
    try {
      let credentials;
      try {
        credentials = await assumeRole(central.sts(), roleArn, AUDIT_SESSION_NAME);
      } catch (err) {
        // AssumeRoleError's message names the role and AWS's answer ("could not assume arn:…: AccessDenied: …").
        runs[i] = { id: account.id, ...named, status: "failed", error: err instanceof Error ? err.message : describeError(err), notes };
        return;
      }
      const clients = await factory({ profile: opts.profile, region: opts.region, credentials });
      try {
        const read = await readLiveAccount(clients, params, now, (n) => notes.push(n));
        entries[i] = evaluateAll(read.inputs, params, now, `account ${account.id}`).entries.map((e) => ({ ...e, account: account.id }));
        runs[i] = { id: account.id, ...named, status: "audited", notes };
      } catch (err) {
        runs[i] = { id: account.id, ...named, status: "failed", error: err instanceof Error ? err.message : String(err), notes };
      } finally {
        // Made for this account only: do not keep its sockets for the rest of the run.
        clients.iam().destroy();
      }
    } finally {
      done += 1;
      progress.update(done, accounts.length);
    }
  });
  progress.end();

  for (const run of runs) {
    for (const n of run.notes) io.stderr.write(`keyage: note: account ${run.id}: ${n}\n`);
  }
  const failed = runs.filter((r) => r.status === "failed");
  for (const r of failed) io.stderr.write(`keyage: account ${r.id}${r.name ? ` (${r.name})` : ""} was not audited: ${r.error}\n`);
  if (failed.length > 0) {
    io.stderr.write(`keyage: the audit is incomplete: ${failed.length} of ${runs.length} accounts could not be audited (exit status 3); the output lists what the others showed\n`);
  }
  let region: string | undefined;
  try {
    region = await central.sts().config.region();
  } catch {
    region = undefined;
  }
  const audited = runs.length - failed.length;
  const audit: Audit = {
    params,
    now,
    source: `the organization (${audited} of ${runs.length} accounts audited)`,
    entries: entries.flatMap((e) => e ?? []),
    accounts: runs,
  };
  return { audit, ...(region ? { region } : {}) };
}
