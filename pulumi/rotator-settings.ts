/**
 * The scheduled rotator's deploy settings (`keyage:rotation*`, `keyage:notification*`). Pure, like
 * `settings.ts`: validated before AWS sees a value, errors name the key, the value and what is allowed.
 */
import { FINISH_GRACE_HOURS, isAbsent, MAX_GRACE_HOURS, show, DEFAULT_CLEANUP_DAYS } from "../shared";
import { DeployConfigError } from "./settings";

/**
 * `off` (default): nothing is deployed. `notify`: expiry events only, and the rotator may not write to
 * IAM or any secret. `plan`: every opted-in user's next step is logged (dry run). `apply`: the steps are
 * carried out.
 */
export const ROTATION_MODES = ["off", "notify", "plan", "apply"] as const;
export type RotationMode = (typeof ROTATION_MODES)[number];

/** Defaults, one place. */
export const ROTATION_DEFAULTS = {
  rotation: "off" as RotationMode,
  /** EventBridge Scheduler expression: daily. */
  rotationSchedule: "rate(1 day)",
  rotationCleanupDays: DEFAULT_CLEANUP_DAYS,
  rotationGraceHours: FINISH_GRACE_HOURS,
  /** A 5,000-user run with nothing due takes seconds; the rest is room for due users and a slow IAM. */
  rotationLambdaTimeout: 900,
} as const;

/** Settings as they arrive from Pulumi config. */
export interface RawRotationSettings {
  rotation?: unknown;
  rotationSchedule?: unknown;
  rotationCleanupDays?: unknown;
  rotationGraceHours?: unknown;
  rotationSecretPrefix?: unknown;
  notificationEmail?: unknown;
  notificationTopic?: unknown;
}

/** Validated rotator settings. */
export interface RotationSettings {
  readonly rotation: RotationMode;
  /** `rate(…)`, `cron(…)` or `at(…)`; default `rate(1 day)`. */
  readonly schedule: string;
  readonly cleanupDays: number;
  readonly graceHours: number;
  /**
   * Besides secrets tagged `keyage:rotate`, the rotator may use secrets whose name starts with this
   * (e.g. `keyage/`); default none.
   */
  readonly secretPrefix?: string;
  /** An SNS topic receives every keyage event (and this address is subscribed, when set). */
  readonly topic: boolean;
  readonly email?: string;
}

const SCHEDULE = /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^)]+\)|at\([^)]+\))$/;
const SECRET_PREFIX = /^[\w/+=.@-]{1,256}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

function whole(key: string, value: unknown, fallback: number, min: number, max: number): number {
  if (isAbsent(value)) return fallback;
  const n = typeof value === "number" ? value : typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new DeployConfigError(key, `${key} must be a whole number from ${min} to ${max}, got ${show(value)}`);
  return n;
}

/**
 * Validates the rotator's settings and fills in defaults.
 *
 * @example validateRotationSettings({ rotation: "plan" }) // { rotation: "plan", schedule: "rate(1 day)", cleanupDays: 7, graceHours: 24, topic: false }
 * @throws DeployConfigError naming the key and the value.
 */
export function validateRotationSettings(raw: RawRotationSettings = {}): RotationSettings {
  const rotation = isAbsent(raw.rotation) ? ROTATION_DEFAULTS.rotation : String(raw.rotation).trim();
  if (!(ROTATION_MODES as readonly string[]).includes(rotation)) {
    throw new DeployConfigError("rotation", `rotation must be one of ${ROTATION_MODES.join(", ")}, got ${show(raw.rotation)}`);
  }
  const schedule = isAbsent(raw.rotationSchedule) ? ROTATION_DEFAULTS.rotationSchedule : String(raw.rotationSchedule).trim();
  if (!SCHEDULE.test(schedule)) {
    throw new DeployConfigError("rotationSchedule", `rotationSchedule must be an EventBridge Scheduler expression (rate(1 day), cron(…), at(…)), got ${show(raw.rotationSchedule)}`);
  }
  const secretPrefix = isAbsent(raw.rotationSecretPrefix) ? undefined : String(raw.rotationSecretPrefix).trim();
  if (secretPrefix !== undefined && !SECRET_PREFIX.test(secretPrefix)) {
    throw new DeployConfigError("rotationSecretPrefix", `rotationSecretPrefix must be the start of a secret name (letters, digits and /_+=.@-), got ${show(raw.rotationSecretPrefix)}`);
  }
  const email = isAbsent(raw.notificationEmail) ? undefined : String(raw.notificationEmail).trim();
  if (email !== undefined && !EMAIL.test(email)) throw new DeployConfigError("notificationEmail", `notificationEmail must be an email address, got ${show(raw.notificationEmail)}`);
  const topicRaw = isAbsent(raw.notificationTopic) ? undefined : String(raw.notificationTopic).trim().toLowerCase();
  if (topicRaw !== undefined && topicRaw !== "true" && topicRaw !== "false") {
    throw new DeployConfigError("notificationTopic", `notificationTopic must be true or false, got ${show(raw.notificationTopic)}`);
  }
  return {
    rotation: rotation as RotationMode,
    schedule,
    cleanupDays: whole("rotationCleanupDays", raw.rotationCleanupDays, ROTATION_DEFAULTS.rotationCleanupDays, 1, 365),
    graceHours: whole("rotationGraceHours", raw.rotationGraceHours, ROTATION_DEFAULTS.rotationGraceHours, 1, MAX_GRACE_HOURS),
    secretPrefix,
    topic: topicRaw === "true" || email !== undefined,
    email,
  };
}
