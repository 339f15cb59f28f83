/**
 * The Secrets Manager destination of a rotation: what a secret holds now, and storing a new key in it.
 * Shared by the CLI's `keyage rotate start` and the scheduled rotator. PutSecretValue makes the new value
 * AWSCURRENT and moves the old one to AWSPREVIOUS, so readers still find the old key during the overlap.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { KeyageError, secretDocument, secretValue } from "../shared";
import { awsErrorName, describeError, isClientFault } from "./errors";

/** What a secret is, as observed before any write. */
export type SecretState =
  | { readonly exists: false }
  | {
      readonly exists: true;
      /** DescribeSecret shows a DeletedDate: PutSecretValue would be refused. */
      readonly scheduledForDeletion: boolean;
      /** Its full ARN and name, as DescribeSecret resolved the id (name, full or partial ARN). */
      readonly arn: string;
      readonly name: string;
      /** The value of the secret's own `keyage:rotate` tag (the ARN of the user it is bound to), if set. */
      readonly boundTo?: string;
      /** The AccessKeyId of the keyage document in AWSCURRENT, if it holds one. */
      readonly holds?: string;
      /** AWSCURRENT holds something that is neither empty nor a keyage document (binary included). */
      readonly foreign: boolean;
    };

/** The tag that binds a secret to the one IAM user (its ARN) whose keys keyage may store there. */
export const SECRET_BINDING_TAG = "keyage:rotate";

/**
 * Reads `secretId` (DescribeSecret: ARN, name, tags; then GetSecretValue of AWSCURRENT). A secret without
 * a value yet holds nothing. Throws the SDK's error for anything but "no such secret".
 *
 * @example
 * const state = await readSecret(new SecretsManagerClient({}), "app/alice");
 * if (state.exists && state.holds === newKeyId) console.log("delivered");
 */
export async function readSecret(sm: SecretsManagerClient, secretId: string): Promise<SecretState> {
  let described;
  try {
    described = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
  } catch (err) {
    if (awsErrorName(err) === "ResourceNotFoundException") return { exists: false };
    throw err;
  }
  const scheduledForDeletion = described?.DeletedDate !== undefined;
  const arn = described?.ARN ?? secretId;
  const tag = described?.Tags?.find((t) => t.Key === SECRET_BINDING_TAG);
  const value = scheduledForDeletion ? ({ kind: "empty" } as const) : await currentValue(sm, arn);
  return {
    exists: true,
    scheduledForDeletion,
    arn,
    name: described?.Name ?? secretId,
    boundTo: tag === undefined ? undefined : (tag.Value ?? ""),
    holds: value.kind === "keyage" ? value.keyId : undefined,
    foreign: value.kind === "foreign",
  };
}

async function currentValue(sm: SecretsManagerClient, secretId: string): Promise<ReturnType<typeof secretValue>> {
  let got;
  try {
    got = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
  } catch (err) {
    if (awsErrorName(err) === "ResourceNotFoundException") return { kind: "empty" }; // no value stored yet
    throw err;
  }
  if (got?.SecretString === undefined && got?.SecretBinary !== undefined) return { kind: "foreign" };
  return secretValue(got?.SecretString);
}

async function currentKeyId(sm: SecretsManagerClient, secretId: string): Promise<string | undefined> {
  const value = await currentValue(sm, secretId);
  return value.kind === "keyage" ? value.keyId : undefined;
}

/** PutSecretValue failed in a way that leaves open whether the value was stored (and reading it back failed). */
export class SecretUndecidedError extends KeyageError {}

/**
 * Stores `{AccessKeyId, SecretAccessKey}` as the secret's new AWSCURRENT value; returns its VersionId
 * (undefined when the store was only confirmed by reading it back). When PutSecretValue fails without a
 * 4xx answer (timeout, 5xx) the value may have been stored anyway: it reads the secret back, and throws
 * {@link SecretUndecidedError} when that read fails too. Other failures are the SDK's errors.
 */
export async function putKeySecret(sm: SecretsManagerClient, secretId: string, keyId: string, secret: string): Promise<string | undefined> {
  try {
    return (await sm.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: secretDocument(keyId, secret) })))?.VersionId;
  } catch (err) {
    if (isClientFault(err)) throw err;
    let held: string | undefined;
    try {
      held = await currentKeyId(sm, secretId);
    } catch (readErr) {
      throw new SecretUndecidedError(
        `storing the secret in ${secretId} failed (${awsErrorName(err) || "Error"}) and reading it back failed too (${describeError(readErr)})`,
        { cause: err },
      );
    }
    if (held === keyId) return undefined;
    throw err;
  }
}
