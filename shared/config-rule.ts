/**
 * What AWS Config knows keyage's rule by: the one resource type it evaluates and the notifications that
 * run it. The Lambda checks events against these and the deploy program registers the rule with them,
 * so the two can never disagree. Plain constants: importing them pulls in no SDK.
 */

/** Config's resource type for IAM users: the rule's only scope (resourceId = the user's UserId). */
export const CONFIG_RESOURCE_TYPE = "AWS::IAM::User";

/**
 * The notifications that run the rule, and the only message types the Lambda handles: a periodic sweep
 * of every user, and every change to one user (normal and oversized configuration items).
 */
export const CONFIG_RULE_TRIGGERS = ["ScheduledNotification", "ConfigurationItemChangeNotification", "OversizedConfigurationItemChangeNotification"] as const;

/** One of {@link CONFIG_RULE_TRIGGERS}. */
export type ConfigRuleTrigger = (typeof CONFIG_RULE_TRIGGERS)[number];

/** The Config rule name the deploy program creates by default (and `rotate finish` names by default). */
export const DEFAULT_CONFIG_RULE_NAME = "keyage-access-key-age";

/** AWS Config rule names keyage accepts: 1-64 letters, digits, hyphens or underscores. */
export const CONFIG_RULE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
