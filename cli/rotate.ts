/**
 * `keyage rotate start|finish|cleanup --user NAME`: the AWS rotation procedure (create a second key →
 * switch the application → deactivate the old key once unused → wait → delete it), one phase per run so
 * a person can run them days apart.
 *
 * Every phase first reads the user's keys from IAM and decides from them alone what is left to do, so a
 * re-run after an interruption carries on safely. Without `--apply` a phase only reads (ListAccessKeys,
 * GetAccessKeyLastUsed, DescribeSecret/GetSecretValue) and says what it would do. Two invariants:
 * the user always keeps an active key (only the older of two active keys is ever deactivated, only
 * inactive keys are deleted), and a new secret is never lost (if it cannot be delivered, the new key is
 * deleted again).
 */
import { closeSync, constants, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import * as path from "node:path";
import type { IAMClient } from "@aws-sdk/client-iam";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { show, USER_NAME } from "../shared";
import { awsErrorName, isClientFault, isNoSuchEntity } from "../aws/errors";
import { defaultClients } from "../aws/lazy-clients";
import { awsFailure } from "./aws";
import { AwsError, EXIT, RefusedError, UsageError, type CliIO, type Clients, type ExitStatus } from "./io";

export type Phase = "start" | "finish" | "cleanup";

/** Options of `keyage rotate <phase>`, as commander hands them over. */
export interface RotateOptions {
  readonly user: string;
  /** Make the changes. Default false: a dry run that only reads. */
  readonly apply?: boolean;
  /** Hours a key must have been unused. Default 24 for finish, 168 for cleanup and start's --delete-inactive. */
  readonly grace?: string;
  readonly profile?: string;
  readonly region?: string;
  /** start: Secrets Manager secret to put `{AccessKeyId, SecretAccessKey}` into. */
  readonly secretsManager?: string;
  /** start: file to create (mode 0600, O_EXCL) with `{AccessKeyId, SecretAccessKey}`. */
  readonly output?: string;
  /** start: also print the secret on stdout. Default false. */
  readonly showSecret?: boolean;
  /** start: with two keys already, delete the inactive one first if unused for the grace period. */
  readonly deleteInactive?: boolean;
  /** start: delete a newer active key that was never used and whose secret is not at the destination. */
  readonly replaceUndelivered?: boolean;
}

/** Default grace before deactivating (finish): IAM's last-used date can lag by hours, so a day is the least evidence. */
export const FINISH_GRACE_HOURS = 24;
/** Default grace before deleting (cleanup, start --delete-inactive): a week to notice a broken job and reactivate. */
export const DELETE_GRACE_HOURS = 168;
const HOUR_MS = 3_600_000;

/** A key as IAM reports it, with its last use. */
interface KeyState {
  readonly id: string;
  readonly status: "Active" | "Inactive";
  readonly created: number;
  readonly lastUsed?: number;
  readonly lastService?: string;
}

function when(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function ago(ms: number): string {
  const h = Math.floor(ms / HOUR_MS);
  return h < 48 ? `${h} hour${h === 1 ? "" : "s"} ago` : `${Math.floor(h / 24)} days ago`;
}

function describe(k: KeyState, now: number): string {
  const used = k.lastUsed === undefined ? "never used" : `last used ${when(k.lastUsed)} (${ago(now - k.lastUsed)}${k.lastService ? `, ${k.lastService}` : ""})`;
  return `${k.id} (${k.status}, created ${when(k.created)}, ${used})`;
}

/** The secret as the application reads it. */
function secretJson(id: string, secret: string): string {
  return JSON.stringify({ AccessKeyId: id, SecretAccessKey: secret });
}

/** The AccessKeyId stored in a secret document, if it is one of ours. */
function heldKeyId(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    const id = (JSON.parse(text) as { AccessKeyId?: unknown }).AccessKeyId;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

class Rotation {
  constructor(
    readonly io: CliIO,
    readonly iam: IAMClient,
    private readonly clients: Clients,
    readonly opts: RotateOptions,
    readonly now: number,
  ) {}

  get apply(): boolean {
    return this.opts.apply === true;
  }

  /** Says what happened (or, in a dry run, what would happen) on stdout, at once: a crash loses nothing said. */
  say(text: string): void {
    this.io.stdout.write(`${this.apply ? "" : "[dry run] "}${text}\n`);
  }

  async keys(): Promise<KeyState[]> {
    const iam = await import("@aws-sdk/client-iam");
    let metadata;
    try {
      metadata = (await this.iam.send(new iam.ListAccessKeysCommand({ UserName: this.opts.user }))).AccessKeyMetadata ?? [];
    } catch (err) {
      if (isNoSuchEntity(err)) {
        throw new UsageError(`there is no IAM user named ${show(this.opts.user)}`, { cause: err });
      }
      throw awsFailure(`listing ${this.opts.user}'s access keys (iam:ListAccessKeys)`, err);
    }
    const states = await Promise.all(
      metadata.map(async (m): Promise<KeyState> => {
        const id = m.AccessKeyId as string;
        let used;
        try {
          used = (await this.iam.send(new iam.GetAccessKeyLastUsedCommand({ AccessKeyId: id }))).AccessKeyLastUsed;
        } catch (err) {
          throw awsFailure(`reading when ${id} was last used (iam:GetAccessKeyLastUsed)`, err);
        }
        return {
          id,
          status: m.Status === "Inactive" ? "Inactive" : "Active",
          created: m.CreateDate ? new Date(m.CreateDate).getTime() : 0,
          ...(used?.LastUsedDate ? { lastUsed: new Date(used.LastUsedDate).getTime() } : {}),
          ...(used?.ServiceName && used.ServiceName !== "N/A" ? { lastService: used.ServiceName } : {}),
        };
      }),
    );
    return states.sort((a, b) => a.created - b.created);
  }

  report(keys: readonly KeyState[]): void {
    const n = keys.length;
    this.io.stdout.write(`${this.opts.user} has ${n === 0 ? "no access keys" : n === 1 ? "1 access key" : `${n} access keys`}${n ? ":" : "."}\n`);
    for (const k of keys) this.io.stdout.write(`  ${describe(k, this.now)}\n`);
  }

  /** Unused for `graceMs`: never used, or last used before now − grace. */
  unusedFor(k: KeyState, graceMs: number): boolean {
    return k.lastUsed === undefined || this.now - k.lastUsed >= graceMs;
  }

  async deleteKey(id: string): Promise<void> {
    if (!this.apply) return;
    const { DeleteAccessKeyCommand } = await import("@aws-sdk/client-iam");
    try {
      await this.iam.send(new DeleteAccessKeyCommand({ UserName: this.opts.user, AccessKeyId: id }));
    } catch (err) {
      throw awsFailure(`deleting ${id} (iam:DeleteAccessKey)`, err);
    }
  }

  get secrets(): SecretsManagerClient {
    return this.clients.secretsManager();
  }
}

function parseGrace(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback * HOUR_MS;
  if (!/^\s*\d{1,5}\s*$/.test(value) || Number(value) < 1 || Number(value) > 87_600) {
    throw new UsageError(`--grace must be a whole number of hours from 1 to 87600, got ${show(value)}`);
  }
  return Number(value) * HOUR_MS;
}

function graceText(ms: number): string {
  const h = ms / HOUR_MS;
  return h % 24 === 0 && h >= 48 ? `${h / 24} days` : `${h} hours`;
}

/**
 * Runs one phase. Returns 0 when the phase did (or in a dry run would do) its work or there was nothing
 * left to do; throws {@link RefusedError} (exit 1) when a safety check says no, {@link UsageError} (2)
 * for bad flags, {@link AwsError} (3) when AWS fails.
 */
export async function runRotate(phase: Phase, opts: RotateOptions, io: CliIO): Promise<ExitStatus> {
  if (!USER_NAME.test(opts.user)) {
    throw new UsageError(`--user: ${show(opts.user)} is not an IAM user name (1-64 characters of letters, digits and +=,.@_-)`);
  }
  const grace = parseGrace(opts.grace, phase === "finish" ? FINISH_GRACE_HOURS : DELETE_GRACE_HOURS);
  if (phase === "start" && !opts.secretsManager && !opts.output && !opts.showSecret) {
    throw new UsageError("rotate start needs somewhere to put the new secret: --secrets-manager SECRET_ID, --output FILE or --show-secret");
  }
  const clients = await (io.clients ?? defaultClients)({ ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.region ? { region: opts.region } : {}) });
  const r = new Rotation(io, clients.iam(), clients, opts, (io.now ?? Date.now)());
  const status = phase === "start" ? await start(r, opts, io, grace) : phase === "finish" ? await finish(r, grace) : await cleanup(r, grace);
  if (!r.apply) io.stdout.write("Nothing was changed (dry run). Add --apply to make these changes.\n");
  return status;
}

// ---------------------------------------------------------------------------------------------- start

/** Where the new secret goes; `held()` reads which key the destination holds now, for re-runs. */
interface Destination {
  readonly label: string;
  held(): Promise<string | undefined>;
}

async function destinations(r: Rotation, opts: RotateOptions, io: CliIO): Promise<Destination[]> {
  const out: Destination[] = [];
  if (opts.output) {
    const file = path.resolve(io.cwd ?? process.cwd(), opts.output);
    out.push({
      label: `file ${opts.output}`,
      held: async () => {
        try {
          return heldKeyId(readFileSync(file, "utf8")) ?? "(not a keyage secret file)";
        } catch (err) {
          if ((err as { code?: string }).code === "ENOENT") return undefined;
          throw new UsageError(`--output ${show(opts.output)}: ${(err as Error).message}`, { cause: err });
        }
      },
    });
  }
  if (opts.secretsManager) {
    const sm = await import("@aws-sdk/client-secrets-manager");
    const id = opts.secretsManager;
    try {
      await r.secrets.send(new sm.DescribeSecretCommand({ SecretId: id }));
    } catch (err) {
      if (awsErrorName(err) === "ResourceNotFoundException") {
        throw new UsageError(`--secrets-manager: there is no secret ${show(id)} (create it first: aws secretsmanager create-secret --name ${id})`, { cause: err });
      }
      throw awsFailure(`checking the secret ${id} (secretsmanager:DescribeSecret)`, err);
    }
    out.push({
      label: `Secrets Manager secret ${id}`,
      held: async () => {
        try {
          return heldKeyId((await r.secrets.send(new sm.GetSecretValueCommand({ SecretId: id }))).SecretString);
        } catch (err) {
          if (awsErrorName(err) === "ResourceNotFoundException") return undefined; // no value stored yet
          throw awsFailure(`reading the secret ${id} (secretsmanager:GetSecretValue)`, err);
        }
      },
    });
  }
  return out;
}

async function start(r: Rotation, opts: RotateOptions, io: CliIO, grace: number): Promise<ExitStatus> {
  const user = opts.user;
  const dests = await destinations(r, opts, io);
  let keys = await r.keys();
  r.report(keys);
  if (keys.length === 0) throw new RefusedError(`${user} has no access keys: there is nothing to rotate`);
  // A destination that already exists must never be overwritten; a secret file is checked before the
  // key exists, and before any key is deleted to make room (bad usage changes nothing).
  const refuseExistingFile = async (): Promise<void> => {
    for (const d of dests) {
      if (d.label.startsWith("file ") && (await d.held()) !== undefined) {
        throw new UsageError(`--output ${show(opts.output)} already exists; keyage never overwrites a secret file: choose a new path or remove it`);
      }
    }
  };

  if (keys.length >= 2) {
    const active = keys.filter((k) => k.status === "Active");
    const newest = keys[keys.length - 1] as KeyState;
    if (active.length === 2) {
      const held = await Promise.all(dests.map(async (d) => ({ d, id: await d.held() })));
      if (held.length > 0 && held.every((h) => h.id === newest.id)) {
        r.say(`The rotation is already started: ${newest.id} is active and in ${held.map((h) => h.d.label).join(" and ")}.`);
        next(io, `switch the application to ${newest.id}; once ${(keys[0] as KeyState).id} is no longer used, run: keyage rotate finish --user ${user} --apply`);
        return EXIT.OK;
      }
      const undelivered = newest.lastUsed === undefined && held.length > 0 && held.every((h) => h.id !== newest.id);
      if (undelivered && opts.replaceUndelivered) {
        await refuseExistingFile();
        r.say(`Deleted ${newest.id}: it was never used and its secret is not in ${dests.map((d) => d.label).join(" or ")} (left by an interrupted start).`.replace(/^Deleted/, r.apply ? "Deleted" : "Would delete"));
        await r.deleteKey(newest.id);
        keys = keys.filter((k) => k !== newest);
      } else if (undelivered) {
        throw new RefusedError(
          `${user} already has two active keys, and the newer one, ${newest.id}, was never used and is not in ${dests.map((d) => d.label).join(" or ")}: ` +
            `probably left by an interrupted start, its secret lost. Re-run with --replace-undelivered to delete it and create a new key`,
        );
      } else {
        throw new RefusedError(
          `${user} already has two active keys (IAM's maximum): finish the rotation in progress first (keyage rotate finish --user ${user})`,
        );
      }
    } else {
      const deletable = keys.filter((k) => k.status === "Inactive" && r.unusedFor(k, grace));
      const inactive = keys.find((k) => k.status === "Inactive") as KeyState;
      if (!opts.deleteInactive) {
        throw new RefusedError(
          `${user} already has two keys (IAM's maximum): delete the inactive ${inactive.id} first (keyage rotate cleanup --user ${user}), or pass --delete-inactive`,
        );
      }
      const victim = deletable[0];
      if (victim) await refuseExistingFile();
      if (!victim) {
        throw new RefusedError(
          `not deleting ${inactive.id}: it was last used ${when(inactive.lastUsed as number)}, within the ${graceText(grace)} grace period; ` +
            `try again after ${when((inactive.lastUsed as number) + grace)}`,
        );
      }
      r.say(`${r.apply ? "Deleted" : "Would delete"} the inactive key ${victim.id} to make room (unused for over ${graceText(grace)}).`);
      await r.deleteKey(victim.id);
      keys = keys.filter((k) => k !== victim);
    }
  }

  await refuseExistingFile();
  const where = [...dests.map((d) => d.label), ...(opts.showSecret ? ["stdout"] : [])].join(" and ");
  if (!r.apply) {
    r.say(`Would create a new access key for ${user} and deliver it to ${where}.`);
    next(io, `after --apply: switch the application to the new key, then run keyage rotate finish --user ${user} --apply`);
    return EXIT.OK;
  }
  await createAndDeliver(r, opts, io, keys, where);
  return EXIT.OK;
}

function next(io: CliIO, text: string): void {
  io.stdout.write(`Next: ${text}.\n`);
}

async function createAndDeliver(r: Rotation, opts: RotateOptions, io: CliIO, keys: readonly KeyState[], where: string): Promise<void> {
  const user = opts.user;
  const iam = await import("@aws-sdk/client-iam");
  // Create the file first (O_EXCL: fails if anything appeared meanwhile) so that a path problem stops us
  // before a key exists whose secret would have nowhere to go.
  let fd: number | undefined;
  const file = opts.output ? path.resolve(io.cwd ?? process.cwd(), opts.output) : undefined;
  if (file) {
    try {
      fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new UsageError(`--output ${show(opts.output)}: ${code === "EEXIST" ? "already exists; keyage never overwrites a secret file" : (err as Error).message}`, { cause: err });
    }
  }
  const discardFile = (): void => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    if (file) unlinkSync(file);
  };

  let created;
  try {
    created = (await r.iam.send(new iam.CreateAccessKeyCommand({ UserName: user }))).AccessKey;
  } catch (err) {
    discardFile();
    throw awsFailure(`creating a new access key for ${user} (iam:CreateAccessKey)`, err);
  }
  if (!created?.AccessKeyId || !created.SecretAccessKey) {
    discardFile();
    throw new AwsError("iam:CreateAccessKey returned no key");
  }
  const id = created.AccessKeyId;
  const secret = created.SecretAccessKey;
  r.say(`Created access key ${id} for ${user}.`);

  try {
    if (fd !== undefined) {
      writeSync(fd, `${secretJson(id, secret)}\n`);
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      r.say(`Wrote it to ${opts.output} (mode 0600).`);
    }
    if (opts.secretsManager) {
      const version = await putSecret(r, opts.secretsManager, id, secret);
      r.say(`Stored it in Secrets Manager secret ${opts.secretsManager}${version ? ` (version ${version})` : ""}.`);
    }
  } catch (err) {
    // Whether Secrets Manager holds the key cannot be told: keep the key and every copy of its secret.
    if (err instanceof Undecided) throw new AwsError(err.message, { cause: err });
    // Delivery failed: take the key back, so nothing is left half-done and no unknown secret stays valid.
    // The key goes first: while it may still be valid, a secret file that was fully written is kept.
    const reason = err instanceof AwsError || err instanceof UsageError ? err.message : `${awsErrorName(err) || "Error"}: ${(err as Error).message}`;
    const fileHoldsSecret = file !== undefined && fd === undefined;
    const discard = (): void => {
      try {
        discardFile();
      } catch {
        // the file may never have been written; nothing to remove
      }
    };
    try {
      await r.deleteKey(id);
    } catch (deleteErr) {
      if (!fileHoldsSecret) discard();
      const kept = fileHoldsSecret ? `; its secret is still in ${opts.output}` : "";
      throw new AwsError(`delivering the secret failed (${reason}), and deleting the new key ${id} failed too (${(deleteErr as Error).message})${kept}: delete the key by hand`, { cause: err });
    }
    if (file) discard();
    r.say(`Deleted ${id} again because its secret could not be delivered.`);
    throw new AwsError(`delivering the new secret to ${where} failed, so the new key was deleted and nothing changed: ${reason}`, { cause: err });
  }
  if (opts.showSecret) {
    io.stdout.write(`AccessKeyId: ${id}\nSecretAccessKey: ${secret}\n`);
  }
  const old = keys.filter((k) => k.status === "Active").map((k) => k.id);
  next(io, `switch the application to ${id}${old.length ? `; once ${old.join(" and ")} is no longer used (check with a dry run of finish), run: keyage rotate finish --user ${user} --apply` : ""}`);
}

/** PutSecretValue failed and whether the value was stored cannot be told: keep the key, say so. */
class Undecided extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Puts the secret. If the call fails without a 4xx answer (a timeout, a 5xx), the value may have been
 * stored anyway, and deleting the key would break whatever reads the secret next: read it back first.
 */
async function putSecret(r: Rotation, secretId: string, id: string, secret: string): Promise<string | undefined> {
  const sm = await import("@aws-sdk/client-secrets-manager");
  try {
    return (await r.secrets.send(new sm.PutSecretValueCommand({ SecretId: secretId, SecretString: secretJson(id, secret) }))).VersionId;
  } catch (err) {
    if (isClientFault(err)) throw awsFailure(`storing the secret in ${secretId} (secretsmanager:PutSecretValue)`, err);
    let held: string | undefined;
    try {
      held = heldKeyId((await r.secrets.send(new sm.GetSecretValueCommand({ SecretId: secretId }))).SecretString);
    } catch (readErr) {
      throw new Undecided(
        `storing the secret in ${secretId} failed (${awsErrorName(err) || "Error"}) and reading it back failed too (${awsErrorName(readErr) || "Error"}): ` +
          `the new key ${id} is kept, since the secret may hold it; check the secret, then re-run start (with --replace-undelivered if it does not hold ${id})`,
        { cause: err },
      );
    }
    if (held === id) return undefined;
    throw awsFailure(`storing the secret in ${secretId} (secretsmanager:PutSecretValue)`, err);
  }
}

// --------------------------------------------------------------------------------------------- finish

async function finish(r: Rotation, grace: number): Promise<ExitStatus> {
  const user = r.opts.user;
  const keys = await r.keys();
  r.report(keys);
  const active = keys.filter((k) => k.status === "Active");
  if (active.length === 0) throw new RefusedError(`${user} has no active access key: there is nothing to deactivate`);
  if (active.length === 1) {
    const only = active[0] as KeyState;
    if (keys.length === 1) throw new RefusedError(`${user} has only one key, ${only.id}: start a rotation first (keyage rotate start --user ${user})`);
    r.say(`Nothing to deactivate: ${only.id} is ${user}'s only active key, and keyage never deactivates the last one.`);
    next(r.io, `once nothing broke, after the grace period run: keyage rotate cleanup --user ${user} --apply`);
    return EXIT.OK;
  }
  const [old, fresh] = active as [KeyState, KeyState];
  if (!r.unusedFor(old, grace)) {
    const last = old.lastUsed as number;
    throw new RefusedError(
      `not deactivating ${old.id}: it was last used ${when(last)}${old.lastService ? ` (${old.lastService})` : ""}, ${ago(r.now - last)}, within the ` +
        `${graceText(grace)} grace period. Switch whatever still uses it to ${fresh.id}, then run finish again after ${when(last + grace)}`,
    );
  }
  if (fresh.lastUsed === undefined) {
    r.io.stderr.write(`keyage: warning: the new key ${fresh.id} has not been used yet; anything still holding ${old.id} fails once it is inactive\n`);
  }
  if (r.apply) {
    const { UpdateAccessKeyCommand } = await import("@aws-sdk/client-iam");
    try {
      await r.iam.send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: old.id, Status: "Inactive" }));
    } catch (err) {
      throw awsFailure(`deactivating ${old.id} (iam:UpdateAccessKey)`, err);
    }
  }
  r.say(`${r.apply ? "Deactivated" : "Would deactivate"} ${old.id} (${old.lastUsed === undefined ? "never used" : `unused since ${when(old.lastUsed)}`}); ${fresh.id} stays active.`);
  next(
    r.io,
    `check that nothing broke (to undo: aws iam update-access-key --user-name ${user} --access-key-id ${old.id} --status Active); ` +
      `in a week run: keyage rotate cleanup --user ${user} --apply`,
  );
  return EXIT.OK;
}

