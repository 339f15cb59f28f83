/**
 * `keyage audit --policy-config FILE`: the same JSON file the policy pack takes
 * (`pulumi preview --policy-pack-config FILE`), read by the pack's own rules (shared/policy-config.ts):
 * `iam-access-key-max-age`'s `maxAgeDays` and `exemptions`, `iam-access-key-expiring`'s `warnDays`.
 * Flags given on the command line win over the file.
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { ParameterError, parseList, readPolicyConfig, settingNames, show, validateParams, type RawRuleParams } from "../shared";
import type { AuditOptions } from "./audit";
import { UsageError, type CliIO } from "./io";

/** `keyage audit`'s options with `--policy-config`. */
export interface PolicyConfigOptions extends AuditOptions {
  /** A policy pack config file (JSON). Absent: flags and defaults only. */
  readonly policyConfig?: string;
}

/** Where commander took an option's value from: "cli" when the user typed the flag. */
export type OptionSource = (option: "maxAgeDays" | "warnDays" | "exempt") => string | undefined;

async function readJson(file: string, io: CliIO): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path.resolve(io.cwd ?? process.cwd(), file), "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (err as Error).message;
    throw new UsageError(`cannot read the policy config ${show(file)}: ${why}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`${file}: not JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** An exemption as `--exempt` spells it: `user` or `user:until`. */
function asFlag(entry: unknown): string {
  if (typeof entry === "string") return entry;
  const { user, until } = entry as { user: string; until?: string };
  return until ? `${user}:${until}` : user;
}

/**
 * Returns `opts` with the file's `maxAgeDays`, `warnDays` and exemptions filled in where the user gave
 * no flag (`source(option) !== "cli"`). Without `--policy-config`, returns `opts` as they are.
 *
 * @throws {@link UsageError} (exit status 2) when the file cannot be read, is not JSON, has an unknown
 *   setting or a value out of range (named as in the file, e.g. `iam-access-key-max-age.maxAgeDays`), or
 *   gives the two age policies different limits or exemptions (naming both values).
 * @example await withPolicyConfig({ policyConfig: "examples/policy-config.json" }, () => undefined, io)
 */
export async function withPolicyConfig(opts: PolicyConfigOptions, source: OptionSource, io: CliIO): Promise<AuditOptions> {
  if (opts.policyConfig === undefined) return opts;
  const file = opts.policyConfig;
  const doc = await readJson(file, io);
  let params: RawRuleParams;
  try {
    const settings = readPolicyConfig(doc);
    const { raw, names } = settingNames(settings);
    // The file on its own first, so that an error names the value as the file spells it.
    validateParams(raw, names);
    params = raw;
  } catch (err) {
    if (err instanceof ParameterError) throw new UsageError(`${file}: ${err.message}`, { cause: err });
    throw err;
  }
  const flag = (option: "maxAgeDays" | "warnDays" | "exempt"): boolean => source(option) === "cli";
  return {
    ...opts,
    maxAgeDays: flag("maxAgeDays") || params.maxAgeDays === undefined ? opts.maxAgeDays : String(params.maxAgeDays),
    warnDays: flag("warnDays") || params.warnDays === undefined ? opts.warnDays : String(params.warnDays),
    exempt: flag("exempt") || params.exemptions === undefined ? opts.exempt : parseList(params.exemptions, "exemptions", "user names").map(asFlag),
  };
}
