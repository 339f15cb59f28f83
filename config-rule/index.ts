/**
 * The Lambda entry point of keyage's AWS Config custom rule. `handler` wires the real clients, clock and
 * logger around {@link evaluate}; everything else lives in the modules below.
 *
 * Environment: the standard AWS SDK variables (AWS_REGION, AWS_ENDPOINT_URL_IAM,
 * AWS_ENDPOINT_URL_CONFIG_SERVICE, AWS_ENDPOINT_URL_STS, credentials), and `LOG_LEVEL`
 * (debug | info | warn | error, default info).
 */
import { defaultClientFactory } from "../aws/clients";
import { evaluate, type LambdaContext, type RunSummary } from "./evaluate";
import { jsonLogger, parseLogLevel } from "../aws/log";

export { evaluate } from "./evaluate";
export type { EvaluateDeps, LambdaContext, RunSummary } from "./evaluate";

// Built once per container, reused by warm invocations.
const clients = defaultClientFactory();

/**
 * The Lambda handler: one AWS Config rule invocation. Resolves with the run's summary (without the
 * evaluations themselves, which can be large); rejects, writing nothing, on a bad event or parameters.
 */
export async function handler(event: unknown, context: LambdaContext): Promise<Omit<RunSummary, "evaluations">> {
  const log = jsonLogger({ level: parseLogLevel(process.env.LOG_LEVEL), base: context.awsRequestId ? { requestId: context.awsRequestId } : {} });
  const { evaluations: _sent, ...summary } = await evaluate(event, context, { clients, log });
  return summary;
}
