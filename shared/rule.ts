import { capital, days, listing, truncate } from "./annotation";
import { show } from "./errors";
import { findExemption, type Exemption, type ExemptionMatch, type RuleParams } from "./params";
import { ROOT_ACCOUNT } from "./credential-report";
import { DAY_MS, parseTimestamp, wholeDays } from "./time";

/** Compliance of a user (and of an active key). Inactive keys are NOT_APPLICABLE. */
export type Compliance = "COMPLIANT" | "NON_COMPLIANT";
export type KeyCompliance = Compliance | "NOT_APPLICABLE";

/** Why a key got its verdict. */
export type KeyReason =
  | "inactive" // status Inactive: does not count
  | "ok" // active, within the limit and outside the warning window
  | "expiring" // active, within the limit but within warnDays of it
  | "expired" // active, strictly older than maxAgeDays × 24 h
  | "undeterminable" // active, createDate absent or unparseable: a violation, never silently compliant
  | "root-key" // an active key of the root user: a violation whatever its age (CIS 1.4, Security Hub IAM.4)
  | "unused"; // active, within the age limit, but neither used nor created within maxUnusedDays (CIS 1.12, IAM.22)

/** An access key as every front end sees it. Only what the rule needs; never the secret. */
export interface AccessKey {
  /** The access key id (AKIA…), when known. Messages show only its last four characters. */
  readonly accessKeyId?: string;
  /** Credential-report slot (1 or 2), when the id is not known. */
  readonly slot?: 1 | 2;
  /** A caller-chosen name (e.g. a Pulumi resource name) used in messages before id or slot. */
  readonly name?: string;
  /**
   * `Active` or `Inactive`; absent means Active (IAM's and Pulumi's default). Only `Inactive` (any case)
   * makes a key inactive: any other value counts as Active.
   */
  readonly status?: string;
  /** Creation time: RFC 3339 string with a zone, or a Date. */
  readonly createDate?: string | Date | null;
  /**
   * Last use: RFC 3339 string or Date; `null` when the key was never used; absent (`undefined`) when its
   * use is not known (the policy pack, or a read that did not ask), which leaves `maxUnusedDays` unapplied.
   * A value that cannot be parsed counts as no use at all (fail closed: the key's idle time then counts
   * from its creation).
   */
  readonly lastUsedDate?: string | Date | null;
}

/** The rule's verdict on one key: data, so each front end can word it its own way. */
export interface KeyVerdict {
  readonly key: AccessKey;
  /** How messages name the key: `access key "name"`, "access key …WXYZ" (last 4 of the id), or "access key 1". */
  readonly label: string;
  readonly active: boolean;
  readonly compliance: KeyCompliance;
  readonly reason: KeyReason;
  /** Creation time normalised to ISO 8601 UTC, or null when it cannot be determined. */
  readonly createDate: string | null;
  /** Age in whole 24-hour days (rounded down; a future date is 0), or null when undeterminable. */
  readonly ageDays: number | null;
  readonly maxAgeDays: number;
  /** Whole days left before the key expires (0 when expired, and for a root key), or null when undeterminable or inactive. */
  readonly daysLeft: number | null;
  /** The unused-key limit applied, or null when `maxUnusedDays` is off. */
  readonly maxUnusedDays: number | null;
  /**
   * Since when the key has been idle: the later of its creation and its last use (a last use before the
   * creation is impossible data and is ignored), ISO 8601 UTC. Null when its use is not known, or its
   * creation cannot be determined.
   */
  readonly unusedSince: string | null;
  /** Whole days since {@link unusedSince} (rounded down), or null when that is null. */
  readonly unusedDays: number | null;
  /** One sentence about this key, naming it, its age and the limit. */
  readonly message: string;
}

/** A user and their keys, as read from IAM, a credential report or a Pulumi stack. */
export interface UserKeys {
  readonly user: string;
  readonly keys: readonly AccessKey[];
  /**
   * True for the account's root user (the credential report's `<root_account>` row), who should have no
   * access key at all. A user named {@link ROOT_ACCOUNT} is the root user too. Default false.
   */
  readonly root?: boolean;
}

