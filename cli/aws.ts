/**
 * The CLI's reading of AWS failures: an SDK error turned into one plain sentence that says what to do,
 * with exit status 3. Error naming itself lives in `aws/errors`.
 */
import { awsErrorName } from "../aws/errors";
import { KeyageError } from "../shared";
import { AwsError } from "./io";

function firstLine(text: string | undefined): string {
  return (text ?? "").split("\n")[0]?.trim() ?? "";
}

function messageOf(err: unknown): string {
  return firstLine(err instanceof Error ? err.message : typeof err === "object" && err !== null ? String((err as { message?: unknown }).message ?? "") : String(err));
}

/**
 * Turns an AWS SDK error into an {@link AwsError} whose message says what `action` was and what to do,
 * on one line. Already-mapped CLI errors pass through unchanged.
 */
export function awsFailure(action: string, err: unknown): Error {
  if (err instanceof AwsError) return err;
  // keyage's own wrappers (IamReadError: "ListUsers failed: …") say which call failed and carry the SDK
  // error as `cause`: the cause says what kind of failure it is, the wrapper's message what failed. A
  // class name says neither, so none is shown.
  const own = err instanceof KeyageError ? err : undefined;
  const sdk = own?.cause ?? err;
  const name = awsErrorName(sdk) || "Error";
  const detail = messageOf(sdk);
  let hint: string;
  if (name === "CredentialsProviderError" || /could not load credentials/i.test(detail)) {
    hint = "no AWS credentials found: pass --profile, set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`";
  } else if (/region is missing/i.test(detail)) {
    hint = "no AWS region: pass --region or set AWS_REGION";
  } else if (/AccessDenied|UnauthorizedOperation/i.test(name)) {
    hint = `access denied: ${detail}`;
  } else if (/ExpiredToken|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|InvalidSignature/.test(name)) {
    hint = `the credentials were rejected (${name}): ${detail}`;
  } else if (/^E[A-Z]+$/.test(name) || /TimeoutError|NetworkingError/.test(name)) {
    hint = `cannot reach AWS (${name}): ${detail}`;
  } else if (own) {
    hint = messageOf(own);
  } else {
    hint = name === "Error" ? detail : `${name}: ${detail}`;
  }
  return new AwsError(`${action} failed: ${hint}`, { cause: err });
}
