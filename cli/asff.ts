/**
 * `--format asff` and `--security-hub`: one AWS Security Finding Format finding per audited entry, with
 * the fields BatchImportFindings requires (REFERENCE.md, "Security Hub ASFF").
 */
import type { AwsSecurityFinding } from "@aws-sdk/client-securityhub";
import { days, truncate } from "../shared";
import { accountOf, partitionOf, type Audit, type AuditEntry } from "./model";

/** Identifies keyage's findings in Security Hub (the same for every run, so findings are updated in place). */
export const GENERATOR_ID = "keyage/iam-access-key-max-age";

/**
 * The controls this rule implements, spelled as Security Hub spells its standards' controls. CIS numbers
 * the same check 1.4 in v1.2.0 and 1.14 in v1.4.0 and v3.0.0; FSBP calls it IAM.3.
 */
export const RELATED_REQUIREMENTS = [
  "CIS AWS Foundations Benchmark v1.2.0/1.4",
  "CIS AWS Foundations Benchmark v1.4.0/1.14",
  "CIS AWS Foundations Benchmark v3.0.0/1.14",
  "AWS Foundational Security Best Practices v1.0.0/IAM.3",
] as const;

const TYPES = [
  "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark",
  "Software and Configuration Checks/AWS Security Best Practices",
];

const ROTATE_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#rotating_access_keys_cli";

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

function remediation(e: AuditEntry, maxAgeDays: number): string {
  if (e.root) {
    return "Delete the root user's access keys (IAM console, signed in as root: Security credentials); use IAM roles instead.";
  }
  return truncate(
    `Rotate the user's keys: create a new key, switch the application, deactivate the old key once unused, then delete it ` +
      `(keyage rotate start|finish|cleanup --user ${e.user}). Keys must be at most ${days(maxAgeDays)} old.`,
    512,
  );
}

/**
 * One finding per entry. The Id is deterministic (account + generator + ARN), so re-importing updates the
 * same finding rather than piling up new ones. Severity: MEDIUM when FAILED (as Security Hub rates IAM.3),
 * INFORMATIONAL when PASSED.
 */
export function toFindings(audit: Audit, target: AsffTarget): AwsSecurityFinding[] {
  const at = new Date(audit.now).toISOString();
  const limit = audit.params.maxAgeDays;
  return audit.entries.map((e) => {
    const account = target.accountId ?? accountOf(e.arn);
    if (!account) throw new AsffError(`cannot file a finding for ${JSON.stringify(e.user)}: its ARN ${JSON.stringify(e.arn)} carries no account id`);
    const partition = partitionOf(e.arn);
    const failed = e.verdict.compliance === "NON_COMPLIANT";
    return {
      SchemaVersion: "2018-10-08",
      Id: `${account}/${GENERATOR_ID}/${e.arn}`,
      ProductArn: `arn:${partition}:securityhub:${target.region}:${account}:product/${account}/default`,
      ProductName: "keyage",
      GeneratorId: GENERATOR_ID,
      AwsAccountId: account,
      Types: TYPES,
      CreatedAt: at,
      UpdatedAt: at,
      Severity: { Label: failed ? "MEDIUM" : "INFORMATIONAL" },
      Title: `${e.root ? "Root user" : "IAM user"} ${e.user}: active access keys at most ${days(limit)} old`,
      Description: truncate(e.verdict.annotation, 1024),
      Remediation: { Recommendation: { Text: remediation(e, limit), Url: ROTATE_DOC } },
      ProductFields: { "keyage/maxAgeDays": String(limit), "keyage/user": e.user },
      Resources: [
        e.root
          ? { Type: "AwsAccount", Id: `AWS::::Account:${account}`, Partition: partition as never, Region: target.region }
          : { Type: "AwsIamUser", Id: e.arn, Partition: partition as never, Region: target.region, Details: { AwsIamUser: { UserName: e.user } } },
      ],
      Compliance: { Status: failed ? "FAILED" : "PASSED", RelatedRequirements: [...RELATED_REQUIREMENTS] },
      RecordState: "ACTIVE",
    };
  });
}

export function formatAsff(findings: readonly AwsSecurityFinding[]): string {
  return `${JSON.stringify(findings, null, 2)}\n`;
}
