/**
 * `keyage/pulumi`: keyage's AWS side as Pulumi components for a program of your own. `@pulumi/pulumi`
 * and `@pulumi/aws` are peer dependencies: the program's own copies register the resources. Importing
 * this module creates nothing; each `new` does.
 *
 * @example
 * import { KeyageConfigRule, KeyageRotator, RotatingAccessKey } from "keyage/pulumi";
 * const rule = new KeyageConfigRule("keys", { maxAccessKeyAge: 90 });
 * const rotator = new KeyageRotator("rot", { mode: "plan", maxAccessKeyAge: 90 });
 * export const ruleArn = rule.ruleArn;
 *
 * // A user key that rotates on `pulumi up` (see docs/rotation.md):
 * const key = new RotatingAccessKey("ci", { user: "ci-deployer" });
 */
export { KeyageConfigRule, CONFIG_RULE_TYPE, type KeyageConfigRuleArgs, type ValidatedConfigRuleArgs } from "./config-rule";
export { KeyageRotator, ROTATOR_TYPE, type KeyageRotatorArgs, type ValidatedRotatorArgs } from "./rotator";
export {
  SETTING_KEYS,
  DEFAULTS,
  DeployConfigError,
  FREQUENCIES,
  LOG_RETENTION_DAYS,
  validateSettings,
  type DeploySettings,
  type Frequency,
  type KeyageRotationArgs,
  type KeyageSettingsArgs,
  type OrganizationSettings,
  type RawDeploySettings,
} from "./settings";
export { ROTATION_DEFAULTS, ROTATION_MODES, validateRotationSettings, type RotationMode, type RotationSettings } from "./rotator-settings";
export * from "./rotating-access-key";
