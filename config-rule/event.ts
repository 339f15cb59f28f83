/**
 * Parses the AWS Config custom-rule event (`invokingEvent` and `ruleParameters` are JSON strings) and the
 * rule parameters. Everything here runs before any AWS call: a malformed event or a bad parameter is an
 * error and nothing is written.
 */
import { CONFIG_RESOURCE_TYPE, CONFIG_RULE_TRIGGERS, ParameterError, parseTimestamp, show, validateParams, validateRefreshDays, type RuleParams } from "../shared";
import { EventError } from "./errors";

/** The message types keyage handles: exactly the triggers the deploy program registers. */
export const MESSAGE_TYPES = CONFIG_RULE_TRIGGERS;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** The only resource type the rule evaluates. */
export const RESOURCE_TYPE = CONFIG_RESOURCE_TYPE;

/** The result token AWS Config passes when the rule is tested; evaluations then go with `TestMode: true`. */
export const TEST_MODE_TOKEN = "TESTMODE";

/** Configuration item statuses after which the user no longer exists (or is no longer recorded). */
export const GONE_STATUSES: readonly string[] = ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"];

/** A periodic run: every IAM user. */
export interface ScheduledInvocation {
  readonly kind: "scheduled";
  readonly messageType: "ScheduledNotification";
  /** `notificationCreationTime`: the OrderingTimestamp of every evaluation. */
  readonly orderingTimestamp: Date;
}

/** A change to one user. */
export interface ChangeInvocation {
  readonly kind: "change";
  readonly messageType: "ConfigurationItemChangeNotification" | "OversizedConfigurationItemChangeNotification";
  /** The user's UserId (AIDA…), Config's resource id. */
  readonly resourceId: string;
  /** The user name, when the item carries it. */
  readonly resourceName?: string;
  /** `configurationItemStatus`, e.g. OK or ResourceDeleted. */
  readonly status: string;
  /** `configurationItemCaptureTime`: the evaluation's OrderingTimestamp. */
  readonly orderingTimestamp: Date;
}

