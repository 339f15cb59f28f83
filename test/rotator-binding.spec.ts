// The scheduled rotator writes only where the secret's owner said it may: both ends name each other (the
// user's tag names the secret, the secret's tag names the user's ARN), the secret holds nothing or a
// keyage document of this user's keys, and no other opted-in user resolves to the same secret. Hostile
// cases first: a user who tags herself with someone else's secret, by name, ARN or partial ARN.
import { strict as assert } from "node:assert";
import { secretDocument } from "../shared";
import { DAY, HOUR, startWorld, type World } from "./rotator-harness";

const WRITES = ["CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "TagUser", "UntagUser", "PutSecretValue"];

describe("scheduled rotator: the secret binding (both ends name each other)", function () {
  this.timeout(30_000);
  let world: World;
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => world.close());

  const blocked = (): Record<string, string> =>
    Object.fromEntries(world.bus.events.filter((e) => e.detailType === "Rotation Blocked").map((e) => [String(e.detail.user), String(e.detail.reason)]));
  const noWrites = (): void => {
    for (const a of WRITES) assert.equal(world.fake.calls[a], undefined, `${a} was called`);
  };

  it("never stores mallory's key in the victim's secret when mallory tags herself with its ARN, and tells both", async () => {
    world.optIn("victim", [{ ageDays: 10, lastUsedDate: new Date(world.now - HOUR) }]);
    const victimSecret = world.sm.secrets.get("app/victim");
    const before = world.sm.value("app/victim");
    world.fake.addUser("mallory", { keys: [{ ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }] });
    world.tag("mallory", "keyage:rotate", `secretsmanager:${victimSecret?.arn}`);
    const summary = await world.run();
    noWrites();
    assert.equal(world.sm.value("app/victim"), before, "the victim's secret is untouched");
    assert.equal(world.fake.user("mallory").keys.length, 1);
    assert.equal(summary.blocked, 1);
    assert.match(blocked().mallory ?? "", new RegExp(`^blocked: Secrets Manager secret ${victimSecret?.arn} is bound to another user: its keyage:rotate tag names arn:aws:iam::123456789012:user/victim, not arn:aws:iam::123456789012:user/mallory`));
    // The victim's key is not due: nothing read of the victim yet. Once it is, the victim hears of mallory.
    world.now += 15 * DAY;
    world.fake.user("victim").keys.forEach((k) => (k.lastUsedDate = new Date(world.now - HOUR)));
    await world.run();
    noWrites();
    assert.match(blocked().victim ?? "", /^blocked: the secret app\/victim is named by mallory too/);
  });

  it("catches two users naming one secret by name, full ARN and partial ARN (resolved, not compared as text)", async () => {
    world.optIn("alice", [{ ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }], { secret: "app/shared" });
    const arn = world.sm.secrets.get("app/shared")?.arn as string;
    world.fake.addUser("bob", { keys: [{ ageDays: 25 }] });
    world.tag("bob", "keyage:rotate", `secretsmanager:${arn}`);
    world.fake.addUser("carol", { keys: [{ ageDays: 25 }] });
    world.tag("carol", "keyage:rotate", `secretsmanager:${arn.slice(0, -7)}`);
    const summary = await world.run();
    noWrites();
    assert.equal(summary.blocked, 3);
    const reasons = blocked();
    assert.match(reasons.alice ?? "", /^blocked: the secret app\/shared is named by bob, carol too/);
    // The secret's own tag names alice: for the others it is bound to another user.
    assert.match(reasons.bob ?? "", /is bound to another user: its keyage:rotate tag names arn:aws:iam::123456789012:user\/alice, not arn:aws:iam::123456789012:user\/bob$/);
    assert.match(reasons.carol ?? "", /is bound to another user: its keyage:rotate tag names arn:aws:iam::123456789012:user\/alice, not arn:aws:iam::123456789012:user\/carol$/);
  });

  it("never overwrites a secret that holds someone else's value ({\"username\",\"password\"}), even when bound to the user", async () => {
    world.optIn("alice", [{ ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }], { storeKey: false });
    const db = JSON.stringify({ username: "app", password: "hunter2-db-password" });
    world.sm.secrets.get("app/alice")?.versions.push({ versionId: "v1", secretString: db, stages: new Set(["AWSCURRENT"]) });
    await world.run();
    noWrites();
    assert.equal(world.sm.value("app/alice"), db);
    assert.match(blocked().alice ?? "", /^blocked: Secrets Manager secret app\/alice holds a value that is not a keyage document .*keyage never overwrites it/);
    assert.ok(!JSON.stringify(world.bus.events).includes("hunter2"));
  });

  it("never overwrites a secret holding another user's key", async () => {
    world.optIn("alice", [{ ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }], { storeKey: false });
    world.sm.secrets.get("app/alice")?.versions.push({ versionId: "v1", secretString: secretDocument("AKIAOTHEROTHEROTHER9", "s"), stages: new Set(["AWSCURRENT"]) });
    await world.run();
    noWrites();
    assert.match(blocked().alice ?? "", /holds the key …HER9, which is not one of alice's keys/);
  });

  it("writes nothing into a secret that has no keyage:rotate tag, and says how to bind it", async () => {
    world.optIn("alice", [{ ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }], { bind: false });
    const summary = await world.run();
    noWrites();
    assert.equal(summary.blocked, 1);
    assert.match(
      blocked().alice ?? "",
      /^blocked: alice's keyage:rotate tag names Secrets Manager secret app\/alice, but that secret has no keyage:rotate tag naming alice: .*Key=keyage:rotate,Value=arn:aws:iam::123456789012:user\/alice/,
    );
  });

  it("rotates once both ends name each other, the secret empty at first", async () => {
    world.optIn("alice", [{ ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }], { storeKey: false });
    const summary = await world.run();
    assert.equal(summary.steps.create, 1);
    assert.equal(world.sm.currentKeyId("app/alice"), world.fake.user("alice").keys[1]?.accessKeyId);
    assert.deepEqual(Object.keys(Object.fromEntries(world.fake.userTags.get("alice") ?? [])).filter((t) => t.startsWith("keyage:created:")), [], "the record is removed once stored");
  });

  it("resolves a partial ARN, checks that secret, and writes to its full ARN", async () => {
    world.optIn("alice", [{ ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }]);
    const arn = world.sm.secrets.get("app/alice")?.arn as string;
    world.tag("alice", "keyage:rotate", `secretsmanager:${arn.slice(0, -7)}`);
    const put: unknown[] = [];
    world.fake.beforeCall = (action, params) => void (action === "PutSecretValue" && put.push(params.SecretId));
    const summary = await world.run();
    assert.equal(summary.steps.create, 1);
    assert.deepEqual(put, [arn]);
  });

  it("never echoes a secret's AccessKeyId that is not shaped like a key id", async () => {
    const text = "my-db-password-not-a-key";
    world.optIn("alice", [{ ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }, { ageDays: 3, lastUsedDate: new Date(world.now - HOUR) }], { storeKey: false });
    world.sm.secrets.get("app/alice")?.versions.push({ versionId: "v1", secretString: JSON.stringify({ AccessKeyId: text, SecretAccessKey: "x" }), stages: new Set(["AWSCURRENT"]) });
    await world.run();
    noWrites();
    assert.ok(blocked().alice, "blocked");
    const published = JSON.stringify(world.bus.events) + world.logs.join("\n");
    assert.ok(!published.includes(text), "the secret's text reached an event or a log");
  });
});

describe("scheduled rotator: undo deletes only keys it created", function () {
  this.timeout(30_000);
  let world: World;
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => world.close());

  it("at most deactivates a newer key it did not create (unused for a day, not in the secret), and deletes it only cleanupDays later", async () => {
    world.optIn("alice", [{ ageDays: 20, lastUsedDate: new Date(world.now - HOUR) }]);
    const byHand = world.fake.addKey("alice", { ageDays: 2 });
    const first = await world.run();
    assert.equal(first.steps.delete, 0);
    assert.ok(world.fake.user("alice").keys.some((k) => k.accessKeyId === byHand.accessKeyId), "the hand-made key still exists");
    assert.equal(byHand.status, "Inactive");
    world.now += 3 * DAY;
    await world.run();
    assert.ok(world.fake.user("alice").keys.some((k) => k.accessKeyId === byHand.accessKeyId), "still there 3 days later");
    world.now += 5 * DAY;
    await world.run();
    assert.ok(!world.fake.user("alice").keys.some((k) => k.accessKeyId === byHand.accessKeyId), "deleted after cleanupDays");
  });

  it("undoes (deactivates and deletes) a newer key it recorded as its own", async () => {
    world.optIn("alice", [{ ageDays: 20, lastUsedDate: new Date(world.now - HOUR) }]);
    const ours = world.fake.addKey("alice", { ageDays: 2 });
    world.tag("alice", `keyage:created:${ours.accessKeyId.slice(-4)}`, ours.createDate.toISOString());
    const run = await world.run();
    assert.deepEqual([run.steps.deactivate, run.steps.delete], [1, 1]);
    assert.equal(world.fake.user("alice").keys.length, 1);
    assert.equal(world.fake.userTags.get("alice")?.has(`keyage:created:${ours.accessKeyId.slice(-4)}`), false);
  });
});

