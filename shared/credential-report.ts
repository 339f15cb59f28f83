import { parse } from "csv-parse/sync";
import { CredentialReportError } from "./errors";
import type { AccessKey } from "./rule";

/** The columns of an IAM credential report, in AWS's order. Extra columns AWS may add are ignored. */
export const CREDENTIAL_REPORT_COLUMNS = [
  "user",
  "arn",
  "user_creation_time",
  "password_enabled",
  "password_last_used",
  "password_last_changed",
  "password_next_rotation",
  "mfa_active",
  "access_key_1_active",
  "access_key_1_last_rotated",
  "access_key_1_last_used_date",
  "access_key_1_last_used_region",
  "access_key_1_last_used_service",
  "access_key_2_active",
  "access_key_2_last_rotated",
  "access_key_2_last_used_date",
  "access_key_2_last_used_region",
  "access_key_2_last_used_service",
  "cert_1_active",
  "cert_1_last_rotated",
  "cert_2_active",
  "cert_2_last_rotated",
] as const;

type Column = (typeof CREDENTIAL_REPORT_COLUMNS)[number];

/** The user name AWS gives the account's root user in the report. */
export const ROOT_ACCOUNT = "<root_account>";

/** One key slot of a report row. `createDate` is `access_key_N_last_rotated` (the key's creation time). */
export interface ReportKey extends AccessKey {
  readonly slot: 1 | 2;
  readonly status: "Active" | "Inactive";
  /** Raw `last_rotated` value; `N/A` on an active key is kept so the rule reports it as undeterminable. */
  readonly createDate: string;
  readonly lastUsedDate?: string;
  readonly lastUsedRegion?: string;
  readonly lastUsedService?: string;
}

/** One row of the report. */
export interface ReportUser {
  readonly user: string;
  readonly arn: string;
  /** True for the `<root_account>` row (not an `AWS::IAM::User`). */
  readonly root: boolean;
  readonly userCreationTime: string;
  /** 1-based line of the row in the file, for messages. */
  readonly line: number;
  /** Key slots that hold a key: active ones, and inactive ones whose creation time is still shown. */
  readonly keys: readonly ReportKey[];
}

const NOT_SET = new Set(["N/A", "not_supported", "no_information", ""]);

function optional(value: string | undefined): string | undefined {
  return value === undefined || NOT_SET.has(value) ? undefined : value;
}

/**
 * True when `text` is a credential report still base64-encoded (GetCredentialReport's `Content`, maybe
 * wrapped by `base64`): its start decodes to the report's `user,arn` header. Plain text made of letters
 * and blanks is not, and is left for the header check to name.
 */
function looksBase64(text: string): boolean {
  const head = text.slice(0, 400).replace(/\s+/g, "");
  if (head.length < 12 || !/^[A-Za-z0-9+/]+=*$/.test(head)) return false;
  const decoded = Buffer.from(head.slice(0, head.length - (head.length % 4)), "base64").toString("latin1");
  // Read as latin1, a UTF-8 byte-order mark is these three characters.
  return /^(?:\xef\xbb\xbf)?user,arn,/.test(decoded);
}

// Control characters other than tab, CR and LF, and U+FFFD (what UTF-8 decoding leaves of bytes that are
// not text): a credential report is plain ASCII, so any of these means a binary or wrongly encoded file.
const NOT_TEXT = /[\0-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]/;

/**
 * At most `max` characters quoting `text` for a message: JSON quotes, and every character outside
 * printable ASCII escaped (\uXXXX), so that no file content can garble or flood a terminal or log line.
 */
function excerpt(text: string, max = 40): string {
  let out = "";
  for (const ch of text) {
    const c = JSON.stringify(ch).slice(1, -1);
    const safe = /^[\x20-\x7e]+$/.test(c) ? c : [...ch].map((u) => `\\u${(u.codePointAt(0) as number).toString(16).padStart(4, "0")}`).join("");
    if (out.length + safe.length > max - 2) return `"${out}..."`;
    out += safe;
  }
  return `"${out}"`;
}

/** One CSV record and the (1-based) line it ends on. */
export interface CsvRecord {
  readonly record: string[];
  readonly info: { readonly lines: number };
}

/**
 * Splits CSV text into records, skipping empty lines and a leading byte-order mark. Text without any
 * quote character and with only LF or CRLF line ends (what AWS writes) has no escaping to undo, so it is
 * split directly, which is about ten times faster; anything else goes through csv-parse. Both give the
 * same records on such text (a test checks this against csv-parse on generated input).
 */
export function csvRecords(text: string): CsvRecord[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (!body.includes('"') && !/\r(?!\n)/.test(body)) {
    const out: CsvRecord[] = [];
    const lines = body.split("\n");
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i] as string;
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line !== "") out.push({ record: line.split(","), info: { lines: i + 1 } });
    }
    return out;
  }
  try {
    return parse(body, { info: true, relax_column_count: true, skip_empty_lines: true }) as unknown as CsvRecord[];
  } catch (cause) {
    const err = cause as { message?: string; lines?: number };
    // csv-parse's message quotes the offending field in full ("..., value is ..."): keep its title only.
    const what = (err.message ?? String(cause)).split(":")[0] as string;
    const where = err.lines === undefined ? "" : ` (line ${err.lines})`;
    throw new CredentialReportError(`the credential report is not valid CSV: ${excerpt(what.toLowerCase(), 60).slice(1, -1)}${where}`, err.lines, { cause });
  }
}