/** The rule's verdict on one user. */
export interface UserVerdict {
  readonly user: string;
  readonly compliance: Compliance;
  readonly keys: readonly KeyVerdict[];
  /** Keys that violate the rule (expired, undeterminable, or a root key), whether or not the user is exempt. */
  readonly violations: readonly KeyVerdict[];
  /** Active keys within `warnDays` of the limit. */
  readonly expiring: readonly KeyVerdict[];
  /** The exemption that made a violating user COMPLIANT, if any. */
  readonly exemption?: Exemption;
  /** One line, at most 256 characters, naming the keys, their ages and the limit. */
  readonly annotation: string;
}

/** How messages name a key: `access key "name"`, "access key …WXYZ" (last 4 of the id), or "access key 1". */
export function keyLabel(key: AccessKey): string {
  if (key.name) return `access key "${key.name}"`;
  if (key.accessKeyId) return `access key …${key.accessKeyId.slice(-4)}`;
  if (key.slot) return `access key ${key.slot}`;
  return "access key";
}

/**
 * True unless the status is `Inactive` (in any case). Fails closed: an absent status means Active (IAM's
 * and Pulumi's default), and so does any value keyage does not recognise, since wrongly skipping a live
 * key would hide a violation.
 */
export function isActive(status: string | undefined | null): boolean {
  return typeof status !== "string" || status.toLowerCase() !== "inactive";
}

/**
 * Evaluates one key at `now` (epoch ms). A key is expired when `now − createDate > maxAgeDays × 86 400 000`
 * (exactly N days old is still compliant); expiring when, not expired, it is older than
 * `(maxAgeDays − warnDays) × 24 h`. A future createDate counts as age 0. An active key whose createDate is
 * absent or unparseable is a violation ("undeterminable"). With `root` true (a key of the account's root
 * user), any active key is a violation ("root-key") whatever its age: CIS 1.4 and Security Hub IAM.4 want
 * the root user to have no access key at all. Default `root` false.
 *
 * With `maxUnusedDays` set and the key's use known (`lastUsedDate` a date or null), an active key that is
 * not expired is "unused" when `now − max(createDate, lastUsedDate) > maxUnusedDays × 24 h`: exactly N days
 * idle is compliant, a key never used counts from its creation, and a last use before the creation (which
 * cannot happen) counts from the creation too. An expired key stays "expired" (its idle days are still
 * reported): the age limit's verdict never changes when the unused limit is turned on.
 *
 * @example evaluateKey({ accessKeyId: "AKIA…WXYZ", createDate: "2026-01-01T00:00:00Z" },
 *   { maxAgeDays: 30, warnDays: 7 }, Date.parse("2026-02-15T00:00:00Z")) // expired, ageDays 45
 */
export function evaluateKey(key: AccessKey, params: Pick<RuleParams, "maxAgeDays" | "warnDays" | "maxUnusedDays">, now: number, root = false): KeyVerdict {
  const { maxAgeDays, warnDays } = params;
  const maxUnusedDays = params.maxUnusedDays ?? null;
  const label = keyLabel(key);
  const active = isActive(key.status);
  const created = parseTimestamp(key.createDate);
  const createDate = created === undefined ? null : new Date(created).toISOString();
  const ageMs = created === undefined ? undefined : Math.max(0, now - created);
  const ageDays = ageMs === undefined ? null : wholeDays(ageMs);
  const limitMs = maxAgeDays * DAY_MS;
  // Idle since the later of creation and last use; unknown use (undefined) leaves it unknown.
  const used = key.lastUsedDate === undefined ? undefined : (parseTimestamp(key.lastUsedDate) ?? Number.NEGATIVE_INFINITY);
  const idleFrom = created === undefined || used === undefined ? undefined : Math.max(created, used);
  const idleMs = idleFrom === undefined ? undefined : Math.max(0, now - idleFrom);
  const reason: KeyReason = !active
    ? "inactive"
    : root
      ? "root-key"
      : ageMs === undefined
        ? "undeterminable"
        : ageMs > limitMs
          ? "expired"
          : maxUnusedDays !== null && idleMs !== undefined && idleMs > maxUnusedDays * DAY_MS
            ? "unused"
            : ageMs > (maxAgeDays - warnDays) * DAY_MS
              ? "expiring"
              : "ok";
  // A root key is due for deletion now, whatever its age; an inactive key never expires, so it has no count.
  const daysLeft = ageMs === undefined || reason === "inactive" ? null : reason === "root-key" ? 0 : Math.max(0, Math.ceil((limitMs - ageMs) / DAY_MS));
  const compliance: KeyCompliance = reason === "inactive" ? "NOT_APPLICABLE" : reason === "ok" || reason === "expiring" ? "COMPLIANT" : "NON_COMPLIANT";
  const unusedSince = idleFrom === undefined ? null : new Date(idleFrom).toISOString();
  const unusedDays = idleMs === undefined ? null : wholeDays(idleMs);
  const usedAt = used !== undefined && created !== undefined && used > created ? used : undefined;
  // Worded eagerly: a lazy getter measured no faster for the CLI or the pack, and cost the pack memory.
  const message =
    reason === "unused"
      ? unusedMessage(label, unusedDays as number, usedAt, maxUnusedDays as number)
      : keyMessage(reason, key, label, ageDays, daysLeft, maxAgeDays);
  return { key, label, active, createDate, ageDays, maxAgeDays, daysLeft, maxUnusedDays, unusedSince, unusedDays, compliance, reason, message };
}

