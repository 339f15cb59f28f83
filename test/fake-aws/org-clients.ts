// The CLI's clients on a fake organization's endpoint: the organization audit's tests and its bench share them.
import { IAMClient } from "@aws-sdk/client-iam";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SecurityHubClient } from "@aws-sdk/client-securityhub";
import { STSClient } from "@aws-sdk/client-sts";
import { SDK_MAX_ATTEMPTS } from "../../aws/calls";
import type { ClientFactory, Clients } from "../../cli/io";
import type { FakeOrganization } from "./organization";

/** Clients on the fake organization's endpoint, acting with the session's credentials when given. */
export function orgClients(org: FakeOrganization): ClientFactory {
  return async (options) => {
    const config = { region: "us-east-1", endpoint: org.url, maxAttempts: SDK_MAX_ATTEMPTS, ...(options.credentials ? { credentials: options.credentials } : {}) };
    const cache = new Map<string, unknown>();
    const once = <T>(name: string, make: () => T): T => (cache.has(name) ? (cache.get(name) as T) : (cache.set(name, make()), cache.get(name) as T));
    const clients: Clients = {
      iam: () => once("iam", () => new IAMClient(config)),
      sts: () => once("sts", () => new STSClient(config)),
      organizations: () => once("org", () => new OrganizationsClient(config)),
      secretsManager: () => once("sm", () => new SecretsManagerClient(config)),
      securityHub: () => once("sh", () => new SecurityHubClient(config)),
    };
    return clients;
  };
}
