// Organization mode of the scheduled rotator through the real SDK against a fake organization: one
// endpoint, the credentials of each request choosing the account (Organizations ListAccounts and STS
// AssumeRole answered by the organization, IAM and Secrets Manager by each account's fake, EventBridge by
// the central account's).
import { strict as assert } from "node:assert";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { IAMClient } from "@aws-sdk/client-iam";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { STSClient } from "@aws-sdk/client-sts";
import { jsonLogger } from "../aws/log";
import { runOrganization, type AccountClientFactory, type OrganizationDeps } from "../rotator/organization";
import { parseSettings, RotatorSettingsError } from "../rotator/settings";
import { secretDocument } from "../shared";
import { addEventBridge, type FakeEventBridge } from "./fake-aws/eventbridge";
import { addRotationServices, type FakeSecretsManager } from "./fake-aws/secrets-manager";
import { startFakeOrganization, type FakeOrganization } from "./fake-aws/organization";
import { DAY, HOUR } from "./rotator-harness";
import { ROTATOR_METRICS } from "../shared/metrics";
import { readEmf } from "./emf";

const CENTRAL = "111111111111";
const MEMBERS = ["222222222222", "333333333333"];
const ROLE = "keyage-rotator";

interface OrgWorld {
  org: FakeOrganization;
  sm: Map<string, FakeSecretsManager>;
  bus: FakeEventBridge;
  logs: string[];
  now: number;
  disposed: number;
  run(payload?: Record<string, unknown>, deps?: Partial<OrganizationDeps>): ReturnType<typeof runOrganization>;
  /** A user in `account` whose only key is `ageDays` old and in use, opted in to `app/<name>`. */
  optIn(account: string, name: string, ageDays: number): string;
  close(): Promise<void>;
}

async function startOrg(members: readonly string[] = MEMBERS): Promise<OrgWorld> {
  const state = { now: Date.parse("2026-03-01T02:00:00Z") };
  const org = await startFakeOrganization({ central: CENTRAL, members, roles: [ROLE], now: () => state.now });
  const sm = new Map([...org.accounts.values()].map((a) => [a.id, addRotationServices(a.fake)] as const));
  const bus = addEventBridge(org.account(CENTRAL).fake);
  const config = { endpoint: org.url, region: "us-east-1", maxAttempts: 2 };
  const organizations = new OrganizationsClient(config);
  const sts = new STSClient(config);
  const logs: string[] = [];
  const world: OrgWorld = {
    org,
    sm,
    bus,
    logs,
    disposed: 0,
    get now() {
      return state.now;
    },
    set now(v: number) {
      state.now = v;
    },
    run(payload = {}, deps = {}) {
      const settings = parseSettings({ mode: "apply", organization: { roleName: ROLE }, ...payload });
      const accountClients: AccountClientFactory = (credentials) => {
        const iam = new IAMClient({ ...config, credentials });
        const secrets = new SecretsManagerClient({ ...config, credentials });
        const events = new EventBridgeClient(config);
        return { iam, secrets, events, dispose: () => (world.disposed++, iam.destroy(), secrets.destroy(), events.destroy()) };
      };
      return runOrganization(
        { clients: { organizations, sts }, settings, now: () => state.now, log: jsonLogger({ level: "debug", write: (l) => void logs.push(l) }), sleep: async () => undefined, accountClients, ...deps },
        settings.organization!,
      );
    },
    optIn(account, name, ageDays) {
      const fake = org.account(account).fake;
      const user = fake.addUser(name, { keys: [{ ageDays, lastUsedDate: new Date(state.now - HOUR) }] });
      const key = user.keys[0]!;
      const accountSm = sm.get(account)!;
      accountSm.tagsOf(name).set("keyage:rotate", `secretsmanager:app/${name}`);
      accountSm.addSecret(`app/${name}`, secretDocument(key.accessKeyId, key.secretAccessKey), { "keyage:rotate": user.arn });
      return key.accessKeyId;
    },
    async close() {
      organizations.destroy();
      sts.destroy();
      await org.close();
    },
  };
  return world;
}

const detailsOf = (bus: FakeEventBridge, type: string) => bus.events.filter((e) => e.detailType === type).map((e) => e.detail);

