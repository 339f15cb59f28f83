/**
 * The components' settings, one schema for both ways in: a program's typed args
 * ({@link KeyageSettingsArgs}) and the deploy stack's `keyage:*` config ({@link SETTING_KEYS}, read into
 * {@link RawDeploySettings}). Defaults, validation and the rule parameters handed to the Lambda. Pure
 * (no Pulumi, no AWS): this file turns either into {@link DeploySettings} or throws
 * {@link DeployConfigError} naming the key, the value and what is allowed, so `pulumi preview` stops
 * before AWS sees a bad value.
 */
import { CONFIG_RULE_NAME, DEFAULT_CONFIG_RULE_NAME, isAbsent, KeyageError, ParameterError, parseList, show, validateParams, validateRefreshDays, wholeNumber } from "../shared";
import { auditTrustPolicy } from "./policies";
import { validateRotationSettings, type RawRotationSettings, type RotationMode, type RotationSettings } from "./rotator-settings";

/** Config rule trigger frequencies accepted by AWS Config (`MaximumExecutionFrequency`). */
export const FREQUENCIES = ["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"] as const;
/** One of {@link FREQUENCIES}. */
export type Frequency = (typeof FREQUENCIES)[number];

/** Retention periods CloudWatch Logs accepts (days); 0 keeps logs forever. */
export const LOG_RETENTION_DAYS = [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** Lambda memory range (MB) and timeout range (seconds), as AWS Lambda allows them. */
export const MEMORY_RANGE = { min: 128, max: 10240 } as const;
export const TIMEOUT_RANGE = { min: 1, max: 900 } as const;

/** Defaults, one place: the README table is written from these. */
export const DEFAULTS = {
  ruleName: DEFAULT_CONFIG_RULE_NAME,
  frequency: "TwentyFour_Hours" as Frequency,
  /** Sized for 5,000 users on the slowest path (see docs/deploy.md, "Sizing"). */
  lambdaMemorySize: 512,
  /** Sized for 5,000 users on the slowest path (see docs/deploy.md, "Sizing"). */
  lambdaTimeout: 900,
  logRetentionDays: 90,
  memberRoleName: "keyage-config-rule-reader",
  /** Organization mode with the rotator on: the role the rotator assumes in every account. */
  rotatorRoleName: "keyage-rotator",
  callAs: "SELF" as const,
} as const;

/**
 * AWS Config's limit on a rule's `InputParameters` (PutConfigRule: 1,024 characters;
 * PutOrganizationConfigRule's `OrganizationCustomRuleMetadata.InputParameters`: 2,048).
 */
export const INPUT_PARAMETERS_LIMIT = { account: 1024, organization: 2048 } as const;

/** What the deployer policies in docs/ allow: names of keyage's resources start with this. */
export const NAME_PREFIX = "keyage-";

/**
 * The stem of every name derived from `ruleName` (schedules, topics, event rules, StackSets, the
 * permissions boundary): the rule name itself when it starts with `keyage-`, else `keyage-<ruleName>`, so
 * the names stay inside the deployer policies' `keyage-*` patterns whatever the rule is called.
 *
 * @example resourceStem("keyage-access-key-age") // "keyage-access-key-age"
 * @example resourceStem("acme_keys") // "keyage-acme_keys"
 */
export function resourceStem(ruleName: string): string {
  return ruleName.startsWith(NAME_PREFIX) ? ruleName : `${NAME_PREFIX}${ruleName}`;
}

/** EventBridge Scheduler schedule names and EventBridge rule names: at most 64 characters. */
export const EVENT_NAME_MAX = 64;
/** The longest suffix the rotator adds to {@link resourceStem} for such a name (`-rotator`, `-events`). */
const ROTATOR_NAME_SUFFIX = "-rotator";
/** The longest suffix `reevaluateOnChange` adds to {@link resourceStem} for such a name (the us-east-1 rule and queue). */
const KEY_CHANGE_NAME_SUFFIX = "-changes";

/** A deploy setting is missing, out of range or malformed. */
export class DeployConfigError extends KeyageError {
  /** The config key as the user sets it, e.g. `keyage:lambdaTimeout`. */
  readonly key: string;

  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.key = key;
  }
}

