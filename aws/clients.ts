/**
 * The AWS clients of the rule. No endpoint or region is hard-coded: the standard environment
 * (AWS_REGION, AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL_CONFIG_SERVICE, AWS_ENDPOINT_URL_STS, the
 * credentials chain) decides. Organization rules assume a role in the evaluated account for both the
 * IAM reads and PutEvaluations (the result token belongs to that account's Config, as in rdklib).
 */
import { ConfigServiceClient } from "@aws-sdk/client-config-service";
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import { assumeRole } from "./sessions";
import { SDK_MAX_ATTEMPTS, type CallCounter } from "./calls";

export { SDK_MAX_ATTEMPTS } from "./calls";

/** The clients one evaluation uses. */
export interface RuleClients {
  readonly iam: IAMClient;
  readonly config: ConfigServiceClient;
  /** Frees clients made for this run only (their sockets); absent for clients reused across runs. */
  readonly dispose?: () => void;
}

/** Gives the clients for a run: the Lambda's own, or ones acting as `roleArn` when set. */
export type ClientFactory = (roleArn: string | undefined, calls: CallCounter) => Promise<RuleClients>;

/** The session name the rule's assumed-role sessions carry (visible in CloudTrail). */
export const ROLE_SESSION_NAME = "keyage-config-rule";

/**
 * Builds a {@link ClientFactory}. Clients without a role are created once and reused across warm
 * invocations; with a role, each run assumes it (15-minute session) and builds clients on those
 * credentials, so a long-lived container never acts on expired credentials.
 */
export function defaultClientFactory(): ClientFactory {
  let own: RuleClients | undefined;
  let sts: STSClient | undefined;
  return async (roleArn, calls) => {
    if (!roleArn) {
      own ??= { iam: new IAMClient({ maxAttempts: SDK_MAX_ATTEMPTS }), config: new ConfigServiceClient({ maxAttempts: SDK_MAX_ATTEMPTS }) };
      return own;
    }
    sts ??= new STSClient({ maxAttempts: SDK_MAX_ATTEMPTS });
    calls.add("AssumeRole");
    const credentials = await assumeRole(sts, roleArn, ROLE_SESSION_NAME);
    const iam = new IAMClient({ maxAttempts: SDK_MAX_ATTEMPTS, credentials });
    const config = new ConfigServiceClient({ maxAttempts: SDK_MAX_ATTEMPTS, credentials });
    // Made for one run: a warm container serving many accounts must not keep every run's sockets.
    return { iam, config, dispose: () => (iam.destroy(), config.destroy()) };
  };
}
