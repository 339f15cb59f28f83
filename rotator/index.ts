/**
 * The Lambda entry point of keyage's scheduled rotator. `handler` wires the real clients, clock and
 * logger around {@link runRotator}; the payload (the schedule's input) holds the settings.
 *
 * Environment: the standard AWS SDK variables (AWS_REGION, AWS_ENDPOINT_URL_IAM,
 * AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_EVENTBRIDGE, AWS_ENDPOINT_URL_ORGANIZATIONS,
 * AWS_ENDPOINT_URL_STS, credentials). With `organization` in the payload, the run covers every ACTIVE
 * account of the organization where the member rotator role was rolled out ({@link runOrganization}).
 */
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { IAMClient } from "@aws-sdk/client-iam";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { STSClient } from "@aws-sdk/client-sts";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SDK_MAX_ATTEMPTS } from "../aws/calls";
import { jsonLogger, parseLogLevel } from "../aws/log";
import { runOrganization, type OrganizationSummary } from "./organization";
import { runRotator, type RotatorClients, type RotatorSummary } from "./run";
import { parseSettings } from "./settings";

export { runRotator, ROTATE_TAG, OWNER_TAG } from "./run";
export type { RotatorClients, RotatorDeps, RotatorSummary } from "./run";
export { parseSettings, ROTATOR_MODES, RotatorSettingsError } from "./settings";
export type { RotatorMode, RotatorSettings } from "./settings";
export { DETAIL_TYPES, EVENT_SOURCE } from "./events";
export { runOrganization, ROTATOR_SESSION_NAME } from "./organization";
export type { AccountClientFactory, OrganizationDeps, OrganizationSummary } from "./organization";
export type { KeyEventDetail } from "./events";

/** The part of the Lambda context the rotator uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  readonly awsRequestId?: string;
  /** Lambda sets it; the summary line then carries the run's figures as CloudWatch metrics (EMF). */
  readonly functionName?: string;
}

let clients: RotatorClients | undefined;
let central: { organizations: OrganizationsClient; sts: STSClient } | undefined;

/**
 * The Lambda handler: one scheduled run. Resolves with the run's summary (without the events sent; in
 * organization mode, the organization's summary); rejects, changing nothing, when the payload's settings
 * are invalid or, in organization mode, when the accounts cannot be listed.
 */
export async function handler(event: unknown, context: LambdaContext): Promise<Omit<RotatorSummary, "sent"> | OrganizationSummary> {
  const settings = parseSettings(event);
  const log = jsonLogger({ level: parseLogLevel(process.env.LOG_LEVEL), base: context.awsRequestId ? { requestId: context.awsRequestId } : {} });
  // Keep a quarter of the time (1–10 s) for publishing the events.
  const reserveMs = Math.min(10_000, Math.max(1_000, context.getRemainingTimeInMillis() / 4));
  const remainingMs = () => context.getRemainingTimeInMillis();
  const functionName = context.functionName;
  if (settings.organization) {
    central ??= { organizations: new OrganizationsClient({ maxAttempts: SDK_MAX_ATTEMPTS }), sts: new STSClient({ maxAttempts: SDK_MAX_ATTEMPTS }) };
    const summary = await runOrganization({ clients: central, settings, log, remainingMs, reserveMs, functionName }, settings.organization);
    // The per-user events were published; the returned summary keeps each account's figures only.
    return { ...summary, runs: summary.runs.map((r) => ({ account: r.account, summary: { ...r.summary, sent: [] } })) };
  }
  // Built once per container, reused by warm invocations.
  clients ??= {
    iam: new IAMClient({ maxAttempts: SDK_MAX_ATTEMPTS }),
    secrets: new SecretsManagerClient({ maxAttempts: SDK_MAX_ATTEMPTS }),
    events: new EventBridgeClient({ maxAttempts: SDK_MAX_ATTEMPTS }),
  };
  const { sent: _sent, ...summary } = await runRotator({ clients, settings, log, remainingMs, reserveMs, functionName });
  return summary;
}
