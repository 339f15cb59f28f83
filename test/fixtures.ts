// Shared by specs, harnesses and benches.

/**
 * The AWS environment of every test, bench and process they start: dummy credentials, a region, no
 * config files, and the SDK's EC2 metadata lookup (169.254.169.254) turned off, so nothing can reach AWS.
 */
export const OFFLINE_AWS_ENV = {
  AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  AWS_REGION: "us-east-1",
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_CONFIG_FILE: "/dev/null",
  AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
} as const;

/**
 * A developer's shell can steer the SDK past {@link OFFLINE_AWS_ENV}'s dummy key pair: the SDK prefers
 * AWS_PROFILE to a key pair in the environment, a session token would be sent with the dummy key, and an
 * AWS_ENDPOINT_URL* leads elsewhere. True for these names (and every AWS_ENDPOINT_URL_<SERVICE>).
 */
export function isAmbientAwsVariable(name: string): boolean {
  return (
    ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"].includes(name) ||
    name.startsWith("AWS_ENDPOINT_URL")
  );
}

/** Makes `env` (default `process.env`) offline in place: {@link OFFLINE_AWS_ENV} set, every ambient AWS variable ({@link isAmbientAwsVariable}) removed. */
export function makeAwsEnvOffline(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  for (const name of Object.keys(env)) if (isAmbientAwsVariable(name)) delete env[name];
  return Object.assign(env, OFFLINE_AWS_ENV);
}

/** What a person should see for each user of examples/credential-report.csv at 2026-11-29T12:00:00Z. */
export const EXAMPLE_VERDICTS = {
  "<root_account>": "COMPLIANT",
  alice: "COMPLIANT",
  bob: "NON_COMPLIANT",
  carol: "COMPLIANT",
  dave: "COMPLIANT",
  erin: "COMPLIANT",
  "build-bot": "COMPLIANT",
  "ci-deploy": "NON_COMPLIANT",
  "svc.legacy@example.com": "NON_COMPLIANT",
} as const;
