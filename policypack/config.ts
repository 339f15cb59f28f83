/**
 * The pack's policy config: JSON Schemas the Pulumi CLI validates and fills defaults from (before it
 * calls Configure), and readers that run the filled-in values through the shared validator, so the pack,
 * the Config rule and the CLI accept exactly the same values with the same error messages.
 */
import type { PolicyConfigSchema } from "@pulumi/policy";
import {
  DEFAULT_MAX_AGE_DAYS,
  DEFAULT_WARN_DAYS,
  EXPIRING_POLICY,
  KeyageError,
  MAX_AGE_POLICY,
  MAX_MAX_AGE_DAYS,
  MIN_MAX_AGE_DAYS,
  USER_NAME,
  USER_NAME_RULE,
  show,
  validateParams,
  type RuleParams,
} from "../shared";

/** A policy's config is out of range or malformed (beyond what the JSON Schema could express). */
export class PolicyConfigError extends KeyageError {
  /** The policy whose config is wrong, e.g. `iam-access-key-expiring`. */
  readonly policy: string;

  constructor(policy: string, message: string, options?: { cause?: unknown }) {
    super(`policy ${policy}: invalid config: ${message}`, options);
    this.policy = policy;
    // @pulumi/policy sends a failing policy's `err.stack` to the engine, which prints it under the
    // preview. A config mistake is the user's to fix, not a bug: its "stack" is the one line saying what
    // to fix, without the class name or frames (the cause keeps the validator's error).
    this.stack = this.message;
  }
}

// @pulumi/policy does not export its JSON Schema type by name.
type PropertySchema = PolicyConfigSchema["properties"][string];

/** The defaults a pack's policies are built with (see `keyagePolicies`). */
export interface AgeDefaults {
  /** The limit when no config sets one. Default 30. */
  readonly maxAgeDays: number;
  /** The warning window when no config sets one; absent: 7, or maxAgeDays−1 when smaller. */
  readonly warnDays?: number;
  /** Exemptions when no config sets them, as the config file spells them. Default none. */
  readonly exemptions: readonly unknown[];
}

/** keyage's own defaults: a 30-day limit, a 7-day window, no exemptions. */
export const DEFAULT_AGE_DEFAULTS: AgeDefaults = { maxAgeDays: DEFAULT_MAX_AGE_DAYS, exemptions: [] };

function maxAgeDaysSchema(description: string, fallback?: number): PropertySchema {
  const schema: PropertySchema = { type: "integer", minimum: MIN_MAX_AGE_DAYS, maximum: MAX_MAX_AGE_DAYS, description };
  if (fallback !== undefined) schema.default = fallback;
  return schema;
}

const EXEMPTION_ITEMS: PropertySchema = {
  // A string "alice" / "alice:2027-01-31", or { "user": "alice", "until": "2027-01-31" }. The schema
  // dialect the CLI and the Pulumi Cloud accept has no anyOf, so both shapes share one item schema;
  // `properties` and `required` only constrain the object form.
  type: ["string", "object"],
  properties: { user: { type: "string" }, until: { type: "string" } },
  required: ["user"],
  additionalProperties: false,
};

const EXEMPTION_FORMS =
  'IAM users whose keys these age policies skip: "alice", "alice:2027-01-31" (through the end of that UTC day), or {"user": "alice", "until": "2027-01-31T12:00:00Z"}. Names match without regard to case.';

/**
 * Config schema of `iam-access-key-max-age`: `maxAgeDays` (the limit of both age policies; default 30)
 * and `exemptions` (default none). The CLI fills the defaults in before the pack sees the config.
 */
export function maxAgeSchema(defaults: AgeDefaults = DEFAULT_AGE_DEFAULTS): PolicyConfigSchema {
  return {
    properties: {
      maxAgeDays: maxAgeDaysSchema(
        `An active access key older than this many days (24-hour days from its createDate) violates the policy; ${EXPIRING_POLICY} warns before this same limit. Integer ${MIN_MAX_AGE_DAYS}-${MAX_MAX_AGE_DAYS}, default ${defaults.maxAgeDays}.`,
        defaults.maxAgeDays,
      ),
      exemptions: { type: "array", items: EXEMPTION_ITEMS, default: [...defaults.exemptions], description: `${EXEMPTION_FORMS} Default ${defaults.exemptions.length === 0 ? "none" : "as the pack was built"}.` },
    },
  };
}

