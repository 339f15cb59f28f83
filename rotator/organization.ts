/**
 * Organization mode of the scheduled rotator: one central Lambda lists the organization's ACTIVE accounts
 * (Organizations ListAccounts, every page), keeps those where the member role was rolled out (the
 * deployment's targets, OUs walked; the management account only when deploy made its role there),
 * leaves out the excluded ones, and in each account assumes the
 * member rotator role (one 15-minute session per account and run, its clients disposed afterwards) and
 * runs the single-account {@link runRotator} there. Events stay central: every account's events go to the
 * central account's default bus, each naming its account in `detail.account`, so one rule and one topic
 * see the whole organization and the member role needs no EventBridge permission.
 *
 * Faults: an account whose role cannot be assumed, or whose users cannot be listed, is skipped, logged
 * and counted; the other accounts run as usual. When the deadline nears no further account is started,
 * and the next run starts at another account, so a deadline never leaves the same accounts behind twice.
 */
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { IAMClient } from "@aws-sdk/client-iam";
import type { OrganizationsClient } from "@aws-sdk/client-organizations";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { STSClient } from "@aws-sdk/client-sts";
import { CallCounter, pool, SDK_MAX_ATTEMPTS } from "../aws/calls";
import { countCalls } from "../aws/count";
import { describeError } from "../aws/errors";
import { listActiveAccounts, partitionOf } from "../aws/organizations";
import { accountsOfTargets, managementAccountOf } from "../aws/organization-targets";
import { assumeRole, type SessionCredentials } from "../aws/sessions";
import type { Logger } from "../aws/log";
import { embeddedMetrics, ROTATOR_METRICS } from "../shared/metrics";
import { runRotator, type RotatorClients, type RotatorDeps, type RotatorSummary } from "./run";
import type { OrganizationRunSettings } from "./settings";

/** The session name of the rotator's assumed-role sessions (CloudTrail shows it in every member account). */
export const ROTATOR_SESSION_NAME = "keyage-rotator";
const DAY_MS = 86_400_000;

/** One account's clients; `dispose` frees them after the account's run. */
export interface AccountClients extends RotatorClients {
  dispose(): void;
}

/**
 * Builds an account's clients: IAM and Secrets Manager on the member role's `credentials`, EventBridge
 * on the rotator's own (events stay central). The default uses the standard SDK environment.
 */
export type AccountClientFactory = (credentials: SessionCredentials) => AccountClients;

/** The default {@link AccountClientFactory}. */
export function defaultAccountClients(credentials: SessionCredentials): AccountClients {
  const iam = new IAMClient({ maxAttempts: SDK_MAX_ATTEMPTS, credentials });
  const secrets = new SecretsManagerClient({ maxAttempts: SDK_MAX_ATTEMPTS, credentials });
  // Its own client per account run: each run counts its calls on its clients.
  const events = new EventBridgeClient({ maxAttempts: SDK_MAX_ATTEMPTS });
  return { iam, secrets, events, dispose: () => (iam.destroy(), secrets.destroy(), events.destroy()) };
}

/** What an organization run needs: the single-account run's dependencies, with the central clients instead. */
export interface OrganizationDeps extends Omit<RotatorDeps, "clients"> {
  /** The central account's Organizations and STS clients. */
  readonly clients: { readonly organizations: OrganizationsClient; readonly sts: STSClient };
  /** Default {@link defaultAccountClients}. */
  readonly accountClients?: AccountClientFactory;
  /** Accounts run at once. Default 4 (IAM throttles per account, so accounts do not slow each other). */
  readonly accountConcurrency?: number;
}

/** One account that was not run through, and why. */
export interface AccountFailure {
  readonly account: string;
  readonly error: string;
}

/** What an organization run found and did; also logged as its summary line. */
export interface OrganizationSummary {
  readonly mode: RotatorSummary["mode"];
  /** ACTIVE accounts of the organization, excluded ones and those outside the targets included. */
  readonly accounts: number;
  /** Accounts left out because the member role was not rolled out there (outside `targets`). */
  readonly outsideTargets: number;
  /** Accounts (inside the targets) left out by `excludedAccounts`. */
  readonly excluded: number;
  /** Accounts run through, each with its own summary (its `partial` says whether every user was handled). */
  readonly runs: readonly { readonly account: string; readonly summary: RotatorSummary }[];
  /** Accounts whose member role could not be assumed (missing, not trusting the rotator, denied). */
  readonly unreachable: readonly AccountFailure[];
  /** Accounts whose run failed as a whole (e.g. users could not be listed). */
  readonly failed: readonly AccountFailure[];
  /** Accounts not started before the deadline: the next runs start elsewhere, so they are reached. */
  readonly notReached: readonly string[];
  /** True when some account or user was not handled. */
  readonly partial: boolean;
  /** Sums over the accounts run through. */
  readonly totals: {
    readonly users: number;
    readonly optedIn: number;
    readonly steps: RotatorSummary["steps"];
    readonly blocked: number;
    readonly published: number;
    readonly unpublished: number;
  };
  /** AWS calls made, by action, every account's included. */
  readonly calls: Record<string, number>;
  readonly durationMs: number;
}

