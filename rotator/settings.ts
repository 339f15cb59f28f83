/**
 * The rotator's settings, from its invocation payload (the EventBridge Scheduler schedule's input, set
 * by deploy/): `{"mode","maxAccessKeyAge","warnDays","cleanupDays","graceHours"}`, every field optional.
 * Validated once with the rule's own validator, so limits and messages match the Config rule's.
 */
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
  const { maxAgeDays, warnDays } = validateParams({ maxAgeDays: raw.maxAccessKeyAge, warnDays: raw.warnDays }, { maxAgeDays: "maxAccessKeyAge" });
  return {
    mode: mode as RotatorMode,
    maxAgeDays,
    warnDays,
    cleanupDays: inRange("cleanupDays", raw.cleanupDays, 1, MAX_CLEANUP_DAYS, DEFAULT_CLEANUP_DAYS),
    graceHours: inRange("graceHours", raw.graceHours, 1, MAX_GRACE_HOURS, FINISH_GRACE_HOURS),
  };
}
