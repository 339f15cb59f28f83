/**
 * Drives the policy pack over the Pulumi Analyzer gRPC protocol, the way the Pulumi CLI does:
 *
 * 1. spawn `node node_modules/@pulumi/pulumi/cmd/run-policy-pack <engine-address> <repo-root>` with
 *    cwd = repo root (run-policy-pack loads package.json's "main" = dist/policypack/index.js);
 * 2. read the port from the first stdout line (anything printed before it would break the CLI);
 * 3. Handshake (the Node SDK answers UNIMPLEMENTED, which the CLI tolerates), ConfigureStack,
 *    GetAnalyzerInfo;
 * 4. Configure with every policy's schema defaults filled in, then the config file applied, as
 *    pulumi/pulumi `sdk/pkg/resource/analyzer/config.go` `ReconcilePolicyPackConfig` does;
 * 5. Analyze (one resource's inputs) and AnalyzeStack (every resource's outputs).
 *
 * Property maps are sent as the engine sends them: unknowns as the string sentinel, secrets wrapped
 * in the secret signature object (see {@link UNKNOWN} and {@link secret}).
 *
 * The pack never dials the engine address (run-policy-pack drops it; @pulumi/policy logs to stderr),
 * so no fake engine is needed; a closed local port is passed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";
import * as rpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as pb from "@pulumi/pulumi/proto/analyzer_pb";
import { OFFLINE_AWS_ENV } from "../fixtures";

/** The repository root: the directory the CLI would be given as the policy pack. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** The engine's sentinel for an unknown string (a computed value during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Wraps a value as the engine marshals a secret output. */
export function secret(value: JavaScriptValue): { [key: string]: JavaScriptValue } {
  return { [SECRET_SIG_KEY]: SECRET_SIG, value };
}

export type Level = "advisory" | "mandatory" | "remediate" | "disabled";

const LEVELS: Record<pb.EnforcementLevel, Level> = {
  [pb.EnforcementLevel.ADVISORY]: "advisory",
  [pb.EnforcementLevel.MANDATORY]: "mandatory",
  [pb.EnforcementLevel.DISABLED]: "disabled",
  [pb.EnforcementLevel.REMEDIATE]: "remediate",
};

function toProtoLevel(level: Level): pb.EnforcementLevel {
  switch (level) {
    case "advisory":
      return pb.EnforcementLevel.ADVISORY;
    case "mandatory":
      return pb.EnforcementLevel.MANDATORY;
    case "disabled":
      return pb.EnforcementLevel.DISABLED;
    case "remediate":
      return pb.EnforcementLevel.REMEDIATE;
    default:
      return level satisfies never;
  }
}

/** A diagnostic as the CLI would print it. */
export interface Diagnostic {
  readonly policyName: string;
  readonly policyPackName: string;
  readonly policyPackVersion: string;
  readonly description: string;
  readonly message: string;
  readonly enforcementLevel: Level;
  readonly urn: string;
  readonly severity: number;
}

/** A policy as GetAnalyzerInfo describes it. */
export interface PolicyInfo {
  readonly name: string;
  readonly description: string;
  readonly enforcementLevel: Level;
  readonly severity: number;
  readonly url: string;
  readonly remediationSteps: string;
  readonly type: "resource" | "stack" | "unknown";
  /** The JSON Schema of each config property. */
  readonly configSchema?: { properties: Record<string, Record<string, unknown>>; required: string[] };
}

export interface AnalyzerInfo {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly policies: readonly PolicyInfo[];
}

/** A policy config file as given to `--policy-pack-config`: a level, or `{ enforcementLevel?, ...props }`. */
export type PolicyPackConfigFile = Record<string, Level | ({ enforcementLevel?: Level } & Record<string, unknown>)>;

/** The reconciled config of one policy, as sent in Configure. */
export interface PolicyConfig {
  enforcementLevel: Level;
  properties: Record<string, unknown>;
}

/**
 * What the CLI does before Configure (`ReconcilePolicyPackConfig`): start from each policy's own level
 * and its schema defaults, apply `all` (level only), then each policy's entry (level and properties).
 * Then the CLI validates against the schema; {@link schemaErrors} mirrors the checks the pack's
 * schemas use.
 */
