/**
 * A local stand-in for the parts of AWS keyage talks to, so the real SDK v3 can be tested over HTTP:
 * - IAM (query protocol, XML): ListUsers, ListAccessKeys, GenerateCredentialReport, GetCredentialReport,
 *   GetUser, GetAccessKeyLastUsed, CreateAccessKey, UpdateAccessKey, DeleteAccessKey,
 *   GetAccountAuthorizationDetails (Filter User: users with their tags, paged like ListUsers);
 * - STS (query protocol, XML): AssumeRole, GetCallerIdentity;
 * - AWS Config (JSON 1.1): PutEvaluations, GetComplianceDetailsByConfigRule.
 *
 * It listens on 127.0.0.1 only. Point the SDK at it with {@link FakeAws.env} (AWS_ENDPOINT_URL_IAM,
 * AWS_ENDPOINT_URL_CONFIG_SERVICE, AWS_ENDPOINT_URL_STS) or {@link FakeAws.withEnv}, or pass
 * `endpoint: fake.url` to a client. Everything is in memory and inspectable: `users`, `calls` (HTTP
 * requests by action, retries included), `evaluations`, `putRequests`.
 *
 * @example
 * const fake = await startFakeAws({ latencyMs: 20 });
 * fake.addUser("alice", { keys: [{ ageDays: 45 }] });
 * await fake.withEnv(() => handler(event, context));
 * assert.equal(fake.evaluations.get(fake.user("alice").userId)?.complianceType, "NON_COMPLIANT");
 * await fake.close();
 */
