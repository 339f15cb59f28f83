// Pulumi's unit-test mocks for the deploy program, shared by the deploy specs: every resource the program
// registers is handed to `onResource` with its inputs, and the AWS data sources it reads (partition,
// caller identity, region, organization) answer as one account in us-east-1 of organization o-abcdefghij.
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT = "123456789012";
export const ORG_ID = "o-abcdefghij";
export const ROOT = "r-ab12";

/** A resource as the program registered it. */
export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** The explicit provider's reference (`urn::id`), when the resource has one. */
  provider?: string;
}

/** The ARN a mocked resource gets: real shapes for the types keyage names in its policies, a mock one otherwise. */
function arnOf(type: string, name: string): string {
  switch (type) {
    case "aws:iam/role:Role":
      return `arn:aws:iam::${ACCOUNT}:role/${name}`;
    case "aws:lambda/function:Function":
      return `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;
    case "aws:cloudwatch/logGroup:LogGroup":
      return `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${name}`;
    case "aws:cfg/rule:Rule":
      return `arn:aws:config:us-east-1:${ACCOUNT}:config-rule/config-rule-${name.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 6)}`;
    case "aws:iam/policy:Policy":
      return `arn:aws:iam::${ACCOUNT}:policy/${name}`;
    case "aws:cloudformation/stackSet:StackSet":
      return `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stackset/${name}:0b5c3e7a-1d2f-4a6b-9c8d-7e6f5a4b3c2d`;
    case "aws:scheduler/schedule:Schedule":
      return `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule/default/${name}`;
    case "aws:sns/topic:Topic":
      return `arn:aws:sns:us-east-1:${ACCOUNT}:${name}`;
    case "aws:cloudwatch/eventRule:EventRule":
      return `arn:aws:events:us-east-1:${ACCOUNT}:rule/${name}`;
    case "aws:sqs/queue:Queue":
      return `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;
    default:
      return `arn:aws:mock:us-east-1:${ACCOUNT}:${type}/${name}`;
  }
}

/** Options of {@link setDeployMocks}. */
export interface DeployMockOptions {
  /** Receives every registered resource. */
  readonly onResource: (resource: Registered) => void;
  /** Receives the token of every data source read. Default: nothing. */
  readonly onInvoke?: (token: string) => void;
  /** A data source other than the four above: throw (default), or answer `{}`. */
  readonly unknownInvoke?: "throw" | "empty";
}

/** The value an output resolves to, under the mocks (the specs wait on it before reading what was registered). */
export function resolveOutput<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((done) => output.apply(done));
}

/** Installs the mocks (process-wide: call it in a `before` hook, before importing the program). */
export async function setDeployMocks(options: DeployMockOptions): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        options.onResource({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown>, ...(args.provider ? { provider: args.provider } : {}) });
        const name = (args.inputs as { name?: string }).name ?? args.name;
        const url = args.type === "aws:sqs/queue:Queue" ? { url: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${name}` } : {};
        return { id: `${args.name}-id`, state: { ...args.inputs, name, arn: arnOf(args.type, name), ...url } };
      },
      call(args) {
        options.onInvoke?.(args.token);
        switch (args.token) {
          case "aws:index/getPartition:getPartition":
            return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com" };
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return { id: ACCOUNT, accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/deployer`, userId: "AIDAEXAMPLE" };
          case "aws:index/getRegion:getRegion":
            return { id: "us-east-1", region: "us-east-1", name: "us-east-1" };
          case "aws:organizations/getOrganization:getOrganization":
            return { id: ORG_ID, arn: `arn:aws:organizations::${ACCOUNT}:organization/${ORG_ID}`, masterAccountId: ACCOUNT, roots: [{ id: ROOT, arn: "", name: "Root", policyTypes: [] }] };
          default:
            if (options.unknownInvoke === "empty") return {};
            throw new Error(`unexpected invoke ${args.token}`);
        }
      },
    },
    "keyage",
    "test",
    false,
  );
}
