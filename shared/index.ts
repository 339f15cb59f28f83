/**
 * keyage's rule: an IAM user's active access key must not be older than N days. Pure: no AWS SDK, no
 * Pulumi, no I/O; `now` is always a parameter.
 */
export * from "./annotation";
export * from "./config-annotation";
export * from "./config-rule";
export * from "./credential-report";
export * from "./errors";
export * from "./params";
export * from "./policy-config";
export * from "./rotating-key";
export * from "./rotation";
export * from "./rule";
export * from "./time";
