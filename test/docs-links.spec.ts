// Every relative link in README.md and docs/**/*.md must lead somewhere: the file exists and, when the
// link has an #anchor, the target has a heading with that GitHub anchor. Links inside code are not links.
import { strict as assert } from "node:assert";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..");

/** README.md and every Markdown file under docs/, as paths relative to the repository root. */
function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith(".md") ? [path.join(dir, e.name)] : [],
    );
  return ["README.md", ...(existsSync(path.join(ROOT, "docs")) ? walk("docs") : [])];
}

/** The Markdown without fenced code blocks and inline code spans (their brackets are not links). */
function prose(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "")
    .replace(/(`+)[\s\S]*?\1/g, (span) => (span.includes("\n\n") ? span : ""));
}

/** Inline link and image targets: `[text](target)` and `[text](target "title")`. */
function linkTargets(markdown: string): string[] {
  const targets: string[] = [];
  for (const m of prose(markdown).matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
  return targets;
}

/**
 * GitHub's heading anchors: the heading text without Markdown marks, lower-cased, with every character
 * that is not a letter, digit, mark, space, `-` or `_` removed and each space turned into `-`; a repeated
 * anchor gets `-1`, `-2`, ... (github-slugger's rule, written out here to keep package.json unchanged).
 */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  const withoutFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
  for (const m of withoutFences.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const text = m[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // a link's text only
      .replace(/<[^>]+>/g, "") // inline HTML
      .replace(/[*_`~]/g, (c) => (c === "_" ? "_" : "")); // emphasis and code marks
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

describe("documentation links", () => {
  const files = markdownFiles();

  it("finds the README and the documents under docs/", () => {
    assert.ok(files.includes("README.md"));
    assert.ok(files.some((f) => f.startsWith(`docs${path.sep}`)), "docs/ holds Markdown files");
  });

  it("computes anchors the way GitHub does", () => {
    assert.deepEqual(
      [...anchors("# CLI: `keyage audit`, `keyage rotate`\n## Tests and bench\n## Tests and bench\n### `--format json` (v2)\n```\n# not a heading\n```\n")],
      ["cli-keyage-audit-keyage-rotate", "tests-and-bench", "tests-and-bench-1", "--format-json-v2"],
    );
  });

  it("sees links in prose but not in code", () => {
    assert.deepEqual(linkTargets("[a](x.md) `[b](y.md)` ![c](img.png \"t\")\n```\n[d](z.md)\n```\n[e](https://example.com)"), ["x.md", "img.png", "https://example.com"]);
  });

  for (const file of files) {
    it(`${file}: every relative link resolves to a file and, with #anchor, to a heading there`, () => {
      const source = readFileSync(path.join(ROOT, file), "utf8");
      const broken: string[] = [];
      for (const target of linkTargets(source)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: ...: not relative
        const [rawPath = "", anchor] = target.split("#", 2);
        const targetFile = rawPath === "" ? path.join(ROOT, file) : path.resolve(path.dirname(path.join(ROOT, file)), decodeURIComponent(rawPath));
        if (!targetFile.startsWith(ROOT) || !existsSync(targetFile)) {
          broken.push(`${target}: no such file`);
          continue;
        }
        if (anchor !== undefined && anchor !== "") {
          if (statSync(targetFile).isDirectory() || !targetFile.endsWith(".md")) {
            broken.push(`${target}: an anchor into a file that is not Markdown`);
          } else if (!anchors(readFileSync(targetFile, "utf8")).has(decodeURIComponent(anchor))) {
            broken.push(`${target}: no heading with anchor #${anchor} in ${path.relative(ROOT, targetFile)}`);
          }
        }
      }
      assert.deepEqual(broken, []);
    });
  }

  it("keeps the README a front page of at most about 200 lines", () => {
    const lines = readFileSync(path.join(ROOT, "README.md"), "utf8").split("\n").length;
    assert.ok(lines <= 210, `README.md has ${lines} lines`);
  });

  it("stands alone: no document points at the team's working notes outside the repository", () => {
    for (const file of files) {
      const source = readFileSync(path.join(ROOT, file), "utf8");
      for (const note of ["DESIGN.md", "REFERENCE.md", "STYLE.md", "../shared"]) assert.ok(!source.includes(note), `${file} mentions ${note}`);
    }
  });
});
