/**
 * The Config rule's errors. Each says what went wrong in the user's terms and keeps the AWS error as
 * `cause`. Parameter errors come from `shared/` (`ParameterError`).
 */
import { KeyageError } from "../shared";

/** The Lambda event is not a Config custom-rule event keyage handles. Nothing was written. */
export class EventError extends KeyageError {}

/** An IAM read failed (other than a user vanishing mid-run, which is expected). */
export class IamReadError extends KeyageError {}

/** Some evaluations could not be written to AWS Config even after the bounded retries. */
export class PutEvaluationsError extends KeyageError {
  /** How many evaluations were not written. */
  readonly failed: number;

  constructor(message: string, failed: number, options?: { cause?: unknown }) {
    super(message, options);
    this.failed = failed;
  }
}

/** The name of an AWS SDK error (`NoSuchEntityException`, `Throttling`, …), or "" for anything else. */
export function awsErrorName(err: unknown): string {
  if (err !== null && typeof err === "object") {
    const e = err as { name?: unknown; Code?: unknown; code?: unknown };
    if (typeof e.name === "string" && e.name !== "Error") return e.name;
    if (typeof e.Code === "string") return e.Code;
    if (typeof e.code === "string") return e.code;
  }
  return "";
}

/** "Name: message" for logs and error messages, with any full access key id shortened. */
export function describeError(err: unknown): string {
  const name = awsErrorName(err);
  const message = err instanceof Error ? err.message : String(err);
  return redactKeyIds(name && !message.startsWith(name) ? `${name}: ${message}` : message);
}

const KEY_ID = /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{12,124}\b/g;

/** Replaces every full access key id in `text` with "…" and its last four characters. */
export function redactKeyIds(text: string): string {
  return text.replace(KEY_ID, (id) => `…${id.slice(-4)}`);
}