describe("scheduled rotator: a refused bookkeeping write is a block", function () {
  this.timeout(30_000);
  let world: World;
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => world.close());

  function overlap(): void {
    // The new key is in the secret and used; the old one unused for two days: due for deactivation.
    const [old] = world.optIn("alice", [{ ageDays: 26, lastUsedDate: new Date(world.now - 2 * DAY) }]);
    const fresh = world.fake.addKey("alice", { ageDays: 2, lastUsedDate: new Date(world.now - HOUR) });
    world.sm.secrets.get("app/alice")?.versions.forEach((v) => v.stages.clear());
    world.sm.secrets.get("app/alice")?.versions.push({ versionId: "v2", secretString: secretDocument(fresh.accessKeyId, fresh.secretAccessKey), stages: new Set(["AWSCURRENT"]) });
    assert.ok(old);
  }

  it("blocks, every run, a user with 50 tags whose old key keyage cannot record as deactivated", async () => {
    overlap();
    for (let i = 0; i < 49; i += 1) world.tag("alice", `team:${i}`, "x");
    for (let day = 0; day < 2; day += 1) {
      const summary = await world.run();
      assert.deepEqual(summary.failed, []);
      assert.equal(summary.blocked, 1);
      assert.equal(world.fake.user("alice").keys.filter((k) => k.status === "Active").length, 2);
      world.now += DAY;
    }
    const reasons = world.bus.events.filter((e) => e.detailType === "Rotation Blocked").map((e) => String(e.detail.reason));
    assert.equal(reasons.length, 2);
    for (const r of reasons) assert.match(r, /^blocked: alice has 50 tags \(IAM's maximum is 50\), so keyage cannot record/);
  });

  it("blocks when IAM refuses the deactivation record (TagUser denied), instead of leaving it for the next run forever", async () => {
    overlap();
    world.fake.fail("TagUser", { code: "AccessDenied", status: 403, times: Infinity });
    const summary = await world.run();
    assert.deepEqual(summary.failed, []);
    assert.equal(summary.blocked, 1);
    assert.equal(world.fake.calls.UpdateAccessKey, undefined);
    assert.match(String(world.bus.events.find((e) => e.detailType === "Rotation Blocked")?.detail.reason), /^blocked: keyage could not record when it deactivates …\w{4} on alice \(iam:TagUser keyage:deactivated:\w{4} refused: AccessDenied/);
  });

  it("deletes a new key again and blocks when IAM refuses the record of creating it, so no unrecorded key is left", async () => {
    world.optIn("alice", [{ ageDays: 25, lastUsedDate: new Date(world.now - HOUR) }]);
    world.fake.fail("TagUser", { code: "LimitExceeded", status: 409, times: Infinity });
    const summary = await world.run();
    assert.equal(summary.blocked, 1);
    assert.equal(world.fake.user("alice").keys.length, 1);
    assert.equal(world.fake.calls.PutSecretValue, undefined);
    assert.match(String(world.bus.events.find((e) => e.detailType === "Rotation Blocked")?.detail.reason), /could not record that it created …\w{4} on alice \(iam:TagUser keyage:created:\w{4} refused: LimitExceeded(Exception)?/);
  });
});
