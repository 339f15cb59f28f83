// Benchmarks the policy pack as the Pulumi CLI runs it (run-policy-pack, Analyzer gRPC):
//   - start-up: spawn to port line, compiled pack (median of 5), against the naive cost of loading
//     @pulumi/aws for its typed helpers;
//   - AnalyzeStack over 10,000 resources (2,000 access keys), against the same request sent to the
//     same pack with every policy disabled (the floor set by @pulumi/policy's own work);
//   - 10,000 Analyze calls, same comparison;
//   - the pack's peak memory (VmHWM) and whether it loaded any AWS SDK or tried the network;
//   - whether the lazy-properties patch passed its start-up self-test (else the pack runs unpatched).
// Run: npm run bench -- policypack
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import * as pb from "@pulumi/pulumi/proto/analyzer_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as policySdk from "@pulumi/policy";
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { DAY_MS } from "../shared";
import { INTERNAL_MODULES, installLazyProperties } from "../policypack/lazy-properties";
import { createPolicies } from "../policypack/policies";
import { PackProcess, REPO_ROOT, UNKNOWN, analyzerResource, ensureBuilt, secret, urnOf, type ResourceInput } from "../test/harness/analyzer";

const KEY = "aws:iam/accessKey:AccessKey";
const RESOURCES = 10_000;
const KEYS = 2_000;
const ROUNDS = 9;
const ANALYZE_CALLS = 10_000;
const CONCURRENCY = 32;

const TARGET_READY_MS = 1000;
const TARGET_OVERHEAD = 0.1;
const TARGET_PEAK_MIB = 600;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function iso(msAgo: number): string {
  return new Date(Date.now() - msAgo).toISOString();
}

/** A realistic big stack: users, policies, buckets, roles, and 2,000 keys of every kind. */
function stackResources(): ResourceInput[] {
  const out: ResourceInput[] = [{ type: "pulumi:pulumi:Stack", name: "big-dev", props: {} }];
  for (let i = 0; i < KEYS; i++) {
    const kind = i % 4; // expired, expiring, fresh, being created
    const createDate = kind === 0 ? iso(45 * DAY_MS) : kind === 1 ? iso(26 * DAY_MS) : kind === 2 ? iso(3 * DAY_MS) : UNKNOWN;
    out.push({
      type: KEY,
      name: `key-${i}`,
      urn: urnOf(KEY, `key-${i}`, i % 2 ? ["acme:index:ServiceUser"] : []),
      props: {
        id: kind === 3 ? UNKNOWN : `AKIA${String(i).padStart(16, "0")}`,
        user: `svc-${i % 500}`,
        status: i % 10 === 9 ? "Inactive" : "Active",
        createDate,
        secret: kind === 3 ? UNKNOWN : secret(`wJalrXUtnFEMI/K7MDENG/${i}/bPxRfiCYEXAMPLEKEY`),
        sesSmtpPasswordV4: kind === 3 ? UNKNOWN : secret(`BM${i}smtp-password-example-value`),
        encryptedSecret: "",
        keyFingerprint: "",
      },
    });
  }
  const others = ["aws:s3/bucket:Bucket", "aws:iam/user:User", "aws:iam/role:Role", "aws:iam/policy:Policy"];
  for (let i = out.length; i < RESOURCES; i++) {
    const type = others[i % others.length] as string;
    out.push({
      type,
      name: `r-${i}`,
      props: {
        // Outputs as AWS resources carry them; a real 10k-resource request measures about 6 MiB.
        id: `r-${i}`,
        arn: `arn:aws:${type.split(":")[1]?.split("/")[0]}::123456789012:thing/r-${i}`,
        name: `r-${i}`,
        path: "/",
        uniqueId: `AROA${String(i).padStart(17, "0")}`,
        createDate: iso(((i % 300) + 1) * DAY_MS),
        region: "us-east-1",
        description: `Managed by Pulumi for team-${i % 20} (platform services, ${["dev", "staging", "prod"][i % 3]})`,
        tags: { team: "platform", env: "dev", costCenter: String(i % 97) },
        tagsAll: { team: "platform", env: "dev", costCenter: String(i % 97) },
        policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: `arn:aws:s3:::bucket-${i}/*` }] }),
      },
    });
  }
  return out;
}

function analyzeRequests(resources: readonly ResourceInput[]): pb.AnalyzeRequest[] {
  return resources.slice(1, ANALYZE_CALLS + 1).map((r) => {
    const req = new pb.AnalyzeRequest();
    req.setType(r.type);
    req.setName(r.name);
    req.setUrn(r.urn ?? urnOf(r.type, r.name));
    // Analyze sees inputs: no createDate, id or secrets yet.
    const { user, status, name, tags, policy } = r.props;
    req.setProperties(Struct.fromJavaScript(Object.fromEntries(Object.entries({ user, status, name, tags, policy }).filter(([, v]) => v !== undefined))));
    const opts = new pb.AnalyzerResourceOptions();
    opts.setProtect(false);
    req.setOptions(opts);
    return req;
  });
}

