// The rotation planner (shared/rotation.ts): every safety promise of `keyage rotate` is a row here, plus
// properties over random observations (never delete an active key, never leave the user without one,
// bad usage never comes with a step, a deletion always waits the grace period after deactivation and use).
import { strict as assert } from "node:assert";
import fc from "fast-check";
import {
  documentKeyId,
  refersTo,
  secretValue,
  deactivatedAt,
  deactivationTag,
  describeStep,
  planRotation,
  wordPlan,
  type RotationDestination,
  type RotationKey,
  type RotationObservation,
  type RotationPhase,
  type RotationPlan,
  type RotationPolicy,
} from "../shared";

const NOW = Date.parse("2026-11-29T12:00:00Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const OLD = "AKIAOLDOLDOLDOLD0001";
const NEW = "AKIANEWNEWNEWNEW0002";
const SPARE = "AKIASPARESPARESPARE3";
const iso = (ms: number): string => new Date(ms).toISOString();

const active = (id: string, createdAgo: number, usedAgo?: number): RotationKey => ({
  id,
  status: "Active",
  created: NOW - createdAgo,
  lastUsed: usedAgo === undefined ? undefined : NOW - usedAgo,
});
const inactive = (id: string, createdAgo: number, usedAgo?: number): RotationKey => ({ ...active(id, createdAgo, usedAgo), status: "Inactive" });
const ALICE = "arn:aws:iam::123456789012:user/alice";
const secret = (holds?: string): RotationDestination => ({ kind: "secret", label: "Secrets Manager secret app/alice", holds });
const file = (extra: Partial<RotationDestination> = {}): RotationDestination => ({ kind: "file", label: "file ./key.json", exists: false, ...extra });
const tagged = (id: string, agoMs: number): Record<string, string> => ({ [deactivationTag(id)]: iso(NOW - agoMs) });

function plan(phase: RotationPhase, keys: RotationKey[], extra: Partial<RotationObservation> = {}, policy: RotationPolicy = {}): RotationPlan {
  return planRotation(phase, { user: "alice", keys, tags: {}, ...extra }, policy, NOW);
}

/** "delete AKIA…", "deactivate AKIA…", "create" — the steps in order. */
const steps = (p: RotationPlan): string[] => p.steps.map((s) => (s.kind === "create" ? "create" : `${s.kind} ${s.key.id}`));

interface Row {
  name: string;
  phase: RotationPhase;
  keys: RotationKey[];
  extra?: Partial<RotationObservation>;
  policy?: RotationPolicy;
  steps: string[];
  refusal?: "refused" | "usage";
  says?: RegExp;
}

const rows: Row[] = [
  // start: bad usage changes nothing, whatever else the plan would do
  {
    name: "start refuses a missing --output directory as bad usage before deleting the inactive key that makes room",
    phase: "start",
    keys: [inactive(SPARE, 100 * DAY, 60 * DAY), active(OLD, 45 * DAY, HOUR)],
    extra: { destinations: [file({ unusable: '--output "./x/key.json": the directory ./x does not exist' })] },
    policy: { deleteInactive: true },
    steps: [],
    refusal: "usage",
    says: /does not exist/,
  },
  {
    name: "start refuses a secret that does not exist as bad usage before anything",
    phase: "start",
    keys: [active(OLD, 45 * DAY, HOUR)],
    extra: { destinations: [{ kind: "secret", label: "Secrets Manager secret nope", unusable: '--secrets-manager: there is no secret "nope"' }] },
    steps: [],
    refusal: "usage",
  },
  {
    name: "start refuses an existing --output file as bad usage before deleting the inactive key",
    phase: "start",
    keys: [inactive(SPARE, 100 * DAY, 60 * DAY), active(OLD, 45 * DAY, HOUR)],
    extra: { destinations: [file({ exists: true })] },
    policy: { deleteInactive: true },
    steps: [],
    refusal: "usage",
    says: /already exists; keyage never overwrites a secret file/,
  },
  { name: "start needs somewhere to deliver the secret", phase: "start", keys: [active(OLD, 45 * DAY)], extra: { destinations: [] }, steps: [], refusal: "usage" },
  { name: "start refuses a user with no keys", phase: "start", keys: [], extra: { destinations: [secret()] }, steps: [], refusal: "refused" },
  // start --secrets-manager: a secret that belongs to someone else is bad usage, before any IAM write
  {
    name: "start refuses a secret bound (keyage:rotate tag) to another user, before deleting the inactive key that makes room",
    phase: "start",
    keys: [inactive(SPARE, 100 * DAY, 60 * DAY), active(OLD, 45 * DAY, HOUR)],
    extra: { userArn: ALICE, destinations: [{ ...secret(), boundTo: "arn:aws:iam::123456789012:user/bob" }] },
    policy: { deleteInactive: true },
    steps: [],
    refusal: "usage",
    says: /^--secrets-manager: Secrets Manager secret app\/alice is bound to another user: its keyage:rotate tag names arn:aws:iam::123456789012:user\/bob, not arn:aws:iam::123456789012:user\/alice \(pass --force to overwrite it anyway\)$/,
  },
  {
    name: "start refuses a secret holding another user's key",
    phase: "start",
    keys: [active(OLD, 45 * DAY, HOUR)],
    extra: { destinations: [secret("AKIABOBBOBBOBBOB0009")] },
    steps: [],
    refusal: "usage",
    says: /holds the key …0009, which is not one of alice's keys/,
  },
  {
    name: "start refuses a secret holding a value that is not a keyage document",
    phase: "start",
    keys: [active(OLD, 45 * DAY, HOUR)],
    extra: { destinations: [{ ...secret(), foreign: true }] },
    steps: [],
    refusal: "usage",
    says: /holds a value that is not a keyage document/,
  },
  {
    name: "start --force stores into such a secret anyway, with a warning",
    phase: "start",
    keys: [active(OLD, 45 * DAY, HOUR)],
    extra: { destinations: [{ ...secret(), foreign: true }] },
    policy: { force: true },
    steps: ["create"],
  },
  { name: "start accepts an untagged secret it was told to use", phase: "start", keys: [active(OLD, 45 * DAY, HOUR)], extra: { destinations: [secret(OLD)] }, steps: ["create"] },
  {
    name: "start accepts a secret bound to this user",
    phase: "start",
    keys: [active(OLD, 45 * DAY, HOUR)],
    extra: { userArn: ALICE, destinations: [{ ...secret(OLD), boundTo: ALICE }] },
    steps: ["create"],
  },
  { name: "start creates a second key next to the only one", phase: "start", keys: [active(OLD, 45 * DAY, HOUR)], extra: { destinations: [secret(OLD)] }, steps: ["create"] },
  {
    name: "start on a re-run after delivery has nothing to do",
    phase: "start",
    keys: [active(OLD, 45 * DAY, HOUR), active(NEW, HOUR)],
    extra: { destinations: [secret(NEW), file({ exists: true, holds: NEW })] },
    steps: [],
    says: /already started/,
  },
  // start --delete-inactive: the wait counts from deactivation
  {
    name: "start without --delete-inactive refuses when the user has two keys",
    phase: "start",
    keys: [inactive(SPARE, 100 * DAY, 60 * DAY), active(OLD, 45 * DAY, HOUR)],
    extra: { destinations: [secret(OLD)] },
    steps: [],
    refusal: "refused",
    says: /or pass --delete-inactive/,
  },
  {
    name: "start --delete-inactive keeps a key keyage deactivated an hour ago, though unused for 60 days",
    phase: "start",
    keys: [inactive(SPARE, 100 * DAY, 60 * DAY), active(OLD, 45 * DAY, HOUR)],
    extra: { destinations: [secret(OLD)], tags: tagged(SPARE, HOUR) },
    policy: { deleteInactive: true },
    steps: [],
    refusal: "refused",
    says: /keyage deactivated it 2026-11-29 11:00 UTC, less than the 7 days grace period ago; try again after 2026-12-06 11:00 UTC/,
  },
  {
    name: "start --delete-inactive deletes a key keyage deactivated 8 days ago, removing its tag, then creates",
    phase: "start",
    keys: [inactive(SPARE, 100 * DAY, 60 * DAY), active(OLD, 45 * DAY, HOUR)],
    extra: { destinations: [secret(OLD)], tags: tagged(SPARE, 8 * DAY) },
    policy: { deleteInactive: true },
    steps: [`delete ${SPARE}`, "create"],
  },
  {
    name: "start --delete-inactive ignores a tag older than the key (left by another key) and falls back to its last use",
    phase: "start",
    keys: [inactive(SPARE, 10 * DAY, 9 * DAY), active(OLD, 45 * DAY, HOUR)],
    extra: { destinations: [secret(OLD)], tags: tagged(SPARE, 20 * DAY) },
    policy: { deleteInactive: true },
    steps: [`delete ${SPARE}`, "create"],
  },
  {
    name: "start --delete-inactive refuses while the remaining active key was never used",
    phase: "start",
    keys: [inactive(SPARE, 100 * DAY, 60 * DAY), active(OLD, 45 * DAY)],
    extra: { destinations: [secret()] },
    policy: { deleteInactive: true },
    steps: [],
    refusal: "refused",
    says: /has never been used, so the switch to it may have failed.*--force/,
  },
  {
    name: "start --delete-inactive --force deletes even so",
    phase: "start",
    keys: [inactive(SPARE, 100 * DAY, 60 * DAY), active(OLD, 45 * DAY)],
    extra: { destinations: [secret()] },
    policy: { deleteInactive: true, force: true },
    steps: [`delete ${SPARE}`, "create"],
  },
  // start with two active keys: never delete one, replace only on positive evidence
  {
    name: "start refuses two active keys when the newer one was used: a rotation is in progress",
    phase: "start",
    keys: [active(OLD, 45 * DAY, HOUR), active(NEW, 2 * DAY, HOUR)],
    extra: { destinations: [secret(OLD)] },
    policy: { replaceUndelivered: true },
    steps: [],
    refusal: "refused",
    says: /finish the rotation in progress first/,
  },
  {
    name: "start --replace-undelivered treats a missing --output file as unknown and replaces nothing",
    phase: "start",
    keys: [active(OLD, 45 * DAY, HOUR), active(NEW, 30 * DAY)],
    extra: { destinations: [file()] },
    policy: { replaceUndelivered: true },
    steps: [],
    refusal: "refused",
    says: /cannot tell whether anything holds its secret \(a missing --output file proves nothing\)/,
  },
  {
    name: "start --replace-undelivered treats an empty secret as unknown and replaces nothing",
    phase: "start",
    keys: [active(OLD, 45 * DAY, HOUR), active(NEW, 30 * DAY)],
    extra: { destinations: [secret(undefined)] },
    policy: { replaceUndelivered: true },
    steps: [],
    refusal: "refused",
  },
  {
    name: "start without --replace-undelivered names the flag when the secret holds the older key",
    phase: "start",
    keys: [active(OLD, 45 * DAY, HOUR), active(NEW, 2 * DAY)],
    extra: { destinations: [secret(OLD)] },
    steps: [],
    refusal: "refused",
    says: /is not in Secrets Manager secret app\/alice \(it holds AKIAOLDOLDOLDOLD0001\).*Re-run with --replace-undelivered to deactivate it/,
  },
  {
    name: "start --replace-undelivered waits until the undelivered key is older than the grace period (24 hours)",
    phase: "start",
    keys: [active(OLD, 45 * DAY, HOUR), active(NEW, 23 * HOUR)],
    extra: { destinations: [secret(OLD)] },
    policy: { replaceUndelivered: true },
    steps: [],
    refusal: "refused",
    says: /not replacing AKIANEWNEWNEWNEW0002: it was created 2026-11-28 13:00 UTC, less than the 24 hours grace period ago/,
  },
  {
    name: "start --replace-undelivered deactivates (never deletes) a day-old key the secret does not hold, and creates nothing yet",
    phase: "start",
    keys: [active(OLD, 45 * DAY, HOUR), active(NEW, 24 * HOUR)],
    extra: { destinations: [secret(OLD)] },
    policy: { replaceUndelivered: true },
    steps: [`deactivate ${NEW}`],
  },
  {
    name: "start --replace-undelivered --grace 1 accepts a 2-hour-old key",
    phase: "start",
    keys: [active(OLD, 45 * DAY, HOUR), active(NEW, 2 * HOUR)],
    extra: { destinations: [secret(OLD)] },
    policy: { replaceUndelivered: true, graceHours: 1 },
    steps: [`deactivate ${NEW}`],
  },
  // finish
  { name: "finish refuses a user with no active key", phase: "finish", keys: [inactive(OLD, 45 * DAY)], steps: [], refusal: "refused" },
  { name: "finish refuses a user with one key", phase: "finish", keys: [active(OLD, 45 * DAY)], steps: [], refusal: "refused", says: /start a rotation first/ },
  {
    name: "finish refuses while the old key was used within 24 hours",
    phase: "finish",
    keys: [active(OLD, 45 * DAY, 2 * HOUR), active(NEW, DAY, HOUR)],
    steps: [],
    refusal: "refused",
    says: /within the 24 hours grace period/,
  },
  { name: "finish deactivates the older key unused for a day", phase: "finish", keys: [active(OLD, 45 * DAY, 25 * HOUR), active(NEW, 2 * DAY, HOUR)], steps: [`deactivate ${OLD}`] },
  {
    name: "finish never deactivates the last active key (a re-run)",
    phase: "finish",
    keys: [inactive(OLD, 45 * DAY, 3 * DAY), active(NEW, 4 * DAY, HOUR)],
    steps: [],
    says: /keyage never deactivates the last one/,
  },
  // cleanup: the wait counts from deactivation
  {
    name: "cleanup right after finish (same minute) keeps the key finish deactivated",
    phase: "cleanup",
    keys: [inactive(OLD, 45 * DAY, 8 * DAY), active(NEW, 9 * DAY, HOUR)],
    extra: { tags: tagged(OLD, 60_000) },
    steps: [],
    refusal: "refused",
    says: /not deleting AKIAOLDOLDOLDOLD0001: keyage deactivated it 2026-11-29 11:59 UTC, less than the 7 days grace period ago; delete it after 2026-12-06 11:59 UTC/,
  },
  {
    name: "cleanup deletes a key keyage deactivated exactly 7 days ago",
    phase: "cleanup",
    keys: [inactive(OLD, 45 * DAY, 8 * DAY), active(NEW, 9 * DAY, HOUR)],
    extra: { tags: tagged(OLD, 7 * DAY) },
    steps: [`delete ${OLD}`],
  },
  {
    name: "cleanup keeps a key keyage deactivated 7 days minus 1 ms ago",
    phase: "cleanup",
    keys: [inactive(OLD, 45 * DAY, 8 * DAY), active(NEW, 9 * DAY, HOUR)],
    extra: { tags: tagged(OLD, 7 * DAY - 1) },
    steps: [],
    refusal: "refused",
  },
  {
    name: "cleanup deletes a key deactivated outside keyage once unused for the grace period",
    phase: "cleanup",
    keys: [inactive(OLD, 45 * DAY, 8 * DAY), active(NEW, 9 * DAY, HOUR)],
    steps: [`delete ${OLD}`],
  },
  {
    name: "cleanup keeps a key deactivated outside keyage and used 2 days ago",
    phase: "cleanup",
    keys: [inactive(OLD, 45 * DAY, 2 * DAY), active(NEW, 9 * DAY, HOUR)],
    steps: [],
    refusal: "refused",
    says: /it was last used 2026-11-27 12:00 UTC, within the 7 days grace period; delete it after 2026-12-04 12:00 UTC/,
  },
  {
    name: "cleanup refuses while the remaining active key has never been used",
    phase: "cleanup",
    keys: [inactive(OLD, 45 * DAY, 30 * DAY), active(NEW, 9 * DAY)],
    steps: [],
    refusal: "refused",
    says: /AKIANEWNEWNEWNEW0002 has never been used, so the switch to it may have failed.*pass --force/,
  },
  {
    name: "cleanup --force deletes even though the remaining active key was never used",
    phase: "cleanup",
    keys: [inactive(OLD, 45 * DAY, 30 * DAY), active(NEW, 9 * DAY)],
    policy: { force: true },
    steps: [`delete ${OLD}`],
  },
  {
    name: "cleanup never deletes from a user without an active key",
    phase: "cleanup",
    keys: [inactive(OLD, 45 * DAY, 30 * DAY)],
    policy: { force: true },
    steps: [],
    refusal: "refused",
  },
  { name: "cleanup has nothing to do without inactive keys", phase: "cleanup", keys: [active(NEW, 9 * DAY, HOUR)], steps: [], says: /Nothing to delete/ },
];

describe("rotation planner: planRotation", () => {
  for (const row of rows) {
    it(row.name, () => {
      const p = plan(row.phase, row.keys, row.extra, row.policy);
      assert.deepEqual(steps(p), row.steps);
      assert.equal(p.refusal?.kind, row.refusal);
      if (row.says) assert.match([p.refusal?.reason ?? "", ...p.notes].join("\n"), row.says);
    });
  }

  it("records when keyage deactivates a key: the user tag keyage:deactivated:<last 4> = now", () => {
    const p = plan("finish", [active(OLD, 45 * DAY, 3 * DAY), active(NEW, 4 * DAY, HOUR)]);
    const step = p.steps[0];
    assert.equal(step?.kind, "deactivate");
    assert.deepEqual(step.kind === "deactivate" && step.tag, { key: "keyage:deactivated:0001", value: "2026-11-29T12:00:00.000Z" });
  });

  it("removes the deactivation tag with the key it belongs to", () => {
    const p = plan("cleanup", [inactive(OLD, 45 * DAY, 8 * DAY), active(NEW, 9 * DAY, HOUR)], { tags: tagged(OLD, 8 * DAY) });
    assert.deepEqual(p.steps[0]?.kind === "delete" && p.steps[0].untag, "keyage:deactivated:0001");
  });

  it("reads a deactivation tag only for an inactive key created before it", () => {
    const tags = tagged(OLD, DAY);
    assert.equal(deactivatedAt(inactive(OLD, 2 * DAY), tags), NOW - DAY);
    assert.equal(deactivatedAt(active(OLD, 2 * DAY), tags), undefined);
    assert.equal(deactivatedAt(inactive(OLD, HOUR), tags), undefined);
    assert.equal(deactivatedAt(inactive(OLD, 2 * DAY), { [deactivationTag(OLD)]: "garbage" }), undefined);
  });

  it("finish prints the command that re-evaluates the Config rule, with the deploy program's rule name by default", () => {
    const keys = [active(OLD, 45 * DAY, 3 * DAY), active(NEW, 4 * DAY, HOUR)];
    assert.equal(plan("finish", keys).reevaluate, "aws configservice start-config-rules-evaluation --config-rule-names keyage-access-key-age");
    assert.equal(plan("finish", keys, {}, { configRuleName: "team-keys" }).reevaluate, "aws configservice start-config-rules-evaluation --config-rule-names team-keys");
    assert.match(wordPlan(plan("finish", keys)).join("\n"), /^Re-evaluate the AWS Config rule now .*: aws configservice start-config-rules-evaluation --config-rule-names keyage-access-key-age$/m);
  });

  it("warns, on stderr, when finish deactivates the old key while the new one was never used", () => {
    assert.deepEqual(plan("finish", [active(OLD, 45 * DAY, 3 * DAY), active(NEW, 4 * DAY)]).warnings, [
      `the new key ${NEW} has not been used yet; anything still holding ${OLD} fails once it is inactive`,
    ]);
  });
});

describe("rotation planner: wordPlan and describeStep", () => {
  it("words a dry run: each note and step prefixed, then the next step", () => {
    const p = plan("start", [inactive(SPARE, 100 * DAY, 60 * DAY), active(OLD, 45 * DAY, HOUR)], { destinations: [file(), secret(OLD)] }, { deleteInactive: true });
    assert.deepEqual(wordPlan(p), [
      `[dry run] Would delete the inactive key ${SPARE} to make room (unused since 2026-09-30 12:00 UTC).`,
      "[dry run] Would create a new access key for alice and deliver it to file ./key.json and Secrets Manager secret app/alice.",
      "Next: after --apply: switch the application to the new key, then run keyage rotate finish --user alice --apply.",
    ]);
  });

  it("words a refused plan without a next step", () => {
    const p = plan("cleanup", [inactive(OLD, 45 * DAY, 2 * DAY), active(NEW, 9 * DAY, HOUR)]);
    assert.deepEqual(wordPlan(p), []);
  });

  it("words what was done in the past tense", () => {
    const p = plan("finish", [active(OLD, 45 * DAY, 3 * DAY), active(NEW, 4 * DAY, HOUR)]);
    assert.equal(describeStep(p.steps[0] as RotationPlan["steps"][number], "alice", true), `Deactivated ${OLD} (unused since 2026-11-26 12:00 UTC); ${NEW} stays active.`);
  });
});

describe("rotation planner: properties over random observations", () => {
  const idArb = fc.constantFrom("AKIAAAAAAAAAAAAA0001", "AKIABBBBBBBBBBBB0002", "AKIACCCCCCCCCCCC0003");
  const hours = (max: number) => fc.integer({ min: 0, max: max * HOUR });
  const keyArb = fc.record({
    id: idArb,
    status: fc.constantFrom<"Active" | "Inactive">("Active", "Inactive"),
    created: hours(2000).map((h) => NOW - h),
    lastUsed: fc.option(hours(400).map((h) => NOW - h), { nil: undefined }),
  });
  const keysArb = fc.uniqueArray(keyArb, { maxLength: 2, selector: (k) => k.id }).map((ks) => ks.map((k) => ({ ...k, lastUsed: k.lastUsed === undefined ? undefined : Math.max(k.lastUsed, k.created) })));
  const tagsArb = fc.dictionary(idArb.map(deactivationTag), hours(400).map((h) => iso(NOW - h)), { maxKeys: 3 });
  const destArb: fc.Arbitrary<RotationDestination[]> = fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant<"secret">("secret"), label: fc.constant("Secrets Manager secret s"), holds: fc.option(idArb, { nil: undefined }) }),
      fc.record({ kind: fc.constant<"file">("file"), label: fc.constant("file f"), exists: fc.boolean(), holds: fc.option(idArb, { nil: undefined }) }),
      fc.record({ kind: fc.constant<"file">("file"), label: fc.constant("file f"), unusable: fc.constant("no directory") }),
      fc.constant<RotationDestination>({ kind: "stdout", label: "stdout" }),
    ),
    { maxLength: 3 },
  );
  const policyArb = fc.record({
    graceHours: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
    deleteInactive: fc.boolean(),
    replaceUndelivered: fc.boolean(),
    force: fc.boolean(),
  });
  const phaseArb = fc.constantFrom<RotationPhase>("start", "finish", "cleanup");

  it("never deletes an active key, never deactivates the last active key, and bad usage comes with no step", () => {
    fc.assert(
      fc.property(phaseArb, keysArb, tagsArb, destArb, policyArb, (phase, keys, tags, destinations, policy) => {
        const p = planRotation(phase, { user: "alice", keys, tags, destinations }, policy, NOW);
        for (const s of p.steps) if (s.kind === "delete") assert.equal(s.key.status, "Inactive");
        const deactivated = new Set(p.steps.flatMap((s) => (s.kind === "deactivate" ? [s.key.id] : [])));
        const activeIds = keys.filter((k) => k.status === "Active").map((k) => k.id);
        if (deactivated.size > 0) assert.ok(activeIds.some((id) => !deactivated.has(id)), "an active key remains");
        if (p.refusal?.kind === "usage") assert.deepEqual(p.steps, []);
        if (destinations.some((d) => d.unusable !== undefined) && phase === "start") assert.equal(p.refusal?.kind, "usage");
      }),
    );
  });

  it("deletes only once the grace period has passed since keyage deactivated the key and since its last use", () => {
    fc.assert(
      fc.property(phaseArb, keysArb, tagsArb, policyArb, (phase, keys, tags, policy) => {
        const p = planRotation(phase, { user: "alice", keys, tags, destinations: [{ kind: "stdout", label: "stdout" }] }, policy, NOW);
        for (const s of p.steps) {
          if (s.kind !== "delete") continue;
          const graceMs = (policy.graceHours ?? 168) * HOUR;
          const since = Math.max(deactivatedAt(s.key, tags) ?? -Infinity, s.key.lastUsed ?? -Infinity);
          assert.ok(NOW - since >= graceMs, `${s.key.id} deleted ${NOW - since} ms after deactivation or use`);
        }
      }),
    );
  });
});

