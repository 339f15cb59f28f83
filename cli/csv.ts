/**
 * `--format csv`: one row per key (a user without keys gets one row with empty key columns). Columns are
 * only ever appended, so a consumer reading by position keeps working.
 */
import { lastUsedOf, type Audit } from "./model";

/** The header, in column order. */
export const CSV_COLUMNS = [
  "user",
  "arn",
  "root",
  "compliance",
  "key",
  "status",
  "create_date",
  "age_days",
  "key_compliance",
  "annotation",
  "reason",
  "days_left",
  "last_used_date",
  "last_used_service",
  "last_used_region",
  "exempt",
  "exempt_until",
  "max_age_days",
  "warn_days",
  "evaluated_at",
  "unused_days",
  "max_unused_days",
] as const;

/** Organization audits (`--organization`) append this column: the account of the row's user. */
export const CSV_ACCOUNT_COLUMN = "account";

// Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV injection"); IAM user
// names may start with `+`, `=`, `-` or `@`, and a report file may hold anything.
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One field: a leading `'` when a spreadsheet would read it as a formula, then RFC 4180 quoting where
 * needed (comma, quote, CR, LF: a comma is legal in IAM user names).
 */
export function csvField(value: string | number | boolean | null | undefined): string {
  let text = value === null || value === undefined ? "" : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function formatCsv(audit: Audit): string {
  const org = audit.accounts !== undefined;
  const lines = [(org ? [...CSV_COLUMNS, CSV_ACCOUNT_COLUMN] : CSV_COLUMNS).join(",")];
  const { maxAgeDays, warnDays } = audit.params;
  const maxUnusedDays = audit.params.maxUnusedDays ?? "";
  const evaluatedAt = new Date(audit.now).toISOString();
  for (const e of audit.entries) {
    const { compliance, annotation, exemption } = e.verdict;
    const user = [e.user, e.arn, e.root, compliance];
    const exempt = [exemption !== undefined, exemption?.until === undefined ? "" : new Date(exemption.until).toISOString()];
    const run = [maxAgeDays, warnDays, evaluatedAt];
    // Organization audits append the account, after every other column.
    const tail = org ? [e.account] : [];
    if (e.verdict.keys.length === 0) lines.push([...user, "", "", "", "", "", annotation, "", "", "", "", "", ...exempt, ...run, "", maxUnusedDays, ...tail].map(csvField).join(","));
    for (const k of e.verdict.keys) {
      const key = k.key.accessKeyId ?? k.key.slot;
      const used = lastUsedOf(k);
      lines.push(
        [...user, key, k.active ? "Active" : "Inactive", k.createDate, k.ageDays, k.compliance, annotation, k.reason, k.daysLeft, used?.date, used?.service, used?.region, ...exempt, ...run, k.unusedDays, maxUnusedDays, ...tail]
          .map(csvField)
          .join(","),
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
