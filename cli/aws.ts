/**
 * The CLI's reading of AWS failures: an SDK error turned into one plain sentence that says what to do,
 * with exit status 3 — and, before any client is made, a named profile that does not exist (exit 2).
 * Error naming itself lives in `aws/errors`.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import * as path from "node:path";
import { awsErrorName } from "../aws/errors";
import { KeyageError, show } from "../shared";
import { AwsError, UsageError, type CliIO } from "./io";

/** A section header of an AWS shared config or credentials file: `[name]`, `[profile name]`. */
const SECTION = /^\s*\[\s*(?:profile\s+)?([^\[\]]*?)\s*\]/;

function sectionsOf(file: string): Set<string> | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    // A missing file holds no profile; one that cannot be read is left for the SDK to judge.
    return (err as { code?: string }).code === "ENOENT" ? new Set() : undefined;
  }
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const name = SECTION.exec(line)?.[1];
    if (name) names.add(name);
  }
  return names;
}

/**
 * Refuses (exit 2) a profile named by `--profile` or AWS_PROFILE that neither the shared config file
 * (AWS_CONFIG_FILE, default ~/.aws/config) nor the credentials file (AWS_SHARED_CREDENTIALS_FILE, default
 * ~/.aws/credentials) has: the SDK would only say that no credentials were found. Lenient where the SDK
 * is strict (a `[name]` without `profile ` in the config file counts), so that it never refuses a profile
 * the SDK could use. No profile named: nothing to check.
 */
export function checkProfile(profile: string | undefined, io: Pick<CliIO, "env">): void {
  const env = io.env ?? process.env;
  const name = profile ?? env.AWS_PROFILE;
  if (!name) return;
  const home = env.HOME || env.USERPROFILE || homedir();
  // As the SDK reads them: a leading ~/ is the home directory.
  const resolve = (file: string): string => (file.startsWith("~/") ? path.join(home, file.slice(2)) : file);
  const files = [resolve(env.AWS_CONFIG_FILE || "~/.aws/config"), resolve(env.AWS_SHARED_CREDENTIALS_FILE || "~/.aws/credentials")];
  const found = files.map(sectionsOf);
  if (found.some((names) => names === undefined || names.has(name))) return;
  const flag = profile === undefined ? "AWS_PROFILE" : "--profile";
  throw new UsageError(
    `${flag}: AWS profile ${show(name)} not found in ${files.join(" or ")} (\`aws configure list-profiles\` lists the profiles there)`,
  );
}

function firstLine(text: string | undefined): string {
  return (text ?? "").split("\n")[0]?.trim() ?? "";
}

function messageOf(err: unknown): string {
  return firstLine(err instanceof Error ? err.message : typeof err === "object" && err !== null ? String((err as { message?: unknown }).message ?? "") : String(err));
}

/**
 * Turns an AWS SDK error into an {@link AwsError} whose message says what `action` was and what to do,
 * on one line. Already-mapped CLI errors pass through unchanged.
 */
export function awsFailure(action: string, err: unknown): Error {
  if (err instanceof AwsError) return err;
  // keyage's own wrappers (IamReadError: "ListUsers failed: …") say which call failed and carry the SDK
  // error as `cause`: the cause says what kind of failure it is, the wrapper's message what failed. A
  // class name says neither, so none is shown.
  const own = err instanceof KeyageError ? err : undefined;
  const sdk = own?.cause ?? err;
  const name = awsErrorName(sdk) || "Error";
  const detail = messageOf(sdk);
  let hint: string;
  if (name === "CredentialsProviderError" || /could not load credentials/i.test(detail)) {
    hint = "no AWS credentials found: pass --profile, set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`";
  } else if (/region is missing/i.test(detail)) {
    hint = "no AWS region: pass --region or set AWS_REGION";
  } else if (/AccessDenied|UnauthorizedOperation/i.test(name)) {
    hint = `access denied: ${detail}`;
  } else if (/ExpiredToken|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|InvalidSignature/.test(name)) {
    hint = `the credentials were rejected (${name}): ${detail}`;
  } else if (/^E[A-Z]+$/.test(name) || /TimeoutError|NetworkingError/.test(name)) {
    hint = `cannot reach AWS (${name}): ${detail}`;
  } else if (own) {
    hint = messageOf(own);
  } else {
    hint = name === "Error" ? detail : `${name}: ${detail}`;
  }
  return new AwsError(`${action} failed: ${hint}`, { cause: err });
}