export function reconcileConfig(policies: readonly PolicyInfo[], file: PolicyPackConfigFile = {}): Record<string, PolicyConfig> {
  const result: Record<string, PolicyConfig> = {};
  for (const p of policies) {
    const properties: Record<string, unknown> = {};
    for (const [k, schema] of Object.entries(p.configSchema?.properties ?? {})) {
      if ("default" in schema) properties[k] = structuredClone(schema.default);
    }
    result[p.name] = { enforcementLevel: p.enforcementLevel, properties };
  }
  const all = file.all;
  const allLevel = typeof all === "string" ? all : all?.enforcementLevel;
  if (allLevel) for (const c of Object.values(result)) c.enforcementLevel = allLevel;
  for (const [name, given] of Object.entries(file)) {
    if (name === "all") continue;
    const current = result[name] ?? { enforcementLevel: "advisory", properties: {} };
    if (typeof given === "string") current.enforcementLevel = given;
    else {
      const { enforcementLevel, ...props } = given;
      if (enforcementLevel) current.enforcementLevel = enforcementLevel;
      Object.assign(current.properties, props);
    }
    result[name] = current;
  }
  return result;
}

function typeOk(value: unknown, type: unknown): boolean {
  const types = Array.isArray(type) ? type : [type];
  return types.some((t) => {
    switch (t) {
      case "integer":
        return Number.isInteger(value);
      case "number":
        return typeof value === "number";
      case "string":
        return typeof value === "string";
      case "boolean":
        return typeof value === "boolean";
      case "array":
        return Array.isArray(value);
      case "object":
        return value !== null && typeof value === "object" && !Array.isArray(value);
      case "null":
        return value === null;
      default:
        return true;
    }
  });
}

function check(where: string, value: unknown, schema: Record<string, unknown>, errors: string[]): void {
  if (schema.type !== undefined && !typeOk(value, schema.type)) {
    errors.push(`${where}: Invalid type. Expected: ${JSON.stringify(schema.type)}`);
    return;
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) errors.push(`${where}: Must be greater than or equal to ${schema.minimum}`);
    if (typeof schema.maximum === "number" && value > schema.maximum) errors.push(`${where}: Must be less than or equal to ${schema.maximum}`);
  }
  if (typeof value === "string" && typeof schema.pattern === "string" && !new RegExp(schema.pattern).test(value)) {
    errors.push(`${where}: Does not match pattern '${schema.pattern}'`);
  }
  if (Array.isArray(value) && schema.items && typeof schema.items === "object") {
    value.forEach((v, i) => check(`${where}.${i}`, v, schema.items as Record<string, unknown>, errors));
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const req of (schema.required as string[] | undefined) ?? []) if (!(req in value)) errors.push(`${where}: ${req} is required`);
  }
}

/**
 * The schema checks the CLI (gojsonschema) applies to a reconciled config, limited to the keywords the
 * pack's schemas use (type, minimum, maximum, pattern, items, required). Returns "policy: error" lines.
 */
export function schemaErrors(policies: readonly PolicyInfo[], config: Record<string, PolicyConfig>): string[] {
  const errors: string[] = [];
  for (const p of policies) {
    for (const [k, schema] of Object.entries(p.configSchema?.properties ?? {})) {
      const value = config[p.name]?.properties[k];
      if (value !== undefined) check(`${p.name}: ${k}`, value, schema, errors);
    }
  }
  return errors;
}

/** A resource as the engine describes it in Analyze / AnalyzeStack. */
export interface ResourceInput {
  readonly type: string;
  readonly name: string;
  /** Default `urn:pulumi:dev::keyage-test::<type>::<name>`. */
  readonly urn?: string;
  /** Property map (inputs for Analyze, outputs for AnalyzeStack), with unknowns and secrets marshalled. */
  readonly props: Record<string, JavaScriptValue>;
  /** Parent URN (e.g. a component). */
  readonly parent?: string;
}

/** The URN the engine gives a resource of `type` named `name`, optionally under component types. */
export function urnOf(type: string, name: string, parentTypes: readonly string[] = []): string {
  return `urn:pulumi:dev::keyage-test::${[...parentTypes, type].join("$")}::${name}`;
}

