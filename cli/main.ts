#!/usr/bin/env node
/**
 * The `keyage` command. `run(argv, io)` is the whole CLI (tests call it in-process); the bottom of the
 * file wires it to `process` when this file is the entry point.
 *
 * Start-up time matters (an offline audit of 5 000 users targets 0.3 s for the whole process), so this
 * file loads only commander: each command's module, and the AWS SDK, are required inside its action.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
// The pure list reader only (no csv-parse, no SDK): start-up stays at commander.
import { parseList } from "../shared/params";
import { deliverHeldSignal, stdoutFailed } from "./guard";
import { CliError, EXIT, type CliIO } from "./io";
import { keyageVersion } from "./version";

/**
 * `--exempt` takes what every other exemption list takes (names separated by blanks, or a JSON array),
 * and repeats: `--exempt "alice bob" --exempt carol` exempts three users. Entries are checked later, with
 * the other flags, by the shared validator.
 */
function collectExemptions(value: string, previous: unknown[] | undefined): unknown[] {
  try {
    return [...(previous ?? []), ...parseList(value, "--exempt", "user names")];
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/**
 * Commander's own errors as one line, naming the command and where help is. Commander puts its
 * suggestion on a line of its own ("unknown option '--formt'\n(Did you mean --format?)"); it is
 * folded into the same line so that scripts and log lines keep the whole message.
 */
function oneLineError(commanderMessage: string, name: string): string {
  const text = commanderMessage
    .replace(/^error: /, "")
    .replace(/\s*\(Did you mean (.+?)\)\s*$/s, ", did you mean $1")
    .replace(/\s*\n\s*/g, " ")
    .trim();
  return `${name}: ${text} (see \`${name} --help\`)\n`;
}

function configure(cmd: Command, io: CliIO, name: string): Command {
  return cmd
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(oneLineError(s, name)),
    });
}

const ROTATE_EPILOG = `
Phases (each a dry run until --apply; run them days apart):
  start    create a second key and deliver its secret (--secrets-manager or --output)
  finish   deactivate the old key once it has been unused for --grace hours (default 24)
  cleanup  delete inactive keys --grace hours (default 168, a week) after keyage deactivated them
           and after their last use
A re-run after an interruption reads the user's keys from IAM and carries on from there.`;

