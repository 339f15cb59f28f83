/**
 * One IAM user's access keys, for rotation: read them with their last use and the user's tags, and act on
 * them (create, deactivate, delete, tag, untag). Shared by the CLI's `keyage rotate` and the scheduled
 * rotator. Errors are the SDK's own (name them with `aws/errors`), except the key read, which throws
 * {@link IamReadError} like every IAM read.
 */
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetUserCommand,
  ListUserTagsCommand,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
  type IAMClient,
} from "@aws-sdk/client-iam";
import type { RotationKey } from "../shared";
import { CallCounter } from "./calls";
import { describeError, IamReadError, isNoSuchEntity } from "./errors";
import { IAM_MAX_ITEMS, listAccessKeys } from "./iam";
import { getLastUse } from "./usage";

/** A user's keys and tags, as the rotation planner reads them. */
export interface KeysAndTags {
  readonly keys: RotationKey[];
  readonly tags: Record<string, string>;
}

/**
 * Reads `userName`'s access keys (ListAccessKeys), when each was last used (GetAccessKeyLastUsed) and
 * the user's tags (ListUserTags). Returns `undefined` when there is no such user; throws
 * {@link IamReadError} (with the SDK error as `cause`) for any other failure.
 *
 * @example
 * const found = await readUserKeys(new IAMClient({}), "alice");
 * if (found) planRotation("finish", { user: "alice", ...found }, {}, Date.now());
 */
export async function readUserKeys(iam: IAMClient, userName: string, calls: CallCounter = new CallCounter()): Promise<KeysAndTags | undefined> {
  const [listed, tags] = await Promise.all([listAccessKeys(iam, userName, calls), listUserTags(iam, userName, calls)]);
  if (listed === undefined || tags === undefined) return undefined;
  const keys = await Promise.all(
    listed.map(async (k): Promise<RotationKey> => {
      const id = k.accessKeyId as string;
      const used = await getLastUse(iam, id, calls);
      const created = Date.parse(k.createDate);
      return {
        id,
        status: k.status,
        created: Number.isFinite(created) ? created : 0,
        lastUsed: used.date === null ? undefined : Date.parse(used.date),
        lastService: used.service,
      };
    }),
  );
  return { keys, tags };
}

/** The user's tags (ListUserTags, following Marker); `undefined` when there is no such user. */
export async function listUserTags(iam: IAMClient, userName: string, calls: CallCounter = new CallCounter()): Promise<Record<string, string> | undefined> {
  const tags: Record<string, string> = {};
  let marker: string | undefined;
  do {
    calls.add("ListUserTags");
    let page;
    try {
      page = await iam.send(new ListUserTagsCommand({ UserName: userName, MaxItems: IAM_MAX_ITEMS, Marker: marker }));
    } catch (cause) {
      if (isNoSuchEntity(cause)) return undefined;
      throw new IamReadError(`ListUserTags for user ${JSON.stringify(userName)} failed: ${describeError(cause)}`, { cause });
    }
    for (const t of page?.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? "";
    marker = page?.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return tags;
}

/** The user's ARN (GetUser); `undefined` when there is no such user. */
export async function getUserArn(iam: IAMClient, userName: string): Promise<string | undefined> {
  try {
    return (await iam.send(new GetUserCommand({ UserName: userName })))?.User?.Arn;
  } catch (err) {
    if (isNoSuchEntity(err)) return undefined;
    throw err;
  }
}

/** A new key and its secret, as CreateAccessKey returned them. */
export interface NewKey {
  readonly id: string;
  readonly secret: string;
  /** Creation time (epoch ms) as IAM reported it, when it did. */
  readonly created?: number;
}

/** CreateAccessKey for `userName`. Throws the SDK's error, or an Error when IAM returned no key. */
export async function createAccessKey(iam: IAMClient, userName: string): Promise<NewKey> {
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: userName })))?.AccessKey;
  if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error("iam:CreateAccessKey returned no key");
  const created = key.CreateDate ? new Date(key.CreateDate).getTime() : NaN;
  return { id: key.AccessKeyId, secret: key.SecretAccessKey, created: Number.isFinite(created) ? created : undefined };
}

/** UpdateAccessKey to `Inactive` (or back to `Active`). */
export async function setAccessKeyStatus(iam: IAMClient, userName: string, keyId: string, status: "Active" | "Inactive"): Promise<void> {
  await iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: keyId, Status: status }));
}

/** DeleteAccessKey. */
export async function deleteAccessKey(iam: IAMClient, userName: string, keyId: string): Promise<void> {
  await iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: keyId }));
}

/** TagUser with one tag. */
export async function tagUser(iam: IAMClient, userName: string, key: string, value: string): Promise<void> {
  await iam.send(new TagUserCommand({ UserName: userName, Tags: [{ Key: key, Value: value }] }));
}

/** UntagUser for one tag key. */
export async function untagUser(iam: IAMClient, userName: string, key: string): Promise<void> {
  await iam.send(new UntagUserCommand({ UserName: userName, TagKeys: [key] }));
}
