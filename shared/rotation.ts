/**
 * Rotation decisions: what the next step of a user's key rotation is, or why there is none. Pure: the
 * caller observes IAM and the destinations, hands the observation in with `now`, and executes the steps
 * it gets back. The CLI's `keyage rotate start|finish|cleanup` and a scheduled rotator execute the same
 * plans, so every safety promise is decided here, once:
 * - the user always keeps an active key (only the older of two active keys is deactivated, only inactive
 *   keys are deleted);
 * - a key is deleted only `grace` after keyage deactivated it (a user tag records when) and after its last
 *   use; a key deactivated outside keyage only once unused for `grace`;
 * - an active key is never deleted: a key that looks undelivered is deactivated, and only on positive
 *   evidence (the secret holds another key) once it is older than the grace period;
 * - every destination problem is found before any step, so bad usage changes nothing;
 * - a secret is written only when it is bound to the user (its `keyage:rotate` tag is the user's ARN;
 *   `start` accepts an untagged one), holds nothing or a keyage document of this user's keys, and no
 *   other opted-in user names it ({@link bindingProblem});
 * - the scheduled rotator undoes (deletes at once) only a key it recorded creating (`keyage:created:`);
 *   any other unexpected key is at most deactivated and waits `cleanupDays`.
 */
import { DEFAULT_CONFIG_RULE_NAME } from "./config-rule";
import { show } from "./errors";
import { DEFAULT_MAX_AGE_DAYS, DEFAULT_WARN_DAYS } from "./params";

/** The three phases of the AWS rotation procedure, run days apart. */
export type RotationPhase = "start" | "finish" | "cleanup";

/**
 * What {@link planRotation} plans: one of the CLI's phases, or `scheduled`, the scheduled rotator's
 * "whatever comes next" for one opted-in user (create and store when due, deactivate the old key once the
 * new one is used, delete it `cleanupDays` later, or finish/undo a half-done step).
 */
export type PlannerPhase = RotationPhase | "scheduled";

/** Default grace of `finish` (hours a key must be unused before it is deactivated): last-used dates lag by hours. */
export const FINISH_GRACE_HOURS = 24;
/** Default grace before deleting (cleanup, start --delete-inactive): a week to notice a broken job and reactivate. */
export const DELETE_GRACE_HOURS = 168;
/** Default age a never-used newer key must reach before `--replace-undelivered` deactivates it. */
export const REPLACE_GRACE_HOURS = 24;
/** Largest `--grace` (ten years). */
export const MAX_GRACE_HOURS = 87_600;
/** Default days between keyage deactivating a key on schedule and deleting it. */
export const DEFAULT_CLEANUP_DAYS = 7;
/**
 * Default age (hours) a never-used newer key must reach before the scheduled rotator undoes it when the
 * secret still holds the older key (a run that created it stopped before storing it). A day, like
 * {@link REPLACE_GRACE_HOURS}: never a key another run may still be storing.
 */
export const UNDO_GRACE_HOURS = 24;
/** User tag `keyage:deactivated:<last 4 of the key id>` = ISO time keyage deactivated that key. */
export const DEACTIVATED_TAG_PREFIX = "keyage:deactivated:";
/**
 * User tag `keyage:created:<last 4 of the key id>` = ISO time the scheduled rotator created that key. Set
 * right after CreateAccessKey, before the key is stored, and removed once the store succeeded: a newer key
 * that never reached the secret is undone (deleted) only when it carries this record.
 */
export const CREATED_TAG_PREFIX = "keyage:created:";
/** IAM's limit of tags per user: a bookkeeping tag that would exceed it blocks the step that needs it. */
export const MAX_USER_TAGS = 50;
/** What counts as an access key id in a secret: anything else is never echoed. */
export const ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{16}$/;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** One access key of the user, as IAM reports it (ListAccessKeys + GetAccessKeyLastUsed). */
export interface RotationKey {
  readonly id: string;
  readonly status: "Active" | "Inactive";
  /** Creation time, epoch ms. */
  readonly created: number;
  /** Last use, epoch ms; absent when never used. */
  readonly lastUsed?: number;
  /** The service of the last use, e.g. `s3`. */
  readonly lastService?: string;
}

/** Where `start` delivers the new secret, and what it holds now. */
export interface RotationDestination {
  /** `file` (--output), `secret` (Secrets Manager) or `stdout` (--show-secret). */
  readonly kind: "file" | "secret" | "stdout";
  /** How messages name it: `file ./key.json`, `Secrets Manager secret app/alice`, `stdout`. */
  readonly label: string;
  /** Why nothing can be delivered here (missing directory, no secret, …): bad usage, nothing is done. */
  readonly unusable?: string;
  /** A file: it exists already (keyage never overwrites one). */
  readonly exists?: boolean;
  /** The access key id of the keyage document it holds now (a secret's current version), if any. */
  readonly holds?: string;
  /**
   * A secret: its current value is neither empty nor a keyage document (`{"AccessKeyId","SecretAccessKey"}`
   * with a key id shaped `AKIA…`/`ASIA…`): someone else's value, which keyage never overwrites (and never echoes).
   */
  readonly foreign?: boolean;
  /**
   * A secret: the value of its own `keyage:rotate` tag (the ARN of the one IAM user it is bound to);
   * absent when the secret has no such tag.
   */
  readonly boundTo?: string;
  /** A secret: other opted-in users whose `keyage:rotate` tag resolves to this same secret. */
  readonly sharedWith?: readonly string[];
}