describe("scheduled rotator: organization mode", function () {
  this.timeout(30_000);

  it("rotates due keys in every account through its rotator role, and publishes every account's events on the central bus, each naming its account", async () => {
    const w = await startOrg();
    try {
      const old = new Map([CENTRAL, ...MEMBERS].map((a) => [a, w.optIn(a, `app-${a.slice(0, 3)}`, 25)]));
      const summary = await w.run();
      assert.equal(summary.partial, false);
      assert.deepEqual(summary.runs.map((r) => r.account).sort(), [CENTRAL, ...MEMBERS]);
      assert.deepEqual([...w.org.assumed].sort(), [CENTRAL, ...MEMBERS].map((a) => `arn:aws:iam::${a}:role/${ROLE}`));
      for (const [account, oldKey] of old) {
        const name = `app-${account.slice(0, 3)}`;
        const keys = w.org.account(account).fake.user(name).keys;
        assert.equal(keys.length, 2, `${account}: a new key next to the old one`);
        const fresh = keys.find((k) => k.accessKeyId !== oldKey)!;
        assert.equal(w.sm.get(account)!.currentKeyId(`app/${name}`), fresh.accessKeyId, `${account}: the secret holds the new key`);
        assert.equal(w.sm.get(account)!.currentKeyId(`app/${name}`, "AWSPREVIOUS"), oldKey);
      }
      const rotated = detailsOf(w.bus, "Access Key Rotated");
      assert.deepEqual(rotated.map((d) => d.account).sort(), [CENTRAL, ...MEMBERS]);
      assert.deepEqual(summary.totals.steps, { create: 3, deactivate: 0, delete: 0 });
      assert.equal(summary.calls.AssumeRole, 3);
      assert.equal(summary.calls.ListAccounts, 1);
    } finally {
      await w.close();
    }
  });

  it("takes a new 15-minute session in every account on every run, and frees each account's clients after its run", async () => {
    const w = await startOrg();
    try {
      await w.run({ mode: "plan" });
      await w.run({ mode: "plan" });
      assert.equal(w.org.calls.AssumeRole, 6);
      assert.equal(w.disposed, 6);
    } finally {
      await w.close();
    }
  });

  it("reads every page of the organization's accounts, and leaves out suspended, closing and excluded accounts", async () => {
    const members = ["222222222222", "333333333333", "444444444444", "555555555555", "666666666666"];
    const w = await startOrg(members);
    try {
      w.org.pageSize = 2;
      w.org.account("333333333333").state = "SUSPENDED";
      w.org.account("444444444444").state = "PENDING_CLOSURE";
      const summary = await w.run({ mode: "plan", organization: { roleName: ROLE, excludedAccounts: ["555555555555"] } });
      assert.equal(w.org.calls.ListAccounts, 3, "six accounts, two a page");
      assert.deepEqual(summary.runs.map((r) => r.account).sort(), [CENTRAL, "222222222222", "666666666666"]);
      assert.equal(summary.accounts, 4);
      assert.equal(summary.excluded, 1);
      assert.ok(!w.org.assumed.some((arn) => /333333333333|444444444444|555555555555/.test(arn)), "no session in a suspended, closing or excluded account");
      assert.equal(summary.partial, false);
    } finally {
      await w.close();
    }
  });

  it("skips, logs and counts an account whose role cannot be assumed, and rotates in the others as usual", async () => {
    const w = await startOrg();
    try {
      const [missing, present] = MEMBERS as [string, string];
      w.org.account(missing).roles.clear();
      w.optIn(missing, "svc-a", 25);
      w.optIn(present, "svc-b", 25);
      const summary = await w.run();
      assert.deepEqual(summary.unreachable.map((u) => u.account), [missing]);
      assert.match(summary.unreachable[0]!.error, /AccessDenied/);
      assert.equal(summary.partial, true);
      assert.equal(w.org.account(missing).fake.user("svc-a").keys.length, 1, "nothing changes where the rotator could not go");
      assert.equal(w.org.account(present).fake.user("svc-b").keys.length, 2, "the other account still rotates");
      const line = w.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.account === missing && l.level === "error");
      assert.match(String(line?.message), /rotator role could not be assumed/);
      assert.match(String(line?.role), new RegExp(`arn:aws:iam::${missing}:role/${ROLE}`));
    } finally {
      await w.close();
    }
  });

  it("counts an account whose users cannot be listed as failed, and still runs the others", async () => {
    const w = await startOrg();
    try {
      const [broken, fine] = MEMBERS as [string, string];
      w.org.account(broken).fake.fail("GetAccountAuthorizationDetails", { code: "AccessDenied", times: Infinity });
      w.optIn(fine, "svc-b", 25);
      const summary = await w.run();
      assert.deepEqual(summary.failed.map((f) => f.account), [broken]);
      assert.equal(summary.partial, true);
      assert.equal(w.org.account(fine).fake.user("svc-b").keys.length, 2);
      assert.deepEqual(summary.runs.map((r) => r.account).sort(), [CENTRAL, fine]);
    } finally {
      await w.close();
    }
  });

  it("starts at another account each day, so a run cut short by the deadline never leaves the same accounts behind twice", async () => {
    const w = await startOrg();
    try {
      const first = new Set<string>();
      for (let day = 0; day < 3; day += 1) {
        const before = w.org.assumed.length;
        // Time for one account only: the deadline arrives as soon as the first session is taken.
        const summary = await w.run({ mode: "plan" }, { accountConcurrency: 1, remainingMs: () => (w.org.assumed.length > before ? 0 : 60_000), reserveMs: 1_000 });
        assert.equal(summary.notReached.length, 2);
        assert.equal(summary.partial, true);
        first.add(w.org.assumed[before]!.split(":")[4]!);
        w.now += DAY;
      }
      assert.deepEqual([...first].sort(), [CENTRAL, ...MEMBERS]);
      assert.ok(w.logs.some((l) => l.includes("the deadline came before these accounts")));
    } finally {
      await w.close();
    }
  });

  it("changes nothing in any account in plan mode", async () => {
    const w = await startOrg();
    try {
      const keys = MEMBERS.map((a) => w.optIn(a, `svc-${a.slice(0, 3)}`, 25));
      const summary = await w.run({ mode: "plan" });
      assert.deepEqual(summary.totals.steps, { create: 2, deactivate: 0, delete: 0 }, "the steps are planned");
      MEMBERS.forEach((a, i) => {
        assert.deepEqual(w.org.account(a).fake.user(`svc-${a.slice(0, 3)}`).keys.map((k) => k.accessKeyId), [keys[i]]);
      });
      assert.deepEqual(detailsOf(w.bus, "Access Key Rotated"), []);
      assert.deepEqual(detailsOf(w.bus, "Access Key Expiring").map((d) => d.account).sort(), MEMBERS);
    } finally {
      await w.close();
    }
  });

  it("fails before any account is touched when the accounts cannot be listed", async () => {
    const w = await startOrg();
    try {
      // Nothing listens on port 9: Organizations is unreachable.
      const organizations = new OrganizationsClient({ endpoint: "http://127.0.0.1:9", region: "us-east-1", maxAttempts: 1 });
      const sts = new STSClient({ endpoint: w.org.url, region: "us-east-1" });
      try {
        await assert.rejects(w.run({}, { clients: { organizations, sts } }));
        assert.deepEqual(w.org.assumed, []);
      } finally {
        organizations.destroy();
        sts.destroy();
      }
    } finally {
      await w.close();
    }
  });
});

