/**
 * Every IAM user with their tags in one bulk read: GetAccountAuthorizationDetails with `Filter=["User"]`
 * returns up to 1,000 users a page, each with its `Tags` (ListUsers returns no tags, and ListUserTags is
 * one call per user). Used by the scheduled rotator to find who opted in, at ⌈users / 1000⌉ calls.
 */
import { GetAccountAuthorizationDetailsCommand, type IAMClient } from "@aws-sdk/client-iam";
import { CallCounter } from "./calls";
import { IAM_MAX_ITEMS } from "./iam";

/** An IAM user and their tags. */
export interface TaggedUser {
  readonly user: string;
  readonly userId: string;
  readonly arn: string;
  /** Creation time, RFC 3339. */
  readonly createDate: string;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Lists every user with tags (GetAccountAuthorizationDetails, Filter User, MaxItems 1000, following
 * Marker; IAM may return fewer with IsTruncated). Stops early with `complete: false` when `timeLeft()`
 * turns false. Errors are the SDK's own.
 *
 * @example
 * const { users } = await listTaggedUsers(new IAMClient({}));
 * const optedIn = users.filter((u) => u.tags["keyage:rotate"] !== undefined);
 */
export async function listTaggedUsers(
  iam: IAMClient,
  calls: CallCounter = new CallCounter(),
  timeLeft: () => boolean = () => true,
): Promise<{ users: TaggedUser[]; complete: boolean }> {
  const users: TaggedUser[] = [];
  let marker: string | undefined;
  do {
    if (!timeLeft()) return { users, complete: false };
    calls.add("GetAccountAuthorizationDetails");
    const page = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ["User"], MaxItems: IAM_MAX_ITEMS, Marker: marker }));
    for (const u of page.UserDetailList ?? []) {
      if (!u.UserName) continue;
      const tags: Record<string, string> = {};
      for (const t of u.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? "";
      users.push({
        user: u.UserName,
        userId: u.UserId ?? "",
        arn: u.Arn ?? "",
        createDate: u.CreateDate instanceof Date ? u.CreateDate.toISOString() : String(u.CreateDate ?? ""),
        tags,
      });
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return { users, complete: true };
}
