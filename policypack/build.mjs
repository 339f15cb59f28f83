// Builds dist/pack/: the policy pack as `pulumi policy publish` should upload it. Runs after tsc in
// `npm run build`.
//
// The Pulumi service installs a published pack's dependencies wherever the pack runs, so this directory
// depends only on what the pack loads: @pulumi/policy and @pulumi/pulumi, at the exact versions keyage is
// tested with (its devDependencies; the package itself only names them as optional peers). The pack and
// the rule module are bundled into one index.js (csv-parse and the rest of shared/ included); @pulumi/* stay external, because the pack must use the very @pulumi/policy copy
// that serves it (lazy-properties.ts patches its deserialize module).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.resolve(process.env.KEYAGE_DIST ?? path.join(root, "dist"));
const out = path.join(dist, "pack");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));

const RUNTIME = ["@pulumi/policy", "@pulumi/pulumi"];
for (const name of RUNTIME) {
  if (!/^\d+\.\d+\.\d+$/.test(pkg.devDependencies?.[name] ?? "")) {
    throw new Error(`package.json's devDependencies must pin ${name} to an exact version for the published pack, got ${JSON.stringify(pkg.devDependencies?.[name])}`);
  }
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(root, "policypack", "index.ts")],
  outfile: path.join(out, "index.js"),
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  external: ["@pulumi/*"],
  legalComments: "none",
  logLevel: "warning",
});

const manifest = {
  name: `${pkg.name}-policy-pack`,
  version: pkg.version,
  description: pkg.description,
  license: pkg.license,
  private: true,
  main: "index.js",
  engines: pkg.engines,
  dependencies: Object.fromEntries(RUNTIME.map((name) => [name, pkg.devDependencies[name]])),
};
writeFileSync(path.join(out, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
for (const file of ["PulumiPolicy.yaml", "LICENSE"]) copyFileSync(path.join(root, file), path.join(out, file));

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`policy pack: ${path.relative(root, out)}/ (index.js ${kib(statSync(path.join(out, "index.js")).size)}; depends on ${RUNTIME.join(", ")})`);
