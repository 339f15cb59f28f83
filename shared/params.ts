import { ParameterError, show } from "./errors";
import { parseUntil } from "./time";

/** Smallest allowed `maxAgeDays`. */
export const MIN_MAX_AGE_DAYS = 1;
/** Largest allowed `maxAgeDays` (ten years). */
export const MAX_MAX_AGE_DAYS = 3650;
/** Default limit: 30 days, as in the Conformity rule IAM-001. AWS's `access-keys-rotated` and CIS use 90. */
export const DEFAULT_MAX_AGE_DAYS = 30;
/** Default warning window before the limit. */
export const DEFAULT_WARN_DAYS = 7;

/**
 * The optional unused-key limit `maxUnusedDays`: off unless set; whole days 1–3650. CIS 1.12 and Security
 * Hub IAM.22 use 45 ({@link MAX_UNUSED_DAYS}.cis): a limit of at most that many days satisfies them.
 */
export const MAX_UNUSED_DAYS = { min: 1, max: 3650, cis: 45 } as const;

/**
 * The Config rule's `refreshDays`: a scheduled run writes an unchanged result again once it is this many
 * days old. Security Hub deletes a finding not updated within 90 days, so the largest value leaves ten
 * days for failed runs; the default re-states each user about once a month (see docs/config-rule.md).
 */
export const REFRESH_DAYS = { min: 1, max: 80, default: 30 } as const;

/** IAM user names: 1–64 characters of letters, digits and `+=,.@_-` (a comma is legal). */
export const USER_NAME = /^[\w+=,.@-]{1,64}$/;

/** What {@link USER_NAME} accepts, in words, for error messages. */
export const USER_NAME_RULE = "1-64 characters of letters, digits and +=,.@_-";

/** A user whose keys are not held to the limit, optionally only until an instant. */
export interface Exemption {
  /** IAM user name (matched without regard to case, as IAM itself does). */
  readonly user: string;
  /** Epoch ms after which the exemption stops counting; absent = no end. */
  readonly until?: number;
}

/** The validated parameters every front end evaluates with. */
export interface RuleParams {
  /** Keys strictly older than this many 24-hour days are expired. Integer 1–3650, default 30. */
  readonly maxAgeDays: number;
  /** Keys within this many days of the limit are "expiring". Integer 0 to maxAgeDays−1, default 7. */
  readonly warnDays: number;
  /** Exempt users; default none. */
  readonly exemptions: readonly Exemption[];
  /**
   * An active key neither used nor created within this many 24-hour days is a violation (`unused`).
   * Integer 1–3650; absent (the default) turns the check off. Only applies where a key's last use is known.
   */
  readonly maxUnusedDays?: number;
}

/** Raw parameters as they arrive from a policy config, Lambda rule parameters or CLI flags. */
export interface RawRuleParams {
  maxAgeDays?: unknown;
  warnDays?: unknown;
  exemptions?: unknown;
  maxUnusedDays?: unknown;
}

/** How the caller's users spell each parameter, so that errors use the name they typed. */
export interface ParamNames {
  maxAgeDays?: string;
  warnDays?: string;
  exemptions?: string;
  maxUnusedDays?: string;
}

/** True for undefined, null and blank strings: how every front end spells "not set". */
export function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === "string" && value.trim() === "");
}

/**
 * Reads a whole number from a number or a decimal string of at most 9 digits (surrounding blanks and a
 * leading `+` allowed); `undefined` if it is neither. The one whole-number reader of every front end
 * (rule parameters, CLI flags, deploy settings); range checks are the caller's.
 *
 * @example
 * wholeNumber("90") // 90
 * wholeNumber("9.5") // undefined
 */
export function wholeNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) ? value : undefined;
  if (typeof value === "string" && /^\s*\+?\d{1,9}\s*$/.test(value)) return Number(value);
  return undefined;
}

function integerInRange(name: string, value: unknown, min: number, max: number, hint = ""): number {
  const n = wholeNumber(value);
  if (n === undefined || n < min || n > max) {
    throw new ParameterError(name, value, `${name} must be a whole number of days from ${min} to ${max}${hint}, got ${show(value)}`);
  }
  return n;
}

/**
 * Parses one exemption: `"alice"`, `"alice:2027-01-31"` (through the end of that day, UTC),
 * `"alice:2027-01-31T12:00:00Z"`, or `{ user: "alice", until?: "2027-01-31" }`.
 * IAM user names cannot contain `:`, so the first colon separates the name from the end date.
 */
export function parseExemption(entry: unknown, name = "exemptions"): Exemption {
  let user: unknown;
  let until: unknown;
  if (typeof entry === "string") {
    const colon = entry.indexOf(":");
    user = (colon < 0 ? entry : entry.slice(0, colon)).trim();
    until = colon < 0 ? undefined : entry.slice(colon + 1).trim();
  } else if (entry !== null && typeof entry === "object" && !Array.isArray(entry)) {
    ({ user, until } = entry as { user?: unknown; until?: unknown });
  } else {
    throw new ParameterError(name, entry, `${name}: each entry must be a user name, "user:YYYY-MM-DD" or { "user", "until" }, got ${show(entry)}`);
  }
  if (typeof user !== "string" || !USER_NAME.test(user)) {
    throw new ParameterError(name, entry, `${name}: ${show(user)} is not an IAM user name (${USER_NAME_RULE})`);
  }
  if (until === undefined || until === null || until === "") return { user };
  const ms = typeof until === "string" ? parseUntil(until) : undefined;
  if (ms === undefined) {
    throw new ParameterError(name, entry, `${name}: the end date for ${show(user)} must be YYYY-MM-DD or an RFC 3339 timestamp, got ${show(until)}`);
  }
  return { user, until: ms };
}

