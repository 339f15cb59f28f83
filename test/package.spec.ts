// The npm package as a user gets it: `npm pack`, then installed into an empty project offline (from the
// local npm cache) with production dependencies only. From there: the `keyage` bin, the Config rule's
// zip, the pack entry the Pulumi CLI starts, every `exports` entry (loaded quietly, starting nothing), and
// a team's own pack built with `keyagePolicies` driven over the Analyzer gRPC protocol.
import { strict as assert } from "node:assert";
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { DAY_MS } from "../shared";
import { EXAMPLE_VERDICTS, OFFLINE_AWS_ENV } from "./fixtures";
import { REPO_ROOT } from "./fixtures/build";
import { type ProcessResult, runProcess } from "./fixtures/process";
import { closure, footprint, footprintMismatch, installOffline, keyageEntry, packOnce, typeCheck } from "./fixtures/offline-install";
import { PackProcess, urnOf, type ResourceInput } from "./harness/analyzer";

const exec = promisify(execFile);
const PROBE = path.join(__dirname, "harness", "analyzer-probe.js");
const KEY = "aws:iam/accessKey:AccessKey";
const NOW = "2026-11-29T12:00:00Z";

interface Manifest {
  version: string;
  main: string;
  license: string;
  bin: Record<string, string>;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  exports: Record<string, string | { types: string; default: string }>;
}
const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as Manifest;

/** Child processes get the tests' offline AWS environment and refuse every non-local socket. */
function childEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...OFFLINE_AWS_ENV, NODE_OPTIONS: `--require ${JSON.stringify(PROBE)}` };
}

const node = (args: string[], cwd: string, timeoutMs = 10_000): Promise<ProcessResult> => runProcess(process.execPath, args, { cwd, env: childEnv(), timeout: timeoutMs });

