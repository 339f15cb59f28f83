/**
 * IAM policy documents and the member-account CloudFormation template, as plain data. Pure, so the
 * exact grants can be read (and tested) without Pulumi; `config-rule.ts` and `rotator.ts` fill in ARNs.
 */

/**
 * Writes verdicts. PutEvaluations supports no resource-level permission (the result token in each call
 * ties the write to the rule that invoked the function), so its resource is `*`.
 */
export const WRITE_EVALUATIONS_ACTIONS = ["config:PutEvaluations"] as const;
/** Reads the rule's own earlier results (to retire deleted users): granted on the rule's ARN only. */
export const READ_RESULTS_ACTIONS = ["config:GetComplianceDetailsByConfigRule"] as const;
/** What the Lambda writes to its own log group (the group itself is created by the deploy, not by the Lambda). */
export const LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"] as const;
/** Organization mode only: into the member role. */
export const ASSUME_ACTIONS = ["sts:AssumeRole"] as const;

/** One IAM policy statement (the subset this program writes). */
export interface Statement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  /** Absent in trust policies. */
  Resource?: string | string[];
  Principal?: { Service?: string; AWS?: string | string[] };
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** An IAM policy document. */
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Statement[];
}

/** Trust policy letting the Lambda service assume the execution role. */
export function lambdaTrustPolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "LambdaAssumes", Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: ["sts:AssumeRole"] }],
  };
}

/** The inputs the execution role policy needs. */
export interface ExecutionPolicyInput {
  partition: string;
  accountId: string;
  logGroupArn: string;
  /** Organization mode: the member role's name and the organization the roles must belong to. */
  organization?: { memberRoleName: string; organizationId: string };
}

/**
 * The Lambda execution role's main policy: write its own logs, and either read IAM keys and write
 * evaluations (one account; reading the rule's earlier results is {@link readResultsPolicy}, granted once
 * the rule, and so its ARN, exists) or, in organization mode, only assume the member role, only in
 * accounts of this organization (`aws:ResourceOrgID`). Organization rules always carry
 * `executionRoleName`, so every IAM read and Config call goes through the member role (the management
 * account's included): direct grants would be unused, and would let the function read the management
 * account without the role.
 */
export function executionRolePolicy(input: ExecutionPolicyInput): PolicyDocument {
  const statements: Statement[] = [
    ...(input.organization ? [] : iamAndConfigStatements(`arn:${input.partition}:iam::${input.accountId}:user/*`)),
    { Sid: "WriteOwnLogs", Effect: "Allow", Action: [...LOG_ACTIONS], Resource: `${input.logGroupArn}:*` },
  ];
  if (input.organization) {
    statements.push({
      Sid: "AssumeMemberReader",
      Effect: "Allow",
      Action: [...ASSUME_ACTIONS],
      Resource: `arn:${input.partition}:iam::*:role/${input.organization.memberRoleName}`,
      // Even if a Config rule outside the organization invokes the function, it cannot act there.
      Condition: { StringEquals: { "aws:ResourceOrgID": input.organization.organizationId } },
    });
  }
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * One account: reading the earlier results of this rule only. A policy of its own because the rule's
 * ARN exists only once the rule does, and the rule needs the function, which needs the main policy.
 */
export function readResultsPolicy(ruleArn: string): PolicyDocument {
  return { Version: "2012-10-17", Statement: [readResultsStatement(ruleArn)] };
}

function readResultsStatement(resource: Statement["Resource"]): Statement {
  return { Sid: "ReadOwnResults", Effect: "Allow", Action: [...READ_RESULTS_ACTIONS], Resource: resource };
}

/**
 * IAM reads and Config writes; ListAccessKeys and GetAccessKeyLastUsed (asked only with `maxUnusedDays`
 * set, for a key that may be unused) are scoped to users of `userArnPattern`'s account.
 */
function iamAndConfigStatements(userArnPattern: string): Statement[] {
  return [
    { Sid: "ReadCredentialReport", Effect: "Allow", Action: ["iam:GenerateCredentialReport", "iam:GetCredentialReport", "iam:ListUsers"], Resource: "*" },
    { Sid: "ReadAccessKeys", Effect: "Allow", Action: ["iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"], Resource: userArnPattern },
    { Sid: "WriteEvaluations", Effect: "Allow", Action: [...WRITE_EVALUATIONS_ACTIONS], Resource: "*" },
  ];
}

/**
 * A permissions boundary made of the policies of several roles: every statement kept, its Sid prefixed
 * with the role's name (`Evaluator`, `Reader`, ...) so Sids stay unique. A role carrying it can never be
 * granted more than keyage's roles need, whatever inline policy it is given.
 */
export function boundaryOf(parts: Record<string, PolicyDocument>): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: Object.entries(parts).flatMap(([role, policy]) => policy.Statement.map((s) => ({ ...s, Sid: `${role}${s.Sid}` }))),
  };
}

