/**
 * The Lambda entry point of keyage's scheduled rotator. `handler` wires the real clients, clock and
 * logger around {@link runRotator}; the payload (the schedule's input) holds the settings.
 *
 * Environment: the standard AWS SDK variables (AWS_REGION, AWS_ENDPOINT_URL_IAM,
 * AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_EVENTBRIDGE, credentials).
 */
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { IAMClient } from "@aws-sdk/client-iam";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SDK_MAX_ATTEMPTS } from "../aws/calls";
import { jsonLogger, parseLogLevel } from "../aws/log";
import { runRotator, type RotatorClients, type RotatorSummary } from "./run";
import { parseSettings } from "./settings";

export { runRotator, ROTATE_TAG, OWNER_TAG } from "./run";
export type { RotatorClients, RotatorDeps, RotatorSummary } from "./run";
export { parseSettings, ROTATOR_MODES, RotatorSettingsError } from "./settings";
export type { RotatorMode, RotatorSettings } from "./settings";
export { DETAIL_TYPES, EVENT_SOURCE } from "./events";
export type { KeyEventDetail } from "./events";

/** The part of the Lambda context the rotator uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  readonly awsRequestId?: string;
}

let clients: RotatorClients | undefined;

/**
 * The Lambda handler: one scheduled run. Resolves with the run's summary (without the events sent);
 * rejects, changing nothing, when the payload's settings are invalid.
 */
export async function handler(event: unknown, context: LambdaContext): Promise<Omit<RotatorSummary, "sent">> {
  const settings = parseSettings(event);
  // Built once per container, reused by warm invocations.
  clients ??= {
    iam: new IAMClient({ maxAttempts: SDK_MAX_ATTEMPTS }),
    secrets: new SecretsManagerClient({ maxAttempts: SDK_MAX_ATTEMPTS }),
    events: new EventBridgeClient({ maxAttempts: SDK_MAX_ATTEMPTS }),
  };
  const log = jsonLogger({ level: parseLogLevel(process.env.LOG_LEVEL), base: context.awsRequestId ? { requestId: context.awsRequestId } : {} });
  // Keep a quarter of the time (1–10 s) for publishing the events.
  const reserveMs = Math.min(10_000, Math.max(1_000, context.getRemainingTimeInMillis() / 4));
  const { sent: _sent, ...summary } = await runRotator({ clients, settings, log, remainingMs: () => context.getRemainingTimeInMillis(), reserveMs });
  return summary;
}