/** Settings as they arrive from Pulumi config (strings, JSON strings, arrays, booleans) or from a test: the Config rule's keys, and the scheduled rotator's (see `rotator-settings.ts`). */
export interface RawDeploySettings extends RawRotationSettings {
  maxAccessKeyAge?: unknown;
  maxUnusedDays?: unknown;
  warnDays?: unknown;
  exemptions?: unknown;
  refreshDays?: unknown;
  ruleName?: unknown;
  frequency?: unknown;
  lambdaMemorySize?: unknown;
  lambdaTimeout?: unknown;
  logRetentionDays?: unknown;
  organization?: unknown;
  organizationTargets?: unknown;
  excludedAccounts?: unknown;
  memberRoleName?: unknown;
  memberAccountIds?: unknown;
  callAs?: unknown;
  organizationId?: unknown;
  rotatorRoleName?: unknown;
  auditRoleTrust?: unknown;
  reevaluateOnChange?: unknown;
}

/**
 * Every `keyage:*` config key the program reads, in the order docs/deploy.md lists them. The type check
 * below fails the build when {@link RawDeploySettings} gains a key that is not listed here.
 */
export const SETTING_KEYS = [
  "maxAccessKeyAge", "warnDays", "exemptions", "refreshDays", "ruleName", "frequency", "lambdaMemorySize", "lambdaTimeout", "logRetentionDays",
  "organization", "organizationTargets", "excludedAccounts", "memberRoleName", "memberAccountIds", "callAs", "organizationId", "rotatorRoleName",
  "rotation", "rotationSchedule", "rotationCleanupDays", "rotationGraceHours", "rotationSecretPrefix", "notificationEmail", "notificationTopic",
  "maxUnusedDays", "reevaluateOnChange",
  "auditRoleTrust",
] as const satisfies readonly (keyof RawDeploySettings)[];
/** `true` only while {@link SETTING_KEYS} names every key of {@link RawDeploySettings}. */
const EVERY_KEY_LISTED: [Exclude<keyof RawDeploySettings, (typeof SETTING_KEYS)[number]>] extends [never] ? true : never = true;
void EVERY_KEY_LISTED;

/** Organization mode: one organization rule, a reader role in every member account. */
export interface OrganizationSettings {
  /** Root id (`r-…`) or OU ids (`ou-…`) the member role's StackSet deploys to; default: the organization root. */
  readonly targets: readonly string[];
  /** Accounts the organization rule skips (12 digits each); default none. */
  readonly excludedAccounts: readonly string[];
  /** Name of the read-only role the Lambda assumes in each account; default `keyage-config-rule-reader`. */
  readonly memberRoleName: string;
  /**
   * Accounts whose AWS Config may invoke the Lambda, each as its own permission with `SourceAccount`.
   * Empty (default): any account's Config may invoke it, and the Lambda can only act through
   * `sts:AssumeRole` into roles inside this organization (see docs/deploy.md, "Organization mode").
   */
  readonly memberAccountIds: readonly string[];
  /** `SELF` from the management account (default), `DELEGATED_ADMIN` from a delegated administrator. */
  readonly callAs: "SELF" | "DELEGATED_ADMIN";
  /** `o-…`; default: looked up with DescribeOrganization at deploy time. */
  readonly organizationId?: string;
  /**
   * Name of the role the scheduled rotator assumes in each account (deployed only when `rotation` is not
   * `off`); default `keyage-rotator`.
   */
  readonly rotatorRoleName: string;
}

