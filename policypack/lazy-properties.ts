/**
 * Start-up tuning for big stacks. For every enabled stack policy, @pulumi/policy 1.21 turns the
 * properties of every resource in the stack into plain objects before calling the policy: with keyage's
 * two stack policies that is two full passes over a 10,000-resource stack, although keyage only ever
 * reads the properties of access keys. This module makes that conversion lazy (done on the first read of
 * a resource's properties) and shared (done once per resource per request, whichever policy reads
 * first), without changing what a policy sees.
 *
 * It replaces one internal export of @pulumi/policy (`deserialize.deserializeProperties`), which its
 * server calls through the module object. Because that is a dependency's internals, the patch fails
 * closed: it is installed only when the internal modules load and look as expected AND a self-test at
 * start-up shows that a known resource (plain values, nesting, secrets, unknowns) reaches a policy
 * exactly as @pulumi/policy itself delivers it. Otherwise nothing is replaced and the pack runs exactly as
 * @pulumi/policy alone would: slower on big stacks, never wrong. Nothing here ever throws at start-up.
 */
import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";

type Deserialize = (struct: object, proxySecrets: boolean) => Record<PropertyKey, unknown>;
interface DeserializeModule {
  deserializeProperties?: unknown;
}
interface ProxyModule {
  unknownCheckingProxy?: unknown;
  getSpecialProxyTarget?: unknown;
  UnknownValueError?: unknown;
  [name: string]: unknown;
}
interface StructClass {
  fromJavaScript(value: Record<string, unknown>): object;
}

/** Loads a module by id, as `require` does. Injected by tests to stand in for another @pulumi/policy. */
export type ModuleLoader = (id: string) => unknown;

/** Whether the lazy conversion is in use, and if not, why (for `KEYAGE_DEBUG` and tests). */
export type LazyPropertiesStatus = { readonly installed: true } | { readonly installed: false; readonly reason: string };

/** The internal modules the patch touches, named as @pulumi/policy's own files require them. */
export const INTERNAL_MODULES = {
  deserialize: "./deserialize",
  proxy: "./proxy",
  struct: "google-protobuf/google/protobuf/struct_pb",
} as const;

const MARK = Symbol.for("keyage.lazyProperties");
/** Asked of a lazy proxy, answers the converted plain object (see {@link rawProperties}). */
const RAW = Symbol.for("keyage.rawProperties");
/** The key under which @pulumi/policy's unknown-checking proxy hands out the object it wraps (1.21). */
const SPECIAL_TARGET = "__getSpecialProxyTarget";

// The engine's wire format for a secret (a protocol constant, the same in every SDK).
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Wraps `deserialize` so plain (non-secret-proxying) calls return a proxy that converts on first use. */
export function lazyDeserialize(deserialize: Deserialize): Deserialize {
  // Keyed by the protobuf Struct, which google-protobuf hands out once per message: every policy that
  // looks at the same resource in the same request shares one conversion.
  const converted = new WeakMap<object, Record<PropertyKey, unknown>>();
  const lazy: Deserialize = (struct, proxySecrets) => {
    // Remediation (proxySecrets = true) keeps @pulumi/policy's own secret-tracking proxy: leave it alone.
    if (proxySecrets || struct === null || typeof struct !== "object") return deserialize(struct, proxySecrets);
    const load = (): Record<PropertyKey, unknown> => {
      let props = converted.get(struct);
      if (props === undefined) {
        props = deserialize(struct, false);
        converted.set(struct, props);
      }
      return props;
    };
    return new Proxy({} as Record<PropertyKey, unknown>, {
      get: (_t, key) => (key === RAW ? load() : Reflect.get(load(), key)),
      has: (_t, key) => Reflect.has(load(), key),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_t, key) => {
        const d = Reflect.getOwnPropertyDescriptor(load(), key);
        return d === undefined ? undefined : { ...d, configurable: true };
      },
      // deserializeProperties always builds a plain object; answering without converting matters because
      // @pulumi/policy's unknown-checking proxy asks `props instanceof Object` of every resource.
      getPrototypeOf: () => Object.prototype,
      set: (_t, key, value) => Reflect.set(load(), key, value),
      defineProperty: (_t, key, d) => Reflect.defineProperty(load(), key, d),
      deleteProperty: (_t, key) => Reflect.deleteProperty(load(), key),
    });
  };
  return Object.assign(lazy, { [MARK]: true });
}

