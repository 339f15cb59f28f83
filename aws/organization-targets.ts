/**
 * Where keyage's member roles were rolled out: the accounts of the deployment's organization targets
 * (a StackSet's `OrganizationalUnitIds`). A root id stands for every account; an OU for every account
 * under it, however deep (Organizations ListChildren and ListAccountsForParent, every page); an account
 * id for itself.
 */
import { ListAccountsForParentCommand, ListChildrenCommand, type OrganizationsClient } from "@aws-sdk/client-organizations";
import { KeyageError } from "../shared";
import { describeError } from "./errors";

/** A root id (`r-…`). */
export const ROOT_TARGET = /^r-[0-9a-z]{4,32}$/;
/** An OU id (`ou-…-…`). */
export const OU_TARGET = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
/** An account id. */
export const ACCOUNT_TARGET = /^\d{12}$/;

/** A target could not be walked (e.g. the OU no longer exists, or ListChildren is denied). */
export class OrganizationTargetError extends KeyageError {}

/**
 * The ids of the accounts the targets cover, or `"all"` when a root is among them (or there are no
 * targets: the StackSet then targets the root). Suspended accounts are not filtered here: the caller
 * intersects with the ACTIVE accounts it listed.
 *
 * @example await accountsOfTargets(client, ["ou-ab12-11111111", "444444444444"]) // Set { "222222222222", "444444444444" }
 * @throws OrganizationTargetError naming the target.
 */
export async function accountsOfTargets(client: OrganizationsClient, targets: readonly string[]): Promise<Set<string> | "all"> {
  if (targets.length === 0 || targets.some((t) => ROOT_TARGET.test(t))) return "all";
  const accounts = new Set<string>();
  const seen = new Set<string>();
  for (const target of targets) {
    if (ACCOUNT_TARGET.test(target)) {
      accounts.add(target);
      continue;
    }
    try {
      // Breadth first over the OU tree; `seen` keeps an OU listed twice (nested targets) to one walk.
      const queue = [target];
      while (queue.length > 0) {
        const parent = queue.shift() as string;
        if (seen.has(parent)) continue;
        seen.add(parent);
        for (const id of await pages(client, parent, "accounts")) accounts.add(id);
        queue.push(...(await pages(client, parent, "ous")));
      }
    } catch (err) {
      throw new OrganizationTargetError(`could not list the accounts of organization target ${target}: ${describeError(err)}`, { cause: err });
    }
  }
  return accounts;
}

/** Every page of a parent's accounts or child OUs. */
async function pages(client: OrganizationsClient, parentId: string, what: "accounts" | "ous"): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    if (what === "accounts") {
      const page = await client.send(new ListAccountsForParentCommand({ ParentId: parentId, NextToken: token }));
      for (const a of page.Accounts ?? []) if (a.Id) ids.push(a.Id);
      token = page.NextToken;
    } else {
      const page = await client.send(new ListChildrenCommand({ ParentId: parentId, ChildType: "ORGANIZATIONAL_UNIT", NextToken: token }));
      for (const c of page.Children ?? []) if (c.Id) ids.push(c.Id);
      token = page.NextToken;
    }
  } while (token);
  return ids;
}

/** The management account's id, from an account's Organizations ARN (`arn:…:organizations::<management>:account/o-…/<id>`). */
export function managementAccountOf(accountArn: string | undefined): string | undefined {
  const id = accountArn?.split(":")[4];
  return id && ACCOUNT_TARGET.test(id) ? id : undefined;
}
