// The scheduled rotator through the real SDK against the local fake IAM, Secrets Manager and EventBridge:
// a simulated 120-day timeline, the dry run, the notifications, every fault, re-runs after a crash at
// each step, and the two-key limit.
import { strict as assert } from "node:assert";
import { parseSettings, RotatorSettingsError } from "../rotator/settings";
import { allSecrets, DAY, HOUR, startWorld, type World } from "./rotator-harness";

const KEY_ID = /\b(?:AKIA|ASIA)[A-Z0-9]{12,}\b/;

/** A consumer of one secret: reads AWSCURRENT every `refreshHours`, and calls AWS with what it holds. */
class Consumer {
  held?: { AccessKeyId: string; SecretAccessKey: string };
  lastRead = -Infinity;
  constructor(
    readonly world: World,
    readonly user: string,
    readonly secret: string,
    readonly refreshHours: number,
  ) {}

  /** Reads the secret when due, then signs a request with the key it holds: the key must work. */
  work(): void {
    const now = this.world.now;
    if (!this.held || now - this.lastRead >= this.refreshHours * HOUR) {
      const text = this.world.sm.value(this.secret);
      assert.ok(text, `${this.secret} holds no value at ${new Date(now).toISOString()}`);
      this.held = JSON.parse(text) as { AccessKeyId: string; SecretAccessKey: string };
      this.lastRead = now;
    }
    const key = this.world.fake.user(this.user).keys.find((k) => k.accessKeyId === this.held?.AccessKeyId);
    assert.ok(key, `${this.user}'s consumer holds a deleted key at ${new Date(now).toISOString()}`);
    assert.equal(key.status, "Active", `${this.user}'s consumer holds an inactive key at ${new Date(now).toISOString()}`);
    assert.equal(key.secretAccessKey, this.held.SecretAccessKey);
    key.lastUsedDate = new Date(now);
    key.lastUsedService = "s3";
    key.lastUsedRegion = "us-east-1";
  }
}

function keyAges(world: World, user: string): number[] {
  return world.fake.user(user).keys.map((k) => Math.floor((world.now - k.createDate.getTime()) / DAY));
}

