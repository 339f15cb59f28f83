/**
 * Keeps the process alive through work that must not stop half-way (a created key must be delivered or
 * deleted again): a closed stdout never ends a command early, and SIGINT, SIGTERM or
 * SIGHUP received inside a critical section are held until it ends, then delivered again so the process
 * still dies of the signal (a non-zero status) once nothing is left half-done.
 */
import type { Output } from "./io";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type HeldSignal = (typeof SIGNALS)[number];

let stdoutClosed = false;
let held: HeldSignal | undefined;

/**
 * Called by the entry point when writing to stdout failed (EPIPE: `keyage … | head`). The command still
 * runs to its end and its exit status stands (violations found, a rotation's outcome); only its output
 * is dropped.
 */
export function stdoutFailed(): void {
  stdoutClosed = true;
}

/** True once a write to stdout failed: what was written since may not have reached anyone. */
export function isStdoutClosed(): boolean {
  return stdoutClosed;
}

/**
 * Runs `fn` with SIGINT, SIGTERM and SIGHUP held: a signal received meanwhile is noted on `stderr` and
 * kept for {@link deliverHeldSignal}. The handlers are removed when `fn` settles.
 */
export async function critical<T>(stderr: Output, fn: () => Promise<T>): Promise<T> {
  const onSignal = (signal: HeldSignal): void => {
    held ??= signal;
    stderr.write(`keyage: ${signal} received: finishing the delivery of the new key first (or deleting it again)\n`);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    return await fn();
  } finally {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  }
}

/**
 * Delivers a held signal again, now with its default action (the process dies of it, status 128 + n).
 * Called by the entry point after the command's last line was written.
 */
export function deliverHeldSignal(): void {
  if (held === undefined) return;
  const signal = held;
  held = undefined;
  process.kill(process.pid, signal);
}