describe("what a secret holds, and which SecretIds name it", () => {
  const table: [string | undefined, string][] = [
    [undefined, "empty"],
    ["", "empty"],
    ["{}", "empty"],
    [JSON.stringify({ AccessKeyId: OLD, SecretAccessKey: "s" }), `keyage ${OLD}`],
    [JSON.stringify({ AccessKeyId: "ASIAOLDOLDOLDOLD0001", SecretAccessKey: "s" }), "keyage ASIAOLDOLDOLDOLD0001"],
    [JSON.stringify({ username: "app", password: "p" }), "foreign"],
    [JSON.stringify({ AccessKeyId: "my-password", SecretAccessKey: "s" }), "foreign"],
    [JSON.stringify({ AccessKeyId: "akiaoldoldoldold0001", SecretAccessKey: "s" }), "foreign"],
    [JSON.stringify({ AccessKeyId: OLD }), "foreign"],
    [JSON.stringify({ AccessKeyId: OLD, SecretAccessKey: "s", region: "eu-west-1" }), "foreign"],
    ["[1]", "foreign"],
    ["plain text", "foreign"],
  ];
  for (const [text, kind] of table) {
    it(`${JSON.stringify(text)} is ${kind.split(" ")[0]}`, () => {
      const v = secretValue(text);
      assert.equal(v.kind === "keyage" ? `keyage ${v.keyId}` : v.kind, kind);
      assert.equal(documentKeyId(text), v.kind === "keyage" ? v.keyId : undefined);
    });
  }

  const s = { arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/alice-AbCdEf", name: "app/alice" };
  const ids: [string, boolean][] = [
    ["app/alice", true],
    ["APP/Alice", true],
    [s.arn, true],
    ["arn:aws:secretsmanager:us-east-1:123456789012:secret:app/alice", true],
    [" app/alice ", true],
    ["app/alice-AbCdEf", false],
    ["app/alice2", false],
    ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/alice", false],
    ["", false],
  ];
  for (const [id, same] of ids) {
    it(`${JSON.stringify(id)} ${same ? "names" : "does not name"} app/alice`, () => assert.equal(refersTo(id, s), same));
  }
});
