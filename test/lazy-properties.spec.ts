// The lazy-properties patch fails closed: it goes into @pulumi/policy only when the internal modules load,
// look as expected, and a start-up self-test shows policies see exactly what @pulumi/policy alone gives
// them (unknowns and secrets included). Every test here hands the installer its own copy of the
// modules, so the real @pulumi/policy of this process is never patched. The same three paths through a
// real pack process over gRPC: lazy-properties-grpc.spec.ts.
import { strict as assert } from "node:assert";
import { createRequire } from "node:module";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { INTERNAL_MODULES, installLazyProperties, isUnknown, lazyDeserialize, rawProperties, selfTest, type ModuleLoader } from "../policypack/lazy-properties";

type Deserialize = (struct: object, proxySecrets: boolean) => Record<PropertyKey, unknown>;

// The modules exactly as @pulumi/policy's own server requires them.
const policyRequire = createRequire(require.resolve("@pulumi/policy"));
const realDeserialize = policyRequire(INTERNAL_MODULES.deserialize) as { deserializeProperties: Deserialize };
const realProxy = policyRequire(INTERNAL_MODULES.proxy) as Record<string, unknown>;
const check = realProxy.unknownCheckingProxy as <T extends object>(o: T) => T;
const UNKNOWN = realProxy.unknownStringValue as string;

/** A loader that serves a copy of the real modules, with `overrides` in place of some of them. */
function loader(overrides: Partial<Record<keyof typeof INTERNAL_MODULES, unknown>> = {}): { load: ModuleLoader; deserialize: { deserializeProperties: unknown } } {
  const deserialize = "deserialize" in overrides ? (overrides.deserialize as { deserializeProperties: unknown }) : { ...realDeserialize };
  const byId: Record<string, unknown> = {
    [INTERNAL_MODULES.deserialize]: deserialize,
    [INTERNAL_MODULES.proxy]: "proxy" in overrides ? overrides.proxy : realProxy,
    [INTERNAL_MODULES.struct]: "struct" in overrides ? overrides.struct : { Struct },
  };
  return { load: (id) => byId[id], deserialize };
}

function moduleNotFound(id: string): never {
  throw Object.assign(new Error(`Cannot find module '${id}'\nRequire stack:\n- /somewhere`), { code: "MODULE_NOT_FOUND" });
}