async function analyzeAll(pack: PackProcess, reqs: readonly pb.AnalyzeRequest[]): Promise<{ ms: number; diagnostics: number }> {
  let next = 0;
  let diagnostics = 0;
  const start = process.hrtime.bigint();
  const worker = async () => {
    while (next < reqs.length) {
      const req = reqs[next++] as pb.AnalyzeRequest;
      const resp = await new Promise<pb.AnalyzeResponse>((resolve, reject) => pack.client.analyze(req, (err, res) => (err ? reject(err) : resolve(res))));
      diagnostics += resp.getDiagnosticsList().length;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { ms: ms(start), diagnostics };
}

// Secrets reach policies unwrapped; @pulumi/policy's proxy is exported at run time only.
const { unknownCheckingProxy } = policySdk as unknown as { unknownCheckingProxy: <T extends object>(o: T) => T };
function unwrap(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrap);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if ("4dabf18193072939515e22adb298388d" in o) return unwrap(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrap(x)]));
  }
  return v;
}

/** keyage's own share: both stack policies' validateStack over the stack, in this process (no gRPC, no SDK). */
async function ownValidateMs(resources: readonly ResourceInput[]): Promise<number> {
  const prepared = resources.map(
    (r) =>
      ({
        type: r.type,
        name: r.name,
        urn: r.urn ?? urnOf(r.type, r.name),
        props: unknownCheckingProxy(unwrap(r.props) as Record<string, unknown>),
      }) as PolicyResource,
  );
  const stackPolicies = createPolicies().filter((p): p is StackValidationPolicy => "validateStack" in p);
  const runs: number[] = [];
  for (let i = 0; i < 7; i++) {
    const start = process.hrtime.bigint();
    for (const p of stackPolicies) {
      const defaults = Object.fromEntries(Object.entries(p.configSchema?.properties ?? {}).map(([k, v]) => [k, (v as { default?: unknown }).default]));
      await p.validateStack(
        { resources: prepared, getConfig: <T extends object>() => defaults as T, stackTags: new Map(), notApplicable: () => undefined as never },
        () => undefined,
      );
    }
    runs.push(ms(start));
  }
  return median(runs.slice(2));
}

/** What the lazy-properties self-test adds to start-up: loading the internals and the check, on a copy of the module. */
function selfTestMs(): { ms: number; installed: boolean } {
  const policyRequire = createRequire(require.resolve("@pulumi/policy"));
  const runs: { ms: number; installed: boolean }[] = [];
  for (let i = 0; i < 5; i++) {
    const copy = { ...(policyRequire(INTERNAL_MODULES.deserialize) as object) };
    const start = process.hrtime.bigint();
    const status = installLazyProperties((id) => (id === INTERNAL_MODULES.deserialize ? copy : policyRequire(id)));
    runs.push({ ms: ms(start), installed: status.installed });
  }
  return { ms: median(runs.map((r) => r.ms)), installed: runs.every((r) => r.installed) };
}

/** The naive start-up cost: what loading @pulumi/aws (for `validateStackResourcesOfType(aws.iam.AccessKey, …)`) adds. */
function naiveAwsImportMs(): number {
  const script =
    'require("@pulumi/pulumi"); const t = process.hrtime.bigint(); require("@pulumi/aws").iam.AccessKey; console.log(Number(process.hrtime.bigint() - t) / 1e6)';
  const runs = [0, 1, 2].map(() => Number(execFileSync(process.execPath, ["-e", script], { cwd: REPO_ROOT, encoding: "utf8" }).trim()));
  return median(runs);
}

