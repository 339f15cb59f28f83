// What `npm publish` would upload, read from `npm pack --dry-run --json` after a build: the docs, both
// Lambda zips, the pack and the components are in it; tests, fixtures, sources and the deploy stack are
// not; and the release is named in CHANGELOG.md with its date.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { OFFLINE_AWS_ENV } from "./fixtures";
import { buildOnce, REPO_ROOT } from "./fixtures/build";

const exec = promisify(execFile);

interface Manifest {
  name: string;
  version: string;
  repository?: unknown;
  homepage?: unknown;
  bugs?: unknown;
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
  main: string;
}

describe("the published tarball's files (npm pack --dry-run)", function () {
  this.timeout(180_000);
  let files: string[];
  const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as Manifest;

  before(async () => {
    await buildOnce();
    const { stdout } = await exec("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: REPO_ROOT, env: { ...process.env, ...OFFLINE_AWS_ENV }, maxBuffer: 16 * 1024 * 1024 });
    files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  });

  it("holds the README, the licence, the changelog, every doc and the JSON schema", () => {
    const docs = readdirSync(path.join(REPO_ROOT, "docs")).filter((f) => f.endsWith(".md") || f.endsWith(".json")).map((f) => `docs/${f}`);
    for (const file of ["README.md", "LICENSE", "CHANGELOG.md", "PulumiPolicy.yaml", "package.json", "docs/schema/audit-v1.schema.json", ...docs]) {
      assert.ok(files.includes(file), `${file} is not in the tarball`);
    }
  });

  it("holds both Lambda zips, the policy pack (entry and dist/pack/), the CLI and every export with its types", () => {
    for (const file of ["dist/config-rule.zip", "dist/rotator.zip", manifest.main, "dist/pack/index.js", "dist/pack/package.json", ...Object.values(manifest.bin)]) {
      assert.ok(files.includes(file), `${file} is not in the tarball`);
    }
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      for (const file of typeof target === "string" ? [target] : [target.default, target.types]) {
        assert.ok(files.includes(file.replace(/^\.\//, "")), `${subpath}: ${file} is not in the tarball`);
      }
    }
    assert.ok(files.includes("dist/pulumi/index.d.ts"));
  });

  it("holds no tests, fixtures, benchmarks, build scripts, TypeScript sources, source maps or the deploy stack", () => {
    const unwanted = files.filter(
      (f) =>
        /^(test|bench|scripts|deploy|node_modules|\.ci)\//.test(f) ||
        /(^|\/)fixtures?\//.test(f) ||
        /\.spec\./.test(f) ||
        f.endsWith(".map") ||
        // Sources: only examples/ ships a .ts file (a sample program), dist/ only declarations.
        (f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.startsWith("examples/")),
    );
    assert.deepEqual(unwanted, []);
  });

  it("names this version in CHANGELOG.md, with its date", () => {
    const changelog = readFileSync(path.join(REPO_ROOT, "CHANGELOG.md"), "utf8");
    const escaped = manifest.version.replace(/\./g, "\\.");
    assert.match(changelog, new RegExp(`^## ${escaped} — \\d{4}-\\d{2}-\\d{2}$`, "m"), `CHANGELOG.md has no "## ${manifest.version} — YYYY-MM-DD" section`);
  });

  it("points at no made-up repository (repository, homepage and bugs are set before the first publish, or absent)", () => {
    const text = JSON.stringify({ repository: manifest.repository, homepage: manifest.homepage, bugs: manifest.bugs });
    assert.doesNotMatch(text, /github\.com\/keyage\/keyage/);
  });
});