/** The Lambda's execution role may publish to the topic (its on-failure destination), and to nothing else. */
export function onFailurePublishPolicy(topicArn: string): PolicyDocument {
  return { Version: "2012-10-17", Statement: [{ Sid: "OnFailureDestination", Effect: "Allow", Action: ["sns:Publish"], Resource: topicArn }] };
}

/**
 * The notification topics keyage may create in an account (`<stem>-events` with the rotator, `<stem>-alarms`
 * without), as an ARN pattern: what a boundary lets the Lambdas' on-failure destinations publish to.
 */
export function notificationTopicsArn(partition: string, region: string, accountId: string, stem: string): string {
  return `arn:${partition}:sns:${region}:${accountId}:${stem}-*`;
}

/** The changes queue's SQS actions the evaluator needs (DeleteMessageBatch is authorized as sqs:DeleteMessage). */
export const READ_CHANGES_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage"] as const;
/** What the re-evaluation tick does: look at the queue's length, start this rule. */
export const REEVALUATE_ACTIONS = { queue: ["sqs:GetQueueAttributes"], start: ["config:StartConfigRulesEvaluation"] } as const;

/** `keyage:reevaluateOnChange`: the evaluator reads and deletes the messages of the changes queue, and no other queue's. */
export function readChangesPolicy(queueArn: string): PolicyDocument {
  return { Version: "2012-10-17", Statement: [{ Sid: "ReadKeyChanges", Effect: "Allow", Action: [...READ_CHANGES_ACTIONS], Resource: queueArn }] };
}

/**
 * The re-evaluation tick's role: the changes queue's length (never its messages), starting this rule's
 * evaluation (and no other rule's), and its own logs.
 */
export function reevaluatePolicy(input: { queueArn: string; ruleArn: string; logGroupArn: string }): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "CountKeyChanges", Effect: "Allow", Action: [...REEVALUATE_ACTIONS.queue], Resource: input.queueArn },
      { Sid: "StartOwnRule", Effect: "Allow", Action: [...REEVALUATE_ACTIONS.start], Resource: input.ruleArn },
      { Sid: "WriteOwnLogs", Effect: "Allow", Action: [...LOG_ACTIONS], Resource: `${input.logGroupArn}:*` },
    ],
  };
}

/**
 * The changes queue's resource policy: EventBridge may send to it only from keyage's us-east-1 rule
 * (`aws:SourceArn`), so no other rule, account or service can feed it through EventBridge.
 */
export function changeQueuePolicy(queueArn: string, eventRuleArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "KeyChangeEventsOnly", Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: ["sqs:SendMessage"], Resource: queueArn, Condition: { ArnEquals: { "aws:SourceArn": eventRuleArn } } },
    ],
  };
}

/** Inputs of {@link ruleBoundaryPolicy}. */
export interface RuleBoundaryInput extends ExecutionPolicyInput {
  region: string;
  /** ARN (pattern) of the notification topics the evaluator's on-failure destination may publish to. */
  notificationTopics: string;
  /** With `keyage:reevaluateOnChange`: the changes queues (ARN pattern) and the tick's log group ARN. */
  keyChanges?: { queues: string; logGroupArn: string };
}

/**
 * The permissions boundary of the Config rule's roles in the deploying account: the union of the
 * evaluator's policies (its main policy, and earlier results of this account's rules) and, in organization
 * mode, the management account's own reader role.
 */
export function ruleBoundaryPolicy(input: RuleBoundaryInput): PolicyDocument {
  const results = `arn:${input.partition}:config:${input.region}:${input.accountId}:config-rule/*`;
  return boundaryOf({
    Evaluator: executionRolePolicy(input),
    ...(input.organization ? { Reader: memberRolePolicy(input.partition, input.accountId, input.region) } : { EvaluatorResults: readResultsPolicy(results) }),
    EvaluatorOnFailure: onFailurePublishPolicy(input.notificationTopics),
    ...(input.keyChanges
      ? { EvaluatorChanges: readChangesPolicy(input.keyChanges.queues), Reevaluate: reevaluatePolicy({ queueArn: input.keyChanges.queues, ruleArn: results, logGroupArn: input.keyChanges.logGroupArn }) }
      : {}),
  });
}

/** Trust policy of the member role: only the Lambda's execution role may assume it. */
export function memberTrustPolicy(executionRoleArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "KeyageLambdaAssumes", Effect: "Allow", Principal: { AWS: executionRoleArn }, Action: ["sts:AssumeRole"] }],
  };
}

/**
 * The member role's permissions: the same IAM reads and Config writes, in the member account, and the
 * earlier results of this account's Config rules in `region` (the organization rule's member rule has an
 * ARN made by AWS Config in each account, unknown at deploy time).
 */
export function memberRolePolicy(partition: string, accountId: string, region: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [...iamAndConfigStatements(`arn:${partition}:iam::${accountId}:user/*`), readResultsStatement(`arn:${partition}:config:${region}:${accountId}:config-rule/*`)],
  };
}

/**
 * CloudFormation template of the member role, rolled out by the StackSet to every target account.
 * Parameter `ExecutionRoleArn`: the Lambda's execution role in the management or delegated account.
 */
