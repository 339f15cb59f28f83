/**
 * `--format table` (the default): one line per key, for people. Colour only when asked for by the
 * caller (stdout is a terminal and NO_COLOR is unset); widths are measured before colouring.
 */
import { days, listing, type KeyVerdict } from "../shared";
import type { Audit, AuditEntry } from "./model";
import { summarize } from "./model";

type Tone = "bad" | "warn" | "good" | "dim" | "bold" | "plain";

const SGR: Record<Tone, [string, string]> = {
  bad: ["\x1b[1;31m", "\x1b[0m"],
  warn: ["\x1b[33m", "\x1b[0m"],
  good: ["\x1b[32m", "\x1b[0m"],
  dim: ["\x1b[2m", "\x1b[0m"],
  bold: ["\x1b[1m", "\x1b[0m"],
  plain: ["", ""],
};

interface Cell {
  readonly text: string;
  readonly tone?: Tone;
}

function keyVerdict(k: KeyVerdict, exempt: boolean): Cell {
  switch (k.reason) {
    case "inactive":
      return { text: "inactive (does not count)", tone: "dim" };
    case "ok":
      return { text: "ok", tone: "good" };
    case "expiring":
      return { text: k.daysLeft === 0 ? "ok, at the limit: rotate now" : `ok, expires within ${days(k.daysLeft as number)}`, tone: "warn" };
    case "expired":
      return exempt ? { text: `over the ${k.maxAgeDays}-day limit (exempt)`, tone: "warn" } : { text: `EXPIRED: over the ${k.maxAgeDays}-day limit`, tone: "bad" };
    case "undeterminable":
      return exempt ? { text: "age unknown (exempt)", tone: "warn" } : { text: "AGE UNKNOWN: no valid creation date", tone: "bad" };
    case "root-key":
      return exempt ? { text: "root key (exempt)", tone: "warn" } : { text: "ROOT KEY: the root user should have none, delete it", tone: "bad" };
    case "unused":
      return exempt
        ? { text: `unused over ${days(k.maxUnusedDays as number)} (exempt)`, tone: "warn" }
        : { text: `UNUSED ${days(k.unusedDays as number)}: over the ${k.maxUnusedDays}-day unused limit, deactivate or delete it`, tone: "bad" };
    default:
      return k.reason satisfies never;
  }
}

function rows(e: AuditEntry): Cell[][] {
  const user: Cell = { text: e.user, tone: e.verdict.compliance === "NON_COMPLIANT" ? "bold" : "plain" };
  const blank: Cell = { text: "" };
  if (e.verdict.keys.length === 0) {
    return [[user, { text: "-" }, { text: "-" }, { text: "-" }, { text: "-" }, { text: "ok: no access keys", tone: "good" }]];
  }
  const exempt = e.verdict.exemption !== undefined;
  return e.verdict.keys.map((k, i) => [
    i === 0 ? user : blank,
    { text: k.key.accessKeyId ? `…${k.key.accessKeyId.slice(-4)}` : String(k.key.slot ?? "?") },
    { text: k.active ? "Active" : "Inactive", tone: k.active ? "plain" : "dim" },
    { text: k.createDate ? k.createDate.slice(0, 10) : "unknown" },
    { text: k.ageDays === null ? "?" : days(k.ageDays) },
    keyVerdict(k, exempt),
  ]);
}

// Control characters (C0, DEL, C1) and the bidirectional overrides: a name read from a report file could
// otherwise move the cursor, recolour the terminal or reverse the text shown after it.
const UNPRINTABLE = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** Removes control characters and bidirectional overrides from text shown on a terminal. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, "");
}

/**
 * Renders the audit as an aligned table with a header line and a summary. Names are shown without
 * control characters; key ids by their last four characters.
 */