describe("scheduled rotator: a simulated 120-day timeline", function () {
  this.timeout(120_000);

  it("ends with every opted-in key younger than the limit, while every consumer could read a working key from its secret at every moment", async () => {
    const world = await startWorld();
    try {
      world.optIn("alice", [{ ageDays: 10, lastUsedDate: new Date(world.now - HOUR) }]);
      world.optIn("bob", [{ ageDays: 20, lastUsedDate: new Date(world.now - HOUR) }]);
      world.optIn("carol", [{ ageDays: 28, lastUsedDate: new Date(world.now - HOUR) }], { owner: "team-payments@example.com" });
      world.fake.addUser("dave", { keys: [{ ageDays: 25 }] });
      const consumers = [new Consumer(world, "alice", "app/alice", 6), new Consumer(world, "bob", "app/bob", 30), new Consumer(world, "carol", "app/carol", 6)];
      const secrets = new Set<string>();
      const summaries = [];
      for (let step = 0; step < 120 * 4; step += 1) {
        if (step % 4 === 0) {
          const summary = await world.run({ maxAccessKeyAge: 30, warnDays: 7, cleanupDays: 7 });
          assert.deepEqual(summary.failed, []);
          assert.equal(summary.partial, false);
          summaries.push(summary);
        }
        for (const c of consumers) c.work();
        for (const name of ["alice", "bob", "carol"]) {
          const keys = world.fake.user(name).keys;
          assert.ok(keys.length <= 2, `${name} has more than two keys`);
          // During the overlap, a consumer still holding the old key finds it as the secret's previous version.
          const active = keys.filter((k) => k.status === "Active").sort((a, b) => a.createDate.getTime() - b.createDate.getTime());
          if (active.length === 2) assert.equal(world.sm.currentKeyId(`app/${name}`, "AWSPREVIOUS"), active[0]?.accessKeyId);
        }
        for (const s of allSecrets(world)) secrets.add(s);
        world.now += 6 * HOUR;
      }
      for (const name of ["alice", "bob", "carol"]) {
        const active = world.fake.user(name).keys.filter((k) => k.status === "Active");
        for (const k of active) assert.ok(world.now - k.createDate.getTime() <= 30 * DAY, `${name} holds a key ${keyAges(world, name).join("/")} days old`);
      }
      const types = world.bus.events.map((e) => e.detailType);
      for (const t of ["Access Key Expiring", "Access Key Expired", "Access Key Rotated", "Access Key Deactivated", "Access Key Deleted", "Rotation Blocked"]) {
        assert.ok(types.includes(t), `no ${t} event in 120 days`);
      }
      // Bob's consumer refreshes every 30 hours: the day after a rotation it often still used the old key.
      assert.ok(world.bus.events.some((e) => e.detailType === "Rotation Blocked" && e.detail.user === "bob" && /^blocked: old key …\w{4} still in use since/.test(String(e.detail.reason))));
      const rotations = summaries.reduce((n, s) => n + s.steps.create, 0);
      assert.ok(rotations >= 12, `${rotations} rotations for three users in 120 days`);
      const carol = world.bus.events.find((e) => e.detailType === "Access Key Rotated" && e.detail.user === "carol");
      assert.equal(carol?.detail.owner, "team-payments@example.com");
      // Nobody opted dave in: told every day, never touched.
      assert.equal(world.fake.user("dave").keys.length, 1);
      assert.ok(world.bus.events.some((e) => e.detailType === "Access Key Expired" && e.detail.user === "dave" && e.detail.rotation === false));
      const published = JSON.stringify(world.bus.events) + world.logs.join("");
      for (const s of secrets) assert.ok(!published.includes(s), "a secret access key reached a log or an event");
      assert.doesNotMatch(published, KEY_ID, "a full access key id reached a log or an event");
    } finally {
      await world.close();
    }
  });
});

