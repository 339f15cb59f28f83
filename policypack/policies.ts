/**
 * keyage's three CrossGuard policies. They only translate: the pack reads an AccessKey's `user`,
 * `status` and `createDate`, asks the shared rule for a verdict, and words it as a diagnostic.
 */
import type {
  EnforcementLevel,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import {
  capital,
  CREATION_POLICY,
  DEFAULT_WARN_DAYS,
  evaluateUser,
  EXPIRING_POLICY,
  findExemption,
  isAbsent,
  KeyageError,
  keyLabel,
  limitSentence,
  MAX_AGE_POLICY,
  pairMaxAgeDays,
  validateParams,
  type LimitSource,
  type PolicyName,
  type RuleParams,
} from "../shared";
import { ACCESS_KEY_TYPE, countsAsActive, isRotatingKeyChild, readAccessKey } from "./access-key";
import {
  creationSchema,
  expiringSchema,
  maxAgeSchema,
  PolicyConfigError,
  readAgeConfig,
  readCreationConfig,
  type AgeConfig,
  type AgeDefaults,
} from "./config";

/** Policy names, as they appear in diagnostics and as keys of `--policy-pack-config`. */
export { CREATION_POLICY, EXPIRING_POLICY, MAX_AGE_POLICY } from "../shared";
export type { PolicyName } from "../shared";

const ROTATE_URL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id-credentials-access-keys-update.html";
const ROLES_URL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-workloads-use-roles";

/** Options of {@link keyagePolicies}: the team's defaults. A policy config file can still override each. */
export interface KeyagePolicyOptions {
  /** The limit of both age policies, in days (1–3650). Default 30. */
  readonly maxAgeDays?: number;
  /** Warn this many days before the limit (0 to maxAgeDays−1). Default 7, or maxAgeDays−1 when smaller. */
  readonly warnDays?: number;
  /** Users whose keys the age policies skip: `"alice"`, `"alice:2027-01-31"` or `{ user, until? }`. Default none. */
  readonly exemptions?: readonly (string | { readonly user: string; readonly until?: string })[];
  /** Users whose keys `iam-access-key-creation` accepts. Default none. */
  readonly allowedUsers?: readonly string[];
  /**
   * One level for every policy, or a level per policy name. Default: `iam-access-key-max-age`
   * mandatory, the other two advisory.
   */
  readonly enforcementLevel?: EnforcementLevel | Partial<Readonly<Record<PolicyName, EnforcementLevel>>>;
  /** The clock, in epoch ms. Default `Date.now`; tests pass a fixed one to hit exact boundaries. */
  readonly now?: () => number;
}

/** keyage's three policies, in the order they must run: max-age, expiring, creation. */
export type KeyagePolicies = [maxAge: StackValidationPolicy, expiring: StackValidationPolicy, creation: ResourceValidationPolicy];

const DEFAULT_LEVELS: Readonly<Record<PolicyName, EnforcementLevel>> = {
  [MAX_AGE_POLICY]: "mandatory",
  [EXPIRING_POLICY]: "advisory",
  [CREATION_POLICY]: "advisory",
};

function levelOf(policy: PolicyName, level: KeyagePolicyOptions["enforcementLevel"]): EnforcementLevel {
  if (typeof level === "string") return level;
  return level?.[policy] ?? DEFAULT_LEVELS[policy];
}

/**
 * @pulumi/policy's own `validate…OfType` helpers attach the type token to the validation function;
 * the server then answers "not applicable" for other types without deserializing their properties.
 * Setting the same marker by hand gives that fast path without importing @pulumi/aws for the class.
 */
function forType<F extends object>(fn: F): F {
  return Object.assign(fn, { __pulumiType: ACCESS_KEY_TYPE });
}

function howToRotate(urn: string): string {
  if (isRotatingKeyChild(urn)) {
    // --replace would make the component's schedule replace the slot again at the next update.
    return "Its RotatingAccessKey missed updates (needed every (maxAgeDays − warnDays)/6 days): exempt the user for a week and run `pulumi up`.";
  }
  return `Replace it now with \`pulumi up --replace '${urn}'\`; to keep it young, declare it as keyage/pulumi's RotatingAccessKey instead of aws.iam.AccessKey.`;
}

/** One active AccessKey of the stack, with a known or unknown createDate. */
interface StackKey {
  readonly urn: string;
  readonly name: string;
  /** IAM user name when known; "" when unknown (so no exemption can match it). */
  readonly user: string;
  readonly createDate: string | undefined;
}

/**
 * The stack's active AccessKeys whose createDate is known. A key being created in this preview has an
 * unknown createDate and is skipped: it will be brand new. Unknowns are caught per key, so one such
 * key never stops the others from being checked.
 */
function activeKeys(args: StackValidationArgs): StackKey[] {
  const keys: StackKey[] = [];
  for (const r of args.resources) {
    if (r.type !== ACCESS_KEY_TYPE) continue;
    const props = readAccessKey(r.props);
    if (!props.createDate.known || !countsAsActive(props.status)) continue;
    const user = props.user.known && props.user.value !== undefined ? props.user.value : "";
    keys.push({ urn: r.urn, name: r.name, user, createDate: props.createDate.value });
  }
  return keys;
}

function evaluate(key: StackKey, params: RuleParams, now: number) {
  // Only active keys get here, so status is left out. The resource name (part of the URN, never a
  // secret) names the key: the user name may have been a secret, which the pack cannot tell any more.
  return evaluateUser({ user: key.user, keys: [{ name: key.name, createDate: key.createDate ?? null }] }, params, now);
}

/** The max-age policy's config as it ran in the current AnalyzeStack request (see {@link keyagePolicies}). */
interface Leader {
  /** Which request: resources' count and first and last URN (requests of one preview are alike anyway). */
  readonly request: string;
  readonly maxAgeDays: number;
  readonly exemptions: unknown;
}

function requestOf(args: StackValidationArgs): string {
  const { resources } = args;
  return `${resources.length} ${resources[0]?.urn ?? ""} ${resources[resources.length - 1]?.urn ?? ""}`;
}

function checkOptions(options: KeyagePolicyOptions): { defaults: AgeDefaults; allowedUsers: readonly string[] } {
  // Checked now, so that a bad value fails where the pack is built, naming the option and the range.
  const params = validateParams({ maxAgeDays: options.maxAgeDays, warnDays: options.warnDays, exemptions: options.exemptions ? [...options.exemptions] : undefined });
  const allowedUsers = options.allowedUsers ?? [];
  readCreationConfig(CREATION_POLICY, { allowedUsers });
  return {
    defaults: { maxAgeDays: params.maxAgeDays, warnDays: options.warnDays === undefined ? undefined : params.warnDays, exemptions: options.exemptions ?? [] },
    allowedUsers,
  };
}

/**
 * keyage's policies, for a team's own `new PolicyPack(...)` (as `@pulumi/awsguard` offers its own):
 *
 * - `iam-access-key-max-age` (stack, default mandatory): each active key older than `maxAgeDays`
 *   (default 30) or of undeterminable age.
 * - `iam-access-key-expiring` (stack, default advisory): each active key within `warnDays` (default 7,
 *   or maxAgeDays−1 when smaller) of the same limit.
 * - `iam-access-key-creation` (resource, default advisory): each active access key declared for a user
 *   not in `allowedUsers` (default none).
 *
 * One limit: the options become the config schema's defaults, which a `--policy-pack-config` file can
 * override under `iam-access-key-max-age`; `iam-access-key-expiring` follows that policy's `maxAgeDays`
 * and exemptions (it reads them as that policy ran in the same request, so keep the returned order). If
 * a config file gives `iam-access-key-expiring` a different `maxAgeDays`, the preview fails naming both
 * values. Every age message says whose limit it uses.
 *
 * Building the policies has no side effect; only `new PolicyPack` starts a server.
 *
 * @throws ParameterError (from the rule module) when an age option is out of range, naming it and the
 *   range; {@link PolicyConfigError} for an `allowedUsers` entry that is not an IAM user name.
 * @example
 * import { PolicyPack } from "@pulumi/policy";
 * import { keyagePolicies } from "keyage/policies";
 *
 * new PolicyPack("acme-keys", { policies: keyagePolicies({ maxAgeDays: 90, warnDays: 14 }) });
 */
export function keyagePolicies(opts: KeyagePolicyOptions = {}): KeyagePolicies {
  const now = opts.now ?? Date.now;
  const { defaults, allowedUsers } = checkOptions(opts);
  // Set by the max-age policy and taken by the expiring one in the same AnalyzeStack request:
  // @pulumi/policy gives each policy only its own config, and runs a pack's stack policies one after
  // the other in the pack's order.
  let leader: Leader | undefined;

  const maxAge: StackValidationPolicy = {
    name: MAX_AGE_POLICY,
    displayName: "IAM access keys within their maximum age",
    description: `Active IAM user access keys must be rotated before they are older than maxAgeDays (default ${defaults.maxAgeDays}).`,
    enforcementLevel: levelOf(MAX_AGE_POLICY, opts.enforcementLevel),
    severity: "high",
    url: ROTATE_URL,
    tags: ["aws", "iam", "credentials"],
    remediationSteps:
      "Replace the key: `pulumi up --replace <urn>` creates a new key before deleting the old one; update whatever consumes the key's secret output. " +
      "To keep keys young for good, declare them with keyage/pulumi's RotatingAccessKey (two slots renewed on `pulumi up`) instead of aws.iam.AccessKey. " +
      "To rotate on a schedule, give the AccessKey the replacementTrigger resource option tied to a value that changes more often than maxAgeDays " +
      "(e.g. @pulumiverse/time Rotating's rotationRfc3339, refreshed with `pulumi up --refresh`). Better still, replace user keys with roles.",
    configSchema: maxAgeSchema(defaults),
    validateStack: forType((args: StackValidationArgs, reportViolation: ReportViolation) => {
      leader = undefined;
      const config = args.getConfig<AgeConfig>();
      const exemptions = isAbsent(config.exemptions) ? defaults.exemptions : config.exemptions;
      const params = readAgeConfig(MAX_AGE_POLICY, { maxAgeDays: config.maxAgeDays ?? defaults.maxAgeDays, exemptions });
      leader = { request: requestOf(args), maxAgeDays: params.maxAgeDays, exemptions };
      const source: LimitSource = isAbsent(config.maxAgeDays) ? "default" : MAX_AGE_POLICY;
      const at = now();
      for (const key of activeKeys(args)) {
        const verdict = evaluate(key, params, at);
        if (verdict.compliance === "NON_COMPLIANT") {
          reportViolation(`${verdict.annotation} ${limitSentence(params.maxAgeDays, source)} ${howToRotate(key.urn)}`, key.urn);
        }
      }
    }),
  };

  const expiring: StackValidationPolicy = {
    name: EXPIRING_POLICY,
    displayName: "IAM access keys close to their maximum age",
    description: `Active IAM user access keys within warnDays (default ${defaults.warnDays ?? DEFAULT_WARN_DAYS}) of ${MAX_AGE_POLICY}'s maxAgeDays (default ${defaults.maxAgeDays}) should be rotated before deployments start failing.`,
    enforcementLevel: levelOf(EXPIRING_POLICY, opts.enforcementLevel),
    severity: "low",
    url: ROTATE_URL,
    tags: ["aws", "iam", "credentials"],
    remediationSteps:
      "Rotate the key before it reaches the limit: `pulumi up --replace <urn>`, or a replacementTrigger tied to a rotating timestamp. " +
      `The limit is ${MAX_AGE_POLICY}'s maxAgeDays; set it there only.`,
    configSchema: expiringSchema(defaults),
    validateStack: forType((args: StackValidationArgs, reportViolation: ReportViolation) => {
      const lead = leader?.request === requestOf(args) ? leader : undefined;
      leader = undefined;
      const config = args.getConfig<AgeConfig>();
      let limit: { value: unknown; source: LimitSource };
      try {
        limit = pairMaxAgeDays(lead?.maxAgeDays, config.maxAgeDays);
      } catch (cause) {
        if (cause instanceof KeyageError) throw new PolicyConfigError(EXPIRING_POLICY, cause.message, { cause });
        throw cause;
      }
      const params = readAgeConfig(EXPIRING_POLICY, {
        maxAgeDays: limit.value ?? defaults.maxAgeDays,
        warnDays: config.warnDays ?? defaults.warnDays,
        exemptions: isAbsent(config.exemptions) ? (lead?.exemptions ?? defaults.exemptions) : config.exemptions,
      });
      const at = now();
      for (const key of activeKeys(args)) {
        const verdict = evaluate(key, params, at);
        const [soon] = verdict.expiring;
        if (soon === undefined || findExemption(key.user, params.exemptions, at).active) continue;
        const rotate = isRotatingKeyChild(key.urn)
          ? "Run `pulumi up`, at least every (maxAgeDays − warnDays)/6 days: its RotatingAccessKey renews it in its window."
          : `Rotate it before then: \`pulumi up --replace '${key.urn}'\`.`;
        reportViolation(`${soon.message} ${limitSentence(params.maxAgeDays, limit.source)} ${rotate}`, key.urn);
      }
    }),
  };

  const creation: ResourceValidationPolicy = {
    name: CREATION_POLICY,
    displayName: "No long-lived IAM user access keys",
    description: "IAM user access keys are long-lived credentials; prefer IAM roles, OIDC federation or Pulumi ESC's short-lived credentials.",
    enforcementLevel: levelOf(CREATION_POLICY, opts.enforcementLevel),
    severity: "medium",
    url: ROLES_URL,
    tags: ["aws", "iam", "credentials"],
    remediationSteps:
      "Let workloads assume an IAM role (instance profile, task or execution role, IRSA / EKS Pod Identity); let CI use OIDC federation " +
      "(e.g. GitHub Actions with aws-actions/configure-aws-credentials); let people and Pulumi itself use Pulumi ESC (`fn::open::aws-login` with OIDC, " +
      "or `fn::rotate::aws-iam` for keys ESC rotates). If a user must keep a key, add the user name to this policy's allowedUsers.",
    configSchema: creationSchema(allowedUsers),
    validateResource: forType((args: ResourceValidationArgs, reportViolation: ReportViolation) => {
      if (args.type !== ACCESS_KEY_TYPE) return;
      const props = readAccessKey(args.props);
      if (!countsAsActive(props.status)) return;
      const config = args.getConfig<{ allowedUsers?: unknown }>();
      const { allowedUsers: allowed } = readCreationConfig(CREATION_POLICY, { allowedUsers: config.allowedUsers ?? allowedUsers });
      let unchecked = "";
      if (props.user.known) {
        if (props.user.value !== undefined && allowed.has(props.user.value.toLowerCase())) return;
      } else if (allowed.size > 0) {
        unchecked = " Its user name is not known until the deployment, so allowedUsers could not be checked.";
      }
      const message = isRotatingKeyChild(args.urn)
        ? `${capital(keyLabel({ name: args.name }))}: RotatingAccessKey keeps it young, but it is still a long-lived credential. Prefer a role or OIDC federation; ` +
          `if this user must keep a key, add its name to allowedUsers.${unchecked}`
        : `${capital(keyLabel({ name: args.name }))} gives an IAM user a long-lived credential. Prefer a role the workload assumes, OIDC federation for CI, ` +
          `or Pulumi ESC (fn::rotate::aws-iam) for keys that rotate themselves; if this user must keep a key, add its name to allowedUsers.${unchecked}`;
      reportViolation(message, args.urn);
    }),
  };

  return [maxAge, expiring, creation];
}

/**
 * keyage's own pack's policies (keyage's defaults). Same as {@link keyagePolicies}.
 *
 * @example new PolicyPack("keyage", { policies: createPolicies() });
 */
export function createPolicies(options: KeyagePolicyOptions = {}): KeyagePolicies {
  return keyagePolicies(options);
}