// @pulumi/policy's sentinels for values unknown during preview, from the same copy that produces them
// (they are @internal exports of its proxy module). Empty until the patch is installed, and only read
// through rawProperties, which answers only when it is.
let sentinels: ReadonlySet<unknown> = new Set();

function sentinelsOf(proxy: ProxyModule): Set<unknown> {
  return new Set(
    Object.entries(proxy)
      .filter(([name, value]) => /^unknown\w*Value$/.test(name) && typeof value === "string")
      .map(([, value]) => value),
  );
}

/** What a policy can observe of a value handed over by @pulumi/policy, as plain data that can be compared. */
function observe(value: unknown, UnknownValueError: new (...args: never[]) => Error, depth = 0): unknown {
  if (value === null || typeof value !== "object") return { type: typeof value, value };
  if (depth > 8) return "(deep)";
  const keys = Object.keys(value);
  const entries: Record<string, unknown> = {};
  for (const key of keys) {
    try {
      entries[key] = observe((value as Record<string, unknown>)[key], UnknownValueError, depth + 1);
    } catch (err) {
      if (!(err instanceof UnknownValueError)) throw err;
      entries[key] = { unknown: err.message };
    }
  }
  const proto = Object.getPrototypeOf(value);
  return {
    kind: Array.isArray(value) ? "array" : proto === Object.prototype ? "object" : proto === null ? "null-prototype" : "instance",
    isObject: value instanceof Object,
    frozen: Object.isFrozen(value),
    extensible: Object.isExtensible(value),
    keys,
    absent: ["keyage-absent" in value, (value as Record<string, unknown>)["keyage-absent"]],
    entries,
  };
}

/**
 * The start-up self-test: converts one known access key (plain, nested, secret and unknown values) with
 * @pulumi/policy's own function and with the lazy one, and returns what differs (undefined: nothing).
 * Compared is everything a policy can see through the unknown-checking proxy, the plain object behind it
 * that keyage's reader uses, and that two policies reading the same resource share one conversion.
 */
export function selfTest(original: Deserialize, lazy: Deserialize, proxy: ProxyModule, Struct: StructClass): string | undefined {
  const check = proxy.unknownCheckingProxy as <T extends object>(o: T) => T;
  const UnknownValueError = proxy.UnknownValueError as new (...args: never[]) => Error;
  const unknown = proxy.unknownStringValue;
  if (typeof unknown !== "string") return "the proxy module has no unknownStringValue";
  const secret = (value: unknown) => ({ [SECRET_SIG_KEY]: SECRET_SIG, value });
  const struct = Struct.fromJavaScript({
    id: "AKIAIOSFODNN7EXAMPLE",
    user: secret("alice"),
    status: "Active",
    createDate: unknown,
    secret: secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    encryptedSecret: "",
    pgpKey: null,
    port: 443,
    enabled: false,
    tags: { team: "platform", owner: secret({ name: "ops", ids: [1, unknown] }) },
    list: ["a", unknown, { deep: secret("b") }, []],
  });
  const expected = original(struct, false);
  const got = lazy(struct, false);
  const seenExpected = observe(check(expected), UnknownValueError);
  const seenGot = observe(check(got), UnknownValueError);
  if (!isDeepStrictEqual(seenGot, seenExpected)) return "a policy would see the lazy properties differently";
  // What keyage's own reader uses: the plain object behind the proxies, secrets unwrapped, unknowns as sentinels.
  const raw = rawProperties(check(got));
  if (raw === undefined || !isDeepStrictEqual(raw, expected)) return "the plain properties behind the proxy differ";
  if (!sentinelsOf(proxy).has(raw.createDate) || raw.user !== "alice") return "unknowns or secrets do not arrive as expected";
  if (rawProperties(check(lazy(struct, false))) !== raw) return "two reads of one resource do not share one conversion";
  if (rawProperties(check(lazy(struct, true))) !== undefined) return "the remediation (secret-tracking) path was changed";
  return undefined;
}

