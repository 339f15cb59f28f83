/**
 * `--format html`: one self-contained page for people (and printers): the run's parameters, a summary per
 * account, a histogram of active key ages with the limit and the warning window marked (inline SVG), the
 * violating keys sorted by age, and the accounts that could not be audited. No script, no font, no image,
 * nothing fetched: a Content-Security-Policy of `default-src 'none'` says so to the browser as well, and
 * every value that came from AWS or a report file (user names, ARNs, account names, errors) is escaped.
 */
import { days } from "../shared";
import { entryAccount, figures, incomplete, lastUsedOf, type AccountFigures, type Audit, type AuditEntry } from "./model";
import { keyageVersion } from "./version";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for an HTML element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

const h = escapeHtml;

/** Histogram bins: `count` active keys aged [from, to) days, `over` of them violations; the last bin is open-ended. */
export interface AgeBin {
  readonly from: number;
  readonly to: number | null;
  readonly count: number;
  readonly over: number;
}

/**
 * Bins active keys by age: bins of ⌈limit/10⌉ days up to three times the limit, then one open bin for
 * everything older. `violation` marks the keys the rule found in violation (a whole-day age alone cannot
 * tell a key exactly at the limit from one an hour past it).
 */
export function ageBins(keys: readonly { readonly ageDays: number; readonly violation: boolean }[], maxAgeDays: number): AgeBin[] {
  const width = Math.max(1, Math.ceil(maxAgeDays / 10));
  const bins = Math.ceil((maxAgeDays * 3) / width);
  const counts = new Array<number>(bins + 1).fill(0);
  const over = new Array<number>(bins + 1).fill(0);
  for (const k of keys) {
    const i = Math.min(bins, Math.floor(k.ageDays / width));
    counts[i]! += 1;
    if (k.violation) over[i]! += 1;
  }
  return counts.map((count, i) => ({ from: i * width, to: i < bins ? (i + 1) * width : null, count, over: over[i] as number }));
}

function histogram(audit: Audit): string {
  const { maxAgeDays, warnDays } = audit.params;
  const ages: { ageDays: number; violation: boolean }[] = [];
  let unknown = 0;
  for (const e of audit.entries) {
    for (const k of e.verdict.keys) {
      if (!k.active) continue;
      if (k.ageDays === null) unknown += 1;
      else ages.push({ ageDays: k.ageDays, violation: k.compliance === "NON_COMPLIANT" });
    }
  }
  const bins = ageBins(ages, maxAgeDays);
  const W = 760;
  const H = 190;
  const left = 44;
  const bottom = 30;
  const top = 26;
  const plotW = W - left - 10;
  const plotH = H - bottom - top;
  const span = (bins.at(-1) as AgeBin).from + (bins[1]?.from ?? 1);
  const x = (d: number): number => left + (Math.min(d, span) / span) * plotW;
  const peak = Math.max(1, ...bins.map((b) => b.count));
  const y = (n: number): number => top + plotH - (n / peak) * plotH;
  const parts: string[] = [];
  for (const b of bins) {
    const x0 = x(b.from);
    const x1 = x(b.to ?? span);
    const label = b.to === null ? `${b.from} days or more` : `${b.from}–${b.to - 1} days`;
    const barW = Math.max(1, x1 - x0 - 2).toFixed(1);
    // Compliant keys below, violations stacked on top (red).
    const ok = b.count - b.over;
    if (ok > 0) parts.push(`<rect class="bar" x="${(x0 + 1).toFixed(1)}" y="${y(ok).toFixed(1)}" width="${barW}" height="${(top + plotH - y(ok)).toFixed(1)}"><title>${label}: ${ok} compliant key${ok === 1 ? "" : "s"}</title></rect>`);
    if (b.over > 0) parts.push(`<rect class="bar over" x="${(x0 + 1).toFixed(1)}" y="${y(b.count).toFixed(1)}" width="${barW}" height="${(y(ok) - y(b.count)).toFixed(1)}"><title>${label}: ${b.over} key${b.over === 1 ? "" : "s"} in violation</title></rect>`);
  }
  // Over the bars: the warning window [limit - warn, limit] (translucent), then the limit itself.
  if (warnDays > 0) {
    parts.push(`<rect class="warn" x="${x(maxAgeDays - warnDays).toFixed(1)}" y="${top}" width="${(x(maxAgeDays) - x(maxAgeDays - warnDays)).toFixed(1)}" height="${plotH}"><title>warning window: the last ${days(warnDays)} before the limit</title></rect>`);
  }
  parts.push(`<line class="limit" x1="${x(maxAgeDays).toFixed(1)}" x2="${x(maxAgeDays).toFixed(1)}" y1="${top - 6}" y2="${top + plotH}"/>`);
  parts.push(`<text class="limit-label" x="${(x(maxAgeDays) + 4).toFixed(1)}" y="${top - 10}">limit ${days(maxAgeDays)}</text>`);
  parts.push(`<line class="axis" x1="${left}" x2="${W - 10}" y1="${top + plotH}" y2="${top + plotH}"/>`);
  parts.push(`<line class="axis" x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}"/>`);
  for (const d of [0, maxAgeDays, maxAgeDays * 2, maxAgeDays * 3]) {
    parts.push(`<text class="tick" x="${x(d).toFixed(1)}" y="${H - 12}" text-anchor="middle">${d === maxAgeDays * 3 ? `${d}+` : d}</text>`);
  }
  parts.push(`<text class="tick" x="${left - 6}" y="${top + 4}" text-anchor="end">${peak}</text>`);
  parts.push(`<text class="tick" x="${left - 6}" y="${top + plotH}" text-anchor="end">0</text>`);
  const caption = `${ages.length} active key${ages.length === 1 ? "" : "s"} by age in days (blue: compliant, red: in violation)${unknown > 0 ? `; ${unknown} of unknown age (violations) not shown` : ""}. Shaded: the warning window (${days(warnDays)}); dashed line: the limit.`;
  return `<figure><svg role="img" aria-label="Histogram of active access key ages" viewBox="0 0 ${W} ${H}" width="100%" xmlns="http://www.w3.org/2000/svg">${parts.join("")}</svg><figcaption>${h(caption)}</figcaption></figure>`;
}

