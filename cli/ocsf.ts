/**
 * `--format ocsf`: one OCSF Compliance Finding (class 2003, category 2 Findings) per audited entry, as JSON
 * Lines (one finding per line: what Amazon Security Lake custom sources and most log pipelines take). The
 * attribute mapping is the table in docs/cli.md; the standards named are the ones ASFF names, from the
 * same function ({@link entryRequirements}).
 */
import { days, truncate } from "../shared";
import { entryRequirements, findingCreatedAt, findingSeverity, GENERATOR_ID, remediation, ROOT_KEYS_DOC, ROTATE_DOC } from "./asff";
import { jsonKeys } from "./json";
import { entryAccount, partitionOf, type Audit, type AuditEntry } from "./model";
import { keyageVersion } from "./version";

/** The OCSF schema version the findings follow, written in each finding's `metadata.version`. */
export const OCSF_VERSION = "1.3.0";

/** Compliance Finding. */
export const OCSF_CLASS_UID = 2003;
/** Findings. */
export const OCSF_CATEGORY_UID = 2;
/** Create: keyage reports the state it found; it keeps no history to say Update or Close. */
export const OCSF_ACTIVITY_ID = 1;

const SEVERITY = { INFORMATIONAL: [1, "Informational"], MEDIUM: [3, "Medium"], CRITICAL: [5, "Critical"] } as const;

/** A standard's name out of a requirement as Security Hub spells it: `CIS AWS Foundations Benchmark v1.4.0/1.14` → the part before `/`. */
function standardOf(requirement: string): string {
  const slash = requirement.lastIndexOf("/");
  return slash < 0 ? requirement : requirement.slice(0, slash);
}

/** One OCSF Compliance Finding (the subset of attributes keyage fills; see docs/cli.md for the mapping). */
export type OcsfFinding = Record<string, unknown>;

/**
 * The finding of one entry. `time` is the evaluation; `finding_info.created_time` / `first_seen_time` the
 * start of the state the data proves (as ASFF's `CreatedAt`); `finding_info.uid` the ASFF finding's Id, so
 * the same user keeps the same id in both formats and across runs.
 */
export function toOcsfFinding(e: AuditEntry, audit: Audit, version: string = keyageVersion()): OcsfFinding {
  const { maxAgeDays, warnDays } = audit.params;
  const account = entryAccount(e) ?? "";
  const failed = e.verdict.compliance === "NON_COMPLIANT";
  const requirements = entryRequirements(e, audit.params);
  const standards = [...new Set(requirements.map(standardOf))];
  const [severityId, severity] = SEVERITY[findingSeverity(e)];
  const since = findingCreatedAt(e, maxAgeDays, audit.now);
  const exemption = e.verdict.exemption;
  return {
    activity_id: OCSF_ACTIVITY_ID,
    activity_name: "Create",
    category_uid: OCSF_CATEGORY_UID,
    category_name: "Findings",
    class_uid: OCSF_CLASS_UID,
    class_name: "Compliance Finding",
    type_uid: OCSF_CLASS_UID * 100 + OCSF_ACTIVITY_ID,
    type_name: "Compliance Finding: Create",
    time: audit.now,
    severity_id: severityId,
    severity,
    // Findings of a passed check are Resolved (as Security Hub sets them); a violation is New.
    status_id: failed ? 1 : 4,
    status: failed ? "New" : "Resolved",
    message: e.verdict.annotation,
    metadata: {
      version: OCSF_VERSION,
      product: { name: "keyage", vendor_name: "keyage", version, uid: GENERATOR_ID },
      profiles: ["cloud"],
    },
    cloud: { provider: "AWS", account: { uid: account, type_id: 10, type: "AWS Account" } },
    finding_info: {
      uid: `${account}/${GENERATOR_ID}/${e.arn}`,
      title: e.root ? `Root user of account ${account}: no access keys` : `IAM user ${e.user}: active access keys at most ${days(maxAgeDays)} old`,
      desc: truncate(e.verdict.annotation, 1024),
      created_time: since,
      first_seen_time: since,
      last_seen_time: audit.now,
      modified_time: audit.now,
      product_uid: GENERATOR_ID,
    },
    compliance: {
      status_id: failed ? 3 : 1,
      status: failed ? "Fail" : "Pass",
      control: GENERATOR_ID,
      // OCSF requires `standards`: a limit that satisfies no industry control names keyage's own rule.
      standards: standards.length > 0 ? standards : [`keyage ${GENERATOR_ID} (${days(maxAgeDays)})`],
      requirements,
      status_detail: e.verdict.annotation,
    },
    remediation: { desc: remediation(e, maxAgeDays), references: [e.root ? ROOT_KEYS_DOC : ROTATE_DOC] },
    resources: [
      e.root
        ? { type: "AWS::Account", uid: e.arn, name: e.user, cloud_partition: partitionOf(e.arn) }
        : { type: "AWS::IAM::User", uid: e.arn, name: e.user, cloud_partition: partitionOf(e.arn) },
    ],
    unmapped: {
      keyage: {
        maxAgeDays,
        warnDays,
        root: e.root,
        exempt: exemption !== undefined,
        exemptUntil: exemption?.until === undefined ? null : new Date(exemption.until).toISOString(),
        keys: jsonKeys(e),
      },
    },
  };
}

/** Every entry's finding, one JSON object per line (JSON Lines), in the audit's order. */
export function formatOcsf(audit: Audit): string {
  const version = keyageVersion();
  let out = "";
  for (const e of audit.entries) out += `${JSON.stringify(toOcsfFinding(e, audit, version))}\n`;
  return out;
}
