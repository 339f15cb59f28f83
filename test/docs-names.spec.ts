// Names and defaults in the documentation against the code they describe: deploy config keys and their
// defaults, the rule name in sample commands, policy names, and every CLI option.
import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { run } from "../cli/main";
import { CREATION_POLICY, EXPIRING_POLICY, MAX_AGE_POLICY } from "../policypack/policies";
import { DEFAULTS, validateSettings } from "../pulumi/settings";
import { OWNER_TAG, ROTATE_TAG } from "../rotator/run";

const ROOT = path.join(__dirname, "..");
const read = (file: string): string => readFileSync(path.join(ROOT, file), "utf8");
const DOCS = ["README.md", ...readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const ALL = DOCS.map(read).join("\n");

/** Rows of the Markdown table under `heading` in `file`: first cell (without backticks) → second cell. */
function tableUnder(file: string, heading: string): Map<string, string> {
  const text = read(file);
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `${file} has a "${heading}" heading`);
  const rows = new Map<string, string>();
  for (const line of text.slice(start).split("\n").slice(2)) {
    if (line.startsWith("#")) break;
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    if (cells.length < 4 || /^-+$/.test(cells[1]!) || cells[1] === "key") continue;
    rows.set(cells[1]!.replace(/`/g, ""), cells[2]!.replace(/`/g, ""));
  }
  return rows;
}

/** What `keyage <args>` prints (stdout and stderr together). */
async function help(args: string[]): Promise<string> {
  let text = "";
  const out = { write: (s: string) => (text += s) };
  await run(args, { stdout: out, stderr: out });
  return text;
}

describe("names in the documentation match the code", () => {
  const keys = tableUnder("docs/deploy.md", "## Config keys");

  it("documents deploy config keys that the program really reads", () => {
    assert.ok(keys.size >= 10, `found ${keys.size} keys in docs/deploy.md`);
    for (const key of keys.keys()) {
      // A key the program reads rejects a malformed value, naming itself.
      const raw = key === "organization" ? { organization: "%%" } : { organization: "true", [key]: "%%" };
      assert.throws(() => validateSettings(raw), (e: { key?: string }) => e.key === key, `keyage:${key} is not a setting of deploy/`);
    }
    // IAM user tags keyage reads or writes (keyage:deactivated:…, keyage:rotate, keyage:owner) are not config keys.
    const userTags = new Set([ROTATE_TAG, OWNER_TAG].map((t) => t.replace(/^keyage:/, "")));
    for (const [, key] of ALL.matchAll(/keyage:([a-zA-Z]+)(?![a-zA-Z]*:)/g)) {
      if (!userTags.has(key!)) assert.ok(keys.has(key!), `keyage:${key} is mentioned but not in the Config keys table`);
    }
  });

  it("states the deploy program's defaults", () => {
    const settings = validateSettings({});
    for (const key of ["ruleName", "frequency", "lambdaMemorySize", "lambdaTimeout", "logRetentionDays", "maxAccessKeyAge"] as const) {
      assert.equal(keys.get(key), String(settings[key]), `default of ${key}`);
    }
    assert.equal(keys.get("memberRoleName"), DEFAULTS.memberRoleName);
    assert.equal(keys.get("callAs"), DEFAULTS.callAs);
  });

  it("uses the default rule name wherever a sample names the rule", () => {
    const named = [...ALL.matchAll(/--config-rule-names\s+([A-Za-z0-9_-]+)|--organization-config-rule-name\s+([A-Za-z0-9_-]+)|"configRuleName":"([^"]+)"/g)].map((m) => m[1] ?? m[2] ?? m[3]);
    assert.ok(named.length > 0);
    for (const name of named) assert.equal(name, DEFAULTS.ruleName);
  });

  it("names only the policies the pack has", () => {
    const policies = new Set([MAX_AGE_POLICY, EXPIRING_POLICY, CREATION_POLICY]);
    for (const [name] of ALL.matchAll(/\biam-access-key-[a-z-]+[a-z]/g)) assert.ok(policies.has(name), `${name} is not a policy of the pack`);
  });

  it("documents every option of keyage audit and keyage rotate in docs/cli.md", async () => {
    const cli = read("docs/cli.md");
    for (const command of [["audit"], ["rotate", "start"], ["rotate", "finish"], ["rotate", "cleanup"]]) {
      const options = [...(await help([...command, "--help"])).matchAll(/(?<![\w-])--[a-z][a-z-]+/g)].map((m) => m[0]).filter((o) => o !== "--help");
      assert.ok(options.length > 3, `keyage ${command.join(" ")} --help lists its options`);
      for (const option of options) assert.ok(cli.includes(option), `keyage ${command.join(" ")} ${option} is not in docs/cli.md`);
    }
  });
});