interface AccountRow {
  readonly id: string;
  readonly name?: string | undefined;
  readonly status: "audited" | "failed";
  readonly error?: string | undefined;
  readonly notes: readonly string[];
  readonly figures: AccountFigures;
}

function accountRows(audit: Audit): AccountRow[] {
  const byAccount = new Map<string, AuditEntry[]>();
  for (const e of audit.entries) {
    const id = entryAccount(e) ?? "unknown";
    const list = byAccount.get(id);
    if (list) list.push(e);
    else byAccount.set(id, [e]);
  }
  if (audit.accounts) {
    return audit.accounts.map((a) => ({ id: a.id, name: a.name, status: a.status, error: a.error, notes: a.notes, figures: figures(byAccount.get(a.id) ?? []) }));
  }
  return [...byAccount.entries()].map(([id, es]) => ({ id, status: "audited" as const, notes: [], figures: figures(es) }));
}

function summaryTable(rows: readonly AccountRow[], total: AccountFigures): string {
  const num = (n: number, cls = ""): string => `<td class="num${n > 0 && cls ? ` ${cls}` : ""}">${n}</td>`;
  const body = rows.map((r) => {
    const f = r.figures;
    const state = r.status === "failed" ? `<td class="bad">not audited</td>` : `<td>audited${r.notes.length > 0 ? ` <span class="note">(${r.notes.length} note${r.notes.length === 1 ? "" : "s"})</span>` : ""}</td>`;
    // Nothing was read in an account not audited: dashes, not zeros that would read as "clean".
    const counts = r.status === "failed" ? `<td class="num">–</td>`.repeat(5) : `${num(f.users)}${num(f.activeKeys)}${num(f.nonCompliant, "bad")}${num(f.expiring, "warn")}${num(f.rootKeys, "bad")}`;
    return `<tr><td class="mono">${h(r.id)}</td><td>${h(r.name ?? "")}</td>${state}${counts}</tr>`;
  });
  const foot = rows.length > 1 ? `<tfoot><tr><th colspan="3">all accounts</th>${num(total.users)}${num(total.activeKeys)}${num(total.nonCompliant, "bad")}${num(total.expiring, "warn")}${num(total.rootKeys, "bad")}</tr></tfoot>` : "";
  return (
    `<table class="summary"><thead><tr><th>account</th><th>name</th><th>state</th><th class="num">users</th><th class="num">active keys</th>` +
    `<th class="num">non-compliant users</th><th class="num">expiring keys</th><th class="num">root keys</th></tr></thead><tbody>${body.join("")}</tbody>${foot}</table>`
  );
}

const VERDICT: Record<string, string> = {
  expired: "expired",
  undeterminable: "age unknown",
  "root-key": "root key",
};

function violatorsTable(audit: Audit): string {
  const rows: { e: AuditEntry; k: AuditEntry["verdict"]["keys"][number] }[] = [];
  for (const e of audit.entries) {
    if (e.verdict.compliance !== "NON_COMPLIANT") continue;
    for (const k of e.verdict.violations) rows.push({ e, k });
  }
  if (rows.length === 0) return `<p class="good">No violations: every active key is within ${h(days(audit.params.maxAgeDays))}.</p>`;
  // Oldest first; a key whose age cannot be determined is a violation of unknown size: first of all.
  rows.sort((a, b) => (b.k.ageDays ?? Infinity) - (a.k.ageDays ?? Infinity));
  const body = rows.map(({ e, k }) => {
    const key = k.key.accessKeyId ? `…${k.key.accessKeyId.slice(-4)}` : `slot ${String(k.key.slot ?? "?")}`;
    const used = lastUsedOf(k);
    return (
      // Column styles come from the stylesheet (nth-child), not per cell: thousands of rows stay light.
      `<tr><td>${h(entryAccount(e) ?? "")}</td><td>${h(e.user)}</td><td>${h(key)}</td><td>${h(k.createDate ? k.createDate.slice(0, 10) : "unknown")}</td>` +
      `<td>${k.ageDays === null ? "?" : k.ageDays}</td><td>${h(VERDICT[k.reason] ?? k.reason)}</td><td>${h(used ? `${used.date.slice(0, 10)}${used.service ? ` (${used.service})` : ""}` : "never / unknown")}</td></tr>`
    );
  });
  return (
    `<table class="violators"><thead><tr><th>account</th><th>user</th><th>key</th><th>created</th><th class="num">age (days)</th><th>verdict</th><th>last used</th></tr></thead>` +
    `<tbody>${body.join("")}</tbody></table>`
  );
}

