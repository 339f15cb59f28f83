// `keyage rotate` through the real AWS SDK over HTTP, against the local fake IAM (with user tags) and
// Secrets Manager: what a person sees and what is left in the account after each phase.
import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runCli, sdkClients, type CliResult } from "./fixtures/cli";
import { DEFAULTS } from "../pulumi/settings";
import { DEFAULT_CONFIG_RULE_NAME } from "../shared";
import { startFakeAws, type FakeAws } from "./fake-aws";
import { addRotationServices, type FakeSecretsManager } from "./fake-aws/secrets-manager";

const START = Date.parse("2026-11-29T12:00:00Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const OLD = "AKIAOLDOLDOLDOLD0001";
const NEW = "AKIANEWNEWNEWNEW0002";
const SPARE = "AKIASPARESPARESPARE3";
const dir = mkdtempSync(path.join(tmpdir(), "keyage-rotate-fake-"));

describe("keyage rotate against the fake IAM and Secrets Manager", () => {
  let now = START;
  let fake: FakeAws;
  let sm: FakeSecretsManager;

  beforeEach(async () => {
    now = START;
    fake = await startFakeAws({ now: () => now });
    sm = addRotationServices(fake);
    fake.addUser("alice");
  });
  afterEach(async () => fake.close());

  function rotate(argv: string[]): Promise<CliResult> {
    return runCli(["rotate", ...argv], { now: () => now, cwd: dir, clients: sdkClients({ region: "us-east-1", endpoint: fake.url, maxAttempts: 1 }) });
  }

  const keys = (): string[] => fake.user("alice").keys.map((k) => `${k.accessKeyId} ${k.status}`);
  const tags = (): Record<string, string> => Object.fromEntries(sm.tagsOf("alice"));
  const key = (id: string, ageDays: number, usedAgo?: number, status: "Active" | "Inactive" = "Active"): void => {
    fake.addKey("alice", { accessKeyId: id, ageDays, status, lastUsedDate: usedAgo === undefined ? undefined : new Date(START - usedAgo) });
  };
  const doc = (id: string): string => JSON.stringify({ AccessKeyId: id, SecretAccessKey: "secret" });

  describe("--replace-undelivered never deletes an active key that may be in use", () => {
    it("treats a missing --output file as unknown: the newer key stays active and nothing is created", async () => {
      key(OLD, 45, HOUR);
      key(NEW, 2);
      const result = await rotate(["start", "--user", "alice", "--output", "gone.json", "--replace-undelivered", "--apply"]);
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, /keyage cannot tell whether anything holds its secret \(a missing --output file proves nothing\)/);
      assert.deepEqual(keys(), [`${OLD} Active`, `${NEW} Active`]);
      assert.equal(existsSync(path.join(dir, "gone.json")), false);
    });

    it("deactivates, never deletes, a never-used key the secret does not hold once it is older than the grace period", async () => {
      key(OLD, 45, HOUR);
      key(NEW, 2);
      sm.addSecret("app/alice", doc(OLD));
      const result = await rotate(["start", "--user", "alice", "--secrets-manager", "app/alice", "--replace-undelivered", "--apply"]);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(keys(), [`${OLD} Active`, `${NEW} Inactive`], "deactivated, not deleted; no new key yet");
      assert.deepEqual(tags(), { "keyage:deactivated:0002": "2026-11-29T12:00:00.000Z" });
      assert.equal(sm.currentKeyId("app/alice"), OLD);
      assert.match(result.stdout, /^Next: after the grace period run keyage rotate cleanup --user alice --apply to delete AKIANEWNEWNEWNEW0002, then start again\.$/m);
    });

    it("leaves a never-used key younger than the grace period alone: IAM reports last use hours late", async () => {
      key(OLD, 45, HOUR);
      fake.addKey("alice", { accessKeyId: NEW, createDate: new Date(START - 2 * HOUR) });
      sm.addSecret("app/alice", doc(OLD));
      const result = await rotate(["start", "--user", "alice", "--secrets-manager", "app/alice", "--replace-undelivered", "--apply"]);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /not replacing AKIANEWNEWNEWNEW0002: it was created 2026-11-29 10:00 UTC, less than the 24 hours grace period ago/);
      assert.deepEqual(keys(), [`${OLD} Active`, `${NEW} Active`]);
    });
  });

  describe("bad usage changes nothing", () => {
    beforeEach(() => {
      key(SPARE, 100, 60 * DAY, "Inactive");
      key(OLD, 45, HOUR);
    });

    it("refuses an --output directory that does not exist before deleting the inactive key (exit 2)", async () => {
      const result = await rotate(["start", "--user", "alice", "--output", "no-such-dir/key.json", "--delete-inactive", "--apply"]);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /^keyage: --output "no-such-dir\/key\.json": the directory .*no-such-dir does not exist\n$/);
      assert.deepEqual(keys(), [`${SPARE} Inactive`, `${OLD} Active`]);
    });

    it("refuses an --output path under a regular file before any IAM write (exit 2)", async () => {
      writeFileSync(path.join(dir, "plain"), "");
      const result = await rotate(["start", "--user", "alice", "--output", "plain/key.json", "--delete-inactive", "--apply"]);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /^keyage: --output "plain\/key\.json": .*plain is not a directory\n$/);
      assert.deepEqual(keys(), [`${SPARE} Inactive`, `${OLD} Active`]);
    });

    it("refuses a secret scheduled for deletion before deleting the inactive key (exit 2)", async () => {
      sm.addSecret("app/alice", doc(OLD)).deletedDate = new Date(START - DAY);
      const result = await rotate(["start", "--user", "alice", "--secrets-manager", "app/alice", "--delete-inactive", "--apply"]);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /the secret "app\/alice" is scheduled for deletion \(restore it first: aws secretsmanager restore-secret --secret-id app\/alice\)/);
      assert.deepEqual(keys(), [`${SPARE} Inactive`, `${OLD} Active`]);
    });

    it("refuses a secret that does not exist before any IAM write (exit 2)", async () => {
      const result = await rotate(["start", "--user", "alice", "--secrets-manager", "app/nope", "--delete-inactive", "--apply"]);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /there is no secret "app\/nope" \(create it first/);
      assert.deepEqual(keys(), [`${SPARE} Inactive`, `${OLD} Active`]);
    });
  });

  describe("start --secrets-manager never takes over a secret that belongs to someone else", () => {
    beforeEach(() => {
      key(OLD, 45, HOUR);
      fake.addUser("bob");
    });
    const writes = (): number[] => ["CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "TagUser", "PutSecretValue"].map((a) => fake.calls[a] ?? 0);

    it("refuses a secret that holds bob's key (exit 2, before any IAM write), in the dry run too; --force stores anyway", async () => {
      const bobs = fake.addKey("bob", { accessKeyId: "AKIABOBBOBBOBBOB0009" });
      sm.addSecret("app/bob", doc(bobs.accessKeyId));
      const dry = await rotate(["start", "--user", "alice", "--secrets-manager", "app/bob"]);
      assert.equal(dry.status, 2, dry.stderr);
      assert.match(dry.stderr, /^keyage: --secrets-manager: Secrets Manager secret app\/bob holds the key …0009, which is not one of alice's keys: keyage never overwrites another user's key \(pass --force to overwrite it anyway\)\n$/);
      const applied = await rotate(["start", "--user", "alice", "--secrets-manager", "app/bob", "--apply"]);
      assert.equal(applied.status, 2, applied.stderr);
      assert.deepEqual(writes(), [0, 0, 0, 0, 0]);
      assert.equal(sm.currentKeyId("app/bob"), bobs.accessKeyId);
      const forced = await rotate(["start", "--user", "alice", "--secrets-manager", "app/bob", "--force", "--apply"]);
      assert.equal(forced.status, 0, forced.stderr);
      assert.match(forced.stderr, /^keyage: warning: --force: Secrets Manager secret app\/bob holds the key …0009, which is not one of alice's keys/);
      assert.notEqual(sm.currentKeyId("app/bob"), bobs.accessKeyId);
    });

    it("refuses a secret bound by its keyage:rotate tag to bob, even while it is empty", async () => {
      sm.addSecret("app/bob", undefined, { "keyage:rotate": fake.user("bob").arn });
      const result = await rotate(["start", "--user", "alice", "--secrets-manager", "app/bob", "--apply"]);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /is bound to another user: its keyage:rotate tag names arn:aws:iam::123456789012:user\/bob, not arn:aws:iam::123456789012:user\/alice/);
      assert.deepEqual(writes(), [0, 0, 0, 0, 0]);
    });

    it("refuses a secret holding a database password, and never prints it", async () => {
      sm.addSecret("app/db", JSON.stringify({ username: "app", password: "hunter2-db" }));
      const result = await rotate(["start", "--user", "alice", "--secrets-manager", "app/db", "--apply"]);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /holds a value that is not a keyage document/);
      assert.ok(!(result.stdout + result.stderr).includes("hunter2"));
      assert.deepEqual(writes(), [0, 0, 0, 0, 0]);
    });

    it("stores into a secret bound to alice herself, found by its partial ARN", async () => {
      const secret = sm.addSecret("app/alice", doc(OLD), { "keyage:rotate": fake.user("alice").arn });
      const result = await rotate(["start", "--user", "alice", "--secrets-manager", secret.arn.slice(0, -7), "--apply"]);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(sm.currentKeyId("app/alice", "AWSPREVIOUS"), OLD);
    });
  });

  describe("the wait before deletion counts from deactivation", () => {
    beforeEach(() => {
      key(OLD, 45, 8 * DAY);
      key(NEW, 9, HOUR);
    });

    it("finish then cleanup in the same minute keeps the key finish deactivated; a week later cleanup deletes it and its tag", async () => {
      const finished = await rotate(["finish", "--user", "alice", "--apply"]);
      assert.equal(finished.status, 0, finished.stderr);
      assert.deepEqual(keys(), [`${OLD} Inactive`, `${NEW} Active`]);
      assert.deepEqual(tags(), { "keyage:deactivated:0001": "2026-11-29T12:00:00.000Z" });

      now = START + 60_000;
      const early = await rotate(["cleanup", "--user", "alice", "--apply"]);
      assert.equal(early.status, 1);
      assert.equal(
        early.stderr,
        "keyage: not deleting AKIAOLDOLDOLDOLD0001: keyage deactivated it 2026-11-29 12:00 UTC, less than the 7 days grace period ago; delete it after 2026-12-06 12:00 UTC\n",
      );
      assert.deepEqual(keys(), [`${OLD} Inactive`, `${NEW} Active`]);

      now = START + 7 * DAY;
      const later = await rotate(["cleanup", "--user", "alice", "--apply"]);
      assert.equal(later.status, 0, later.stderr);
      assert.deepEqual(keys(), [`${NEW} Active`]);
      assert.deepEqual(tags(), {}, "the tag goes with its key");
      assert.match(later.stdout, /^Deleted the inactive key AKIAOLDOLDOLDOLD0001 \(unused since 2026-11-21 12:00 UTC, deactivated by keyage 2026-11-29 12:00 UTC\)\.$/m);
    });

    it("cleanup refuses while the remaining active key has never been used, unless --force", async () => {
      fake.user("alice").keys = [];
      key(OLD, 45, 30 * DAY, "Inactive");
      key(NEW, 9);
      const refused = await rotate(["cleanup", "--user", "alice", "--apply"]);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /alice's active key AKIANEWNEWNEWNEW0002 has never been used, so the switch to it may have failed .*pass --force to delete it anyway/);
      assert.deepEqual(keys(), [`${OLD} Inactive`, `${NEW} Active`]);
      const forced = await rotate(["cleanup", "--user", "alice", "--force", "--apply"]);
      assert.equal(forced.status, 0, forced.stderr);
      assert.deepEqual(keys(), [`${NEW} Active`]);
    });
  });

  describe("finish says how to re-evaluate the Config rule", () => {
    beforeEach(() => {
      key(OLD, 45, 3 * DAY);
      key(NEW, 4, HOUR);
    });

    it("prints start-config-rules-evaluation with the rule name the deploy program creates", async () => {
      assert.equal(DEFAULT_CONFIG_RULE_NAME, DEFAULTS.ruleName);
      const result = await rotate(["finish", "--user", "alice", "--apply"]);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /^Re-evaluate the AWS Config rule now \(a key rotation never triggers it by itself\): aws configservice start-config-rules-evaluation --config-rule-names keyage-access-key-age$/m);
    });

    it("uses --config-rule-name, and rejects a name AWS Config would not take", async () => {
      const dry = await rotate(["finish", "--user", "alice", "--config-rule-name", "team-key-age"]);
      assert.equal(dry.status, 0, dry.stderr);
      assert.match(dry.stdout, /--config-rule-names team-key-age$/m);
      const bad = await rotate(["finish", "--user", "alice", "--config-rule-name", "no spaces"]);
      assert.equal(bad.status, 2);
      assert.equal(bad.stderr, 'keyage: --config-rule-name: "no spaces" is not a Config rule name (1-64 letters, digits, hyphens or underscores)\n');
      assert.deepEqual(keys(), [`${OLD} Active`, `${NEW} Active`]);
    });
  });

  it("start delivers to Secrets Manager: the new key is AWSCURRENT, the old one AWSPREVIOUS", async () => {
    key(OLD, 45, HOUR);
    sm.addSecret("app/alice", doc(OLD));
    const result = await rotate(["start", "--user", "alice", "--secrets-manager", "app/alice", "--apply"]);
    assert.equal(result.status, 0, result.stderr);
    const fresh = fake.user("alice").keys.find((k) => k.accessKeyId !== OLD);
    assert.equal(sm.currentKeyId("app/alice"), fresh?.accessKeyId);
    assert.equal(sm.currentKeyId("app/alice", "AWSPREVIOUS"), OLD);
    assert.equal(result.stdout.includes(fresh?.secretAccessKey ?? "?"), false, "the secret is never printed unless asked");
  });
});
