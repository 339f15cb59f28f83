// The schedule behind RotatingAccessKey (shared/rotating-key.ts), one decision at a time. The
// year-long simulations through Pulumi's mocks are in rotating-access-key.spec.ts.
import { strict as assert } from "node:assert";
import { CREATION_ALLOWANCE_MS, DAY_MS, planKeySlots, RotatingKeyError, rotationTiming, type LiveKey, type SlotName } from "../shared";

const timing = rotationTiming(30, 7);
const L = timing.windowMs;
const H = timing.halfPeriodMs;
/** The start of window w (its first instant): w·L + δ. */
const windowStart = (w: number) => w * L + CREATION_ALLOWANCE_MS;
const W = 2710; // an even window (slot a's), in 2026

function key(id: string, createdAt: number): LiveKey {
  return { accessKeyId: id, createDate: new Date(createdAt).toISOString(), status: "Active" };
}

interface Row {
  readonly name: string;
  readonly now: number;
  readonly keys: LiveKey[];
  readonly actions: Record<SlotName, "create" | "replace" | "keep">;
  readonly current: SlotName;
  readonly reason?: RegExp;
}

// Slot a's key from window W−2, slot b's from W−1: the steady state at the start of window W.
const steady = [key("AKIAAAAAAAAAAAAAOLD1", windowStart(W - 2) + DAY_MS), key("AKIABBBBBBBBBBBBOLD2", windowStart(W - 1) + DAY_MS)];
// The same, with b's key made late in its window (one day before window W starts).
const late = [key("AKIAAAAAAAAAAAAAOLD1", windowStart(W - 2) + DAY_MS), key("AKIABBBBBBBBBBBBOLD2", windowStart(W) - DAY_MS)];

const rows: Row[] = [
  { name: "the first update creates both slots; current is the slot whose window it is", now: windowStart(W) + 5, keys: [], actions: { a: "create", b: "create" }, current: "a" },
  { name: "the first update in an odd window makes b current", now: windowStart(W + 1) + 5, keys: [], actions: { a: "create", b: "create" }, current: "b" },
  {
    name: "in its window, the slot holding the older key is replaced once the other key is half a period old",
    now: windowStart(W) - DAY_MS + H + 1000,
    keys: late,
    actions: { a: "replace", b: "keep" },
    current: "a",
  },
  {
    name: "not before the other key is half a period old (previous stays valid that long)",
    now: windowStart(W) - DAY_MS + H + 999,
    keys: late,
    actions: { a: "keep", b: "keep" },
    current: "b",
    reason: /waits until it is 3\.8 days old/,
  },
  {
    name: "not in the last hour of its window (the new key's date must fall inside it)",
    now: windowStart(W + 1) - CREATION_ALLOWANCE_MS,
    keys: steady,
    actions: { a: "keep", b: "keep" },
    current: "b",
    reason: /ends within the hour/,
  },
  {
    name: "the hour before that still replaces",
    now: windowStart(W + 1) - CREATION_ALLOWANCE_MS - 1,
    keys: steady,
    actions: { a: "replace", b: "keep" },
    current: "a",
  },
  {
    name: "not when the turn slot holds the newer key (after a pause): the other slot goes first, in its own window",
    now: windowStart(W + 10) + 5,
    keys: [key("AKIAAAAAAAAAAAAAOLD1", windowStart(W - 2) + DAY_MS), key("AKIABBBBBBBBBBBBOLD2", windowStart(W - 3) + DAY_MS)],
    actions: { a: "keep", b: "keep" },
    current: "a",
    reason: /slot a holds the newer key/,
  },
  {
    name: "after a pause, the turn slot holding the older key is replaced, and only it",
    now: windowStart(W + 11) + 5,
    keys: [key("AKIAAAAAAAAAAAAAOLD1", windowStart(W - 2) + DAY_MS), key("AKIABBBBBBBBBBBBOLD2", windowStart(W - 3) + DAY_MS)],
    actions: { a: "keep", b: "replace" },
    current: "b",
  },
  {
    name: "a slot whose key is gone gets one, and nothing is replaced in the same update",
    now: windowStart(W) + 5 * DAY_MS,
    keys: [key("AKIABBBBBBBBBBBBOLD2", windowStart(W - 1) + DAY_MS)],
    actions: { a: "create", b: "keep" },
    current: "a",
  },
  {
    name: "an already renewed slot is kept for the rest of its window",
    now: windowStart(W) + 6 * DAY_MS,
    keys: [key("AKIAAAAAAAAAAAAANEW1", windowStart(W) + 4 * DAY_MS), key("AKIABBBBBBBBBBBBOLD2", windowStart(W - 1) + DAY_MS)],
    actions: { a: "keep", b: "keep" },
    current: "a",
    reason: /already replaced in this window/,
  },
];

