/**
 * The schedule of `RotatingAccessKey` (the `keyage/pulumi` component): which of its two key slots an
 * update replaces, decided from `now` and the user's live keys alone. Pure: no Pulumi, no AWS.
 *
 * ## Why the live keys
 *
 * "Never replace both slots in one update" cannot be a function of `now` alone: between two updates far
 * enough apart, any two schedules that each change over time have both changed. Something from the
 * previous deployment is needed, and a Pulumi program cannot read its own previous state. What it can
 * read is the user's keys (`iam:ListAccessKeys`, with their creation dates). So each slot's generation
 * (its `replacementTrigger`) is recomputed on every update from the creation date of the key it holds,
 * and a slot is only ever given a new generation on purpose.
 *
 * ## The schedule
 *
 * Time is cut into windows of `windowMs` = (maxAgeDays − warnDays) / 3 days, numbered from the epoch and
 * shifted by {@link CREATION_ALLOWANCE_MS}: window w covers [w·L + δ, (w+1)·L + δ). Slot `a` may be
 * replaced only in even windows, slot `b` only in odd ones; a slot's generation is the number of the
 * window it was last replaced in. So the window of a key's creation date tells its generation — and its
 * slot: the key-to-slot mapping needs no memory either.
 *
 * In its window, the slot whose turn it is (T) is replaced at the first update where:
 * - T's key is from an earlier window (stale), and is the older of the two keys;
 * - the other slot's key (the current one, O) is at least `halfPeriodMs` old;
 * - now is at least δ before the window's end (so the new key's creation date, up to δ later, still
 *   falls in this window).
 * A slot with no key is created at once, with the generation of its latest window; T is then left alone
 * until the new key is old enough. Nothing else changes a generation.
 *
 * ## Promises, and why they hold (L = windowMs, P = periodMs = L − δ, H = halfPeriodMs = P/2 − 1 s)
 *
 * With `pulumi up` at least every H (gaps ≤ H):
 * 1. One update never replaces both slots: only T can be replaced; a created slot is not a replacement,
 *    and T is never replaced while the other slot is being created.
 * 2. The key deleted is always the older one, `previous`, and only once `current` is ≥ H old. So
 *    `previous` stays valid at least H = P/2 after `current` changed (also after a pause).
 * 3. Every key is younger than 3L ≤ maxAgeDays − warnDays at every moment (so neither the limit nor the
 *    warning window is ever reached). Proof: O was created in window w−1 before w·L + δ − 1 s (turn
 *    replacements stop δ before a window's end; creation lags less than δ − 1 s). T becomes due at
 *    x = max(w·L + δ, createDate(O) + H + 1 s) < w·L + δ + H, and the first update at or after x comes
 *    less than H after it: before w·L + δ + 2H < (w+1)·L, inside T's window and before its last δ. T's
 *    old key was created in window w−2, at or after (w−2)·L + δ; it is deleted before (w+1)·L: younger
 *    than 3L − δ. Keys of the first update (window w) are replaced in window w+1 or w+2, the same way.
 * 4. Same `now`, same keys → same plan (it is a function of nothing else).
 *
 * After a pause (gap > H), the next update in a window whose slot holds the older key replaces that slot
 * only; the other slot follows in its own window, once the new key is H old.
 */
import { KeyageError } from "./errors";
import { validateParams } from "./params";
import { DAY_MS, parseTimestamp } from "./time";

/** Pulumi type token of the `RotatingAccessKey` component: the parent of its two keys. */
export const ROTATING_ACCESS_KEY_TYPE = "keyage:index:RotatingAccessKey";

/**
 * How long after the update's clock reading (`now`) the key itself may be created (δ): one hour. A
 * window's last hour starts no replacement, so a key's creation date lands in the window it was planned in.
 */
export const CREATION_ALLOWANCE_MS = 3_600_000;

/**
 * IAM's creation dates have whole seconds: a key's real creation is up to this much after its
 * `createDate`. Ages and windows read from a `createDate` allow for it.
 */
export const CREATE_DATE_RESOLUTION_MS = 1000;

/** The two slots. */
export type SlotName = "a" | "b";

/** One of the user's keys as IAM lists it (`iam:ListAccessKeys`). */
export interface LiveKey {
  readonly accessKeyId: string;
  /** RFC 3339 (as IAM and @pulumi/aws give it) or epoch ms. */
  readonly createDate: string | number;
  readonly status?: string;
}

/** Raised when the user's keys cannot be two slots of one RotatingAccessKey. */
export class RotatingKeyError extends KeyageError {}

