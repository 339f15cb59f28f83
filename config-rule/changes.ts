/**
 * Change-driven re-evaluation (`keyage:reevaluateOnChange`). IAM key changes reach an SQS queue in
 * us-east-1 as EventBridge's CloudTrail events; a tick every few minutes starts the Config rule when that
 * queue holds anything ({@link startIfChanged}); the rule's run reads the queue ({@link drainChanges}),
 * confirms the users it names with ListAccessKeys, and deletes what it read once it has written
 * ({@link acknowledgeChanges}).
 *
 * Events are hints, never verdicts: anyone who can call IAM in the account (or send to the queue) can
 * make one. A message only names a user to read live; what it says about keys is never used, and at most
 * {@link MAX_CHANGED_USERS} users are named per run.
 */
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { StartConfigRulesEvaluationCommand, type ConfigServiceClient } from "@aws-sdk/client-config-service";
import { awsErrorName, describeError } from "../aws/errors";
import { pool, type CallCounter } from "../aws/calls";
import { KEY_CHANGE_EVENTS } from "../shared/key-changes";

export { CLOUDTRAIL_DETAIL_TYPE, IAM_EVENTS_REGION, KEY_CHANGE_EVENTS, keyChangeEventPattern } from "../shared/key-changes";

/**
 * Most users one run confirms because the queue named them (one ListAccessKeys each). Beyond it the run
 * names none of the rest and treats the credential report as stale instead: every user whose report row
 * could hide a change is confirmed, as for any report older than 15 minutes (verdicts stay right; an
 * annotation may still name a key deleted since, until the next run).
 */
export const MAX_CHANGED_USERS = 500;
/** ReceiveMessage calls per run at most (10 messages each). */
export const MAX_RECEIVE_CALLS = 100;

const USER_NAME = /^[\w+=,.@-]{1,64}$/;

function field(value: unknown, ...path: string[]): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/**
 * The IAM user an EventBridge CloudTrail event (an SQS message body) names, or undefined when it names
 * none keyage reads: not JSON, not one of {@link KEY_CHANGE_EVENTS}, a failed call, another account than
 * `accountId` (when given), or no valid user name. The user is `requestParameters.userName`, else
 * `responseElements.accessKey.userName`, else the calling IAM user (a call without `UserName` acts on
 * the caller). Nothing else of the event is used.
 */
export function changedUser(body: string, accountId?: string): string | undefined {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    return undefined;
  }
  const detail = field(event, "detail");
  const name = field(detail, "eventName");
  if (typeof name !== "string" || !(KEY_CHANGE_EVENTS as readonly string[]).includes(name)) return undefined;
  if (field(detail, "errorCode") !== undefined) return undefined;
  const account = field(event, "account");
  if (accountId !== undefined && typeof account === "string" && account !== accountId) return undefined;
  const caller = field(detail, "userIdentity", "type") === "IAMUser" ? field(detail, "userIdentity", "userName") : undefined;
  const user = field(detail, "requestParameters", "userName") ?? field(detail, "responseElements", "accessKey", "userName") ?? caller;
  return typeof user === "string" && USER_NAME.test(user) ? user : undefined;
}

/** Where the changes queue is, and the client to read it with (its Region: us-east-1). */
export interface ChangeQueue {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
}

/** What {@link drainChanges} read. */
export interface DrainedChanges {
  /** Users named (at most {@link MAX_CHANGED_USERS}). */
  readonly users: ReadonlySet<string>;
  /**
   * False when more users were named than the cap, or the queue was not read to its end (the cap on
   * receive calls, or the deadline): the run then treats the credential report as stale.
   */
  readonly complete: boolean;
  /** Messages read. */
  readonly messages: number;
  /** Messages that named no user keyage reads (ignored, deleted with the rest). */
  readonly ignored: number;
  /** Receipt handles of every message read, for {@link acknowledgeChanges}. */
  readonly receipts: readonly string[];
}

/**
 * Reads the changes queue until it is empty, {@link MAX_RECEIVE_CALLS} calls, more than
 * {@link MAX_CHANGED_USERS} users, or `timeLeft()` is false. Messages stay invisible for
 * `visibilitySeconds` (the rest of the run) and come back if the run does not delete them.
 */