/**
 * Installs {@link lazyDeserialize} into @pulumi/policy's deserialize module, if and only if the internal
 * modules load, look as expected, and pass {@link selfTest}; otherwise changes nothing. Never throws.
 * With `KEYAGE_DEBUG` set, says on stderr which way it went (stdout belongs to the pack's port line).
 *
 * @param load - loads @pulumi/policy's internal modules; default: `require` relative to @pulumi/policy
 *   itself, so that the very files its server uses are the ones patched.
 * @returns `{ installed: true }` (also when already installed), or `{ installed: false, reason }`.
 */
export function installLazyProperties(load?: ModuleLoader): LazyPropertiesStatus {
  const status = tryInstall(load);
  if (process.env.KEYAGE_DEBUG) {
    process.stderr.write(`keyage: lazy resource properties ${status.installed ? "on" : `off (${status.reason})`}\n`);
  }
  return status;
}

/** An error's first line (Node's "Cannot find module" goes on with the whole require stack). */
function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0] as string;
}

function tryInstall(load: ModuleLoader | undefined): LazyPropertiesStatus {
  const off = (reason: string): LazyPropertiesStatus => ({ installed: false, reason });
  let deserialize: DeserializeModule;
  let proxy: ProxyModule;
  let Struct: StructClass;
  try {
    const loader = load ?? createRequire(require.resolve("@pulumi/policy"));
    deserialize = loader(INTERNAL_MODULES.deserialize) as DeserializeModule;
    proxy = loader(INTERNAL_MODULES.proxy) as ProxyModule;
    Struct = (loader(INTERNAL_MODULES.struct) as { Struct: StructClass }).Struct;
  } catch (err) {
    return off(`@pulumi/policy internals did not load: ${firstLine(err)}`);
  }
  try {
    const current = deserialize?.deserializeProperties;
    if (typeof current !== "function") return off("deserializeProperties is not a function");
    if ((current as unknown as Record<symbol, unknown>)[MARK]) return { installed: true };
    if (!Object.getOwnPropertyDescriptor(deserialize, "deserializeProperties")?.writable) return off("deserializeProperties cannot be replaced");
    if (typeof proxy?.unknownCheckingProxy !== "function" || typeof proxy.UnknownValueError !== "function") return off("the proxy module is not as expected");
    if (proxy.getSpecialProxyTarget !== SPECIAL_TARGET) return off("the proxy hands out its target under another key");
    if (typeof Struct?.fromJavaScript !== "function") return off("google-protobuf's Struct is not as expected");
    const original = current as Deserialize;
    const lazy = lazyDeserialize(original);
    const failure = selfTest(original, lazy, proxy, Struct);
    if (failure !== undefined) return off(`self-test failed: ${failure}`);
    sentinels = sentinelsOf(proxy);
    deserialize.deserializeProperties = lazy;
    return { installed: true };
  } catch (err) {
    return off(`self-test failed: ${firstLine(err)}`);
  }
}

/**
 * The plain properties object behind a policy's `props` (an unknown-checking proxy over a lazy proxy),
 * or `undefined` when the lazy conversion is not installed. The object is shared by every policy that
 * reads the same resource in the same request, so it can key a cache; values are as the engine sent
 * them: secrets unwrapped, unknowns still as @pulumi/policy's sentinel strings (see {@link isUnknown}).
 */
export function rawProperties(props: object): Readonly<Record<string, unknown>> | undefined {
  const target = (props as Record<string, unknown>)[SPECIAL_TARGET];
  if (target === null || typeof target !== "object") return undefined;
  const raw = (target as Record<PropertyKey, unknown>)[RAW];
  return raw !== null && typeof raw === "object" ? (raw as Record<string, unknown>) : undefined;
}

/** True for a value that is unknown during this preview (what the proxy would throw UnknownValueError for). */
export function isUnknown(value: unknown): boolean {
  return sentinels.has(value);
}
