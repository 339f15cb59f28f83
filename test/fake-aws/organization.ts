/**
 * An organization of fake accounts behind one endpoint, as the real SDK sees AWS: one URL for every
 * service, and the credentials of each request decide the account. It answers
 * - Organizations (JSON 1.1): ListAccounts, and over the OU tree ListChildren (OUs) and
 *   ListAccountsForParent, each paged by `MaxResults` / `NextToken` (page size `pageSize`); every
 *   account starts under the root `r-ab12`, {@link FakeOrganization.addOu} and
 *   {@link FakeOrganization.move} shape the tree;
 * - STS AssumeRole: into `arn:aws:iam::<account>:role/<name>` when that account exists and holds that role
 *   (else AccessDenied, as STS says when a role is missing or does not trust the caller); the session's
 *   access key id names the account;
 * and hands every other request to the fake of the account its credentials belong to (a session from
 * AssumeRole), or to the central account's fake (the caller's own credentials).
 *
 * @example
 * const org = await startFakeOrganization({ central: "111111111111", members: ["222222222222"] });
 * org.account("222222222222").addUser("alice");
 */
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { AwsFault, startFakeAws, type FakeAws } from "./index";

/** An account of the fake organization. */
export interface FakeAccount {
  readonly id: string;
  readonly fake: FakeAws;
  /** `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE` (ListAccounts' `State`). */
  state: string;
  /** Role names AssumeRole may enter. */
  readonly roles: Set<string>;
}

/** Options of {@link startFakeOrganization}. */
export interface FakeOrganizationOptions {
  /** The account whose credentials the caller holds (the rotator's). */
  central: string;
  /** The other accounts. */
  members: readonly string[];
  /** Role names every account holds at the start. Default none. */
  roles?: readonly string[];
  /** Clock of every account's fake. Default `Date.now`. */
  now?: () => number;
}

const TARGET_PREFIX = "AWSOrganizationsV20161128.";

/** The running organization. Create with {@link startFakeOrganization}. */
export class FakeOrganization {
  readonly url: string;
  readonly accounts = new Map<string, FakeAccount>();
  /** Accounts per ListAccounts page at most (AWS: 20). */
  pageSize = 20;
  /** Requests answered by the organization itself, by action. */
  readonly calls: Record<string, number> = {};
  /** AssumeRole requests, in order (role ARNs). */
  readonly assumed: string[] = [];
  /** Sessions handed out: access key id → account. */
  private readonly sessions = new Map<string, string>();
  /** The organization's root. */
  readonly root = "r-ab12";
  /** The OU tree: each account's and each OU's parent (accounts not listed sit under the root). */
  readonly parents = new Map<string, string>();
  /** OU ids. */
  readonly ous = new Set<string>();

