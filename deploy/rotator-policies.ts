/**
 * The scheduled rotator's IAM policy documents, as plain data (pure, tested without Pulumi). Every write
 * is scoped by a condition IAM enforces: access keys and user tags only of users tagged `keyage:rotate`,
 * tag keys only `keyage:deactivated:*`, secrets only tagged `keyage:rotate` or under the configured prefix.
 */
import type { PolicyDocument, Statement } from "./policies";
import { LOG_ACTIONS } from "./policies";
import type { RotationMode } from "./rotator-settings";

/** Reads every run needs: users with tags in bulk, the credential report, one user's keys. */
export const ROTATOR_READ_ACTIONS = ["iam:GetAccountAuthorizationDetails", "iam:GenerateCredentialReport", "iam:GetCredentialReport"] as const;
/** Reads of one user's keys and tags (ids for events; the planner's observation). */
export const ROTATOR_USER_READ_ACTIONS = ["iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:ListUserTags"] as const;
/** Access key writes, only on users tagged `keyage:rotate` (apply only). */
export const ROTATOR_KEY_WRITE_ACTIONS = ["iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey"] as const;
/** User tag writes (the `keyage:deactivated:*` record), only on users tagged `keyage:rotate` (apply only). */
export const ROTATOR_TAG_ACTIONS = ["iam:TagUser", "iam:UntagUser"] as const;
/** Reading a secret's state (plan and apply). */
export const ROTATOR_SECRET_READ_ACTIONS = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"] as const;
/** Writing the new key (apply only). */
export const ROTATOR_SECRET_WRITE_ACTIONS = ["secretsmanager:PutSecretValue"] as const;
export const ROTATOR_EVENT_ACTIONS = ["events:PutEvents"] as const;

/** The tag that opts a user in, and marks the secrets the rotator may use. */
export const ROTATE_TAG = "keyage:rotate";

/** Inputs of {@link rotatorRolePolicy}. */
export interface RotatorPolicyInput {
  partition: string;
  accountId: string;
  region: string;
  logGroupArn: string;
  mode: Exclude<RotationMode, "off">;
  /** Secrets whose names start with this may be used too. */
  secretPrefix?: string;
}

/**
 * The rotator role's policy. `notify` reads IAM and publishes events; `plan` also reads the opted-in
 * users' secrets; `apply` also writes keys, the user tags keyage keeps, and the secrets.
 */
export function rotatorRolePolicy(input: RotatorPolicyInput): PolicyDocument {
  const users = `arn:${input.partition}:iam::${input.accountId}:user/*`;
  const optedIn = { StringLike: { [`iam:ResourceTag/${ROTATE_TAG}`]: "secretsmanager:*" } };
  const secrets = `arn:${input.partition}:secretsmanager:${input.region}:${input.accountId}:secret:`;
  const statements: Statement[] = [
    // GetAccountAuthorizationDetails and the credential report have no resource-level permissions.
    { Sid: "ReadUsersInBulk", Effect: "Allow", Action: [...ROTATOR_READ_ACTIONS], Resource: "*" },
    { Sid: "ReadUserKeys", Effect: "Allow", Action: [...ROTATOR_USER_READ_ACTIONS], Resource: users },
    { Sid: "PublishEvents", Effect: "Allow", Action: [...ROTATOR_EVENT_ACTIONS], Resource: `arn:${input.partition}:events:${input.region}:${input.accountId}:event-bus/default` },
    { Sid: "WriteOwnLogs", Effect: "Allow", Action: [...LOG_ACTIONS], Resource: `${input.logGroupArn}:*` },
  ];
  if (input.mode === "notify") return { Version: "2012-10-17", Statement: statements };
  const secretActions = input.mode === "apply" ? [...ROTATOR_SECRET_READ_ACTIONS, ...ROTATOR_SECRET_WRITE_ACTIONS] : [...ROTATOR_SECRET_READ_ACTIONS];
  statements.push({ Sid: "UseTaggedSecrets", Effect: "Allow", Action: secretActions, Resource: `${secrets}*`, Condition: { Null: { [`aws:ResourceTag/${ROTATE_TAG}`]: "false" } } });
  if (input.secretPrefix) statements.push({ Sid: "UsePrefixedSecrets", Effect: "Allow", Action: secretActions, Resource: `${secrets}${input.secretPrefix}*` });
  if (input.mode === "apply") {
    statements.push(
      { Sid: "RotateOptedInKeys", Effect: "Allow", Action: [...ROTATOR_KEY_WRITE_ACTIONS], Resource: users, Condition: optedIn },
      {
        Sid: "RecordDeactivations",
        Effect: "Allow",
        Action: [...ROTATOR_TAG_ACTIONS],
        Resource: users,
        // Only keyage's own bookkeeping tags: the rotator can never opt a user in (or out) itself.
        Condition: { ...optedIn, "ForAllValues:StringLike": { "aws:TagKeys": "keyage:deactivated:*" } },
      },
    );
  }
  return { Version: "2012-10-17", Statement: statements };
}

/** EventBridge Scheduler may assume the schedule's role, for schedules of this account only. */
export function schedulerTrustPolicy(accountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "SchedulerAssumes", Effect: "Allow", Principal: { Service: "scheduler.amazonaws.com" }, Action: ["sts:AssumeRole"], Condition: { StringEquals: { "aws:SourceAccount": accountId } } }],
  };
}

/** The schedule's role may invoke the rotator and nothing else. */
export function schedulerInvokePolicy(functionArn: string): PolicyDocument {
  return { Version: "2012-10-17", Statement: [{ Sid: "InvokeRotator", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: functionArn }] };
}

/** The topic accepts messages from the keyage events rule only. */
export function topicPolicy(topicArn: string, ruleArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "KeyageEventsPublish", Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: ["sns:Publish"], Resource: topicArn, Condition: { ArnEquals: { "aws:SourceArn": ruleArn } } }],
  };
}
