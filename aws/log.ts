/**
 * Structured logs: one JSON object per line on stdout (CloudWatch Logs stores each as an event, and
 * Logs Insights parses the fields). Every line passes through {@link redactKeyIds}, so no full access key
 * id can reach a log, whatever a field holds; secrets are never handed to the logger in the first place.
 */
import { redactKeyIds } from "./errors";

/** Log levels, least to most severe. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A structured log sink: a message and flat fields. */
export type Logger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/** Options of {@link jsonLogger}. */
export interface JsonLoggerOptions {
  /** Where lines go. Default `process.stdout.write`. */
  readonly write?: (line: string) => void;
  /** Clock for the `time` field. Default `Date.now`. */
  readonly now?: () => number;
  /** Lowest level written. Default `info`. */
  readonly level?: LogLevel;
  /** Fields added to every line (e.g. the request id). Default none. */
  readonly base?: Record<string, unknown>;
}

/**
 * A logger writing `{"level","time","message",...base,...fields}` lines.
 *
 * @example jsonLogger({ base: { requestId } })("info", "run summary", { users: 12 })
 */
export function jsonLogger(options: JsonLoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const now = options.now ?? Date.now;
  const min = LOG_LEVELS.indexOf(options.level ?? "info");
  const base = options.base ?? {};
  return (level, message, fields = {}) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    let line: string;
    try {
      line = JSON.stringify({ level, time: new Date(now()).toISOString(), message, ...base, ...fields });
    } catch {
      line = JSON.stringify({ level, time: new Date(now()).toISOString(), message, note: "fields could not be serialised" });
    }
    write(`${redactKeyIds(line)}\n`);
  };
}

/** Reads a level name (e.g. from `LOG_LEVEL`), case-insensitively; `fallback` when absent or unknown. */
export function parseLogLevel(value: string | undefined, fallback: LogLevel = "info"): LogLevel {
  const lower = value?.trim().toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(lower ?? "") ? (lower as LogLevel) : fallback;
}
