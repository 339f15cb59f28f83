// The scheduled rotator's run figures as CloudWatch metrics: its summary line (one account) and its
// organization summary line are embedded-metric-format records whose names, namespace and dimension are
// the ones the deploy program's alarms watch.
import { strict as assert } from "node:assert";
import { ROTATOR_METRICS, METRIC_DIMENSION, METRIC_NAMESPACE } from "../shared/metrics";
import { readEmf } from "./emf";
import { startWorld, type World } from "./rotator-harness";

const FUNCTION = "keyage-rotator-9f8e7d6";

function summaryLines(world: World, message = "run summary"): Record<string, unknown>[] {
  return world.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === message);
}

describe("scheduled rotator: run figures as CloudWatch metrics (embedded metric format)", function () {
  this.timeout(30_000);
  let world: World;
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => world.close());

  it("makes the summary line a valid EMF record: namespace keyage, the function's name as dimension, one number per figure", async () => {
    world.optIn("due", [{ ageDays: 25 }]);
    world.optIn("missing", [{ ageDays: 25 }]);
    world.sm.secrets.delete("app/missing");
    world.fake.addUser("idle", { keys: [{ ageDays: 3 }] });
    const summary = await world.run({}, { functionName: FUNCTION });
    const [line, ...more] = summaryLines(world);
    assert.equal(more.length, 0);
    const emf = readEmf(line!);
    assert.equal(emf.namespace, METRIC_NAMESPACE);
    assert.deepEqual(emf.dimensions, [{ [METRIC_DIMENSION]: FUNCTION }]);
    assert.deepEqual(Object.keys(emf.values), [...ROTATOR_METRICS]);
    assert.ok(Object.values(emf.units).every((u) => u === "Count"));
    assert.ok(summary.blocked >= 1, "the user whose secret is missing got a Rotation Blocked event");
    assert.deepEqual(emf.values, {
      RunCompleted: 1,
      Users: 3,
      OptedIn: 2,
      Created: summary.steps.create,
      Deactivated: summary.steps.deactivate,
      Deleted: summary.steps.delete,
      RolledBack: 0,
      Blocked: summary.blocked,
      FailedUsers: 0,
      SkippedUsers: 0,
      EventsUnpublished: 0,
      UnreachableAccounts: 0,
      FailedAccounts: 0,
      NotReachedAccounts: 0,
      Partial: 0,
    });
  });

  it("counts a run that left users for the next run as partial", async () => {
    world.optIn("throttled", [{ ageDays: 25 }]);
    world.fake.fail("ListAccessKeys", { code: "AccessDenied", status: 403, times: Infinity });
    const summary = await world.run({}, { functionName: FUNCTION });
    assert.equal(summary.partial, true);
    const emf = readEmf(summaryLines(world)[0]!);
    assert.equal(emf.values.Partial, 1);
    assert.equal(emf.values.FailedUsers, summary.failed.length);
    assert.ok(emf.values.FailedUsers! >= 1);
  });

  it("adds no metrics when it does not know its function's name (outside Lambda)", async () => {
    world.optIn("due", [{ ageDays: 25 }]);
    await world.run();
    const [line] = summaryLines(world);
    assert.equal(line?._aws, undefined);
    assert.equal(line?.RunCompleted, undefined);
  });
});
