// The scheduled mode of the rotation planner (shared/rotation.ts, phase "scheduled"): every promise of the
// scheduled rotator is a row here (rotate when due, deactivate once the new key is used and the old one is
// not, delete after cleanupDays, never more than two keys, never delete an active key, finish or undo a
// half-done step from IAM and the secret alone), plus properties over random observations.
import { strict as assert } from "node:assert";
import fc from "fast-check";
import {
  createdAt,
  createdTag,
  deactivatedAt,
  deactivationTag,
  planRotation,
  wordPlan,
  type RotationDestination,
  type RotationKey,
  type RotationObservation,
  type RotationPlan,
  type RotationPolicy,
} from "../shared";

const NOW = Date.parse("2026-11-29T12:00:00Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const OLD = "AKIAOLDOLDOLDOLD0001";
const NEW = "AKIANEWNEWNEWNEW0002";
const iso = (ms: number): string => new Date(ms).toISOString();
const POLICY: RotationPolicy = { schedule: { maxAgeDays: 30, warnDays: 7, cleanupDays: 7 } };

const active = (id: string, createdAgo: number, usedAgo?: number): RotationKey => ({
  id,
  status: "Active",
  created: NOW - createdAgo,
  lastUsed: usedAgo === undefined ? undefined : NOW - usedAgo,
});
const inactive = (id: string, createdAgo: number, usedAgo?: number): RotationKey => ({ ...active(id, createdAgo, usedAgo), status: "Inactive" });
const ALICE = "arn:aws:iam::123456789012:user/alice";
/** alice's secret, bound to her (its keyage:rotate tag is her ARN), holding `holds`. */
const secret = (holds?: string, more: Partial<RotationDestination> = {}): RotationDestination[] => [{ kind: "secret", label: "Secrets Manager secret app/alice", holds, boundTo: ALICE, ...more }];
const tagged = (id: string, agoMs: number): Record<string, string> => ({ [deactivationTag(id)]: iso(NOW - agoMs) });
/** keyage's record that it created `id` (set right after CreateAccessKey). */
const recorded = (id: string, agoMs: number): Record<string, string> => ({ [createdTag(id)]: iso(NOW - agoMs) });
const fiftyTags = (): Record<string, string> => Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`team:${i}`, "x"]));

function plan(keys: RotationKey[], extra: Partial<RotationObservation> = {}, policy: RotationPolicy = POLICY): RotationPlan {
  return planRotation("scheduled", { user: "alice", userArn: ALICE, keys, tags: {}, destinations: secret(keys.find((k) => k.status === "Active")?.id), ...extra }, policy, NOW);
}

const steps = (p: RotationPlan): string[] => p.steps.map((s) => (s.kind === "create" ? "create" : `${s.kind} ${s.key.id}`));

interface Row {
  name: string;
  keys: RotationKey[];
  extra?: Partial<RotationObservation>;
  steps: string[];
  refusal?: "refused" | "usage";
  says?: RegExp;
}