/** What the executor observed before planning. */
export interface RotationObservation {
  readonly user: string;
  /** The user's ARN: a secret is bound to the user whose ARN its `keyage:rotate` tag holds. Needed by `scheduled`. */
  readonly userArn?: string;
  /** The user's keys, in any order. */
  readonly keys: readonly RotationKey[];
  /** The user's IAM tags (only `keyage:` ones matter). */
  readonly tags: Readonly<Record<string, string>>;
  /** start only: where the new secret goes. */
  readonly destinations?: readonly RotationDestination[];
}

/** The caller's settings. */
export interface RotationPolicy {
  /** `--grace` in hours; default {@link FINISH_GRACE_HOURS}, {@link DELETE_GRACE_HOURS} or {@link REPLACE_GRACE_HOURS} by purpose. */
  readonly graceHours?: number;
  /** start: delete an inactive key to make room (when deletable). Default false. */
  readonly deleteInactive?: boolean;
  /** start: deactivate a newer active key that was positively not delivered. Default false. */
  readonly replaceUndelivered?: boolean;
  /** Delete inactive keys even though the remaining active key was never used. Default false. */
  readonly force?: boolean;
  /** finish: the Config rule to re-evaluate. Default {@link DEFAULT_CONFIG_RULE_NAME}. */
  readonly configRuleName?: string;
  /** scheduled: when to rotate and delete. Defaults in {@link ScheduleSettings}. */
  readonly schedule?: ScheduleSettings;
}

/** The scheduled rotator's timing (the `graceHours` of {@link RotationPolicy} is its deactivation grace, default 24). */
export interface ScheduleSettings {
  /** The rule's limit in days. Default {@link DEFAULT_MAX_AGE_DAYS}. */
  readonly maxAgeDays?: number;
  /** Rotate when the active key is within this many days of the limit. Default {@link DEFAULT_WARN_DAYS}. */
  readonly warnDays?: number;
  /** Delete a key this many days after keyage deactivated it (and after its last use). Default {@link DEFAULT_CLEANUP_DAYS}. */
  readonly cleanupDays?: number;
  /** Hours a never-used key the secret does not hold must be old before it is undone. Default {@link UNDO_GRACE_HOURS}. */
  readonly undoHours?: number;
}

/** One step for the executor, in order. */
export type RotationStep =
  | {
      /** DeleteAccessKey, then remove `untag` from the user (if set). */
      readonly kind: "delete";
      readonly key: RotationKey;
      /** Why it may go, e.g. `(unused since …)`. */
      readonly why: string;
      readonly untag?: string;
    }
  | {
      /** Tag the user with `tag` first, then UpdateAccessKey Inactive (remove the tag again if that fails). */
      readonly kind: "deactivate";
      readonly key: RotationKey;
      readonly why: string;
      readonly tag: { readonly key: string; readonly value: string };
    }
  | {
      /** CreateAccessKey and deliver to every destination, all or nothing. */
      readonly kind: "create";
      readonly destinations: readonly RotationDestination[];
      /** Active keys the application should move away from. */
      readonly replacing: readonly string[];
    };

/** Why a phase stops: `refused` (a safety check, exit 1) or `usage` (bad usage, exit 2). */
export interface RotationRefusal {
  readonly kind: "refused" | "usage";
  readonly reason: string;
}

/** What a phase does: notes, warnings, steps, and a refusal that ends it (after the steps, if any). */
export interface RotationPlan {
  readonly phase: PlannerPhase;
  readonly user: string;
  /** What was found, e.g. "The rotation is already started…". */
  readonly notes: readonly string[];
  /** For stderr. */
  readonly warnings: readonly string[];
  readonly steps: readonly RotationStep[];
  /** Set when the phase stops: with no steps before a usage refusal, ever. */
  readonly refusal?: RotationRefusal;
  /** What the person does next. */
  readonly next?: string;
  /** finish: the command that makes AWS Config re-evaluate now. */
  readonly reevaluate?: string;
  /**
   * scheduled: `keyage:deactivated:` tags that match no key any more (a run stopped between deleting the
   * key and removing its tag): remove them, after the steps.
   */
  readonly untag?: readonly string[];
}

/** "2026-11-29 12:00 UTC". */
export function utcMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function ago(ms: number): string {
  const h = Math.floor(ms / HOUR_MS);
  return h < 48 ? `${h} hour${h === 1 ? "" : "s"} ago` : `${Math.floor(h / 24)} days ago`;
}

function graceText(ms: number): string {
  const h = ms / HOUR_MS;
  return h % 24 === 0 && h >= 48 ? `${h / 24} days` : `${h} hours`;
}

/** The user tag that records when keyage deactivated `keyId`. */
export function deactivationTag(keyId: string): string {
  return `${DEACTIVATED_TAG_PREFIX}${keyId.slice(-4)}`;
}

/**
 * When keyage deactivated `key`, from the user's tags; undefined when it did not (or the tag is older
 * than the key, i.e. left by an earlier key with the same last four characters).
 */
export function deactivatedAt(key: RotationKey, tags: Readonly<Record<string, string>>): number | undefined {
  const value = tags[deactivationTag(key.id)];
  const at = value === undefined ? NaN : Date.parse(value);
  return Number.isFinite(at) && at >= key.created && key.status === "Inactive" ? at : undefined;
}

/** The user tag that records that the scheduled rotator created `keyId` (and has not stored it yet). */
export function createdTag(keyId: string): string {
  return `${CREATED_TAG_PREFIX}${keyId.slice(-4)}`;
}

