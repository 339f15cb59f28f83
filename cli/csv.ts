/** `--format csv`: one row per key (a user without keys gets one row with empty key columns). */
import type { Audit } from "./model";

/** The header, in column order. */
export const CSV_COLUMNS = ["user", "arn", "root", "compliance", "key", "status", "create_date", "age_days", "key_compliance", "annotation"] as const;

/** RFC 4180 quoting: only fields that need it (comma, quote, CR, LF — a comma is legal in IAM user names). */
function field(value: string | number | boolean | null | undefined): string {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function formatCsv(audit: Audit): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const e of audit.entries) {
    const user = [e.user, e.arn, e.root, e.verdict.compliance];
    if (e.verdict.keys.length === 0) lines.push([...user, "", "", "", "", "", e.verdict.annotation].map(field).join(","));
    for (const k of e.verdict.keys) {
      const key = k.key.accessKeyId ?? k.key.slot;
      lines.push([...user, key, k.active ? "Active" : "Inactive", k.createDate, k.ageDays, k.compliance, e.verdict.annotation].map(field).join(","));
    }
  }
  return `${lines.join("\n")}\n`;
}