function options(parent: string | undefined): pb.AnalyzerResourceOptions {
  const opts = new pb.AnalyzerResourceOptions();
  opts.setProtect(false);
  opts.setIgnorechangesList([]);
  opts.setAliasesList([]);
  opts.setAdditionalsecretoutputsList([]);
  if (parent) opts.setParent(parent);
  return opts;
}

/** Builds an AnalyzerResource message (also used by the bench to pre-build big requests). */
export function analyzerResource(r: ResourceInput): pb.AnalyzerResource {
  const m = new pb.AnalyzerResource();
  m.setType(r.type);
  m.setName(r.name);
  m.setUrn(r.urn ?? urnOf(r.type, r.name));
  m.setProperties(Struct.fromJavaScript(r.props));
  m.setOptions(options(r.parent));
  if (r.parent) m.setParent(r.parent);
  return m;
}

function toDiagnostics(resp: pb.AnalyzeResponse): Diagnostic[] {
  return resp.getDiagnosticsList().map((d) => ({
    policyName: d.getPolicyname(),
    policyPackName: d.getPolicypackname(),
    policyPackVersion: d.getPolicypackversion(),
    description: d.getDescription(),
    message: d.getMessage(),
    enforcementLevel: LEVELS[d.getEnforcementlevel()],
    urn: d.getUrn(),
    severity: d.getSeverity(),
  }));
}

function toPolicyInfo(p: pb.PolicyInfo): PolicyInfo {
  const schema = p.getConfigschema();
  const type = p.getPolicyType() === pb.PolicyType.POLICY_TYPE_RESOURCE ? "resource" : p.getPolicyType() === pb.PolicyType.POLICY_TYPE_STACK ? "stack" : "unknown";
  return {
    name: p.getName(),
    description: p.getDescription(),
    enforcementLevel: LEVELS[p.getEnforcementlevel()],
    severity: p.getSeverity(),
    url: p.getUrl(),
    remediationSteps: p.getRemediationSteps(),
    type,
    ...(schema
      ? {
          configSchema: {
            properties: (schema.getProperties()?.toJavaScript() ?? {}) as Record<string, Record<string, unknown>>,
            required: schema.getRequiredList(),
          },
        }
      : {}),
  };
}

/** The pack's gRPC receive/send limit for the harness's client: a 10k-resource stack is ~6 MiB. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Thrown when the pack cannot be started or does not answer as the CLI expects. */
export class HarnessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HarnessError";
  }
}