describe("RotatingAccessKey's schedule (planKeySlots)", () => {
  it("takes its timing from maxAgeDays − warnDays: windows of (M−W)/3 days, half period (L − 1 hour)/2 − 1 second", () => {
    assert.equal(timing.windowMs, Math.floor((23 * DAY_MS) / 3));
    assert.equal(rotationTiming(90, 14).windowMs, Math.floor((76 * DAY_MS) / 3));
    assert.equal(rotationTiming(1).windowMs, Math.floor(DAY_MS / 3), "maxAgeDays 1 means warnDays 0");
    assert.throws(() => rotationTiming(4000), /maxAgeDays must be a whole number of days from 1 to 3650, got 4000/);
  });

  for (const row of rows) {
    it(row.name, () => {
      const plan = planKeySlots({ now: row.now, keys: row.keys, timing });
      assert.deepEqual({ a: plan.slots.a.action, b: plan.slots.b.action }, row.actions, plan.reason);
      assert.equal(plan.current, row.current);
      assert.equal(plan.previous, row.current === "a" ? "b" : "a");
      if (row.reason) assert.match(plan.reason, row.reason);
    });
  }

  it("recomputes each kept slot's generation from its key's creation date, whichever order IAM lists them in", () => {
    const plan = planKeySlots({ now: windowStart(W - 1) + 2 * DAY_MS, keys: [...steady].reverse(), timing });
    assert.deepEqual([plan.slots.a.generation, plan.slots.b.generation], [W - 2, W - 1]);
    assert.deepEqual([plan.slots.a.accessKeyId, plan.slots.b.accessKeyId], ["AKIAAAAAAAAAAAAAOLD1", "AKIABBBBBBBBBBBBOLD2"]);
  });

  it("gives the two keys of a first update the generations it gave them, in either creation order", () => {
    const first = planKeySlots({ now: windowStart(W) + 5, keys: [], timing });
    for (const order of [
      [key("AKIAFIRSTFIRSTFIRS1", windowStart(W) + 6_000), key("AKIASECONDSECONDSE2", windowStart(W) + 7_000)],
      [key("AKIAFIRSTFIRSTFIRS1", windowStart(W) + 7_000), key("AKIASECONDSECONDSE2", windowStart(W) + 6_000)],
    ]) {
      const next = planKeySlots({ now: windowStart(W) + DAY_MS, keys: order, timing });
      assert.deepEqual([next.slots.a.generation, next.slots.b.generation], [first.slots.a.generation, first.slots.b.generation]);
      assert.deepEqual([next.slots.a.action, next.slots.b.action], ["keep", "keep"]);
    }
  });

  it("refuses a user with more than two keys, and a creation date it cannot read, naming the key by its last four characters", () => {
    assert.throws(() => planKeySlots({ now: windowStart(W), keys: [...steady, key("AKIAEXTRAEXTRAEXTR3", 0)], timing }), RotatingKeyError);
    assert.throws(
      () => planKeySlots({ now: windowStart(W), keys: [{ accessKeyId: "AKIABROKENBROKENBR9", createDate: "2026-02-30T00:00:00Z" }], timing }),
      /the creation date of access key ending NBR9 cannot be read: "2026-02-30T00:00:00Z"/,
    );
  });
});
