/** `--format json`: the object DESIGN.md's CLI contract fixes, field for field. */
import type { Compliance, KeyCompliance } from "../shared";
import { summarize, type Audit, type Summary } from "./model";

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
}

export interface JsonUser {
  readonly user: string;
  readonly arn: string;
  readonly compliance: Compliance;
  readonly annotation: string;
  /** Present, and true, only on the credential report's `<root_account>` row. */
  readonly root?: true;
  readonly keys: readonly JsonKey[];
}

export interface JsonAudit {
  readonly maxAgeDays: number;
  readonly evaluatedAt: string;
  readonly summary: Summary;
  readonly users: readonly JsonUser[];
}

/** Builds the JSON document (property order as in DESIGN.md). Plain object literals, no spreads: this runs once per key of a 5 000-user report. */
export function toJson(audit: Audit): JsonAudit {
  const users: JsonUser[] = [];
  for (const e of audit.entries) {
    const keys: JsonKey[] = [];
    for (const k of e.verdict.keys) {
      const status = k.active ? "Active" : "Inactive";
      keys.push(
        k.key.accessKeyId
          ? { accessKeyId: k.key.accessKeyId, status, createDate: k.createDate, ageDays: k.ageDays, compliance: k.compliance }
          : { slot: k.key.slot as 1 | 2, status, createDate: k.createDate, ageDays: k.ageDays, compliance: k.compliance },
      );
    }
    const { compliance, annotation } = e.verdict;
    users.push(e.root ? { user: e.user, arn: e.arn, compliance, annotation, root: true, keys } : { user: e.user, arn: e.arn, compliance, annotation, keys });
  }
  return { maxAgeDays: audit.params.maxAgeDays, evaluatedAt: new Date(audit.now).toISOString(), summary: summarize(audit), users };
}

export function formatJson(audit: Audit): string {
  return `${JSON.stringify(toJson(audit), null, 2)}\n`;
}
