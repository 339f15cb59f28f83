/**
 * The role hop of keyage's organization modes: one assumed-role session in a member account, for the
 * Config rule's reads and writes and for the rotator. Imports only STS, so the Config rule's bundle does
 * not carry Organizations.
 */
import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts";
import { KeyageError } from "../shared";
import { describeError } from "./errors";

/** Temporary credentials, in the shape every SDK v3 client takes as `credentials`. */
export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** A role could not be assumed (missing, not trusting us, denied, or STS failing after retries). */
export class AssumeRoleError extends KeyageError {}

/** Session length: a Lambda runs at most 15 minutes, and this is STS's minimum as well. */
export const SESSION_SECONDS = 900;

/**
 * Assumes `roleArn` for one {@link SESSION_SECONDS} session named `sessionName` (CloudTrail shows it).
 *
 * @throws AssumeRoleError naming the role, with the SDK error as `cause`.
 */
export async function assumeRole(sts: STSClient, roleArn: string, sessionName: string): Promise<SessionCredentials> {
  let creds;
  try {
    creds = (await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: SESSION_SECONDS }))).Credentials;
  } catch (cause) {
    throw new AssumeRoleError(`could not assume ${roleArn}: ${describeError(cause)}`, { cause });
  }
  if (!creds?.AccessKeyId || !creds.SecretAccessKey) throw new AssumeRoleError(`AssumeRole for ${roleArn} returned no credentials`);
  return { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey, sessionToken: creds.SessionToken, expiration: creds.Expiration };
}
