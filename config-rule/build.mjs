// Bundles the Config rule Lambda: dist/config-rule/index.js (exports `handler`) and dist/config-rule.zip
// (index.js at its root). Runs after tsc in `npm run build`; it overwrites the index.js tsc emitted, and
// leaves tsc's other dist/config-rule/*.js alone (the CLI imports dist/aws/*.js, not this folder).
//
// The AWS SDK v3 clients are bundled, not taken from the Lambda runtime: the runtime's SDK version
// changes under you, the bundle stays what was tested. KEYAGE_SDK=external builds the other way (SDK
// left out) to compare sizes; see docs/config-rule.md for the figures.
import { build } from "esbuild";
import { createWriteStream, mkdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import yazl from "yazl";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// KEYAGE_DIST builds somewhere else (the bundle test builds into a temporary directory).
const dist = path.resolve(process.env.KEYAGE_DIST ?? path.join(root, "dist"));
const outDir = path.join(dist, "config-rule");
const outFile = path.join(outDir, "index.js");
const zipFile = path.join(dist, "config-rule.zip");
const external = process.env.KEYAGE_SDK === "external" ? ["@aws-sdk/*", "@smithy/*"] : [];

mkdirSync(outDir, { recursive: true });
const result = await build({
  entryPoints: [path.join(root, "config-rule", "index.ts")],
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
  `config-rule: ${path.relative(root, outFile)} ${kib(statSync(outFile).size)} (${inputs} modules${external.length ? ", SDK external" : ""}), ` +
    `${path.relative(root, zipFile)} ${kib(statSync(zipFile).size)}`,
);
