/**
 * The AWS edge of the CLI: clients built on first use (so `keyage audit --credential-report` never loads
 * the SDK), and AWS errors turned into one plain sentence. Nothing here runs on the offline path.
 */
import type { Clients, ClientOptions } from "./io";
import { AwsError } from "./io";

/**
 * Builds SDK v3 clients with the standard credential chain and region resolution, honouring `--profile`
 * and `--region` (the SDK's own environment variables — AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_* —
 * apply when they are not given). Each client's module is required on first use.
 */
export async function defaultClients(options: ClientOptions): Promise<Clients> {
  const config = {
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.region ? { region: options.region } : {}),
  };
  const cache = new Map<string, unknown>();
  function once<T>(name: string, make: () => T): T {
    if (!cache.has(name)) cache.set(name, make());
    return cache.get(name) as T;
  }
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    iam: () => once("iam", () => new (require("@aws-sdk/client-iam") as typeof import("@aws-sdk/client-iam")).IAMClient(config)),
    secretsManager: () =>
      once("sm", () => new (require("@aws-sdk/client-secrets-manager") as typeof import("@aws-sdk/client-secrets-manager")).SecretsManagerClient(config)),
    securityHub: () =>
      once("sh", () => new (require("@aws-sdk/client-securityhub") as typeof import("@aws-sdk/client-securityhub")).SecurityHubClient(config)),
    sts: () => once("sts", () => new (require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts")).STSClient(config)),
  };
}

/** The fields of an SDK v3 error that say what went wrong. */
interface SdkErrorLike {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function asSdkError(err: unknown): SdkErrorLike {
  return typeof err === "object" && err !== null ? (err as SdkErrorLike) : { message: String(err) };
}

/** The error's AWS name (`AccessDenied`, `NoSuchEntity`…) or Node code (`ECONNREFUSED`), if any. */
export function awsErrorName(err: unknown): string | undefined {
  const e = asSdkError(err);
  return e.name && e.name !== "Error" ? e.name : e.code;
}

/** True when AWS answered with a 4xx: the request was definitely not carried out. */
export function isClientFault(err: unknown): boolean {
  const status = asSdkError(err).$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500;
}

function firstLine(text: string | undefined): string {
  return (text ?? "").split("\n")[0]?.trim() ?? "";
}

/**
 * Turns an AWS SDK error into an {@link AwsError} whose message says what `action` was and what to do,
 * on one line. Already-mapped CLI errors pass through unchanged.
 */
export function awsFailure(action: string, err: unknown): Error {
  if (err instanceof AwsError) return err;
  const e = asSdkError(err);
  const name = awsErrorName(err) ?? "Error";
  const detail = firstLine(e.message);
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
  } else {
    hint = `${name}: ${detail}`;
  }
  return new AwsError(`${action} failed: ${hint}`, { cause: err });
}
