/**
 * Start-up tuning for big stacks. For every enabled stack policy, @pulumi/policy 1.21 turns the
 * properties of every resource in the stack into plain objects before calling the policy: with keyage's
 * two stack policies that is two full passes over a 10,000-resource stack, although keyage only ever
 * reads the properties of access keys. This module makes that conversion lazy (done on the first read of
 * a resource's properties) and shared (done once per resource per request, whichever policy reads
 * first), without changing what a policy sees.
 *
 * It replaces one internal export of @pulumi/policy (`deserialize.deserializeProperties`), which its
 * server calls through the module object. If that export is not what this code expects (another
 * @pulumi/policy version), nothing is replaced and the pack runs exactly as before: slower, never wrong.
 */

type Deserialize = (struct: object, proxySecrets: boolean) => Record<PropertyKey, unknown>;
interface DeserializeModule {
  deserializeProperties?: unknown;
}

const MARK = Symbol.for("keyage.lazyProperties");
/** Asked of a lazy proxy, answers the converted plain object (see {@link rawProperties}). */
const RAW = Symbol.for("keyage.rawProperties");
/** The key under which @pulumi/policy's unknown-checking proxy hands out the object it wraps. */
const SPECIAL_TARGET = "__getSpecialProxyTarget";

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

/**
 * Installs {@link lazyDeserialize} into @pulumi/policy's deserialize module. Returns true when installed
 * (or already installed), false when the module does not look as expected and nothing was changed.
 */
export function installLazyProperties(mod: DeserializeModule = require("@pulumi/policy/deserialize") as DeserializeModule): boolean {
  const current = mod.deserializeProperties;
  if (typeof current !== "function") return false;
  if ((current as unknown as Record<symbol, unknown>)[MARK]) return true;
  const descriptor = Object.getOwnPropertyDescriptor(mod, "deserializeProperties");
  if (!descriptor?.writable) return false;
  mod.deserializeProperties = lazyDeserialize(current as Deserialize);
  return true;
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

// @pulumi/policy's sentinels for values unknown during preview, read from the same copy that
// produced them (they are @internal exports of its proxy module).
const SENTINELS: ReadonlySet<unknown> = new Set(
  Object.entries(require("@pulumi/policy/proxy") as Record<string, unknown>)
    .filter(([name, value]) => /^unknown\w*Value$/.test(name) && typeof value === "string")
    .map(([, value]) => value),
);

/** True for a value that is unknown during this preview (what the proxy would throw UnknownValueError for). */
export function isUnknown(value: unknown): boolean {
  return SENTINELS.has(value);
}