/**
 * When the rotator recorded creating `key`, from the user's tags; undefined when it did not (or the
 * record is older than the key, i.e. left by an earlier key with the same last four characters).
 */
export function createdAt(key: RotationKey, tags: Readonly<Record<string, string>>): number | undefined {
  const value = tags[createdTag(key.id)];
  const at = value === undefined ? NaN : Date.parse(value);
  return Number.isFinite(at) && at >= key.created - 60_000 ? at : undefined;
}

/** The secret document keyage writes: `{"AccessKeyId","SecretAccessKey"}`. */
export function secretDocument(accessKeyId: string, secretAccessKey: string): string {
  return JSON.stringify({ AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey });
}

/**
 * What a secret's (or file's) current value is: `empty` (no value, blank, or `{}`), `keyage` (exactly
 * `{"AccessKeyId","SecretAccessKey"}`, both strings, the id shaped like an access key id: `keyId` is it),
 * or `foreign` (anything else, which keyage never overwrites and never echoes).
 *
 * @example
 * secretValue('{"username":"u","password":"p"}'); // { kind: "foreign" }
 */
export function secretValue(text: string | undefined): { readonly kind: "empty" | "foreign" } | { readonly kind: "keyage"; readonly keyId: string } {
  if (text === undefined || text.trim() === "") return { kind: "empty" };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { kind: "foreign" };
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return { kind: "foreign" };
  const fields = Object.keys(doc);
  if (fields.length === 0) return { kind: "empty" };
  const { AccessKeyId: id, SecretAccessKey: secret } = doc as Record<string, unknown>;
  if (fields.length !== 2 || typeof id !== "string" || typeof secret !== "string" || !ACCESS_KEY_ID.test(id)) return { kind: "foreign" };
  return { kind: "keyage", keyId: id };
}

/** The AccessKeyId of a keyage secret document, or undefined when `text` is not one (see {@link secretValue}). */
export function documentKeyId(text: string | undefined): string | undefined {
  const v = secretValue(text);
  return v.kind === "keyage" ? v.keyId : undefined;
}

/** A secret as DescribeSecret names it. */
export interface SecretIdentity {
  readonly arn: string;
  readonly name: string;
}

/**
 * Whether a `SecretId` (what a user's `keyage:rotate` tag names) can resolve to `secret` the way Secrets
 * Manager resolves one: by name, by full ARN, or by partial ARN (the ARN without the `-` and six random
 * characters AWS appends). Compared without regard to case, so that a doubt counts as the same secret.
 *
 * @example
 * refersTo("app/alice", { arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/alice-AbCdEf", name: "app/alice" }); // true
 */
export function refersTo(secretId: string, secret: SecretIdentity): boolean {
  const id = secretId.trim().toLowerCase();
  if (!id) return false;
  const arn = secret.arn.toLowerCase();
  // The ARN ends with `<name>-<six characters>`; without them it is the partial ARN.
  const partial = arn.slice(0, arn.length - 7);
  return id === arn || id === partial || id === secret.name.toLowerCase();
}

/** An IAM user ARN as it may be shown in an event; anything else is described, never echoed. */
function showUserArn(value: string): string {
  return /^arn:aws[a-z-]*:iam::\d{12}:user\/[\w+=,.@/-]{1,200}$/.test(value) ? value : "a value that is not an IAM user ARN";
}

/**
 * Why keyage may not write into `dest` for `observed`'s user: the secret is bound (its `keyage:rotate`
 * tag) to another user, holds a foreign value, or a keyage document of a key that is not one of this
 * user's. With `strict` (the scheduled rotator) the secret must also be bound to this very user and be
 * named by no other opted-in user. Undefined when it may.
 */
export function bindingProblem(dest: RotationDestination, observed: RotationObservation, strict: boolean): string | undefined {
  if (dest.kind !== "secret") return undefined;
  const user = observed.user;
  const where = dest.label;
  if (dest.boundTo !== undefined && (observed.userArn === undefined || dest.boundTo !== observed.userArn)) {
    return `${where} is bound to another user: its keyage:rotate tag names ${showUserArn(dest.boundTo)}, not ${observed.userArn ?? user}`;
  }
  if (dest.sharedWith?.length) {
    const id = where.replace(/^Secrets Manager secret /, "");
    return `the secret ${id} is named by ${dest.sharedWith.join(", ")} too: each user needs a secret of its own, or the rotations overwrite each other's key`;
  }
  if (dest.boundTo === undefined && strict) {
    const id = where.replace(/^Secrets Manager secret /, "");
    return `${user}'s keyage:rotate tag names ${where}, but that secret has no keyage:rotate tag naming ${user}: the secret's owner binds it with aws secretsmanager tag-resource --secret-id ${id} --tags Key=keyage:rotate,Value=${observed.userArn ?? `<${user}'s ARN>`}`;
  }
  if (dest.foreign) return `${where} holds a value that is not a keyage document ({"AccessKeyId","SecretAccessKey"}): keyage never overwrites it; use a secret of its own for ${user}'s key`;
  if (dest.holds !== undefined && !observed.keys.some((k) => k.id === dest.holds)) {
    return `${where} holds the key …${dest.holds.slice(-4)}, which is not one of ${user}'s keys: keyage never overwrites another user's key`;
  }
  return undefined;
}

