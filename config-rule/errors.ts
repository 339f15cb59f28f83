/**
 * The Config rule's own errors. Each says what went wrong in the user's terms and keeps the AWS error as
 * `cause`. Parameter errors come from `shared/` (`ParameterError`); AWS error naming from `aws/errors`.
 */
import { KeyageError } from "../shared";

/** The Lambda event is not a Config custom-rule event keyage handles. Nothing was written. */
export class EventError extends KeyageError {}

/** Some evaluations could not be written to AWS Config, after every batch was tried. */
export class PutEvaluationsError extends KeyageError {
  /** How many evaluations were written (by the other batches and retries). */
  readonly written: number;
  /** How many evaluations were not written. */
  readonly failed: number;

  constructor(message: string, counts: { written: number; failed: number }, options?: { cause?: unknown }) {
    super(message, options);
    this.written = counts.written;
    this.failed = counts.failed;
  }
}