function ago(ms: number): string {
  return new Date(Math.floor((Date.now() - ms) / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function key(name: string, createDate: string): ResourceInput {
  return { type: KEY, name, props: { user: "ci-deployer", status: "Active", createDate, secret: "not-shown" } };
}

describe("the npm package, packed and installed offline", function () {
  // Build (~15 s), pack, and an offline install of the production dependencies (~10 s) on a shared machine.
  this.timeout(240_000);
  let project: string;
  let installed: string;

  before(async () => {
    const tarball = await packOnce();
    project = mkdtempSync(path.join(tmpdir(), "keyage-package-"));
    // The project is a team's own policy pack (test/fixtures/own-pack) that depends on keyage and, as
    // keyage's peer, @pulumi/policy (which brings @pulumi/pulumi).
    cpSync(path.join(__dirname, "fixtures", "own-pack"), project, { recursive: true });
    const dependencies = { keyage: `file:${tarball}`, "@pulumi/policy": manifest.devDependencies["@pulumi/policy"] as string };
    const own = JSON.parse(readFileSync(path.join(project, "package.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ ...own, dependencies }, null, 2));
    await installOffline(project, { dependencies, packages: { "node_modules/keyage": keyageEntry(tarball), ...closure({ ...manifest.dependencies, "@pulumi/policy": dependencies["@pulumi/policy"] }) } });
    installed = path.join(project, "node_modules", "keyage");
  });

  after(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("gives `npx keyage`, which audits the example report with the documented exit status", async () => {
    const report = path.join(installed, "examples", "credential-report.csv");
    const { stdout } = await exec("npx", ["--no", "keyage", "audit", "--credential-report", report, "--now", NOW, "--format", "json"], { cwd: project, env: childEnv() }).then(
      () => assert.fail("a report with violations must exit 1"),
      (err: { code: number; stdout: string; stderr: string }) => {
        assert.equal(err.code, 1, err.stderr);
        return err;
      },
    );
    const audit = JSON.parse(stdout) as { users: { user: string; compliance: string }[] };
    assert.deepEqual(Object.fromEntries(audit.users.map((u) => [u.user, u.compliance])), EXAMPLE_VERDICTS);
  });

  it("ships the Config rule's deployment zip and the policy pack's files", () => {
    const zip = readFileSync(path.join(installed, "dist", "config-rule.zip"));
    assert.equal(zip.subarray(0, 2).toString(), "PK");
    for (const file of ["PulumiPolicy.yaml", "LICENSE", manifest.main, "dist/pack/index.js", "dist/pack/package.json", "docs/cli.md", "docs/schema/audit-v1.schema.json"]) {
      assert.ok(existsSync(path.join(installed, file)), `${file} is missing from the package`);
    }
    assert.match(readFileSync(path.join(installed, "LICENSE"), "utf8"), /Apache License\s+Version 2\.0, January 2004/);
  });

  it("ships the scheduled rotator's deployment zip, exported as keyage/rotator.zip", () => {
    const zip = readFileSync(path.join(installed, "dist", "rotator.zip"));
    assert.equal(zip.subarray(0, 2).toString(), "PK");
    assert.equal(manifest.exports["./rotator.zip"], "./dist/rotator.zip");
  });

  it("installs neither @pulumi/aws nor the dev tools", () => {
    for (const name of ["@pulumi/aws", "typescript", "mocha", "esbuild"]) {
      assert.ok(!existsSync(path.join(project, "node_modules", name)), `${name} was installed`);
    }
  });

  it("holds one copy of @pulumi/pulumi (keyage names it as a peer; the pack's @pulumi/policy brings it), at the documented size (b)", async () => {
    const { stdout } = await exec("npm", ["ls", "@pulumi/pulumi", "--all", "--parseable"], { cwd: project, env: childEnv() });
    assert.deepEqual(stdout.trim().split("\n"), [path.join(project, "node_modules", "@pulumi", "pulumi")]);
    const measured = await footprint(project);
    console.log(`      install (b), a pack composing keyage/policies: ${measured.packages} packages, ${measured.megabytes} MB`);
    assert.equal(footprintMismatch("b", measured), "");
  });

  it("starts as a policy pack when the Pulumi CLI runs it (`--policy-pack node_modules/keyage`)", async () => {
    const runner = path.join(project, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack");
    const child = spawn(process.execPath, [runner, "127.0.0.1:1", installed], { cwd: installed, env: childEnv() });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        let err = "";
        const timer = setTimeout(() => reject(new Error(`no port line within 30 s; stderr: ${err}`)), 30_000);
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes("\n")) {
            clearTimeout(timer);
            resolve(out.split("\n")[0] as string);
          }
        });
        child.on("exit", (code) => reject(new Error(`the pack exited with ${code}; stderr: ${err}`)));
      });
      assert.match(line, /^\d+$/);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("lets every `exports` entry be required without printing, serving or dialling anything", async () => {
    const expected: Record<string, string> = { keyage: "evaluateUser", "keyage/policies": "keyagePolicies", "keyage/config-rule": "handler" };
    for (const [entry, name] of Object.entries(expected)) {
      const script = `const m = require(${JSON.stringify(entry)}); if (typeof m[${JSON.stringify(name)}] !== "function") process.exitCode = 9;`;
      const { status: code, signal, stdout, stderr } = await node(["-e", script], project);
      assert.deepEqual({ entry, code, signal, stdout, stderr }, { entry, code: 0, signal: null, stdout: "", stderr: "" });
    }
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (typeof target === "object") assert.ok(existsSync(path.join(installed, target.types)), `${subpath}: ${target.types} is missing`);
    }
    const hidden = await node(["-e", 'require("keyage/dist/policypack/index.js")'], project);
    assert.match(hidden.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/, "the server-starting pack entry must not be importable by name");
  });

  it("ships type declarations a TypeScript pack compiles against, under old and new module resolution", async () => {
    const typed = [
        'import { PolicyPack } from "@pulumi/policy";',
        'import { keyagePolicies, type KeyagePolicyOptions } from "keyage/policies";',
        'import { evaluateUser, validateParams, readPolicyConfig } from "keyage";',
        'import { handler } from "keyage/config-rule";',
        'const options: KeyagePolicyOptions = { maxAgeDays: 90, warnDays: 14, enforcementLevel: { "iam-access-key-creation": "disabled" } };',
        'export const pack = () => new PolicyPack("acme-keys", { policies: keyagePolicies(options) });',
        "export const verdict = evaluateUser({ user: \"a\", keys: [] }, validateParams({ maxAgeDays: 90 }), Date.now());",
        "export const settings = readPolicyConfig({});",
        "export const lambda: (event: never, context: never) => Promise<unknown> = handler;",
    ];
    // Pulumi's TypeScript templates compile as CommonJS (classic "node" resolution); newer projects use node16.
    for (const resolution of [["--module", "commonjs"], ["--module", "node16", "--moduleResolution", "node16"]]) {
      const result = await typeCheck(project, typed, resolution);
      assert.equal(result, "", `${resolution.join(" ")}:\n${result}`);
    }
  });

  it("builds a team's own pack with keyagePolicies: one custom limit in every message, over the Analyzer protocol", async () => {
    const pack = await PackProcess.start({ root: project, probe: true });
    try {
      const info = await pack.getAnalyzerInfo();
      assert.deepEqual([info.name, info.version], ["acme-keys", "1.2.3"]);
      assert.deepEqual(
        info.policies.map((p) => [p.name, p.enforcementLevel]),
        [
          ["iam-access-key-max-age", "mandatory"],
          ["iam-access-key-expiring", "advisory"],
          ["iam-access-key-creation", "disabled"],
        ],
      );
      await pack.configure({});
      const ds = await pack.analyzeStack([key("k30", ago(30 * DAY_MS)), key("k40", ago(40 * DAY_MS)), key("k50", ago(50 * DAY_MS))]);
      assert.deepEqual(
        ds.map((d) => [d.policyName, d.urn]),
        [
          ["iam-access-key-max-age", urnOf(KEY, "k50")],
          ["iam-access-key-expiring", urnOf(KEY, "k40")],
        ],
      );
      assert.match(ds[0]?.message ?? "", /is 50 days old, over the 45-day limit; rotate it\. The 45-day limit is iam-access-key-max-age's maxAgeDays\./);
      assert.match(ds[1]?.message ?? "", /is 40 days old and expires within 5 days \(limit 45 days\)\. The 45-day limit is iam-access-key-max-age's maxAgeDays\./);
      assert.deepEqual(await pack.analyze({ type: KEY, name: "k", props: { user: "ci-deployer" } }), []);
    } finally {
      const report = await pack.stop();
      assert.deepEqual(report?.awsModules, [], "the own pack loaded an AWS SDK or @pulumi/aws");
      assert.deepEqual(report?.refusedConnections, []);
    }
  });
});

describe("npm start", function () {
  this.timeout(60_000);

  it("fails loudly when dist/ is missing instead of reporting violations", async () => {
    const bare = mkdtempSync(path.join(tmpdir(), "keyage-start-"));
    try {
      writeFileSync(path.join(bare, "package.json"), readFileSync(path.join(REPO_ROOT, "package.json")));
      const failure = await exec("npm", ["start", "--silent"], { cwd: bare, env: childEnv() }).then(
        () => undefined,
        (err: { code: number; stderr: string }) => err,
      );
      assert.ok(failure, "npm start succeeded without dist/");
      assert.match(failure.stderr, /keyage: keyage is not built and its dependencies are not installed: run npm ci first/);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