/** One line per key: `AKIA… (Active, created …, last used … (1 hour ago, s3))`. */
export function describeKey(key: RotationKey, now: number): string {
  const used =
    key.lastUsed === undefined
      ? "never used"
      : `last used ${utcMinute(key.lastUsed)} (${ago(now - key.lastUsed)}${key.lastService ? `, ${key.lastService}` : ""})`;
  return `${key.id} (${key.status}, created ${utcMinute(key.created)}, ${used})`;
}

/** The header of every phase: the user's keys. */
export function describeKeys(user: string, keys: readonly RotationKey[], now: number): string[] {
  const n = keys.length;
  const head = `${user} has ${n === 0 ? "no access keys" : n === 1 ? "1 access key" : `${n} access keys`}${n ? ":" : "."}`;
  return [head, ...byAge(keys).map((k) => `  ${describeKey(k, now)}`)];
}

function byAge(keys: readonly RotationKey[]): RotationKey[] {
  return [...keys].sort((a, b) => a.created - b.created);
}

/** Whether an inactive key may be deleted now, and the words for either answer. */
type Deletion = { readonly ok: true; readonly why: string; readonly untag?: string } | { readonly ok: false; readonly reason: string; readonly after: number };

function deletion(key: RotationKey, tags: Readonly<Record<string, string>>, graceMs: number, now: number): Deletion {
  const deactivated = deactivatedAt(key, tags);
  const tag = tags[deactivationTag(key.id)] !== undefined ? deactivationTag(key.id) : undefined;
  const usedUntil = key.lastUsed ?? -Infinity;
  if (deactivated !== undefined && deactivated >= usedUntil && now - deactivated < graceMs) {
    return {
      ok: false,
      reason: `keyage deactivated it ${utcMinute(deactivated)}, less than the ${graceText(graceMs)} grace period ago`,
      after: deactivated + graceMs,
    };
  }
  if (key.lastUsed !== undefined && now - key.lastUsed < graceMs) {
    return { ok: false, reason: `it was last used ${utcMinute(key.lastUsed)}, within the ${graceText(graceMs)} grace period`, after: key.lastUsed + graceMs };
  }
  const used = key.lastUsed === undefined ? "never used" : `unused since ${utcMinute(key.lastUsed)}`;
  return { ok: true, why: deactivated === undefined ? used : `${used}, deactivated by keyage ${utcMinute(deactivated)}`, untag: tag };
}

function grace(policy: RotationPolicy, fallbackHours: number): number {
  return (policy.graceHours ?? fallbackHours) * HOUR_MS;
}

interface Draft {
  notes: string[];
  warnings: string[];
  steps: RotationStep[];
  refusal?: RotationRefusal;
  next?: string;
  reevaluate?: string;
  untag?: string[];
}

/**
 * Plans one phase for one user. Never throws: a refusal is part of the plan.
 *
 * @example
 * const plan = planRotation("cleanup", { user: "alice", keys, tags: {} }, {}, Date.now());
 * if (plan.refusal) console.error(plan.refusal.reason);
 */
export function planRotation(phase: PlannerPhase, observed: RotationObservation, policy: RotationPolicy, now: number): RotationPlan {
  const draft: Draft = { notes: [], warnings: [], steps: [] };
  const keys = byAge(observed.keys);
  if (phase === "start") planStart(draft, observed, keys, policy, now);
  else if (phase === "finish") planFinish(draft, observed.user, keys, policy, now);
  else if (phase === "cleanup") planCleanup(draft, observed, keys, policy, now);
  else {
    planScheduled(draft, observed, keys, policy, now);
    keepTagRoom(draft, observed);
  }
  return { phase, user: observed.user, ...draft };
}

function refuse(draft: Draft, reason: string, kind: RotationRefusal["kind"] = "refused"): void {
  draft.refusal = { kind, reason };
}

function planStart(draft: Draft, observed: RotationObservation, keys: RotationKey[], policy: RotationPolicy, now: number): void {
  const user = observed.user;
  const dests = observed.destinations ?? [];
  const unusable = dests.find((d) => d.unusable !== undefined);
  if (unusable) return refuse(draft, unusable.unusable as string, "usage");
  for (const d of dests) {
    const problem = bindingProblem(d, observed, false);
    if (problem === undefined) continue;
    if (!policy.force) return refuse(draft, `--secrets-manager: ${problem} (pass --force to overwrite it anyway)`, "usage");
    draft.warnings.push(`--force: ${problem}; overwriting it anyway`);
  }
  if (dests.length === 0) {
    return refuse(draft, "rotate start needs somewhere to put the new secret: --secrets-manager SECRET_ID, --output FILE or --show-secret", "usage");
  }
  if (keys.length === 0) return refuse(draft, `${user} has no access keys: there is nothing to rotate`);
  const active = keys.filter((k) => k.status === "Active");
  const newest = keys[keys.length - 1] as RotationKey;
  const stored = dests.filter((d) => d.kind !== "stdout");
  if (active.length === 2 && stored.length > 0 && stored.every((d) => d.holds === newest.id)) {
    draft.notes.push(`The rotation is already started: ${newest.id} is active and in ${stored.map((d) => d.label).join(" and ")}.`);
    draft.next = `switch the application to ${newest.id}; once ${(keys[0] as RotationKey).id} is no longer used, run: keyage rotate finish --user ${user} --apply`;
    return;
  }
  const existing = dests.find((d) => d.kind === "file" && d.exists);
  if (existing) {
    return refuse(draft, `--output ${show(existing.label.replace(/^file /, ""))} already exists; keyage never overwrites a secret file: choose a new path or remove it`, "usage");
  }

  if (keys.length >= 2 && active.length === 2) return planUndelivered(draft, user, keys, stored, policy, now);
  if (keys.length >= 2) {
    const inactive = keys.filter((k) => k.status === "Inactive");
    if (!policy.deleteInactive) {
      return refuse(
        draft,
        `${user} already has two keys (IAM's maximum): delete the inactive ${(inactive[0] as RotationKey).id} first (keyage rotate cleanup --user ${user}), or pass --delete-inactive`,
      );
    }
    const graceMs = grace(policy, DELETE_GRACE_HOURS);
    const checked = inactive.map((k) => ({ k, d: deletion(k, observed.tags, graceMs, now) }));
    const room = checked.find((c) => c.d.ok);
    if (!room) {
      const { k, d } = checked[0] as { k: RotationKey; d: Deletion & { ok: false } };
      return refuse(draft, `not deleting ${k.id}: ${d.reason}; try again after ${utcMinute(d.after)}`);
    }
    const unusedActive = neverUsedActive(active, policy);
    if (unusedActive) return refuse(draft, switchMayHaveFailed(user, room.k, unusedActive));
    const ok = room.d as Deletion & { ok: true };
    draft.steps.push({ kind: "delete", key: room.k, why: `to make room (${ok.why})`, untag: ok.untag });
  }
  draft.steps.push({ kind: "create", destinations: dests, replacing: active.map((k) => k.id) });
  draft.next = `after --apply: switch the application to the new key, then run keyage rotate finish --user ${user} --apply`;
}