/** Validated settings; every field has its default filled in. */
export interface DeploySettings {
  /** Keys older than this many days are NON_COMPLIANT; 1–3650, default 30. */
  readonly maxAccessKeyAge: number;
  /** Passed to the Lambda only when set (the Lambda's own default is 7). */
  readonly warnDays?: number;
  /** Exemptions in the rule-parameter form the Lambda parses (`user` or `user:YYYY-MM-DD`, space separated); absent when none. */
  readonly exemptions?: string;
  /**
   * Passed to the Lambda only when set (the Lambda's own default is 30): days after which a scheduled run
   * writes an unchanged user's result again; 1–80.
   */
  readonly refreshDays?: number;
  /** Unused-key limit (rule parameter and rotator setting `maxUnusedDays`), 1–3650; absent (default): off. */
  readonly maxUnusedDays?: number;
  /** Config rule name (organization rule name in organization mode); default `keyage-access-key-age`. */
  readonly ruleName: string;
  /** Periodic evaluation frequency; default `TwentyFour_Hours`. */
  readonly frequency: Frequency;
  /** Lambda memory in MB; default 512. */
  readonly lambdaMemorySize: number;
  /** Lambda timeout in seconds; default 900. */
  readonly lambdaTimeout: number;
  /** Days CloudWatch keeps the Lambda's logs (0 = forever); default 90. */
  readonly logRetentionDays: number;
  /**
   * IAM key changes (CloudTrail events through EventBridge in us-east-1) start a re-evaluation of the
   * changed users within about 15 minutes; needs a trail recording management events. Default true in
   * one account; always false in organization mode (it re-evaluates on schedule only).
   */
  readonly reevaluateOnChange: boolean;
  /** Present only in organization mode. */
  readonly organization?: OrganizationSettings;
  /** The scheduled rotator; present only when `rotation` is not `off` (the default). */
  readonly rotation?: RotationSettings;
  /**
   * Present when `notificationEmail` is set or `notificationTopic` is true, whether or not the rotator
   * is on: the alarms and the on-failure destinations publish to the notification topic.
   */
  readonly notification?: { readonly email?: string };
  /** Present only when `auditRoleTrust` is set: the read-only role `keyage audit --organization --role-name` assumes (see {@link AuditRoleSettings}). */
  readonly auditRole?: AuditRoleSettings;
}

/**
 * The audit role for `keyage audit --organization`: deployed in the deploying account and, in organization
 * mode, in every target account (minus `excludedAccounts`), trusted by exactly the principals given.
 */
export interface AuditRoleSettings {
  /** `<stem>-audit` (see {@link auditRoleName}): what to pass as `--role-name`. */
  readonly roleName: string;
  /** IAM role or user ARNs allowed to assume it, sorted, each once; never `*`, an account root or a wildcard. */
  readonly trust: readonly string[];
}

/** What {@link auditRoleName} appends to the stem. */
const AUDIT_ROLE_SUFFIX = "-audit";
/** IAM role names: at most 64 characters. */
const ROLE_NAME_MAX = 64;
/**
 * IAM's default quota for a role trust policy (2,048 characters; AWS can raise it to 4,096 on request).
 * The deploy refuses a trust list whose policy would not fit, rather than fail in every account's stack.
 */
export const TRUST_POLICY_LIMIT = 2048;

/**
 * The audit role's name: {@link resourceStem} of the rule name plus `-audit`, so it stays inside the
 * deployer policies' `keyage-*` patterns and two keyage deployments of one organization do not collide.
 *
 * @example auditRoleName("keyage-access-key-age") // "keyage-access-key-age-audit"
 */
export function auditRoleName(ruleName: string): string {
  return `${resourceStem(ruleName)}${AUDIT_ROLE_SUFFIX}`;
}

/** An IAM role or user ARN (paths allowed), as a trust policy's `Principal.AWS` names one principal. */
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):(role|user)\/([\w+=,.@/-]+)$/;

