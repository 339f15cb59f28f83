// RotatingAccessKey under Pulumi's unit-test mocks, driven through simulated years of `pulumi up`. The
// mocks play the engine for the keys: a slot whose replacementTrigger differs from the stored one gets a
// new key (old one deleted first, as deleteBeforeReplace asks), and iam:ListAccessKeys answers with
// whatever keys exist at the start of the update. Every invariant is checked against that ground truth,
// not against the component's own plan. The resulting stacks then go to the policy pack over the
// Analyzer gRPC protocol.
import { strict as assert } from "node:assert";
import * as fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import { DAY_MS, ROTATING_ACCESS_KEY_TYPE, rotationTiming, type RotationTiming } from "../shared";
import type { AccessKeyPair, RotatingAccessKey as RotatingAccessKeyClass } from "../pulumi";
import { PackProcess, UNKNOWN, ensureBuilt, secret, urnOf, type Diagnostic, type ResourceInput } from "./harness/analyzer";

const KEY_TYPE = "aws:iam/accessKey:AccessKey";
const USER = "ci-deployer";
const START = Date.parse("2026-01-01T09:17:00Z");

interface Key {
  readonly id: string;
  readonly createdAt: number;
  /** The update that created it. */
  readonly bornAt: number;
  trigger: unknown;
}

/** One `pulumi up` as the simulated engine saw it. */
interface Update {
  readonly now: number;
  /** Slots whose existing key was replaced. */
  readonly replaced: string[];
  /** Slots that got their first key. */
  readonly created: string[];
  /** Keys before the update (what the preview's AnalyzeStack sees, replaced ones unknown). */
  readonly before: ReadonlyMap<string, Key>;
  readonly after: ReadonlyMap<string, Key>;
  readonly current: AccessKeyPair;
  readonly previous: AccessKeyPair;
  readonly secretString?: string;
}

/** The engine's part: Pulumi state of the two AccessKeys, and IAM's list of the user's keys. */
class Engine {
  keys = new Map<string, Key>();
  private triggers = new Map<string, unknown>();
  deleteBeforeReplace = new Map<string, boolean>();
  private counter = 0;
  now = 0;
  /** How long after `now` a key is created (IAM's createDate lags the program's clock). */
  creationDelayMs = 0;
  replaced: string[] = [];
  created: string[] = [];
  secretString: string | undefined;
  listed: { accessKeyId: string; createDate: string; status: string }[] = [];

  begin(now: number): void {
    this.now = now;
    this.replaced = [];
    this.created = [];
    this.secretString = undefined;
    this.listed = [...this.keys.values()].map((k) => ({ accessKeyId: k.id, createDate: iso(k.createdAt), status: "Active" }));
  }

  recordRegistration(name: string, trigger: unknown, deleteBeforeReplace: boolean): void {
    this.triggers.set(name, trigger);
    this.deleteBeforeReplace.set(name, deleteBeforeReplace);
  }

  accessKey(name: string, inputs: Record<string, unknown>): { id: string; state: Record<string, unknown> } {
    const trigger = this.triggers.get(name);
    let key = this.keys.get(name);
    if (key === undefined || JSON.stringify(key.trigger) !== JSON.stringify(trigger)) {
      (key === undefined ? this.created : this.replaced).push(name);
      this.counter += 1;
      key = { id: `AKIASIM${String(this.counter).padStart(9, "0")}`, createdAt: this.now + this.creationDelayMs, bornAt: this.now, trigger };
      this.keys.set(name, key);
    }
    return { id: key.id, state: { ...inputs, id: key.id, status: "Active", createDate: iso(key.createdAt), secret: `secret-of-${key.id}` } };
  }
}

function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function value<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => (resolve(v), v)));
}

const engine = new Engine();
/** The year of daily updates, kept for the policy pack's tests. */
let dailyYear: Update[] | undefined;
let RotatingAccessKey: typeof RotatingAccessKeyClass;

interface Settings {
  readonly maxAgeDays?: number;
  readonly warnDays?: number;
  readonly secretId?: string;
}