/** Two active keys already: a rotation in progress, or a newer key whose secret never arrived. */
function planUndelivered(draft: Draft, user: string, keys: RotationKey[], stored: readonly RotationDestination[], policy: RotationPolicy, now: number): void {
  const [older, newest] = keys.filter((k) => k.status === "Active") as [RotationKey, RotationKey];
  if (newest.lastUsed !== undefined) {
    return refuse(draft, `${user} already has two active keys (IAM's maximum): finish the rotation in progress first (keyage rotate finish --user ${user})`);
  }
  // Only a secret that holds another key proves the newer key was not delivered: a missing file proves
  // nothing (people delete key files once installed) and a never-used key may just be waiting.
  const proof = stored.find((d) => d.kind === "secret" && d.holds !== undefined && d.holds !== newest.id);
  if (!proof) {
    return refuse(
      draft,
      `${user} already has two active keys, and the newer one, ${newest.id}, was never used; keyage cannot tell whether anything holds its secret ` +
        `(a missing --output file proves nothing). If nothing does, deactivate it (aws iam update-access-key --user-name ${user} --access-key-id ${newest.id} --status Inactive) ` +
        `and run cleanup after the grace period; otherwise finish the rotation in progress (keyage rotate finish --user ${user})`,
    );
  }
  const evidence = `is not in ${proof.label} (it holds ${proof.holds})`;
  if (!policy.replaceUndelivered) {
    return refuse(
      draft,
      `${user} already has two active keys, and the newer one, ${newest.id}, was never used and ${evidence}: ` +
        `probably left by an interrupted start, its secret lost. Re-run with --replace-undelivered to deactivate it`,
    );
  }
  const graceMs = grace(policy, REPLACE_GRACE_HOURS);
  if (now - newest.created < graceMs) {
    return refuse(
      draft,
      `not replacing ${newest.id}: it was created ${utcMinute(newest.created)}, less than the ${graceText(graceMs)} grace period ago, and IAM reports a key's ` +
        `last use hours late; try again after ${utcMinute(newest.created + graceMs)}`,
    );
  }
  draft.steps.push({
    kind: "deactivate",
    key: newest,
    why: `(never used, and it ${evidence}); ${older.id} stays active`,
    tag: { key: deactivationTag(newest.id), value: new Date(now).toISOString() },
  });
  draft.next = `after the grace period run keyage rotate cleanup --user ${user} --apply to delete ${newest.id}, then start again`;
}

/** The active key that has never been used, when every active key is such (and `--force` was not given). */
function neverUsedActive(active: readonly RotationKey[], policy: RotationPolicy): RotationKey | undefined {
  if (policy.force || active.length === 0 || active.some((k) => k.lastUsed !== undefined)) return undefined;
  return active[active.length - 1];
}

function switchMayHaveFailed(user: string, victim: RotationKey, unused: RotationKey): string {
  return (
    `not deleting ${victim.id}: ${user}'s active key ${unused.id} has never been used, so the switch to it may have failed ` +
    `(to undo: aws iam update-access-key --user-name ${user} --access-key-id ${victim.id} --status Active); pass --force to delete it anyway`
  );
}

function reevaluateCommand(policy: RotationPolicy): string {
  return `aws configservice start-config-rules-evaluation --config-rule-names ${policy.configRuleName ?? DEFAULT_CONFIG_RULE_NAME}`;
}