async function main(): Promise<void> {
  await ensureBuilt();
  const rows: [string, string, string, string][] = [];
  let failed = false;
  const row = (what: string, value: string, target: string, ok?: boolean) => {
    if (ok === false) failed = true;
    rows.push([what, value, target, ok === undefined ? "" : ok ? "ok" : "MISSED"]);
  };

  // 1. Start-up.
  const readies: number[] = [];
  for (let i = 0; i < 5; i++) {
    const p = await PackProcess.start();
    readies.push(p.readyMs);
    await p.stop();
  }
  const ready = median(readies);
  row("start-up: spawn to port line (median of 5)", `${ready.toFixed(0)} ms`, `<= ${TARGET_READY_MS} ms`, ready <= TARGET_READY_MS);
  row("  naive: + require('@pulumi/aws').iam.AccessKey", `+${naiveAwsImportMs().toFixed(0)} ms`, "(avoided)");
  const self = selfTestMs();
  row("  lazy-properties self-test (in-process, median of 5)", `${self.ms.toFixed(1)} ms`, self.installed ? "passes" : "FAILS: pack runs unpatched");

  // 2. AnalyzeStack. Two packs started the same way: one as configured by default, one with every policy
  // disabled (the floor: gRPC and @pulumi/policy's own decoding). Each keeps its own configuration, so
  // each pays its own garbage-collection debt; requests alternate between them so that noise from
  // the rest of the machine falls on both alike.
  // KEYAGE_DEBUG makes the pack say on stderr whether the lazy-properties patch is on (nothing else changes).
  const pack = await PackProcess.start({ probe: true, env: { KEYAGE_DEBUG: "1" } });
  const floor = await PackProcess.start();
  await pack.configure({});
  await floor.configure({ all: "disabled" });
  const resources = stackResources();
  const stackReq = new pb.AnalyzeStackRequest();
  stackReq.setResourcesList(resources.map(analyzerResource));
  const bytes = stackReq.serializeBinary().length;
  const timeStack = async (p: PackProcess) => {
    const start = process.hrtime.bigint();
    const resp = await p.analyzeStackRequest(stackReq);
    return { ms: ms(start), diagnostics: resp.getDiagnosticsList().length };
  };
  await timeStack(pack); // warm-up
  await timeStack(floor);
  const on: number[] = [];
  const off: number[] = [];
  let stackDiagnostics = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const a = await timeStack(pack);
    on.push(a.ms);
    stackDiagnostics = a.diagnostics;
    off.push((await timeStack(floor)).ms);
  }
  const overhead = median(on) / median(off) - 1;
  row(`AnalyzeStack ${RESOURCES} resources / ${KEYS} keys, ${(bytes / 2 ** 20).toFixed(1)} MiB (median of ${ROUNDS})`, `${median(on).toFixed(0)} ms`, "");
  row("  same request, every policy disabled", `${median(off).toFixed(0)} ms`, "baseline");
  row("  keyage's overhead over the disabled pack", `${(overhead * 100).toFixed(1)} %`, `<= ${TARGET_OVERHEAD * 100} %`, overhead <= TARGET_OVERHEAD);
  row("  diagnostics returned", String(stackDiagnostics), "expired + undeterminable + expiring");
  row("  of which keyage's validateStack code (in-process)", `${(await ownValidateMs(resources)).toFixed(0)} ms`, "the rest is @pulumi/policy");

  // 3. Analyze x 10,000 (CONCURRENCY in flight, as the engine overlaps steps), same two packs.
  const reqs = analyzeRequests(resources);
  await analyzeAll(pack, reqs.slice(0, 500));
  await analyzeAll(floor, reqs.slice(0, 500));
  const aOn = await analyzeAll(pack, reqs);
  const aOff = await analyzeAll(floor, reqs);
  row(`Analyze x ${ANALYZE_CALLS} (${CONCURRENCY} in flight)`, `${aOn.ms.toFixed(0)} ms (${((aOn.ms * 1000) / ANALYZE_CALLS).toFixed(0)} us/call)`, "");
  row("  same calls, every policy disabled", `${aOff.ms.toFixed(0)} ms`, "baseline");
  row("  diagnostics returned", String(aOn.diagnostics), "one per active key");

  // 4. Memory, AWS.
  const peak = (pack.peakRssBytes() ?? NaN) / 2 ** 20;
  const floorPeak = (floor.peakRssBytes() ?? NaN) / 2 ** 20;
  row("pack peak memory (VmHWM)", `${peak.toFixed(0)} MiB`, `<= ${TARGET_PEAK_MIB} MiB`, peak <= TARGET_PEAK_MIB);
  row("  disabled pack, same requests", `${floorPeak.toFixed(0)} MiB`, "baseline");
  await floor.stop();
  const report = await pack.stop();
  const lazy = /keyage: lazy resource properties (on|off.*)$/m.exec(pack.stderr)?.[1] ?? "(no note)";
  row("lazy-properties patch in the measured pack", lazy, "on", lazy === "on");
  const aws = report?.awsModules ?? ["(probe missing)"];
  row("AWS SDK / @pulumi/aws modules loaded by the pack", aws.length ? aws.join(", ") : "none", "none", aws.length === 0);
  const net = report?.refusedConnections ?? ["(probe missing)"];
  row("non-local connections attempted (AWS API calls)", String(net.length), "0", net.length === 0);

  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
  for (const r of rows) console.log(r.map((c, i) => (i === 1 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join("  ").trimEnd());
  console.log(`node ${process.version}, ${process.platform}; pack modules loaded: ${report?.modules ?? "?"}`);
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
