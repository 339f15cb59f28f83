// The packed tarball installed offline the two other ways a user installs it: the CLI alone (no Pulumi
// package at all: @pulumi/* are optional peers), and a Pulumi program of the user's own that imports
// keyage/pulumi next to its own @pulumi/pulumi and @pulumi/aws, run under Pulumi's mocks.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { EXAMPLE_VERDICTS, OFFLINE_AWS_ENV } from "./fixtures";
import { type ProcessResult, runProcess } from "./fixtures/process";
import { closure, footprint, footprintMismatch, installOffline, keyageEntry, keyageManifest, packOnce, repoLock, typeCheck } from "./fixtures/offline-install";

const exec = promisify(execFile);
const PROBE = path.join(__dirname, "harness", "analyzer-probe.js");
const NOW = "2026-11-29T12:00:00Z";

/** Child processes get the tests' offline AWS environment and refuse every non-local socket. */
function childEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...OFFLINE_AWS_ENV, NODE_OPTIONS: `--require ${JSON.stringify(PROBE)}` };
}

const node = (script: string, cwd: string): Promise<ProcessResult> => runProcess(process.execPath, [script], { cwd, env: childEnv(), timeout: 120_000 });

describe("the npm package installed for the CLI alone", function () {
  this.timeout(240_000);
  let project: string;

  before(async () => {
    const tarball = await packOnce();
    project = mkdtempSync(path.join(tmpdir(), "keyage-cli-only-"));
    const manifest = keyageManifest();
    // What `npm install keyage` resolves to: keyage's dependencies; its optional peers stay out.
    await installOffline(project, { dependencies: { keyage: `file:${tarball}` }, packages: { "node_modules/keyage": keyageEntry(tarball), ...closure(manifest.dependencies) } });
  });

  after(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("names every Pulumi package as an optional peer, none as a dependency", () => {
    const manifest = keyageManifest();
    const pulumi = ["@pulumi/aws", "@pulumi/policy", "@pulumi/pulumi"];
    assert.deepEqual(Object.keys(manifest.dependencies).filter((d) => d.startsWith("@pulumi/")), []);
    assert.deepEqual(Object.keys(manifest.peerDependencies).sort(), pulumi);
    for (const name of pulumi) assert.equal(manifest.peerDependenciesMeta[name]?.optional, true, name);
    // The repository's own install pins @pulumi/pulumi below 3.249, the first release that needs Node 22.
    assert.match(manifest.devDependencies["@pulumi/pulumi"] ?? "", /^3\.(\d|[1-9]\d|1\d\d|2[0-3]\d|24[0-8])\.\d+$/);
  });

  it("has no @pulumi package in node_modules, and `npx keyage audit --credential-report` works", async () => {
    assert.ok(!existsSync(path.join(project, "node_modules", "@pulumi")), "a @pulumi package was installed");
    const report = path.join(project, "node_modules", "keyage", "examples", "credential-report.csv");
    const failure = await exec("npx", ["--no", "keyage", "audit", "--credential-report", report, "--now", NOW, "--format", "json"], { cwd: project, env: childEnv() }).then(
      () => assert.fail("a report with violations must exit 1"),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    assert.equal(failure.code, 1, failure.stderr);
    const audit = JSON.parse(failure.stdout) as { users: { user: string; compliance: string }[] };
    assert.deepEqual(Object.fromEntries(audit.users.map((u) => [u.user, u.compliance])), EXAMPLE_VERDICTS);
  });

  it("is as large as docs/design.md says (a)", async () => {
    const measured = await footprint(project);
    console.log(`      install (a), the CLI alone: ${measured.packages} packages, ${measured.megabytes} MB`);
    assert.equal(footprintMismatch("a", measured), "");
  });
});

/** The scratch program: Pulumi's mocks record what `keyage/pulumi` registers, then it prints that as JSON. */
const PROGRAM = `"use strict";
const pulumi = require("@pulumi/pulumi");
const ACCOUNT = "123456789012";
const registered = [];
const pending = [];
pulumi.runtime.setMocks({
  newResource(args) {
    registered.push({ type: args.type, name: args.name, inputs: args.inputs });
    // A Lambda's code arrives as an archive whose path is still a promise.
    const code = args.inputs.code;
    if (code && code.path && typeof code.path.then === "function") pending.push(code.path.then((p) => { args.inputs.code = { path: p }; }));
    const name = args.inputs.name ?? args.name;
    return { id: args.name + "-id", state: { ...args.inputs, name, arn: "arn:aws:mock:us-east-1:" + ACCOUNT + ":" + args.type + "/" + name } };
  },
  call(args) {
    switch (args.token) {
      case "aws:index/getPartition:getPartition": return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com" };
      case "aws:index/getCallerIdentity:getCallerIdentity": return { id: ACCOUNT, accountId: ACCOUNT, arn: "arn:aws:iam::" + ACCOUNT + ":user/deployer", userId: "AIDAEXAMPLE" };
      case "aws:index/getRegion:getRegion": return { id: "us-east-1", region: "us-east-1", name: "us-east-1" };
      // The user's keys as IAM lists them: one key made 20 days before NOW, so a slot is due.
      case "aws:iam/getAccessKeys:getAccessKeys": return { id: args.inputs.user, user: args.inputs.user, accessKeys: [{ accessKeyId: "AKIAOLDKEY0000000001", createDate: "2026-11-09T12:00:00Z", status: "Active" }] };
      default: throw new Error("unexpected invoke " + args.token);
    }
  },
}, "scratch", "dev", false);

const { KeyageConfigRule, KeyageRotator, RotatingAccessKey } = require("keyage/pulumi");
let refused;
try {
  new KeyageConfigRule("bad", { maxAccessKeyAge: 0 });
} catch (error) {
  refused = { message: error.message, runError: pulumi.RunError.isInstance(error) };
}
const rule = new KeyageConfigRule("keys", { maxAccessKeyAge: 90 });
const rotator = new KeyageRotator("rot", { mode: "plan" });
const ci = new RotatingAccessKey("ci", { user: "ci-deployer", maxAgeDays: 30, now: "${NOW}" });
const outputs = {
  ciCurrentSlot: ci.currentSlot, ciCurrentIsSecret: pulumi.isSecret(ci.current).then(String),
  ruleName: rule.ruleName, ruleArn: rule.ruleArn, functionArn: rule.functionArn, executionRoleArn: rule.executionRoleArn,
  rotatorFunctionArn: rotator.functionArn, rotatorRoleArn: rotator.roleArn, scheduleName: rotator.scheduleName,
};
pulumi.all(outputs).apply((values) => {
  // Let the last registrations land before printing.
  setTimeout(async () => {
    await Promise.all(pending);
    const pulumiOfKeyage = require.resolve("@pulumi/pulumi", { paths: [require.resolve("keyage/pulumi")] });
    console.log(JSON.stringify({ registered, outputs: values, refused, pulumiOfKeyage, pulumiOfProgram: require.resolve("@pulumi/pulumi") }));
  }, 200);
});
`;

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

describe("the npm package in a Pulumi program of one's own (keyage/pulumi, under Pulumi's mocks)", function () {
  // @pulumi/aws alone is some 200 MB to unpack from the npm cache.
  this.timeout(480_000);
  let project: string;
  let run: { registered: Registered[]; outputs: Record<string, string>; refused?: { message: string; runError: boolean }; pulumiOfKeyage: string; pulumiOfProgram: string };

  before(async () => {
    const tarball = await packOnce();
    project = mkdtempSync(path.join(tmpdir(), "keyage-program-"));
    const manifest = keyageManifest();
    const lock = repoLock();
    const dependencies = {
      keyage: `file:${tarball}`,
      "@pulumi/pulumi": manifest.devDependencies["@pulumi/pulumi"] as string,
      "@pulumi/aws": lock["node_modules/@pulumi/aws"]?.version as string,
    };
    const { keyage: _keyage, ...theirs } = dependencies;
    await installOffline(project, { dependencies, packages: { "node_modules/keyage": keyageEntry(tarball), ...closure({ ...manifest.dependencies, ...theirs }, lock) } });
    writeFileSync(path.join(project, "index.js"), PROGRAM);
    const result = await node("index.js", project);
    assert.equal(result.status, 0, result.stderr);
    run = JSON.parse(result.stdout.trim().split("\n").pop() as string) as typeof run;
  });

  after(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  const of = (type: string) => run.registered.filter((r) => r.type === type);

  it("registers the two components under their type tokens, every child named after its component", () => {
    assert.deepEqual(of("keyage:index:ConfigRule").map((r) => r.name), ["keys"]);
    assert.deepEqual(of("keyage:index:Rotator").map((r) => r.name), ["rot"]);
    const children = run.registered.filter((r) => !r.type.startsWith("keyage:"));
    assert.ok(children.length >= 12, `only ${children.length} resources registered`);
    for (const r of children) assert.match(r.name, /^(keys|rot|ci)-/, `${r.type} ${r.name} is not named after its component`);
  });

  it("keeps a user's key young with RotatingAccessKey: two key slots of that user, current a Pulumi secret", () => {
    assert.deepEqual(of("keyage:index:RotatingAccessKey").map((r) => r.name), ["ci"]);
    const keys = of("aws:iam/accessKey:AccessKey");
    assert.deepEqual(keys.map((k) => [k.name, k.inputs.user]).sort(), [["ci-a", "ci-deployer"], ["ci-b", "ci-deployer"]]);
    assert.match(run.outputs.ciCurrentSlot ?? "", /^[ab]$/);
    assert.equal(run.outputs.ciCurrentIsSecret, "true");
  });

  it("deploys the rule with the program's limit and the Lambda zips shipped in the package", () => {
    const [rule] = of("aws:cfg/rule:Rule");
    assert.deepEqual(JSON.parse(rule?.inputs.inputParameters as string), { maxAccessKeyAge: "90" });
    const code = Object.fromEntries(of("aws:lambda/function:Function").map((f) => [f.name, JSON.stringify(f.inputs.code)]));
    assert.match(code["keys-evaluator"] ?? "", /node_modules\/keyage\/dist\/config-rule\.zip/);
    assert.match(code["rot-rotator"] ?? "", /node_modules\/keyage\/dist\/rotator\.zip/);
  });

  it("runs the rotator in the mode the program asked for", () => {
    const [schedule] = of("aws:scheduler/schedule:Schedule");
    const target = schedule?.inputs.target as { input: string };
    assert.equal((JSON.parse(target.input) as { mode: string }).mode, "plan");
  });

  it("outputs the rule's name and ARN, the function and role ARNs", () => {
    assert.equal(run.outputs.ruleName, "keyage-access-key-age");
    for (const key of ["ruleArn", "functionArn", "executionRoleArn", "rotatorFunctionArn", "rotatorRoleArn"]) assert.match(run.outputs[key] ?? "", /^arn:aws:/, key);
  });

  it("refuses a bad argument with one line naming the component and the argument, before registering anything", () => {
    assert.deepEqual(run.refused, { message: 'KeyageConfigRule "bad": maxAccessKeyAge must be a whole number of days from 1 to 3650, got 0', runError: true });
    assert.ok(!run.registered.some((r) => r.name === "bad" || r.name.startsWith("bad-")));
  });

  it("shares the program's one copy of @pulumi/pulumi (npm ls shows one)", async () => {
    assert.equal(run.pulumiOfKeyage, run.pulumiOfProgram);
    const { stdout } = await exec("npm", ["ls", "@pulumi/pulumi", "--all", "--parseable"], { cwd: project, env: childEnv() });
    assert.deepEqual(stdout.trim().split("\n"), [path.join(project, "node_modules", "@pulumi", "pulumi")]);
  });

  it("type-checks a TypeScript program against keyage/pulumi's declarations", async () => {
    const result = await typeCheck(project, [
        'import { KeyageConfigRule, KeyageRotator, RotatingAccessKey, type AccessKeyPair, type KeyageConfigRuleArgs } from "keyage/pulumi";',
        'import type { Output } from "@pulumi/pulumi";',
        "const args: KeyageConfigRuleArgs = { maxAccessKeyAge: 90, organization: true, excludedAccounts: [\"111111111111\"] };",
        'export const rule = new KeyageConfigRule("keys", args);',
        'export const rotator = new KeyageRotator("rot", { mode: "plan", notificationEmail: "ops@example.com" });',
        "export const arns = [rule.ruleArn, rule.functionArn, rotator.roleArn, rotator.topicArn];",
        'const key = new RotatingAccessKey("ci", { user: "ci-deployer", maxAgeDays: 30, warnDays: 7 });',
        "export const current: Output<AccessKeyPair> = key.current;",
    ]);
    assert.equal(result, "");
  });

  it("is as large as docs/design.md says (c)", async () => {
    const measured = await footprint(project);
    console.log(`      install (c), a program using keyage/pulumi: ${measured.packages} packages, ${measured.megabytes} MB`);
    assert.equal(footprintMismatch("c", measured), "");
  });
});