function planFinish(draft: Draft, user: string, keys: RotationKey[], policy: RotationPolicy, now: number): void {
  const active = keys.filter((k) => k.status === "Active");
  if (active.length === 0) return refuse(draft, `${user} has no active access key: there is nothing to deactivate`);
  if (active.length === 1) {
    const only = active[0] as RotationKey;
    if (keys.length === 1) return refuse(draft, `${user} has only one key, ${only.id}: start a rotation first (keyage rotate start --user ${user})`);
    draft.notes.push(`Nothing to deactivate: ${only.id} is ${user}'s only active key, and keyage never deactivates the last one.`);
    draft.next = `once nothing broke, after the grace period run: keyage rotate cleanup --user ${user} --apply`;
    draft.reevaluate = reevaluateCommand(policy);
    return;
  }
  const [old, fresh] = active as [RotationKey, RotationKey];
  const graceMs = grace(policy, FINISH_GRACE_HOURS);
  if (old.lastUsed !== undefined && now - old.lastUsed < graceMs) {
    return refuse(
      draft,
      `not deactivating ${old.id}: it was last used ${utcMinute(old.lastUsed)}${old.lastService ? ` (${old.lastService})` : ""}, ${ago(now - old.lastUsed)}, within the ` +
        `${graceText(graceMs)} grace period. Switch whatever still uses it to ${fresh.id}, then run finish again after ${utcMinute(old.lastUsed + graceMs)}`,
    );
  }
  if (fresh.lastUsed === undefined) {
    draft.warnings.push(`the new key ${fresh.id} has not been used yet; anything still holding ${old.id} fails once it is inactive`);
  }
  draft.steps.push({
    kind: "deactivate",
    key: old,
    why: `(${old.lastUsed === undefined ? "never used" : `unused since ${utcMinute(old.lastUsed)}`}); ${fresh.id} stays active`,
    tag: { key: deactivationTag(old.id), value: new Date(now).toISOString() },
  });
  draft.next =
    `check that nothing broke (to undo: aws iam update-access-key --user-name ${user} --access-key-id ${old.id} --status Active); ` +
    `in a week run: keyage rotate cleanup --user ${user} --apply`;
  draft.reevaluate = reevaluateCommand(policy);
}

function planCleanup(draft: Draft, observed: RotationObservation, keys: RotationKey[], policy: RotationPolicy, now: number): void {
  const user = observed.user;
  const inactive = keys.filter((k) => k.status === "Inactive");
  const active = keys.filter((k) => k.status === "Active");
  if (inactive.length === 0) {
    draft.notes.push(`Nothing to delete: ${user} has no inactive keys.`);
    return;
  }
  if (active.length === 0) {
    return refuse(draft, `${user} has no active key: keyage does not delete the inactive ones (reactivate one instead, or delete by hand)`);
  }
  const unused = neverUsedActive(active, policy);
  if (unused) return refuse(draft, switchMayHaveFailed(user, inactive[0] as RotationKey, unused));
  const graceMs = grace(policy, DELETE_GRACE_HOURS);
  const refused: string[] = [];
  for (const k of inactive) {
    const d = deletion(k, observed.tags, graceMs, now);
    if (!d.ok) refused.push(`${k.id}: ${d.reason}; delete it after ${utcMinute(d.after)}`);
    else draft.steps.push({ kind: "delete", key: k, why: `(${d.why})`, untag: d.untag });
  }
  if (refused.length > 0) refuse(draft, `not deleting ${refused.join("; ")}`);
}

// ------------------------------------------------------------------------------------------ scheduled

/** The scheduled rotator's timing with every default filled in, in ms. */
export interface ScheduleTiming {
  /** Age past which a key is expired. */
  readonly maxAgeMs: number;
  /** Age from which a rotation is due. */
  readonly rotateAtMs: number;
  readonly cleanupMs: number;
  readonly undoMs: number;
  readonly graceMs: number;
}

/** {@link ScheduleSettings} with defaults, in ms. */
export function scheduleTiming(policy: RotationPolicy): ScheduleTiming {
  const s = policy.schedule ?? {};
  const maxAgeDays = s.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS;
  const warnDays = Math.min(s.warnDays ?? DEFAULT_WARN_DAYS, maxAgeDays);
  return {
    maxAgeMs: maxAgeDays * DAY_MS,
    rotateAtMs: (maxAgeDays - warnDays) * DAY_MS,
    cleanupMs: (s.cleanupDays ?? DEFAULT_CLEANUP_DAYS) * DAY_MS,
    undoMs: (s.undoHours ?? UNDO_GRACE_HOURS) * HOUR_MS,
    graceMs: grace(policy, FINISH_GRACE_HOURS),
  };
}

/** The secret of a scheduled rotation: the one `secret` destination. */
function scheduledSecret(observed: RotationObservation): RotationDestination | undefined {
  return observed.destinations?.find((d) => d.kind === "secret");
}

/**
 * Bookkeeping tags to remove: `keyage:deactivated:` and `keyage:created:` tags whose last four characters
 * match none of the user's keys, and the created record of the key the secret holds (its store succeeded).
 */
function orphanTags(keys: readonly RotationKey[], tags: Readonly<Record<string, string>>, secret: RotationDestination): string[] {
  const live = new Set(keys.flatMap((k) => [deactivationTag(k.id), createdTag(k.id)]));
  if (secret.holds !== undefined) live.delete(createdTag(secret.holds));
  return Object.keys(tags)
    .filter((t) => (t.startsWith(DEACTIVATED_TAG_PREFIX) || t.startsWith(CREATED_TAG_PREFIX)) && !live.has(t))
    .sort();
}

/** A step that needs a new user tag while the user already has IAM's maximum: the refusal, else undefined. */
function tagRoom(user: string, tags: Readonly<Record<string, string>>, tag: string, what: string): string | undefined {
  if (tag in tags || Object.keys(tags).length < MAX_USER_TAGS) return undefined;
  return `blocked: ${user} has ${Object.keys(tags).length} tags (IAM's maximum is ${MAX_USER_TAGS}), so keyage cannot record ${what} (tag ${tag}); remove a tag from ${user}`;
}

