/**
 * `keyage rotate start|finish|cleanup --user NAME`: the AWS rotation procedure (create a second key →
 * switch the application → deactivate the old key once unused → wait → delete it), one phase per run so
 * a person can run them days apart.
 *
 * This file only observes and acts: it reads the user's keys, their last use and keyage's tags, and what
 * each destination holds; `planRotation` (shared/) decides; a dry run prints the plan, `--apply` executes
 * its steps. Nothing is written before everything is observed, so bad usage changes nothing. Only
 * create-and-deliver is all or nothing: once a key exists, the process neither exits (closed stdout,
 * SIGINT/SIGTERM/SIGHUP) nor reports success until its secret is delivered or the key deleted again.
 */
import { accessSync, closeSync, constants, fsyncSync, lstatSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import * as path from "node:path";
import type { IAMClient } from "@aws-sdk/client-iam";
import {
  CONFIG_RULE_NAME,
  describeKeys,
  describeStep,
  documentKeyId,
  MAX_GRACE_HOURS,
  nextAfterCreate,
  planRotation,
  reevaluateLine,
  secretDocument,
  show,
  USER_NAME,
  USER_NAME_RULE,
  wholeNumber,
  wordPlan,
  type RotationDestination,
  type RotationObservation,
  type RotationPhase,
  type RotationPlan,
  type RotationPolicy,
  type RotationStep,
} from "../shared";
import { awsErrorName, IamReadError } from "../aws/errors";
import { createAccessKey, deleteAccessKey, getUserArn, readUserKeys, setAccessKeyStatus, tagUser, untagUser } from "../aws/keys";
import { defaultClients } from "../aws/lazy-clients";
import { putKeySecret, readSecret, SecretUndecidedError } from "../aws/secrets";
import { awsFailure, checkProfile } from "./aws";
import { critical, isStdoutClosed } from "./guard";
import { AwsError, CliError, EXIT, RefusedError, UsageError, type CliIO, type Clients, type ExitStatus } from "./io";

/** `start`, `finish` or `cleanup`. */
export type Phase = RotationPhase;

/** Options of `keyage rotate <phase>`, as commander hands them over. */
export interface RotateOptions {
  readonly user: string;
  /** Make the changes. Default false: a dry run that only reads. */
  readonly apply?: boolean;
  /** Hours (see `keyage rotate --help`): default 24 for finish and --replace-undelivered, 168 for deleting. */
  readonly grace?: string;
  readonly profile?: string;
  readonly region?: string;
  /** start: Secrets Manager secret to put `{AccessKeyId, SecretAccessKey}` into. */
  readonly secretsManager?: string;
  /** start: file to create (mode 0600, O_EXCL) with `{AccessKeyId, SecretAccessKey}`. */
  readonly output?: string;
  /** start: also print the secret on stdout. Default false. */
  readonly showSecret?: boolean;
  /** start: with two keys already, delete the inactive one first when it is deletable. Default false. */
  readonly deleteInactive?: boolean;
  /** start: deactivate a newer active key that the secret positively does not hold. Default false. */
  readonly replaceUndelivered?: boolean;
  /** cleanup, start --delete-inactive: delete even though the remaining active key was never used. Default false. */
  readonly force?: boolean;
  /** finish: the Config rule whose re-evaluation command is printed. Default `keyage-access-key-age`. */
  readonly configRuleName?: string;
}

/** One run of a phase, passed on whole. */
interface Run {
  readonly phase: Phase;
  readonly opts: RotateOptions;
  readonly io: CliIO;
  readonly clients: Clients;
  readonly iam: IAMClient;
  readonly now: number;
  readonly apply: boolean;
  /** start: the --secrets-manager secret's full ARN as DescribeSecret resolved it (the store goes there). */
  secretArn?: string;
}

function policyOf(opts: RotateOptions): RotationPolicy {
  let graceHours: number | undefined;
  if (opts.grace !== undefined) {
    graceHours = wholeNumber(opts.grace);
    if (graceHours === undefined || graceHours < 1 || graceHours > MAX_GRACE_HOURS) {
      throw new UsageError(`--grace must be a whole number of hours from 1 to ${MAX_GRACE_HOURS}, got ${show(opts.grace)}`);
    }
  }
  if (opts.configRuleName !== undefined && !CONFIG_RULE_NAME.test(opts.configRuleName)) {
    throw new UsageError(`--config-rule-name: ${show(opts.configRuleName)} is not a Config rule name (1-64 letters, digits, hyphens or underscores)`);
  }
  return {
    graceHours,
    deleteInactive: opts.deleteInactive === true,
    replaceUndelivered: opts.replaceUndelivered === true,
    force: opts.force === true,
    configRuleName: opts.configRuleName,
  };
}

/**
 * Runs one phase. Returns 0 when the phase did (or in a dry run would do) its work or there was nothing
 * left to do; throws {@link RefusedError} (exit 1) when a safety check says no, {@link UsageError} (2)
 * for bad flags or destinations, {@link AwsError} (3) when AWS fails.
 */
export async function runRotate(phase: Phase, opts: RotateOptions, io: CliIO): Promise<ExitStatus> {
  if (!USER_NAME.test(opts.user)) {
    throw new UsageError(`--user: ${show(opts.user)} is not an IAM user name (${USER_NAME_RULE})`);
  }
  const policy = policyOf(opts);
  const now = (io.now ?? Date.now)();
  if (phase === "start") usageBeforeAws(opts, io, policy, now);
  checkProfile(opts.profile, io);
  const clients = await (io.clients ?? defaultClients)({ profile: opts.profile, region: opts.region });
  const run: Run = { phase, opts, io, clients, iam: clients.iam(), now, apply: opts.apply === true };
  const observed = await observe(run);
  for (const line of describeKeys(opts.user, observed.keys, run.now)) io.stdout.write(`${line}\n`);
  return execute(run, planRotation(phase, observed, policy, run.now));
}

/**
 * start's usage errors that need no AWS call (no destination given; a --output file that cannot be
 * created), raised before any client is made: bad usage exits 2, whatever the credentials or region. The
 * planner stays the one place that words them: it is asked with what is known locally and no keys, and
 * checks destinations before anything that depends on the keys.
 */
function usageBeforeAws(opts: RotateOptions, io: CliIO, policy: RotationPolicy, now: number): void {
  const local: RotationDestination[] = [];
  if (opts.output) local.push(observeFile({ io }, opts.output));
  if (opts.secretsManager) local.push({ kind: "secret", label: `Secrets Manager secret ${opts.secretsManager}` });
  if (opts.showSecret) local.push({ kind: "stdout", label: "stdout" });
  const plan = planRotation("start", { user: opts.user, keys: [], tags: {}, destinations: local }, policy, now);
  if (plan.refusal?.kind === "usage") throw new UsageError(plan.refusal.reason);
}

// -------------------------------------------------------------------------------------------- observe

async function observe(run: Run): Promise<RotationObservation> {
  const user = run.opts.user;
  const destinations = run.phase === "start" ? await observeDestinations(run) : undefined;
  let found;
  try {
    found = await readUserKeys(run.iam, user);
  } catch (err) {
    throw awsFailure(`reading ${user}'s access keys (iam:ListAccessKeys, iam:GetAccessKeyLastUsed, iam:ListUserTags)`, err instanceof IamReadError ? err.cause : err);
  }
  if (found === undefined) throw new UsageError(`there is no IAM user named ${show(user)}`);
  // Only a secret bound to some user (its keyage:rotate tag) needs this user's ARN to compare.
  let userArn: string | undefined;
  if (destinations?.some((d) => d.boundTo !== undefined)) {
    try {
      userArn = await getUserArn(run.iam, user);
    } catch (err) {
      throw awsFailure(`reading ${user}'s ARN to compare with the secret's keyage:rotate tag (iam:GetUser)`, err);
    }
  }
  return { user, userArn, keys: found.keys, tags: found.tags, destinations };
}

function outputPath(run: Pick<Run, "io">, output: string): string {
  return path.resolve(run.io.cwd ?? process.cwd(), output);
}

/** The --output file: its directory must exist and be writable; the file itself must not exist (unless it holds the new key). */
function observeFile(run: Pick<Run, "io">, output: string): RotationDestination {
  const label = `file ${output}`;
  const file = outputPath(run, output);
  const dir = path.dirname(file);
  try {
    if (!statSync(dir).isDirectory()) return { kind: "file", label, unusable: `--output ${show(output)}: ${dir} is not a directory` };
  } catch (err) {
    return { kind: "file", label, unusable: `--output ${show(output)}: the directory ${dir} ${errorCode(err) === "ENOENT" ? "does not exist" : `cannot be read (${errorCode(err)})`}` };
  }
  try {
    lstatSync(file);
  } catch (err) {
    if (errorCode(err) !== "ENOENT") return { kind: "file", label, unusable: `--output ${show(output)}: ${(err as Error).message}` };
    // access(2) answers for permissions and read-only mounts without writing anything (a dry run only reads).
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (accessErr) {
      return { kind: "file", label, unusable: `--output ${show(output)}: cannot create a file in ${dir} (${errorCode(accessErr)})` };
    }
    return { kind: "file", label, exists: false };
  }
  let holds: string | undefined;
  try {
    holds = documentKeyId(readFileSync(file, "utf8"));
  } catch {
    holds = undefined; // exists but unreadable: it is still never overwritten
  }
  return { kind: "file", label, exists: true, holds };
}

function errorCode(err: unknown): string {
  return (err as { code?: string }).code ?? "error";
}

async function observeDestinations(run: Run): Promise<RotationDestination[]> {
  const { output, secretsManager: id, showSecret } = run.opts;
  const out: RotationDestination[] = [];
  if (output) out.push(observeFile(run, output));
  if (id) {
    const label = `Secrets Manager secret ${id}`;
    let state;
    try {
      state = await readSecret(run.clients.secretsManager(), id);
    } catch (err) {
      throw awsFailure(`checking the secret ${id} (secretsmanager:DescribeSecret, secretsmanager:GetSecretValue)`, err);
    }
    if (!state.exists) {
      out.push({ kind: "secret", label, unusable: `--secrets-manager: there is no secret ${show(id)} (create it first: aws secretsmanager create-secret --name ${id})` });
    } else if (state.scheduledForDeletion) {
      out.push({ kind: "secret", label, unusable: `--secrets-manager: the secret ${show(id)} is scheduled for deletion (restore it first: aws secretsmanager restore-secret --secret-id ${id})` });
    } else {
      run.secretArn = state.arn;
      out.push({ kind: "secret", label, holds: state.holds, foreign: state.foreign, boundTo: state.boundTo });
    }
  }
  if (showSecret) out.push(isStdoutClosed() ? { kind: "stdout", label: "stdout", unusable: "--show-secret: stdout is closed" } : { kind: "stdout", label: "stdout" });
  return out;
}

// -------------------------------------------------------------------------------------------- execute

async function execute(run: Run, plan: RotationPlan): Promise<ExitStatus> {
  const { io } = run;
  for (const w of plan.warnings) io.stderr.write(`keyage: warning: ${w}\n`);
  if (plan.refusal?.kind === "usage") throw new UsageError(plan.refusal.reason);
  if (!run.apply) {
    for (const line of wordPlan(plan)) io.stdout.write(`${line}\n`);
    if (plan.refusal) throw new RefusedError(plan.refusal.reason);
    io.stdout.write("Nothing was changed (dry run). Add --apply to make these changes.\n");
    return EXIT.OK;
  }
  for (const note of plan.notes) io.stdout.write(`${note}\n`);
  let next = plan.next;
  for (const step of plan.steps) {
    const created = await perform(run, plan, step);
    if (created !== undefined && step.kind === "create") next = nextAfterCreate(plan.user, created, step.replacing);
  }
  if (plan.refusal) throw new RefusedError(plan.refusal.reason);
  if (next) io.stdout.write(`Next: ${next}.\n`);
  if (plan.reevaluate) io.stdout.write(`${reevaluateLine(plan.reevaluate)}\n`);
  return EXIT.OK;
}

/** Executes one step and says so; returns the new key's id for a create step. */
async function perform(run: Run, plan: RotationPlan, step: RotationStep): Promise<string | undefined> {
  const user = plan.user;
  switch (step.kind) {
    case "delete": {
      try {
        await deleteAccessKey(run.iam, user, step.key.id);
      } catch (err) {
        throw awsFailure(`deleting ${step.key.id} (iam:DeleteAccessKey)`, err);
      }
      run.io.stdout.write(`${describeStep(step, user, true)}\n`);
      if (step.untag !== undefined) await untagQuietly(run, step.untag);
      return undefined;
    }
    case "deactivate": {
      // The tag goes first: a key that is inactive without it would count its grace from its last use.
      try {
        await tagUser(run.iam, user, step.tag.key, step.tag.value);
      } catch (err) {
        throw awsFailure(`recording on ${user} when ${step.key.id} is deactivated (iam:TagUser)`, err);
      }
      try {
        await setAccessKeyStatus(run.iam, user, step.key.id, "Inactive");
      } catch (err) {
        await untagQuietly(run, step.tag.key);
        throw awsFailure(`deactivating ${step.key.id} (iam:UpdateAccessKey)`, err);
      }
      run.io.stdout.write(`${describeStep(step, user, true)}\n`);
      return undefined;
    }
    case "create":
      return critical(run.io.stderr, () => createAndDeliver(run, plan, step));
    default:
      return step satisfies never;
  }
}

async function untagQuietly(run: Run, tag: string): Promise<void> {
  try {
    await untagUser(run.iam, run.opts.user, tag);
  } catch (err) {
    // A tag left behind is harmless: it is older than any later key with the same last four characters.
    run.io.stderr.write(`keyage: warning: could not remove the tag ${tag} from ${run.opts.user} (${awsErrorName(err) || "Error"}); remove it by hand\n`);
  }
}

/**
 * CreateAccessKey, then deliver the secret to every destination; if any delivery fails, delete the key
 * again (and the file it wrote), so that no valid key is left whose secret nobody holds.
 */
async function createAndDeliver(run: Run, plan: RotationPlan, step: RotationStep & { kind: "create" }): Promise<string> {
  const { io, opts } = run;
  const user = plan.user;
  const where = step.destinations.map((d) => d.label).join(" and ");
  // Create the file first (O_EXCL: fails if anything appeared meanwhile) so that a path problem stops us
  // before a key exists whose secret would have nowhere to go.
  let fd: number | undefined;
  const file = opts.output ? outputPath(run, opts.output) : undefined;
  if (file) {
    try {
      fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch (err) {
      const why = errorCode(err) === "EEXIST" ? "already exists; keyage never overwrites a secret file" : (err as Error).message;
      throw new UsageError(`--output ${show(opts.output)}: ${why}`, { cause: err });
    }
  }
  const discardFile = (): void => {
    try {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      if (file) unlinkSync(file);
    } catch {
      // the file may already be gone; nothing to remove
    }
  };

  let created;
  try {
    created = await createAccessKey(run.iam, user);
  } catch (err) {
    discardFile();
    throw awsFailure(`creating a new access key for ${user} (iam:CreateAccessKey)`, err);
  }
  const { id, secret } = created;
  io.stdout.write(`Created access key ${id} for ${user}.\n`);

  try {
    if (opts.showSecret) {
      io.stdout.write(`AccessKeyId: ${id}\nSecretAccessKey: ${secret}\n`);
      // A write to a closed pipe fails on the next tick: only then is it known whether anyone got it.
      await new Promise((resolve) => setImmediate(resolve));
      if (isStdoutClosed()) throw new CliError("stdout is closed, so the secret printed there reached nobody", EXIT.AWS);
    }
    if (fd !== undefined) {
      writeSync(fd, `${secretDocument(id, secret)}\n`);
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      io.stdout.write(`Wrote it to ${opts.output} (mode 0600).\n`);
    }
    if (opts.secretsManager) {
      let version;
      try {
        version = await putKeySecret(run.clients.secretsManager(), run.secretArn ?? opts.secretsManager, id, secret);
      } catch (err) {
        if (err instanceof SecretUndecidedError) throw err;
        throw awsFailure(`storing the secret in ${opts.secretsManager} (secretsmanager:PutSecretValue)`, err);
      }
      io.stdout.write(`Stored it in Secrets Manager secret ${opts.secretsManager}${version ? ` (version ${version})` : ""}.\n`);
    }
  } catch (err) {
    // Whether Secrets Manager holds the key cannot be told: keep the key and every copy of its secret.
    if (err instanceof SecretUndecidedError) {
      throw new AwsError(
        `${err.message}: the new key ${id} is kept, since the secret may hold it; check the secret, then re-run start ` +
          `(with --replace-undelivered if it does not hold ${id})`,
        { cause: err },
      );
    }
    await takeBack(run, id, err, { file, fileHoldsSecret: file !== undefined && fd === undefined, discardFile, where });
  }
  return id;
}

/** Delivery failed: delete the new key; the key goes first, so a fully written secret file is kept while it may still be valid. */
async function takeBack(
  run: Run,
  id: string,
  err: unknown,
  delivery: { file: string | undefined; fileHoldsSecret: boolean; discardFile: () => void; where: string },
): Promise<never> {
  const code = awsErrorName(err);
  const reason = err instanceof CliError ? err.message : code ? `${code}: ${(err as Error).message}` : (err as Error).message;
  try {
    await deleteAccessKey(run.iam, run.opts.user, id);
  } catch (deleteErr) {
    if (!delivery.fileHoldsSecret) delivery.discardFile();
    const kept = delivery.fileHoldsSecret ? `; its secret is still in ${run.opts.output}` : "";
    throw new AwsError(
      `delivering the secret failed (${reason}), and deleting the new key ${id} failed too (${awsFailure("iam:DeleteAccessKey", deleteErr).message})${kept}: delete the key by hand`,
      { cause: err },
    );
  }
  if (delivery.file) delivery.discardFile();
  run.io.stdout.write(`Deleted ${id} again because its secret could not be delivered.\n`);
  throw new AwsError(`delivering the new secret to ${delivery.where} failed, so the new key was deleted and nothing changed: ${reason}`, { cause: err });
}
