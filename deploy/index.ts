/**
 * Pulumi entry point: a thin stack over keyage's components (pulumi/, published as `keyage/pulumi`).
 * Reads the `keyage:*` config, validates it once (a bad value stops the preview with one line naming
 * the key), and instantiates {@link KeyageConfigRule} and, when `keyage:rotation` is on,
 * {@link KeyageRotator}. No resource of its own.
 */
import * as pulumi from "@pulumi/pulumi";
import { SETTING_KEYS, DeployConfigError, KeyageConfigRule, KeyageRotator, type RawDeploySettings, validateSettings } from "../pulumi";

function readSettings() {
  const config = new pulumi.Config("keyage");
  const raw: RawDeploySettings = {};
  for (const key of SETTING_KEYS) raw[key] = config.get(key);
  try {
    return validateSettings(raw);
  } catch (error) {
    // A RunError prints just the message (no stack trace): the user mistyped a config value.
    if (error instanceof DeployConfigError) throw new pulumi.RunError(`keyage:${error.key}: ${error.message}`);
    throw error;
  }
}

const settings = readSettings();
const rotation = settings.rotation;
// Off by default: nothing of the rotator exists until keyage:rotation is notify, plan or apply.
const rotator = rotation ? new KeyageRotator("keyage", { settings, rotation }) : undefined;
// The alarms' topic: the rotator's events topic, or without the rotator one of the rule's own (when asked for).
// The Lambdas' code: the bundles `npm ci` (or `npm run build`) writes to dist/; a clear error if absent.
const rule = new KeyageConfigRule("keyage", { settings, ...(rotator?.topicArn ? { notificationTopicArn: rotator.topicArn } : {}) });

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
export const logGroupName = rule.logGroupName;
/** Organization mode: the StackSet that puts the reader role in every member account. */
export const memberStackSetName = rule.memberStackSet?.name;
/** The scheduled rotator's Lambda (when keyage:rotation is not off). */
export const rotatorFunctionName = rotator?.functionName;
/** The rotator's own role. */
export const rotatorRoleArn = rotator?.roleArn;
/** The schedule that runs it. */
export const rotatorScheduleName = rotator?.scheduleName;
/** Organization mode with the rotator on: the StackSet that puts the rotator role in every member account. */
export const rotatorStackSetName = rotator?.memberStackSet?.name;
/** The SNS topic that receives every keyage event (keyage:notificationTopic or keyage:notificationEmail). */
export const eventsTopicArn = rotator?.topicArn;
/** The topic keyage's alarms and failed runs go to: the events topic, or `<ruleName>-alarms` without the rotator. */
export const notificationTopicArn = rule.notificationTopicArn;
/** With keyage:auditRoleTrust: the read-only audit role in every account, to pass as `keyage audit --organization --role-name`. */
export const auditRoleName = rule.auditRoleName;
/** Organization mode with keyage:auditRoleTrust: the StackSet that puts the audit role in every member account. */
export const auditStackSetName = rule.auditRole?.stackSet?.name;