function days(ms: number): number {
  return Math.floor(Math.max(0, ms) / DAY_MS);
}

/**
 * One opted-in user, one step: each run decides from IAM and the secret alone, so a run that stopped
 * half-way is finished or undone by the next one. Refusals start with `blocked:`.
 */
function planScheduled(draft: Draft, observed: RotationObservation, keys: RotationKey[], policy: RotationPolicy, now: number): void {
  const user = observed.user;
  const t = scheduleTiming(policy);
  const secret = scheduledSecret(observed);
  if (!secret) return refuse(draft, `blocked: ${user} names no Secrets Manager secret to rotate into`, "usage");
  if (secret.unusable !== undefined) return refuse(draft, `blocked: ${secret.unusable}`);
  if (observed.userArn === undefined) return refuse(draft, `blocked: ${user}'s ARN is unknown, so keyage cannot check that ${secret.label} is bound to ${user}`);
  // Both ends must name each other before anything is written, bookkeeping tags included.
  const problem = bindingProblem(secret, observed, true);
  if (problem !== undefined) return refuse(draft, `blocked: ${problem}`);
  const orphans = orphanTags(keys, observed.tags, secret);
  if (orphans.length > 0) draft.untag = orphans;
  const active = keys.filter((k) => k.status === "Active");
  const inactive = keys.filter((k) => k.status === "Inactive");
  if (active.length >= 2) return planOverlap(draft, observed, active as [RotationKey, RotationKey], secret, t, now);
  if (active.length === 0) {
    if (keys.length === 0) draft.notes.push(`${user} has no access keys: nothing to rotate.`);
    else refuse(draft, `blocked: ${user} has no active key; keyage rotates only a key in use (reactivate one, or delete the inactive keys by hand)`);
    return;
  }
  const current = active[0] as RotationKey;
  const age = now - current.created;
  // Due exactly when the rule calls the key "expiring" (strictly older than the limit minus warnDays).
  const due = age > t.rotateAtMs;
  const spare = inactive[0];
  if (spare) {
    const d = deletion(spare, observed.tags, t.cleanupMs, now);
    const ours = deactivatedAt(spare, observed.tags) !== undefined;
    if (d.ok && current.lastUsed === undefined && spare.lastUsed !== undefined) {
      // The remaining key never used while the old one was: the switch may have failed; keep the way back.
      if (due || ours) {
        return refuse(
          draft,
          `blocked: not deleting ${spare.id}: ${user}'s active key ${current.id} has never been used, so the switch to it may have failed ` +
            `(to undo: aws iam update-access-key --user-name ${user} --access-key-id ${spare.id} --status Active)`,
        );
      }
    } else if (d.ok && (ours || due)) {
      draft.steps.push({ kind: "delete", key: spare, why: `(${d.why})`, untag: d.untag });
    } else if (ours && createdAt(spare, observed.tags) !== undefined && spare.lastUsed === undefined && spare.created > current.created && secret.holds !== spare.id) {
      // Newer than the active key, never used, not in the secret, and recorded as made by keyage: a key
      // keyage undid (a run stopped between deactivating and deleting it). Nobody can hold it, and waiting
      // would keep its slot from the next rotation. Any other key waits cleanupDays.
      draft.steps.push({ kind: "delete", key: spare, why: `(never used, not in ${secret.label}: a key keyage created and undid)`, untag: deactivationTag(spare.id) });
      draft.untag = [...new Set([...(draft.untag ?? []), createdTag(spare.id)])].sort();
    } else if (due) {
      const after = d.ok ? now : d.after;
      return refuse(
        draft,
        `blocked: ${user} already has two keys (IAM's maximum) and the inactive ${spare.id} may not be deleted yet` +
          `${d.ok ? "" : ` (${d.reason})`}; the rotation of ${current.id} (${days(age)} days old) waits until ${utcMinute(after)}`,
      );
    } else if (ours) {
      draft.notes.push(`${spare.id} is deleted after ${utcMinute((d as Deletion & { ok: false }).after)}.`);
    }
  }
  if (!due) {
    draft.notes.push(`Nothing due: ${current.id} is ${days(age)} days old; it is rotated from ${utcMinute(current.created + t.rotateAtMs)}.`);
    return;
  }
  draft.steps.push({ kind: "create", destinations: [secret], replacing: [current.id] });
  draft.next = `consumers read the new key from ${secret.label} (AWSCURRENT; ${current.id} stays AWSPREVIOUS); ${current.id} is deactivated once unused for ${graceText(t.graceMs)} and the new key is used`;
}

/** Every tag a scheduled step writes must fit under IAM's limit, or nothing is done and the user is blocked. */
function keepTagRoom(draft: Draft, observed: RotationObservation): void {
  for (const step of draft.steps) {
    const full =
      step.kind === "deactivate"
        ? tagRoom(observed.user, observed.tags, step.tag.key, `when it deactivated ${step.key.id}`)
        : step.kind === "create"
          ? tagRoom(observed.user, observed.tags, `${CREATED_TAG_PREFIX}…`, "the new key it creates before storing it")
          : undefined;
    if (full === undefined) continue;
    draft.steps = [];
    draft.next = undefined;
    return refuse(draft, full);
  }
}