const STYLE = `
:root { --bad: #b3261e; --warn: #9a6700; --good: #1a7f37; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.params { color: var(--muted); margin: 0; } .params dt { display: inline; font-weight: 600; } .params dd { display: inline; margin: 0 16px 0 4px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: #f6f8fa; font-weight: 600; } tfoot th, tfoot td { font-weight: 600; border-top: 2px solid var(--line); }
.num { text-align: right; font-variant-numeric: tabular-nums; } .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.bad { color: var(--bad); font-weight: 600; } .warn { color: var(--warn); } .good { color: var(--good); } .note { color: var(--muted); font-weight: normal; }
.banner { border: 2px solid var(--bad); background: #ffebe9; padding: 8px 12px; margin: 16px 0; } .banner ul { margin: 4px 0 0; padding-left: 20px; }
figure { margin: 0; } figcaption { color: var(--muted); font-size: 12px; }
svg .bar { fill: #54aeff; } svg .bar.over { fill: var(--bad); } svg rect.warn { fill: #e3b341; fill-opacity: 0.35; } svg .limit { stroke: var(--bad); stroke-width: 2; stroke-dasharray: 4 3; }
svg .axis { stroke: var(--muted); } svg text { font-size: 11px; fill: var(--muted); } svg .limit-label { fill: var(--bad); font-weight: 600; }
/* Thousands of rows: let the browser skip laying out those off screen. */
.violators tbody tr { content-visibility: auto; contain-intrinsic-size: auto 29px; }
.violators td:nth-child(1), .violators td:nth-child(3) { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.violators td:nth-child(5) { text-align: right; font-variant-numeric: tabular-nums; } .violators td:nth-child(6) { color: var(--bad); font-weight: 600; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print { body { margin: 0; max-width: none; font-size: 11px; } thead { display: table-header-group; } tr { break-inside: avoid; } h2 { break-after: avoid; } .banner { background: none; } }
`;

/**
 * The whole page. Pure: the same audit gives the same bytes (the time shown is the audit's `now`).
 *
 * @example writeFileSync("audit.html", formatHtml(audit));
 */
export function formatHtml(audit: Audit, version: string = keyageVersion()): string {
  const { maxAgeDays, warnDays, exemptions } = audit.params;
  const at = new Date(audit.now).toISOString().replace(".000Z", "Z");
  const rows = accountRows(audit);
  const total = figures(audit.entries);
  const failed = rows.filter((r) => r.status === "failed");
  const notes = rows.flatMap((r) => r.notes.map((n) => `account ${r.id}: ${n}`));
  const banner =
    incomplete(audit) && failed.length > 0
      ? `<div class="banner" role="alert"><strong>Incomplete audit: ${failed.length} of ${rows.length} accounts could not be audited.</strong> The figures below cover the others only.<ul>${failed
          .map((r) => `<li><span class="mono">${h(r.id)}</span>${r.name ? ` (${h(r.name)})` : ""}: ${h(r.error ?? "")}</li>`)
          .join("")}</ul></div>`
      : "";
  const exempt = exemptions.length === 0 ? "none" : exemptions.map((x) => `${x.user}${x.until === undefined ? "" : ` until ${new Date(x.until).toISOString().slice(0, 10)}`}`).join(", ");
  const verdict =
    total.nonCompliant === 0
      ? `<p class="good"><strong>All ${total.users} users compliant.</strong></p>`
      : `<p class="bad"><strong>${total.nonCompliant} of ${total.users} users non-compliant.</strong></p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="keyage ${h(version)}">
<title>keyage: access key audit of ${h(audit.source)}, ${h(at)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Access key audit</h1>
<dl class="params"><dt>of</dt><dd>${h(audit.source)}</dd><dt>at</dt><dd>${h(at)}</dd><dt>limit</dt><dd>${h(days(maxAgeDays))}</dd><dt>warning</dt><dd>${h(days(warnDays))} before</dd><dt>exemptions</dt><dd>${h(exempt)}</dd></dl>
</header>
${banner}${verdict}
<h2>Accounts</h2>
${summaryTable(rows, total)}
${notes.length > 0 ? `<ul class="note">${notes.map((n) => `<li>${h(n)}</li>`).join("")}</ul>` : ""}
<h2>Active key ages</h2>
${histogram(audit)}
<h2>Violations, oldest first</h2>
${violatorsTable(audit)}
<footer>Generated by keyage ${h(version)} (${h(at)}). Rotate a key safely with <code>keyage rotate start --user NAME</code>; delete root user keys signed in as the root user.</footer>
</body>
</html>
`;
}
