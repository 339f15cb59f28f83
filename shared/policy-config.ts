/**
 * The policy pack's config file (what `pulumi preview --policy-pack-config FILE` takes), read the same way
 * by every front end: the pack's own policies and `keyage audit --policy-config FILE`.
 *
 * One limit: `iam-access-key-max-age`'s `maxAgeDays` is the limit. `iam-access-key-expiring` follows it;
 * it may repeat the value (older files do), but a different value is an error naming both, never two
 * limits that contradict each other. Exemptions follow the same way: the expiring policy uses the
 * max-age policy's list unless it has its own. In the pack, the expiring policy's own list only silences
 * its warnings, so the verdicts' exemptions are the max-age policy's alone; the CLI has one list for
 * both, so {@link readPolicyConfig} refuses two different ones).
 */
import { ParameterError, show } from "./errors";
import { DEFAULT_MAX_AGE_DAYS, isAbsent, parseExemptions, wholeNumber, type ParamNames, type RawRuleParams } from "./params";

/** The stack policy that enforces the limit (default mandatory). Its `maxAgeDays` is the limit. */
export const MAX_AGE_POLICY = "iam-access-key-max-age";
/** The stack policy that warns before the limit (default advisory). Follows {@link MAX_AGE_POLICY}'s limit. */
export const EXPIRING_POLICY = "iam-access-key-expiring";
/** The resource policy that flags declaring user access keys at all (default advisory). */
export const CREATION_POLICY = "iam-access-key-creation";

/** keyage's policy names, in the order the pack runs them. */
export const POLICY_NAMES = [MAX_AGE_POLICY, EXPIRING_POLICY, CREATION_POLICY] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** The settings each policy takes in the config file, besides `enforcementLevel`. */
export const POLICY_SETTINGS: Readonly<Record<PolicyName, readonly string[]>> = {
  [MAX_AGE_POLICY]: ["maxAgeDays", "exemptions"],
  [EXPIRING_POLICY]: ["maxAgeDays", "warnDays", "exemptions"],
  [CREATION_POLICY]: ["allowedUsers"],
};

/** The enforcement levels a policy config accepts (as the Pulumi CLI does). */
export const ENFORCEMENT_LEVELS = ["advisory", "mandatory", "remediate", "disabled"] as const;

/** Where the limit in force comes from: one of the two age policies' `maxAgeDays`, or the default. */
export type LimitSource = typeof MAX_AGE_POLICY | typeof EXPIRING_POLICY | "default";

/** Says whose limit a message uses, e.g. "The 90-day limit is iam-access-key-max-age's maxAgeDays." */
export function limitSentence(maxAgeDays: number, source: LimitSource): string {
  return source === "default"
    ? `The ${maxAgeDays}-day limit is the pack's default maxAgeDays.`
    : `The ${maxAgeDays}-day limit is ${source}'s maxAgeDays.`;
}

function sameNumber(a: unknown, b: unknown): boolean {
  return (wholeNumber(a) ?? a) === (wholeNumber(b) ?? b);
}

/**
 * The pairing rule for the limit: the expiring policy's `maxAgeDays` follows the max-age policy's.
 * Either may be absent (`undefined`: not set, or that policy is not in play). Returns the value in force
 * and whose it is (`undefined` value: neither set it, the default applies).
 *
 * @throws {@link ParameterError} when both are set and differ, naming both values.
 * @example pairMaxAgeDays(90, undefined) // { value: 90, source: "iam-access-key-max-age" }
 */
export function pairMaxAgeDays(maxAge: unknown, expiring: unknown): { value: unknown; source: LimitSource } {
  if (isAbsent(maxAge)) return isAbsent(expiring) ? { value: undefined, source: "default" } : { value: expiring, source: EXPIRING_POLICY };
  if (!isAbsent(expiring) && !sameNumber(maxAge, expiring)) {
    throw new ParameterError(
      `${EXPIRING_POLICY}.maxAgeDays`,
      expiring,
      `${EXPIRING_POLICY}'s maxAgeDays (${show(expiring)}) differs from ${MAX_AGE_POLICY}'s (${show(maxAge)}): ` +
        `set maxAgeDays once, under ${MAX_AGE_POLICY} (${EXPIRING_POLICY} follows it), or give both the same value`,
    );
  }
  return { value: maxAge, source: MAX_AGE_POLICY };
}

/** A setting read from the file: its raw value and the name errors should use for it. */
export interface FileSetting {
  readonly value: unknown;
  /** e.g. `iam-access-key-max-age.maxAgeDays`. */
  readonly name: string;
}

/** What a policy config file says, as one set of rule parameters (each absent when the file is silent). */
export interface PolicyConfigSettings {
  readonly maxAgeDays?: FileSetting;
  readonly warnDays?: FileSetting;
  readonly exemptions?: FileSetting;
  readonly allowedUsers?: FileSetting;
}

