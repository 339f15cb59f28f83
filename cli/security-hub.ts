/** `--security-hub`: BatchImportFindings in batches of 100 (the API's limit), collecting every rejection. */
import { BatchImportFindingsCommand, type AwsSecurityFinding, type SecurityHubClient } from "@aws-sdk/client-securityhub";
import { awsErrorName } from "../aws/errors";
import { awsFailure } from "./aws";

/** BatchImportFindings takes at most 100 findings per call. */
export const BATCH_SIZE = 100;

/** A finding Security Hub did not take, with its reason. */
export interface RejectedFinding {
  readonly id: string;
  readonly code: string;
  readonly message: string;
}

export interface ImportResult {
  readonly imported: number;
  readonly failed: readonly RejectedFinding[];
  /** BatchImportFindings calls made. */
  readonly calls: number;
}

/**
 * Imports the findings, 100 per call. A call that fails as a whole counts its findings as rejected (with
 * the error) and the next batch is still tried; if nothing at all was imported because every call
 * failed, the first error is thrown as an {@link AwsError} (e.g. Security Hub not enabled, access denied).
 */
export async function importFindings(client: SecurityHubClient, findings: readonly AwsSecurityFinding[]): Promise<ImportResult> {
  const failed: RejectedFinding[] = [];
  let imported = 0;
  let calls = 0;
  let firstError: unknown;
  let callsFailed = 0;
  for (let i = 0; i < findings.length; i += BATCH_SIZE) {
    const batch = findings.slice(i, i + BATCH_SIZE);
    calls += 1;
    try {
      const out = await client.send(new BatchImportFindingsCommand({ Findings: batch }));
      imported += out.SuccessCount ?? batch.length - (out.FailedFindings?.length ?? 0);
      for (const f of out.FailedFindings ?? []) failed.push({ id: f.Id ?? "?", code: f.ErrorCode ?? "?", message: f.ErrorMessage ?? "" });
    } catch (err) {
      firstError ??= err;
      callsFailed += 1;
      const message = (err as Error).message?.split("\n")[0] ?? String(err);
      for (const f of batch) failed.push({ id: f.Id ?? "?", code: awsErrorName(err) || "Error", message });
    }
  }
  if (callsFailed > 0 && callsFailed === calls) throw awsFailure("importing findings into Security Hub (securityhub:BatchImportFindings)", firstError);
  return { imported, failed, calls };
}
