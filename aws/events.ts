/**
 * Publishing keyage's events to EventBridge (PutEvents, at most 10 entries a call). Throttling is the
 * SDK's (its retry strategy); entries EventBridge answers as failed are sent again, a bounded number of
 * times, since the SDK cannot know about them.
 */
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { CallCounter } from "./calls";
import { describeError } from "./errors";

/** EventBridge's limit of entries per PutEvents call. */
export const PUT_EVENTS_BATCH = 10;
/** Default tries per entry that EventBridge answers as failed. */
export const PUT_EVENTS_ATTEMPTS = 3;

/** What {@link putEvents} achieved. */
export interface PublishResult {
  readonly published: number;
  readonly failed: number;
  /** Why entries failed (error codes, or the SDK error), distinct. */
  readonly errors: readonly string[];
}

/**
 * Sends `entries` in batches of {@link PUT_EVENTS_BATCH}; entries answered as failed are sent again up
 * to `attempts` tries in all (default {@link PUT_EVENTS_ATTEMPTS}). A call that fails outright (after the
 * SDK's retries) fails its batch; other batches are still sent. Never throws.
 *
 * @example
 * await putEvents(new EventBridgeClient({}), [{ Source: "keyage", DetailType: "Access Key Expiring", Detail: "{}" }]);
 */
export async function putEvents(
  client: EventBridgeClient,
  entries: readonly PutEventsRequestEntry[],
  calls: CallCounter = new CallCounter(),
  attempts: number = PUT_EVENTS_ATTEMPTS,
): Promise<PublishResult> {
  let published = 0;
  const errors = new Set<string>();
  for (let start = 0; start < entries.length; start += PUT_EVENTS_BATCH) {
    let batch = entries.slice(start, start + PUT_EVENTS_BATCH);
    for (let attempt = 1; batch.length > 0; attempt += 1) {
      calls.add("PutEvents");
      let answer;
      try {
        answer = await client.send(new PutEventsCommand({ Entries: batch }));
      } catch (err) {
        errors.add(describeError(err));
        break;
      }
      const results = answer.Entries ?? [];
      const retry = batch.filter((_, i) => results[i]?.ErrorCode !== undefined || results[i]?.EventId === undefined);
      for (const r of results) if (r.ErrorCode) errors.add(`${r.ErrorCode}${r.ErrorMessage ? `: ${r.ErrorMessage}` : ""}`);
      published += batch.length - retry.length;
      batch = attempt < attempts ? retry : [];
    }
  }
  return { published, failed: entries.length - published, errors: [...errors] };
}
