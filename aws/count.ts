/**
 * Counting a client's calls where they happen: a middleware on the SDK client's stack adds one per
 * command sent (the SDK's own retries are one call), so a run's tally covers every read and write
 * whichever helper made it.
 */
import type { CallCounter } from "./calls";

/** The part of an SDK v3 client this needs. */
export interface CountableClient {
  readonly middlewareStack: {
    add(
      middleware: (next: (args: never) => Promise<unknown>, context: { commandName?: string }) => (args: never) => Promise<unknown>,
      options: { step: "initialize"; name: string; override: boolean },
    ): void;
    remove(name: string): boolean;
  };
}

const NAME = "keyageCallCounter";

/**
 * Counts every command `client` sends into `calls` (by action: `ListUsers`, `PutEvents`…) until the
 * returned function is called. A client counts into one tally at a time: a later call replaces it.
 *
 * @example
 * const stop = countCalls(iam, calls);
 * try { await run(); } finally { stop(); }
 */
export function countCalls(client: CountableClient, calls: CallCounter): () => void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.add((context.commandName ?? "Unknown").replace(/Command$/, ""));
      return next(args);
    },
    { step: "initialize", name: NAME, override: true },
  );
  return () => void client.middlewareStack.remove(NAME);
}
