/**
 * `--format asff` and `--security-hub`: one AWS Security Finding Format finding per audited entry, with
 * the fields BatchImportFindings requires.
 */
import type { AwsSecurityFinding } from "@aws-sdk/client-securityhub";
import { DAY_MS, days, MAX_UNUSED_DAYS, parseTimestamp, truncate, type RuleParams } from "../shared";
import { entryAccount, partitionOf, type Audit, type AuditEntry } from "./model";

/** Identifies keyage's findings in Security Hub (the same for every run, so findings are updated in place). */
export const GENERATOR_ID = "keyage/iam-access-key-max-age";

/**
 * The controls a key-age limit of at most 90 days satisfies, spelled as Security Hub spells its
 * standards' controls. CIS numbers "access keys are rotated every 90 days or less" 1.4 in v1.2.0 and 1.14
 * in v1.4.0 and v3.0.0; FSBP calls it IAM.3. A longer limit satisfies none of them.
 */
export const ROTATION_REQUIREMENTS = [
  "CIS AWS Foundations Benchmark v1.2.0/1.4",
  "CIS AWS Foundations Benchmark v1.4.0/1.14",
  "CIS AWS Foundations Benchmark v3.0.0/1.14",
  "AWS Foundational Security Best Practices v1.0.0/IAM.3",
] as const;

/** The longest limit the rotation controls accept: "every 90 days or less". */
export const ROTATION_REQUIREMENT_MAX_DAYS = 90;

/**
 * The controls an unused-key limit (`maxUnusedDays`) of at most 45 days satisfies: "credentials unused
 * for 45 days or greater are disabled" (CIS 1.12 in v1.4.0 and v3.0.0; FSBP IAM.22). keyage checks only
 * access keys, not passwords, so a finding naming them speaks for the keys' half of the control.
 */
export const UNUSED_REQUIREMENTS = [
  "CIS AWS Foundations Benchmark v1.4.0/1.12",
  "CIS AWS Foundations Benchmark v3.0.0/1.12",
  "AWS Foundational Security Best Practices v1.0.0/IAM.22",
] as const;

/** The longest unused-key limit the unused-credential controls accept: 45 days. */
export const UNUSED_REQUIREMENT_MAX_DAYS = MAX_UNUSED_DAYS.cis;

/**
 * The controls the root user's row answers, whatever the limit: "no root user access key exists"
 * (CIS 1.12 in v1.2.0, 1.4 in v1.4.0 and v3.0.0; FSBP IAM.4).
 */
export const ROOT_KEY_REQUIREMENTS = [
  "CIS AWS Foundations Benchmark v1.2.0/1.12",
  "CIS AWS Foundations Benchmark v1.4.0/1.4",
  "CIS AWS Foundations Benchmark v3.0.0/1.4",
  "AWS Foundational Security Best Practices v1.0.0/IAM.4",
] as const;

const CIS_TYPE = "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark";
const BEST_PRACTICES_TYPE = "Software and Configuration Checks/AWS Security Best Practices";

/**
 * The controls a finding may name: only those its check and the limits actually satisfy. The rotation
 * controls need `maxAgeDays` ≤ 90; the unused-credential controls need `maxUnusedDays` set and ≤ 45
 * (absent: off, none named). An exempt user (`exempt` true) names none: keyage's PASSED then rests on
 * the exemption, while the controls know no exemptions and the user's keys may be far older than 90
 * days. The one mapping of every report format (ASFF and any other that names controls).
 */
export function relatedRequirements(root: boolean, maxAgeDays: number, exempt = false, maxUnusedDays?: number): string[] {
  if (root) return [...ROOT_KEY_REQUIREMENTS];
  if (exempt) return [];
  return [
    ...(maxAgeDays <= ROTATION_REQUIREMENT_MAX_DAYS ? ROTATION_REQUIREMENTS : []),
    ...(maxUnusedDays !== undefined && maxUnusedDays <= UNUSED_REQUIREMENT_MAX_DAYS ? UNUSED_REQUIREMENTS : []),
  ];
}

/**
 * The controls one audited entry's finding names, in ASFF (`Compliance.RelatedRequirements`) and in OCSF
 * (`compliance.requirements`) alike: the one place to extend when keyage checks more than the key's age.
 */
export function entryRequirements(e: AuditEntry, params: Pick<RuleParams, "maxAgeDays" | "maxUnusedDays">): string[] {
  return relatedRequirements(e.root, params.maxAgeDays, e.verdict.exemption !== undefined, params.maxUnusedDays);
}

/** A finding's severity, as Security Hub rates the controls: MEDIUM when failed (IAM.3), CRITICAL for a root key (IAM.4), INFORMATIONAL when passed. */
export function findingSeverity(e: AuditEntry): "INFORMATIONAL" | "MEDIUM" | "CRITICAL" {
  if (e.verdict.compliance !== "NON_COMPLIANT") return "INFORMATIONAL";
  return e.root ? "CRITICAL" : "MEDIUM";
}

export const ROTATE_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#rotating_access_keys_cli";
export const ROOT_KEYS_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_delete-key.html";

/** Where findings are filed: the region of the ProductArn and the account that imports them. */
export interface AsffTarget {
  readonly region: string;
  /** Account that imports the findings; default: the account in each entry's ARN. */
  readonly accountId?: string;
}

