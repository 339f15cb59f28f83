/** keyage's own version, from its package.json (run from the source tree or from dist/). */
import { readFileSync } from "node:fs";
import * as path from "node:path";

/** The package's version, e.g. `0.1.0`; `0.0.0` when package.json cannot be found. */
export function keyageVersion(): string {
  // cli/ runs from the source tree (ts-node) and from dist/cli/: try both places.
  for (const up of ["..", "../.."]) {
    try {
      return (JSON.parse(readFileSync(path.join(__dirname, up, "package.json"), "utf8")) as { version: string }).version;
    } catch {
      // try the next place
    }
  }
  return "0.0.0";
}
