/**
 * The rotator's settings, from its invocation payload (the EventBridge Scheduler schedule's input, set
 * by deploy/): `{"mode","maxAccessKeyAge","warnDays","cleanupDays","graceHours","organization","maxUnusedDays"}`, every field
 * optional; `organization` (`{"roleName","excludedAccounts","targets","managementAccount"}`) turns on organization mode.
 * Validated once with the rule's own validator, so limits and messages match the Config rule's.
 */
import { ACCOUNT_TARGET, OU_TARGET, ROOT_TARGET } from "../aws/organization-targets";
import { DEFAULT_CLEANUP_DAYS, FINISH_GRACE_HOURS, KeyageError, MAX_GRACE_HOURS, show, validateParams, wholeNumber } from "../shared";

/** `notify`: expiry events only. `plan`: also decide every opted-in user's next step, and change nothing (dry run). `apply`: carry the steps out. */
export const ROTATOR_MODES = ["notify", "plan", "apply"] as const;
export type RotatorMode = (typeof ROTATOR_MODES)[number];
/** Default mode: a dry run. */
export const DEFAULT_ROTATOR_MODE: RotatorMode = "plan";
/** Largest `cleanupDays`. */
export const MAX_CLEANUP_DAYS = 365;

/** The run's settings, defaults filled in. */
export interface RotatorSettings {
  /** Default {@link DEFAULT_ROTATOR_MODE}. */
  readonly mode: RotatorMode;
  /** Default 30 (the Config rule's `maxAccessKeyAge`). */
  readonly maxAgeDays: number;
  /** Rotate (and send `Access Key Expiring`) this many days before the limit. Default 7. */
  readonly warnDays: number;
  /** Delete a key this many days after keyage deactivated it. Default {@link DEFAULT_CLEANUP_DAYS}. */
  readonly cleanupDays: number;
  /** Hours the old key must be unused before it is deactivated. Default {@link FINISH_GRACE_HOURS}. */
  readonly graceHours: number;
  /** Organization mode: run in every ACTIVE account of the organization through `roleName`. Absent: this account only. */
  readonly organization?: OrganizationRunSettings;
  /** Send `Access Key Unused` for active keys neither used nor created within this many days. Absent (default): off. */
  readonly maxUnusedDays?: number;
}

/** Organization mode's settings. */
export interface OrganizationRunSettings {
  /** The member rotator role assumed in each account (deploy/ default `keyage-rotator`). */
  readonly roleName: string;
  /** Accounts left alone (12 digits each); default none. */
  readonly excludedAccounts: readonly string[];
  /**
   * Where the member role was rolled out (the deployment's `organizationTargets`): root ids (`r-…`, every
   * account), OU ids (`ou-…`, every account under it, however deep) or account ids. The run covers only
   * these accounts, so an account without the role is never tried and never counted unreachable.
   * Default none: every account (the StackSet then targets the root).
   */
  readonly targets: readonly string[];
  /**
   * Whether the organization's management account holds the role: StackSets never deploy there, so it
   * does only when deploy created it directly (`callAs: SELF`), whatever the targets. Default true.
   */
  readonly managementAccount: boolean;
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ACCOUNT_ID = /^\d{12}$/;

function organizationOf(value: unknown): OrganizationRunSettings | undefined {
  if (value === undefined || value === null) return undefined;
  const raw = (typeof value === "object" ? value : {}) as Record<string, unknown>;
  if (typeof raw.roleName !== "string" || !ROLE_NAME.test(raw.roleName)) {
    throw new RotatorSettingsError(`organization.roleName must be an IAM role name, got ${show(raw.roleName)}`);
  }
  const excluded = raw.excludedAccounts ?? [];
  if (!Array.isArray(excluded) || !excluded.every((a) => typeof a === "string" && ACCOUNT_ID.test(a))) {
    throw new RotatorSettingsError(`organization.excludedAccounts must be a list of 12-digit account ids, got ${show(excluded)}`);
  }
  const targets = raw.targets ?? [];
  if (!Array.isArray(targets) || !targets.every((t) => typeof t === "string" && (ROOT_TARGET.test(t) || OU_TARGET.test(t) || ACCOUNT_TARGET.test(t)))) {
    throw new RotatorSettingsError(`organization.targets must be a list of root (r-…), OU (ou-…-…) or 12-digit account ids, got ${show(targets)}`);
  }
  const management = raw.managementAccount ?? true;
  if (typeof management !== "boolean") throw new RotatorSettingsError(`organization.managementAccount must be true or false, got ${show(management)}`);
  return { roleName: raw.roleName, excludedAccounts: excluded as string[], targets: targets as string[], managementAccount: management };
}

/** The payload names something the rotator cannot work with: the run fails before reading anything. */
export class RotatorSettingsError extends KeyageError {}

function inRange(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null || value === "") return fallback;
  const n = wholeNumber(value);
  if (n === undefined || n < min || n > max) throw new RotatorSettingsError(`${name} must be a whole number from ${min} to ${max}, got ${show(value)}`);
  return n;
}

/**
 * Reads the invocation payload. Throws {@link RotatorSettingsError} (or the rule's ParameterError) naming
 * the field and the value.
 *
 * @example parseSettings({ mode: "apply", maxAccessKeyAge: 90 }) // { mode: "apply", maxAgeDays: 90, warnDays: 7, cleanupDays: 7, graceHours: 24 }
 */
export function parseSettings(payload: unknown): RotatorSettings {
  const raw = (typeof payload === "object" && payload !== null ? payload : {}) as Record<string, unknown>;
  const mode = raw.mode ?? DEFAULT_ROTATOR_MODE;
  if (!(ROTATOR_MODES as readonly unknown[]).includes(mode)) {
    throw new RotatorSettingsError(`mode must be one of ${ROTATOR_MODES.join(", ")}, got ${show(mode)}`);
  }
  const { maxAgeDays, warnDays, maxUnusedDays } = validateParams({ maxAgeDays: raw.maxAccessKeyAge, warnDays: raw.warnDays, maxUnusedDays: raw.maxUnusedDays }, { maxAgeDays: "maxAccessKeyAge" });
  const organization = organizationOf(raw.organization);
  const settings: RotatorSettings = {
    mode: mode as RotatorMode,
    maxAgeDays,
    warnDays,
    cleanupDays: inRange("cleanupDays", raw.cleanupDays, 1, MAX_CLEANUP_DAYS, DEFAULT_CLEANUP_DAYS),
    graceHours: inRange("graceHours", raw.graceHours, 1, MAX_GRACE_HOURS, FINISH_GRACE_HOURS),
  };
  // Only when set, so settings without them read back exactly as before.
  const withUnused = maxUnusedDays === undefined ? settings : { ...settings, maxUnusedDays };
  return organization ? { ...withUnused, organization } : withUnused;
}
