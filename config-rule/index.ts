/**
 * The Lambda entry point of keyage's AWS Config custom rule. `handler` wires the real clients, clock and
 * logger around {@link evaluate}; everything else lives in the modules below.
 *
 * Environment: the standard AWS SDK variables (AWS_REGION, AWS_ENDPOINT_URL_IAM,
 * AWS_ENDPOINT_URL_CONFIG_SERVICE, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_SQS, credentials), `LOG_LEVEL`
 * (debug | info | warn | error, default info), and with `keyage:reevaluateOnChange`
 * `KEYAGE_CHANGE_QUEUE_URL` + `KEYAGE_CHANGE_QUEUE_REGION` (the changes queue, in us-east-1) and, for
 * {@link reevaluate} only, `KEYAGE_CONFIG_RULE_NAME`.
 */
import { ConfigServiceClient } from "@aws-sdk/client-config-service";
import { SQSClient } from "@aws-sdk/client-sqs";
import { defaultClientFactory, SDK_MAX_ATTEMPTS } from "../aws/clients";
import { evaluate, type LambdaContext, type RunSummary } from "./evaluate";
import { jsonLogger, parseLogLevel } from "../aws/log";
import { describeError } from "../aws/errors";
import { startIfChanged, type ChangeQueue, type TickResult } from "./changes";

export { evaluate } from "./evaluate";
export type { EvaluateDeps, LambdaContext, RunSummary } from "./evaluate";
export { changedUser, startIfChanged, drainChanges, keyChangeEventPattern, KEY_CHANGE_EVENTS, MAX_CHANGED_USERS } from "./changes";

// Built once per container, reused by warm invocations.
const clients = defaultClientFactory();
let queue: ChangeQueue | undefined;
let ruleConfig: ConfigServiceClient | undefined;

/** The changes queue from the environment, or undefined when `keyage:reevaluateOnChange` is off. */
function changeQueue(): ChangeQueue | undefined {
  const queueUrl = process.env.KEYAGE_CHANGE_QUEUE_URL;
  if (!queueUrl) return undefined;
  queue ??= { queueUrl, sqs: new SQSClient({ maxAttempts: SDK_MAX_ATTEMPTS, ...(process.env.KEYAGE_CHANGE_QUEUE_REGION ? { region: process.env.KEYAGE_CHANGE_QUEUE_REGION } : {}) }) };
  return queue;
}

/**
 * The Lambda handler: one AWS Config rule invocation. Resolves with the run's summary (without the
 * evaluations themselves, which can be large); rejects, writing nothing, on a bad event or parameters.
 */
export async function handler(event: unknown, context: LambdaContext): Promise<Omit<RunSummary, "evaluations">> {
  const log = jsonLogger({ level: parseLogLevel(process.env.LOG_LEVEL), base: context.awsRequestId ? { requestId: context.awsRequestId } : {} });
  const changes = changeQueue();
  const { evaluations: _sent, ...summary } = await evaluate(event, context, { clients, log, ...(changes ? { changes } : {}) });
  return summary;
}

/**
 * The re-evaluation tick (`keyage:reevaluateOnChange`), run every 5 minutes by a schedule: starts the
 * Config rule `KEYAGE_CONFIG_RULE_NAME` when the changes queue holds messages (see `startIfChanged`).
 * The event is not read. Logs one line; throws on a missing setting or an AWS error other than "a run
 * is in progress" (that one waits for the next tick).
 */
export async function reevaluate(_event: unknown, context: Partial<LambdaContext> = {}): Promise<TickResult> {
  const log = jsonLogger({ level: parseLogLevel(process.env.LOG_LEVEL), base: context.awsRequestId ? { requestId: context.awsRequestId } : {} });
  const changes = changeQueue();
  const ruleName = process.env.KEYAGE_CONFIG_RULE_NAME;
  if (!changes || !ruleName) throw new Error("reevaluate needs KEYAGE_CHANGE_QUEUE_URL and KEYAGE_CONFIG_RULE_NAME");
  ruleConfig ??= new ConfigServiceClient({ maxAttempts: SDK_MAX_ATTEMPTS });
  try {
    const result = await startIfChanged({ ...changes, config: ruleConfig, ruleName });
    log(result.busy ? "warn" : "info", result.started ? "key changes waiting; started the Config rule" : result.busy ? "key changes waiting, but the rule is being evaluated; the next tick starts it" : "no key changes waiting", { configRuleName: ruleName, ...result });
    return result;
  } catch (err) {
    log("error", "re-evaluation tick failed; the next tick tries again", { configRuleName: ruleName, error: describeError(err) });
    throw err;
  }
}
