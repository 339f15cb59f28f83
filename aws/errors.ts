/**
 * AWS error naming, shared by every front end: the one place that knows how an SDK v3 error says what it
 * is, and that keeps full access key ids out of messages.
 */
import { KeyageError } from "../shared";

/** An IAM read failed (other than a user vanishing mid-run, which callers handle as "deleted"). */
export class IamReadError extends KeyageError {}

/** The fields of an SDK v3 error that say what went wrong. */
interface SdkErrorLike {
  readonly name?: unknown;
  readonly Code?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function asSdkError(err: unknown): SdkErrorLike {
  return typeof err === "object" && err !== null ? (err as SdkErrorLike) : {};
}

/**
 * The error's AWS name (`NoSuchEntityException`, `Throttling`, `AccessDenied`…) or Node code
 * (`ECONNREFUSED`), or "" when it has none.
 */
export function awsErrorName(err: unknown): string {
  const e = asSdkError(err);
  if (typeof e.name === "string" && e.name !== "Error") return e.name;
  if (typeof e.Code === "string") return e.Code;
  if (typeof e.code === "string") return e.code;
  return "";
}

/** True when IAM said the entity (user, key) does not exist. */
export function isNoSuchEntity(err: unknown): boolean {
  const name = awsErrorName(err);
  return name === "NoSuchEntityException" || name === "NoSuchEntity";
}

/** True when AWS answered with a 4xx: the request was definitely not carried out. */
export function isClientFault(err: unknown): boolean {
  const status = asSdkError(err).$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500;
}

/** True for the errors the SDK's retry strategy treats as throttling (after its own attempts ran out). */
export function isThrottling(err: unknown): boolean {
  return /^(Throttling|ThrottlingException|ThrottledException|RequestThrottled|RequestThrottledException|TooManyRequestsException|RequestLimitExceeded|SlowDown|LimitExceeded|LimitExceededException)$/.test(awsErrorName(err));
}

/**
 * "Name: message" for logs and error messages, with any full access key id shortened. keyage's own
 * errors are already sentences for the user: their message alone, without the class name.
 */
export function describeError(err: unknown): string {
  const name = err instanceof KeyageError ? "" : awsErrorName(err);
  const message = err instanceof Error ? err.message : String(err);
  return redactKeyIds(name && !message.startsWith(name) ? `${name}: ${message}` : message);
}

const KEY_ID = /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{12,124}\b/g;

/** Replaces every full access key id in `text` with "…" and its last four characters. */
export function redactKeyIds(text: string): string {
  return text.replace(KEY_ID, (id) => `…${id.slice(-4)}`);
}