function unusedMessage(label: string, idleDays: number, usedAt: number | undefined, maxUnusedDays: number): string {
  const what = usedAt === undefined ? `has not been used in the ${days(idleDays)} since it was created` : `was last used ${days(idleDays)} ago (${new Date(usedAt).toISOString().slice(0, 10)})`;
  return `${capital(label)} ${what}, over the ${maxUnusedDays}-day unused limit.`;
}

function keyMessage(reason: Exclude<KeyReason, "unused">, key: AccessKey, label: string, ageDays: number | null, daysLeft: number | null, maxAgeDays: number): string {
  const age = days(ageDays ?? 0);
  switch (reason) {
    case "inactive":
      return `${capital(label)} is inactive${ageDays === null ? "" : `, ${age} old`}; only active keys count.`;
    case "undeterminable": {
      const raw = key.createDate === undefined || key.createDate === null ? "none" : show(key.createDate);
      return `The age of ${label} cannot be determined (createDate ${raw}); limit ${days(maxAgeDays)}.`;
    }
    case "expired":
      return `${capital(label)} is ${age} old, over the ${maxAgeDays}-day limit.`;
    case "expiring":
      return `${capital(label)} is ${age} old and ${expiresIn(daysLeft ?? 0)} (limit ${days(maxAgeDays)}).`;
    case "ok":
      return `${capital(label)} is ${age} old, within the ${maxAgeDays}-day limit.`;
    case "root-key":
      return `${capital(label)} of the root user is active${ageDays === null ? "" : ` (${age} old)`}, and the root user should have no access keys.`;
    default:
      return reason satisfies never;
  }
}

function expiresIn(daysLeft: number): string {
  return daysLeft === 0 ? "reaches the limit now" : `expires within ${days(daysLeft)}`;
}

function describe(v: KeyVerdict): string {
  if (v.reason === "undeterminable" || v.ageDays === null) return `${v.label} (age unknown)`;
  if (v.reason === "unused") return `${v.label} (unused ${days(v.unusedDays as number)})`;
  return `${v.label} (${days(v.ageDays as number)})`;
}

/** What several violating keys have in common, in words: built from the reasons present. */
function violationSummary(violations: readonly KeyVerdict[], maxAgeDays: number): string {
  const unused = violations.find((v) => v.reason === "unused");
  const parts: string[] = [];
  if (violations.some((v) => v.reason === "expired")) parts.push(`over the ${maxAgeDays}-day limit`);
  if (unused) parts.push(`unused for over ${days(unused.maxUnusedDays as number)}`);
  if (violations.some((v) => v.reason === "undeterminable")) parts.push("of unknown age");
  return parts.length === 2 ? parts.join(" or ") : listing(parts).replace(/ and ([^,]*)$/, ", or $1");
}

/**
 * What to do about violating keys: a root key is deleted (the root user should hold none), an unused key
 * deactivated or deleted (a new key would be as unused), anything else rotated.
 */
export function remedy(violations: readonly Pick<KeyVerdict, "reason">[]): "delete" | "deactivate or delete" | "rotate" | "rotate or delete" {
  if (violations.some((v) => v.reason === "root-key")) return "delete";
  const unused = violations.filter((v) => v.reason === "unused").length;
  if (unused === 0) return "rotate";
  return unused === violations.length ? "deactivate or delete" : "rotate or delete";
}