/** The timing derived from maxAgeDays and warnDays (all in ms). */
export interface RotationTiming {
  readonly maxAgeDays: number;
  readonly warnDays: number;
  /** L = floor((maxAgeDays − warnDays) × 1 day / 3). */
  readonly windowMs: number;
  /** P = L − {@link CREATION_ALLOWANCE_MS}: `current` changes about once per P. */
  readonly periodMs: number;
  /**
   * H = P / 2 − 1 s (the second is IAM's date resolution): run `pulumi up` at least this often;
   * `previous` stays valid at least this long.
   */
  readonly halfPeriodMs: number;
}

/**
 * The timing for a limit: window L = (maxAgeDays − warnDays) / 3 days, period P = L − 1 hour, half
 * period H = P/2 − 1 second. Validates both values as the rest of keyage does (maxAgeDays 1–3650, default 30;
 * warnDays 0 to maxAgeDays−1, default 7 or maxAgeDays−1 when smaller).
 *
 * @example rotationTiming(30, 7).halfPeriodMs / 86_400_000 // ≈ 3.81 (days)
 */
export function rotationTiming(maxAgeDays?: unknown, warnDays?: unknown): RotationTiming {
  const params = validateParams({ maxAgeDays, warnDays });
  const windowMs = Math.floor(((params.maxAgeDays - params.warnDays) * DAY_MS) / 3);
  const periodMs = windowMs - CREATION_ALLOWANCE_MS;
  return { maxAgeDays: params.maxAgeDays, warnDays: params.warnDays, windowMs, periodMs, halfPeriodMs: Math.floor(periodMs / 2) - CREATE_DATE_RESOLUTION_MS };
}

/** What an update does to one slot. */
export type SlotAction = "create" | "replace" | "keep";

/** The plan for one slot. */
export interface SlotPlan {
  /** The window number the slot's key belongs to: the AccessKey's `replacementTrigger`. */
  readonly generation: number;
  readonly action: SlotAction;
  /** The key the slot holds before the update, if any. */
  readonly accessKeyId?: string;
  /** Its creation time (epoch ms). */
  readonly createdAt?: number;
}

/** One update's plan. */
export interface SlotSchedule {
  readonly slots: Readonly<Record<SlotName, SlotPlan>>;
  /** The slot holding the newest key after the update. */
  readonly current: SlotName;
  /** The other slot. */
  readonly previous: SlotName;
  /** The slot whose window `now` is in. */
  readonly turn: SlotName;
  /** Why the turn slot is or is not replaced, in words. */
  readonly reason: string;
}

const OTHER: Readonly<Record<SlotName, SlotName>> = { a: "b", b: "a" };

function parityOf(window: number): SlotName {
  return ((window % 2) + 2) % 2 === 0 ? "a" : "b";
}

/** The latest window ≤ `window` that belongs to `slot`. */
function latestWindowOf(slot: SlotName, window: number): number {
  return parityOf(window) === slot ? window : window - 1;
}

function windowOf(t: number, timing: RotationTiming): number {
  return Math.floor((t - CREATION_ALLOWANCE_MS) / timing.windowMs);
}

/** The window a key was planned in: its real creation is in [createDate, createDate + 1 s), at most δ − 1 s after the plan. */
function keyWindow(createdAt: number, timing: RotationTiming): number {
  return windowOf(createdAt + CREATE_DATE_RESOLUTION_MS, timing);
}

interface Held {
  readonly slot: SlotName;
  readonly key: LiveKey;
  readonly createdAt: number;
  readonly generation: number;
}

function createdAt(key: LiveKey): number {
  const ms = typeof key.createDate === "number" ? key.createDate : parseTimestamp(key.createDate);
  if (ms === undefined || !Number.isFinite(ms)) {
    throw new RotatingKeyError(`RotatingAccessKey: the creation date of access key ending ${key.accessKeyId.slice(-4)} cannot be read: ${JSON.stringify(key.createDate)}`);
  }
  return ms;
}

/**
 * Which slot holds which key. Every key this schedule creates has the creation window of its
 * generation, so a key from an even window is slot a's, from an odd one slot b's. Two keys from windows
 * of the same parity happen only when a slot was (re)created outside its turn (the first update, or a key
 * deleted by hand); the newer is then the off-turn one. Either way each slot's generation comes out as
 * the one it was given.
 */