describe("scheduled rotator: organization mode runs only where the member role was rolled out", function () {
  this.timeout(30_000);
  const [DEEP, OUTSIDE, SHALLOW] = ["222222222222", "333333333333", "444444444444"];
  const [TARGET, NESTED, OTHER] = ["ou-ab12-aaaaaaaa", "ou-ab12-bbbbbbbb", "ou-ab12-cccccccc"];

  /** root ─ TARGET ─ NESTED ─ DEEP; TARGET ─ SHALLOW; root ─ OTHER ─ OUTSIDE (no role there); CENTRAL (management) under the root. */
  async function tree(): Promise<OrgWorld> {
    const w = await startOrg([DEEP, OUTSIDE, SHALLOW]);
    w.org.addOu(TARGET);
    w.org.addOu(NESTED, TARGET);
    w.org.addOu(OTHER);
    w.org.move(DEEP, NESTED);
    w.org.move(SHALLOW, TARGET);
    w.org.move(OUTSIDE, OTHER);
    w.org.account(OUTSIDE).roles.clear();
    return w;
  }

  it("neither tries nor counts unreachable an account outside the targets, and rotates in an account two OUs deep inside a target", async () => {
    const w = await tree();
    try {
      const deepKey = w.optIn(DEEP, "deep", 25);
      w.optIn(OUTSIDE, "outside", 25);
      const summary = await w.run({ organization: { roleName: ROLE, targets: [TARGET], managementAccount: false } });
      assert.deepEqual(summary.unreachable, [], "an account without the role is not a fault");
      assert.equal(summary.partial, false);
      assert.deepEqual(summary.runs.map((r) => r.account).sort(), [DEEP, SHALLOW]);
      assert.ok(!w.org.assumed.some((arn) => arn.includes(OUTSIDE) || arn.includes(CENTRAL)), "no session outside the targets");
      assert.equal(summary.outsideTargets, 2, "the other OU's account and the management account");
      assert.equal(summary.accounts, 4);
      const keys = w.org.account(DEEP).fake.user("deep").keys;
      assert.equal(keys.length, 2, "the key two OUs down was rotated");
      assert.ok(keys.some((k) => k.accessKeyId !== deepKey));
      assert.equal(w.org.account(OUTSIDE).fake.user("outside").keys.length, 1);
      assert.ok((w.org.calls.ListChildren ?? 0) >= 2 && (w.org.calls.ListAccountsForParent ?? 0) >= 2, "the OU tree was walked");
    } finally {
      await w.close();
    }
  });

  it("adds the management account when deploy made its role there, takes an account id target as is, and a root target as every account", async () => {
    const w = await tree();
    try {
      const withManagement = await w.run({ mode: "plan", organization: { roleName: ROLE, targets: [NESTED, OUTSIDE] } });
      assert.deepEqual(withManagement.runs.map((r) => r.account).sort(), [CENTRAL, DEEP]);
      assert.deepEqual(withManagement.unreachable.map((u) => u.account), [OUTSIDE], "named as a target, so its missing role is a fault");
      w.org.account(OUTSIDE).roles.add(ROLE);
      const root = await w.run({ mode: "plan", organization: { roleName: ROLE, targets: [w.org.root], excludedAccounts: [SHALLOW] } });
      assert.deepEqual(root.runs.map((r) => r.account).sort(), [CENTRAL, DEEP, OUTSIDE]);
      assert.equal(root.outsideTargets, 0);
      assert.equal(root.excluded, 1);
    } finally {
      await w.close();
    }
  });

  it("leaves out the management account from a delegated administrator's deployment even with a root target, since StackSets never deploy there", async () => {
    const w = await tree();
    try {
      w.org.account(CENTRAL).roles.clear();
      w.org.account(OUTSIDE).roles.add(ROLE);
      const summary = await w.run({ mode: "plan", organization: { roleName: ROLE, targets: [], managementAccount: false } });
      assert.deepEqual(summary.runs.map((r) => r.account).sort(), [DEEP, OUTSIDE, SHALLOW]);
      assert.ok(!summary.runs.some((r) => r.account === CENTRAL));
      assert.ok(!summary.unreachable.some((u) => u.account === CENTRAL));
    } finally {
      await w.close();
    }
  });

  it("fails before any account is touched when a target cannot be walked, naming it", async () => {
    const w = await tree();
    try {
      await assert.rejects(w.run({ organization: { roleName: ROLE, targets: ["ou-ab12-dddddddd"] } }), /organization target ou-ab12-dddddddd: ParentNotFoundException/);
      assert.deepEqual(w.org.assumed, []);
    } finally {
      await w.close();
    }
  });

  it("writes the whole organization run's figures as metrics once, on the organization summary line, not per account", async () => {
    const w = await tree();
    try {
      w.optIn(DEEP, "deep", 25);
      w.org.account(SHALLOW).roles.clear();
      await w.run({ organization: { roleName: ROLE, targets: [TARGET], managementAccount: false } }, { functionName: "keyage-rotator-1" });
      const lines = w.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(lines.filter((l) => l.message === "run summary").every((l) => l._aws === undefined), "no metrics per account");
      const emf = readEmf(lines.find((l) => l.message === "organization run summary")!);
      assert.deepEqual(Object.keys(emf.values), [...ROTATOR_METRICS]);
      assert.deepEqual(emf.dimensions, [{ FunctionName: "keyage-rotator-1" }]);
      assert.equal(emf.values.UnreachableAccounts, 1);
      assert.equal(emf.values.Created, 1);
      assert.equal(emf.values.Partial, 1);
    } finally {
      await w.close();
    }
  });
});