  constructor(
    private readonly server: http.Server,
    readonly central: string,
  ) {
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** The account `id`; throws if there is none. */
  account(id: string): FakeAccount {
    const found = this.accounts.get(id);
    if (!found) throw new Error(`fake organization has no account ${id}`);
    return found;
  }

  /** Adds an OU under `parent` (default the root). */
  addOu(id: string, parent: string = this.root): void {
    this.ous.add(id);
    this.parents.set(id, parent);
  }

  /** Moves an account under `parent` (an OU or the root). */
  move(account: string, parent: string): void {
    this.account(account);
    this.parents.set(account, parent);
  }

  private parentOf(id: string): string {
    return this.parents.get(id) ?? this.root;
  }

  /** One page of `items`, as Organizations pages them. */
  private page<T>(items: T[], params: Record<string, unknown>): { items: T[]; next?: string } {
    const start = params.NextToken ? Number(params.NextToken) : 0;
    const size = Math.min(Number(params.MaxResults ?? this.pageSize), this.pageSize);
    return { items: items.slice(start, start + size), ...(start + size < items.length ? { next: String(start + size) } : {}) };
  }

  /** Answers one request, or hands it to an account's fake. */
  async handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): Promise<void> {
    const target = req.headers["x-amz-target"];
    if (typeof target === "string" && target.startsWith(TARGET_PREFIX)) {
      const action = target.slice(TARGET_PREFIX.length);
      this.calls[action] = (this.calls[action] ?? 0) + 1;
      try {
        const out = this.organizations(action, body ? (JSON.parse(body) as Record<string, unknown>) : {});
        res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify(out));
      } catch (err) {
        const fault = err instanceof AwsFault ? err : new AwsFault("ServiceException", 500, String(err));
        res.writeHead(fault.status, { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": fault.code });
        res.end(JSON.stringify({ __type: fault.code, message: fault.message }));
      }
      return;
    }
    const form = typeof target === "string" ? undefined : new URLSearchParams(body);
    if (form?.get("Action") === "AssumeRole") {
      this.calls.AssumeRole = (this.calls.AssumeRole ?? 0) + 1;
      this.assumeRole(String(form.get("RoleArn")), String(form.get("RoleSessionName")), res);
      return;
    }
    const keyId = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ""))?.[1] ?? "";
    const account = this.sessions.get(keyId) ?? this.central;
    await this.account(account).fake.handle(req, body, res);
  }

  private organizations(action: string, params: Record<string, unknown>): unknown {
    if (action === "ListChildren" || action === "ListAccountsForParent") {
      const parent = String(params.ParentId);
      if (parent !== this.root && !this.ous.has(parent)) throw new AwsFault("ParentNotFoundException", 400, "We can't find a root or OU with the ParentId that you specified.");
      if (action === "ListChildren") {
        if (params.ChildType !== "ORGANIZATIONAL_UNIT" && params.ChildType !== "ACCOUNT") throw new AwsFault("InvalidInputException", 400, "ChildType");
        const ids = params.ChildType === "ACCOUNT" ? [...this.accounts.keys()] : [...this.ous];
        const { items, next } = this.page(ids.filter((id) => this.parentOf(id) === parent), params);
        return { Children: items.map((Id) => ({ Id, Type: params.ChildType })), ...(next ? { NextToken: next } : {}) };
      }
      const { items, next } = this.page([...this.accounts.values()].filter((a) => this.parentOf(a.id) === parent), params);
      return { Accounts: items.map((a) => this.describe(a)), ...(next ? { NextToken: next } : {}) };
    }
    if (action !== "ListAccounts") throw new AwsFault("UnsupportedAPIEndpointException", 400, `fake Organizations does not implement ${action}`);
    const { items, next } = this.page([...this.accounts.values()], params);
    return next ? { Accounts: items.map((a) => this.describe(a)), NextToken: next } : { Accounts: items.map((a) => this.describe(a)) };
  }

  /** An account as Organizations describes it. */
  private describe(a: FakeAccount): Record<string, unknown> {
    return {
      Id: a.id,
      Arn: `arn:aws:organizations::${this.central}:account/o-abcdefghij/${a.id}`,
      Name: `account-${a.id}`,
      Email: `aws+${a.id}@example.com`,
      State: a.state,
      // The older field, as AWS still sends it.
      Status: a.state === "PENDING_CLOSURE" ? "PENDING_CLOSURE" : a.state === "SUSPENDED" ? "SUSPENDED" : "ACTIVE",
    };
  }

  private assumeRole(roleArn: string, sessionName: string, res: http.ServerResponse): void {
    this.assumed.push(roleArn);
    const m = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(roleArn);
    const account = m ? this.accounts.get(m[1] as string) : undefined;
    if (!m || !account || !account.roles.has(m[2] as string)) {
      res.writeHead(403, { "content-type": "text/xml" });
      res.end(
        `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
          `<Message>User is not authorized to perform: sts:AssumeRole on resource: ${roleArn}</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`,
      );
      return;
    }
    const keyId = `ASIA${account.id}${randomBytes(2).toString("hex").toUpperCase()}`;
    this.sessions.set(keyId, account.id);
    const expiration = new Date(account.fake.now() + 900_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    res.writeHead(200, { "content-type": "text/xml" });
    res.end(
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
        `<Credentials><AccessKeyId>${keyId}</AccessKeyId><SecretAccessKey>${randomBytes(20).toString("hex")}</SecretAccessKey>` +
        `<SessionToken>session-${keyId}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
        `<AssumedRoleUser><AssumedRoleId>AROAFAKE:${sessionName}</AssumedRoleId><Arn>arn:aws:sts::${account.id}:assumed-role/${m[2]}/${sessionName}</Arn></AssumedRoleUser>` +
        `</AssumeRoleResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    );
  }

  /** Stops listening, and every account's fake. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const a of this.accounts.values()) await a.fake.close();
  }
}

/** Starts an organization on 127.0.0.1 (a free port), one fake per account. Close it with {@link FakeOrganization.close}. */
export async function startFakeOrganization(options: FakeOrganizationOptions): Promise<FakeOrganization> {
  let org: FakeOrganization | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (org as FakeOrganization).handle(req, Buffer.concat(chunks).toString("utf8"), res).catch((err: unknown) => {
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
  org = new FakeOrganization(server, options.central);
  for (const id of [options.central, ...options.members]) {
    const fake = await startFakeAws({ accountId: id, now: options.now, reportPolls: 0 });
    org.accounts.set(id, { id, fake, state: "ACTIVE", roles: new Set(options.roles ?? []) });
  }
  return org;
}
