/**
 * `RotatingAccessKey`: an IAM user's access key that a Pulumi program keeps young by itself. Two
 * `aws.iam.AccessKey` slots take turns: each `pulumi up` reads the user's keys, and the schedule in the
 * rule module (`planKeySlots`) decides which slot, if any, gets a new key. See docs/rotation.md.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  ParameterError,
  parseTimestamp,
  planKeySlots,
  ROTATING_ACCESS_KEY_TYPE,
  rotationTiming,
  show,
  USER_NAME,
  USER_NAME_RULE,
  type SlotSchedule,
  type RotationTiming,
  type SlotName,
} from "../shared";

/** Inputs of {@link RotatingAccessKey}. */
export interface RotatingAccessKeyArgs {
  /** The IAM user's name. The user must hold no access keys other than this component's two. */
  readonly user: pulumi.Input<string>;
  /** The limit the keys stay within, in days (1–3650, as the policy pack's). Default 30. */
  readonly maxAgeDays?: number;
  /** Keys never get within this many days of the limit either (0 to maxAgeDays−1). Default 7, or maxAgeDays−1 when smaller. */
  readonly warnDays?: number;
  /**
   * The update's clock: a `Date`, epoch milliseconds or an RFC 3339 string. Default: the program's clock
   * when the component is constructed. Tests pass a fixed one; the plan depends on nothing else but the
   * user's keys.
   */
  readonly now?: Date | number | string;
  /**
   * A Secrets Manager secret (id or ARN) to write the current key to, as `{"AccessKeyId","SecretAccessKey"}`
   * (the rotator's format): a new secret version each time `current` changes. Default: none.
   */
  readonly secretId?: pulumi.Input<string>;
}

/** An access key and its secret. */
export interface AccessKeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

function readNow(now: RotatingAccessKeyArgs["now"]): number {
  if (now === undefined) return Date.now();
  const ms = typeof now === "number" ? now : parseTimestamp(now);
  if (ms === undefined || !Number.isFinite(ms)) {
    throw new ParameterError("now", now, `RotatingAccessKey: now must be a Date, epoch milliseconds or an RFC 3339 timestamp, got ${show(now)}`);
  }
  return ms;
}

/**
 * Two IAM access keys of one user that rotate on `pulumi up`, so that neither ever reaches
 * `maxAgeDays − warnDays` days, while consumers always have a valid key in {@link current}.
 *
 * Timing (L = (maxAgeDays − warnDays) / 3 days; period P = L − 1 hour): slot `a` may get a new key in
 * even-numbered windows of length L, slot `b` in odd ones, so the slots are half a rotation (P) apart
 * and `current` changes about once per P. With `pulumi up` at least every P/2 (3.8 days with the
 * defaults; daily CI is plenty):
 * - every key stays younger than maxAgeDays − warnDays (so the policy pack never blocks or warns);
 * - one update never replaces both slots; the key deleted is always {@link previous}, and only once
 *   {@link current} is at least P/2 old, so consumers have P/2 to switch;
 * - a replacement deletes the old `previous` key before creating the new one (IAM allows two keys per
 *   user), never the key `current` named;
 * - the same `now` and the same keys give the same plan.
 * After a pause, one slot is renewed in its next window and the other in its own window after that;
 * meanwhile the policy pack reports the stale key (see docs/rotation.md for getting through).
 *
 * Each slot's generation is recomputed from the creation dates IAM reports (`iam:ListAccessKeys` on the
 * user), so nothing has to be persisted; never `pulumi up --replace` a slot (the next update would
 * replace it again, key `current` included) — let the schedule do it.
 *
 * Children: `<name>-a`, `<name>-b` (`aws.iam.AccessKey`, `deleteBeforeReplace`, `replacementTrigger` =
 * the slot's generation) and, with `secretId`, `<name>-current` (`aws.secretsmanager.SecretVersion`).
 *
 * @throws ParameterError for maxAgeDays, warnDays, now or a user name out of range, naming the value.
 * @example
 * import { RotatingAccessKey } from "keyage/pulumi";
 * const ci = new RotatingAccessKey("ci", { user: ciUser.name, maxAgeDays: 30 });
 * export const ciKey = ci.current; // { accessKeyId, secretAccessKey }, a Pulumi secret
 */
export class RotatingAccessKey extends pulumi.ComponentResource {
  /** Slot a's key. */
  readonly a: aws.iam.AccessKey;
  /** Slot b's key. */
  readonly b: aws.iam.AccessKey;
  /** The newest key: what consumers should use. A Pulumi secret. */
  readonly current: pulumi.Output<AccessKeyPair>;
  /** The other key, still active: consumers not yet switched keep working. A Pulumi secret. */
  readonly previous: pulumi.Output<AccessKeyPair>;
  /** Which slot is current (`"a"` or `"b"`); not secret. */
  readonly currentSlot: pulumi.Output<SlotName>;
  /** This update's plan: each slot's generation and action, and why. */
  readonly plan: pulumi.Output<SlotSchedule>;
  /** The timing derived from maxAgeDays and warnDays. */
  readonly timing: RotationTiming;
  /** With `secretId`: the secret version holding `current`. */
  readonly secretVersion?: aws.secretsmanager.SecretVersion;

  constructor(name: string, args: RotatingAccessKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ROTATING_ACCESS_KEY_TYPE, name, {}, opts);
    // Checked before anything is registered, with the messages the pack and the CLI use.
    this.timing = rotationTiming(args.maxAgeDays, args.warnDays);
    const timing = this.timing;
    const now = readNow(args.now);
    if (typeof args.user === "string" && !USER_NAME.test(args.user)) {
      throw new ParameterError("user", args.user, `RotatingAccessKey: user ${show(args.user)} is not an IAM user name (${USER_NAME_RULE})`);
    }

    const live = aws.iam.getAccessKeysOutput({ user: args.user }, { parent: this });
    this.plan = live.apply((listed) => planKeySlots({ now, keys: listed.accessKeys, timing }));

    const slot = (s: SlotName) =>
      new aws.iam.AccessKey(
        `${name}-${s}`,
        { user: args.user },
        {
          parent: this,
          // IAM allows two keys per user: the old `previous` goes before its successor is made.
          deleteBeforeReplace: true,
          replacementTrigger: this.plan.apply((p) => p.slots[s].generation),
        },
      );
    this.a = slot("a");
    this.b = slot("b");

    this.currentSlot = this.plan.apply((p) => p.current);
    const pairOf = (which: "current" | "previous") =>
      pulumi.secret(
        pulumi.all([this.plan, this.a.id, this.a.secret, this.b.id, this.b.secret]).apply(([p, aId, aSecret, bId, bSecret]): AccessKeyPair => {
          const s = p[which];
          return s === "a" ? { accessKeyId: aId, secretAccessKey: aSecret } : { accessKeyId: bId, secretAccessKey: bSecret };
        }),
      );
    this.current = pairOf("current");
    this.previous = pairOf("previous");

    if (args.secretId !== undefined) {
      this.secretVersion = new aws.secretsmanager.SecretVersion(
        `${name}-current`,
        {
          secretId: args.secretId,
          secretString: pulumi.secret(this.current.apply((k) => JSON.stringify({ AccessKeyId: k.accessKeyId, SecretAccessKey: k.secretAccessKey }))),
        },
        { parent: this },
      );
    }

    this.registerOutputs({ current: this.current, previous: this.previous, currentSlot: this.currentSlot });
  }
}
