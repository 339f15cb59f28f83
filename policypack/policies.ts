/**
 * keyage's three CrossGuard policies. They only translate: the pack reads an AccessKey's `user`,
 * `status` and `createDate`, asks the shared rule for a verdict, and words it as a diagnostic.
 */
import type {
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { capital, DEFAULT_MAX_AGE_DAYS, DEFAULT_WARN_DAYS, evaluateUser, findExemption, keyLabel, type RuleParams } from "../shared";
import { ACCESS_KEY_TYPE, countsAsActive, readAccessKey } from "./access-key";
import { CREATION_SCHEMA, EXPIRING_SCHEMA, MAX_AGE_SCHEMA, readAgeConfig, readCreationConfig, type AgeConfig } from "./config";

/** Policy names, as they appear in diagnostics and as keys of `--policy-pack-config`. */
export const MAX_AGE_POLICY = "iam-access-key-max-age";
export const EXPIRING_POLICY = "iam-access-key-expiring";
export const CREATION_POLICY = "iam-access-key-creation";

const ROTATE_URL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id-credentials-access-keys-update.html";
const ROLES_URL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-workloads-use-roles";

/** Options for {@link createPolicies}. */
export interface PolicyOptions {
  /** The clock, in epoch ms. Default `Date.now`; tests pass a fixed one to hit exact boundaries. */
  readonly now?: () => number;
}

/**
 * @pulumi/policy's own `validate…OfType` helpers attach the type token to the validation function;
 * the server then answers "not applicable" for other types without deserializing their properties.
 * Setting the same marker by hand gives that fast path without importing @pulumi/aws for the class.
 */
function forType<F extends object>(fn: F): F {
  return Object.assign(fn, { __pulumiType: ACCESS_KEY_TYPE });
}

function howToRotate(urn: string, maxAgeDays: number): string {
  return (
    `Replace it now with \`pulumi up --replace '${urn}'\`, or rotate it on a schedule with the replacementTrigger ` +
    `resource option tied to a value that changes more often than every ${maxAgeDays} days (e.g. @pulumiverse/time ` +
    `Rotating's rotationRfc3339 with rotationDays below ${maxAgeDays}).`
  );
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

/**
 * Builds the pack's policies.
 *
 * - `iam-access-key-max-age` (stack, default mandatory): each active key older than `maxAgeDays`
 *   (default 30) or of undeterminable age.
 * - `iam-access-key-expiring` (stack, default advisory): each active key within `warnDays` (default 7)
 *   of `maxAgeDays`.
 * - `iam-access-key-creation` (resource, default advisory): each active access key declared for a user
 *   not in `allowedUsers` (default none).
 *
 * @example new PolicyPack("keyage", { policies: createPolicies() });
 */
export function createPolicies(options: PolicyOptions = {}): [StackValidationPolicy, StackValidationPolicy, ResourceValidationPolicy] {
  const now = options.now ?? Date.now;

  const maxAge: StackValidationPolicy = {
    name: MAX_AGE_POLICY,
    displayName: "IAM access keys within their maximum age",
    description: `Active IAM user access keys must be rotated before they are older than maxAgeDays (default ${DEFAULT_MAX_AGE_DAYS}).`,
    enforcementLevel: "mandatory",
    severity: "high",
    url: ROTATE_URL,
    tags: ["aws", "iam", "credentials"],
    remediationSteps:
      "Replace the key: `pulumi up --replace <urn>` creates a new key before deleting the old one; update whatever consumes the key's secret output. " +
      "To rotate on a schedule, give the AccessKey the replacementTrigger resource option tied to a value that changes more often than maxAgeDays " +
      "(e.g. @pulumiverse/time Rotating's rotationRfc3339, refreshed with `pulumi up --refresh`). Better still, replace user keys with roles.",
    configSchema: MAX_AGE_SCHEMA,
    validateStack: forType((args: StackValidationArgs, reportViolation: ReportViolation) => {
      const params = readAgeConfig(MAX_AGE_POLICY, args.getConfig<AgeConfig>());
      const at = now();
      for (const key of activeKeys(args)) {
        const verdict = evaluate(key, params, at);
        if (verdict.compliance === "NON_COMPLIANT") {
          reportViolation(`${verdict.annotation} ${howToRotate(key.urn, params.maxAgeDays)}`, key.urn);
        }
      }
    }),
  };

  const expiring: StackValidationPolicy = {
    name: EXPIRING_POLICY,
    displayName: "IAM access keys close to their maximum age",
    description: `Active IAM user access keys within warnDays (default ${DEFAULT_WARN_DAYS}) of maxAgeDays (default ${DEFAULT_MAX_AGE_DAYS}) should be rotated before deployments start failing.`,
    enforcementLevel: "advisory",
    severity: "low",
    url: ROTATE_URL,
    tags: ["aws", "iam", "credentials"],
    remediationSteps:
      "Rotate the key before it reaches the limit: `pulumi up --replace <urn>`, or a replacementTrigger tied to a rotating timestamp. " +
      "Keep this policy's maxAgeDays equal to iam-access-key-max-age's.",
    configSchema: EXPIRING_SCHEMA,
    validateStack: forType((args: StackValidationArgs, reportViolation: ReportViolation) => {
      const params = readAgeConfig(EXPIRING_POLICY, args.getConfig<AgeConfig>());
      const at = now();
      for (const key of activeKeys(args)) {
        const verdict = evaluate(key, params, at);
        const [soon] = verdict.expiring;
        if (soon === undefined || findExemption(key.user, params.exemptions, at).active) continue;
        reportViolation(`${soon.message} Rotate it before then: \`pulumi up --replace '${key.urn}'\`.`, key.urn);
      }
    }),
  };

  const creation: ResourceValidationPolicy = {
    name: CREATION_POLICY,
    displayName: "No long-lived IAM user access keys",
    description: "IAM user access keys are long-lived credentials; prefer IAM roles, OIDC federation or Pulumi ESC's short-lived credentials.",
    enforcementLevel: "advisory",
    severity: "medium",
    url: ROLES_URL,
    tags: ["aws", "iam", "credentials"],
    remediationSteps:
      "Let workloads assume an IAM role (instance profile, task or execution role, IRSA / EKS Pod Identity); let CI use OIDC federation " +
      "(e.g. GitHub Actions with aws-actions/configure-aws-credentials); let people and Pulumi itself use Pulumi ESC (`fn::open::aws-login` with OIDC, " +
      "or `fn::rotate::aws-iam` for keys ESC rotates). If a user must keep a key, add the user name to this policy's allowedUsers.",
    configSchema: CREATION_SCHEMA,
    validateResource: forType((args: ResourceValidationArgs, reportViolation: ReportViolation) => {
      if (args.type !== ACCESS_KEY_TYPE) return;
      const props = readAccessKey(args.props);
      if (!countsAsActive(props.status)) return;
      const { allowedUsers } = readCreationConfig(CREATION_POLICY, args.getConfig<{ allowedUsers?: unknown }>());
      let unchecked = "";
      if (props.user.known) {
        if (props.user.value !== undefined && allowedUsers.has(props.user.value.toLowerCase())) return;
      } else if (allowedUsers.size > 0) {
        unchecked = " Its user name is not known until the deployment, so allowedUsers could not be checked.";
      }
      reportViolation(
        `${capital(keyLabel({ name: args.name }))} gives an IAM user a long-lived credential. Prefer a role the workload assumes, OIDC federation for CI, ` +
          `or Pulumi ESC (fn::rotate::aws-iam) for keys that rotate themselves; if this user must keep a key, add its name to allowedUsers.${unchecked}`,
        args.urn,
      );
    }),
  };

  return [maxAge, expiring, creation];
}
