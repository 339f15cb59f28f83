/**
 * The scheduled rotator's IAM policy documents, as plain data (pure, tested without Pulumi). Every write
 * is scoped by a condition IAM enforces: access keys and user tags only of users tagged `keyage:rotate`,
 * tag keys only keyage's bookkeeping (`keyage:deactivated:*`, `keyage:created:*`), secrets only those
 * whose own `keyage:rotate` tag holds a user ARN of the same account (and, when a prefix is configured,
 * only under it).
 */
import type { PolicyDocument, Statement } from "./policies";
import { boundaryOf, LOG_ACTIONS, onFailurePublishPolicy } from "./policies";
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
/** User tag keys the rotator may write or remove: its bookkeeping, never `keyage:rotate` itself. */
export const BOOKKEEPING_TAG_KEYS = ["keyage:deactivated:*", "keyage:created:*"] as const;

/** Inputs of {@link rotatorRolePolicy}. */
export interface RotatorPolicyInput extends RotatorAccountInput {
  logGroupArn: string;
}

/** What the in-account part of the rotator's grants depends on. */
export interface RotatorAccountInput {
  partition: string;
  accountId: string;
  region: string;
  mode: Exclude<RotationMode, "off">;
  /** When set, only secrets whose names start with this may be used (they must carry the tag as well). */
  secretPrefix?: string;
}

/** Organization mode only, on the central role: the organization's accounts, and the hop into each. */
export const ROTATOR_ORGANIZATION_ACTIONS = ["organizations:ListAccounts", "organizations:ListChildren", "organizations:ListAccountsForParent"] as const;
export const ROTATOR_ASSUME_ACTIONS = ["sts:AssumeRole"] as const;

/**
 * The rotator role's policy (one account). `notify` reads IAM and publishes events; `plan` also reads
 * the opted-in users' secrets; `apply` also writes keys, the user tags keyage keeps, and the secrets.
 */
export function rotatorRolePolicy(input: RotatorPolicyInput): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [...rotatorAccountStatements(input), publishStatement(input), logStatement(input.logGroupArn)],
  };
}

function publishStatement(input: { partition: string; region: string; accountId: string }): Statement {
  return { Sid: "PublishEvents", Effect: "Allow", Action: [...ROTATOR_EVENT_ACTIONS], Resource: `arn:${input.partition}:events:${input.region}:${input.accountId}:event-bus/default` };
}

function logStatement(logGroupArn: string): Statement {
  return { Sid: "WriteOwnLogs", Effect: "Allow", Action: [...LOG_ACTIONS], Resource: `${logGroupArn}:*` };
}

/**
 * The grants a run needs inside the account it rotates in: IAM reads, and by mode the secrets and the
 * conditioned writes. The one-account role carries them directly; in organization mode, the member
 * rotator role of every account carries exactly these (and nothing else).
 */
