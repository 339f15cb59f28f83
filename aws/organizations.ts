/**
 * The organization-wide reads and the role hop of keyage's organization modes: the organization's
 * accounts (Organizations ListAccounts, every page) and one assumed-role session in a member account.
 */
import { ListAccountsCommand, type OrganizationsClient } from "@aws-sdk/client-organizations";
import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts";
import { KeyageError } from "../shared";
import { describeError } from "./errors";

/** An account of the organization. */
export interface OrganizationAccount {
  /** 12 digits. */
  readonly id: string;
  readonly name?: string;
  /** `arn:<partition>:organizations::…:account/o-…/<id>`. */
  readonly arn?: string;
}

/**
 * Every ACTIVE account of the organization, in id order. Suspended, closing and closed accounts are left
 * out: nothing can be changed there. Reads `State` and falls back on the older `Status` field.
 *
 * @example const accounts = await listActiveAccounts(new OrganizationsClient({}));
 */
export async function listActiveAccounts(client: OrganizationsClient): Promise<OrganizationAccount[]> {
  const accounts: OrganizationAccount[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListAccountsCommand({ NextToken: token }));
    for (const a of page.Accounts ?? []) {
      if (!a.Id || (a.State ?? a.Status) !== "ACTIVE") continue;
      accounts.push({ id: a.Id, name: a.Name, arn: a.Arn });
    }
    token = page.NextToken;
  } while (token);
  return accounts.sort((a, b) => a.id.localeCompare(b.id));
}

/** The partition an account lives in, from its Organizations ARN (default `aws`). */
export function partitionOf(account: OrganizationAccount): string {
  return account.arn?.split(":")[1] || "aws";
}

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
