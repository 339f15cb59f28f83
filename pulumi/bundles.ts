/**
 * What both components share at construction: the Lambda bundles shipped inside the package, and
 * turning a bad argument into a one-line error that names the component.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { DeployConfigError } from "./settings";

/** The two Lambda bundles `npm run build` writes to dist/ (and the package ships). */
export type BundleFile = "config-rule.zip" | "rotator.zip";

/**
 * Where a Lambda bundle is: next to this module's folder in the installed package (`dist/pulumi/` →
 * `dist/<file>`), or under `dist/` of a clone when the TypeScript source runs (the deploy stack).
 * Resolved at construction, never at import.
 *
 * @throws pulumi.RunError naming the places looked at, when neither holds it.
 */
export function bundlePath(file: BundleFile): string {
  const candidates = [path.join(__dirname, "..", file), path.join(__dirname, "..", "dist", file)];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (found === undefined) {
    throw new pulumi.RunError(`keyage: the Lambda bundle ${file} is missing (looked for ${candidates.join(" and ")}); in a clone of keyage, run \`npm ci\` (or \`npm run build\`) first`);
  }
  return found;
}

/** The packaged bundle as the Lambda's code. */
export function packagedCode(file: BundleFile): pulumi.asset.FileArchive {
  return new pulumi.asset.FileArchive(bundlePath(file));
}

/**
 * Runs `validate`; a {@link DeployConfigError} becomes a `pulumi.RunError` (Pulumi prints its message
 * alone, without a stack trace) that names the component and the argument:
 * `KeyageConfigRule "keys": maxAccessKeyAge must be a whole number of days from 1 to 3650, got 0`.
 */
export function validArgs<T>(component: string, name: string, validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    if (error instanceof DeployConfigError) {
      const run = new pulumi.RunError(`${component} ${JSON.stringify(name)}: ${error.message}`);
      (run as { cause?: unknown }).cause = error;
      throw run;
    }
    throw error;
  }
}