describe("scheduled rotator: modes", () => {
  let world: World;
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => world.close());

  function snapshot(): string {
    const users = [...world.fake.users.values()].map((u) => ({ u: u.name, keys: u.keys.map((k) => [k.accessKeyId, k.status]), tags: [...(world.fake.userTags.get(u.name) ?? [])] }));
    const secrets = [...world.sm.secrets.values()].map((s) => s.versions.map((v) => [v.secretString, [...v.stages]]));
    return JSON.stringify({ users, secrets });
  }

  it("is a dry run by default: it plans every step, logs them, and changes nothing in IAM or Secrets Manager", async () => {
    world.optIn("due", [{ ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }]);
    const [old] = world.optIn("switched", [{ ageDays: 26, lastUsedDate: new Date(world.now - 3 * DAY) }]);
    const fresh = world.fake.addKey("switched", { ageDays: 2, lastUsedDate: new Date(world.now - HOUR) });
    world.sm.addSecret("app/switched2", undefined, { "keyage:rotate": world.fake.user("switched").arn });
    world.tag("switched", "keyage:rotate", "secretsmanager:app/switched2");
    world.sm.secrets.get("app/switched2")?.versions.push({ versionId: "v1", secretString: JSON.stringify({ AccessKeyId: fresh.accessKeyId, SecretAccessKey: fresh.secretAccessKey }), stages: new Set(["AWSCURRENT"]) });
    const before = snapshot();
    const summary = await world.run({ mode: undefined });
    assert.equal(summary.mode, "plan");
    assert.equal(snapshot(), before);
    assert.deepEqual(summary.steps, { create: 1, deactivate: 1, delete: 0 });
    for (const a of ["CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "TagUser", "UntagUser", "PutSecretValue"]) assert.equal(world.fake.calls[a], undefined, `${a} in a dry run`);
    assert.deepEqual(world.bus.events.map((e) => e.detailType).sort(), ["Access Key Expiring", "Access Key Expiring"]);
    const logged = world.logs.join("\n");
    assert.match(logged, /\[dry run\] Would create a new access key for due and deliver it to Secrets Manager secret app\/due/);
    assert.match(logged, new RegExp(`\\[dry run\\] Would deactivate …${old?.accessKeyId.slice(-4)}`));
  });

  it("in notify mode tells about expiring and expired keys and reads no opted-in user", async () => {
    world.optIn("due", [{ ageDays: 25 }]);
    world.fake.addUser("old", { keys: [{ ageDays: 45 }, { ageDays: 3 }] });
    const summary = await world.run({ mode: "notify" });
    assert.equal(summary.read, 0);
    assert.equal(world.fake.calls.GetAccessKeyLastUsed, undefined);
    assert.equal(world.fake.calls.DescribeSecret, undefined);
    const got = world.bus.events.map((e) => [e.detailType, e.detail.user, e.detail.ageDays, e.detail.daysLeft]);
    assert.deepEqual(got.sort(), [
      ["Access Key Expired", "old", 45, 0],
      ["Access Key Expiring", "due", 25, 5],
    ]);
  });

  it("rejects a payload it cannot work with, naming the field and the value", () => {
    assert.throws(() => parseSettings({ mode: "yes" }), (e: unknown) => e instanceof RotatorSettingsError && /mode must be one of notify, plan, apply, got "yes"/.test(e.message));
    assert.throws(() => parseSettings({ cleanupDays: 0 }), /cleanupDays must be a whole number from 1 to 365, got 0/);
    assert.throws(() => parseSettings({ maxAccessKeyAge: 5000 }), /maxAccessKeyAge/);
    assert.deepEqual(parseSettings(undefined), { mode: "plan", maxAgeDays: 30, warnDays: 7, cleanupDays: 7, graceHours: 24 });
  });
});

describe("scheduled rotator: events", () => {
  let world: World;
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => world.close());

  it("tells everyone, not only opted-in users: account, user, key id suffix, age, limit, days left and owner, never a secret or a full key id", async () => {
    for (let i = 0; i < 23; i += 1) world.fake.addUser(`user${i}`, { keys: [{ ageDays: 24 + (i % 10) }] });
    world.fake.addUser("owned", { keys: [{ ageDays: 31 }] });
    world.tag("owned", "keyage:owner", "ops@example.com");
    const key = world.fake.user("owned").keys[0];
    await world.run({ mode: "plan" });
    assert.equal(world.bus.events.length, 24);
    assert.deepEqual(world.bus.batches, [10, 10, 4]);
    const owned = world.bus.events.find((e) => e.detail.user === "owned");
    assert.deepEqual(owned?.detail, {
      account: "123456789012",
      user: "owned",
      accessKeyIdSuffix: key?.accessKeyId.slice(-4),
      ageDays: 31,
      daysLeft: 0,
      maxAgeDays: 30,
      owner: "ops@example.com",
      rotation: false,
    });
    assert.equal(owned?.source, "keyage");
    assert.deepEqual(owned?.resources, [world.fake.user("owned").arn]);
    assert.equal(owned?.detailType, "Access Key Expired");
    const raw = world.bus.events.map((e) => e.raw).join("");
    assert.doesNotMatch(raw, KEY_ID);
    for (const s of allSecrets(world)) assert.ok(!raw.includes(s));
  });

  it("sends again the entries EventBridge answers as failed", async () => {
    world.fake.addUser("a", { keys: [{ ageDays: 40 }] });
    world.fake.addUser("b", { keys: [{ ageDays: 40 }] });
    world.bus.failEntries(1);
    const summary = await world.run({ mode: "notify" });
    assert.deepEqual([summary.events.published, summary.events.failed], [2, 0]);
    assert.deepEqual(world.bus.events.map((e) => e.detail.user).sort(), ["a", "b"]);
  });
});

