/**
 * What the CLI talks to: its output streams, environment, clock, files and AWS clients. Everything the
 * commands do goes through a {@link CliIO}, so tests run the whole CLI in-process with fakes and the real
 * entry point passes `process`'s own.
 */
import type { ClientOptions, Clients } from "../aws/lazy-clients";

export type { ClientOptions, Clients } from "../aws/lazy-clients";

/** An output stream: `process.stdout`, or a string collector in tests. */
export interface Output {
  write(text: string): unknown;
  /** True when the stream is a terminal (colour and progress lines are only used then). */
  readonly isTTY?: boolean;
}

/** Builds the clients for a command (called once per command, only on the paths that reach AWS). */
export type ClientFactory = (options: ClientOptions) => Promise<Clients>;

/** The world as the CLI sees it. Every member but `stdout`/`stderr` has a default (the real thing). */
export interface CliIO {
  readonly stdout: Output;
  readonly stderr: Output;
  /** Environment (NO_COLOR, AWS_REGION…). Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Reads standard input to the end (`--credential-report -`). Default: `process.stdin`. */
  readonly readStdin?: () => Promise<string>;
  /** Clock, epoch ms; `--now` overrides it for audits. Default `Date.now`. */
  readonly now?: () => number;
  /** AWS clients. Default: SDK v3 clients with the standard credential chain, loaded only when needed. */
  readonly clients?: ClientFactory;
  /** Working directory for relative paths. Default `process.cwd()`. */
  readonly cwd?: string;
}

/** Exit statuses. 0–2 are the documented contract (docs/cli.md); 3 is AWS failures. */
export const EXIT = {
  /** Audit: every user compliant. Rotate: the phase did (or, in a dry run, would do) its work. */
  OK: 0,
  /** Audit: at least one user is non-compliant. Rotate: a safety check refused the phase. */
  VIOLATIONS: 1,
  /** Bad usage or bad input (flag, date, file): nothing was done. */
  USAGE: 2,
  /** AWS said no or could not be reached (credentials, permissions, throttling, Security Hub import failures). */
  AWS: 3,
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI reports as one line on stderr with a given exit status, never as a stack trace. */
export class CliError extends Error {
  readonly exitStatus: ExitStatus;
  constructor(message: string, exitStatus: ExitStatus, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitStatus = exitStatus;
  }
}

/** Bad usage or input: exit status 2. */
export class UsageError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.USAGE, options);
  }
}

/** An AWS call failed (credentials, permissions, service errors): exit status 3. */
export class AwsError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.AWS, options);
  }
}

/** A rotate safety check said no (e.g. the old key was used recently): exit status 1. */
export class RefusedError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.VIOLATIONS, options);
  }
}
