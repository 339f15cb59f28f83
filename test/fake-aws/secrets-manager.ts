/**
 * What `keyage rotate` needs beyond the fake IAM of `./index`: a fake Secrets Manager (JSON protocol,
 * `X-Amz-Target: secretsmanager.<Action>`: DescribeSecret with tags, GetSecretValue, PutSecretValue with
 * the AWSCURRENT/AWSPREVIOUS stages; a SecretId resolves by name, full ARN or partial ARN, as in AWS) and IAM user tags (TagUser, UntagUser, ListUserTags), on the same
 * server. Point the SDK at it with {@link FakeAws.env} (AWS_ENDPOINT_URL_SECRETS_MANAGER).
 *
 * @example
 * const fake = await startFakeAws();
 * const sm = addRotationServices(fake);
 * sm.addSecret("app/alice");
 * const held = sm.hold("PutSecretValue");
 * // … start a rotation, await held.reached, send a signal, then:
 * held.release();
 * assert.equal(sm.currentKeyId("app/alice"), newKeyId);
 */
import { randomUUID } from "node:crypto";
import { AwsFault, type FakeAws } from "./index";

/** One version of a secret. */
export interface FakeSecretVersion {
  readonly versionId: string;
  readonly secretString: string;
  readonly stages: Set<string>;
}

/** A secret held by the fake. */
export interface FakeSecret {
  readonly name: string;
  readonly arn: string;
  readonly versions: FakeSecretVersion[];
  /** Set when the secret is scheduled for deletion. */
  deletedDate?: Date;
  /** The secret's tags (DescribeSecret returns them). */
  readonly tags: Map<string, string>;
}

/** An answer held back until released (e.g. to send a signal while PutSecretValue is in flight). */
export interface Hold {
  /** Resolves when the held request has arrived. */
  readonly reached: Promise<void>;
  /** Lets the request go on: answered normally, or with `fault`. */
  release(fault?: { code: string; status: number; message?: string }): void;
}

function xml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The fake's Secrets Manager and IAM user tags. Create with {@link addRotationServices}. */
export class FakeSecretsManager {
  /** Secrets by name. */
  readonly secrets = new Map<string, FakeSecret>();
  /** IAM user tags, by user name (the fake IAM's own map). */
  get userTags(): Map<string, Map<string, string>> {
    return this.fake.userTags;
  }

  constructor(readonly fake: FakeAws) {
    const sm = (action: string, fn: (p: Record<string, unknown>) => unknown): void => {
      fake.extensions.set(`secretsmanager.${action}`, fn);
    };
    sm("DescribeSecret", (p) => this.describe(p));
    sm("GetSecretValue", (p) => this.getValue(p));
    sm("PutSecretValue", (p) => this.putValue(p));
    fake.extensions.set("ListUserTags", (p) => {
      const tags = [...this.tagsOf(p.UserName).entries()];
      return `<Tags>${tags.map(([k, v]) => `<member><Key>${xml(k)}</Key><Value>${xml(v)}</Value></member>`).join("")}</Tags><IsTruncated>false</IsTruncated>`;
    });
    fake.extensions.set("TagUser", (p) => {
      const tags = this.tagsOf(p.UserName);
      for (let i = 1; p[`Tags.member.${i}.Key`] !== undefined; i += 1) tags.set(String(p[`Tags.member.${i}.Key`]), String(p[`Tags.member.${i}.Value`] ?? ""));
      if (tags.size > 50) throw new AwsFault("LimitExceeded", 409, "Cannot exceed quota for TagsPerUser: 50");
      return "";
    });
    fake.extensions.set("UntagUser", (p) => {
      const tags = this.tagsOf(p.UserName);
      for (let i = 1; p[`TagKeys.member.${i}`] !== undefined; i += 1) tags.delete(String(p[`TagKeys.member.${i}`]));
      return "";
    });
  }

  /** Adds a secret, with a first value (AWSCURRENT) and tags when given. */
  addSecret(name: string, value?: string, tags: Record<string, string> = {}): FakeSecret {
    const suffix = randomUUID().replace(/-/g, "").slice(0, 6);
    const secret: FakeSecret = { name, arn: `arn:aws:secretsmanager:us-east-1:${this.fake.accountId}:secret:${name}-${suffix}`, versions: [], tags: new Map(Object.entries(tags)) };
    if (value !== undefined) secret.versions.push({ versionId: randomUUID(), secretString: value, stages: new Set(["AWSCURRENT"]) });
    this.secrets.set(name, secret);
    return secret;
  }

  /** The SecretString staged `stage` (default AWSCURRENT). */
  value(name: string, stage = "AWSCURRENT"): string | undefined {
    return this.secrets.get(name)?.versions.find((v) => v.stages.has(stage))?.secretString;
  }