export function rotatorAccountStatements(input: RotatorAccountInput): Statement[] {
  const users = `arn:${input.partition}:iam::${input.accountId}:user/*`;
  const optedIn = { StringLike: { [`iam:ResourceTag/${ROTATE_TAG}`]: "secretsmanager:*" } };
  const secrets = `arn:${input.partition}:secretsmanager:${input.region}:${input.accountId}:secret:`;
  const statements: Statement[] = [
    // GetAccountAuthorizationDetails and the credential report have no resource-level permissions.
    { Sid: "ReadUsersInBulk", Effect: "Allow", Action: [...ROTATOR_READ_ACTIONS], Resource: "*" },
    { Sid: "ReadUserKeys", Effect: "Allow", Action: [...ROTATOR_USER_READ_ACTIONS], Resource: users },
  ];
  if (input.mode === "notify") return statements;
  const secretActions = input.mode === "apply" ? [...ROTATOR_SECRET_READ_ACTIONS, ...ROTATOR_SECRET_WRITE_ACTIONS] : [...ROTATOR_SECRET_READ_ACTIONS];
  // The secret's owner binds it to one user: its tag keyage:rotate must hold a user ARN of this account (the
  // rotator then checks that it is the very user whose tag names the secret). An untagged secret, or one
  // tagged with anything but a user ARN, cannot even be read.
  statements.push({
    Sid: "UseSecretsBoundToUsers",
    Effect: "Allow",
    Action: secretActions,
    Resource: `${secrets}${input.secretPrefix ?? ""}*`,
    Condition: { StringLike: { [`aws:ResourceTag/${ROTATE_TAG}`]: users } },
  });
  if (input.mode === "apply") {
    statements.push(
      { Sid: "RotateOptedInKeys", Effect: "Allow", Action: [...ROTATOR_KEY_WRITE_ACTIONS], Resource: users, Condition: optedIn },
      {
        Sid: "RecordDeactivations",
        Effect: "Allow",
        Action: [...ROTATOR_TAG_ACTIONS],
        Resource: users,
        // Only keyage's own bookkeeping tags: the rotator can never opt a user in (or out) itself.
        Condition: { ...optedIn, "ForAllValues:StringLike": { "aws:TagKeys": [...BOOKKEEPING_TAG_KEYS] } },
      },
    );
  }
  return statements;
}

/** Inputs of {@link centralRotatorPolicy}. */
export interface CentralRotatorPolicyInput {
  partition: string;
  accountId: string;
  region: string;
  logGroupArn: string;
  /** The member rotator role's name (the same in every account). */
  rotatorRoleName: string;
  /** `o-…`: the roles it may assume must belong to this organization. */
  organizationId: string;
}

/**
 * Organization mode: the central rotator's own role reads and writes nothing in IAM or Secrets Manager.
 * It lists the organization's accounts, assumes the member rotator role (only that name, only inside
 * this organization: `aws:ResourceOrgID`), publishes events on its own default bus, and writes its logs.
 */
export function centralRotatorPolicy(input: CentralRotatorPolicyInput): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      // ListAccounts has no resource-level permission; the OU walk reads whichever targets deploy names.
      { Sid: "ListOrganizationAccounts", Effect: "Allow", Action: [...ROTATOR_ORGANIZATION_ACTIONS], Resource: "*" },
      {
        Sid: "AssumeMemberRotator",
        Effect: "Allow",
        Action: [...ROTATOR_ASSUME_ACTIONS],
        Resource: `arn:${input.partition}:iam::*:role/${input.rotatorRoleName}`,
        Condition: { StringEquals: { "aws:ResourceOrgID": input.organizationId } },
      },
      publishStatement(input),
      logStatement(input.logGroupArn),
    ],
  };
}

/** The member rotator role's policy in one account (the management account's own copy). */
export function memberRotatorPolicy(input: RotatorAccountInput): PolicyDocument {
  return { Version: "2012-10-17", Statement: rotatorAccountStatements(input) };
}

/**
 * CloudFormation template of the member rotator role, rolled out by a StackSet to every target account.
 * Parameter `RotatorRoleArn`: the central rotator's role, the only principal the role trusts. The policy
 * is {@link rotatorAccountStatements} with the account, partition and region filled in by CloudFormation.
 */