function entryOf(doc: Record<string, unknown>, policy: PolicyName): Record<string, unknown> {
  const entry = doc[policy];
  if (entry === undefined || entry === null) return {};
  if (typeof entry === "string") {
    if (!(ENFORCEMENT_LEVELS as readonly string[]).includes(entry)) {
      throw new ParameterError(policy, entry, `${policy}: ${show(entry)} is not an enforcement level (${ENFORCEMENT_LEVELS.join(", ")})`);
    }
    return {};
  }
  if (typeof entry !== "object" || Array.isArray(entry)) {
    throw new ParameterError(policy, entry, `${policy} must be an enforcement level or an object of settings, got ${show(entry)}`);
  }
  const settings = entry as Record<string, unknown>;
  const level = settings.enforcementLevel;
  if (level !== undefined && !(ENFORCEMENT_LEVELS as readonly unknown[]).includes(level)) {
    throw new ParameterError(`${policy}.enforcementLevel`, level, `${policy}.enforcementLevel: ${show(level)} is not an enforcement level (${ENFORCEMENT_LEVELS.join(", ")})`);
  }
  const allowed = POLICY_SETTINGS[policy];
  for (const key of Object.keys(settings)) {
    if (key !== "enforcementLevel" && !allowed.includes(key)) {
      throw new ParameterError(`${policy}.${key}`, settings[key], `${policy}: unknown setting ${show(key)} (it takes ${allowed.join(", ")} and enforcementLevel)`);
    }
  }
  return settings;
}

/** True when a policy's entry turns it off (`"disabled"`, or `{ "enforcementLevel": "disabled" }`). */
function isDisabled(entry: unknown): boolean {
  return entry === "disabled" || (typeof entry === "object" && entry !== null && (entry as Record<string, unknown>).enforcementLevel === "disabled");
}

function setting(entry: Record<string, unknown>, policy: PolicyName, key: string): FileSetting | undefined {
  const value = entry[key];
  return isAbsent(value) ? undefined : { value, name: `${policy}.${key}` };
}

function exemptionKeys(s: FileSetting): string {
  return parseExemptions(s.value, s.name)
    .map((e) => `${e.user.toLowerCase()}@${e.until ?? ""}`)
    .sort()
    .join(" ");
}

/**
 * Reads a policy config file (parsed JSON) into one set of parameters, by the pack's own rules: the limit
 * is `iam-access-key-max-age`'s `maxAgeDays`, or its default (the expiring policy's may repeat it; it
 * stands alone only when the max-age policy is disabled), `warnDays` is the
 * expiring policy's, exemptions are the max-age policy's only (a list under the expiring policy alone
 * silences the pack's warnings, never a violation, so it exempts nobody here), `allowedUsers` the
 * creation policy's. Entries of other policies (a team's own pack) and `all`
 * are ignored; enforcement levels are checked, not used. Values are returned raw, for
 * {@link validateParams} with {@link settingNames}.
 *
 * @throws {@link ParameterError} for a file that is not an object of policy entries, an unknown setting
 *   in a keyage policy's entry, or two entries that disagree (naming both values).
 */
export function readPolicyConfig(doc: unknown): PolicyConfigSettings {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new ParameterError("policy config", doc, `a policy config must be a JSON object keyed by policy name, got ${show(doc)}`);
  }
  const file = doc as Record<string, unknown>;
  const maxAge = entryOf(file, MAX_AGE_POLICY);
  const expiring = entryOf(file, EXPIRING_POLICY);
  const creation = entryOf(file, CREATION_POLICY);

  // As the pack runs: iam-access-key-max-age enforces its default limit when the file sets none, and the
  // expiring policy must agree with it; only when the max-age policy is disabled does its limit stand alone.
  const leading = isAbsent(maxAge.maxAgeDays) && !isAbsent(expiring.maxAgeDays) && !isDisabled(file[MAX_AGE_POLICY]) ? DEFAULT_MAX_AGE_DAYS : maxAge.maxAgeDays;
  const limit = pairMaxAgeDays(leading, expiring.maxAgeDays);
  const maxAgeDays = limit.source === "default" ? undefined : { value: limit.value, name: `${limit.source}.maxAgeDays` };

  const ownExemptions = setting(maxAge, MAX_AGE_POLICY, "exemptions");
  const expiringExemptions = setting(expiring, EXPIRING_POLICY, "exemptions");
  if (ownExemptions && expiringExemptions && exemptionKeys(ownExemptions) !== exemptionKeys(expiringExemptions)) {
    throw new ParameterError(
      expiringExemptions.name,
      expiringExemptions.value,
      `${EXPIRING_POLICY}'s exemptions (${show(expiringExemptions.value)}) differ from ${MAX_AGE_POLICY}'s (${show(ownExemptions.value)}): ` +
        `list them once, under ${MAX_AGE_POLICY}, or give both the same users`,
    );
  }

  return {
    maxAgeDays,
    warnDays: setting(expiring, EXPIRING_POLICY, "warnDays"),
    exemptions: ownExemptions,
    allowedUsers: setting(creation, CREATION_POLICY, "allowedUsers"),
  };
}

/** The raw rule parameters and their names for {@link validateParams}, from {@link readPolicyConfig}'s result. */
export function settingNames(settings: PolicyConfigSettings): { raw: RawRuleParams; names: ParamNames } {
  return {
    raw: { maxAgeDays: settings.maxAgeDays?.value, warnDays: settings.warnDays?.value, exemptions: settings.exemptions?.value },
    names: {
      maxAgeDays: settings.maxAgeDays?.name ?? `${MAX_AGE_POLICY}.maxAgeDays`,
      warnDays: settings.warnDays?.name ?? `${EXPIRING_POLICY}.warnDays`,
      exemptions: settings.exemptions?.name ?? `${MAX_AGE_POLICY}.exemptions`,
    },
  };
}
