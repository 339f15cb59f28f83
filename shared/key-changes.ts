/**
 * The IAM key changes `keyage:reevaluateOnChange` watches, as data shared by the deploy (the EventBridge
 * rule's pattern) and the Config rule (which events name a user to confirm). Pure: no SDK.
 */

/** The CloudTrail events of IAM that change what the rule sees: the event pattern and the parser use this list. */
export const KEY_CHANGE_EVENTS = ["CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "DeleteUser"] as const;
/** EventBridge's detail-type for CloudTrail management events. */
export const CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail";
/** IAM's events arrive in this Region only (IAM is global). */
export const IAM_EVENTS_REGION = "us-east-1";

/**
 * The EventBridge event pattern of the us-east-1 rule: successful calls (no `errorCode`) of
 * {@link KEY_CHANGE_EVENTS}, as CloudTrail records them.
 */
export function keyChangeEventPattern(): Record<string, unknown> {
  return {
    source: ["aws.iam"],
    "detail-type": [CLOUDTRAIL_DETAIL_TYPE],
    detail: { eventSource: ["iam.amazonaws.com"], eventName: [...KEY_CHANGE_EVENTS], errorCode: [{ exists: false }] },
  };
}