describe("scheduled rotator: exact under faults", function () {
  this.timeout(30_000);
  let world: World;
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => world.close());

  it("rides out throttling of the bulk read, and leaves a user whose reads stay throttled for the next run while rotating the others", async () => {
    world.optIn("alice", [{ ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }]);
    world.optIn("bob", [{ ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }]);
    world.fake.fail("GetAccountAuthorizationDetails", { code: "Throttling", times: 2 });
    // Every attempt the SDK makes (SDK_MAX_ATTEMPTS = 4) is throttled: bob stays unread this run.
    world.fake.fail("ListAccessKeys", { code: "Throttling", times: 4, match: (p) => p.UserName === "bob" });
    const first = await world.run();
    assert.deepEqual(first.failed, ["bob"]);
    assert.equal(first.partial, true);
    assert.equal(first.steps.create, 1);
    assert.equal(world.fake.user("alice").keys.length, 2);
    assert.equal(world.fake.user("bob").keys.length, 1);
    assert.match(world.logs.join("\n"), /"message":"user left for the next run","user":"bob","error":"Throttling/);
    world.now += DAY;
    const second = await world.run();
    assert.deepEqual(second.failed, []);
    assert.equal(world.fake.user("bob").keys.length, 2);
    assert.equal(world.sm.currentKeyId("app/bob"), world.fake.user("bob").keys[1]?.accessKeyId);
  });

  it("reads every user key by key when the credential report is denied, and still rotates and tells exactly", async () => {
    world.optIn("alice", [{ ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }]);
    world.optIn("quiet", [{ ageDays: 3 }]);
    world.fake.addUser("old", { keys: [{ ageDays: 40 }] });
    world.fake.fail("GenerateCredentialReport", { code: "AccessDenied", times: Infinity });
    const summary = await world.run();
    assert.equal(summary.partial, false);
    assert.equal(summary.steps.create, 1);
    assert.equal(world.fake.calls.ListAccessKeys, 3);
    assert.deepEqual(world.bus.events.map((e) => [e.detailType, e.detail.user]).sort(), [
      ["Access Key Expired", "old"],
      ["Access Key Expiring", "alice"],
      ["Access Key Rotated", "alice"],
    ]);
    assert.match(world.logs.join("\n"), /credential report unavailable: every user is read key by key/);
  });

  it("finishes its IAM work and reports it when EventBridge refuses every event", async () => {
    world.optIn("alice", [{ ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }]);
    world.fake.fail("PutEvents", { code: "AccessDeniedException", status: 400, times: Infinity });
    const summary = await world.run();
    assert.equal(summary.steps.create, 1);
    assert.deepEqual([summary.events.published, summary.events.failed], [0, 2]);
    assert.match(world.logs.join("\n"), /"message":"some events were not published".*AccessDeniedException/);
  });

  it("skips a user deleted mid-run and advances every other", async () => {
    world.optIn("alice", [{ ageDays: 25 }]);
    world.optIn("gone", [{ ageDays: 25 }]);
    world.fake.beforeCall = (action, params) => {
      if (action === "ListAccessKeys" && params.UserName === "gone") world.fake.deleteUser("gone");
    };
    const summary = await world.run();
    assert.deepEqual(summary.vanished, ["gone"]);
    assert.deepEqual(summary.failed, []);
    assert.equal(summary.steps.create, 1);
    assert.equal(world.fake.user("alice").keys.length, 2);
  });

  it("blocks, changing nothing, a user whose secret is missing or denied, and says so in a Rotation Blocked event", async () => {
    world.optIn("missing", [{ ageDays: 25 }]);
    world.sm.secrets.delete("app/missing");
    world.optIn("denied", [{ ageDays: 25 }]);
    world.fake.fail("DescribeSecret", { code: "AccessDeniedException", status: 400, times: Infinity, match: (p) => p.SecretId === "app/denied" });
    world.optIn("badtag", [{ ageDays: 25 }]);
    world.tag("badtag", "keyage:rotate", "ssm:/app/key");
    const summary = await world.run();
    assert.equal(summary.blocked, 3);
    assert.equal(world.fake.calls.CreateAccessKey, undefined);
    const blocked = Object.fromEntries(world.bus.events.filter((e) => e.detailType === "Rotation Blocked").map((e) => [e.detail.user, String(e.detail.reason)]));
    assert.match(blocked.missing ?? "", /^blocked: there is no secret app\/missing/);
    assert.match(blocked.denied ?? "", /^blocked: reading the secret app\/denied failed: AccessDeniedException/);
    assert.match(blocked.badtag ?? "", /must be secretsmanager:<secret id or ARN>/);
  });

  it("rotates neither of two users whose tags name the same secret, since each rotation would overwrite the other's key", async () => {
    world.optIn("alice", [{ ageDays: 25 }], { secret: "app/shared" });
    world.fake.addUser("bob", { keys: [{ ageDays: 25 }] });
    world.tag("bob", "keyage:rotate", "secretsmanager:app/shared");
    const summary = await world.run();
    assert.equal(world.fake.calls.CreateAccessKey, undefined);
    assert.equal(summary.blocked, 2);
    const reasons = world.bus.events.filter((e) => e.detailType === "Rotation Blocked").map((e) => String(e.detail.reason));
    assert.deepEqual(reasons.sort(), [
      "blocked: Secrets Manager secret app/shared is bound to another user: its keyage:rotate tag names arn:aws:iam::123456789012:user/alice, not arn:aws:iam::123456789012:user/bob",
      "blocked: the secret app/shared is named by bob too: each user needs a secret of its own, or the rotations overwrite each other's key",
    ]);
  });

  it("deletes the new key again when the secret refuses it, so no key is left that nobody holds", async () => {
    world.optIn("alice", [{ ageDays: 25 }]);
    world.fake.fail("PutSecretValue", { code: "AccessDeniedException", status: 400 });
    const summary = await world.run();
    assert.equal(summary.rolledBack, 1);
    assert.equal(world.fake.calls.CreateAccessKey, 1);
    assert.equal(world.fake.user("alice").keys.length, 1);
    const blocked = world.bus.events.find((e) => e.detailType === "Rotation Blocked");
    assert.match(String(blocked?.detail.reason), /storing the new key in Secrets Manager secret app\/alice failed \(AccessDeniedException.*so the new key was deleted again/);
  });

  it("starts no user once the deadline nears, names the ones left, and a later run reaches them, though it is as short", async () => {
    for (const n of ["u1", "u2", "u3", "u4"]) world.optIn(n, [{ ageDays: 25 }]);
    const deadline = (budget: number) => {
      const before = world.fake.calls.ListAccessKeys ?? 0;
      return () => ((world.fake.calls.ListAccessKeys ?? 0) - before >= budget ? 1_000 : 60_000);
    };
    const summary = await world.run({}, { concurrency: 1, remainingMs: deadline(3), reserveMs: 5_000 });
    assert.equal(summary.steps.create, 3);
    assert.equal(summary.skipped.length, 1);
    assert.equal(summary.partial, true);
    assert.equal(world.bus.events.filter((e) => e.detailType === "Access Key Rotated").length, 3, "the events of the users done are still published");
    const [left] = summary.skipped;
    assert.equal(world.fake.user(left as string).keys.length, 1);
    // The same budget again (the users already rotated are read too): a later day starts elsewhere.
    for (let day = 1; day <= 4 && world.fake.user(left as string).keys.length === 1; day += 1) {
      world.now += DAY;
      await world.run({}, { concurrency: 1, remainingMs: deadline(3), reserveMs: 5_000 });
    }
    assert.equal(world.fake.user(left as string).keys.length, 2);
  });
});

describe("scheduled rotator: re-runs after a crash at each step", function () {
  this.timeout(30_000);
  let world: World;
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => world.close());

  /** Runs until `action` is reached, then abandons the run there (as a killed Lambda would). */
  async function crashAt(action: string, settings: Record<string, unknown> = {}): Promise<void> {
    const held = world.sm.hold(action);
    const abandoned = world.run(settings);
    abandoned.catch(() => undefined);
    await held.reached;
    world.fake.beforeCall = undefined;
  }

  function consumerWorks(user: string): void {
    const doc = JSON.parse(world.sm.value(`app/${user}`) ?? "{}") as { AccessKeyId?: string };
    const key = world.fake.user(user).keys.find((k) => k.accessKeyId === doc.AccessKeyId);
    assert.equal(key?.status, "Active", "the secret's current key works");
  }

  it("after CreateAccessKey, before the secret was stored: the next run undoes the new key, and the one after rotates", async () => {
    world.optIn("alice", [{ ageDays: 24, lastUsedDate: new Date(world.now - HOUR) }]);
    await crashAt("PutSecretValue");
    assert.equal(world.fake.user("alice").keys.length, 2);
    consumerWorks("alice");
    world.now += 2 * HOUR;
    const soon = await world.run();
    assert.equal(soon.steps.deactivate + soon.steps.delete, 0, "a key less than a day old may still be being stored");
    world.now += DAY;
    const undo = await world.run();
    assert.deepEqual([undo.steps.deactivate, undo.steps.delete, undo.steps.create], [1, 1, 0]);
    assert.equal(world.fake.user("alice").keys.length, 1);
    consumerWorks("alice");
    world.now += DAY;
    const again = await world.run();
    assert.equal(again.steps.create, 1);
    assert.equal(world.sm.currentKeyId("app/alice"), world.fake.user("alice").keys[1]?.accessKeyId);
  });

  it("after the secret was stored: the next run carries on with the rotation", async () => {
    world.optIn("alice", [{ ageDays: 24, lastUsedDate: new Date(world.now - 2 * DAY) }]);
    const held = world.sm.hold("PutSecretValue");
    const abandoned = world.run();
    abandoned.catch(() => undefined);
    await held.reached;
    held.release();
    await abandoned;
    const fresh = world.fake.user("alice").keys[1] as NonNullable<ReturnType<World["fake"]["addKey"]>>;
    fresh.lastUsedDate = new Date(world.now + HOUR);
    world.now += DAY;
    const next = await world.run();
    assert.equal(next.steps.deactivate, 1);
    consumerWorks("alice");
  });

  it("after tagging, before UpdateAccessKey: the next run deactivates the old key", async () => {
    const [old] = world.optIn("alice", [{ ageDays: 26, lastUsedDate: new Date(world.now - 3 * DAY) }]);
    const fresh = world.fake.addKey("alice", { ageDays: 2, lastUsedDate: new Date(world.now - HOUR) });
    world.sm.secrets.get("app/alice")?.versions.forEach((v) => v.stages.clear());
    world.sm.secrets.get("app/alice")?.versions.push({ versionId: "v2", secretString: JSON.stringify({ AccessKeyId: fresh.accessKeyId, SecretAccessKey: fresh.secretAccessKey }), stages: new Set(["AWSCURRENT"]) });
    await crashAt("UpdateAccessKey");
    assert.equal(old?.status, "Active");
    assert.ok(world.fake.userTags.get("alice")?.has(`keyage:deactivated:${old?.accessKeyId.slice(-4)}`));
    world.now += HOUR;
    const next = await world.run();
    assert.equal(next.steps.deactivate, 1);
    assert.equal(old?.status, "Inactive");
    consumerWorks("alice");
  });

  it("after DeleteAccessKey, before the tag was removed: the next run removes the tag", async () => {
    const [old] = world.optIn("alice", [{ ageDays: 40, status: "Inactive", lastUsedDate: new Date(world.now - 10 * DAY) }, { ageDays: 10, lastUsedDate: new Date(world.now - HOUR) }]);
    const tag = `keyage:deactivated:${old?.accessKeyId.slice(-4)}`;
    world.tag("alice", tag, new Date(world.now - 8 * DAY).toISOString());
    await crashAt("UntagUser");
    assert.equal(world.fake.user("alice").keys.length, 1);
    world.now += DAY;
    await world.run();
    assert.equal(world.fake.userTags.get("alice")?.has(tag), false);
    const quiet = await world.run();
    assert.equal(quiet.read, 0, "with the tag gone, alice costs no read of her own");
  });

  it("after the undo deactivated the new key, before deleting it: the next run deletes it and rotates", async () => {
    world.optIn("alice", [{ ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }]);
    const made = world.fake.addKey("alice", { ageDays: 2 });
    // Recorded as keyage's own (a run created it and stopped before storing it).
    world.tag("alice", `keyage:created:${made.accessKeyId.slice(-4)}`, made.createDate.toISOString());
    await crashAt("DeleteAccessKey");
    assert.deepEqual(world.fake.user("alice").keys.map((k) => k.status), ["Active", "Inactive"]);
    world.now += HOUR;
    const next = await world.run();
    assert.deepEqual([next.steps.delete, next.steps.create], [1, 1]);
    assert.equal(world.fake.user("alice").keys.length, 2);
    consumerWorks("alice");
  });
});

