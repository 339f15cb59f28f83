// Organization audit bench: `keyage audit --organization` over ACCOUNTS accounts × USERS users (20 %
// violators) on the fake organization (test/fake-aws/organization.ts), every IAM answer delayed by
// BENCH_LATENCY_MS as in the Config rule's bench. Figures: wall time, and AWS calls per account held
// against the floor = what the single-account live audit (`keyage audit`) costs for the same account, plus
// the one AssumeRole. Compared, in the same run, with the naive approach: the same audit run account after
// account (a shell loop of `keyage audit --organization --accounts ID`), which makes the same calls.
//
// Run: npm run bench -- organization   (env: BENCH_ACCOUNTS=50 BENCH_USERS=100 BENCH_LATENCY_MS=20)
import type { CliIO } from "../cli/io";
import type { JsonAudit } from "../cli/json";
import { run } from "../cli/main";
import { ACCOUNT_CONCURRENCY } from "../cli/organization";
import { orgClients as factory } from "../test/fake-aws/org-clients";
import { startFakeOrganization, type FakeOrganization } from "../test/fake-aws/organization";
import { makeAwsEnvOffline } from "../test/fixtures";

// Also when started on its own (not through bench/index.ts): the CLI's clients read the credentials chain.
makeAwsEnvOffline();

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 50);
const USERS = Number(process.env.BENCH_USERS ?? 100);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const VIOLATOR_EVERY = 5;
const ROLE = "keyage-audit";
const CENTRAL = "100000000000";

type Calls = Record<string, number>;
const total = (calls: Calls): number => Object.values(calls).reduce((a, b) => a + b, 0);


/** One CLI run on the fake organization, `--format json`; throws with the CLI's exit status and stderr when it prints no document. */
export async function keyage(org: FakeOrganization, argv: string[]): Promise<{ status: number; doc: JsonAudit; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIO = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: {}, clients: factory(org) };
  const status = await run([...argv, "--format", "json"], io);
  // A pass that prints no document is a broken bench, not a figure: say why, loudly, with what the CLI said.
  if (stdout.trim() === "") throw new Error(`keyage ${argv.join(" ")} printed no JSON document (exit ${status}); its stderr:\n${stderr || "(empty)"}`);
  return { status, doc: JSON.parse(stdout) as JsonAudit, stderr };
}

/** Every account's IAM calls (its fake) since the last reset, plus the organization's own. */
function callsOf(org: FakeOrganization): { perAccount: Map<string, number>; org: Calls } {
  const perAccount = new Map<string, number>();
  for (const a of org.accounts.values()) perAccount.set(a.id, total(a.fake.calls));
  return { perAccount, org: { ...org.calls } };
}

function reset(org: FakeOrganization): void {
  for (const a of org.accounts.values()) {
    a.fake.resetCounts();
    // A fresh report for every run: each account generates it once, as on a first audit of the day.
    a.fake.report = undefined;
  }
  for (const k of Object.keys(org.calls)) delete org.calls[k];
}

async function main(): Promise<void> {
  const members = Array.from({ length: ACCOUNTS - 1 }, (_, i) => String(100000000001 + i));
  const org = await startFakeOrganization({ central: CENTRAL, members, roles: [ROLE] });
  for (const a of org.accounts.values()) {
    a.fake.latencyMs = LATENCY_MS;
    for (let u = 0; u < USERS; u += 1) a.fake.addUser(`user-${u}`, { keys: [{ ageDays: u % VIOLATOR_EVERY === 0 ? 45 : 1 + (u % 25) }] });
  }
  console.log(`organization audit: ${ACCOUNTS} accounts × ${USERS} users (1 in ${VIOLATOR_EVERY} violating), ${LATENCY_MS} ms per IAM call, ${ACCOUNT_CONCURRENCY} accounts at a time`);

  // The floor: the single-account live audit of one account, with the caller's own credentials.
  reset(org);
  const single = await keyage(org, ["audit"]);
  const floor = total(org.account(CENTRAL).fake.calls);
  const floorCalls = { ...org.account(CENTRAL).fake.calls };

  reset(org);
  let started = performance.now();
  const ours = await keyage(org, ["audit", "--organization", "--role-name", ROLE]);
  const oursMs = performance.now() - started;
  const oursCalls = callsOf(org);

  reset(org);
  started = performance.now();
  let naiveUsers = 0;
  const naiveStatuses = new Set<number>();
  for (const id of [CENTRAL, ...members]) {
    const one = await keyage(org, ["audit", "--organization", "--role-name", ROLE, "--accounts", id]);
    naiveStatuses.add(one.status);
    naiveUsers += one.doc.users.length;
  }
  const naiveMs = performance.now() - started;
  await org.close();

  const per = [...oursCalls.perAccount.values()];
  const assumed = oursCalls.org.AssumeRole ?? 0;
  const perAccount = (total(Object.fromEntries(oursCalls.perAccount)) + assumed) / ACCOUNTS;
  const checks: string[] = [];
  if (ours.status !== 1 || single.status !== 1) checks.push(`UNEXPECTED EXIT ${ours.status}/${single.status}: ${ours.stderr}`);
  if ([...naiveStatuses].some((s) => s !== 1)) checks.push(`UNEXPECTED EXIT IN THE NAIVE PASS ${[...naiveStatuses].join("/")}`);
  if (ours.doc.accounts?.some((a) => a.status !== "audited")) checks.push("ACCOUNT NOT AUDITED");
  if (ours.doc.users.length !== ACCOUNTS * (USERS + 1) || naiveUsers !== ours.doc.users.length) checks.push(`WRONG USER COUNT ${ours.doc.users.length}/${naiveUsers}`);
  if (assumed !== ACCOUNTS) checks.push(`ASSUMEROLE ${assumed} ≠ ${ACCOUNTS}`);
  if (per.some((n) => n !== floor)) checks.push(`OVER FLOOR (${Math.min(...per)}–${Math.max(...per)} IAM calls in an account, floor ${floor})`);
  console.log(`single-account floor: ${floor} calls (${Object.entries(floorCalls).map(([k, v]) => `${k}=${v}`).join(" ")})`);
  console.log(`organization: ListAccounts=${oursCalls.org.ListAccounts ?? 0} (pages of 20), AssumeRole=${assumed}`);
  console.log(`calls per account: ${perAccount.toFixed(2)} = floor ${floor} + 1 AssumeRole${oursCalls.org.ListAccounts ? ` + ${((oursCalls.org.ListAccounts ?? 0) / ACCOUNTS).toFixed(2)} ListAccounts` : ""}`);
  console.log(`wall time: ${oursMs.toFixed(0)} ms (${(oursMs / ACCOUNTS).toFixed(0)} ms per account); account after account: ${naiveMs.toFixed(0)} ms; ${(naiveMs / oursMs).toFixed(1)}× faster`);
  console.log(checks.length === 0 ? "check: every account audited, calls at the floor + 1 AssumeRole" : `check: ${checks.join("; ")}`);
  if (checks.length > 0) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`organization bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