export function formatTable(input: Audit, colour: boolean): string {
  const audit: Audit = { ...input, source: printable(input.source), entries: input.entries.map((e) => ({ ...e, user: printable(e.user) })) };
  const paint = (c: Cell): string => {
    const [on, off] = SGR[c.tone ?? "plain"];
    return colour && on ? `${on}${c.text}${off}` : c.text;
  };
  // An organization audit leads each row with the account (on the user's first line only).
  const org = audit.accounts !== undefined;
  const header: Cell[] = [...(org ? ["ACCOUNT"] : []), "USER", "KEY", "STATUS", "CREATED", "AGE", "VERDICT"].map((text) => ({ text, tone: "bold" as const }));
  const body = audit.entries.flatMap((e) => (org ? rows(e).map((r, i) => [{ text: i === 0 ? (e.account ?? "") : "" }, ...r]) : rows(e)));
  const all = [header, ...body];
  const widths = header.map((_, col) => Math.max(...all.map((r) => (r[col] as Cell).text.length)));
  const line = (r: Cell[]): string =>
    r
      .map((c, col) => (col === r.length - 1 ? paint(c) : paint(c) + " ".repeat((widths[col] as number) - c.text.length + 2)))
      .join("")
      .trimEnd();

  const { maxAgeDays, warnDays } = audit.params;
  const at = new Date(audit.now).toISOString().replace(".000Z", "Z");
  const out = [
    `Access keys in ${audit.source} at ${at}: limit ${days(maxAgeDays)}${warnDays > 0 ? `, warning ${days(warnDays)} before` : ""}` +
      `${audit.params.maxUnusedDays === undefined ? "" : `, unused limit ${days(audit.params.maxUnusedDays)}`}.`,
    "",
    ...all.map(line),
    "",
  ];

  const summary = summarize(audit);
  const bad = audit.entries.filter((e) => e.verdict.compliance === "NON_COMPLIANT");
  const exempt = audit.entries.filter((e) => e.verdict.exemption !== undefined);
  const soon = audit.entries.filter((e) => e.verdict.compliance === "COMPLIANT" && !e.verdict.exemption && e.verdict.expiring.length > 0);
  const noun = (n: number): string => (n === 1 ? "user" : "users");
  // IAM user names may contain commas: quote those, or "a, b and c" could be two users or three.
  const names = (es: readonly AuditEntry[]): string => listing(es.map((e) => (e.user.includes(",") ? `"${e.user}"` : e.user)));
  if (bad.length === 0) {
    out.push(paint({ text: `All ${summary.users} ${noun(summary.users)} compliant.`, tone: "good" }));
  } else {
    out.push(paint({ text: `${bad.length} of ${summary.users} ${noun(summary.users)} non-compliant: ${names(bad)}.`, tone: "bad" }));
  }
  if (soon.length > 0) out.push(`${soon.length} ${noun(soon.length)} with keys close to the limit: ${names(soon)}.`);
  if (exempt.length > 0) out.push(`${exempt.length} exempt ${noun(exempt.length)} over the limit: ${names(exempt)}.`);
  // keyage rotate works on IAM users; the root user's keys are deleted by the root user itself.
  // An unused key is deactivated or deleted, not rotated: a new key would be just as unused.
  const onlyUnused = (e: AuditEntry): boolean => e.verdict.violations.every((v) => v.reason === "unused");
  if (bad.some((e) => !e.root && !onlyUnused(e)) || soon.length > 0) {
    out.push("Rotate a user's key safely with: keyage rotate start --user NAME (a dry run until you add --apply).");
  }
  if (bad.some((e) => !e.root && e.verdict.violations.some((v) => v.reason === "unused"))) {
    out.push("Deactivate an unused key with: aws iam update-access-key --user-name NAME --access-key-id ID --status Inactive; delete it once nothing needs it.");
  }
  if (bad.some((e) => e.root)) {
    out.push("Delete the root user's access keys: sign in as the root user, open Security credentials, and delete them.");
  }
  for (const a of audit.accounts ?? []) {
    if (a.status === "failed") out.push(paint({ text: `Account ${a.id}${a.name ? ` (${printable(a.name)})` : ""} was NOT audited: ${printable(a.error ?? "")}`, tone: "bad" }));
  }
  return `${out.join("\n")}\n`;
}
