// The benches as `npm run bench` runs them (bench/index.ts, each bench in its own process): whatever the
// shell around them holds, they talk only to their local fakes with dummy credentials, and a pass that gets
// no answer stops the bench with the CLI's own message instead of a TypeError.
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { type ProcessResult, runTypeScript } from "./fixtures/process";

const ROOT = path.join(__dirname, "..");

function bench(name: string, env: Record<string, string>): Promise<ProcessResult> {
  return runTypeScript(path.join(ROOT, "bench", "index.ts"), [name], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/nonexistent", TS_NODE_TRANSPILE_ONLY: "true", ...env },
  });
}

describe("npm run bench", () => {
  it("runs the organization bench in a shell that names an AWS profile and a session token of its own (they never reach the bench)", async function () {
    this.timeout(120_000);
    const result = await bench("organization", {
      BENCH_ACCOUNTS: "3",
      BENCH_USERS: "5",
      BENCH_LATENCY_MS: "0",
      // A developer's shell: the SDK prefers AWS_PROFILE to the dummy key pair, and the profile is nowhere.
      AWS_PROFILE: "someone-else",
      AWS_SESSION_TOKEN: "not-for-the-bench",
    });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /check: every account audited, calls at the floor \+ 1 AssumeRole/);
  });
});

describe("bench/organization.bench.ts", () => {
  it("stops with the CLI's exit status and stderr when a pass prints no JSON document", async () => {
    const { keyage } = await import("../bench/organization.bench");
    const { startFakeOrganization } = await import("./fake-aws/organization");
    const org = await startFakeOrganization({ central: "100000000000", members: [] });
    try {
      await assert.rejects(keyage(org, ["audit", "--organization", "--role-name", "keyage-audit", "--accounts", "not-an-account"]), (err: Error) => {
        assert.match(err.message, /printed no JSON document \(exit 2\)/);
        assert.match(err.message, /--accounts/, "the CLI's own message is shown");
        return true;
      });
    } finally {
      await org.close();
    }
  });
});