/**
 * IAM user names may contain commas. If a report row carries such a name unquoted, the name spills over
 * into k extra fields in both `user` and `arn` (the ARN ends with the name). When the spill is exactly
 * that shape, and the rebuilt ARN really ends with the rebuilt name, the row is put back together;
 * anything else is left for the field-count check to reject.
 */
function repairUnquotedName(record: string[], width: number): string[] {
  const extra = record.length - width;
  if (extra <= 0 || extra % 2 !== 0) return record;
  const k = extra / 2;
  const user = record.slice(0, k + 1).join(",");
  const arn = record.slice(k + 1, 2 * k + 2).join(",");
  if (!arn.startsWith("arn:") || !arn.endsWith(`/${user}`)) return record;
  return [user, arn, ...record.slice(2 * k + 2)];
}

/** Throws naming the missing columns, or saying that `names` is not a credential report's header at all. */
function checkHeader(names: readonly string[]): void {
  const missing = CREDENTIAL_REPORT_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length === 0) return;
  // Every column missing: not a credential report at all, and listing 22 names would bury that.
  const what =
    missing.length === CREDENTIAL_REPORT_COLUMNS.length
      ? `header ${excerpt(names.slice(0, 3).join(","))} is not a credential report's`
      : `missing column${missing.length === 1 ? "" : "s"} ${missing.join(", ")}`;
  throw new CredentialReportError(`line 1: ${what} (expected a header starting user,arn,user_creation_time)`, 1);
}

/**
 * Parses an IAM credential report CSV exactly as AWS produces it (console download or the decoded
 * `Content` of GetCredentialReport): header `user,arn,user_creation_time,…` with 22 columns, LF or CRLF,
 * optional byte-order mark, `N/A` / `not_supported` placeholders and the `<root_account>` row.
 *
 * Throws {@link CredentialReportError} naming the missing columns, or the line and column of a bad row.
 */
export function parseCredentialReport(text: string): ReportUser[] {
  if (text.trim() === "" || text.trim() === "\ufeff") throw new CredentialReportError("the credential report is empty");
  if (looksBase64(text.replace(/^\ufeff/, ""))) {
    throw new CredentialReportError("the credential report looks base64-encoded (as in GetCredentialReport's Content); decode it first, e.g. with `base64 -d`");
  }
  // The whole text, not a prefix: whatever passes here reaches every output format, and csv and stderr
  // print names as they are.
  const bad = NOT_TEXT.exec(text);
  if (bad) {
    const line = text.slice(0, bad.index).split("\n").length;
    const why = line === 1 ? "expected the CSV starting user,arn,user_creation_time" : `line ${line} holds a control character`;
    throw new CredentialReportError(`the credential report is not text (binary data, or not UTF-8): ${why}`, line);
  }
  // The header line alone first: a file that is not a credential report at all (a README, a JSON file)
  // is named as such, rather than by the first CSV error further down its body.
  const firstLine = /^[^\n]*\S[^\n]*/m.exec(text)?.[0] ?? "";
  let early: CsvRecord | undefined;
  try {
    [early] = csvRecords(firstLine);
  } catch {
    early = undefined; // a header with a line break inside quotes: the whole parse below judges it
  }
  if (early) checkHeader(early.record.map((h) => h.trim()));
  const [header, ...rows] = csvRecords(text);
  if (!header) throw new CredentialReportError("the credential report is empty");
  const names = header.record.map((h) => h.trim());
  checkHeader(names);
  const index = new Map<string, number>(names.map((name, i) => [name, i]));

  return rows.map(({ record: fields, info }) => {
    let record = fields;
    const line = info.lines;
    record = repairUnquotedName(record, names.length);
    if (record.length < names.length) {
      throw new CredentialReportError(`line ${line}: expected ${names.length} fields, found ${record.length}`, line);
    }
    if (record.length > names.length) {
      throw new CredentialReportError(
        `line ${line}: expected ${names.length} fields, found ${record.length} (an unquoted comma in a field?)`,
        line,
      );
    }
    const get = (column: Column): string => record[index.get(column) as number] as string;
    const flag = (column: Column): boolean => {
      const value = get(column);
      if (value === "true" || value === "false") return value === "true";
      throw new CredentialReportError(`line ${line}: column ${column} must be true or false, got ${excerpt(value)}`, line);
    };
    const user = get("user");
    if (user === "") throw new CredentialReportError(`line ${line}: column user is empty`, line);
    const keys: ReportKey[] = [];
    for (const slot of [1, 2] as const) {
      const p = `access_key_${slot}_` as const;
      const active = flag(`${p}active`);
      const createDate = get(`${p}last_rotated`);
      if (!active && optional(createDate) === undefined) continue; // no key in this slot
      const lastUsedDate = optional(get(`${p}last_used_date`));
      const lastUsedRegion = optional(get(`${p}last_used_region`));
      const lastUsedService = optional(get(`${p}last_used_service`));
      keys.push({
        slot,
        status: active ? "Active" : "Inactive",
        createDate,
        ...(lastUsedDate ? { lastUsedDate } : {}),
        ...(lastUsedRegion ? { lastUsedRegion } : {}),
        ...(lastUsedService ? { lastUsedService } : {}),
      });
    }
    return { user, arn: get("arn"), root: user === ROOT_ACCOUNT, userCreationTime: get("user_creation_time"), line, keys };
  });
}