function userAnnotation(verdict: Omit<UserVerdict, "annotation">, ended: Exemption | undefined, maxAgeDays: number): string {
  const { violations, expiring, keys, exemption } = verdict;
  const endedNote = ended?.until !== undefined ? ` Exemption ended ${new Date(ended.until).toISOString().slice(0, 10)}.` : "";
  if (violations.length > 0) {
    const [first] = violations;
    const root = violations.some((v) => v.reason === "root-key");
    const what =
      violations.length === 1 && first
        ? first.message.replace(/\.$/, "")
        : root
          ? `${capital(listing(violations.map(describe)))} of the root user are active, and the root user should have no access keys`
          : `${capital(listing(violations.map(describe)))} are ${violationSummary(violations, maxAgeDays)}`;
    if (exemption) {
      const until = exemption.until === undefined ? "" : ` until ${new Date(exemption.until).toISOString().slice(0, 10)}`;
      return truncate(`Exempt${until}: ${what}.`);
    }
    return truncate(`${what}; ${remedy(violations)} ${violations.length === 1 ? "it" : "them"}.${endedNote}`);
  }
  const active = keys.filter((k) => k.active);
  if (active.length === 0) return "No active access keys.";
  if (expiring.length > 0) {
    const soonest = Math.min(...expiring.map((k) => k.daysLeft as number));
    const which = expiring.length === 1 ? "it" : "the first";
    return truncate(`Within the ${maxAgeDays}-day limit, but ${listing(expiring.map(describe))} ${expiring.length === 1 ? "is" : "are"} close to it: ${which} ${expiresIn(soonest)}.`);
  }
  const oldest = Math.max(...active.map((k) => k.ageDays as number));
  return truncate(`All active keys within the ${maxAgeDays}-day limit (oldest ${days(oldest)}).`);
}

/**
 * Evaluates a user: NON_COMPLIANT if any active key is expired, unused (with `maxUnusedDays` set and its
 * use known) or of undeterminable age, else COMPLIANT
 * (also with no keys or only inactive ones). The root user (`root: true`, or the name `<root_account>`)
 * is NON_COMPLIANT with any active key, whatever its age. A user with an exemption holding at `now` is
 * COMPLIANT, and the annotation says so and still names the keys.
 */
export function evaluateUser(user: UserKeys, params: RuleParams, now: number): UserVerdict {
  const root = user.root === true || user.user === ROOT_ACCOUNT;
  const keys = user.keys.map((k) => evaluateKey(k, params, now, root));
  const violations = keys.filter((k) => k.compliance === "NON_COMPLIANT");
  const expiring = keys.filter((k) => k.reason === "expiring");
  const match: ExemptionMatch = violations.length > 0 ? findExemption(user.user, params.exemptions, now) : {};
  const exemption = match.active;
  const compliance: Compliance = violations.length > 0 && !exemption ? "NON_COMPLIANT" : "COMPLIANT";
  const partial = { user: user.user, compliance, keys, violations, expiring, ...(exemption ? { exemption } : {}) };
  const ended = match.active ? undefined : match.ended;
  return { ...partial, annotation: userAnnotation(partial, ended, params.maxAgeDays) };
}

/**
 * True when asking for `key`'s last use could make it "unused": `maxUnusedDays` is set, and the key
 * would be unused if it had not been used since what is already known of it (`lastUsedDate`; unknown
 * counts as never). False for a key that is inactive, expired, of unknown age, a root key, or known to be
 * used or created within the limit, whose verdict no last use can change. Readers call
 * GetAccessKeyLastUsed only for these keys.
 */
export function mayBeUnused(key: AccessKey, params: Pick<RuleParams, "maxAgeDays" | "warnDays" | "maxUnusedDays">, now: number, root = false): boolean {
  if (params.maxUnusedDays === undefined) return false;
  return evaluateKey(key.lastUsedDate === undefined ? { ...key, lastUsedDate: null } : key, params, now, root).reason === "unused";
}

/**
 * A credential-report key as the rule reads its use: the report always knows it, so a key without a
 * `last_used_date` (`N/A`) was never used (`null`), never "not known".
 */
export function withReportedUse<K extends AccessKey>(key: K): K {
  return key.lastUsedDate === undefined ? { ...key, lastUsedDate: null } : key;
}
