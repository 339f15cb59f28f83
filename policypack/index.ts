/**
 * keyage's Pulumi CrossGuard policy pack. The Pulumi CLI runs it as
 * `node @pulumi/pulumi/cmd/run-policy-pack <engine> <this repo>`, which loads package.json's "main"
 * (the compiled `dist/policypack/index.js`); constructing the PolicyPack starts the Analyzer gRPC server
 * and prints its port as the first line of stdout, so nothing here may write to stdout.
 *
 * Use: `pulumi preview --policy-pack <path-to-keyage> [--policy-pack-config examples/policy-config.json]`.
 */
import { PolicyPack } from "@pulumi/policy";
import { installLazyProperties } from "./lazy-properties";
import { createPolicies } from "./policies";

// Before the server starts: convert resource properties only when a policy reads them (see the module).
installLazyProperties();

// No exports: importing this module starts a server. Tests and tools import ./policies instead.
new PolicyPack("keyage", {
  description:
    "Stops deployments while an IAM user's active access key is older than the limit (default 30 days), warns before it gets there, and flags long-lived user keys.",
  enforcementLevel: "advisory",
  policies: createPolicies(),
});