/** Thrown when an entry's ARN carries no account id (a finding needs one). */
export class AsffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** What to do about an entry, for people (ASFF `Remediation`, OCSF `remediation.desc`). */
export function remediation(e: AuditEntry, maxAgeDays: number): string {
  if (e.root) {
    return "Delete the root user's access keys (IAM console, signed in as root: Security credentials); use IAM roles instead.";
  }
  const unused = e.verdict.violations.find((v) => v.reason === "unused");
  if (unused && e.verdict.violations.every((v) => v.reason === "unused")) {
    return truncate(
      `Deactivate or delete the unused keys (aws iam update-access-key --status Inactive, then aws iam delete-access-key): ` +
        `a key neither used nor created within ${days(unused.maxUnusedDays as number)} is not needed, and rotating it would not make it used.`,
      512,
    );
  }
  return truncate(
    `Rotate the user's keys: create a new key, switch the application, deactivate the old key once unused, then delete it ` +
      `(keyage rotate start|finish|cleanup --user ${e.user}). Keys must be at most ${days(maxAgeDays)} old.`,
    512,
  );
}

/**
 * When the state a finding reports began, derived from the data only (never from the evaluation time), so
 * re-importing the same state keeps it. FAILED: the earliest instant a key became a violation (a root key:
 * its creation; an expired key: its creation plus the limit; an unused key: its last use, or creation,
 * plus the unused limit); PASSED, or a violation with no date (age
 * unknown): the user's creation. Never later than `now`; `now` only when the data has no date at all.
 */
export function findingCreatedAt(e: AuditEntry, maxAgeDays: number, now: number): number {
  const starts: number[] = [];
  if (e.verdict.compliance === "NON_COMPLIANT") {
    for (const k of e.verdict.violations) {
      if (k.createDate === null) continue;
      const created = Date.parse(k.createDate);
      if (k.reason === "unused") starts.push(Date.parse(k.unusedSince as string) + (k.maxUnusedDays as number) * DAY_MS);
      else starts.push(k.reason === "root-key" ? created : created + maxAgeDays * DAY_MS);
    }
  }
  const since = starts.length > 0 ? Math.min(...starts) : parseTimestamp(e.userCreatedAt);
  return since === undefined ? now : Math.min(since, now);
}

/**
 * One finding per entry. The Id is deterministic (account + generator + ARN), so re-importing updates the
 * same finding rather than piling up new ones. Severity: MEDIUM when FAILED (as Security Hub rates IAM.3),
 * CRITICAL for a root key (as it rates IAM.4), INFORMATIONAL when PASSED. `Compliance.RelatedRequirements`
 * names only the controls the check and the limit satisfy, none for an exempt user ({@link relatedRequirements}). `CreatedAt`
 * and `FirstObservedAt` come from the data ({@link findingCreatedAt}); `UpdatedAt` and `LastObservedAt`
 * are the evaluation time.
 */
export function toFindings(audit: Audit, target: AsffTarget): AwsSecurityFinding[] {
  const at = new Date(audit.now).toISOString();
  const limit = audit.params.maxAgeDays;
  const unusedLimit = audit.params.maxUnusedDays;
  return audit.entries.map((e) => {
    const account = target.accountId ?? entryAccount(e);
    if (!account) throw new AsffError(`cannot file a finding for ${JSON.stringify(e.user)}: its ARN ${JSON.stringify(e.arn)} carries no account id`);
    const partition = partitionOf(e.arn);
    const failed = e.verdict.compliance === "NON_COMPLIANT";
    const requirements = entryRequirements(e, audit.params);
    // keyage keeps no state between runs: the first observation it can vouch for is the one the data
    // proves (the state's start), the latest is this evaluation.
    const since = new Date(findingCreatedAt(e, limit, audit.now)).toISOString();
    return {
      SchemaVersion: "2018-10-08",
      Id: `${account}/${GENERATOR_ID}/${e.arn}`,
      ProductArn: `arn:${partition}:securityhub:${target.region}:${account}:product/${account}/default`,
      ProductName: "keyage",
      GeneratorId: GENERATOR_ID,
      AwsAccountId: account,
      Types: requirements.some((r) => r.startsWith("CIS ")) ? [CIS_TYPE, BEST_PRACTICES_TYPE] : [BEST_PRACTICES_TYPE],
      CreatedAt: since,
      UpdatedAt: at,
      FirstObservedAt: since,
      LastObservedAt: at,
      Severity: { Label: findingSeverity(e) },
      Title: e.root
        ? `Root user of account ${account}: no access keys`
        : `IAM user ${e.user}: active access keys at most ${days(limit)} old${unusedLimit === undefined ? "" : `, used within ${days(unusedLimit)}`}`,
      Description: truncate(e.verdict.annotation, 1024),
      Remediation: { Recommendation: { Text: remediation(e, limit), Url: e.root ? ROOT_KEYS_DOC : ROTATE_DOC } },
      ProductFields: { "keyage/maxAgeDays": String(limit), "keyage/user": e.user, ...(unusedLimit === undefined ? {} : { "keyage/maxUnusedDays": String(unusedLimit) }) },
      Resources: [
        e.root
          ? { Type: "AwsAccount", Id: `AWS::::Account:${account}`, Partition: partition as never, Region: target.region }
          : { Type: "AwsIamUser", Id: e.arn, Partition: partition as never, Region: target.region, Details: { AwsIamUser: { UserName: e.user } } },
      ],
      Compliance: requirements.length > 0 ? { Status: failed ? "FAILED" : "PASSED", RelatedRequirements: requirements } : { Status: failed ? "FAILED" : "PASSED" },
      RecordState: "ACTIVE",
    };
  });
}