export function memberRoleTemplate(memberRoleName: string): string {
  const policy = {
    Version: "2012-10-17",
    Statement: [
      ...iamAndConfigStatements("USER_ARN").map((s) =>
        s.Resource === "USER_ARN" ? { ...s, Resource: { "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*" } } : s,
      ),
      { ...readResultsStatement(undefined), Resource: { "Fn::Sub": "arn:${AWS::Partition}:config:${AWS::Region}:${AWS::AccountId}:config-rule/*" } },
    ],
  };
  const template = {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: "keyage: read-only role the keyage Config rule Lambda assumes to evaluate IAM access keys in this account",
    Parameters: {
      ExecutionRoleArn: { Type: "String", Description: "ARN of the keyage Lambda's execution role", AllowedPattern: "^arn:[a-z-]+:iam::\\d{12}:role/.+$" },
    },
    Resources: {
      MemberRole: {
        Type: "AWS::IAM::Role",
        Properties: {
          RoleName: memberRoleName,
          Description: "Assumed by the keyage AWS Config rule: reads IAM access keys, writes Config evaluations",
          AssumeRolePolicyDocument: {
            Version: "2012-10-17",
            Statement: [{ Sid: "KeyageLambdaAssumes", Effect: "Allow", Principal: { AWS: { Ref: "ExecutionRoleArn" } }, Action: ["sts:AssumeRole"] }],
          },
          Policies: [{ PolicyName: "keyage-read-keys-write-evaluations", PolicyDocument: policy }],
          PermissionsBoundary: { Ref: "Boundary" },
        },
      },
      // Every keyage role carries a boundary: here the role's own grants, so nothing added later can exceed them.
      Boundary: {
        Type: "AWS::IAM::ManagedPolicy",
        Properties: { ManagedPolicyName: `${memberRoleName}-boundary`, Description: "keyage: permissions boundary of the keyage Config rule's reader role", PolicyDocument: policy },
      },
    },
    Outputs: { MemberRoleArn: { Value: { "Fn::GetAtt": ["MemberRole", "Arn"] } } },
  };
  return JSON.stringify(template, null, 2);
}

/**
 * What `keyage audit` (and `keyage audit --organization` in each account) calls: the credential report and
 * the user list (no resource-level permission), each user's keys and, with `--max-unused-days`, when a key
 * was last used. Reads only (GenerateCredentialReport only asks IAM to build the report).
 */
export const AUDIT_ACTIONS = {
  report: ["iam:GenerateCredentialReport", "iam:GetCredentialReport", "iam:ListUsers"],
  keys: ["iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"],
} as const;

/** The audit role's permissions in an account: {@link AUDIT_ACTIONS}, the key reads on that account's users only. */
export function auditRolePolicy(userArnPattern: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadCredentialReport", Effect: "Allow", Action: [...AUDIT_ACTIONS.report], Resource: "*" },
      { Sid: "ReadAccessKeys", Effect: "Allow", Action: [...AUDIT_ACTIONS.keys], Resource: userArnPattern },
    ],
  };
}

/** Trust policy of the audit role: exactly these principals (role or user ARNs), nobody else. */
export function auditTrustPolicy(principals: readonly string[]): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "AuditorsAssume", Effect: "Allow", Principal: { AWS: [...principals] }, Action: ["sts:AssumeRole"] }],
  };
}

/**
 * CloudFormation template of the audit role, rolled out by a StackSet to every target account: the role,
 * trusted by `principals`, with {@link auditRolePolicy} in its own account, and a permissions boundary of
 * the same grants (`<roleName>-boundary`), as every keyage role carries one. No parameters: the trust is
 * part of the template, so changing `auditRoleTrust` updates every account's stack.
 */
export function auditRoleTemplate(roleName: string, principals: readonly string[]): string {
  const grants = auditRolePolicy("USER_ARN");
  const policy = {
    ...grants,
    Statement: grants.Statement.map((st) => (st.Resource === "USER_ARN" ? { ...st, Resource: { "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*" } } : st)),
  };
  const template = {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `keyage: read-only audit role for \`keyage audit --organization --role-name ${roleName}\``,
    Resources: {
      AuditRole: {
        Type: "AWS::IAM::Role",
        Properties: {
          RoleName: roleName,
          Description: "Assumed by keyage audit: reads the credential report and access keys, writes nothing",
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: auditTrustPolicy(principals),
          Policies: [{ PolicyName: "keyage-audit-read", PolicyDocument: policy }],
          PermissionsBoundary: { Ref: "Boundary" },
        },
      },
      Boundary: {
        Type: "AWS::IAM::ManagedPolicy",
        Properties: { ManagedPolicyName: `${roleName}-boundary`, Description: "keyage: permissions boundary of the keyage audit role", PolicyDocument: policy },
      },
    },
    Outputs: { AuditRoleArn: { Value: { "Fn::GetAtt": ["AuditRole", "Arn"] } } },
  };
  return JSON.stringify(template, null, 2);
}
