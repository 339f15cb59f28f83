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