/** A parsed Config rule event. */
export interface RuleEvent {
  readonly invocation: ScheduledInvocation | ChangeInvocation;
  readonly resultToken: string;
  /** True when `resultToken` is TESTMODE. */
  readonly testMode: boolean;
  /** The rule's name, when given (needed to find earlier results of deleted users). */
  readonly configRuleName?: string;
  /** The account being evaluated. */
  readonly accountId?: string;
  /** ARN partition, from `configRuleArn` (default `aws`). */
  readonly partition: string;
  /** `eventLeftScope`: the resource left the rule's scope; it is NOT_APPLICABLE. */
  readonly eventLeftScope: boolean;
  /** The decoded `ruleParameters` (empty when absent). */
  readonly ruleParameters: Record<string, unknown>;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function json(name: string, value: unknown, optional: boolean): Record<string, unknown> {
  if (value === undefined || value === null || (optional && value === "")) {
    if (optional) return {};
    throw new EventError(`the event has no ${name}; is this an AWS Config custom rule invocation?`);
  }
  if (typeof value !== "string") {
    const obj = record(value);
    if (obj) return obj; // already decoded (e.g. a hand-written test event)
    throw new EventError(`the event's ${name} must be a JSON object in a string, got ${show(value)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (cause) {
    throw new EventError(`the event's ${name} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const obj = record(parsed);
  if (!obj) throw new EventError(`the event's ${name} must be a JSON object, got ${show(parsed)}`);
  return obj;
}

function timestamp(where: string, value: unknown): Date {
  const ms = parseTimestamp(value);
  if (ms === undefined) throw new EventError(`${where} must be an RFC 3339 timestamp, got ${show(value)}`);
  return new Date(ms);
}

function text(where: string, value: unknown): string {
  if (typeof value !== "string" || value === "") throw new EventError(`${where} must be a non-empty string, got ${show(value)}`);
  return value;
}

/**
 * Parses a Config custom-rule Lambda event. Throws {@link EventError} for anything keyage cannot handle:
 * a missing `invokingEvent` or `resultToken`, an unknown `messageType`, a resource type other than
 * `AWS::IAM::User`, a missing timestamp.
 */
export function parseEvent(event: unknown): RuleEvent {
  const e = record(event);
  if (!e) throw new EventError(`the event must be an object, got ${show(event)}`);
  const invoking = json("invokingEvent", e.invokingEvent, false);
  const ruleParameters = json("ruleParameters", e.ruleParameters, true);
  const resultToken = text("the event's resultToken", e.resultToken);
  const messageType = invoking.messageType;
  if (!(MESSAGE_TYPES as readonly unknown[]).includes(messageType)) {
    throw new EventError(`invokingEvent.messageType ${show(messageType)} is not handled; expected one of ${MESSAGE_TYPES.join(", ")}`);
  }
  let invocation: ScheduledInvocation | ChangeInvocation;
  if (messageType === "ScheduledNotification") {
    invocation = { kind: "scheduled", messageType, orderingTimestamp: timestamp("invokingEvent.notificationCreationTime", invoking.notificationCreationTime) };
  } else {
    const field = messageType === "ConfigurationItemChangeNotification" ? "configurationItem" : "configurationItemSummary";
    const item = record(invoking[field]);
    if (!item) throw new EventError(`invokingEvent.${field} is missing for a ${String(messageType)}`);
    if (item.resourceType !== RESOURCE_TYPE) {
      throw new EventError(`invokingEvent.${field}.resourceType ${show(item.resourceType)} is not evaluated by this rule; scope it to ${RESOURCE_TYPE}`);
    }
    const configuration = record(item.configuration);
    const name = item.resourceName ?? configuration?.userName;
    invocation = {
      kind: "change",
      messageType: messageType as ChangeInvocation["messageType"],
      resourceId: text(`invokingEvent.${field}.resourceId`, item.resourceId),
      resourceName: typeof name === "string" && name !== "" ? name : undefined,
      status: text(`invokingEvent.${field}.configurationItemStatus`, item.configurationItemStatus),
      orderingTimestamp: timestamp(`invokingEvent.${field}.configurationItemCaptureTime`, item.configurationItemCaptureTime),
    };
  }
  const arn = typeof e.configRuleArn === "string" ? e.configRuleArn.split(":") : [];
  const accountId = typeof e.accountId === "string" ? e.accountId : typeof invoking.awsAccountId === "string" ? invoking.awsAccountId : undefined;
  return {
    invocation,
    resultToken,
    testMode: resultToken === TEST_MODE_TOKEN,
    configRuleName: typeof e.configRuleName === "string" && e.configRuleName !== "" ? e.configRuleName : undefined,
    accountId: accountId || undefined,
    partition: arn[0] === "arn" && arn[1] ? arn[1] : "aws",
    eventLeftScope: e.eventLeftScope === true || e.eventLeftScope === "true",
    ruleParameters,
  };
}

/** The rule parameters keyage accepts, as written in the Config rule's InputParameters. */
export const RULE_PARAMETERS = ["maxAccessKeyAge", "warnDays", "exemptions", "refreshDays", "executionRoleName", "maxUnusedDays"] as const;

/** The rule's settings, validated. */
export interface RuleSettings {
  readonly params: RuleParams;
  /**
   * A scheduled run writes an unchanged user's result again once it is this many days old (1–80,
   * default 30); changed, new and deleted users are written on every run.
   */
  readonly refreshDays: number;
  /** Role to assume in the evaluated account (organization rules), when set. */
  readonly executionRoleName?: string;
}

// IAM role names (letters, digits, +=,.@_-), optionally behind a path.
const ROLE_NAME = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/**
 * Validates `ruleParameters`: `maxAccessKeyAge` (whole days 1–3650, default 30), `warnDays` (0 to
 * maxAccessKeyAge−1, default 7), `exemptions` ("alice bob:2027-01-31" or a JSON array; default none),
 * `refreshDays` (whole days 1–80, default 30), `executionRoleName` (optional), `maxUnusedDays` (whole
 * days 1–3650; default off: an active key neither used nor created within it is NON_COMPLIANT). An unknown parameter
 * name is an error too: a typo must not silently leave the default in force. Throws `ParameterError`
 * (from `shared/`) naming the parameter, the value and what is allowed.
 */
export function parseRuleParameters(raw: Record<string, unknown>): RuleSettings {
  const unknown = Object.keys(raw).filter((k) => !(RULE_PARAMETERS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    const first = unknown[0] as string;
    throw new ParameterError(first, raw[first], `unknown rule parameter${unknown.length === 1 ? "" : "s"} ${unknown.map((k) => show(k)).join(", ")}; expected ${RULE_PARAMETERS.join(", ")}`);
  }
  const params = validateParams(
    { maxAgeDays: raw.maxAccessKeyAge, warnDays: raw.warnDays, exemptions: raw.exemptions, maxUnusedDays: raw.maxUnusedDays },
    { maxAgeDays: "maxAccessKeyAge", warnDays: "warnDays", exemptions: "exemptions", maxUnusedDays: "maxUnusedDays" },
  );
  const refreshDays = validateRefreshDays(raw.refreshDays, "refreshDays");
  const role = raw.executionRoleName;
  if (role === undefined || role === null || role === "") return { params, refreshDays };
  if (typeof role !== "string" || !ROLE_NAME.test(role.trim())) {
    throw new ParameterError("executionRoleName", role, `executionRoleName must be an IAM role name (letters, digits and +=,.@_-, up to 64), got ${show(role)}`);
  }
  return { params, refreshDays, executionRoleName: role.trim() };
}