/** The whole organization run's figures as EMF fields: the accounts' runs summed, plus the accounts left out. */
function organizationMetrics(functionName: string, r: OrganizationSummary, now: number) {
  const sum = (f: (s: RotatorSummary) => number) => r.runs.reduce((n, run) => n + f(run.summary), 0);
  return embeddedMetrics(functionName, ROTATOR_METRICS, {
    RunCompleted: 1, Users: r.totals.users, OptedIn: r.totals.optedIn, Created: r.totals.steps.create, Deactivated: r.totals.steps.deactivate,
    Deleted: r.totals.steps.delete, RolledBack: sum((s) => s.rolledBack), Blocked: r.totals.blocked, FailedUsers: sum((s) => s.failed.length),
    SkippedUsers: sum((s) => s.skipped.length), EventsUnpublished: r.totals.unpublished, UnreachableAccounts: r.unreachable.length,
    FailedAccounts: r.failed.length, NotReachedAccounts: r.notReached.length, Partial: r.partial ? 1 : 0,
  }, now);
}

/**
 * One organization run. Throws only when the accounts cannot be listed at all, or a target's OU tree
 * cannot be walked (nothing is changed then).
 *
 * @example
 * const summary = await runOrganization({ clients: { organizations, sts }, settings: parseSettings(payload) }, settings.organization);
 */
export async function runOrganization(deps: OrganizationDeps, org: OrganizationRunSettings): Promise<OrganizationSummary> {
  const started = Date.now();
  const calls = new CallCounter();
  const log: Logger = deps.log ?? (() => undefined);
  const now = (deps.now ?? Date.now)();
  const reserveMs = deps.reserveMs ?? 10_000;
  const timeLeft = () => deps.remainingMs === undefined || deps.remainingMs() > reserveMs;
  const stops = [countCalls(deps.clients.organizations, calls), countCalls(deps.clients.sts, calls)];
  try {
    const listed = await listActiveAccounts(deps.clients.organizations);
    const targeted = await accountsOfTargets(deps.clients.organizations, org.targets);
    // Only where the member role was rolled out: so "unreachable" always means something is wrong.
    const management = managementAccountOf(listed[0]?.arn);
    const hasRole = (id: string) => (id === management ? org.managementAccount : targeted === "all" || targeted.has(id));
    const withRole = listed.filter((a) => hasRole(a.id));
    const excluded = new Set(org.excludedAccounts);
    const inScope = withRole.filter((a) => !excluded.has(a.id));
    if (withRole.length < listed.length) {
      log("info", "accounts outside the organization targets (no rotator role there) are left out", { count: listed.length - withRole.length, targets: org.targets });
    }
    // Another account first each day: a run cut short by the deadline never leaves the same ones behind twice.
    const start = inScope.length === 0 ? 0 : Math.floor(now / DAY_MS) % inScope.length;
    const order = [...inScope.slice(start), ...inScope.slice(0, start)];
    const runs: { account: string; summary: RotatorSummary }[] = [];
    const unreachable: AccountFailure[] = [];
    const failed: AccountFailure[] = [];
    const notReached: string[] = [];
    const factory = deps.accountClients ?? defaultAccountClients;

    await pool(order, deps.accountConcurrency ?? 4, async (account) => {
      if (!timeLeft()) {
        notReached.push(account.id);
        return;
      }
      const accountLog: Logger = (level, message, fields) => log(level, message, { account: account.id, ...fields });
      const roleArn = `arn:${partitionOf(account)}:iam::${account.id}:role/${org.roleName}`;
      let credentials: SessionCredentials;
      try {
        credentials = await assumeRole(deps.clients.sts, roleArn, ROTATOR_SESSION_NAME);
      } catch (err) {
        unreachable.push({ account: account.id, error: describeError(err) });
        accountLog("error", "account skipped: its rotator role could not be assumed; the other accounts run as usual", { role: roleArn, error: describeError(err) });
        return;
      }
      const clients = factory(credentials);
      try {
        // No metrics per account: the organization's summary line carries the whole run's, once.
        const summary = await runRotator({ ...deps, clients, log: accountLog, functionName: undefined });
        runs.push({ account: account.id, summary });
        calls.merge(summary.calls);
      } catch (err) {
        failed.push({ account: account.id, error: describeError(err) });
        accountLog("error", "account left for the next run: its run failed", { error: describeError(err) });
      } finally {
        clients.dispose();
      }
    });
    if (notReached.length) log("warn", "the deadline came before these accounts; the next runs start elsewhere, so they are reached", { accounts: notReached.slice(0, 100), count: notReached.length });

    const sum = (f: (s: RotatorSummary) => number) => runs.reduce((n, r) => n + f(r.summary), 0);
    const result: OrganizationSummary = {
      mode: deps.settings.mode,
      accounts: listed.length,
      outsideTargets: listed.length - withRole.length,
      excluded: withRole.length - inScope.length,
      runs,
      unreachable,
      failed,
      notReached,
      partial: unreachable.length > 0 || failed.length > 0 || notReached.length > 0 || runs.some((r) => r.summary.partial),
      totals: {
        users: sum((s) => s.users),
        optedIn: sum((s) => s.optedIn),
        steps: { create: sum((s) => s.steps.create), deactivate: sum((s) => s.steps.deactivate), delete: sum((s) => s.steps.delete) },
        blocked: sum((s) => s.blocked),
        published: sum((s) => s.events.published),
        unpublished: sum((s) => s.events.failed),
      },
      calls: calls.toJSON(),
      durationMs: Date.now() - started,
    };
    log("info", "organization run summary", {
      mode: result.mode,
      accounts: result.accounts,
      outsideTargets: result.outsideTargets,
      excluded: result.excluded,
      ran: runs.length,
      unreachable: unreachable.slice(0, 100),
      failed: failed.slice(0, 100),
      notReached: notReached.length,
      partial: result.partial,
      totals: result.totals,
      calls: result.calls,
      durationMs: result.durationMs,
      ...(deps.functionName ? organizationMetrics(deps.functionName, result, (deps.now ?? Date.now)()) : {}),
    });
    return result;
  } finally {
    for (const stop of stops) stop();
  }
}
