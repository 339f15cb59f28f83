/**
 * `--format json`: one object, described field by field in docs/json-output.md and by the JSON Schema
 * docs/schema/audit-v1.schema.json. The shape only grows: new fields are added, none is removed or changed.
 */
import type { Compliance, KeyCompliance, KeyReason } from "../shared";
import { incomplete, lastUsedOf, summarize, type Audit, type AuditEntry, type LastUsed, type Summary } from "./model";

/**
 * The version of the JSON document, semver: the minor part grows when fields are added, the major part
 * (and the schema file's name, `audit-v<major>.schema.json`) would change only if a field were removed
 * or changed meaning.
 */
export const JSON_SCHEMA_VERSION = "1.1.0";

/** One key in the JSON output: `slot` (credential report) or `accessKeyId` (live), never both. */
export interface JsonKey {
  readonly slot?: 1 | 2;
  readonly accessKeyId?: string;
  readonly status: "Active" | "Inactive";
  /** ISO 8601 UTC, or null when it cannot be determined (e.g. `N/A` on an active key). */
  readonly createDate: string | null;
  /** Whole days, rounded down; null when undeterminable. */
  readonly ageDays: number | null;
  readonly compliance: KeyCompliance;
  /** Why the key got its verdict. */
  readonly reason: KeyReason;
  /** Whole days before the key passes the limit (0 when expired, and for a root key); null when undeterminable or inactive. */
  readonly daysLeft: number | null;
  /** The key's last use, or null when never used or not known. */
  readonly lastUsed: LastUsed | null;
  /**
   * Since 1.1.0. Whole days since the later of the key's creation and its last use; null when its use is
   * not known (see `maxUnusedDays`).
   */
  readonly unusedDays: number | null;
}

export interface JsonUser {
  readonly user: string;
  readonly arn: string;
  readonly compliance: Compliance;
  readonly annotation: string;
  /** Present, and true, only on the credential report's `<root_account>` row. */
  readonly root?: true;
  /** Organization audits only (1.1.0): the account the user belongs to. */
  readonly account?: string;
  /** True when an exemption (`--exempt`) made a violating user COMPLIANT. */
  readonly exempt: boolean;
  /** When that exemption ends (ISO 8601 UTC); null when not exempt or exempt without an end. */
  readonly exemptUntil: string | null;
  readonly keys: readonly JsonKey[];
}

/** An exemption as given (`--exempt USER[:UNTIL]`). */
export interface JsonExemption {
  readonly user: string;
  /** ISO 8601 UTC; null for an exemption without an end. */
  readonly until: string | null;
}

/** Organization audits only (1.1.0): one account chosen, audited or not. */
export interface JsonAccount {
  readonly account: string;
  /** The account's name in Organizations; null when not listed there (`--accounts`). */
  readonly name: string | null;
  readonly status: "audited" | "failed";
  /** Why the account was not audited; null when it was. */
  readonly error: string | null;
  /** What could not be checked there (e.g. the root row, without a usable credential report). */
  readonly notes: readonly string[];
  /** That account's users, as the top-level `summary` counts them (all zero when not audited). */
  readonly summary: Summary;
}

export interface JsonAudit {
  readonly schemaVersion: typeof JSON_SCHEMA_VERSION;
  readonly maxAgeDays: number;
  readonly warnDays: number;
  /** Since 1.1.0. The unused-key limit (`--max-unused-days`), or null when off. */
  readonly maxUnusedDays: number | null;
  readonly exemptions: readonly JsonExemption[];
  readonly evaluatedAt: string;
  readonly summary: Summary;
  readonly users: readonly JsonUser[];
  /** Organization audits only (1.1.0): every account chosen, in id order. */
  readonly accounts?: readonly JsonAccount[];
  /** Organization audits only (1.1.0): true when at least one account could not be audited (exit status 3). */
  readonly incomplete?: boolean;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** One entry's keys as the JSON output (and OCSF's `unmapped`) shows them. */
export function jsonKeys(e: AuditEntry): JsonKey[] {
  const keys: JsonKey[] = [];
  for (const k of e.verdict.keys) {
    const status = k.active ? "Active" : "Inactive";
    const { createDate, ageDays, compliance, reason, daysLeft, unusedDays } = k;
    const lastUsed = lastUsedOf(k);
    keys.push(
      k.key.accessKeyId
        ? { accessKeyId: k.key.accessKeyId, status, createDate, ageDays, compliance, reason, daysLeft, lastUsed, unusedDays }
        : { slot: k.key.slot as 1 | 2, status, createDate, ageDays, compliance, reason, daysLeft, lastUsed, unusedDays },
    );
  }
  return keys;
}

/** Builds the JSON document. Plain object literals, no spreads: this runs once per key of a 5 000-user report. */
export function toJson(audit: Audit): JsonAudit {
  const users: JsonUser[] = [];
  const org = audit.accounts !== undefined;
  for (const e of audit.entries) {
    const keys = jsonKeys(e);
    const { compliance, annotation, exemption } = e.verdict;
    const exempt = exemption !== undefined;
    const exemptUntil = iso(exemption?.until);
    const user: JsonUser = e.root
      ? { user: e.user, arn: e.arn, compliance, annotation, root: true, exempt, exemptUntil, keys }
      : { user: e.user, arn: e.arn, compliance, annotation, exempt, exemptUntil, keys };
    users.push(org ? { ...user, account: e.account as string } : user);
  }
  const { maxAgeDays, warnDays } = audit.params;
  const exemptions = audit.params.exemptions.map((x) => ({ user: x.user, until: iso(x.until) }));
  const maxUnusedDays = audit.params.maxUnusedDays ?? null;
  const doc: JsonAudit = { schemaVersion: JSON_SCHEMA_VERSION, maxAgeDays, warnDays, maxUnusedDays, exemptions, evaluatedAt: new Date(audit.now).toISOString(), summary: summarize(audit), users };
  if (!audit.accounts) return doc;
  const accounts = audit.accounts.map(
    (a): JsonAccount => ({
      account: a.id,
      name: a.name ?? null,
      status: a.status,
      error: a.error ?? null,
      notes: a.notes,
      summary: summarize({ entries: audit.entries.filter((e) => e.account === a.id) }),
    }),
  );
  return { ...doc, accounts, incomplete: incomplete(audit) };
}

export function formatJson(audit: Audit): string {
  return `${JSON.stringify(toJson(audit), null, 2)}\n`;
}
