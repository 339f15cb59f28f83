/**
 * Structured logs: one JSON object per line on stdout. Every line passes through {@link redactKeyIds},
 * so no full access key id reaches a log whatever a field holds; secrets are never handed to the logger.
 */
import { redactKeyIds } from "../aws/errors";

/** A structured log sink: a message and flat fields. */
export type Logger = (level: "debug" | "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) => void;

/** A logger writing `{"level","time","message",...base,...fields}` lines to `write` (default stdout). */
export function jsonLogger(base: Record<string, unknown> = {}, write: (line: string) => void = (line) => void process.stdout.write(line)): Logger {
  return (level, message, fields = {}) => {
    write(`${redactKeyIds(JSON.stringify({ level, time: new Date().toISOString(), message, ...base, ...fields }))}\n`);
  };
}
