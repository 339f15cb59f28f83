/**
 * A fake SQS queue and AWS Config's StartConfigRulesEvaluation on the fake AWS server of `./index`
 * (JSON protocol, `X-Amz-Target: AmazonSQS.*` / `StarlingDoveService.StartConfigRulesEvaluation`), on
 * the fake's clock: what `keyage:reevaluateOnChange` talks to. EventBridge's delivery of a CloudTrail
 * event to the queue is {@link FakeQueue.deliver}.
 *
 * @example
 * const fake = await startFakeAws();
 * const queue = addQueue(fake);
 * queue.deliver(cloudTrailEvent("CreateAccessKey", "alice", fake.accountId));
 * const starts = addRuleStarts(fake);
 */
import { createHash, randomUUID } from "node:crypto";
import { AwsFault, type FakeAws } from "./index";

/** One message held by the queue. */
interface Held {
  readonly id: string;
  readonly body: string;
  receipt?: string;
  /** Epoch ms (fake clock) from which ReceiveMessage may return it. */
  visibleAt: number;
  receives: number;
}

/** The fake's queue (one per fake). Create with {@link addQueue}. */
export class FakeQueue {
  readonly messages: Held[] = [];
  /** Deleted message count. */
  deleted = 0;
  readonly url: string;

  constructor(
    readonly fake: FakeAws,
    readonly name = "keyage-access-key-age-changes",
  ) {
    this.url = `${fake.url}/${fake.accountId}/${name}`;
    fake.extensions.set("AmazonSQS.ReceiveMessage", (p) => this.receive(p));
    fake.extensions.set("AmazonSQS.DeleteMessageBatch", (p) => this.deleteBatch(p));
    fake.extensions.set("AmazonSQS.GetQueueAttributes", () => ({ Attributes: { ApproximateNumberOfMessages: String(this.visible().length) } }));
    fake.extensions.set("AmazonSQS.SendMessage", (p) => ({ MessageId: this.deliver(String(p.MessageBody)) }));
  }

  /** What EventBridge does with a matching event: send it, as JSON, to the queue. Returns the message id. */
  deliver(event: unknown): string {
    const id = randomUUID();
    this.messages.push({ id, body: typeof event === "string" ? event : JSON.stringify(event), visibleAt: 0, receives: 0 });
    return id;
  }

  /** Messages ReceiveMessage would return now. */
  visible(): Held[] {
    const now = this.fake.now();
    return this.messages.filter((m) => m.visibleAt <= now);
  }

  private receive(p: Record<string, unknown>): unknown {
    if (p.QueueUrl !== this.url) throw new AwsFault("AWS.SimpleQueueService.NonExistentQueue", 400, `no queue ${String(p.QueueUrl)}`);
    const max = Number(p.MaxNumberOfMessages ?? 1);
    if (!(max >= 1 && max <= 10)) throw new AwsFault("InvalidParameterValue", 400, "MaxNumberOfMessages must be 1-10");
    const visibility = Number(p.VisibilityTimeout ?? 30);
    const out = this.visible().slice(0, max);
    for (const m of out) {
      m.receipt = randomUUID();
      m.visibleAt = this.fake.now() + visibility * 1000;
      m.receives += 1;
    }
    return { Messages: out.map((m) => ({ MessageId: m.id, ReceiptHandle: m.receipt, MD5OfBody: createHash("md5").update(m.body).digest("hex"), Body: m.body })) };
  }

  private deleteBatch(p: Record<string, unknown>): unknown {
    const entries = (p.Entries as { Id: string; ReceiptHandle: string }[] | undefined) ?? [];
    if (entries.length < 1 || entries.length > 10) throw new AwsFault("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400, "1-10 entries");
    const Successful: { Id: string }[] = [];
    const Failed: { Id: string; Code: string; SenderFault: boolean }[] = [];
    for (const e of entries) {
      const i = this.messages.findIndex((m) => m.receipt === e.ReceiptHandle);
      if (i < 0) Failed.push({ Id: e.Id, Code: "ReceiptHandleIsInvalid", SenderFault: true });
      else {
        this.messages.splice(i, 1);
        this.deleted += 1;
        Successful.push({ Id: e.Id });
      }
    }
    return { Successful, Failed };
  }
}

/** Adds the queue to the fake (SQS actions answered by it). */
export function addQueue(fake: FakeAws, name?: string): FakeQueue {
  return new FakeQueue(fake, name);
}

/**
 * AWS Config's StartConfigRulesEvaluation: `accepted` lists when a start was accepted (fake clock),
 * `refused` when it was refused with LimitExceededException because a run was in progress (until
 * `busyUntil`, or while `onStart` is running one).
 */
export class FakeRuleStarts {
  readonly accepted: number[] = [];
  readonly refused: number[] = [];
  /** A run of the rule is in progress until this time (fake clock). */
  busyUntil = 0;
  /** Runs the evaluation Config would invoke; called after a start is accepted and answered. */
  onStart?: () => Promise<void>;
  /** Runs started by {@link onStart} (awaited by {@link settle}). */
  private readonly pending: Promise<void>[] = [];

  constructor(readonly fake: FakeAws) {
    fake.extensions.set("StarlingDoveService.StartConfigRulesEvaluation", (p) => this.start(p));
  }

  private start(p: Record<string, unknown>): unknown {
    const names = (p.ConfigRuleNames as string[] | undefined) ?? [];
    if (names.length < 1 || names.length > 25) throw new AwsFault("InvalidParameterValueException", 400, "ConfigRuleNames: 1-25 names");
    if (this.fake.now() < this.busyUntil) {
      this.refused.push(this.fake.now());
      throw new AwsFault("LimitExceededException", 400, `The rule ${names[0]} is currently being evaluated.`);
    }
    this.accepted.push(this.fake.now());
    if (this.onStart) this.pending.push(new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.onStart?.()));
    return {};
  }

  /** Waits for the runs started so far. */
  async settle(): Promise<void> {
    await Promise.all(this.pending.splice(0));
  }
}

/** Adds StartConfigRulesEvaluation to the fake. */
export function addRuleStarts(fake: FakeAws): FakeRuleStarts {
  return new FakeRuleStarts(fake);
}

/**
 * An EventBridge event as CloudTrail sends it for an IAM call (detail-type "AWS API Call via
 * CloudTrail", source aws.iam, Region us-east-1): `userName` as the call's UserName parameter.
 */
export function cloudTrailEvent(eventName: string, userName: string, accountId: string, at = new Date(), extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "AWS API Call via CloudTrail",
    source: "aws.iam",
    account: accountId,
    time: at.toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: "us-east-1",
    resources: [],
    detail: {
      eventVersion: "1.09",
      userIdentity: { type: "AssumedRole", accountId, principalId: "AROAEXAMPLE:keyage-rotator" },
      eventTime: at.toISOString().replace(/\.\d{3}Z$/, "Z"),
      eventSource: "iam.amazonaws.com",
      eventName,
      awsRegion: "us-east-1",
      requestParameters: { userName },
      responseElements: null,
      ...extra,
    },
  };
}
