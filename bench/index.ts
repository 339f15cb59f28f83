// Runs every bench/*.bench.ts (policypack, config-rule, cli, rotator, organization…) in its own process, one after
// another (so one's memory and JIT state never colours another's figures). `npm run bench -- NAME` runs
// only the benches whose file name contains NAME. Every bench talks only to 127.0.0.1: dummy
// credentials, no metadata lookups.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import * as path from "node:path";
import { makeAwsEnvOffline } from "../test/fixtures";

const filter = process.argv[2] ?? "";
const files = readdirSync(__dirname)
  .filter((f) => f.endsWith(".bench.ts") && f.includes(filter))
  .sort();
if (files.length === 0) {
  console.error(`no bench matches ${JSON.stringify(filter)}`);
  process.exit(2);
}
// The shell's AWS_PROFILE, session token or endpoints never reach a bench: the SDK would prefer the profile
// to the dummy key pair and fail every call before it reaches the fakes.
const env = makeAwsEnvOffline({ ...process.env });
let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file}`);
  const run = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, file)], { stdio: "inherit", env });
  if (run.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