function assign(keys: readonly LiveKey[], timing: RotationTiming): Held[] {
  const dated = keys.map((key) => ({ key, createdAt: createdAt(key) })).sort((x, y) => x.createdAt - y.createdAt || x.key.accessKeyId.localeCompare(y.key.accessKeyId));
  const [older, newer] = dated;
  if (older === undefined) return [];
  const olderSlot = parityOf(keyWindow(older.createdAt, timing));
  const held: Held[] = [{ slot: olderSlot, ...older, generation: latestWindowOf(olderSlot, keyWindow(older.createdAt, timing)) }];
  if (newer !== undefined) {
    const newerSlot = OTHER[olderSlot];
    held.push({ slot: newerSlot, ...newer, generation: latestWindowOf(newerSlot, keyWindow(newer.createdAt, timing)) });
  }
  return held;
}

function days(ms: number): string {
  return `${(ms / DAY_MS).toFixed(1)} days`;
}

/**
 * Plans one update of a RotatingAccessKey: each slot's generation (its key's `replacementTrigger`) and
 * whether it is kept, created or replaced, and which slot is `current` afterwards. `keys` are all of the
 * user's access keys as IAM lists them; the user must have no keys other than the component's.
 *
 * @throws RotatingKeyError when the user holds more than two keys or a creation date is unreadable.
 * @example
 * planKeySlots({ now: Date.parse("2026-12-03T12:00:00Z"), keys: [], timing: rotationTiming(30, 7) })
 *   // both slots "create"; current is the slot whose window it is
 */
export function planKeySlots(input: { readonly now: number; readonly keys: readonly LiveKey[]; readonly timing: RotationTiming }): SlotSchedule {
  const { now, timing } = input;
  if (input.keys.length > 2) {
    throw new RotatingKeyError(
      `RotatingAccessKey: the user has ${input.keys.length} access keys; IAM allows two, and the component needs both slots to itself. Delete the keys it did not create.`,
    );
  }
  const window = windowOf(now, timing);
  const turn = parityOf(window);
  const other = OTHER[turn];
  const held = new Map(assign(input.keys, timing).map((h) => [h.slot, h] as const));
  const slots: Record<SlotName, SlotPlan> = { a: planFor("a"), b: planFor("b") };

  function planFor(slot: SlotName): SlotPlan {
    const h = held.get(slot);
    if (h === undefined) return { generation: latestWindowOf(slot, window), action: "create" };
    return { generation: h.generation, action: "keep", accessKeyId: h.key.accessKeyId, createdAt: h.createdAt };
  }

  let reason: string;
  const mine = held.get(turn);
  const theirs = held.get(other);
  if (mine === undefined || theirs === undefined) {
    reason = "a slot without a key gets one; nothing is replaced in the same update";
  } else if (mine.generation === window) {
    reason = `slot ${turn} was already replaced in this window`;
  } else if (!isOlder(mine, theirs)) {
    reason = `slot ${turn} holds the newer key; slot ${other} goes first, in its own window`;
  } else if (now - theirs.createdAt < timing.halfPeriodMs + CREATE_DATE_RESOLUTION_MS) {
    reason = `slot ${other}'s key is ${days(now - theirs.createdAt)} old; slot ${turn} waits until it is ${days(timing.halfPeriodMs)} old`;
  } else if (now - CREATION_ALLOWANCE_MS - window * timing.windowMs >= timing.windowMs - CREATION_ALLOWANCE_MS) {
    reason = `the window of slot ${turn} ends within the hour; it waits for its next window`;
  } else {
    slots[turn] = { ...slots[turn], generation: window, action: "replace" };
    reason = `slot ${turn}'s key is ${days(now - mine.createdAt)} old; replaced in its window`;
  }

  const current = currentSlot(slots);
  return { slots, current, previous: OTHER[current], turn, reason };
}

/**
 * Key age order by generation first, creation time second. The two keys of a first update are created
 * seconds apart in no set order; their generations (the turn slot's window, and the one before for the
 * other slot) order them as the schedule intends.
 */
function isOlder(x: Held, y: Held): boolean {
  return x.generation !== y.generation ? x.generation < y.generation : x.createdAt <= y.createdAt;
}

/** The slot with the newest key after the plan: a key made now is newest; then the later generation. */
function currentSlot(slots: Readonly<Record<SlotName, SlotPlan>>): SlotName {
  const made = (p: SlotPlan) => (p.action === "keep" ? 0 : 1);
  if (made(slots.a) !== made(slots.b)) return made(slots.a) > made(slots.b) ? "a" : "b";
  if (slots.a.generation !== slots.b.generation) return slots.a.generation > slots.b.generation ? "a" : "b";
  return (slots.a.createdAt ?? 0) >= (slots.b.createdAt ?? 0) ? "a" : "b";
}
