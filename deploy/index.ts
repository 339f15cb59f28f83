/**
 * Pulumi entry point: reads the `keyage:*` config, validates it, checks that the Lambda was built, and
 * deploys {@link KeyageConfigRule}. Everything else lives in `program.ts` (resources), `settings.ts`
 * (validation) and `policies.ts` (the exact grants).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { createKeyageRule } from "./program";
import { KeyageRotator } from "./rotator";
import { DeployConfigError, RawDeploySettings, validateSettings } from "./settings";

/** Where `npm run build` writes the Lambda bundle, relative to the repository root. */
const ZIP = path.resolve(__dirname, "..", "dist", "config-rule.zip");
/** The scheduled rotator's bundle. */
const ROTATOR_ZIP = path.resolve(__dirname, "..", "dist", "rotator.zip");

const KEYS: readonly (keyof RawDeploySettings)[] = [
  "maxAccessKeyAge", "warnDays", "exemptions", "refreshDays", "ruleName", "frequency", "lambdaMemorySize", "lambdaTimeout", "logRetentionDays",
  "organization", "organizationTargets", "excludedAccounts", "memberRoleName", "memberAccountIds", "callAs", "organizationId", "rotatorRoleName",
  "rotation", "rotationSchedule", "rotationCleanupDays", "rotationGraceHours", "rotationSecretPrefix", "notificationEmail", "notificationTopic",
  "maxUnusedDays",
];

function readSettings() {
  const config = new pulumi.Config("keyage");
  const raw: RawDeploySettings = {};
  for (const key of KEYS) raw[key] = config.get(key);
  try {
    return validateSettings(raw);
  } catch (error) {
    // A RunError prints just the message (no stack trace): the user mistyped a config value.
    if (error instanceof DeployConfigError) throw new pulumi.RunError(`keyage:${error.key}: ${error.message}`);
    throw error;
  }
}

const settings = readSettings();
if (!fs.existsSync(ZIP)) {
  throw new pulumi.RunError(`${ZIP} does not exist: run \`npm ci\` (or \`npm run build\`) at the repository root first`);
}
const rule = createKeyageRule({ settings, code: new pulumi.asset.FileArchive(ZIP) });
const rotation = settings.rotation;
if (rotation && !fs.existsSync(ROTATOR_ZIP)) {
  throw new pulumi.RunError(`${ROTATOR_ZIP} does not exist: run \`npm ci\` (or \`npm run build\`) at the repository root first`);
}
// Off by default: nothing of the rotator exists until keyage:rotation is notify, plan or apply.
const rotator = rotation ? new KeyageRotator("keyage", { settings, rotation, code: new pulumi.asset.FileArchive(ROTATOR_ZIP) }) : undefined;

/** Name of the Config rule (the organization rule in organization mode). */
export const ruleName = rule.ruleName;
/** ARN of the Config rule; Security Hub findings carry it as GeneratorId. */
export const ruleArn = rule.ruleArn;
/** The evaluator Lambda. */
export const functionName = rule.functionName;
export const functionArn = rule.functionArn;
/** The role member accounts' reader role trusts (organization mode). */
export const executionRoleArn = rule.executionRoleArn;
/** Log group of the evaluator (one JSON summary line per run). */
export const logGroupName = rule.logGroup.name;
/** Organization mode: the StackSet that puts the reader role in every member account. */
export const memberStackSetName = rule.memberStackSet?.name;
/** The scheduled rotator's Lambda (when keyage:rotation is not off). */
export const rotatorFunctionName = rotator?.function.name;
/** The schedule that runs it. */
export const rotatorScheduleName = rotator?.schedule.name;
/** Organization mode with the rotator on: the StackSet that puts the rotator role in every member account. */
export const rotatorStackSetName = rotator?.memberStackSet?.name;
/** The SNS topic that receives every keyage event (keyage:notificationTopic or keyage:notificationEmail). */
export const eventsTopicArn = rotator?.topic?.arn;
