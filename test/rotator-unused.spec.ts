// The scheduled rotator with `maxUnusedDays`: `Access Key Unused` to the owner, never a rotation for
// disuse, and GetAccessKeyLastUsed only where the credential report leaves a key possibly unused.
import { strict as assert } from "node:assert";
import { parseSettings } from "../rotator/settings";
import { DAY, startWorld, type World } from "./rotator-harness";

describe("scheduled rotator: maxUnusedDays", () => {
  let world: World;
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => world.close());

  it("does not rotate an opted-in user whose only violation is an unused key, and tells the owner to deactivate or delete it", async () => {
    const [key] = world.optIn("idle", [{ ageDays: 60 }], { owner: "team-a@example.com" });
    const summary = await world.run({ maxAccessKeyAge: 90, maxUnusedDays: 45 });
    assert.deepEqual(summary.steps, { create: 0, deactivate: 0, delete: 0 });
    assert.equal(world.fake.calls.CreateAccessKey, undefined);
    const events = world.bus.events.filter((e) => e.detail.user === "idle");
    assert.deepEqual(events.map((e) => e.detailType), ["Access Key Unused"]);
    const detail = events[0]?.detail as Record<string, unknown>;
    assert.equal(detail.owner, "team-a@example.com");
    assert.equal(detail.accessKeyIdSuffix, key?.accessKeyId.slice(-4));
    assert.equal(detail.maxUnusedDays, 45);
    assert.equal(detail.unusedDays, 60);
    assert.equal(detail.lastUsedDate, null);
    assert.match(String(detail.reason), /has not been used in the 60 days since it was created, over the 45-day unused limit; rotating it would not make it used: deactivate it, or delete it if nothing needs it$/);
    assert.doesNotMatch(JSON.stringify(events), new RegExp(key?.accessKeyId as string));
  });

  it("tells about a user who did not opt in, and asks GetAccessKeyLastUsed only for the key the report leaves possibly unused", async () => {
    world.fake.addUser("busy", { keys: [{ ageDays: 60, lastUsedDate: new Date(world.now - DAY) }] });
    world.fake.addUser("young", { keys: [{ ageDays: 3 }] });
    world.fake.addUser("idle", { keys: [{ ageDays: 60, lastUsedDate: new Date(world.now - 50 * DAY) }] });
    await world.run({ maxAccessKeyAge: 90, maxUnusedDays: 45 });
    assert.deepEqual(world.bus.events.map((e) => [e.detailType, e.detail.user, e.detail.unusedDays]), [["Access Key Unused", "idle", 50]]);
    assert.equal(world.fake.calls.GetAccessKeyLastUsed, 1);
    assert.equal(world.fake.calls.ListAccessKeys, 1);
  });

  it("sends nothing for a key the report shows unused (N/A) but GetAccessKeyLastUsed shows used since", async () => {
    const user = world.fake.addUser("late", { keys: [{ ageDays: 60 }] });
    world.fake.generateReport(new Date(world.now - 3600_000));
    (user.keys[0] as { lastUsedDate?: Date }).lastUsedDate = new Date(world.now - 60_000);
    await world.run({ maxAccessKeyAge: 90, maxUnusedDays: 45 });
    assert.deepEqual(world.bus.events, []);
    assert.equal(world.fake.calls.GetAccessKeyLastUsed, 1);
  });

  it("is off by default: no Unused event, no GetAccessKeyLastUsed for users who did not opt in", async () => {
    world.fake.addUser("idle", { keys: [{ ageDays: 60 }] });
    await world.run({ maxAccessKeyAge: 90 });
    assert.deepEqual(world.bus.events, []);
    assert.equal(world.fake.calls.GetAccessKeyLastUsed, undefined);
  });

  it("reads maxUnusedDays from its payload with the rule's validator", () => {
    assert.equal(parseSettings({ maxUnusedDays: "45" }).maxUnusedDays, 45);
    assert.equal("maxUnusedDays" in parseSettings({}), false);
    assert.throws(() => parseSettings({ maxUnusedDays: 0 }), /maxUnusedDays must be a whole number of days from 1 to 3650, got 0/);
  });
});