import { createHash, randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

const DAY_MS = 86_400_000;
const IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/";
const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";
/** IAM reuses a credential report for this long; older ones are "expired". */
export const REPORT_REUSE_MS = 4 * 3600_000;

/** An access key held by the fake. */
export interface FakeKey {
  accessKeyId: string;
  secretAccessKey: string;
  status: "Active" | "Inactive";
  createDate: Date;
  lastUsedDate?: Date;
  lastUsedService?: string;
  lastUsedRegion?: string;
}

/** An IAM user held by the fake. */
export interface FakeUser {
  name: string;
  userId: string;
  arn: string;
  path: string;
  createDate: Date;
  keys: FakeKey[];
}

/** How to create a key: its age in days at the fake's `now()` (or a date), and status. Default age 1 day, Active. */
export interface KeySpec {
  ageDays?: number;
  createDate?: Date;
  status?: "Active" | "Inactive";
  accessKeyId?: string;
  lastUsedDate?: Date;
}

/** An evaluation as stored by the fake's Config (last write per resource wins, TestMode writes are not stored). */
export interface StoredEvaluation {
  resourceType: string;
  resourceId: string;
  complianceType: string;
  annotation?: string;
  orderingTimestamp: Date;
  /** When the fake recorded it (its clock at PutEvaluations): GetComplianceDetails' ResultRecordedTime. */
  recordedAt: Date;
  resultToken: string;
}

/** One PutEvaluations request as received. */
export interface PutRequest {
  resultToken: string;
  testMode: boolean;
  evaluations: { ComplianceResourceType: string; ComplianceResourceId: string; ComplianceType: string; Annotation?: string; OrderingTimestamp: number }[];
}

/** An error to answer with instead of the real response. */
export interface Fault {
  /** AWS error code, e.g. `Throttling` (IAM), `ThrottlingException` (Config), `AccessDenied`, `NoSuchEntity`. */
  code: string;
  /** HTTP status. Default 400 (404 for NoSuchEntity, 403 for AccessDenied*). */
  status?: number;
  message?: string;
  /** How many matching requests fail. Default 1; `Infinity` for all. */
  times?: number;
  /** Only requests whose parameters satisfy this fail. Default: all of the action. */
  match?: (params: Record<string, unknown>) => boolean;
}

/** Options of {@link startFakeAws}. */
export interface FakeAwsOptions {
  /** Delay before every response, ms (simulates the network). Default 0. */
  latencyMs?: number;
  /** The fake account. Default `123456789012`. */
  accountId?: string;
  /** Clock used for ages, the report's GeneratedTime and its 4-hour reuse. Default `Date.now`. */
  now?: () => number;
  /** Most items IAM returns per ListUsers / ListAccessKeys page, whatever MaxItems says. Default 1000. */
  iamPageLimit?: number;
  /** INPROGRESS answers to GenerateCredentialReport between STARTED and COMPLETE. Default 1. */
  reportPolls?: number;
  /** The Config rule the fake's results belong to. Default `keyage-access-keys`. */
  ruleName?: string;
}

/**
 * A user id made from the user's name and how many users this fake has made before: the same in every
 * run, so what depends on it (the Config rule's per-user refresh point) does not make a test pass or
 * fail by chance.
 */
function stableId(prefix: string, seed: string, length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bytes = createHash("sha256").update(seed).digest();
  let out = prefix;
  for (let i = 0; i < length; i += 1) out += alphabet[(bytes[i] as number) % alphabet.length];
  return out;
}

function randomId(prefix: string, length = 16): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bytes = randomBytes(length);
  let out = prefix;
  for (let i = 0; i < length; i += 1) out += alphabet[(bytes[i] as number) % alphabet.length];
  return out;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** IAM and STS write timestamps as ISO 8601 with whole seconds. */
function isoSeconds(date: Date): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** The credential report writes `2024-01-15T10:00:00+00:00`. */
function reportTime(date: Date): string {
  return isoSeconds(date).replace("Z", "+00:00");
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/** An AWS error answer: throw it from an extension. */
export class AwsFault extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function defaultStatus(code: string): number {
  if (code === "NoSuchEntity") return 404;
  if (code.startsWith("AccessDenied")) return 403;
  if (code === "ServiceFailure" || code === "InternalFailure") return 500;
  return 400;
}

/** The running fake. Create with {@link startFakeAws}. */
export class FakeAws {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly accountId: string;
  /** Users by name, in creation order (ListUsers returns them in this order). */
  readonly users = new Map<string, FakeUser>();
  /** Users added so far (seeds the next user id). */
  private usersMade = 0;
  /** IAM user tags, by user name (GetAccountAuthorizationDetails returns them; `./secrets-manager` adds the tag actions). */
  readonly userTags = new Map<string, Map<string, string>>();
  /** HTTP requests received, by action (SDK retries count separately). */
  calls: Record<string, number> = {};
  /** Evaluations written (not in TestMode), by resource id. */
  readonly evaluations = new Map<string, StoredEvaluation>();
  /** Every PutEvaluations request, in order. */
  readonly putRequests: PutRequest[] = [];
  /** Per-response delay, ms; may be changed at any time. */
  latencyMs: number;
  /** Items per IAM page at most; may be changed at any time. */
  iamPageLimit: number;
  /** INPROGRESS answers before COMPLETE for the next generation; may be changed at any time. */
  reportPolls: number;
  /** The Config rule name results are stored under. */
  readonly ruleName: string;
  /** The clock. */
  readonly now: () => number;
  /** The current credential report, if one was generated. */
  report?: { generatedAt: Date; csv: string };
  /** When set, every GetCredentialReport returns this text (as bytes) instead of the real report. */
  reportOverride?: string;
  /** Runs before every request is answered (after faults): e.g. delete a user mid-run, or hold the answer. */
  beforeCall?: (action: string, params: Record<string, unknown>) => void | Promise<void>;
  /**
   * More actions, by IAM action name or JSON `X-Amz-Target` (e.g. `secretsmanager.PutSecretValue`): the
   * handler returns the XML inside `<ActionResult>` or the JSON body, or throws an {@link AwsFault}.
   */
  readonly extensions = new Map<string, (params: Record<string, unknown>) => unknown>();

  private generation?: { pollsLeft: number };
  private readonly faults = new Map<string, Fault[]>();
  private failedEvaluations = 0;
  private readonly server: http.Server;

  constructor(server: http.Server, options: FakeAwsOptions) {
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    this.accountId = options.accountId ?? "123456789012";
    this.latencyMs = options.latencyMs ?? 0;
    this.iamPageLimit = options.iamPageLimit ?? 1000;
    this.reportPolls = options.reportPolls ?? 1;
    this.ruleName = options.ruleName ?? "keyage-access-keys";
    this.now = options.now ?? Date.now;
  }

  /** Environment variables that point the SDK's IAM, Config and STS clients here. */
  env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_IAM: this.url,
      AWS_ENDPOINT_URL_CONFIG_SERVICE: this.url,
      AWS_ENDPOINT_URL_STS: this.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.url,
      AWS_ENDPOINT_URL_EVENTBRIDGE: this.url,
      AWS_ENDPOINT_URL_SQS: this.url,
    };
  }

  /** Runs `fn` with {@link env} set in `process.env`, restoring the previous values afterwards. */
  async withEnv<T>(fn: () => Promise<T> | T): Promise<T> {
    const vars = this.env();
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    try {
      return await fn();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }

  /** Adds a user (default created 400 days ago, no keys). Returns it. */
  addUser(name: string, options: { createDate?: Date; keys?: KeySpec[]; path?: string; userId?: string } = {}): FakeUser {
    const path = options.path ?? "/";
    const user: FakeUser = {
      name,
      userId: options.userId ?? stableId("AIDA", `${name}#${this.usersMade++}`, 17),
      arn: `arn:aws:iam::${this.accountId}:user${path}${name}`,
      path,
      createDate: options.createDate ?? new Date(this.now() - 400 * DAY_MS),
      keys: [],
    };
    this.users.set(name, user);
    for (const spec of options.keys ?? []) this.addKey(name, spec);
    return user;
  }

  /** Adds a key to a user. Returns it. */
  addKey(userName: string, spec: KeySpec = {}): FakeKey {
    const user = this.user(userName);
    const key: FakeKey = {
      accessKeyId: spec.accessKeyId ?? randomId("AKIA", 16),
      secretAccessKey: randomBytes(30).toString("base64").slice(0, 40),
      status: spec.status ?? "Active",
      createDate: spec.createDate ?? new Date(this.now() - (spec.ageDays ?? 1) * DAY_MS),
      ...(spec.lastUsedDate ? { lastUsedDate: spec.lastUsedDate, lastUsedService: "s3", lastUsedRegion: "us-east-1" } : {}),
    };
    user.keys.push(key);
    return key;
  }

  /** The user called `name`; throws if there is none. */
  user(name: string): FakeUser {
    const user = this.users.get(name);
    if (!user) throw new Error(`fake IAM has no user ${name}`);
    return user;
  }

  /** Deletes a user (their keys go with them). */
  deleteUser(name: string): void {
    this.users.delete(name);
    this.userTags.delete(name);
  }

  /**
   * Makes the current state the credential report, as generated at `at` (default now): the way to
   * set up a stale report (generate it, then change users).
   */
  generateReport(at: Date = new Date(this.now())): void {
    this.report = { generatedAt: at, csv: this.renderReport(at) };
    this.generation = undefined;
  }

  /** Makes the next matching requests of `action` fail with `fault`. */
  fail(action: string, fault: Fault): void {
    const list = this.faults.get(action) ?? [];
    list.push({ times: 1, ...fault });
    this.faults.set(action, list);
  }

  /** The next PutEvaluations answers its first `count` evaluations as FailedEvaluations (not stored). */
  failEvaluations(count: number): void {
    this.failedEvaluations = count;
  }

  /**
   * Stores a result for the rule as if written by an earlier run (e.g. a user since deleted), recorded a
   * day ago unless `options.recordedAt` says when, with `options.annotation` if given.
   */
  seedEvaluation(resourceId: string, complianceType = "COMPLIANT", resourceType = "AWS::IAM::User", options: { recordedAt?: Date; annotation?: string } = {}): void {
    const recordedAt = options.recordedAt ?? new Date(this.now() - DAY_MS);
    this.evaluations.set(resourceId, { resourceId, resourceType, complianceType, orderingTimestamp: recordedAt, recordedAt, resultToken: "seed", ...(options.annotation ? { annotation: options.annotation } : {}) });
  }

  /** Total HTTP requests received. */
  totalCalls(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  /** Forgets call counts and PutEvaluations requests (users, report and evaluations stay). */
  resetCounts(): void {
    this.calls = {};
    this.putRequests.length = 0;
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The credential report CSV for the current users, as IAM writes it. */
  renderReport(at: Date): string {
    const header =
      "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active," +
      "access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service," +
      "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service," +
      "cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
    const root = `<root_account>,arn:aws:iam::${this.accountId}:root,${reportTime(new Date(at.getTime() - 1000 * DAY_MS))},not_supported,N/A,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`;
    const rows = [...this.users.values()]
      .filter((u) => u.createDate.getTime() <= at.getTime())
      .map((u) => {
        const keys = u.keys.filter((k) => k.createDate.getTime() <= at.getTime()).sort((a, b) => a.createDate.getTime() - b.createDate.getTime());
        const slot = (k: FakeKey | undefined): string => {
          if (!k) return "false,N/A,N/A,N/A,N/A";
          const active = k.status === "Active";
          const used = k.lastUsedDate ? `${reportTime(k.lastUsedDate)},${k.lastUsedRegion},${k.lastUsedService}` : "N/A,N/A,N/A";
          return `${active},${active ? reportTime(k.createDate) : "N/A"},${used}`;
        };
        const name = u.name.includes(",") ? `"${u.name}"` : u.name;
        const arn = u.arn.includes(",") ? `"${u.arn}"` : u.arn;
        return `${name},${arn},${reportTime(u.createDate)},false,N/A,N/A,N/A,false,${slot(keys[0])},${slot(keys[1])},false,N/A,false,N/A`;
      });
    return [header, root, ...rows].join("\n") + "\n";
  }

  /** Answers one HTTP request. */
  async handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): Promise<void> {
    const target = req.headers["x-amz-target"];
    const json = typeof target === "string";
    let action: string;
    let params: Record<string, unknown>;
    if (json) {
      action = target.split(".").pop() as string;
      params = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    } else {
      const form = new URLSearchParams(body);
      action = form.get("Action") ?? "Unknown";
      params = Object.fromEntries(form.entries());
    }
    this.calls[action] = (this.calls[action] ?? 0) + 1;
    await sleep(this.latencyMs);
    try {
      this.applyFault(action, params);
      await this.beforeCall?.(action, params);
      const extension = this.extensions.get(json ? target : action);
      if (json) {
        const out = extension ? await extension(params) : this.config(action, params);
        res.writeHead(200, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomId("req-", 8) });
        res.end(JSON.stringify(out));
      } else {
        const ns = action === "AssumeRole" || action === "GetCallerIdentity" ? STS_NS : IAM_NS;
        const result = extension
          ? String(await extension(params))
          : action === "AssumeRole" || action === "GetCallerIdentity"
            ? this.sts(action, params)
            : this.iam(action, params);
        res.writeHead(200, { "content-type": "text/xml" });
        res.end(
          `<${action}Response xmlns="${ns}"><${action}Result>${result}</${action}Result>` +
            `<ResponseMetadata><RequestId>${randomId("req-", 8)}</RequestId></ResponseMetadata></${action}Response>`,
        );
      }
    } catch (err) {
      const fault = err instanceof AwsFault ? err : new AwsFault("InternalFailure", 500, String(err));
      if (json) {
        res.writeHead(fault.status, { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": fault.code });
        res.end(JSON.stringify({ __type: fault.code, message: fault.message }));
      } else {
        res.writeHead(fault.status, { "content-type": "text/xml" });
        res.end(
          `<ErrorResponse xmlns="${IAM_NS}"><Error><Type>${fault.status >= 500 ? "Receiver" : "Sender"}</Type>` +
            `<Code>${fault.code}</Code><Message>${xmlEscape(fault.message)}</Message></Error><RequestId>${randomId("req-", 8)}</RequestId></ErrorResponse>`,
        );
      }
    }
  }

  private applyFault(action: string, params: Record<string, unknown>): void {
    const list = this.faults.get(action);
    if (!list) return;
    const fault = list.find((f) => (f.times ?? 1) > 0 && (!f.match || f.match(params)));
    if (!fault) return;
    fault.times = (fault.times ?? 1) - 1;
    throw new AwsFault(fault.code, fault.status ?? defaultStatus(fault.code), fault.message ?? `${fault.code} (injected)`);
  }

  private page<T>(items: T[], params: Record<string, unknown>): { items: T[]; marker?: string } {
    const start = params.Marker ? Number(params.Marker) : 0;
    const max = Math.min(Number(params.MaxItems ?? 100), this.iamPageLimit);
    const slice = items.slice(start, start + max);
    return start + max < items.length ? { items: slice, marker: String(start + max) } : { items: slice };
  }

  private noSuchUser(name: unknown): AwsFault {
    return new AwsFault("NoSuchEntity", 404, `The user with name ${String(name)} cannot be found.`);
  }

  private truncation(marker: string | undefined): string {
    return marker === undefined ? "<IsTruncated>false</IsTruncated>" : `<IsTruncated>true</IsTruncated><Marker>${marker}</Marker>`;
  }

  private userXml(u: FakeUser): string {
    return `<Path>${xmlEscape(u.path)}</Path><UserName>${xmlEscape(u.name)}</UserName><UserId>${u.userId}</UserId><Arn>${xmlEscape(u.arn)}</Arn><CreateDate>${isoSeconds(u.createDate)}</CreateDate>`;
  }

  private keyXml(u: FakeUser, k: FakeKey, secret = false): string {
    return (
      `<UserName>${xmlEscape(u.name)}</UserName><AccessKeyId>${k.accessKeyId}</AccessKeyId><Status>${k.status}</Status>` +
      (secret ? `<SecretAccessKey>${k.secretAccessKey}</SecretAccessKey>` : "") +
      `<CreateDate>${isoSeconds(k.createDate)}</CreateDate>`
    );
  }

  private iam(action: string, params: Record<string, unknown>): string {
    const now = this.now();
    switch (action) {
      case "ListUsers": {
        const { items, marker } = this.page([...this.users.values()], params);
        return `<Users>${items.map((u) => `<member>${this.userXml(u)}</member>`).join("")}</Users>${this.truncation(marker)}`;
      }
      case "GetAccountAuthorizationDetails": {
        if (params["Filter.member.1"] !== "User" || params["Filter.member.2"] !== undefined) {
          throw new AwsFault("InvalidAction", 400, "fake IAM answers GetAccountAuthorizationDetails only for Filter=[User]");
        }
        const { items, marker } = this.page([...this.users.values()], params);
        const member = (u: FakeUser): string => {
          const tags = [...(this.userTags.get(u.name) ?? new Map<string, string>()).entries()];
          return (
            `<member>${this.userXml(u)}<UserPolicyList/><GroupList/><AttachedManagedPolicies/>` +
            `<Tags>${tags.map(([k, v]) => `<member><Key>${xmlEscape(k)}</Key><Value>${xmlEscape(v)}</Value></member>`).join("")}</Tags></member>`
          );
        };
        return `<UserDetailList>${items.map(member).join("")}</UserDetailList>${this.truncation(marker)}`;
      }
      case "GetUser": {
        const u = this.users.get(String(params.UserName));
        if (!u) throw this.noSuchUser(params.UserName);
        return `<User>${this.userXml(u)}</User>`;
      }
      case "ListAccessKeys": {
        const u = this.users.get(String(params.UserName));
        if (!u) throw this.noSuchUser(params.UserName);
        const { items, marker } = this.page(u.keys, params);
        return `<AccessKeyMetadata>${items.map((k) => `<member>${this.keyXml(u, k)}</member>`).join("")}</AccessKeyMetadata>${this.truncation(marker)}`;
      }
      case "GenerateCredentialReport": {
        if (this.report && now - this.report.generatedAt.getTime() < REPORT_REUSE_MS) {
          return `<State>COMPLETE</State>`;
        }
        if (!this.generation) {
          this.generation = { pollsLeft: this.reportPolls };
          return `<State>STARTED</State><Description>No report exists. Starting a new report generation task</Description>`;
        }
        if (this.generation.pollsLeft > 0) {
          this.generation.pollsLeft -= 1;
          return `<State>INPROGRESS</State>`;
        }
        this.generateReport(new Date(now));
        return `<State>COMPLETE</State>`;
      }
      case "GetCredentialReport": {
        if (!this.report) {
          if (this.generation) throw new AwsFault("ReportInProgress", 404, "Credential report is being generated.");
          throw new AwsFault("ReportNotPresent", 410, "Credential report is not present. Use GenerateCredentialReport to generate a report.");
        }
        if (now - this.report.generatedAt.getTime() >= REPORT_REUSE_MS) {
          throw new AwsFault("ReportExpired", 410, "Credential report is expired. Use GenerateCredentialReport to generate a new report.");
        }
        const content = Buffer.from(this.reportOverride ?? this.report.csv, "utf8").toString("base64");
        return `<Content>${content}</Content><ReportFormat>text/csv</ReportFormat><GeneratedTime>${isoSeconds(this.report.generatedAt)}</GeneratedTime>`;
      }
      case "GetAccessKeyLastUsed": {
        for (const u of this.users.values()) {
          const k = u.keys.find((key) => key.accessKeyId === params.AccessKeyId);
          if (!k) continue;
          const used = k.lastUsedDate
            ? `<LastUsedDate>${isoSeconds(k.lastUsedDate)}</LastUsedDate><ServiceName>${k.lastUsedService}</ServiceName><Region>${k.lastUsedRegion}</Region>`
            : `<ServiceName>N/A</ServiceName><Region>N/A</Region>`;
          return `<UserName>${xmlEscape(u.name)}</UserName><AccessKeyLastUsed>${used}</AccessKeyLastUsed>`;
        }
        throw new AwsFault("AccessDenied", 403, "The access key does not exist in this account.");
      }
      case "CreateAccessKey": {
        const u = this.users.get(String(params.UserName));
        if (!u) throw this.noSuchUser(params.UserName);
        if (u.keys.length >= 2) throw new AwsFault("LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2");
        const k = this.addKey(u.name, { ageDays: 0 });
        return `<AccessKey>${this.keyXml(u, k, true)}</AccessKey>`;
      }
      case "UpdateAccessKey":
      case "DeleteAccessKey": {
        const u = this.users.get(String(params.UserName));
        if (!u) throw this.noSuchUser(params.UserName);
        const k = u.keys.find((key) => key.accessKeyId === params.AccessKeyId);
        if (!k) throw new AwsFault("NoSuchEntity", 404, `The Access Key with id ${String(params.AccessKeyId)} cannot be found.`);
        if (action === "DeleteAccessKey") u.keys = u.keys.filter((key) => key !== k);
        else k.status = params.Status === "Inactive" ? "Inactive" : "Active";
        return "";
      }
      default:
        throw new AwsFault("InvalidAction", 400, `fake IAM does not implement ${action}`);
    }
  }

  private sts(action: string, params: Record<string, unknown>): string {
    if (action === "GetCallerIdentity") {
      return `<Arn>arn:aws:iam::${this.accountId}:user/caller</Arn><UserId>AIDACALLER</UserId><Account>${this.accountId}</Account>`;
    }
    const expiration = isoSeconds(new Date(this.now() + 3600_000));
    return (
      `<Credentials><AccessKeyId>ASIAFAKEFAKEFAKEFAKE</AccessKeyId><SecretAccessKey>fake-secret</SecretAccessKey>` +
      `<SessionToken>fake-session-token</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
      `<AssumedRoleUser><AssumedRoleId>AROAFAKE:${xmlEscape(String(params.RoleSessionName))}</AssumedRoleId><Arn>${xmlEscape(String(params.RoleArn))}</Arn></AssumedRoleUser>`
    );
  }

  private config(action: string, params: Record<string, unknown>): unknown {
    switch (action) {
      case "PutEvaluations": {
        const request: PutRequest = {
          resultToken: String(params.ResultToken),
          testMode: params.TestMode === true,
          evaluations: (params.Evaluations as PutRequest["evaluations"] | undefined) ?? [],
        };
        if (request.evaluations.length > 100) throw new AwsFault("ValidationException", 400, "Evaluations: at most 100");
        for (const e of request.evaluations) {
          if (e.Annotation !== undefined && (e.Annotation.length < 1 || e.Annotation.length > 256)) {
            throw new AwsFault("ValidationException", 400, `Annotation length ${e.Annotation.length} is not within 1-256`);
          }
          if (!["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"].includes(e.ComplianceType)) {
            throw new AwsFault("ValidationException", 400, `ComplianceType ${e.ComplianceType} is not valid`);
          }
        }
        this.putRequests.push(request);
        const failed = request.evaluations.slice(0, this.failedEvaluations);
        this.failedEvaluations = 0;
        if (!request.testMode) {
          for (const e of request.evaluations.slice(failed.length)) {
            this.evaluations.set(e.ComplianceResourceId, {
              resourceType: e.ComplianceResourceType,
              resourceId: e.ComplianceResourceId,
              complianceType: e.ComplianceType,
              ...(e.Annotation !== undefined ? { annotation: e.Annotation } : {}),
              orderingTimestamp: new Date(e.OrderingTimestamp * 1000),
              recordedAt: new Date(this.now()),
              resultToken: request.resultToken,
            });
          }
        }
        return { FailedEvaluations: failed };
      }
      case "GetComplianceDetailsByConfigRule": {
        const types = (params.ComplianceTypes as string[] | undefined) ?? [];
        const all = [...this.evaluations.values()].filter((e) => types.length === 0 || types.includes(e.complianceType));
        const limit = Math.min(Number(params.Limit ?? 10) || 10, 100);
        const start = params.NextToken ? Number(params.NextToken) : 0;
        const slice = all.slice(start, start + limit);
        return {
          EvaluationResults: slice.map((e) => ({
            EvaluationResultIdentifier: {
              EvaluationResultQualifier: { ConfigRuleName: this.ruleName, ResourceType: e.resourceType, ResourceId: e.resourceId },
              OrderingTimestamp: e.orderingTimestamp.getTime() / 1000,
            },
            ComplianceType: e.complianceType,
            ResultRecordedTime: e.recordedAt.getTime() / 1000,
            ConfigRuleInvokedTime: e.orderingTimestamp.getTime() / 1000,
            ...(e.annotation ? { Annotation: e.annotation } : {}),
          })),
          ...(start + limit < all.length ? { NextToken: String(start + limit) } : {}),
        };
      }
      default:
        throw new AwsFault("UnknownOperationException", 400, `fake Config does not implement ${action}`);
    }
  }
}

/**
 * Starts a fake on 127.0.0.1 (a free port). Close it with {@link FakeAws.close}.
 *
 * @param options latency (default 0), account (default 123456789012), clock (default `Date.now`),
 *   IAM page limit (default 1000), INPROGRESS polls before a report completes (default 1).
 */
export async function startFakeAws(options: FakeAwsOptions = {}): Promise<FakeAws> {
  let fake: FakeAws | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (fake as FakeAws).handle(req, Buffer.concat(chunks).toString("utf8"), res).catch((err: unknown) => {
        res.writeHead(500);
        res.end(String(err));
      });
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  fake = new FakeAws(server, options);
  return fake;
}
