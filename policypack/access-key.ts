/**
 * Reading an `aws:iam/accessKey:AccessKey`'s properties as the policy engine hands them over: through
 * @pulumi/policy's unknown-checking proxy, with secrets already unwrapped to plain values.
 *
 * Only `user`, `status` and `createDate` are ever read. The key's secret (`secret`,
 * `sesSmtpPasswordV4`, `encryptedSecret`, `encryptedSesSmtpPasswordV4`) is never touched, so no message
 * can echo it.
 */
import * as policySdk from "@pulumi/policy";
import { isActive, ROTATING_ACCESS_KEY_TYPE } from "../shared";
import { isUnknown, rawProperties } from "./lazy-properties";

/**
 * The Pulumi type token of an IAM access key (pulumi-aws v5–v7). Matched as a string so that the pack
 * never loads @pulumi/aws, which would add seconds to every preview's start-up.
 */
export const ACCESS_KEY_TYPE = "aws:iam/accessKey:AccessKey";

/**
 * True when the URN's type chain shows the key as a direct child of keyage/pulumi's `RotatingAccessKey`
 * (`...::keyage:index:RotatingAccessKey$aws:iam/accessKey:AccessKey::name`). Only the wording of
 * messages depends on it: the age policies check such keys like any other, so a program that borrows the
 * type token gains nothing.
 */
export function isRotatingKeyChild(urn: string): boolean {
  const types = (urn.split("::")[2] ?? "").split("$");
  return types.length >= 2 && types[types.length - 2] === ROTATING_ACCESS_KEY_TYPE && types[types.length - 1] === ACCESS_KEY_TYPE;
}

/** A property value that is either known, or unknown because it is computed during this preview. */
export type Known<T> = { readonly known: true; readonly value: T } | { readonly known: false };

/** The three properties the pack uses. `value` is `undefined` when the property is absent. */
export interface AccessKeyProps {
  /** IAM user name (input and output). Not shown in messages: it may have been a secret. */
  readonly user: Known<string | undefined>;
  /** `Active` | `Inactive`; absent means Active. */
  readonly status: Known<string | undefined>;
  /** Creation time (output only), RFC 3339; unknown while the key is being created. */
  readonly createDate: Known<string | undefined>;
}

type UnknownValueErrorClass = new (...args: never[]) => Error;

// @pulumi/policy 1.21 exports UnknownValueError at run time, but its .d.ts strips it (@internal), so
// it is looked up dynamically. It must be the class of the same @pulumi/policy copy whose proxy throws.
const UnknownValueError = (policySdk as unknown as { UnknownValueError?: UnknownValueErrorClass }).UnknownValueError;

/** True for the error @pulumi/policy's proxy throws when a policy reads a value unknown in preview. */
export function isUnknownValueError(err: unknown): boolean {
  if (UnknownValueError !== undefined) return err instanceof UnknownValueError;
  // Older SDKs: the class is not exported; recognise it by the sentinel it carries.
  return err instanceof Error && "unknownTypeSentinel" in err;
}

/**
 * Reads one property; an unknown one (which the proxy reports by throwing) becomes `{ known: false }`.
 * Anything that is not a string (or absent) is returned as its JSON text so the rule can reject it.
 */
function read(props: Record<string, unknown>, name: string): Known<string | undefined> {
  let value: unknown;
  try {
    value = props[name];
  } catch (err) {
    if (isUnknownValueError(err)) return { known: false };
    throw err;
  }
  return known(value);
}

function known(value: unknown): Known<string | undefined> {
  if (value === undefined || value === null) return { known: true, value: undefined };
  if (typeof value === "string") return { known: true, value };
  // e.g. a number or an object where a string belongs: keep it visible to the rule, which will call
  // it undeterminable rather than guessing.
  return { known: true, value: JSON.stringify(value) ?? String(value) };
}

// Both stack policies read the same keys in the same request: read each once (keyed by the plain
// properties object the policies share; see lazy-properties.ts).
const readings = new WeakMap<object, AccessKeyProps>();

function fromRaw(raw: Readonly<Record<string, unknown>>, name: string): Known<string | undefined> {
  const value = raw[name];
  return isUnknown(value) ? { known: false } : known(value);
}

/** Reads `user`, `status` and `createDate` from an AccessKey's (proxied) properties. Never throws for unknowns. */
export function readAccessKey(props: Record<string, unknown>): AccessKeyProps {
  const raw = rawProperties(props);
  if (raw === undefined) return { user: read(props, "user"), status: read(props, "status"), createDate: read(props, "createDate") };
  let reading = readings.get(raw);
  if (reading === undefined) {
    reading = { user: fromRaw(raw, "user"), status: fromRaw(raw, "status"), createDate: fromRaw(raw, "createDate") };
    readings.set(raw, reading);
  }
  return reading;
}

/**
 * Whether the key counts: an absent status means Active, and an unknown one (computed during this
 * preview) is treated as Active too, so that nothing passes only because it is not known yet.
 */
export function countsAsActive(status: Known<string | undefined>): boolean {
  return !status.known || isActive(status.value);
}