export function memberRotatorTemplate(roleName: string, mode: Exclude<RotationMode, "off">, secretPrefix?: string): string {
  // Secret prefixes and role names cannot hold "${", so only these placeholders are substituted.
  const statements = rotatorAccountStatements({ partition: "${AWS::Partition}", accountId: "${AWS::AccountId}", region: "${AWS::Region}", mode, secretPrefix });
  const policy = { Version: "2012-10-17", Statement: statements.map((s) => substituted(s)) };
  return JSON.stringify(
    {
      AWSTemplateFormatVersion: "2010-09-09",
      Description: `keyage: the role the central keyage rotator assumes in this account (${mode})`,
      Parameters: {
        RotatorRoleArn: { Type: "String", Description: "ARN of the central keyage rotator's role", AllowedPattern: "^arn:[a-z-]+:iam::\\d{12}:role/.+$" },
      },
      Resources: {
        RotatorRole: {
          Type: "AWS::IAM::Role",
          Properties: {
            RoleName: roleName,
            Description: "Assumed by the keyage scheduled rotator: reads IAM users, rotates the keys of users tagged keyage:rotate",
            AssumeRolePolicyDocument: {
              Version: "2012-10-17",
              Statement: [{ Sid: "KeyageRotatorAssumes", Effect: "Allow", Principal: { AWS: { Ref: "RotatorRoleArn" } }, Action: ["sts:AssumeRole"] }],
            },
            Policies: [{ PolicyName: `keyage-rotator-${mode}`, PolicyDocument: policy }],
            PermissionsBoundary: { Ref: "Boundary" },
          },
        },
        // Every keyage role carries a boundary: here the role's own grants, so nothing added later can exceed them.
        Boundary: {
          Type: "AWS::IAM::ManagedPolicy",
          Properties: { ManagedPolicyName: `${roleName}-boundary`, Description: "keyage: permissions boundary of the keyage rotator's member role", PolicyDocument: policy },
        },
      },
      Outputs: { RotatorRoleArn: { Value: { "Fn::GetAtt": ["RotatorRole", "Arn"] } } },
    },
    null,
    2,
  );
}

/** Every string holding a CloudFormation placeholder (`${AWS::…}`), in resources and condition values alike, as `Fn::Sub`. */
function substituted(value: unknown): unknown {
  if (typeof value === "string") return value.includes("${AWS::") ? { "Fn::Sub": value } : value;
  if (Array.isArray(value)) return value.map(substituted);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituted(v)]));
  return value;
}

/** Trust policy of the management account's own member rotator role: only the central rotator's role. */
export function memberRotatorTrustPolicy(rotatorRoleArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "KeyageRotatorAssumes", Effect: "Allow", Principal: { AWS: rotatorRoleArn }, Action: ["sts:AssumeRole"] }],
  };
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

/** Inputs of {@link rotatorBoundaryPolicy}. */
export interface RotatorBoundaryInput extends RotatorAccountInput {
  logGroupArn: string;
  /** Organization mode: the member role's name and the organization. */
  organization?: { rotatorRoleName: string; organizationId: string };
  /** The rotator function's name prefix (its name is generated: `<prefix><random>`), what the schedule may invoke. */
  functionNamePrefix: string;
  /** ARN (pattern) of the notification topics the rotator's on-failure destination may publish to. */
  notificationTopics: string;
}

/**
 * The permissions boundary of the rotator's roles in the deploying account: the union of the rotator's
 * own policy (one account) or the central role's and the management account's member rotator role's
 * (organization), and the schedule's (invoke the rotator function).
 */
export function rotatorBoundaryPolicy(input: RotatorBoundaryInput): PolicyDocument {
  const { partition, accountId, region } = input;
  return boundaryOf({
    ...(input.organization
      ? {
          Rotator: centralRotatorPolicy({ partition, accountId, region, logGroupArn: input.logGroupArn, ...input.organization }),
          MemberRotator: memberRotatorPolicy(input),
        }
      : { Rotator: rotatorRolePolicy(input) }),
    RotatorOnFailure: onFailurePublishPolicy(input.notificationTopics),
    Schedule: schedulerInvokePolicy(`arn:${partition}:lambda:${region}:${accountId}:function:${input.functionNamePrefix}*`),
  });
}

/** The topic accepts messages from the keyage events rule only. */
export function topicPolicy(topicArn: string, ruleArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "KeyageEventsPublish", Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: ["sns:Publish"], Resource: topicArn, Condition: { ArnEquals: { "aws:SourceArn": ruleArn } } }],
  };
}
