// Config rule bench: API calls by action and wall time of one periodic evaluation, keyage's vs the naive
// per-user approach; IAM calls and Config-side calls (the writes and the earlier-results sweep, which runs
// on every scheduled run) are each held against their own floor (ListUsers + ListAccessKeys for every user, as AWS's sample rules do), against the
// same local fake IAM/Config endpoint with a fixed per-call latency, in the same run. Then the bundle's
// zip size and cold import time (SDK bundled, as shipped, vs the SDK left to the Lambda runtime).
//
// Run: npm run bench -- config-rule   (env: BENCH_SIZES=100,1000,5000  BENCH_LATENCY_MS=20
//   BENCH_NAIVE_CONCURRENCY=8 — 1 makes the naive approach sequential, exactly like AWS's samples)
import { ConfigServiceClient, PutEvaluationsCommand, type Evaluation } from "@aws-sdk/client-config-service";
import { IAMClient, ListAccessKeysCommand, ListUsersCommand, type User } from "@aws-sdk/client-iam";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { defaultClientFactory } from "../aws/clients";
import { evaluate } from "../config-rule/evaluate";
import { pool } from "../aws/calls";
import { evaluateUser, validateParams } from "../shared";
import { startFakeAws, type FakeAws } from "../test/fake-aws";

const SIZES = (process.env.BENCH_SIZES ?? "100,1000,5000").split(",").map(Number);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const NAIVE_CONCURRENCY = Number(process.env.BENCH_NAIVE_CONCURRENCY ?? 8);
const VIOLATOR_SHARE = 0.2;
const ROOT = path.join(__dirname, "..");

type Calls = Record<string, number>;
const total = (calls: Calls): number => Object.values(calls).reduce((a, b) => a + b, 0);
const fmtCalls = (calls: Calls): string =>
  Object.entries(calls)
    .sort()
    .map(([k, v]) => `${k.replace("CredentialReport", "Report").replace("GetComplianceDetailsByConfigRule", "GetComplianceDetails")}=${v}`)
    .join(" ");

function populate(fake: FakeAws, n: number): void {
  for (let i = 0; i < n; i += 1) {
    const violator = i % Math.round(1 / VIOLATOR_SHARE) === 0;
    fake.addUser(`user-${String(i).padStart(5, "0")}`, { keys: [{ ageDays: violator ? 45 : 1 + (i % 25) }, ...(i % 3 === 0 ? [{ ageDays: 2, status: "Inactive" as const }] : [])] });
  }
}

function event(fake: FakeAws): Record<string, unknown> {
  return {
    invokingEvent: JSON.stringify({ messageType: "ScheduledNotification", notificationCreationTime: new Date().toISOString() }),
    ruleParameters: "{}",
    resultToken: "bench-token",
    configRuleName: fake.ruleName,
    accountId: fake.accountId,
  };
}

