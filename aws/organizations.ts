/**
 * The organization-wide read of keyage's organization modes: the organization's accounts (Organizations
 * ListAccounts, every page). The role hop into a member account is `sessions.ts`.
 */
import { ListAccountsCommand, type OrganizationsClient } from "@aws-sdk/client-organizations";

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
