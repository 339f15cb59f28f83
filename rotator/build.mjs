// Bundles the scheduled rotator Lambda: dist/rotator/index.js (exports `handler`) and dist/rotator.zip
// (index.js at its root), the same way config-rule/build.mjs bundles the Config rule (SDK bundled, fixed
// zip mtime). Runs after tsc in `npm run build`.
import { build } from "esbuild";
import { createWriteStream, mkdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import yazl from "yazl";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// KEYAGE_DIST builds somewhere else (the bundle test builds into a temporary directory).
const dist = path.resolve(process.env.KEYAGE_DIST ?? path.join(root, "dist"));
const outDir = path.join(dist, "rotator");
const outFile = path.join(outDir, "index.js");
const zipFile = path.join(dist, "rotator.zip");
const external = process.env.KEYAGE_SDK === "external" ? ["@aws-sdk/*", "@smithy/*"] : [];

mkdirSync(outDir, { recursive: true });
const result = await build({
  entryPoints: [path.join(root, "rotator", "index.ts")],
  outfile: outFile,
  allowOverwrite: true,
  bundle: true,
  minify: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  // The SDK ships ESM and CJS builds; the ESM ones tree-shake better.
  mainFields: ["module", "main"],
  external,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});

const zip = new yazl.ZipFile();
// A fixed mtime keeps the zip byte-identical across builds of the same code (stable deploy diffs).
zip.addBuffer(readFileSync(outFile), "index.js", { mtime: new Date("2020-01-01T00:00:00Z"), mode: 0o644 });
zip.end();
await new Promise((resolve, reject) => {
  zip.outputStream.pipe(createWriteStream(zipFile)).on("close", resolve).on("error", reject);
});

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const inputs = Object.keys(result.metafile.inputs).length;
console.log(
  `rotator: ${path.relative(root, outFile)} ${kib(statSync(outFile).size)} (${inputs} modules${external.length ? ", SDK external" : ""}), ` +
    `${path.relative(root, zipFile)} ${kib(statSync(zipFile).size)}`,
);