/** Two active keys: a rotation in progress, or a create that stopped before the secret got the key. */
function planOverlap(draft: Draft, observed: RotationObservation, [old, fresh]: [RotationKey, RotationKey], secret: RotationDestination, t: ScheduleTiming, now: number): void {
  const user = observed.user;
  if (secret.holds === fresh.id) {
    if (fresh.lastUsed === undefined) {
      const waiting = `${fresh.id} is in ${secret.label} but has not been used yet`;
      if (now - old.created > t.maxAgeMs) return refuse(draft, `blocked: ${waiting}, and ${old.id} is past the limit (${days(now - old.created)} days old): make the consumer read AWSCURRENT`);
      draft.notes.push(`Waiting: ${waiting}; ${old.id} stays active.`);
      return;
    }
    if (old.lastUsed !== undefined && now - old.lastUsed < t.graceMs) {
      return refuse(
        draft,
        `blocked: old key ${old.id} still in use since ${fresh.id} was stored ${utcMinute(fresh.created)}: last used ${utcMinute(old.lastUsed)}` +
          `${old.lastService ? ` (${old.lastService})` : ""}, within the ${graceText(t.graceMs)} grace period; it is deactivated once unused that long`,
      );
    }
    draft.steps.push({
      kind: "deactivate",
      key: old,
      why: `(${old.lastUsed === undefined ? "never used" : `unused since ${utcMinute(old.lastUsed)}`}); ${fresh.id} is in use and stays active`,
      tag: { key: deactivationTag(old.id), value: new Date(now).toISOString() },
    });
    draft.next = `${old.id} is deleted ${graceText(t.cleanupMs)} after it was deactivated, once unused that long`;
    return;
  }
  if (secret.holds === old.id && fresh.lastUsed === undefined) {
    // Positive evidence that the newer key never reached the secret: a run stopped between creating and storing it.
    if (now - fresh.created < t.undoMs) {
      draft.notes.push(`Waiting: ${fresh.id} was created ${utcMinute(fresh.created)} and is not in ${secret.label}; it is undone after ${utcMinute(fresh.created + t.undoMs)} unless stored by then.`);
      return;
    }
    const tag = { key: deactivationTag(fresh.id), value: new Date(now).toISOString() };
    if (createdAt(fresh, observed.tags) === undefined) {
      // Not recorded as keyage's: a key made by hand (an operator, an incident). At most deactivated; it
      // waits cleanupDays like any key keyage deactivated, and can be reactivated meanwhile.
      const why = `(never used, not in ${secret.label}, which holds ${old.id}, and not created by keyage: it is deleted ${graceText(t.cleanupMs)} from now unless reactivated)`;
      draft.steps.push({ kind: "deactivate", key: fresh, why, tag });
      draft.next = `${fresh.id} is deleted after ${utcMinute(now + t.cleanupMs)} if unused; reactivate it if someone needs it`;
      return;
    }
    const why = `(never used, not in ${secret.label}, which holds ${old.id}: created by keyage, left by a run that stopped before storing it)`;
    draft.steps.push({ kind: "deactivate", key: fresh, why, tag });
    draft.steps.push({ kind: "delete", key: { ...fresh, status: "Inactive" }, why, untag: deactivationTag(fresh.id) });
    draft.untag = [...new Set([...(draft.untag ?? []), createdTag(fresh.id)])].sort();
    draft.next = `the rotation of ${old.id} starts again on the next run`;
    return;
  }
  refuse(
    draft,
    `blocked: ${user} has two active keys and ${secret.label} holds ${secret.holds === undefined ? "no keyage key" : secret.holds === old.id ? `the older one, ${old.id}, while the newer ${fresh.id} is in use` : `neither (${secret.holds})`}: ` +
      `keyage does not know which key the consumer has; deactivate the one not in use by hand`,
  );
}

/** A step as one sentence: what was done (`done`) or what would be done. */
export function describeStep(step: RotationStep, user: string, done: boolean): string {
  switch (step.kind) {
    case "delete":
      return `${done ? "Deleted" : "Would delete"} the inactive key ${step.key.id} ${step.why}.`;
    case "deactivate":
      return `${done ? "Deactivated" : "Would deactivate"} ${step.key.id} ${step.why}.`;
    case "create":
      return `${done ? "Created" : "Would create"} a new access key for ${user} and deliver it to ${step.destinations.map((d) => d.label).join(" and ")}.`;
    default:
      return step satisfies never;
  }
}

/** The command line that re-runs the Config rule, as the person should read it. */
export function reevaluateLine(command: string): string {
  return `Re-evaluate the AWS Config rule now (a key rotation never triggers it by itself): ${command}`;
}

/**
 * The dry run of a plan, line by line for stdout (warnings and the refusal are the caller's, on stderr):
 * the notes and steps prefixed `[dry run] `, then the next step and the re-evaluation command.
 */
export function wordPlan(plan: RotationPlan): string[] {
  const lines = [...plan.notes, ...plan.steps.map((s) => describeStep(s, plan.user, false))].map((l) => `[dry run] ${l}`);
  if (plan.refusal) return lines;
  if (plan.next) lines.push(`Next: ${plan.next}.`);
  if (plan.reevaluate) lines.push(reevaluateLine(plan.reevaluate));
  return lines;
}

/** The "Next:" text once `start` created `newId`. */
export function nextAfterCreate(user: string, newId: string, replacing: readonly string[]): string {
  return `switch the application to ${newId}${replacing.length ? `; once ${replacing.join(" and ")} is no longer used (check with a dry run of finish), run: keyage rotate finish --user ${user} --apply` : ""}`;
}