function unary<Req, Res>(
  call: (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    call(req, new grpc.Metadata(), { deadline: Date.now() + 60_000 }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const PROBE = path.join(__dirname, "analyzer-probe.js");

/** Options of {@link PackProcess.start}. */
export interface StartOptions {
  /** The pack directory. Default: this repository. */
  root?: string;
  /** Extra environment for the pack. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the port line. Default 30 s. */
  timeoutMs?: number;
  /**
   * Preload analyzer-probe.js, which refuses non-local sockets and, when the pack is stopped, reports
   * the AWS modules it loaded ({@link PackProcess.stop} returns the report). Default false.
   */
  probe?: boolean;
}

/** What analyzer-probe.js saw in the pack process. */
export interface ProbeReport {
  /** Modules loaded in total. */
  readonly modules: number;
  /** Loaded packages among @aws-sdk/*, @pulumi/aws and aws-sdk. */
  readonly awsModules: readonly string[];
  /** Non-local host:port the pack tried to reach (each was refused). */
  readonly refusedConnections: readonly string[];
}

/** A running policy pack and a gRPC client connected to it. */
export class PackProcess {
  /** Everything the pack wrote to stderr so far (for failure messages). */
  stderr = "";
  /** Everything after the port line on stdout (should stay empty). */
  extraStdout = "";

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    /** Milliseconds from spawn to the port line. */
    readonly readyMs: number,
    readonly client: rpc.AnalyzerClient,
  ) {}

  /**
   * Spawns the pack as the CLI does and waits for its port. Environment: the caller's, plus dummy AWS
   * credentials, `AWS_EC2_METADATA_DISABLED=true`, and the PULUMI_NODEJS_* variables the CLI sets.
   */
  static async start(options: StartOptions = {}): Promise<PackProcess> {
    const root = options.root ?? REPO_ROOT;
    const runner = path.join(root, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...OFFLINE_AWS_ENV,
      PULUMI_NODEJS_STACK: "dev",
      PULUMI_NODEJS_PROJECT: "keyage-test",
      PULUMI_NODEJS_ORGANIZATION: "organization",
      PULUMI_NODEJS_DRY_RUN: "true",
      PULUMI_CONFIG: "{}",
      ...options.env,
    };
    if (options.probe) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ""} --require ${JSON.stringify(PROBE)}`.trim();
    // ts-node's TS_NODE_* settings from a mocha parent would change how run-policy-pack behaves.
    for (const k of Object.keys(env)) if (k.startsWith("TS_NODE_")) delete env[k];
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [runner, "127.0.0.1:1", root], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const { port, rest } = await new Promise<{ port: number; rest: string }>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => {
        child.kill();
        reject(new HarnessError(`the pack printed no port within ${options.timeoutMs ?? 30_000} ms; stderr:\n${stderr}`));
      }, options.timeoutMs ?? 30_000);
      const onData = (d: string) => {
        out += d;
        const nl = out.indexOf("\n");
        if (nl < 0) return;
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        const line = out.slice(0, nl).trim();
        if (!/^\d+$/.test(line)) {
          child.kill();
          reject(new HarnessError(`the pack's first stdout line must be its port, got ${JSON.stringify(line)}`));
          return;
        }
        resolve({ port: Number(line), rest: out.slice(nl + 1) });
      };
      child.stdout?.setEncoding("utf8").on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new HarnessError(`the pack exited with ${code} before printing its port; stderr:\n${stderr}`));
      });
    });
    const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
    const client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
      "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    });
    const pack = new PackProcess(child, port, readyMs, client);
    pack.stderr = stderr;
    pack.extraStdout = rest;
    child.stderr?.on("data", (d: string) => (pack.stderr += d));
    child.stdout?.on("data", (d: string) => (pack.extraStdout += d));
    await pack.handshake(root);
    return pack;
  }

  /** Handshake then ConfigureStack, as the CLI does right after start-up. */
  private async handshake(root: string): Promise<void> {
    const hs = new pb.AnalyzerHandshakeRequest();
    hs.setEngineAddress("127.0.0.1:1");
    hs.setRootDirectory(root);
    hs.setProgramDirectory(root);
    try {
      await unary(this.client.handshake.bind(this.client), hs);
    } catch (err) {
      // The Node policy SDK does not implement Handshake; the CLI carries on in that case.
      if ((err as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) throw err;
    }
    const cs = new pb.AnalyzerStackConfigureRequest();
    cs.setStack("dev");
    cs.setProject("keyage-test");
    cs.setOrganization("organization");
    cs.setDryRun(true);
    await unary(this.client.configureStack.bind(this.client), cs);
  }

  async getAnalyzerInfo(): Promise<AnalyzerInfo> {
    const info = await unary(this.client.getAnalyzerInfo.bind(this.client), new Empty());
    return { name: info.getName(), version: info.getVersion(), description: info.getDescription(), policies: info.getPoliciesList().map(toPolicyInfo) };
  }

  /**
   * Configures the pack as the CLI does for `--policy-pack-config <file>`: reconciles `file` with the
   * schema defaults and levels from GetAnalyzerInfo, rejects what the schema rejects (throwing like the
   * CLI would, before the pack sees it), and sends Configure. Returns the config sent.
   */
  async configure(file: PolicyPackConfigFile = {}): Promise<Record<string, PolicyConfig>> {
    const { policies } = await this.getAnalyzerInfo();
    const config = reconcileConfig(policies, file);
    const errors = schemaErrors(policies, config);
    if (errors.length > 0) throw new HarnessError(`policy pack configuration is invalid:\n${errors.join("\n")}`);
    await this.sendConfigure(config);
    return config;
  }

  /** Sends Configure with exactly this config (no defaults, no schema check). */
  async sendConfigure(config: Record<string, PolicyConfig>): Promise<void> {
    const req = new pb.ConfigureAnalyzerRequest();
    const map = req.getPolicyconfigMap();
    for (const [name, c] of Object.entries(config)) {
      const pc = new pb.PolicyConfig();
      pc.setEnforcementlevel(toProtoLevel(c.enforcementLevel));
      pc.setProperties(Struct.fromJavaScript(c.properties as Record<string, JavaScriptValue>));
      map.set(name, pc);
    }
    await unary(this.client.configure.bind(this.client), req);
  }

  /** Analyze: one resource's inputs, as sent before the resource is created or updated. */
  async analyze(r: ResourceInput): Promise<Diagnostic[]> {
    const req = new pb.AnalyzeRequest();
    req.setType(r.type);
    req.setName(r.name);
    req.setUrn(r.urn ?? urnOf(r.type, r.name));
    req.setProperties(Struct.fromJavaScript(r.props));
    req.setOptions(options(r.parent));
    return toDiagnostics(await unary(this.client.analyze.bind(this.client), req));
  }

  /** AnalyzeStack: every resource's outputs, at the end of a preview or update. */
  async analyzeStack(resources: readonly (ResourceInput | pb.AnalyzerResource)[]): Promise<Diagnostic[]> {
    return toDiagnostics(await this.analyzeStackRaw(resources));
  }

  /** AnalyzeStack returning the raw response (for not-applicable reasons). */
  async analyzeStackRaw(resources: readonly (ResourceInput | pb.AnalyzerResource)[]): Promise<pb.AnalyzeResponse> {
    const req = new pb.AnalyzeStackRequest();
    req.setResourcesList(resources.map((r) => (r instanceof pb.AnalyzerResource ? r : analyzerResource(r))));
    return unary(this.client.analyzeStack.bind(this.client), req);
  }

  /** Sends a prepared request (the bench reuses one big request). */
  analyzeStackRequest(req: pb.AnalyzeStackRequest): Promise<pb.AnalyzeResponse> {
    return unary(this.client.analyzeStack.bind(this.client), req);
  }

  /** Peak resident set size of the pack process (VmHWM), in bytes; undefined off Linux. */
  peakRssBytes(): number | undefined {
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, "utf8");
      const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
      return m ? Number(m[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Closes the client and stops the pack with SIGTERM. Returns the probe's report when the pack was
   * started with `probe: true`.
   */
  async stop(): Promise<ProbeReport | undefined> {
    this.client.close();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await new Promise<void>((resolve) => {
        // "close" (not "exit") so that the probe's last stderr line has been read.
        this.child.once("close", () => resolve());
        this.child.kill("SIGTERM");
      });
    }
    const line = /^keyage-probe (.*)$/m.exec(this.stderr);
    return line ? (JSON.parse(line[1] as string) as ProbeReport) : undefined;
  }
}

function newestMtime(dir: string, ext: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(ext) || entry.name.endsWith(".d.ts")) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.set(full, statSync(full).mtimeMs);
  }
  return out;
}

