// Scheduled rotator bench: what one run costs when nothing is due (N users, 100 of them opted in to
// rotation, every key young): IAM calls by action and wall time, next to a naive reader that finds the
// opted-in users with ListUsers and ListUserTags per user (the only per-user way IAM offers to read tags),
// against the same local fake IAM/Secrets Manager/EventBridge with a fixed per-call latency, in the same
// run. The target is ⌈N/1000⌉ + 3 IAM calls a run; the bench fails when a run needs more.
//
// Run: npm run bench -- rotator   (env: BENCH_SIZES=1000,5000  BENCH_OPTED_IN=100  BENCH_LATENCY_MS=20
//   BENCH_NAIVE_CONCURRENCY=8)
import { IAMClient, ListUserTagsCommand, ListUsersCommand } from "@aws-sdk/client-iam";
import { pool } from "../aws/calls";
import { startWorld, type World } from "../test/rotator-harness";

const SIZES = (process.env.BENCH_SIZES ?? "1000,5000").split(",").map(Number);
const OPTED_IN = Number(process.env.BENCH_OPTED_IN ?? 100);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const NAIVE_CONCURRENCY = Number(process.env.BENCH_NAIVE_CONCURRENCY ?? 8);

type Calls = Record<string, number>;
const total = (calls: Calls): number => Object.values(calls).reduce((a, b) => a + b, 0);
const fmt = (calls: Calls): string =>
  Object.entries(calls)
    .sort()
    .map(([k, v]) => `${k.replace("GetAccountAuthorizationDetails", "GetAccountAuthDetails").replace("CredentialReport", "Report")}=${v}`)
    .join(" ");
const IAM_ACTIONS = /^(Get|List|Generate|Create|Update|Delete|Tag|Untag)/;
const iamOnly = (calls: Calls): Calls => Object.fromEntries(Object.entries(calls).filter(([a]) => IAM_ACTIONS.test(a) && !a.startsWith("GetSecret")));

function populate(world: World, n: number): void {
  const every = Math.max(1, Math.floor(n / OPTED_IN));
  for (let i = 0; i < n; i += 1) {
    const name = `user-${String(i).padStart(5, "0")}`;
    const keys = [{ ageDays: 1 + (i % 20) }];
    if (i % every === 0 && i / every < OPTED_IN) world.optIn(name, keys, { owner: "team@example.com" });
    else world.fake.addUser(name, { keys });
  }
}

/** The naive way to find opted-in users: every user's tags read on their own. */
async function naive(world: World): Promise<number> {
  const iam = new IAMClient({ endpoint: world.fake.url, region: "us-east-1" });
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(new ListUsersCommand({ MaxItems: 1000, Marker: marker }));
    for (const u of page.Users ?? []) names.push(u.UserName as string);
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  let optedIn = 0;
  await pool(names, NAIVE_CONCURRENCY, async (name) => {
    const tags = await iam.send(new ListUserTagsCommand({ UserName: name }));
    if ((tags.Tags ?? []).some((t) => t.Key === "keyage:rotate")) optedIn += 1;
  });
  iam.destroy();
  return optedIn;
}

async function main(): Promise<void> {
  let over = 0;
  console.log(`scheduled rotator, nothing due: ${OPTED_IN} users opted in, ${LATENCY_MS} ms per call, naive concurrency ${NAIVE_CONCURRENCY}`);
  for (const n of SIZES) {
    const world = await startWorld(Date.now(), { latencyMs: LATENCY_MS });
    try {
      populate(world, n);
      const target = Math.ceil(n / 1000) + 3;
      for (const label of ["first run (report generated)", "second run (report reused)"]) {
        world.fake.resetCounts();
        const t0 = process.hrtime.bigint();
        const summary = await world.run({ mode: "apply" });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const iam = iamOnly(world.fake.calls);
        const ok = total(iam) <= target;
        if (!ok) over += 1;
        console.log(
          `  N=${n} keyage ${label}: ${total(iam)} IAM calls (target ≤ ${target} ${ok ? "met" : "MISSED"}) [${fmt(world.fake.calls)}], ` +
            `${summary.optedIn} opted in, ${summary.read} read, ${ms.toFixed(0)} ms`,
        );
        world.now += 3600_000;
      }
      // Ten opted-in users fall due: each costs its own reads (keys, last use, tags, the secret) and writes.
      const due = [...world.fake.users.values()].filter((u) => world.fake.userTags.get(u.name)?.has("keyage:rotate")).slice(0, 10);
      for (const u of due) for (const k of u.keys) k.createDate = new Date(world.now - 25 * 86_400_000);
      world.fake.report = undefined; // as if those keys had always been that old: the next report shows them
      world.fake.resetCounts();
      const d0 = process.hrtime.bigint();
      const dueRun = await world.run({ mode: "apply" });
      const dueMs = Number(process.hrtime.bigint() - d0) / 1e6;
      const extra = total(iamOnly(world.fake.calls)) - (Math.ceil(n / 1000) + 3);
      console.log(
        `  N=${n} keyage, ${due.length} users due: ${dueRun.steps.create} rotated, ${total(world.fake.calls)} calls [${fmt(world.fake.calls)}], ` +
          `${(extra / Math.max(1, due.length)).toFixed(1)} IAM calls per due user beyond the floor, ${dueMs.toFixed(0)} ms`,
      );
      world.fake.resetCounts();
      const t0 = process.hrtime.bigint();
      const found = await naive(world);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      console.log(`  N=${n} naive (ListUsers + ListUserTags per user): ${total(world.fake.calls)} IAM calls [${fmt(world.fake.calls)}], ${found} opted in, ${ms.toFixed(0)} ms`);
    } finally {
      await world.close();
    }
  }
  if (over > 0) {
    console.error(`rotator bench: ${over} run(s) above the ⌈N/1000⌉ + 3 IAM call target`);
    process.exit(1);
  }
}

void main();