const rows: Row[] = [
  { name: "does nothing while the active key is younger than the limit minus warnDays", keys: [active(OLD, 22 * DAY + 23 * HOUR, HOUR)], steps: [], says: /Nothing due: .* 22 days old; it is rotated from 2026-11-29 13:00 UTC/ },
  { name: "waits while the key is exactly limit minus warnDays old (23 of 30 days: not yet expiring)", keys: [active(OLD, 23 * DAY, HOUR)], steps: [] },
  { name: "rotates the active key once it is expiring (older than 23 of 30 days)", keys: [active(OLD, 23 * DAY + 1000, HOUR)], steps: ["create"] },
  { name: "rotates a key already past the limit", keys: [active(OLD, 45 * DAY, HOUR)], steps: ["create"] },
  {
    name: "blocks, changing nothing, when the secret is missing",
    keys: [active(OLD, 25 * DAY, HOUR)],
    extra: { destinations: [{ kind: "secret", label: "Secrets Manager secret app/alice", unusable: 'there is no secret "app/alice"' }] },
    steps: [],
    refusal: "refused",
    says: /^blocked: there is no secret "app\/alice"$/m,
  },
  { name: "needs a secret at all", keys: [active(OLD, 25 * DAY, HOUR)], extra: { destinations: [] }, steps: [], refusal: "usage", says: /names no Secrets Manager secret/ },
  { name: "waits while the new key in the secret has not been used yet", keys: [active(OLD, 25 * DAY, HOUR), active(NEW, 2 * DAY)], extra: { destinations: secret(NEW) }, steps: [], says: /Waiting: .*has not been used yet/ },
  {
    name: "blocks when the new key is still unused and the old one is past the limit",
    keys: [active(OLD, 31 * DAY, HOUR), active(NEW, 8 * DAY)],
    extra: { destinations: secret(NEW) },
    steps: [],
    refusal: "refused",
    says: /^blocked: .*has not been used yet, and .*0001 is past the limit \(31 days old\)/,
  },
  {
    name: "never deactivates an old key used within the grace period: blocked, old key still in use since …",
    keys: [active(OLD, 25 * DAY, 2 * HOUR), active(NEW, 2 * DAY, HOUR)],
    extra: { destinations: secret(NEW) },
    steps: [],
    refusal: "refused",
    says: /^blocked: old key AKIAOLDOLDOLDOLD0001 still in use since AKIANEWNEWNEWNEW0002 was stored 2026-11-27 12:00 UTC: last used 2026-11-29 10:00 UTC, within the 24 hours grace period/,
  },
  { name: "deactivates the old key once the new one is used and the old one unused for a day", keys: [active(OLD, 25 * DAY, 25 * HOUR), active(NEW, 2 * DAY, HOUR)], extra: { destinations: secret(NEW) }, steps: [`deactivate ${OLD}`] },
  {
    name: "undoes a create that stopped before the secret got the key: the newer key, recorded as keyage's, never used and not in the secret, is deactivated then deleted",
    keys: [active(OLD, 24 * DAY, HOUR), active(NEW, 25 * HOUR)],
    extra: { destinations: secret(OLD), tags: recorded(NEW, 25 * HOUR) },
    steps: [`deactivate ${NEW}`, `delete ${NEW}`],
    says: /starts again/,
  },
  {
    name: "only deactivates (never deletes in the same run) a newer key unused for a day and not in the secret that keyage did not record as its own",
    keys: [active(OLD, 24 * DAY, HOUR), active(NEW, 25 * HOUR)],
    extra: { destinations: secret(OLD) },
    steps: [`deactivate ${NEW}`],
    says: /is deleted after 2026-12-06 12:00 UTC if unused; reactivate it if someone needs it/,
  },
  {
    name: "does not take a record older than the key (an earlier key's, same last four characters) as keyage's",
    keys: [active(OLD, 24 * DAY, HOUR), active(NEW, 25 * HOUR)],
    extra: { destinations: secret(OLD), tags: recorded(NEW, 30 * DAY) },
    steps: [`deactivate ${NEW}`],
  },
  {
    name: "keeps a key it deactivated but did not create for cleanupDays, though never used and not in the secret",
    keys: [active(OLD, 25 * DAY, HOUR), inactive(NEW, 2 * DAY)],
    extra: { tags: tagged(NEW, DAY), destinations: secret(OLD) },
    steps: [],
    refusal: "refused",
    says: /may not be deleted yet \(keyage deactivated it 2026-11-28 12:00 UTC, less than the 7 days grace period ago\)/,
  },
  {
    name: "blocks, writing nothing, a secret with no keyage:rotate tag",
    keys: [active(OLD, 25 * DAY, HOUR)],
    extra: { destinations: secret(OLD, { boundTo: undefined }) },
    steps: [],
    refusal: "refused",
    says: /^blocked: alice's keyage:rotate tag names Secrets Manager secret app\/alice, but that secret has no keyage:rotate tag naming alice/,
  },
  {
    name: "blocks a secret bound to another user (mallory naming the victim's secret)",
    keys: [active(OLD, 25 * DAY, HOUR)],
    extra: { destinations: secret(undefined, { boundTo: "arn:aws:iam::123456789012:user/victim" }) },
    steps: [],
    refusal: "refused",
    says: /^blocked: Secrets Manager secret app\/alice is bound to another user: its keyage:rotate tag names arn:aws:iam::123456789012:user\/victim, not arn:aws:iam::123456789012:user\/alice$/m,
  },
  {
    name: "never echoes a secret tag that is not an IAM user ARN",
    keys: [active(OLD, 25 * DAY, HOUR)],
    extra: { destinations: secret(OLD, { boundTo: "true" }) },
    steps: [],
    refusal: "refused",
    says: /tag names a value that is not an IAM user ARN, not/,
  },
  {
    name: "blocks a bound secret that holds a foreign value",
    keys: [active(OLD, 25 * DAY, HOUR)],
    extra: { destinations: secret(undefined, { foreign: true }) },
    steps: [],
    refusal: "refused",
    says: /holds a value that is not a keyage document/,
  },
  {
    name: "blocks a bound secret that holds a key that is not one of the user's",
    keys: [active(OLD, 25 * DAY, HOUR)],
    extra: { destinations: secret("AKIAOTHEROTHEROTHER9") },
    steps: [],
    refusal: "refused",
    says: /holds the key …HER9, which is not one of alice's keys/,
  },
  {
    name: "blocks a secret another opted-in user resolves to as well",
    keys: [active(OLD, 25 * DAY, HOUR)],
    extra: { destinations: secret(OLD, { sharedWith: ["mallory"] }) },
    steps: [],
    refusal: "refused",
    says: /^blocked: the secret app\/alice is named by mallory too/,
  },
  {
    name: "blocks without the user's ARN (the binding cannot be checked)",
    keys: [active(OLD, 25 * DAY, HOUR)],
    extra: { userArn: undefined },
    steps: [],
    refusal: "refused",
    says: /ARN is unknown/,
  },
  {
    name: "blocks a due rotation when the user has 50 tags: the created record would not fit",
    keys: [active(OLD, 25 * DAY, HOUR)],
    extra: { tags: fiftyTags() },
    steps: [],
    refusal: "refused",
    says: /^blocked: alice has 50 tags \(IAM's maximum is 50\), so keyage cannot record the new key it creates/,
  },
  {
    name: "blocks a due deactivation when the user has 50 tags",
    keys: [active(OLD, 25 * DAY, 25 * HOUR), active(NEW, 2 * DAY, HOUR)],
    extra: { destinations: secret(NEW), tags: fiftyTags() },
    steps: [],
    refusal: "refused",
    says: /cannot record when it deactivated AKIAOLDOLDOLDOLD0001/,
  },
  { name: "leaves a newer key less than a day old alone: another run may still be storing it", keys: [active(OLD, 24 * DAY, HOUR), active(NEW, 2 * HOUR)], extra: { destinations: secret(OLD) }, steps: [], says: /Waiting: .* is undone after/ },
  {
    name: "blocks when the secret holds the older key and the newer one is in use (not a key keyage made)",
    keys: [active(OLD, 24 * DAY, HOUR), active(NEW, 3 * DAY, HOUR)],
    extra: { destinations: secret(OLD) },
    steps: [],
    refusal: "refused",
    says: /^blocked: alice has two active keys/,
  },
  { name: "blocks when the secret holds neither active key", keys: [active(OLD, 24 * DAY, HOUR), active(NEW, 3 * DAY, HOUR)], extra: { destinations: secret() }, steps: [], refusal: "refused", says: /holds no keyage key/ },
  {
    name: "keeps a key keyage deactivated less than cleanupDays ago",
    keys: [inactive(OLD, 30 * DAY, 4 * DAY), active(NEW, 5 * DAY, HOUR)],
    extra: { tags: tagged(OLD, 3 * DAY) },
    steps: [],
    says: /is deleted after 2026-12-03 12:00 UTC/,
  },
  { name: "deletes a key cleanupDays after keyage deactivated it", keys: [inactive(OLD, 33 * DAY, 9 * DAY), active(NEW, 10 * DAY, HOUR)], extra: { tags: tagged(OLD, 8 * DAY) }, steps: [`delete ${OLD}`] },
  { name: "keeps a deactivated key used after its deactivation until unused for cleanupDays", keys: [inactive(OLD, 33 * DAY, 2 * DAY), active(NEW, 10 * DAY, HOUR)], extra: { tags: tagged(OLD, 8 * DAY) }, steps: [] },
  { name: "leaves an inactive key keyage did not deactivate alone while no rotation needs its slot", keys: [inactive(OLD, 90 * DAY, 30 * DAY), active(NEW, 10 * DAY, HOUR)], steps: [] },
  { name: "deletes an inactive key unused for cleanupDays to make room for a due rotation (never a third key)", keys: [inactive(OLD, 90 * DAY, 30 * DAY), active(NEW, 24 * DAY, HOUR)], steps: [`delete ${OLD}`, "create"] },
  {
    name: "blocks a due rotation when the user has two keys and the inactive one may not be deleted yet",
    keys: [inactive(OLD, 50 * DAY, 3 * DAY), active(NEW, 24 * DAY, HOUR)],
    extra: { tags: tagged(OLD, 2 * DAY) },
    steps: [],
    refusal: "refused",
    says: /^blocked: alice already has two keys \(IAM's maximum\)/,
  },
  {
    name: "keeps the way back: no deletion while the remaining active key was never used and the inactive one was",
    keys: [inactive(OLD, 50 * DAY, 9 * DAY), active(NEW, 24 * DAY)],
    extra: { tags: tagged(OLD, 8 * DAY) },
    steps: [],
    refusal: "refused",
    says: /switch to it may have failed/,
  },
  {
    name: "deletes at once a key it created and undid, never used and never in the secret (a run stopped between deactivating and deleting it)",
    keys: [active(OLD, 25 * DAY, HOUR), inactive(NEW, 2 * DAY)],
    extra: { tags: { ...tagged(NEW, DAY), ...recorded(NEW, 2 * DAY) }, destinations: secret(OLD) },
    steps: [`delete ${NEW}`, "create"],
  },
  {
    name: "keeps an old key it deactivated for cleanupDays even when nothing ever used it",
    keys: [inactive(OLD, 27 * DAY), active(NEW, 3 * DAY, HOUR)],
    extra: { tags: tagged(OLD, 2 * DAY), destinations: secret(NEW) },
    steps: [],
  },
  { name: "has nothing to do for a user without keys", keys: [], steps: [], says: /no access keys/ },
  { name: "blocks on a user whose only key is inactive", keys: [inactive(OLD, 50 * DAY, 9 * DAY)], steps: [], refusal: "refused", says: /has no active key/ },
];

describe("rotation planner, scheduled mode", () => {
  for (const row of rows) {
    it(row.name, () => {
      const p = plan(row.keys, row.extra);
      assert.deepEqual(steps(p), row.steps);
      assert.equal(p.refusal?.kind, row.refusal);
      if (row.says) assert.match([p.refusal?.reason ?? "", ...p.notes, p.next ?? ""].join("\n"), row.says);
    });
  }

  it("stores the new key in the user's secret, replacing the active one", () => {
    const step = plan([active(OLD, 25 * DAY, HOUR)]).steps[0];
    assert.ok(step?.kind === "create");
    assert.deepEqual(step.destinations.map((d) => d.label), ["Secrets Manager secret app/alice"]);
    assert.deepEqual(step.replacing, [OLD]);
  });

  it("removes deactivation tags that match no key any more (a run stopped between deleting a key and untagging)", () => {
    const p = plan([active(NEW, 5 * DAY, HOUR)], { tags: { ...tagged(OLD, 9 * DAY), "keyage:rotate": "secretsmanager:app/alice" } });
    assert.deepEqual(p.untag, ["keyage:deactivated:0001"]);
    assert.deepEqual(p.steps, []);
  });

  it("removes the created record of a key once the secret holds it, and records of keys that are gone", () => {
    const p = plan([active(OLD, 25 * DAY, HOUR), active(NEW, 2 * DAY)], { tags: { ...recorded(NEW, 2 * DAY), [createdTag("AKIAGONEGONEGONEGON9")]: iso(NOW - 9 * DAY) }, destinations: secret(NEW) });
    assert.deepEqual(p.untag, ["keyage:created:0002", "keyage:created:GON9"]);
  });

  it("writes nothing, not even the removal of a stale tag, into the account of a user whose secret is not bound to them", () => {
    const p = plan([active(NEW, 5 * DAY, HOUR)], { tags: tagged(OLD, 9 * DAY), destinations: secret(NEW, { boundTo: undefined }) });
    assert.equal(p.untag, undefined);
    assert.deepEqual(p.steps, []);
  });

  it("rotates on the schedule's own limit: 90 days with 10 days' warning rotates after day 80", () => {
    const policy = { schedule: { maxAgeDays: 90, warnDays: 10 } };
    assert.deepEqual(steps(plan([active(OLD, 79 * DAY, HOUR)], {}, policy)), []);
    assert.deepEqual(steps(plan([active(OLD, 80 * DAY, HOUR)], {}, policy)), []);
    assert.deepEqual(steps(plan([active(OLD, 80 * DAY + HOUR, HOUR)], {}, policy)), ["create"]);
  });

  it("words a scheduled dry run like the CLI's", () => {
    assert.deepEqual(wordPlan(plan([active(OLD, 25 * DAY, HOUR)])).slice(0, 1), ["[dry run] Would create a new access key for alice and deliver it to Secrets Manager secret app/alice."]);
  });
});

describe("rotation planner, scheduled mode: properties over random observations", () => {
  const idArb = fc.constantFrom("AKIAAAAAAAAAAAAA0001", "AKIABBBBBBBBBBBB0002", "AKIACCCCCCCCCCCC0003");
  const hours = (max: number) => fc.integer({ min: 0, max: max * HOUR });
  const keyArb = fc.record({
    id: idArb,
    status: fc.constantFrom<"Active" | "Inactive">("Active", "Inactive"),
    created: hours(2000).map((h) => NOW - h),
    lastUsed: fc.option(hours(400).map((h) => NOW - h), { nil: undefined }),
  });
  const keysArb = fc.uniqueArray(keyArb, { maxLength: 2, selector: (k) => k.id }).map((ks) => ks.map((k) => ({ ...k, lastUsed: k.lastUsed === undefined ? undefined : Math.max(k.lastUsed, k.created) })));
  const tagsArb = fc.dictionary(fc.oneof(idArb.map(deactivationTag), idArb.map(createdTag)), hours(400).map((h) => iso(NOW - h)), { maxKeys: 4 });
  const destArb: fc.Arbitrary<RotationDestination[]> = fc.oneof(
    fc.option(idArb, { nil: undefined }).map((holds): RotationDestination[] => [{ kind: "secret", label: "Secrets Manager secret s", holds, boundTo: ALICE }]),
    fc.constant<RotationDestination[]>([{ kind: "secret", label: "Secrets Manager secret s", unusable: "there is no secret" }]),
  );
  const policyArb = fc.record({
    graceHours: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
    schedule: fc.record({ maxAgeDays: fc.integer({ min: 1, max: 100 }), warnDays: fc.integer({ min: 0, max: 30 }), cleanupDays: fc.integer({ min: 1, max: 30 }) }),
  });

  it("never holds more than two keys, never deletes a key that is active when its step runs, and never leaves the user without the active key it had", () => {
    fc.assert(
      fc.property(keysArb, tagsArb, destArb, policyArb, (keys, tags, destinations, policy) => {
        const p = planRotation("scheduled", { user: "alice", userArn: ALICE, keys, tags, destinations }, policy, NOW);
        const state = new Map<string, string>(keys.map((k) => [k.id, k.status]));
        for (const s of p.steps) {
          if (s.kind === "create") state.set("NEW", "Active");
          else if (s.kind === "deactivate") state.set(s.key.id, "Inactive");
          else {
            assert.equal(state.get(s.key.id), "Inactive", `deleted ${s.key.id} while active`);
            state.delete(s.key.id);
          }
          assert.ok(state.size <= 2, `${state.size} keys`);
        }
        if (keys.some((k) => k.status === "Active")) assert.ok([...state.values()].includes("Active"), "an active key remains");
        if (p.refusal) assert.deepEqual(p.steps, [], "a blocked plan changes nothing");
        if (destinations[0]?.unusable !== undefined) assert.ok(p.refusal?.reason.startsWith("blocked: "));
      }),
    );
  });

  it("writes nothing at all (no step, no tag removal) unless the secret is bound to the user, holds nothing or one of the user's keys, and is named by no one else", () => {
    const bindingArb = fc.record({
      boundTo: fc.constantFrom(undefined, ALICE, "arn:aws:iam::123456789012:user/mallory", "true"),
      foreign: fc.boolean(),
      sharedWith: fc.constantFrom(undefined, ["mallory"]),
      holds: fc.option(fc.constantFrom("AKIAAAAAAAAAAAAA0001", "AKIAOTHEROTHEROTHER9"), { nil: undefined }),
    });
    fc.assert(
      fc.property(keysArb, tagsArb, bindingArb, policyArb, (keys, tags, b, policy) => {
        const dest: RotationDestination = { kind: "secret", label: "Secrets Manager secret s", ...b, holds: b.foreign ? undefined : b.holds };
        const p = planRotation("scheduled", { user: "alice", userArn: ALICE, keys, tags, destinations: [dest] }, policy, NOW);
        const bound = dest.boundTo === ALICE && !dest.foreign && dest.sharedWith === undefined && (dest.holds === undefined || keys.some((k) => k.id === dest.holds));
        if (!bound) {
          assert.deepEqual(p.steps, []);
          assert.equal(p.untag, undefined);
          assert.match(p.refusal?.reason ?? "", /^blocked: /);
        }
      }),
    );
  });

  it("deletes a key only cleanupDays after keyage deactivated it and after its last use, unless nothing ever used it and the secret does not hold it", () => {
    fc.assert(
      fc.property(keysArb, tagsArb, destArb, policyArb, (keys, tags, destinations, policy) => {
        const p = planRotation("scheduled", { user: "alice", userArn: ALICE, keys, tags, destinations }, policy, NOW);
        const deactivatedNow = new Set(p.steps.flatMap((s) => (s.kind === "deactivate" ? [s.key.id] : [])));
        for (const s of p.steps) {
          if (s.kind !== "delete") continue;
          if (deactivatedNow.has(s.key.id)) {
            assert.ok(createdAt(s.key, tags) !== undefined, "undo deletes only a key keyage recorded as its own");
            assert.equal(s.key.lastUsed, undefined);
            assert.notEqual(destinations[0]?.holds, s.key.id, "never undo a key the secret holds");
            continue;
          }
          const newer = keys.some((k) => k.status === "Active" && k.created < s.key.created);
          if (s.key.lastUsed === undefined && newer && deactivatedAt(s.key, tags) !== undefined && createdAt(s.key, tags) !== undefined && destinations[0]?.holds !== s.key.id) continue; // an undone key
          const since = Math.max(deactivatedAt(s.key, tags) ?? -Infinity, s.key.lastUsed ?? -Infinity);
          assert.ok(NOW - since >= policy.schedule.cleanupDays * DAY, `${s.key.id} deleted ${NOW - since} ms after deactivation or use`);
        }
      }),
    );
  });
});
