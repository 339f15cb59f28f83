/**
 * An audit's result as every output format sees it: the rule's verdicts (from `shared/`) plus what the
 * CLI knows about each entry (ARN, root row). Pure; no I/O.
 */
import { evaluateUser, type AccessKey, type RuleParams, type UserVerdict } from "../shared";

/** One audited entry: an IAM user, or the credential report's `<root_account>` row. */
export interface AuditEntry {
  readonly user: string;
  readonly arn: string;
  /** True for the `<root_account>` row (not an IAM user, shown by the CLI only). */
  readonly root: boolean;
  readonly verdict: UserVerdict;
}

/** A whole audit. */
export interface Audit {
  readonly params: RuleParams;
  /** The instant evaluated at, epoch ms. */
  readonly now: number;
  /** Where the users came from, for people: a file name, "standard input" or "account 123456789012". */
  readonly source: string;
  readonly entries: readonly AuditEntry[];
}

/** A user and keys to audit, from a credential report or a live read. */
export interface AuditInput {
  readonly user: string;
  readonly arn: string;
  readonly root?: boolean;
  readonly keys: readonly AccessKey[];
}

/** Evaluates every input with the shared rule, keeping the input's order. */
export function evaluateAll(inputs: readonly AuditInput[], params: RuleParams, now: number, source: string): Audit {
  const entries = inputs.map((u) => ({ user: u.user, arn: u.arn, root: u.root === true, verdict: evaluateUser(u, params, now) }));
  return { params, now, source, entries };
}

/** Counts of the `summary` object: every entry, the root row included. */
export interface Summary {
  readonly users: number;
  readonly compliant: number;
  readonly nonCompliant: number;
}

export function summarize(audit: Audit): Summary {
  const nonCompliant = audit.entries.filter((e) => e.verdict.compliance === "NON_COMPLIANT").length;
  return { users: audit.entries.length, compliant: audit.entries.length - nonCompliant, nonCompliant };
}

/** The account id in an IAM ARN (`arn:aws:iam::123456789012:user/x`), if it has one. */
export function accountOf(arn: string): string | undefined {
  return /^arn:[\w-]+:iam::(\d{12}):/.exec(arn)?.[1];
}

/** The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`); `aws` when it cannot be read. */
export function partitionOf(arn: string): string {
  return /^arn:([\w-]+):/.exec(arn)?.[1] ?? "aws";
}