describe("scheduled rotator: organization settings", () => {
  it("reads the member role and the excluded accounts from the payload, and stays a single-account run without them", () => {
    assert.deepEqual(parseSettings({ organization: { roleName: ROLE, excludedAccounts: ["222222222222"] } }).organization, {
      roleName: ROLE, excludedAccounts: ["222222222222"], targets: [], managementAccount: true,
    });
    assert.deepEqual(parseSettings({ organization: { roleName: ROLE, targets: ["r-ab12", "ou-ab12-abcdefgh", "444444444444"], managementAccount: false } }).organization, {
      roleName: ROLE, excludedAccounts: [], targets: ["r-ab12", "ou-ab12-abcdefgh", "444444444444"], managementAccount: false,
    });
    assert.equal("organization" in parseSettings({}), false);
  });

  it("rejects a role name or an account id it cannot use, naming the field", () => {
    assert.throws(() => parseSettings({ organization: { roleName: "no spaces" } }), (e: Error) => e instanceof RotatorSettingsError && /organization\.roleName/.test(e.message));
    assert.throws(() => parseSettings({ organization: { roleName: ROLE, excludedAccounts: ["12"] } }), /organization\.excludedAccounts must be a list of 12-digit account ids, got \["12"\]/);
    assert.throws(() => parseSettings({ organization: { roleName: ROLE, targets: ["ou-x"] } }), /organization\.targets must be a list of root \(r-…\), OU \(ou-…-…\) or 12-digit account ids, got \["ou-x"\]/);
    assert.throws(() => parseSettings({ organization: { roleName: ROLE, managementAccount: "yes" } }), /organization\.managementAccount must be true or false, got "yes"/);
  });
});