  /** The AccessKeyId of the document staged `stage` (default AWSCURRENT). */
  currentKeyId(name: string, stage = "AWSCURRENT"): string | undefined {
    const text = this.value(name, stage);
    return text === undefined ? undefined : (JSON.parse(text) as { AccessKeyId?: string }).AccessKeyId;
  }

  /** The user's tags (live: changes as TagUser/UntagUser arrive). */
  tagsOf(userName: unknown): Map<string, string> {
    const name = String(userName);
    if (!this.fake.users.has(name)) throw new AwsFault("NoSuchEntity", 404, `The user with name ${name} cannot be found.`);
    let tags = this.userTags.get(name);
    if (!tags) this.userTags.set(name, (tags = new Map()));
    return tags;
  }

  /** Holds the next request of `action` (any service) until released. */
  hold(action: string): Hold {
    let reached!: () => void;
    let go!: (fault?: { code: string; status: number; message?: string }) => void;
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    const gate = new Promise<{ code: string; status: number; message?: string } | undefined>((resolve) => (go = resolve));
    const before = this.fake.beforeCall;
    let used = false;
    this.fake.beforeCall = async (a, p) => {
      await before?.(a, p);
      if (a !== action || used) return;
      used = true;
      reached();
      const fault = await gate;
      if (fault) throw new AwsFault(fault.code, fault.status, fault.message ?? `${fault.code} (injected)`);
    };
    return { reached: arrived, release: (fault) => go(fault) };
  }

  /** Sets a tag on a secret (as TagResource would). */
  tagSecret(name: string, key: string, value: string): void {
    const s = this.secrets.get(name);
    if (!s) throw new Error(`no secret ${name}`);
    s.tags.set(key, value);
  }

  /**
   * Resolves a SecretId the way Secrets Manager does: a name, a full ARN, or a partial ARN (the ARN
   * without the `-` and six random characters).
   */
  private find(p: Record<string, unknown>): FakeSecret {
    const id = String(p.SecretId);
    const all = [...this.secrets.values()];
    const secret = id.startsWith("arn:") ? all.find((s) => s.arn === id) ?? all.find((s) => s.arn.slice(0, -7) === id) : this.secrets.get(id);
    if (!secret) throw new AwsFault("ResourceNotFoundException", 400, "Secrets Manager can't find the specified secret.");
    return secret;
  }

  private describe(p: Record<string, unknown>): unknown {
    const s = this.find(p);
    return {
      ARN: s.arn,
      Name: s.name,
      VersionIdsToStages: Object.fromEntries(s.versions.filter((v) => v.stages.size > 0).map((v) => [v.versionId, [...v.stages]])),
      DeletedDate: s.deletedDate ? s.deletedDate.getTime() / 1000 : undefined,
      Tags: s.tags.size > 0 ? [...s.tags.entries()].map(([Key, Value]) => ({ Key, Value })) : undefined,
    };
  }

  private getValue(p: Record<string, unknown>): unknown {
    const s = this.find(p);
    if (s.deletedDate) throw new AwsFault("InvalidRequestException", 400, "You can't perform this operation on the secret because it was marked for deletion.");
    const stage = typeof p.VersionStage === "string" ? p.VersionStage : "AWSCURRENT";
    const v = s.versions.find((x) => (typeof p.VersionId === "string" ? x.versionId === p.VersionId : x.stages.has(stage)));
    if (!v) throw new AwsFault("ResourceNotFoundException", 400, `Secrets Manager can't find the specified secret value for staging label: ${stage}`);
    return { ARN: s.arn, Name: s.name, VersionId: v.versionId, SecretString: v.secretString, VersionStages: [...v.stages], CreatedDate: this.fake.now() / 1000 };
  }

  private putValue(p: Record<string, unknown>): unknown {
    const s = this.find(p);
    if (s.deletedDate) throw new AwsFault("InvalidRequestException", 400, "You can't perform this operation on the secret because it was marked for deletion.");
    const versionId = typeof p.ClientRequestToken === "string" ? p.ClientRequestToken : randomUUID();
    for (const v of s.versions) {
      v.stages.delete("AWSPREVIOUS");
      if (v.stages.delete("AWSCURRENT")) v.stages.add("AWSPREVIOUS");
    }
    s.versions.push({ versionId, secretString: String(p.SecretString), stages: new Set(["AWSCURRENT"]) });
    return { ARN: s.arn, Name: s.name, VersionId: versionId, VersionStages: ["AWSCURRENT"] };
  }
}

/** Adds Secrets Manager and IAM user tags to a running fake. */
export function addRotationServices(fake: FakeAws): FakeSecretsManager {
  return new FakeSecretsManager(fake);
}
