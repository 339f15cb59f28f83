/**
 * The events the rotator publishes (EventBridge, source `keyage`). Pure: built from what a run found.
 * A detail names a key only by the last four characters of its id, and never holds a secret.
 */
import type { PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";

/** The `source` of every keyage event. */
export const EVENT_SOURCE = "keyage";

/** Every detail-type keyage publishes. */
export const DETAIL_TYPES = {
  expiring: "Access Key Expiring",
  expired: "Access Key Expired",
  rotated: "Access Key Rotated",
  deactivated: "Access Key Deactivated",
  deleted: "Access Key Deleted",
  blocked: "Rotation Blocked",
  /** Only with `maxUnusedDays` set: an active key neither used nor created within it (rotation does not fix that). */
  unused: "Access Key Unused",
} as const;
export type DetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];

/** An event's `detail`. */
export interface KeyEventDetail {
  /** AWS account id. */
  readonly account: string;
  readonly user: string;
  /** Last four characters of the key's id (absent when only its credential-report slot is known). */
  readonly accessKeyIdSuffix?: string;
  /** Credential-report slot (1 or 2), when the id is not known. */
  readonly slot?: number;
  /** Whole days since the key was created. */
  readonly ageDays?: number;
  /** The limit, in days. */
  readonly maxAgeDays: number;
  /** Whole days until the key is past the limit (0 once it is). */
  readonly daysLeft?: number;
  /** Access Key Unused: the unused-key limit, in days. */
  readonly maxUnusedDays?: number;
  /** Access Key Unused: whole days since the later of the key's creation and its last use. */
  readonly unusedDays?: number;
  /** Access Key Unused: the key's last use (ISO 8601 UTC), or null when it was never used. */
  readonly lastUsedDate?: string | null;
  /** The user's `keyage:owner` tag. */
  readonly owner?: string;
  /** True when the user opted in to scheduled rotation (`keyage:rotate`). */
  readonly rotation: boolean;
  /** Rotated: the new key's last four characters. */
  readonly newAccessKeyIdSuffix?: string;
  /** Rotation Blocked, and the steps: why, in words. */
  readonly reason?: string;
}

const DAY_MS = 86_400_000;

/** The last four characters of a key id. */
export function keySuffix(id: string): string {
  return id.slice(-4);
}

/** Age and days left of a key created at `created` (epoch ms), at `now`, for a `maxAgeDays` limit. */
export function keyAge(created: number, now: number, maxAgeDays: number): { ageDays: number; daysLeft: number } {
  const ageMs = Math.max(0, now - created);
  return { ageDays: Math.floor(ageMs / DAY_MS), daysLeft: Math.max(0, Math.ceil((maxAgeDays * DAY_MS - ageMs) / DAY_MS)) };
}

/** One PutEvents entry. */
export function eventEntry(type: DetailType, detail: KeyEventDetail, resource?: string): PutEventsRequestEntry {
  return { Source: EVENT_SOURCE, DetailType: type, Detail: JSON.stringify(detail), Resources: resource ? [resource] : undefined };
}