describe("scheduled rotator: the two-key limit", () => {
  let world: World;
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => world.close());

  it("never asks IAM for a third key: a due rotation waits while the inactive key may not be deleted yet", async () => {
    const [old] = world.optIn("alice", [{ ageDays: 50, status: "Inactive", lastUsedDate: new Date(world.now - 3 * DAY) }, { ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }]);
    world.tag("alice", `keyage:deactivated:${old?.accessKeyId.slice(-4)}`, new Date(world.now - 2 * DAY).toISOString());
    const summary = await world.run();
    assert.equal(world.fake.calls.CreateAccessKey, undefined);
    assert.equal(summary.blocked, 1);
    assert.match(String(world.bus.events.find((e) => e.detailType === "Rotation Blocked")?.detail.reason), /already has two keys \(IAM's maximum\)/);
  });

  it("deletes an inactive key unused for cleanupDays first, then rotates", async () => {
    world.optIn("alice", [{ ageDays: 90, status: "Inactive", lastUsedDate: new Date(world.now - 30 * DAY) }, { ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }]);
    const summary = await world.run();
    assert.deepEqual([summary.steps.delete, summary.steps.create], [1, 1]);
    assert.deepEqual(world.fake.user("alice").keys.map((k) => k.status), ["Active", "Active"]);
  });
});

describe("scheduled rotator: cost", () => {
  it("finds opted-in users among 2,500 with ⌈N/1000⌉ + 3 IAM calls when nothing is due", async () => {
    const world = await startWorld();
    try {
      for (let i = 0; i < 2500; i += 1) {
        if (i % 50 === 0) world.optIn(`u${i}`, [{ ageDays: i % 20 }]);
        else world.fake.addUser(`u${i}`, { keys: [{ ageDays: i % 20 }] });
      }
      const summary = await world.run();
      assert.equal(summary.optedIn, 50);
      assert.equal(summary.read, 0);
      const iam = Object.entries(world.fake.calls).filter(([a]) => !["PutEvents"].includes(a));
      const total = iam.reduce((n, [, c]) => n + c, 0);
      assert.ok(total <= Math.ceil(2500 / 1000) + 3, `${total} IAM calls: ${JSON.stringify(world.fake.calls)}`);
      assert.equal(world.fake.calls.GetAccountAuthorizationDetails, 3);
    } finally {
      await world.close();
    }
  });
});
