// keyage audit of a 5,000-user credential report, timed as a whole process (node start-up included),
// the way a person or a CI job runs the installed command: `node dist/cli/main.js audit ... --format json`.
// Target: median <= 0.3 s. Compared in the same run with the naive approach of loading every AWS SDK
// client up front (what a CLI with top-level imports does), and with running the TypeScript via ts-node.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..");
const MAIN = path.join(ROOT, "dist", "cli", "main.js");
const USERS = 5000;
const RUNS = 9;
const TARGET_S = 0.3;

if (!existsSync(MAIN)) {
  console.error(`${MAIN} is missing: run npm run build first`);
  process.exit(2);
}

function report(users: number): string {
  const header =
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active," +
    "access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service," +
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service," +
    "cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
  const now = Date.parse("2026-11-29T12:00:00Z");
  const t = (ms: number): string => new Date(ms).toISOString().replace(".000Z", "+00:00");
  const rows = [`<root_account>,arn:aws:iam::123456789012:root,${t(now - 2000 * 864e5)},not_supported,N/A,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`];
  let seed = 42;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < users; i += 1) {
    const slot = (): string => {
      const r = rand();
      if (r < 0.3) return "false,N/A,N/A,N/A,N/A";
      const created = now - Math.floor(rand() * 120 * 864e5);
      return `${r < 0.9 ? "true" : "false"},${t(created)},${t(now - 3600e3)},us-east-1,s3`;
    };
    rows.push(`svc-${i},arn:aws:iam::123456789012:user/team${i % 40}/svc-${i},${t(now - 900 * 864e5)},false,N/A,N/A,N/A,false,${slot()},${slot()},false,N/A,false,N/A`);
  }
  return `${header}\n${rows.join("\n")}\n`;
}

const file = path.join(mkdtempSync(path.join(tmpdir(), "keyage-bench-")), "report.csv");
writeFileSync(file, report(USERS));
const env = { ...process.env, NO_COLOR: "1" };
const args = ["audit", "--credential-report", file, "--format", "json", "--now", "2026-11-29T12:00:00Z"];

function time(nodeArgs: string[], runs: number): { median: number; min: number } {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const t0 = process.hrtime.bigint();
    const out = spawnSync(process.execPath, [...nodeArgs, ...args], { cwd: ROOT, env, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" });
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    // The output must be right, or the timing means nothing: 5,000 users + root, exit 1 (violations).
    const users = out.stdout ? (JSON.parse(out.stdout) as { summary: { users: number } }).summary.users : -1;
    if (out.status !== 1 || users !== USERS + 1) {
      console.error(`wrong result from node ${nodeArgs.join(" ")}: status ${out.status}, users ${users}\n${out.stderr}`);
      process.exit(1);
    }
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)] as number, min: times[0] as number };
}

const nodeOnly = (() => {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const t0 = process.hrtime.bigint();
    spawnSync(process.execPath, ["-e", "0"]);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)] as number;
})();
const lazy = time([MAIN], RUNS);
const SDK = ["@aws-sdk/client-iam", "@aws-sdk/client-secrets-manager", "@aws-sdk/client-securityhub", "@aws-sdk/client-sts"];
const eager = time([...SDK.flatMap((m) => ["-r", m]), MAIN], RUNS);
const tsNode = time(["-r", "ts-node/register/transpile-only", path.join(ROOT, "cli", "main.ts")], 3);

const s = (x: number): string => `${x.toFixed(3)} s`;
console.log(`keyage audit, ${USERS}-user credential report, --format json, whole process, median of ${RUNS} (min in brackets)`);
console.log(`  node -e 0 (start-up alone)             ${s(nodeOnly)}`);
console.log(`  keyage (compiled, lazy SDK)            ${s(lazy.median)} (${s(lazy.min)})   target <= ${TARGET_S} s: ${lazy.median <= TARGET_S ? "met" : "NOT MET"}`);
console.log(`  naive: every SDK client loaded eagerly ${s(eager.median)} (${s(eager.min)})   ${(eager.median / lazy.median).toFixed(1)}x slower`);
console.log(`  naive: through ts-node (median of 3)   ${s(tsNode.median)} (${s(tsNode.min)})   ${(tsNode.median / lazy.median).toFixed(1)}x slower`);

// Where the time goes, measured in this process on a cold module cache (first call, like the CLI's):
// the shared rule module's parse and evaluate dominate; the CLI's own formatting is small.
/* eslint-disable @typescript-eslint/no-require-imports */
const t0 = process.hrtime.bigint();
const shared = require(path.join(ROOT, "dist", "shared")) as typeof import("../shared");
const text = require("node:fs").readFileSync(file, "utf8") as string;
const t1 = process.hrtime.bigint();
const parsed = shared.parseCredentialReport(text);
const t2 = process.hrtime.bigint();
const model = require(path.join(ROOT, "dist", "cli", "model")) as typeof import("../cli/model");
const audit = model.evaluateAll(parsed, shared.validateParams({}), Date.parse("2026-11-29T12:00:00Z"), file);
const t3 = process.hrtime.bigint();
const json = (require(path.join(ROOT, "dist", "cli", "json")) as typeof import("../cli/json")).formatJson(audit);
const t4 = process.hrtime.bigint();
const ms = (a: bigint, b: bigint): string => `${(Number(b - a) / 1e6).toFixed(0)} ms`.padStart(7);
console.log(`  breakdown (in-process, first call): load ${ms(t0, t1)}, parseCredentialReport ${ms(t1, t2)}, evaluateUser x${USERS + 1} ${ms(t2, t3)}, JSON ${ms(t3, t4)} (${(json.length / 1e6).toFixed(1)} MB)`);
