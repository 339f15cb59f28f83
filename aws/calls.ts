/** Small helpers of the AWS layer: call counting, a bounded-concurrency pool, backoff. No SDK import. */

/**
 * SDK attempts per call, for every client keyage builds: the SDK's standard retry mode owns throttling
 * and network errors; keyage's own loops retry only what the SDK cannot know about.
 */
export const SDK_MAX_ATTEMPTS = 4;

/** Counts AWS API calls by action (one per `send`; the SDK's own retries are not counted). */
export class CallCounter {
  private readonly counts = new Map<string, number>();

  /** Counts one call of `action`. */
  add(action: string, n = 1): void {
    this.counts.set(action, (this.counts.get(action) ?? 0) + n);
  }

  /** Adds another tally (e.g. the IAM reader's) into this one. */
  merge(other: Record<string, number>): void {
    for (const [action, n] of Object.entries(other)) this.add(action, n);
  }

  /** Total calls. */
  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** `{ action: count }`, actions sorted by name. */
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** Runs `fn` over `items`, at most `concurrency` at a time. Rejects with the first error (after the rest settle). */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const index = next;
      next += 1;
      try {
        await fn(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), items.length) }, worker));
  if (failure) throw failure.error;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Exponential backoff with full jitter: a random pause in [0, min(cap, base × 2^attempt)]. */
export function backoff(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}