export async function drainChanges(
  queue: ChangeQueue,
  options: { readonly calls: CallCounter; readonly timeLeft: () => boolean; readonly visibilitySeconds: number; readonly accountId?: string; readonly waitSeconds?: number },
): Promise<DrainedChanges> {
  const users = new Set<string>();
  const receipts: string[] = [];
  let ignored = 0;
  let overflow = false;
  for (let call = 0; ; call += 1) {
    if (call >= MAX_RECEIVE_CALLS || !options.timeLeft()) return { users, complete: false, messages: receipts.length, ignored, receipts };
    options.calls.add("ReceiveMessage");
    const out = await queue.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.queueUrl,
        MaxNumberOfMessages: 10,
        // Long polling asks every SQS server, so an empty answer means an empty queue (short polling may miss messages).
        WaitTimeSeconds: options.waitSeconds ?? 1,
        VisibilityTimeout: Math.max(30, Math.min(43_200, Math.ceil(options.visibilitySeconds))),
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return { users, complete: !overflow, messages: receipts.length, ignored, receipts };
    for (const m of messages) {
      if (m.ReceiptHandle) receipts.push(m.ReceiptHandle);
      const user = changedUser(m.Body ?? "", options.accountId);
      if (user === undefined) ignored += 1;
      else if (users.size < MAX_CHANGED_USERS || users.has(user)) users.add(user);
      else overflow = true;
    }
  }
}

/** Deletes the messages a run read (DeleteMessageBatch, 10 a call, 4 calls at once). Returns how many SQS did not delete. */
export async function acknowledgeChanges(queue: ChangeQueue, receipts: readonly string[], calls: CallCounter): Promise<number> {
  let failed = 0;
  const batches: string[][] = [];
  for (let i = 0; i < receipts.length; i += 10) batches.push(receipts.slice(i, i + 10));
  await pool(batches, 4, async (batch) => {
    calls.add("DeleteMessageBatch");
    const entries = batch.map((handle, n) => ({ Id: String(n), ReceiptHandle: handle }));
    try {
      const out = await queue.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queue.queueUrl, Entries: entries }));
      failed += out.Failed?.length ?? 0;
    } catch {
      // Not deleted: the messages come back after their visibility timeout and the next run reads them again.
      failed += entries.length;
    }
  });
  return failed;
}

/** What one tick of {@link startIfChanged} did. */
export interface TickResult {
  /** Messages waiting in the queue (visible ones; those a run is reading are not counted). */
  readonly waiting: number;
  /** True when StartConfigRulesEvaluation accepted the start. */
  readonly started: boolean;
  /** Set when Config refused because the rule is being evaluated: the next tick tries again. */
  readonly busy?: string;
}

/**
 * One tick of the re-evaluation schedule: when the changes queue holds messages, start the Config rule
 * (`StartConfigRulesEvaluation`). The queue is the state: a run deletes what it read, so a burst of
 * changes costs one start per tick at most, and nothing is started while the queue is empty. Config
 * refuses a start while the rule is being evaluated (LimitExceededException): the messages stay, and
 * the next tick starts the rule again. Any other error is thrown (the tick fails and is retried by the
 * next one). Message content is never read here.
 */
export async function startIfChanged(deps: { readonly sqs: SQSClient; readonly queueUrl: string; readonly config: ConfigServiceClient; readonly ruleName: string; readonly calls?: CallCounter }): Promise<TickResult> {
  deps.calls?.add("GetQueueAttributes");
  const attrs = await deps.sqs.send(new GetQueueAttributesCommand({ QueueUrl: deps.queueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }));
  const waiting = Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0) || 0;
  if (waiting === 0) return { waiting, started: false };
  try {
    deps.calls?.add("StartConfigRulesEvaluation");
    await deps.config.send(new StartConfigRulesEvaluationCommand({ ConfigRuleNames: [deps.ruleName] }));
    return { waiting, started: true };
  } catch (err) {
    if (awsErrorName(err) === "LimitExceededException") return { waiting, started: false, busy: describeError(err) };
    throw err;
  }
}
