// The three ways the pack can start, each in its own pack process driven over the Analyzer gRPC protocol
// as the Pulumi CLI drives it: with the lazy-properties patch (the @pulumi/policy it was tested with), and
// without it because the self-test failed or because @pulumi/policy's internals changed. A preloaded
// script (NODE_OPTIONS=--require, before the pack loads) plays the other @pulumi/policy. Every path must
// print only its port on stdout and give the same, right diagnostics; KEYAGE_DEBUG=1 makes the pack say
// on stderr which path it took.
import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DAY_MS } from "../shared";
import { PackProcess, UNKNOWN, ensureBuilt, secret, urnOf, type Diagnostic, type ResourceInput } from "./harness/analyzer";

const KEY = "aws:iam/accessKey:AccessKey";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzLAZYSECRET";

function ago(days: number): string {
  return new Date(Date.now() - days * DAY_MS).toISOString();
}

function key(name: string, outputs: Record<string, unknown>): ResourceInput {
  return { type: KEY, name, props: { id: "AKIAIOSFODNN7EXAMPLE", user: "ci", status: "Active", secret: secret(SECRET), ...(outputs as Record<string, never>) } };
}

// One of each case the pack distinguishes: expired, expiring, being created (unknowns), secret-wrapped
// and expired, inactive, among other resources.
const STACK: ResourceInput[] = [
  { type: "pulumi:pulumi:Stack", name: "app-dev", props: {} },
  { type: "aws:s3/bucket:Bucket", name: "logs", props: { bucket: "logs", tags: { team: "platform" } } },
  key("old", { createDate: ago(90) }),
  key("soon", { createDate: ago(25) }),
  key("new", { createDate: UNKNOWN, id: UNKNOWN, secret: UNKNOWN, user: UNKNOWN }),
  key("wrapped", { createDate: secret(ago(40)), user: secret("payments-batch") }),
  key("off", { createDate: ago(400), status: "Inactive" }),
];

const EXPECTED = [
  ["iam-access-key-max-age", "mandatory", urnOf(KEY, "old")],
  ["iam-access-key-max-age", "mandatory", urnOf(KEY, "wrapped")],
  ["iam-access-key-expiring", "advisory", urnOf(KEY, "soon")],
];

// Preloads standing in for another @pulumi/policy. They find it from the pack's directory (the cwd).
const PRELOADS: Record<string, string> = {
  // A version whose deserializeProperties freezes what it returns: the lazy proxy cannot show that.
  frozen: `
    const req = require("node:module").createRequire(require("node:path").join(process.cwd(), "package.json"));
    const d = req("@pulumi/policy/deserialize");
    const original = d.deserializeProperties;
    d.deserializeProperties = (s, p) => Object.freeze(original(s, p));`,
  // A version compiled with getter re-exports: the function is there but cannot be replaced.
  getter: `
    const req = require("node:module").createRequire(require("node:path").join(process.cwd(), "package.json"));
    const d = req("@pulumi/policy/deserialize");
    const original = d.deserializeProperties;
    Object.defineProperty(d, "deserializeProperties", { get: () => original, enumerable: true, configurable: true });`,
  // A version without that file where the pack looks for it (only @pulumi/policy's server still loads it).
  missing: `
    const Module = require("node:module");
    const load = Module._load;
    Module._load = function (request, parent, isMain) {
      if (/deserialize$/.test(request) && !/server\\.js$/.test(parent?.filename ?? "")) {
        throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: "MODULE_NOT_FOUND" });
      }
      return load.call(this, request, parent, isMain);
    };`,
};

interface Run {
  stack: Diagnostic[];
  analyze: Diagnostic[];
  stderr: string;
  stdout: string;
}

async function runPack(preload?: keyof typeof PRELOADS): Promise<Run> {
  const env: NodeJS.ProcessEnv = { KEYAGE_DEBUG: "1" };
  if (preload !== undefined) {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "keyage-preload-")), `${preload}.js`);
    writeFileSync(file, `"use strict";\n${PRELOADS[preload]}\n`);
    env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --require ${JSON.stringify(file)}`.trim();
  }
  const pack = await PackProcess.start({ env });
  try {
    await pack.configure({});
    const stack = await pack.analyzeStack(STACK);
    const analyze = await pack.analyze({ type: KEY, name: "ci-key", props: { user: "ci", status: UNKNOWN } });
    return { stack, analyze, stderr: pack.stderr, stdout: pack.extraStdout };
  } finally {
    await pack.stop();
  }
}

function summary(ds: readonly Diagnostic[]): string[][] {
  return ds.map((d) => [d.policyName, d.enforcementLevel, d.urn]);
}

describe("policy pack start-up with and without the lazy-properties patch (gRPC)", function () {
  this.timeout(120_000);
  const runs: Partial<Record<"patched" | keyof typeof PRELOADS, Run>> = {};

  before(async () => {
    await ensureBuilt();
  });

  const paths: ["patched" | keyof typeof PRELOADS, string, RegExp][] = [
    ["patched", "patched: the @pulumi/policy the patch was tested with", /^keyage: lazy resource properties on\n$/],
    ["frozen", "unpatched because the self-test failed (properties frozen by @pulumi/policy)", /^keyage: lazy resource properties off \(self-test failed: a policy would see the lazy properties differently\)\n$/],
    ["getter", "unpatched because the internal module changed (deserializeProperties is a getter)", /^keyage: lazy resource properties off \(deserializeProperties cannot be replaced\)\n$/],
    ["missing", "unpatched because the internal module is missing", /^keyage: lazy resource properties off \(@pulumi\/policy internals did not load: Cannot find module '\.\/deserialize'\)\n$/],
  ];
  for (const [name, title, note] of paths) {
    it(`${title}: starts, says so on stderr only, and blocks and warns on the right keys`, async () => {
      const run = await runPack(name === "patched" ? undefined : name);
      runs[name] = run;
      assert.equal(run.stdout, "", "nothing on stdout after the port line");
      assert.match(run.stderr, note);
      assert.deepEqual(summary(run.stack), EXPECTED);
      assert.ok(!run.stack.some((d) => /can't run policy/.test(d.message)), "an unknown value aborted a policy");
      assert.ok(!JSON.stringify(run.stack).includes(SECRET) && !JSON.stringify(run.stack).includes("payments-batch"), "a secret reached a diagnostic");
      assert.deepEqual(summary(run.analyze), [["iam-access-key-creation", "advisory", urnOf(KEY, "ci-key")]]);
    });
  }

  it("gives word for word the same diagnostics on every path", () => {
    assert.deepEqual(Object.keys(runs).sort(), paths.map(([name]) => name).sort(), "every path ran");
    const messages = (r: Run | undefined) => [...(r?.stack ?? []), ...(r?.analyze ?? [])].map((d) => d.message);
    for (const name of ["frozen", "getter", "missing"] as const) assert.deepEqual(messages(runs[name]), messages(runs.patched), name);
  });
});
