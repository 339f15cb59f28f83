/**
 * The CLI's AWS clients, each built on first use and its SDK module required only then, so
 * `keyage audit --credential-report` never loads the SDK. Kept apart from `aws/clients.ts` (the Config
 * rule's) so that the Lambda bundle never pulls in the CLI-only clients.
 */
import type { IAMClient } from "@aws-sdk/client-iam";
import type { OrganizationsClient } from "@aws-sdk/client-organizations";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SecurityHubClient } from "@aws-sdk/client-securityhub";
import type { STSClient } from "@aws-sdk/client-sts";
import { SDK_MAX_ATTEMPTS } from "./calls";
import type { SessionCredentials } from "./sessions";

/** Where a command's AWS calls go: `--profile` and `--region`, when given. */
export interface ClientOptions {
  readonly profile?: string;
  readonly region?: string;
  /** Act with these credentials (an assumed role's session) instead of the default chain's. */
  readonly credentials?: SessionCredentials;
}

/** The AWS clients a command may use, each built on first use. */
export interface Clients {
  iam(): IAMClient;
  secretsManager(): SecretsManagerClient;
  securityHub(): SecurityHubClient;
  sts(): STSClient;
  /**
   * Organizations (ListAccounts), for `keyage audit --organization` only; optional so that factories
   * written for single-account commands need not build it. The default factory has it.
   */
  organizations?(): OrganizationsClient;
}

/**
 * Builds SDK v3 clients with the standard credential chain and region resolution, honouring `--profile`
 * and `--region` (the SDK's own environment variables — AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_* —
 * apply when they are not given). Each client's module is required on first use.
 */
export async function defaultClients(options: ClientOptions): Promise<Clients> {
  const config = {
    maxAttempts: SDK_MAX_ATTEMPTS,
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const cache = new Map<string, unknown>();
  function once<T>(name: string, make: () => T): T {
    if (!cache.has(name)) cache.set(name, make());
    return cache.get(name) as T;
  }
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    iam: () => once("iam", () => new (require("@aws-sdk/client-iam") as typeof import("@aws-sdk/client-iam")).IAMClient(config)),
    secretsManager: () =>
      once("sm", () => new (require("@aws-sdk/client-secrets-manager") as typeof import("@aws-sdk/client-secrets-manager")).SecretsManagerClient(config)),
    securityHub: () =>
      once("sh", () => new (require("@aws-sdk/client-securityhub") as typeof import("@aws-sdk/client-securityhub")).SecurityHubClient(config)),
    sts: () => once("sts", () => new (require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts")).STSClient(config)),
    organizations: () =>
      once("org", () => new (require("@aws-sdk/client-organizations") as typeof import("@aws-sdk/client-organizations")).OrganizationsClient(config)),
  };
}
