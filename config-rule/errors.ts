/**
 * The Config rule's own errors. Each says what went wrong in the user's terms and keeps the AWS error as
 * `cause`. Parameter errors come from `shared/` (`ParameterError`); AWS error naming from `aws/errors`.
 */
import { KeyageError } from "../shared";

/** The Lambda event is not a Config custom-rule event keyage handles. Nothing was written. */
export class EventError extends KeyageError {}

/** Some evaluations could not be written to AWS Config even after the bounded retries. */
export class PutEvaluationsError extends KeyageError {
  /** How many evaluations were not written. */
  readonly failed: number;

  constructor(message: string, failed: number, options?: { cause?: unknown }) {
    super(message, options);
    this.failed = failed;
  }
}
