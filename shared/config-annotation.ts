/**
 * The AWS Config rule's annotation: the same words for the same keys on every run. Config charges for
 * every evaluation recorded, so a scheduled run writes a user again only when what Config shows would
 * change; an annotation that counted days ("45 days old") would change every day and force a write.
 * So this wording says dates, never ages, and names a key by what every way of reading it has: its
 * creation date. The credential report has key slots and no ids, ListAccessKeys has ids and no slots,
 * and a run may use either, so neither an id nor a slot appears. The policy pack and the CLI keep the
 * rule's own wording (`UserVerdict.annotation`), which reports ages.
 */
import { capital, listing, truncate } from "./annotation";
import { findExemption, type RuleParams } from "./params";
import { remedy, type KeyVerdict, type UserVerdict } from "./rule";
import { DAY_MS } from "./time";

/** `YYYY-MM-DD` (UTC) of an epoch-ms instant. */
function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The day a key's age passes (or reached) the limit: creation + maxAgeDays × 24 h. */
function limitDay(key: KeyVerdict): string {
  return day(Date.parse(key.createDate as string) + key.maxAgeDays * DAY_MS);
}

function created(key: KeyVerdict): string {
  return key.createDate === null ? "access key of unknown creation date" : `access key created ${day(Date.parse(key.createDate))}`;
}

/**
 * Keys in an order both reads agree on (creation time, unknown last), so the text does not depend on
 * whether the report's slot 1 or ListAccessKeys' first entry came first.
 */
function ordered(keys: readonly KeyVerdict[]): KeyVerdict[] {
  const at = (k: KeyVerdict): number => (k.createDate === null ? Number.POSITIVE_INFINITY : Date.parse(k.createDate));
  return [...keys].sort((a, b) => at(a) - at(b) || a.reason.localeCompare(b.reason));
}

/** One violating key, in words that stay the same from day to day. */
function violation(key: KeyVerdict): string {
  switch (key.reason) {
    case "expired":
      return `${created(key)} passed the ${key.maxAgeDays}-day limit on ${limitDay(key)}`;
    case "root-key":
      return `${created(key)} of the root user is active, and the root user should have no access keys`;
    case "unused": {
      // Dates only: the idle start is the creation (never used, or impossible use before it) or the last use.
      const since = key.unusedSince as string;
      const used = key.createDate !== null && Date.parse(since) > Date.parse(key.createDate) ? `, last used ${day(Date.parse(since))},` : ", not used since,";
      return `${created(key)}${used} passed the ${key.maxUnusedDays}-day unused limit on ${day(Date.parse(since) + (key.maxUnusedDays as number) * DAY_MS)}`;
    }
    default:
      // "undeterminable" (and, defensively, anything else that made the key NON_COMPLIANT).
      return `an active access key has no readable creation date, so it cannot be held to the ${key.maxAgeDays}-day limit`;
  }
}

/**
 * The annotation keyage writes to AWS Config for a user's verdict: at most 256 characters, naming each
 * key that matters by its creation date, the date it passes (or passed) the limit, and the limit. It
 * depends only on the keys' creation dates and statuses, the parameters and whether an exemption holds,
 * so it stays the same from run to run while nothing changes, and is the same whether the keys were read
 * from the credential report or with ListAccessKeys. `now` (epoch ms) only decides whether an exemption
 * still holds.
 *
 * @example
 * configAnnotation(evaluateUser({ user: "alice", keys: [{ accessKeyId: "AKIA…WXYZ", createDate: "2026-10-15T09:00:00Z" }] },
 *   validateParams(), Date.parse("2026-12-01T00:00:00Z")), validateParams(), Date.parse("2026-12-01T00:00:00Z"))
 * // "Access key created 2026-10-15 passed the 30-day limit on 2026-11-14; rotate it."
 */
export function configAnnotation(verdict: UserVerdict, params: RuleParams, now: number): string {
  const { maxAgeDays } = params;
  const violations = ordered(verdict.violations);
  if (violations.length > 0) {
    const what = capital(listing(violations.map(violation)));
    if (verdict.exemption) {
      const until = verdict.exemption.until === undefined ? "" : ` until ${day(verdict.exemption.until)}`;
      return truncate(`Exempt${until}: ${what}.`);
    }
    const ended = findExemption(verdict.user, params.exemptions, now).ended;
    const endedNote = ended?.until === undefined ? "" : ` Exemption ended ${day(ended.until)}.`;
    // A root key is deleted, never rotated; an unused key is deactivated or deleted (see `remedy`).
    return truncate(`${what}; ${remedy(violations)} ${violations.length === 1 ? "it" : "them"}.${endedNote}`);
  }
  const active = ordered(verdict.keys.filter((k) => k.active && k.createDate !== null));
  if (active.length === 0) return "No active access keys.";
  // The warning says the date the key reaches the limit, not the days left, so it too stays put.
  const expiring = ordered(verdict.expiring);
  if (expiring.length > 0) {
    const which = listing(expiring.map((k) => `${created(k)} reaches it on ${limitDay(k)}`));
    return truncate(`Within the ${maxAgeDays}-day limit, but ${which} (warning ${params.warnDays} days ahead).`);
  }
  const oldest = active[0] as KeyVerdict;
  if (active.length === 1) return truncate(`${capital(created(oldest))} is within the ${maxAgeDays}-day limit, which it reaches on ${limitDay(oldest)}.`);
  return truncate(`Access keys within the ${maxAgeDays}-day limit; the oldest, created ${day(Date.parse(oldest.createDate as string))}, reaches it on ${limitDay(oldest)}.`);
}