// -------------------------------------------------------------------------------------------- cleanup

async function cleanup(r: Rotation, grace: number): Promise<ExitStatus> {
  const user = r.opts.user;
  const keys = await r.keys();
  r.report(keys);
  const inactive = keys.filter((k) => k.status === "Inactive");
  if (inactive.length === 0) {
    r.say(`Nothing to delete: ${user} has no inactive keys.`);
    return EXIT.OK;
  }
  if (!keys.some((k) => k.status === "Active")) {
    throw new RefusedError(`${user} has no active key: keyage does not delete the inactive ones (reactivate one instead, or delete by hand)`);
  }
  const refused: string[] = [];
  for (const k of inactive) {
    if (!r.unusedFor(k, grace)) {
      const last = k.lastUsed as number;
      refused.push(`${k.id} was last used ${when(last)}, within the ${graceText(grace)} grace period; delete it after ${when(last + grace)}`);
      continue;
    }
    await r.deleteKey(k.id);
    r.say(`${r.apply ? "Deleted" : "Would delete"} the inactive key ${k.id} (${k.lastUsed === undefined ? "never used" : `unused since ${when(k.lastUsed)}`}).`);
  }
  if (refused.length > 0) throw new RefusedError(`not deleting ${refused.join("; ")}`);
  return EXIT.OK;
}
