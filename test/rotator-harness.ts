// A scheduled-rotator world for specs and the bench: the fake IAM, Secrets Manager and EventBridge on one
// local server, real SDK clients pointed at it, an injected clock, captured log lines, and helpers to opt
// users in and to play their consumers.
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { IAMClient } from "@aws-sdk/client-iam";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { jsonLogger } from "../aws/log";
import { runRotator, type RotatorDeps, type RotatorSummary } from "../rotator/run";
import { parseSettings } from "../rotator/settings";
import { secretDocument } from "../shared";
import { addEventBridge, type FakeEventBridge } from "./fake-aws/eventbridge";
import { startFakeAws, type FakeAws, type FakeKey, type KeySpec } from "./fake-aws/index";
import { addRotationServices, type FakeSecretsManager } from "./fake-aws/secrets-manager";

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** The world: fakes, clients, clock, logs. */
export interface World {
  readonly fake: FakeAws;
  readonly sm: FakeSecretsManager;
  readonly bus: FakeEventBridge;
  readonly clients: RotatorDeps["clients"];
  /** Every log line of every run. */
  readonly logs: string[];
  now: number;
  /** One run at `now`, with payload `settings` (default mode apply) and any dependency overridden. */
  run(settings?: Record<string, unknown>, deps?: Partial<RotatorDeps>): Promise<RotatorSummary>;
  /**
   * A user with keys, opted in to `secret` (which is created holding the newest active key and, unless
   * `bind` is false, tagged `keyage:rotate` = the user's ARN), and an owner.
   */
  optIn(name: string, keys: KeySpec[], options?: { secret?: string; owner?: string; storeKey?: boolean; bind?: boolean }): FakeKey[];
  /** Sets a tag on a user. */
  tag(name: string, key: string, value: string): void;
  close(): Promise<void>;
}

/** Starts a world whose clock begins at `start`. */
export async function startWorld(start = Date.parse("2026-01-01T02:00:00Z"), options: { latencyMs?: number } = {}): Promise<World> {
  const state = { now: start };
  const fake = await startFakeAws({ now: () => state.now, reportPolls: 0, latencyMs: options.latencyMs });
  const sm = addRotationServices(fake);
  const bus = addEventBridge(fake);
  const config = { endpoint: fake.url, region: "us-east-1", maxAttempts: 4 };
  const clients = { iam: new IAMClient(config), secrets: new SecretsManagerClient(config), events: new EventBridgeClient(config) };
  const logs: string[] = [];
  const world: World = {
    fake,
    sm,
    bus,
    clients,
    logs,
    get now() {
      return state.now;
    },
    set now(value: number) {
      state.now = value;
    },
    run: (settings = {}, deps = {}) =>
      runRotator({
        clients,
        settings: parseSettings({ mode: "apply", ...settings }),
        now: () => state.now,
        log: jsonLogger({ level: "debug", write: (line) => void logs.push(line) }),
        sleep: async () => undefined,
        ...deps,
      }),
    optIn(name, keys, opts = {}) {
      const user = fake.addUser(name, { keys });
      const secret = opts.secret ?? `app/${name}`;
      world.tag(name, "keyage:rotate", `secretsmanager:${secret}`);
      if (opts.owner) world.tag(name, "keyage:owner", opts.owner);
      const current = user.keys.filter((k) => k.status === "Active").sort((a, b) => b.createDate.getTime() - a.createDate.getTime())[0];
      sm.addSecret(secret, opts.storeKey === false || !current ? undefined : secretDocument(current.accessKeyId, current.secretAccessKey), opts.bind === false ? {} : { "keyage:rotate": user.arn });
      return user.keys;
    },
    tag(name, key, value) {
      sm.tagsOf(name).set(key, value);
    },
    async close() {
      clients.iam.destroy();
      clients.secrets.destroy();
      clients.events.destroy();
      await fake.close();
    },
  };
  return world;
}

/** Every secret access key the fake ever handed out or stored (to check no log or event holds one). */
export function allSecrets(world: World): string[] {
  const out = new Set<string>();
  for (const u of world.fake.users.values()) for (const k of u.keys) out.add(k.secretAccessKey);
  for (const s of world.sm.secrets.values()) {
    for (const v of s.versions) {
      try {
        const doc = JSON.parse(v.secretString) as { SecretAccessKey?: string };
        if (doc.SecretAccessKey) out.add(doc.SecretAccessKey);
      } catch {
        // not a keyage document
      }
    }
  }
  return [...out];
}
