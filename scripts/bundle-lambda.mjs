// Bundles a Lambda of keyage (the Config rule, the scheduled rotator) into one minified file and a zip.
// The AWS SDK v3 clients are bundled, not taken from the Lambda runtime: the runtime's SDK version changes
// under you, the bundle stays what was tested.
import { build } from "esbuild";
import { createWriteStream, mkdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import yazl from "yazl";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Bundles the Lambda whose entry is `<name>/index.ts` (exporting `handler`) into
 * `dist/<name>/index.js` and `dist/<name>.zip` (index.js at its root), and prints the sizes.
 * `KEYAGE_DIST` builds somewhere else (the bundle tests build into a temporary directory);
 * `KEYAGE_SDK=external` leaves the AWS SDK out, to compare sizes.
 */
export async function bundleLambda(name) {
  const dist = path.resolve(process.env.KEYAGE_DIST ?? path.join(root, "dist"));
  const outDir = path.join(dist, name);
  const outFile = path.join(outDir, "index.js");
  const zipFile = path.join(dist, `${name}.zip`);
  const external = process.env.KEYAGE_SDK === "external" ? ["@aws-sdk/*", "@smithy/*"] : [];

  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: [path.join(root, name, "index.ts")],
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
    `${name}: ${path.relative(root, outFile)} ${kib(statSync(outFile).size)} (${inputs} modules${external.length ? ", SDK external" : ""}), ` +
      `${path.relative(root, zipFile)} ${kib(statSync(zipFile).size)}`,
  );
}