function buildProgram(io: CliIO, done: (status: number) => void): Command {
  const program = configure(new Command("keyage"), io, "keyage")
    .description("Keep AWS IAM user access keys from living too long: audit them, rotate them safely.")
    .version(keyageVersion(), "-V, --version")
    .showSuggestionAfterError(true)
    .helpCommand(false); // replaced by the one at the end, which reads a whole path

  configure(program.command("audit"), io, "keyage audit")
    .description("Audit access key ages: of the live account, or of a credential report (offline).")
    .option("--credential-report <file>", "credential report CSV (console download or decoded get-credential-report); - reads stdin")
    .option("--allow-partial-report", "accept a credential report without its <root_account> row (a deliberate extract); the root user then goes unchecked")
    .addOption(new Option("--max-age-days <n>", "keys older than this many days are violations (1-3650)").default("30", "30"))
    .option("--warn-days <n>", "flag keys this many days before the limit (default 7)")
    .option("--max-unused-days <n>", "active keys neither used nor created within this many days are violations (1-3650; default off; CIS 1.12 uses 45)")
    .option("--now <iso-8601>", "evaluate at this instant instead of now, e.g. 2026-11-29T12:00:00Z")
    .addOption(new Option("--format <format>", "output format").choices(["table", "json", "csv", "asff", "ocsf", "html"]).default("table"))
    .addOption(
      new Option(
        "--exempt <users>",
        'exempt users: USER or USER:YYYY-MM-DD (until the end of that day, UTC); several separated by blanks ("alice bob:2027-01-31") or as a JSON array; repeatable',
      )
        .argParser(collectExemptions)
        .default([], "none"),
    )
    .option("--profile <profile>", "AWS profile (live audit, --security-hub)")
    .option("--region <region>", "AWS region (live audit, --security-hub, the ProductArn of asff findings)")
    .option("--security-hub", "also import one finding per user into AWS Security Hub (BatchImportFindings)")
    .option("--policy-config <file>", "read maxAgeDays, warnDays and exemptions from a policy pack config file (flags win)")
    .option("--organization", "audit every ACTIVE account of the organization (from the management or a delegated administrator account)")
    .option("--role-name <name>", "with --organization: the read-only audit role to assume in each account")
    .option("--accounts <ids>", "with --organization: only these accounts (12-digit ids, separated by blanks or commas); skips organizations:ListAccounts")
    .option("--exclude-accounts <ids>", "with --organization: leave these accounts out")
    .addHelpText(
      "after",
      "\nExit status: 0 all compliant, 1 violations found, 2 bad usage or input, 3 AWS error (incl. rejected Security Hub findings, and an --organization audit that could not audit every account).",
    )
    .action(async (opts, cmd: Command) => {
      const { runAudit } = await import("./audit");
      const { withPolicyConfig } = await import("./policy-config");
      done(await runAudit(await withPolicyConfig(opts, (name) => cmd.getOptionValueSource(name), io), io));
    });

  const rotate = configure(program.command("rotate"), io, "keyage rotate")
    .description("Rotate a user's access key safely, in phases: start, finish, cleanup.")
    .addHelpText("after", ROTATE_EPILOG);
  const phase = (name: "start" | "finish" | "cleanup", description: string, grace: string): Command =>
    configure(rotate.command(name), io, `keyage rotate ${name}`)
      .description(description)
      .requiredOption("--user <name>", "IAM user name")
      .option("--apply", "make the changes (without it: a dry run that only reads)")
      .option("--grace <hours>", `hours a key must have been unused (default ${grace})`)
      .option("--profile <profile>", "AWS profile")
      .option("--region <region>", "AWS region")
      .addHelpText(
        "after",
        "\nExit status: 0 done (or would be done), 1 refused by a safety check, 2 bad usage, 3 AWS error.",
      );
  phase("start", "Create a new access key and deliver its secret; the old key stays active.", "168 for --delete-inactive, 24 for --replace-undelivered")
    .option("--secrets-manager <secret-id>", "store {AccessKeyId, SecretAccessKey} as the secret's new value")
    .option("--output <file>", "write {AccessKeyId, SecretAccessKey} to a new file (mode 0600, never overwritten)")
    .option("--show-secret", "also print the secret access key on stdout")
    .option("--delete-inactive", "if the user already has two keys, first delete the inactive one (once deletable, as in cleanup)")
    .option(
      "--replace-undelivered",
      "deactivate a newer key that was never used, is older than --grace hours (default 24) and whose secret the --secrets-manager secret does not hold",
    )
    .option(
      "--force",
      "store in a --secrets-manager secret bound (keyage:rotate tag) to another user or holding a value that is not a keyage document of this user's keys; with --delete-inactive: delete even though the remaining active key was never used",
    )
    .action(async (opts) => done(await (await import("./rotate")).runRotate("start", opts, io)));
  phase("finish", "Deactivate the old access key once it is no longer used.", "24")
    .option("--config-rule-name <name>", "the AWS Config rule to re-evaluate afterwards (default keyage-access-key-age)")
    .action(async (opts) => done(await (await import("./rotate")).runRotate("finish", opts, io)));
  phase("cleanup", "Delete inactive access keys that have stayed unused.", "168")
    .option("--force", "delete even though the remaining active key was never used (the switch to it may have failed)")
    .action(async (opts) => done(await (await import("./rotate")).runRotate("cleanup", opts, io)));
  // Commander's own help command reads one name only, so `keyage help rotate start` showed rotate's help.
  configure(program.command("help [command...]"), io, "keyage help")
    .description("display help for a command, e.g. `keyage help rotate start`")
    .action(async (names: string[]) => {
      let cmd: Command = program;
      for (const name of names) {
        const sub = cmd.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (sub === undefined) {
          if (cmd.commands.length === 0) cmd.error(`unknown command '${name}' (${cmd.name()} has no commands)`, { code: "commander.unknownCommand" });
          // Let commander report it as it reports any unknown command, with its "did you mean" suggestion.
          await cmd.parseAsync([name], { from: "user" });
          return;
        }
        cmd = sub;
      }
      cmd.help();
    });
  return program;
}

/**
 * Runs the CLI with `argv` (the arguments after `keyage`) and returns the exit status (see {@link EXIT}).
 * Every failure becomes one line on `io.stderr` and status 2 (usage, input) or 3 (AWS); nothing throws.
 *
 * @example const status = await run(["audit", "--credential-report", "report.csv"], { stdout: process.stdout, stderr: process.stderr });
 */
export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  let status: number = EXIT.OK;
  const program = buildProgram(io, (s) => {
    status = s;
  });
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT.USAGE;
    }
    await program.parseAsync([...argv], { from: "user" });
    return status;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0; the message has already been written.
      if (err.exitCode === 0) return EXIT.OK;
      if (err.code === "commander.help" || err.code === "commander.helpDisplayed") return EXIT.USAGE;
      return EXIT.USAGE;
    }
    if (err instanceof CliError) {
      io.stderr.write(`keyage: ${err.message}\n`);
      return err.exitStatus;
    }
    // A bug, not a user error: still one line, with the stack only on request.
    const env = io.env ?? process.env;
    const e = err as Error;
    // Its first line only: Node's "Cannot find module" goes on with the whole require stack.
    const first = String(e?.message ?? err).split("\n")[0]?.trim();
    io.stderr.write(`keyage: internal error: ${first} (set KEYAGE_DEBUG=1 for details)\n`);
    if (env.KEYAGE_DEBUG) io.stderr.write(`${e?.stack ?? ""}\n`);
    return EXIT.AWS;
  }
}

if (require.main === module) {
  // The SDK's multi-line "Node 20 support ends" notice would break the one-line-on-stderr promise; the
  // package declares its own engines, so keyage keeps stderr for its own messages.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  // `keyage audit | head` closes the pipe early: that is not an error worth a stack trace, nor a reason to
  // stop. Every command runs on to its end, its output dropped, so the exit status is always the real one
  // (violations found; a created key delivered or deleted again), whoever stopped reading.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE" || err.code === "ERR_STREAM_DESTROYED") {
      stdoutFailed();
      return;
    }
    throw err;
  });
  run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then((status) => {
    process.exitCode = status;
    // A signal held while a new key was being delivered ends the process now, after the last message.
    deliverHeldSignal();
  });
}