/**
 * `auditRoleTrust` read as principal ARNs. IAM matches a trust policy's principals exactly (only a bare
 * `*` is a wildcard, meaning anyone), and an account (`arn:…:root` or a bare id) hands the decision to
 * every identity policy in that account: so only role and user ARNs are accepted.
 */
function auditTrust(value: unknown): string[] | undefined {
  const key = "auditRoleTrust";
  if (isAbsent(value)) return undefined;
  let items: unknown[];
  try {
    items = parseList(value, key, "IAM role or user ARNs", /[\s,]+/);
  } catch (cause) {
    if (cause instanceof ParameterError) throw new DeployConfigError(key, cause.message, { cause });
    throw cause;
  }
  const arns = items.map((item) => {
    const text = typeof item === "string" ? item.trim() : item;
    if (text === "*" || (typeof text === "string" && /^arn:[^:]*:iam::\*/.test(text))) {
      throw new DeployConfigError(key, `${key} must name the principals that may assume the audit role, not ${show(item)}: that would let any AWS account in`);
    }
    if (typeof text === "string" && (/^\d{12}$/.test(text) || /^arn:aws[a-z-]*:iam::\d{12}:root$/.test(text))) {
      throw new DeployConfigError(
        key,
        `${key}: ${show(item)} is a whole account (every user and role there that its own policies allow could assume the audit role); name a role or user ARN instead, e.g. arn:aws:iam::${/\d{12}/.exec(text)![0]}:role/security-audit`,
      );
    }
    if (typeof text === "string" && /[*?]/.test(text)) {
      throw new DeployConfigError(key, `${key}: ${show(item)} has a wildcard; a trust policy matches principals exactly: list each role or user ARN`);
    }
    if (typeof text !== "string" || !PRINCIPAL_ARN.test(text)) {
      throw new DeployConfigError(key, `${key}: every entry must be an IAM role or user ARN (arn:aws:iam::<account>:role/<name>), got ${show(item)}`);
    }
    return text;
  });
  return [...new Set(arns)].sort();
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ACCOUNT_ID = /^\d{12}$/;
const ORG_TARGET = /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;
const ORG_ID = /^o-[a-z0-9]{10,32}$/;

function integer(key: string, value: unknown, fallback: number, min: number, max: number): number {
  if (isAbsent(value)) return fallback;
  const n = wholeNumber(value);
  if (n === undefined || n < min || n > max) {
    throw new DeployConfigError(key, `${key} must be a whole number from ${min} to ${max}, got ${show(value)}`);
  }
  return n;
}

function oneOf<T extends string | number>(key: string, value: unknown, fallback: T, allowed: readonly T[]): T {
  if (isAbsent(value)) return fallback;
  const candidate = typeof fallback === "number" ? (wholeNumber(value) ?? value) : value;
  const found = allowed.find((a) => a === (typeof candidate === "string" ? candidate.trim() : candidate));
  if (found === undefined) {
    throw new DeployConfigError(key, `${key} must be one of ${allowed.join(", ")}, got ${show(value)}`);
  }
  return found;
}

function boolean(key: string, value: unknown, fallback = false): boolean {
  if (isAbsent(value)) return fallback;
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === "true";
  throw new DeployConfigError(key, `${key} must be true or false, got ${show(value)}`);
}

function pattern(key: string, value: unknown, fallback: string, re: RegExp, what: string): string {
  if (isAbsent(value)) return fallback;
  if (typeof value !== "string" || !re.test(value.trim())) {
    throw new DeployConfigError(key, `${key} must be ${what}, got ${show(value)}`);
  }
  return value.trim();
}

/** A list from an array, a JSON array in a string, or a string of entries separated by commas or blanks. */
function list(key: string, value: unknown, re: RegExp, what: string): string[] {
  let items: unknown[];
  try {
    items = parseList(value, key, what, /[\s,]+/);
  } catch (cause) {
    if (cause instanceof ParameterError) throw new DeployConfigError(key, cause.message, { cause });
    throw cause;
  }
  return items.map((item) => {
    if (typeof item !== "string" || !re.test(item.trim())) {
      throw new DeployConfigError(key, `${key}: every entry must be ${what}, got ${show(item)}`);
    }
    return item.trim();
  });
}

/** Exemption entries in the form the Lambda's `parseExemptions` reads back unchanged. */
function exemptionEntries(value: unknown): string[] {
  // Called only after validateParams accepted the same value, so the list parses.
  return parseList(value, "exemptions", "user names").map((entry) => {
    if (typeof entry === "string") {
      const colon = entry.indexOf(":");
      return colon < 0 ? entry.trim() : `${entry.slice(0, colon).trim()}:${entry.slice(colon + 1).trim()}`;
    }
    const { user, until } = entry as { user: string; until?: string };
    return isAbsent(until) ? user : `${user}:${String(until).trim()}`;
  });
}

/**
 * Validates the deploy settings and fills in defaults. The rule parameters go through the same
 * `validateParams` the Lambda runs, so a value the Lambda would reject fails here, before any AWS call.
 *
 * @example validateSettings({ maxAccessKeyAge: "90", organization: "true" })
 *   // { maxAccessKeyAge: 90, frequency: "TwentyFour_Hours", ..., organization: { memberRoleName: "keyage-config-rule-reader", ... } }
 * @throws DeployConfigError naming the key, the value and the allowed range.
 */
export function validateSettings(raw: RawDeploySettings = {}): DeploySettings {
  let params;
  let refreshDays;
  try {
    params = validateParams(
      { maxAgeDays: raw.maxAccessKeyAge, warnDays: raw.warnDays, exemptions: raw.exemptions, maxUnusedDays: raw.maxUnusedDays },
      { maxAgeDays: "maxAccessKeyAge", warnDays: "warnDays", exemptions: "exemptions", maxUnusedDays: "maxUnusedDays" },
    );
    refreshDays = validateRefreshDays(raw.refreshDays, "refreshDays");
  } catch (cause) {
    if (cause instanceof ParameterError) throw new DeployConfigError(cause.parameter, cause.message, { cause });
    throw cause;
  }
  const organization = boolean("organization", raw.organization)
    ? {
        targets: list("organizationTargets", raw.organizationTargets, ORG_TARGET, "a root id (r-…) or an OU id (ou-…-…)"),
        excludedAccounts: list("excludedAccounts", raw.excludedAccounts, ACCOUNT_ID, "a 12-digit account id"),
        memberRoleName: pattern("memberRoleName", raw.memberRoleName, DEFAULTS.memberRoleName, ROLE_NAME, "an IAM role name (1-64 characters of letters, digits and +=,.@_-)"),
        memberAccountIds: list("memberAccountIds", raw.memberAccountIds, ACCOUNT_ID, "a 12-digit account id"),
        rotatorRoleName: pattern("rotatorRoleName", raw.rotatorRoleName, DEFAULTS.rotatorRoleName, ROLE_NAME, "an IAM role name (1-64 characters of letters, digits and +=,.@_-)"),
        callAs: oneOf("callAs", raw.callAs, DEFAULTS.callAs as "SELF" | "DELEGATED_ADMIN", ["SELF", "DELEGATED_ADMIN"]),
        ...(isAbsent(raw.organizationId) ? {} : { organizationId: pattern("organizationId", raw.organizationId, "", ORG_ID, "an organization id (o-…)") }),
      }
    : undefined;
  if (organization && organization.rotatorRoleName === organization.memberRoleName) {
    // Two StackSets would each create a role of that name in every account, and the second one fails.
    throw new DeployConfigError("rotatorRoleName", `rotatorRoleName must differ from memberRoleName, both are ${show(organization.rotatorRoleName)}`);
  }
  const rotation = validateRotationSettings(raw);
  const trust = auditTrust(raw.auditRoleTrust);
  const reevaluateOnChange = boolean("reevaluateOnChange", raw.reevaluateOnChange, !organization);
  if (reevaluateOnChange && organization) {
    throw new DeployConfigError("reevaluateOnChange", "reevaluateOnChange must be false (or unset) in organization mode: member accounts' key changes are not watched, the organization rule re-evaluates on its schedule only");
  }
  const settings: DeploySettings = {
    maxAccessKeyAge: params.maxAgeDays,
    ...(isAbsent(raw.warnDays) ? {} : { warnDays: params.warnDays }),
    ...(params.exemptions.length === 0 ? {} : { exemptions: exemptionEntries(raw.exemptions).join(" ") }),
    ...(isAbsent(raw.refreshDays) ? {} : { refreshDays }),
    ...(params.maxUnusedDays === undefined ? {} : { maxUnusedDays: params.maxUnusedDays }),
    ruleName: pattern("ruleName", raw.ruleName, DEFAULTS.ruleName, CONFIG_RULE_NAME, "1-64 letters, digits, hyphens or underscores"),
    frequency: oneOf("frequency", raw.frequency, DEFAULTS.frequency, FREQUENCIES),
    lambdaMemorySize: integer("lambdaMemorySize", raw.lambdaMemorySize, DEFAULTS.lambdaMemorySize, MEMORY_RANGE.min, MEMORY_RANGE.max),
    lambdaTimeout: integer("lambdaTimeout", raw.lambdaTimeout, DEFAULTS.lambdaTimeout, TIMEOUT_RANGE.min, TIMEOUT_RANGE.max),
    logRetentionDays: oneOf("logRetentionDays", raw.logRetentionDays, DEFAULTS.logRetentionDays as number, LOG_RETENTION_DAYS),
    reevaluateOnChange,
    ...(organization ? { organization } : {}),
    ...(rotation.rotation === "off" ? {} : { rotation }),
    ...(rotation.topic ? { notification: rotation.email === undefined ? {} : { email: rotation.email } } : {}),
  };
  const audit = trust && trust.length > 0 ? validAuditRole(settings, trust) : undefined;
  if (settings.rotation && resourceStem(settings.ruleName).length + ROTATOR_NAME_SUFFIX.length > EVENT_NAME_MAX) {
    const most = EVENT_NAME_MAX - ROTATOR_NAME_SUFFIX.length - (settings.ruleName.startsWith(NAME_PREFIX) ? 0 : NAME_PREFIX.length);
    throw new DeployConfigError(
      "ruleName",
      `ruleName must be at most ${most} characters with rotation on (the rotator's schedule is named ${resourceStem(settings.ruleName)}${ROTATOR_NAME_SUFFIX}, and EventBridge allows ${EVENT_NAME_MAX}), got ${show(settings.ruleName)}`,
    );
  }
  if (settings.reevaluateOnChange && resourceStem(settings.ruleName).length + KEY_CHANGE_NAME_SUFFIX.length > EVENT_NAME_MAX) {
    const most = EVENT_NAME_MAX - KEY_CHANGE_NAME_SUFFIX.length - (settings.ruleName.startsWith(NAME_PREFIX) ? 0 : NAME_PREFIX.length);
    throw new DeployConfigError(
      "ruleName",
      `ruleName must be at most ${most} characters with reevaluateOnChange on (its EventBridge rule is named ${resourceStem(settings.ruleName)}${KEY_CHANGE_NAME_SUFFIX}, and EventBridge allows ${EVENT_NAME_MAX}), got ${show(settings.ruleName)}`,
    );
  }
  const text = inputParameters(settings);
  const limit = organization ? INPUT_PARAMETERS_LIMIT.organization : INPUT_PARAMETERS_LIMIT.account;
  if (text.length > limit) {
    throw new DeployConfigError("exemptions", `the rule parameters are ${text.length} characters, more than AWS Config's limit of ${limit}: shorten exemptions`);
  }
  return audit ? { ...settings, auditRole: audit } : settings;
}

/** The audit role's settings, once the rule name and the organization's role names are known. */
function validAuditRole(settings: DeploySettings, trust: string[]): AuditRoleSettings {
  const roleName = auditRoleName(settings.ruleName);
  if (roleName.length > ROLE_NAME_MAX) {
    const most = ROLE_NAME_MAX - AUDIT_ROLE_SUFFIX.length - (settings.ruleName.startsWith(NAME_PREFIX) ? 0 : NAME_PREFIX.length);
    throw new DeployConfigError(
      "ruleName",
      `ruleName must be at most ${most} characters with auditRoleTrust set (the audit role is named ${roleName}, and IAM allows ${ROLE_NAME_MAX}), got ${show(settings.ruleName)}`,
    );
  }
  const org = settings.organization;
  for (const [key, name] of [["memberRoleName", org?.memberRoleName], ["rotatorRoleName", settings.rotation ? org?.rotatorRoleName : undefined]] as const) {
    if (name === roleName) throw new DeployConfigError(key, `${key} must differ from the audit role's name ${show(roleName)} (derived from ruleName), both are ${show(name)}`);
  }
  // The trust policy keyage writes, measured as IAM measures it: without blanks.
  const size = JSON.stringify(auditTrustPolicy(trust)).length;
  if (size > TRUST_POLICY_LIMIT) {
    throw new DeployConfigError("auditRoleTrust", `auditRoleTrust: the audit role's trust policy would be ${size} characters, more than IAM's ${TRUST_POLICY_LIMIT}: trust fewer principals (e.g. one role the auditors assume first)`);
  }
  return { roleName, trust };
}

/**
 * The rule's `InputParameters` JSON: `maxAccessKeyAge` always; `warnDays`, `exemptions`, `refreshDays` and `maxUnusedDays` when set;
 * `executionRoleName` in organization mode. Values are strings, as AWS Config's console and managed
 * rules use them.
 */
export function inputParameters(settings: DeploySettings): string {
  const params: Record<string, string> = { maxAccessKeyAge: String(settings.maxAccessKeyAge) };
  if (settings.warnDays !== undefined) params.warnDays = String(settings.warnDays);
  if (settings.exemptions !== undefined) params.exemptions = settings.exemptions;
  if (settings.refreshDays !== undefined) params.refreshDays = String(settings.refreshDays);
  if (settings.maxUnusedDays !== undefined) params.maxUnusedDays = String(settings.maxUnusedDays);
  if (settings.organization) params.executionRoleName = settings.organization.memberRoleName;
  return JSON.stringify(params);
}

/**
 * The Config rule's settings as a Pulumi program passes them to `KeyageConfigRule` (and, for the names
 * and limits it shares, to `KeyageRotator`): the deploy stack's `keyage:*` config keys under the same
 * names, typed. Every field is optional and validated at construction by {@link validateSettings}, with
 * the defaults of {@link DEFAULTS}. Plain values, not `pulumi.Input`s: they are checked before any
 * resource is registered.
 */
export interface KeyageSettingsArgs {
  /** Keys older than this many days are NON_COMPLIANT; 1–3650, default 30. */
  maxAccessKeyAge?: number;
  /** Days before the limit that count as expiring; 0 to maxAccessKeyAge−1, default 7 (the Lambda's). */
  warnDays?: number;
  /** Users never reported NON_COMPLIANT: names, `name:YYYY-MM-DD` (until that date) or `{ user, until }`; default none. */
  exemptions?: string | readonly (string | { user: string; until?: string })[];
  /** Days after which a scheduled run writes an unchanged user's result again; 1–80, default 30 (the Lambda's). */
  refreshDays?: number;
  /** An active key neither used nor created within this many days is a violation (`unused`); 1–3650, default off. */
  maxUnusedDays?: number;
  /** Config rule name (organization rule name in organization mode); default `keyage-access-key-age`. Names the log groups, schedule and topic too. */
  ruleName?: string;
  /** Periodic evaluation frequency; default `TwentyFour_Hours`. */
  frequency?: Frequency;
  /** Lambda memory in MB (128–10240); default 512. */
  lambdaMemorySize?: number;
  /** The Config rule Lambda's timeout in seconds (1–900); default 900. */
  lambdaTimeout?: number;
  /** Days CloudWatch keeps the Lambdas' logs, one of {@link LOG_RETENTION_DAYS} (0 = forever); default 90. */
  logRetentionDays?: number;
  /** Organization mode: one organization rule (and rotator run) covering every account; default false. */
  organization?: boolean;
  /** Organization mode: root id (`r-…`) or OU ids (`ou-…`) the member roles deploy to; default the organization root. */
  organizationTargets?: readonly string[];
  /** Organization mode: 12-digit accounts left out; default none. */
  excludedAccounts?: readonly string[];
  /** Organization mode: the Config rule's read-only role in every account; default `keyage-config-rule-reader`. */
  memberRoleName?: string;
  /** Organization mode: accounts whose AWS Config may invoke the Lambda; default any account's (see docs/deploy.md). */
  memberAccountIds?: readonly string[];
  /** Organization mode: `SELF` from the management account (default), `DELEGATED_ADMIN` from a delegated administrator. */
  callAs?: "SELF" | "DELEGATED_ADMIN";
  /** Organization mode: `o-…`; default looked up at deploy time. */
  organizationId?: string;
  /** Organization mode: the rotator's role in every account; default `keyage-rotator`. */
  rotatorRoleName?: string;
  /**
   * IAM role or user ARNs allowed to assume the read-only audit role `<stem>-audit` (see `auditRoleName`)
   * that `keyage audit --organization --role-name` uses; deployed in this account and, in organization mode,
   * in every target account except `excludedAccounts`. Default none: no audit role.
   */
  auditRoleTrust?: string | readonly string[];
  /**
   * IAM key changes start a re-evaluation within about 15 minutes (an EventBridge rule in us-east-1, an
   * SQS queue, a 5-minute tick); needs a CloudTrail trail recording management events. Default true in
   * one account; must be false or unset in organization mode (schedule only).
   */
  reevaluateOnChange?: boolean;
}

/** The scheduled rotator's own settings as a program passes them to `KeyageRotator` (the `keyage:rotation*` and `keyage:notification*` keys). */
export interface KeyageRotationArgs {
  /** The `keyage:rotation` key: `notify` (events only), `plan` (dry run, logged) or `apply` (rotates). Required: an off rotator is no rotator. */
  mode: Exclude<RotationMode, "off">;
  /** EventBridge Scheduler expression; default `rate(1 day)`. */
  rotationSchedule?: string;
  /** Days between deactivating an old key and deleting it; 1–365, default 7. */
  rotationCleanupDays?: number;
  /** Hours (1–87600) the old key must be unused before the rotator deactivates it; default 24. */
  rotationGraceHours?: number;
  /** Secrets whose names start with this may be used too (besides those tagged `keyage:rotate`); default none. */
  rotationSecretPrefix?: string;
  /** Subscribe this address to the events topic (creates the topic); default none. */
  notificationEmail?: string;
  /** Create an SNS topic that receives every keyage event; default false (true when notificationEmail is set). */
  notificationTopic?: boolean;
}

/** `true` only while the typed args name every config key and no other (`keyage:rotation` is KeyageRotator's `mode`). */
const EVERY_KEY_TYPED: [
  | Exclude<keyof RawDeploySettings, keyof KeyageSettingsArgs | keyof KeyageRotationArgs | "rotation">
  | Exclude<keyof KeyageSettingsArgs | Exclude<keyof KeyageRotationArgs, "mode">, keyof RawDeploySettings>,
] extends [never]
  ? true
  : never = true;
void EVERY_KEY_TYPED;