describe("lazy resource properties: the patch of @pulumi/policy fails closed", () => {
  describe("patched: the @pulumi/policy version the patch was tested with", () => {
    it("installs after the self-test passes, replacing deserializeProperties", () => {
      const { load, deserialize } = loader();
      assert.deepEqual(installLazyProperties(load), { installed: true });
      assert.notEqual(deserialize.deserializeProperties, realDeserialize.deserializeProperties);
    });

    it("hands a policy the same properties, with unknowns still throwing and secrets unwrapped", () => {
      const { load, deserialize } = loader();
      installLazyProperties(load);
      const struct = Struct.fromJavaScript({ user: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "alice" }, createDate: UNKNOWN, status: "Active" });
      const props = check((deserialize.deserializeProperties as Deserialize)(struct, false));
      assert.equal(props.user, "alice");
      assert.equal(props.status, "Active");
      assert.throws(() => props.createDate, /can't be known during preview/);
      const raw = rawProperties(props);
      assert.deepEqual(raw, { user: "alice", createDate: UNKNOWN, status: "Active" });
      assert.ok(isUnknown(raw?.createDate));
    });

    it("installs once: a second call keeps the first patch", () => {
      const { load, deserialize } = loader();
      installLazyProperties(load);
      const first = deserialize.deserializeProperties;
      assert.deepEqual(installLazyProperties(load), { installed: true });
      assert.equal(deserialize.deserializeProperties, first);
    });
  });

  describe("unpatched because the self-test failed", () => {
    it("stays off and leaves @pulumi/policy untouched when its properties differ from what the lazy proxy shows (e.g. frozen)", () => {
      const frozen: Deserialize = (s, p) => Object.freeze(realDeserialize.deserializeProperties(s, p));
      const { load, deserialize } = loader({ deserialize: { deserializeProperties: frozen } });
      assert.deepEqual(installLazyProperties(load), { installed: false, reason: "self-test failed: a policy would see the lazy properties differently" });
      assert.equal(deserialize.deserializeProperties, frozen);
    });

    it("stays off when @pulumi/policy's conversion throws on the known resource", () => {
      const { load, deserialize } = loader({ deserialize: { deserializeProperties: () => moduleNotFound("@pulumi/pulumi/runtime/rpc") } });
      const status = installLazyProperties(load);
      assert.equal(status.installed, false);
      assert.match(status.installed ? "" : status.reason, /^self-test failed: Cannot find module/);
      assert.equal(typeof deserialize.deserializeProperties, "function");
    });

    const wrong = lazyDeserialize(realDeserialize.deserializeProperties);
    const cases: [string, Deserialize, RegExp][] = [
      ["shows an unknown value as a plain string", (s, p) => ({ ...wrong(s, p), createDate: "2026-01-01T00:00:00Z" }), /a policy would see the lazy properties differently/],
      ["leaves secrets wrapped", (s) => realDeserialize.deserializeProperties(s, true), /differently|plain properties/],
      ["converts without sharing the plain object", (s, p) => lazyDeserialize(realDeserialize.deserializeProperties)(s, p), /two reads of one resource do not share one conversion/],
      ["gives no plain object behind the proxy", (s, p) => realDeserialize.deserializeProperties(s, p), /the plain properties behind the proxy differ/],
    ];
    for (const [what, lazy, reason] of cases) {
      it(`catches a conversion that ${what}`, () => {
        assert.match(selfTest(realDeserialize.deserializeProperties, lazy, realProxy, Struct) ?? "passed", reason);
      });
    }

    it("passes the lazy conversion itself", () => {
      assert.equal(selfTest(realDeserialize.deserializeProperties, lazyDeserialize(realDeserialize.deserializeProperties), realProxy, Struct), undefined);
    });
  });

  describe("unpatched because the internal modules are missing or changed", () => {
    it("stays off, without throwing, when an internal module cannot be loaded", () => {
      for (const missing of Object.values(INTERNAL_MODULES)) {
        const { load } = loader();
        const status = installLazyProperties((id) => (id === missing ? moduleNotFound(id) : load(id)));
        assert.deepEqual(status, { installed: false, reason: `@pulumi/policy internals did not load: Cannot find module '${missing}'` });
      }
    });

    const changed: [string, Partial<Record<keyof typeof INTERNAL_MODULES, unknown>>, string][] = [
      ["the module is empty", { deserialize: undefined }, "deserializeProperties is not a function"],
      ["deserializeProperties was renamed", { deserialize: { deserialize: realDeserialize.deserializeProperties } }, "deserializeProperties is not a function"],
      [
        "deserializeProperties is a getter (as TypeScript emits re-exports)",
        { deserialize: Object.defineProperty({}, "deserializeProperties", { get: () => realDeserialize.deserializeProperties, enumerable: true }) },
        "deserializeProperties cannot be replaced",
      ],
      ["the proxy module lost unknownCheckingProxy", { proxy: { ...realProxy, unknownCheckingProxy: undefined } }, "the proxy module is not as expected"],
      ["the proxy hands out its target under another key", { proxy: { ...realProxy, getSpecialProxyTarget: "__target" } }, "the proxy hands out its target under another key"],
      ["the unknown sentinels were renamed", { proxy: Object.fromEntries(Object.entries(realProxy).filter(([k]) => !/^unknown\w*Value$/.test(k))) }, "self-test failed: the proxy module has no unknownStringValue"],
      ["google-protobuf's Struct moved", { struct: {} }, "google-protobuf's Struct is not as expected"],
    ];
    for (const [what, overrides, reason] of changed) {
      it(`stays off when ${what}`, () => {
        const { load, deserialize } = loader(overrides);
        const before = deserialize?.deserializeProperties;
        assert.deepEqual(installLazyProperties(load), { installed: false, reason });
        assert.equal(deserialize?.deserializeProperties, before);
      });
    }

    it("finds no plain object behind a policy's properties when the patch is off, so the reader uses the proxy", () => {
      const props = check(realDeserialize.deserializeProperties(Struct.fromJavaScript({ createDate: UNKNOWN }), false));
      assert.equal(rawProperties(props), undefined);
    });
  });
});