/**
 * Reads a list as configuration systems hand it over: an array, a JSON array in a string, or a string of
 * entries split by `separator` (default: white space). Absent → []. Entries are returned unchecked.
 * Throws {@link ParameterError} for a JSON array that does not parse or a value that is no list.
 */
export function parseList(value: unknown, name: string, what: string, separator: RegExp = /\s+/): unknown[] {
  if (isAbsent(value)) return [];
  let list: unknown = value;
  if (typeof value === "string") {
    const text = value.trim();
    if (text.startsWith("[")) {
      try {
        list = JSON.parse(text);
      } catch (cause) {
        throw new ParameterError(name, value, `${name} looks like a JSON array but does not parse: ${(cause as Error).message}`);
      }
    } else {
      list = text.split(separator).filter((s) => s !== "");
    }
  }
  if (!Array.isArray(list)) throw new ParameterError(name, value, `${name} must be a list of ${what}, got ${show(value)}`);
  return list;
}

/**
 * Parses a list of exemptions: an array, a JSON array in a string, or a string of entries separated by
 * white space (commas are legal in IAM user names, so they cannot separate entries).
 */
export function parseExemptions(value: unknown, name = "exemptions"): Exemption[] {
  return parseList(value, name, "user names").map((entry) => parseExemption(entry, name));
}

/**
 * The one validator behind the pack's config, the Lambda's rule parameters and the CLI's flags.
 * Absent values take their defaults: maxAgeDays 30, warnDays 7 (or maxAgeDays−1 when the limit is
 * shorter), no exemptions, no `maxUnusedDays` (the field is then left out). Throws {@link ParameterError} naming the value and the allowed range.
 *
 * @example validateParams({ maxAgeDays: "90" }, { maxAgeDays: "maxAccessKeyAge" })
 *   // { maxAgeDays: 90, warnDays: 7, exemptions: [] }
 */
export function validateParams(raw: RawRuleParams = {}, names: ParamNames = {}): RuleParams {
  const maxAgeName = names.maxAgeDays ?? "maxAgeDays";
  const warnName = names.warnDays ?? "warnDays";
  const maxAgeDays = isAbsent(raw.maxAgeDays)
    ? DEFAULT_MAX_AGE_DAYS
    : integerInRange(maxAgeName, raw.maxAgeDays, MIN_MAX_AGE_DAYS, MAX_MAX_AGE_DAYS);
  const warnDays = isAbsent(raw.warnDays)
    ? Math.min(DEFAULT_WARN_DAYS, maxAgeDays - 1)
    : integerInRange(warnName, raw.warnDays, 0, maxAgeDays - 1, ` (less than ${maxAgeName} = ${maxAgeDays})`);
  const exemptions = parseExemptions(raw.exemptions, names.exemptions ?? "exemptions");
  if (isAbsent(raw.maxUnusedDays)) return { maxAgeDays, warnDays, exemptions };
  const maxUnusedDays = integerInRange(names.maxUnusedDays ?? "maxUnusedDays", raw.maxUnusedDays, MAX_UNUSED_DAYS.min, MAX_UNUSED_DAYS.max);
  return { maxAgeDays, warnDays, exemptions, maxUnusedDays };
}

/**
 * Validates the Config rule's `refreshDays` (whole days {@link REFRESH_DAYS}.min–max; absent → the
 * default, 30). Throws {@link ParameterError} naming the parameter as `name` spells it, the value and
 * the range.
 *
 * @example validateRefreshDays("14") // 14
 */
export function validateRefreshDays(value: unknown, name = "refreshDays"): number {
  if (isAbsent(value)) return REFRESH_DAYS.default;
  return integerInRange(name, value, REFRESH_DAYS.min, REFRESH_DAYS.max);
}

/** Outcome of looking a user up in the exemptions at `now`. */
export interface ExemptionMatch {
  /** The exemption that holds at `now`, if any. */
  readonly active?: Exemption;
  /** An exemption for this user that has ended, if no other holds (reported so nobody is surprised). */
  readonly ended?: Exemption;
}

/** Finds the user's exemption at `now` (names compared without regard to case, as IAM does). */
export function findExemption(user: string, exemptions: readonly Exemption[], now: number): ExemptionMatch {
  const lower = user.toLowerCase();
  let ended: Exemption | undefined;
  for (const e of exemptions) {
    if (e.user.toLowerCase() !== lower) continue;
    if (e.until === undefined || now <= e.until) return { active: e };
    ended = e;
  }
  return ended ? { ended } : {};
}