async function up(now: number, settings: Settings = {}): Promise<Update> {
  const before = new Map([...engine.keys].map(([k, v]) => [k, { ...v }]));
  engine.begin(now);
  const component = new RotatingAccessKey("ci", { user: USER, now, ...settings });
  const [current, previous] = await Promise.all([value(component.current), value(component.previous), value(component.a.id), value(component.b.id)]);
  if (component.secretVersion) await value(component.secretVersion.id);
  return {
    now,
    replaced: [...engine.replaced],
    created: [...engine.created],
    before,
    after: new Map(engine.keys),
    current,
    previous,
    ...(engine.secretString !== undefined ? { secretString: engine.secretString } : {}),
  };
}

/** Runs updates at the given instants from an empty state and checks every invariant at every step. */
async function simulate(times: readonly number[], settings: Settings = {}, onSchedule = true): Promise<Update[]> {
  engine.keys = new Map();
  const timing = rotationTiming(settings.maxAgeDays, settings.warnDays);
  const updates: Update[] = [];
  // When each key stopped being `current` (it must then live on for at least half a period).
  const demotedAt = new Map<string, number>();
  let currentId: string | undefined;
  for (const now of times) {
    const u = await up(now, settings);
    const at = `update at ${iso(now)} (day ${((now - (times[0] ?? now)) / DAY_MS).toFixed(2)})`;
    assert.ok(u.replaced.length <= 1, `${at}: replaced ${u.replaced.join(" and ")} in one update`);
    if (updates.length > 0) assert.deepEqual(u.created, [], `${at}: created a slot again`);
    assert.equal(u.after.size, 2, `${at}: two slots`);
    for (const name of ["ci-a", "ci-b"]) assert.equal(engine.deleteBeforeReplace.get(name), true, `${name}: deleteBeforeReplace`);
    // A replaced key is deleted now: it was not current, and had been previous for half a period.
    for (const name of u.replaced) {
      const gone = u.before.get(name) as Key;
      assert.notEqual(gone.id, currentId, `${at}: deleted the key current named`);
      const since = demotedAt.get(gone.id);
      assert.ok(since !== undefined && now - since >= timing.halfPeriodMs, `${at}: deleted ${name}'s key ${((now - (since ?? now)) / DAY_MS).toFixed(2)} days after it became previous`);
      if (onSchedule) assert.ok(now - gone.createdAt < (timing.maxAgeDays - timing.warnDays) * DAY_MS, `${at}: deleted a key ${((now - gone.createdAt) / DAY_MS).toFixed(2)} days old`);
    }
    // Ages: at the update, no live key is past maxAgeDays (nor within warnDays of it) when on schedule.
    if (onSchedule) {
      for (const [name, key] of u.after) {
        const age = now - key.createdAt;
        assert.ok(age < (timing.maxAgeDays - timing.warnDays) * DAY_MS && age <= timing.maxAgeDays * DAY_MS, `${at}: ${name} is ${(age / DAY_MS).toFixed(2)} days old`);
      }
    }
    // current is the newest key (keys made in the same update count as equally new); previous the other.
    const live = [...u.after.values()];
    const newest = Math.max(...live.map((k) => k.bornAt));
    const cur = live.find((k) => k.id === u.current.accessKeyId);
    assert.ok(cur, `${at}: current ${u.current.accessKeyId} is not a live key`);
    assert.equal(cur.bornAt, newest, `${at}: current is not the newest key`);
    assert.equal(u.current.secretAccessKey, `secret-of-${cur.id}`);
    assert.ok(live.some((k) => k.id === u.previous.accessKeyId && k.id !== cur.id), `${at}: previous is not the other live key`);
    if (settings.secretId !== undefined) {
      assert.deepEqual(JSON.parse(u.secretString ?? "null"), { AccessKeyId: cur.id, SecretAccessKey: `secret-of-${cur.id}` }, `${at}: the secret holds current`);
    }
    // A key becomes previous when another becomes current (or is made previous at once, on the first update).
    for (const k of live) if (k.id !== cur.id && !demotedAt.has(k.id)) demotedAt.set(k.id, now);
    currentId = cur.id;
    updates.push(u);
  }
  return updates;
}

