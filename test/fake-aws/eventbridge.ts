/**
 * A fake EventBridge on the fake AWS server of `./index` (JSON 1.1 protocol, `X-Amz-Target:
 * AWSEvents.PutEvents`): it keeps every event put, enforces PutEvents' 10-entry limit, and can answer
 * entries as failed. Point the SDK at it with {@link FakeAws.env} (AWS_ENDPOINT_URL_EVENTBRIDGE).
 *
 * @example
 * const fake = await startFakeAws();
 * const bus = addEventBridge(fake);
 * // … run the rotator …
 * assert.deepEqual(bus.events.map((e) => e.detailType), ["Access Key Expiring"]);
 */
import { randomUUID } from "node:crypto";
import { AwsFault, type FakeAws } from "./index";

/** One event as received. */
export interface FakeEvent {
  readonly source: string;
  readonly detailType: string;
  /** The parsed `Detail`. */
  readonly detail: Record<string, unknown>;
  /** `Detail` as sent. */
  readonly raw: string;
  readonly resources: readonly string[];
  readonly eventBusName?: string;
}

/** The fake's EventBridge. Create with {@link addEventBridge}. */
export class FakeEventBridge {
  /** Every event accepted, in order. */
  readonly events: FakeEvent[] = [];
  /** Entries per PutEvents request, in order. */
  readonly batches: number[] = [];
  private failNext = 0;

  constructor(readonly fake: FakeAws) {
    fake.extensions.set("AWSEvents.PutEvents", (p) => this.put(p));
  }

  /** The next `count` entries (over any requests) are answered as failed (`InternalFailure`), not kept. */
  failEntries(count: number): void {
    this.failNext = count;
  }

  private put(p: Record<string, unknown>): unknown {
    const entries = (p.Entries as Record<string, unknown>[] | undefined) ?? [];
    if (entries.length < 1 || entries.length > 10) throw new AwsFault("ValidationException", 400, `Entries: 1 to 10 entries, got ${entries.length}`);
    this.batches.push(entries.length);
    const results = entries.map((e) => {
      for (const field of ["Source", "DetailType", "Detail"]) {
        if (typeof e[field] !== "string") return { ErrorCode: "MalformedDetail", ErrorMessage: `${field} is required` };
      }
      if (this.failNext > 0) {
        this.failNext -= 1;
        return { ErrorCode: "InternalFailure", ErrorMessage: "injected" };
      }
      let detail: Record<string, unknown>;
      try {
        detail = JSON.parse(String(e.Detail)) as Record<string, unknown>;
      } catch {
        return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is not valid JSON" };
      }
      this.events.push({
        source: String(e.Source),
        detailType: String(e.DetailType),
        detail,
        raw: String(e.Detail),
        resources: (e.Resources as string[] | undefined) ?? [],
        eventBusName: typeof e.EventBusName === "string" ? e.EventBusName : undefined,
      });
      return { EventId: randomUUID() };
    });
    return { FailedEntryCount: results.filter((r) => "ErrorCode" in r).length, Entries: results };
  }
}

/** Adds EventBridge to a running fake. */
export function addEventBridge(fake: FakeAws): FakeEventBridge {
  return new FakeEventBridge(fake);
}
