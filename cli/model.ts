/**
 * An audit's result as every output format sees it: the rule's verdicts (from `shared/`) plus what the
 * CLI knows about each entry (ARN, root row). Pure; no I/O.
 */
import { evaluateUser, parseTimestamp, type AccessKey, type KeyVerdict, type RuleParams, type UserVerdict } from "../shared";

/** A key as the CLI reads it: what the rule needs, plus its last use when the source says. */
export interface AuditKey extends AccessKey {
  /** Last use, RFC 3339; null when the source says never used; absent when not known (see `AccessKey`). */
  readonly lastUsedDate?: string | null;
  /** Region of the last use (report column `access_key_N_last_used_region`). */
  readonly lastUsedRegion?: string;
  /** Service of the last use (report column `access_key_N_last_used_service`). */
  readonly lastUsedService?: string;
}

/** A key's last use, as the outputs show it: `null` when never used or not known. */
export interface LastUsed {
  /** ISO 8601 UTC. */
  readonly date: string;
  /** e.g. `s3`; null when not known (a live audit reads only the date). */
  readonly service: string | null;
  /** e.g. `eu-west-1`; null when not known. */
  readonly region: string | null;
}

/** One audited entry: an IAM user, or the credential report's `<root_account>` row. */
export interface AuditEntry {
  readonly user: string;
  readonly arn: string;
  /** True for the `<root_account>` row (not an IAM user, shown by the CLI only). */
  readonly root: boolean;
  /** When the user (or the account, for root) was created, RFC 3339, when the source says. */
  readonly userCreatedAt?: string;
  readonly verdict: UserVerdict;
  /** The account audited (organization audits): the 12-digit id keyage assumed the role in. */
  readonly account?: string;
}

/** One account of an organization audit: audited, or not (and why). */
export interface AccountRun {
  /** 12 digits. */
  readonly id: string;
  /** The account's name in Organizations, when listed there. */
  readonly name?: string;
  /** `failed`: the role could not be assumed or the account could not be read in full; none of its users are listed. */
  readonly status: "audited" | "failed";
  /** Why the account was not audited (one line, no secret). */
  readonly error?: string;
  /** What the audit of this account could not check (e.g. the root row, when its credential report was unusable). */
  readonly notes: readonly string[];
}

/** A whole audit. */
export interface Audit {
  readonly params: RuleParams;
  /** The instant evaluated at, epoch ms. */
  readonly now: number;
  /** Where the users came from, for people: a file name, "standard input" or "account 123456789012". */
  readonly source: string;
  readonly entries: readonly AuditEntry[];
  /** Organization audits only: every account chosen, in account id order, audited or not. */
  readonly accounts?: readonly AccountRun[];
}

/** A user and keys to audit, from a credential report or a live read. */
export interface AuditInput {
  readonly user: string;
  readonly arn: string;
  readonly root?: boolean;
  /** When the user was created, RFC 3339 (credential report `user_creation_time`, or ListUsers). */
  readonly userCreatedAt?: string;
  readonly keys: readonly AuditKey[];
}

/** Evaluates every input with the shared rule, keeping the input's order. */
export function evaluateAll(inputs: readonly AuditInput[], params: RuleParams, now: number, source: string): Audit {
  const entries = inputs.map((u): AuditEntry => {
    const entry = { user: u.user, arn: u.arn, root: u.root === true, verdict: evaluateUser(u, params, now) };
    return u.userCreatedAt === undefined ? entry : { ...entry, userCreatedAt: u.userCreatedAt };
  });
  return { params, now, source, entries };
}

/**
 * A key's last use. The rule keeps the key object it was given, so a verdict's `key` is the
 * {@link AuditKey} read from the report or IAM.
 */
export function lastUsedOf(verdict: KeyVerdict): LastUsed | null {
  const key = verdict.key as AuditKey;
  const at = parseTimestamp(key.lastUsedDate);
  if (at === undefined) return null;
  return { date: new Date(at).toISOString(), service: key.lastUsedService ?? null, region: key.lastUsedRegion ?? null };
}

/**
 * Names a user's credential-report keys by id: the report has slots but no ids, ListAccessKeys has ids
 * but no last use. A slot and a listed key are the same key when `last_rotated` equals `CreateDate` to
 * the second (the report writes whole seconds), as Cloud Custodian matches them. The result is the
 * listed keys, as IAM holds them now, each carrying the matched slot's last use; a slot with no match
 * is a key deleted since the report, and is dropped.
 */
export function nameKeysById(slots: readonly AuditKey[], listed: readonly AccessKey[]): AuditKey[] {
  const second = (value: unknown): number | undefined => {
    const ms = parseTimestamp(value);
    return ms === undefined ? undefined : Math.floor(ms / 1000);
  };
  const unmatched = [...slots];
  return listed.map((k) => {
    const at = second(k.createDate);
    const i = at === undefined ? -1 : unmatched.findIndex((s) => second(s.createDate) === at);
    const slot = i < 0 ? undefined : unmatched.splice(i, 1)[0];
    return {
      accessKeyId: k.accessKeyId,
      status: k.status,
      createDate: k.createDate,
      lastUsedDate: slot?.lastUsedDate,
      lastUsedService: slot?.lastUsedService,
      lastUsedRegion: slot?.lastUsedRegion,
    };
  });
}

/** Counts of the `summary` object: every entry, the root row included. */
export interface Summary {
  readonly users: number;
  readonly compliant: number;
  readonly nonCompliant: number;
}

export function summarize(audit: Pick<Audit, "entries">): Summary {
  const nonCompliant = audit.entries.filter((e) => e.verdict.compliance === "NON_COMPLIANT").length;
  return { users: audit.entries.length, compliant: audit.entries.length - nonCompliant, nonCompliant };
}

/** What a security team counts per account (the HTML report's summary, the table's account lines). */
export interface AccountFigures extends Summary {
  /** Active access keys. */
  readonly activeKeys: number;
  /** Active keys within the warning window before the limit (reason `expiring`). */
  readonly expiring: number;
  /** Active access keys of the root user. */
  readonly rootKeys: number;
}

/** Counts users, active keys, violations, expiring keys and root keys of some entries. */
export function figures(entries: readonly AuditEntry[]): AccountFigures {
  let activeKeys = 0;
  let expiring = 0;
  let rootKeys = 0;
  for (const e of entries) {
    for (const k of e.verdict.keys) {
      if (!k.active) continue;
      activeKeys += 1;
      if (e.root) rootKeys += 1;
      if (k.reason === "expiring") expiring += 1;
    }
  }
  return { ...summarize({ entries }), activeKeys, expiring, rootKeys };
}

/** The account an entry belongs to: the one audited (organization audits), else the one in its ARN. */
export function entryAccount(e: AuditEntry): string | undefined {
  return e.account ?? accountOf(e.arn);
}

/** True when an organization audit left at least one account unaudited. */
export function incomplete(audit: Audit): boolean {
  return (audit.accounts ?? []).some((a) => a.status === "failed");
}

/** The account id in an IAM ARN (`arn:aws:iam::123456789012:user/x`), if it has one. */
export function accountOf(arn: string): string | undefined {
  return /^arn:[\w-]+:iam::(\d{12}):/.exec(arn)?.[1];
}

/** The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`); `aws` when it cannot be read. */
export function partitionOf(arn: string): string {
  return /^arn:([\w-]+):/.exec(arn)?.[1] ?? "aws";
}