function every(startMs: number, stepMs: number, untilMs: number): number[] {
  const times: number[] = [];
  for (let t = startMs; t <= untilMs; t += stepMs) times.push(t);
  return times;
}

function replacements(updates: readonly Update[]): number {
  return updates.reduce((n, u) => n + u.replaced.length, 0);
}

describe("RotatingAccessKey (keyage/pulumi) over simulated updates", function () {
  this.timeout(120_000);
  const defaults: RotationTiming = rotationTiming();

  before(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          if (args.type === KEY_TYPE) return engine.accessKey(args.name, args.inputs as Record<string, unknown>);
          if (args.type === "aws:secretsmanager/secretVersion:SecretVersion") {
            const given = (args.inputs as { secretString: unknown }).secretString;
            // A secret input reaches the mocks wrapped: { <signature>: ..., value }.
            engine.secretString = typeof given === "string" ? given : String((given as { value?: unknown }).value);
            return { id: `${args.name}-v`, state: args.inputs as Record<string, unknown> };
          }
          return { id: `${args.name}-id`, state: args.inputs as Record<string, unknown> };
        },
        call(args) {
          assert.equal(args.token, "aws:iam/getAccessKeys:getAccessKeys");
          assert.equal((args.inputs as { user: string }).user, USER);
          return { id: USER, user: USER, accessKeys: engine.listed };
        },
      },
      "keyage",
      "test",
      false,
    );
    // The mocks' newResource does not see resource options: read the trigger off the request itself.
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: RegisterRequest, cb: unknown) => unknown };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
      engine.recordRegistration(req.getName(), req.getReplacementTrigger()?.toJavaScript(), req.getDeletebeforereplace());
      return register(req, cb);
    };
    ({ RotatingAccessKey } = await import("../pulumi"));
  });

  beforeEach(() => {
    engine.creationDelayMs = 0;
  });

  it("derives its timing from maxAgeDays − warnDays: window (M−W)/3 days, period one hour less, half of that", () => {
    assert.equal(defaults.windowMs, Math.floor((23 * DAY_MS) / 3));
    assert.equal(defaults.periodMs, defaults.windowMs - 3_600_000);
    assert.equal(defaults.halfPeriodMs, Math.floor(defaults.periodMs / 2) - 1000);
    assert.equal(defaults.halfPeriodMs, 3 * DAY_MS + 19.5 * 3_600_000 - 1000, "3 days 19.5 hours (less a second) with the defaults");
    assert.throws(() => new RotatingAccessKey("bad", { user: USER, maxAgeDays: 0 }), /maxAgeDays must be a whole number of days from 1 to 3650, got 0/);
    assert.throws(() => new RotatingAccessKey("bad", { user: USER, maxAgeDays: 10, warnDays: 10 }), /warnDays must be a whole number of days from 0 to 9 \(less than maxAgeDays = 10\), got 10/);
    assert.throws(() => new RotatingAccessKey("bad", { user: USER, now: "yesterday" }), /now must be a Date, epoch milliseconds or an RFC 3339 timestamp, got "yesterday"/);
    assert.throws(() => new RotatingAccessKey("bad", { user: "no/slashes" }), /user "no\/slashes" is not an IAM user name/);
  });

  it("gives the same plan for the same now and the same keys", async () => {
    engine.keys = new Map();
    await up(START);
    const at = START + 10 * DAY_MS;
    const snapshot = new Map([...engine.keys].map(([k, v]) => [k, { ...v }]));
    const first = await up(at);
    engine.keys = new Map([...snapshot].map(([k, v]) => [k, { ...v }]));
    const again = await up(at);
    assert.deepEqual(first.replaced, again.replaced);
    assert.deepEqual(
      [...first.after.values()].map((k) => k.trigger),
      [...again.after.values()].map((k) => k.trigger),
    );
  });

  it("survives a year of daily updates: one slot at a time, ages under maxAgeDays − warnDays, previous kept half a period", async () => {
    const updates = await simulate(every(START, DAY_MS, START + 365 * DAY_MS));
    dailyYear = updates;
    // Each slot renews once per two windows: about 365 / (23/3) ≈ 47 renewals in a year.
    assert.ok(replacements(updates) >= 44 && replacements(updates) <= 48, `${replacements(updates)} replacements`);
  });

  it("survives a year of updates exactly every half period (the slowest schedule it promises to handle)", async () => {
    engine.creationDelayMs = 5 * 60_000;
    const updates = await simulate(every(START, defaults.halfPeriodMs, START + 365 * DAY_MS));
    assert.ok(replacements(updates) >= 40, `${replacements(updates)} replacements`);
  });

  it("writes current to the Secrets Manager secret, a new version each time it changes", async () => {
    const updates = await simulate(every(START, DAY_MS, START + 30 * DAY_MS), { secretId: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ci-key-AbCdEf" });
    const versions = new Set(updates.map((u) => u.secretString));
    assert.equal(versions.size, 1 + replacements(updates));
  });

  it("keeps its promises for any update gaps up to half a period, any limit and any start (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 365 }).chain((maxAgeDays) => fc.tuple(fc.constant(maxAgeDays), fc.integer({ min: 0, max: maxAgeDays - 1 }))),
        fc.integer({ min: Date.parse("2025-01-01T00:00:00Z"), max: Date.parse("2030-01-01T00:00:00Z") }),
        fc.array(fc.double({ min: 0.001, max: 1, noNaN: true }), { minLength: 20, maxLength: 40 }),
        fc.integer({ min: 0, max: 30 * 60_000 }),
        async ([maxAgeDays, warnDays], start, fractions, delay) => {
          const { halfPeriodMs } = rotationTiming(maxAgeDays, warnDays);
          engine.creationDelayMs = delay;
          const times = [start];
          for (const f of fractions) times.push((times[times.length - 1] as number) + Math.max(1000, Math.floor(f * halfPeriodMs)));
          await simulate(times, { maxAgeDays, warnDays });
        },
      ),
      { numRuns: 15 },
    );
  });

  it("after a 60-day pause replaces one slot per update, never current, and is back on schedule within three windows", async () => {
    const before = every(START, DAY_MS, START + 60 * DAY_MS);
    const resume = START + 120 * DAY_MS;
    const after = every(resume, DAY_MS, resume + 60 * DAY_MS);
    const updates = await simulate([...before, ...after], {}, false);
    const firstAfter = updates[before.length] as Update;
    assert.equal(firstAfter.replaced.length <= 1, true);
    const back = resume + 3 * defaults.windowMs;
    for (const u of updates.filter((x) => x.now >= back)) {
      for (const [name, key] of u.after) assert.ok(u.now - key.createdAt < 23 * DAY_MS, `${iso(u.now)}: ${name} still ${((u.now - key.createdAt) / DAY_MS).toFixed(1)} days old`);
    }
  });

  describe("and the policy pack over the Analyzer gRPC protocol", () => {
    let pack: PackProcess;
    const seen: Diagnostic[] = [];

    before(async function () {
      this.timeout(120_000);
      await ensureBuilt();
      pack = await PackProcess.start();
      await pack.configure({});
    });

    after(async () => {
      await pack?.stop();
    });

    const component = urnOf(ROTATING_ACCESS_KEY_TYPE, "ci");

    /** The stack as AnalyzeStack sees it, shifted so that the update's `now` is the pack's clock. */
    function stackAt(u: Update, phase: "preview" | "update", realNow: number): ResourceInput[] {
      const keys = phase === "update" ? u.after : u.before;
      const resources: ResourceInput[] = [
        { type: "pulumi:pulumi:Stack", name: "app-dev", props: {} },
        { type: ROTATING_ACCESS_KEY_TYPE, name: "ci", props: {} },
      ];
      for (const [name, key] of keys) {
        const replacing = phase === "preview" && u.replaced.includes(name);
        resources.push({
          type: KEY_TYPE,
          name,
          urn: urnOf(KEY_TYPE, name, [ROTATING_ACCESS_KEY_TYPE]),
          parent: component,
          props: {
            id: replacing ? UNKNOWN : key.id,
            user: USER,
            status: "Active",
            createDate: replacing ? UNKNOWN : iso(realNow - (u.now - key.createdAt)),
            secret: replacing ? UNKNOWN : secret(`secret-of-${key.id}`),
          },
        });
      }
      return resources;
    }

    it("finds nothing to report at any preview or update of a year of daily updates", async () => {
      const updates = dailyYear ?? (await simulate(every(START, DAY_MS, START + 365 * DAY_MS)));
      for (const u of updates) {
        const realNow = Date.now();
        for (const phase of ["preview", "update"] as const) {
          const ds = await pack.analyzeStack(stackAt(u, phase, realNow));
          seen.push(...ds);
          assert.deepEqual(
            ds.map((d) => `${d.policyName}: ${d.message}`),
            [],
            `${phase} at ${iso(u.now)}`,
          );
        }
      }
    });

    it("accepts the component's keys for an allowed user, and says what a rotating key still is otherwise", async () => {
      const key: ResourceInput = { type: KEY_TYPE, name: "ci-a", urn: urnOf(KEY_TYPE, "ci-a", [ROTATING_ACCESS_KEY_TYPE]), parent: component, props: { user: USER } };
      const flagged = await pack.analyze(key);
      assert.deepEqual(
        flagged.map((d) => d.policyName),
        ["iam-access-key-creation"],
      );
      assert.match(flagged[0]?.message ?? "", /RotatingAccessKey keeps it young, but it is still a long-lived credential/);
      await pack.configure({ "iam-access-key-creation": { allowedUsers: [USER] } });
      assert.deepEqual(await pack.analyze(key), []);
      await pack.configure({});
    });

    it("after a pause, reports the stale key of the component with how to get the schedule going again", async () => {
      const before = every(START, DAY_MS, START + 30 * DAY_MS);
      const updates = await simulate([...before, START + 90 * DAY_MS], {}, false);
      const late = updates[updates.length - 1] as Update;
      const ds = (await pack.analyzeStack(stackAt(late, "preview", Date.now()))).filter((d) => d.policyName === "iam-access-key-max-age");
      seen.push(...ds);
      assert.ok(ds.length >= 1, "the stale key is reported");
      for (const d of ds) {
        assert.match(d.message, /Its RotatingAccessKey missed updates \(needed every \(maxAgeDays − warnDays\)\/6 days\): exempt the user for a week and run `pulumi up`\.$/);
        assert.doesNotMatch(d.message, /--replace/);
        assert.ok(d.message.length - d.description.length - 1 <= 256, `message of ${d.message.length - d.description.length - 1} characters`);
      }
    });

    it("names RotatingAccessKey as the fix for a plain aws.iam.AccessKey past its age, and words the component's expiring keys", async () => {
      const ago = (days: number) => iso(Date.now() - days * DAY_MS);
      const ds = await pack.analyzeStack([
        { type: "pulumi:pulumi:Stack", name: "app-dev", props: {} },
        { type: KEY_TYPE, name: "plain", props: { user: USER, status: "Active", createDate: ago(40) } },
        { type: KEY_TYPE, name: "ci-b", urn: urnOf(KEY_TYPE, "ci-b", [ROTATING_ACCESS_KEY_TYPE]), parent: component, props: { user: USER, status: "Active", createDate: ago(26) } },
      ]);
      seen.push(...ds);
      assert.deepEqual(
        ds.map((d) => [d.policyName, d.urn]),
        [
          ["iam-access-key-max-age", urnOf(KEY_TYPE, "plain")],
          ["iam-access-key-expiring", urnOf(KEY_TYPE, "ci-b", [ROTATING_ACCESS_KEY_TYPE])],
        ],
      );
      assert.match(ds[0]?.message ?? "", /`pulumi up --replace '[^']+'`; to keep it young, declare it as keyage\/pulumi's RotatingAccessKey instead of aws\.iam\.AccessKey\.$/);
      assert.match(ds[1]?.message ?? "", /Run `pulumi up`, at least every \(maxAgeDays − warnDays\)\/6 days: its RotatingAccessKey renews it in its window\.$/);
    });

    after(() => {
      for (const d of seen) assert.ok(!/secret-of-/.test(d.message), "a diagnostic shows a key's secret");
    });
  });
});

interface RegisterRequest {
  getName(): string;
  getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
  getDeletebeforereplace(): boolean;
}
