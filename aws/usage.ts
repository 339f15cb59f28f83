/**
 * Keys' last use, read only where it can change a verdict: with `maxUnusedDays` set, a key that could
 * be "unused" ({@link mayBeUnused}) gets one GetAccessKeyLastUsed; every other key costs nothing. Shared by
 * the Config rule, the CLI's live audit and the rotator.
 */
import { GetAccessKeyLastUsedCommand, type IAMClient } from "@aws-sdk/client-iam";
import { mayBeUnused, parseTimestamp, type AccessKey, type RuleParams } from "../shared";
import { CallCounter } from "./calls";
import { describeError, IamReadError, redactKeyIds } from "./errors";

/** A key's last use as GetAccessKeyLastUsed reports it. */
export interface LastUse {
  /** ISO 8601 UTC, or null when the key was never used. */
  readonly date: string | null;
  /** e.g. `s3`; absent when never used. */
  readonly service?: string;
  /** e.g. `eu-west-1`; absent when never used. */
  readonly region?: string;
}

/** GetAccessKeyLastUsed for one key. Throws {@link IamReadError} naming the key by its last four characters. */
export async function getLastUse(iam: IAMClient, accessKeyId: string, calls: CallCounter = new CallCounter()): Promise<LastUse> {
  calls.add("GetAccessKeyLastUsed");
  let used;
  try {
    used = (await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId })))?.AccessKeyLastUsed;
  } catch (cause) {
    throw new IamReadError(`GetAccessKeyLastUsed for ${redactKeyIds(accessKeyId)} failed: ${describeError(cause)}`, { cause });
  }
  if (!used?.LastUsedDate) return { date: null };
  const known = (v: string | undefined): string | undefined => (v && v !== "N/A" ? v : undefined);
  const service = known(used.ServiceName);
  const region = known(used.Region);
  return { date: new Date(used.LastUsedDate).toISOString(), ...(service ? { service } : {}), ...(region ? { region } : {}) };
}

/** The later of a known last use and IAM's answer; null when neither has a date (never used). */
function later(known: string | Date | null | undefined, fromIam: string | null): string | Date | null {
  const x = parseTimestamp(known);
  const y = parseTimestamp(fromIam);
  if (y !== undefined && (x === undefined || y > x)) return fromIam;
  return x !== undefined ? (known as string | Date) : null;
}

/**
 * Fills in the last use of every key (with an id) that could be "unused" at `now`: one
 * GetAccessKeyLastUsed each, `Promise.all` within the user. The answer never moves a known last use
 * back (a credential report's date stays when IAM has no later one). Other keys are returned as they
 * are. With `maxUnusedDays` off, no call at all.
 *
 * @example const keys = await withLastUse(iam, listed, { maxAgeDays: 90, warnDays: 7, maxUnusedDays: 45 }, Date.now());
 */
export async function withLastUse<K extends AccessKey>(
  iam: IAMClient,
  keys: readonly K[],
  params: Pick<RuleParams, "maxAgeDays" | "warnDays" | "maxUnusedDays">,
  now: number,
  calls: CallCounter = new CallCounter(),
): Promise<K[]> {
  return Promise.all(
    keys.map(async (k) => {
      if (!k.accessKeyId || !mayBeUnused(k, params, now)) return k;
      const use = await getLastUse(iam, k.accessKeyId, calls);
      const date = later(k.lastUsedDate, use.date);
      const fresh = date !== k.lastUsedDate && use.date !== null && date === use.date;
      return { ...k, lastUsedDate: date, ...(fresh ? { lastUsedService: use.service, lastUsedRegion: use.region } : {}) };
    }),
  );
}

/**
 * Carries a credential report's last uses over to the same keys read with ListAccessKeys (same creation
 * time to the second, as the report writes it), so a confirmation read does not ask IAM again what the
 * report already said. Keys without a match keep an unknown last use.
 */
export function carryReportedUse<K extends AccessKey>(listed: readonly K[], reported: readonly AccessKey[]): K[] {
  const second = (v: unknown): number | undefined => {
    const ms = parseTimestamp(v);
    return ms === undefined ? undefined : Math.floor(ms / 1000);
  };
  return listed.map((k) => {
    const at = second(k.createDate);
    const match = at === undefined ? undefined : reported.find((r) => second(r.createDate) === at);
    return match === undefined || match.lastUsedDate === undefined ? k : { ...k, lastUsedDate: match.lastUsedDate };
  });
}