/** The naive rule: every user read on its own, as AWS's sample rules do. */
async function naive(fake: FakeAws): Promise<{ nonCompliant: number }> {
  const iam = new IAMClient({});
  const config = new ConfigServiceClient({});
  const users: User[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(new ListUsersCommand({ MaxItems: 1000, ...(marker ? { Marker: marker } : {}) }));
    users.push(...(page.Users ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  const params = validateParams();
  const now = Date.now();
  const evaluations: Evaluation[] = new Array(users.length);
  await pool(users, NAIVE_CONCURRENCY, async (u, i) => {
    const keys = await iam.send(new ListAccessKeysCommand({ UserName: u.UserName }));
    const verdict = evaluateUser({ user: u.UserName as string, keys: (keys.AccessKeyMetadata ?? []).map((k) => ({ accessKeyId: k.AccessKeyId, status: k.Status, createDate: k.CreateDate })) }, params, now);
    evaluations[i] = { ComplianceResourceType: "AWS::IAM::User", ComplianceResourceId: u.UserId, ComplianceType: verdict.compliance, Annotation: verdict.annotation, OrderingTimestamp: new Date() };
  });
  for (let i = 0; i < evaluations.length; i += 100) {
    await config.send(new PutEvaluationsCommand({ ResultToken: event(fake).resultToken as string, Evaluations: evaluations.slice(i, i + 100) }));
  }
  return { nonCompliant: evaluations.filter((e) => e.ComplianceType === "NON_COMPLIANT").length };
}

interface Measure {
  calls: Calls;
  ms: number;
  nonCompliant: number;
}

async function measure(fake: FakeAws, fn: () => Promise<{ nonCompliant: number }>): Promise<Measure> {
  fake.resetCounts();
  const start = performance.now();
  const { nonCompliant } = await fake.withEnv(fn);
  return { calls: { ...fake.calls }, ms: performance.now() - start, nonCompliant };
}

async function ours(fake: FakeAws): Promise<{ nonCompliant: number }> {
  const summary = await evaluate(event(fake), { getRemainingTimeInMillis: () => 900_000 }, { clients: defaultClientFactory(), log: () => undefined });
  return { nonCompliant: summary.verdicts.NON_COMPLIANT };
}

const IAM_ACTIONS = new Set(["ListUsers", "ListAccessKeys", "GenerateCredentialReport", "GetCredentialReport"]);
const pick = (calls: Calls, keep: (action: string) => boolean): Calls => Object.fromEntries(Object.entries(calls).filter(([a]) => keep(a)));

/** Users a stale report cannot vouch for: anything but two active keys within the limit (see aws/iam.ts). */
function unconfirmable(fake: FakeAws, maxAgeDays = 30): number {
  const now = Date.now();
  return [...fake.users.values()].filter((u) => u.keys.length < 2 || u.keys.some((k) => k.status !== "Active" || now - k.createDate.getTime() > maxAgeDays * 86_400_000)).length;
}

async function benchCalls(): Promise<boolean> {
  let ok = true;
  console.log(`periodic evaluation, ${LATENCY_MS} ms per call, ${VIOLATOR_SHARE * 100}% violators; naive reads ${NAIVE_CONCURRENCY} user(s) at a time`);
  console.log("IAM floor: ⌈N/1000⌉ ListUsers + Generate + Get (+ one ListAccessKeys per user a stale report cannot vouch for);");
  console.log("Config floor: ⌈N/100⌉ PutEvaluations + ⌈M/100⌉ pages of earlier results (M = results Config holds; at least 1 page)");
  console.log("users  report  IAM ours/floor  Config ours/floor (put+pages)  ours(calls)  naive(calls)  calls naive/ours  ours ms  naive ms  time naive/ours  check");
  for (const n of SIZES) {
    const violators = Math.ceil(n * VIOLATOR_SHARE);
    let naiveResult: Measure | undefined;
    // "first": no earlier results (the rule's first run); "fresh"/"stale": steady state, an earlier run
    // evaluated every user, so the sweep for deleted users pages through all of them.
    for (const scenario of ["first", "fresh", "stale"] as const) {
      const fake = await startFakeAws({ latencyMs: LATENCY_MS });
      populate(fake, n);
      const earlier = scenario === "first" ? 0 : n;
      if (scenario !== "first") for (const u of fake.users.values()) fake.seedEvaluation(u.userId, "COMPLIANT");
      fake.generateReport(new Date(Date.now() - (scenario === "stale" ? 60 * 60_000 : 5 * 60_000)));
      const confirmations = scenario === "stale" ? unconfirmable(fake) : 0;
      const mine = await measure(fake, () => ours(fake));
      naiveResult ??= await measure(fake, () => naive(fake));
      await fake.close();
      const iam = total(pick(mine.calls, (a) => IAM_ACTIONS.has(a)));
      const config = total(pick(mine.calls, (a) => !IAM_ACTIONS.has(a)));
      const iamFloor = Math.ceil(n / 1000) + 2 + confirmations;
      const puts = Math.max(1, Math.ceil(n / 100));
      const pages = Math.max(1, Math.ceil(earlier / 100));
      const configFloor = puts + pages;
      const callRatio = total(naiveResult.calls) / total(mine.calls);
      const timeRatio = naiveResult.ms / mine.ms;
      const checks = [iam <= iamFloor ? "IAM floor ok" : "IAM OVER FLOOR", config <= configFloor ? "Config floor ok" : "CONFIG OVER FLOOR"];
      if (scenario !== "stale" && n >= 5000) checks.push(callRatio >= 10 ? "≥10× calls ok" : "CALLS <10×", timeRatio >= 5 ? "≥5× time ok" : "TIME <5×");
      if (mine.nonCompliant !== violators || naiveResult.nonCompliant !== violators) checks.push(`WRONG VERDICTS ${mine.nonCompliant}/${naiveResult.nonCompliant}`);
      if (checks.some((c) => /[A-Z]{4}/.test(c))) ok = false;
      console.log(
        [
          String(n).padStart(5),
          scenario.padStart(6),
          `${iam}/${iamFloor}`.padStart(15),
          `${config}/${configFloor} (${puts}+${pages})`.padStart(29),
          String(total(mine.calls)).padStart(12),
          String(total(naiveResult.calls)).padStart(13),
          `${callRatio.toFixed(1)}×`.padStart(17),
          mine.ms.toFixed(0).padStart(8),
          naiveResult.ms.toFixed(0).padStart(9),
          `${timeRatio.toFixed(1)}×`.padStart(16),
          ` ${checks.join(", ")}`,
        ].join(" "),
      );
      console.log(`         ours:  ${fmtCalls(mine.calls)}`);
      if (scenario === "first") console.log(`         naive: ${fmtCalls(naiveResult.calls)}`);
    }
  }
  return ok;
}

function importTimes(file: string, runs: number, nodePath?: string): number[] {
  const script = `const t=process.hrtime.bigint();const m=require(${JSON.stringify(file)});const d=Number(process.hrtime.bigint()-t)/1e6;if(typeof m.handler!=="function")process.exit(3);console.log(d)`;
  const env = { ...process.env, ...(nodePath ? { NODE_PATH: nodePath } : {}) };
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const out = spawnSync(process.execPath, ["--no-warnings", "-e", script], { env, encoding: "utf8", cwd: tmpdir() });
    if (out.status !== 0) throw new Error(`importing ${file} failed: ${out.stderr}`);
    times.push(Number(out.stdout.trim().split("\n").pop()));
  }
  return times.sort((a, b) => a - b);
}

/** Builds the bundle with config-rule/build.mjs into a temporary directory (so a concurrent tsc cannot touch it). */
function buildInto(dir: string, sdk: "bundled" | "external"): { js: string; zip: string } {
  const env = { ...process.env, KEYAGE_DIST: dir, ...(sdk === "external" ? { KEYAGE_SDK: "external" } : {}) };
  const built = spawnSync(process.execPath, [path.join(ROOT, "config-rule", "build.mjs")], { env, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`build.mjs failed: ${built.stderr}`);
  return { js: path.join(dir, "config-rule", "index.js"), zip: path.join(dir, "config-rule.zip") };
}

function benchBundle(): boolean {
  const runs = 15;
  const median = (t: number[]): number => t[Math.floor(t.length / 2)] as number;
  const kib = (file: string): string => (statSync(file).size / 1024).toFixed(1);
  const dir = mkdtempSync(path.join(tmpdir(), "keyage-bench-"));
  try {
    const shipped = buildInto(path.join(dir, "bundled"), "bundled");
    const external = buildInto(path.join(dir, "external"), "external");
    const mine = importTimes(shipped.js, runs);
    // With the SDK left out, the runtime's SDK is stood in for by the project's node_modules.
    const ext = importTimes(external.js, runs, path.join(ROOT, "node_modules"));
    const zipBytes = statSync(shipped.zip).size;
    const ok = zipBytes <= 300 * 1024 && median(mine) <= 150;
    console.log(`\nbundle (config-rule/build.mjs; ${runs} cold imports each, a fresh node process per import)`);
    console.log(
      `  SDK bundled (shipped): zip ${kib(shipped.zip)} KiB (target <= 300), index.js ${kib(shipped.js)} KiB, ` +
        `cold import median ${median(mine).toFixed(1)} ms (min ${mine[0]?.toFixed(1)}, max ${mine.at(-1)?.toFixed(1)}; target <= 150) ${ok ? "ok" : "OVER TARGET"}`,
    );
    console.log(
      `  SDK external:          zip ${kib(external.zip)} KiB, index.js ${kib(external.js)} KiB, ` +
        `cold import median ${median(ext).toFixed(1)} ms (min ${ext[0]?.toFixed(1)}, max ${ext.at(-1)?.toFixed(1)}); SDK version = whatever the runtime ships`,
    );
    if (existsSync(path.join(ROOT, "dist", "config-rule.zip"))) console.log(`  dist/config-rule.zip from npm run build: ${kib(path.join(ROOT, "dist", "config-rule.zip"))} KiB`);
    return ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const a = await benchCalls();
  const b = benchBundle();
  if (!a || !b) process.exitCode = 1;
}

void main();