/** Sources of the pack whose compiled file in dist/ is missing or older than the source. */
export function staleSources(root = REPO_ROOT): string[] {
  const stale: string[] = [];
  for (const dir of ["policypack", "shared"]) {
    for (const [src, mtime] of newestMtime(path.join(root, dir), ".ts")) {
      const out = path.join(root, "dist", path.relative(root, src)).replace(/\.ts$/, ".js");
      let outMtime = -1;
      try {
        outMtime = statSync(out).mtimeMs;
      } catch {
        // missing: stale
      }
      if (outMtime < mtime) stale.push(path.relative(root, src));
    }
  }
  return stale;
}

/**
 * Makes sure dist/policypack (what run-policy-pack loads) matches the sources: when any
 * policypack/ or shared/ source is newer than its compiled file, compiles policypack/index.ts and
 * what it imports with tsconfig.build.json's options (about 2 s). Type errors elsewhere in the tree do
 * not block it; type errors in the pack do (it would not be what `npm run build` ships).
 */
export async function ensureBuilt(root = REPO_ROOT): Promise<{ rebuilt: boolean }> {
  if (staleSources(root).length === 0) return { rebuilt: false };
  const ts = await import("typescript");
  const configPath = path.join(root, "tsconfig.build.json");
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!parsed) throw new HarnessError(`cannot read ${configPath}`);
  const program = ts.createProgram([path.join(root, "policypack", "index.ts")], parsed.options);
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics];
  const mine = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (mine.length > 0) {
    const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" };
    throw new HarnessError(`the policy pack does not compile:\n${ts.formatDiagnostics(mine, host)}`);
  }
  return { rebuilt: true };
}