/**
 * Config schema of `iam-access-key-expiring`: `warnDays` (default 7, or maxAgeDays−1 when smaller), and,
 * for older config files, `maxAgeDays` and `exemptions`. These two have no schema default on purpose:
 * absent, they follow `iam-access-key-max-age`'s; present, `maxAgeDays` must equal it.
 */
export function expiringSchema(defaults: AgeDefaults = DEFAULT_AGE_DEFAULTS): PolicyConfigSchema {
  const warn = defaults.warnDays;
  const warnDays: PropertySchema = {
    type: "integer",
    minimum: 0,
    maximum: MAX_MAX_AGE_DAYS - 1,
    description: `Warn about active keys within this many days of maxAgeDays. Integer from 0 to maxAgeDays-1, default ${warn ?? `${DEFAULT_WARN_DAYS} (or maxAgeDays-1 when smaller)`}.`,
  };
  // No schema default unless the pack was built with one: the CLI would fill 7 in even when maxAgeDays
  // is 7 or less and fail the preview; left absent, the shared default applies.
  if (warn !== undefined) warnDays.default = warn;
  return {
    properties: {
      maxAgeDays: maxAgeDaysSchema(
        `Leave unset: the limit is ${MAX_AGE_POLICY}'s maxAgeDays. If set, it must equal that value (a different one fails the preview, naming both). Integer ${MIN_MAX_AGE_DAYS}-${MAX_MAX_AGE_DAYS}.`,
      ),
      warnDays,
      exemptions: { type: "array", items: EXEMPTION_ITEMS, description: `${EXEMPTION_FORMS} Default: ${MAX_AGE_POLICY}'s exemptions.` },
    },
  };
}

/** Config schema of `iam-access-key-creation`: `allowedUsers` (default none, or the pack's list). */
export function creationSchema(allowedUsers: readonly string[] = []): PolicyConfigSchema {
  return {
    properties: {
      allowedUsers: {
        type: "array",
        items: { type: "string", pattern: USER_NAME.source },
        default: [...allowedUsers],
        description: `IAM user names whose access keys may be declared without a diagnostic (matched without regard to case). Default ${allowedUsers.length === 0 ? "none" : allowedUsers.join(", ")}.`,
      },
    },
  };
}

/** Policy config as `args.getConfig()` returns it: the CLI-filled values, enforcementLevel removed. */
export interface AgeConfig {
  maxAgeDays?: unknown;
  warnDays?: unknown;
  exemptions?: unknown;
}

/**
 * Validates an age policy's config with the shared validator. Absent values take the shared defaults
 * (maxAgeDays 30, warnDays 7 or maxAgeDays−1, no exemptions).
 *
 * @throws {@link PolicyConfigError} naming the policy, the value and the allowed range, e.g. when
 *   `warnDays` is not below `maxAgeDays` (a rule JSON Schema cannot state).
 */
export function readAgeConfig(policy: string, config: AgeConfig): RuleParams {
  try {
    return validateParams({ maxAgeDays: config.maxAgeDays, warnDays: config.warnDays, exemptions: config.exemptions });
  } catch (cause) {
    if (cause instanceof KeyageError) throw new PolicyConfigError(policy, cause.message, { cause });
    throw cause;
  }
}

/** Validated config of `iam-access-key-creation`. */
export interface CreationParams {
  /** Lower-cased user names whose keys are allowed; empty by default. */
  readonly allowedUsers: ReadonlySet<string>;
}

/**
 * Validates `iam-access-key-creation`'s config: `allowedUsers` must be a list of IAM user names.
 *
 * @throws {@link PolicyConfigError} naming the offending entry.
 */
export function readCreationConfig(policy: string, config: { allowedUsers?: unknown }): CreationParams {
  const list = config.allowedUsers ?? [];
  if (!Array.isArray(list)) {
    throw new PolicyConfigError(policy, `allowedUsers must be a list of IAM user names, got ${show(list)}`);
  }
  const allowed = new Set<string>();
  for (const entry of list) {
    if (typeof entry !== "string" || !USER_NAME.test(entry)) {
      throw new PolicyConfigError(policy, `allowedUsers: ${show(entry)} is not an IAM user name (${USER_NAME_RULE})`);
    }
    allowed.add(entry.toLowerCase());
  }
  return { allowedUsers: allowed };
}
