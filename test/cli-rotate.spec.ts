// `keyage rotate start|finish|cleanup` against IAM and Secrets Manager mocked at the SDK level
// (aws-sdk-client-mock): the safety checks, delivery failures, re-runs after interruptions, dry runs.
import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { runCli, sdkClients, type CliResult } from "./fixtures/cli";

const NOW = Date.parse("2026-11-29T12:00:00Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const OLD = "AKIAOLDOLDOLDOLD0001";
const NEW = "AKIANEWNEWNEWNEW0002";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzNEWSECRET";
const dir = mkdtempSync(path.join(tmpdir(), "keyage-rotate-"));
let fileNo = 0;
const freshPath = (): string => path.join(dir, `secret-${(fileNo += 1)}.json`);

interface Key {
  id: string;
  status?: "Active" | "Inactive";
  created: number;
  lastUsed?: number;
}

// Created in `before` and restored in `after`: a mock made at load time would intercept every IAMClient
// in the whole mocha run, other specs' included.
const mockIAMClient = () => mockClient(IAMClient);
let iam: ReturnType<typeof mockIAMClient>;
const mockSecretsManagerClient = () => mockClient(SecretsManagerClient);
let sm: ReturnType<typeof mockSecretsManagerClient>;

/** Makes IAM hold these keys for alice (ListAccessKeys and GetAccessKeyLastUsed agree). */
function holds(keys: Key[]): void {
  iam.on(ListAccessKeysCommand).resolves({
    AccessKeyMetadata: keys.map((k) => ({ UserName: "alice", AccessKeyId: k.id, Status: k.status ?? "Active", CreateDate: new Date(k.created) })),
  });
  for (const k of keys) {
    iam.on(GetAccessKeyLastUsedCommand, { AccessKeyId: k.id }).resolves({
      UserName: "alice",
      AccessKeyLastUsed: k.lastUsed === undefined ? { ServiceName: "N/A", Region: "N/A" } : { LastUsedDate: new Date(k.lastUsed), ServiceName: "s3", Region: "us-east-1" },
    });
  }
}

function rotate(argv: string[]): Promise<CliResult> {
  return runCli(["rotate", ...argv], { now: () => NOW, clients: sdkClients() });
}

function writes(): string[] {
  const calls = [
    ...iam.commandCalls(CreateAccessKeyCommand).map(() => "CreateAccessKey"),
    ...iam.commandCalls(UpdateAccessKeyCommand).map(() => "UpdateAccessKey"),
    ...iam.commandCalls(DeleteAccessKeyCommand).map(() => "DeleteAccessKey"),
    ...iam.commandCalls(TagUserCommand).map(() => "TagUser"),
    ...iam.commandCalls(UntagUserCommand).map(() => "UntagUser"),
    ...sm.commandCalls(PutSecretValueCommand).map(() => "PutSecretValue"),
  ];
  return calls;
}

const oneOldKey = (): Key[] => [{ id: OLD, created: NOW - 45 * DAY, lastUsed: NOW - HOUR }];

describe("keyage rotate", () => {
  before(() => {
    iam = mockIAMClient();
    sm = mockSecretsManagerClient();
  });
  beforeEach(() => {
    iam.reset();
    sm.reset();
    iam.on(CreateAccessKeyCommand).resolves({ AccessKey: { UserName: "alice", AccessKeyId: NEW, SecretAccessKey: SECRET, Status: "Active", CreateDate: new Date(NOW) } });
    sm.on(DescribeSecretCommand).resolves({ Name: "app/alice" });
    sm.on(PutSecretValueCommand).resolves({ VersionId: "v2" });
  });
  after(() => {
    iam.restore();
    sm.restore();
  });

  describe("start", () => {
    it("in a dry run reads the keys, says what it would do, and makes no write call", async () => {
      holds(oneOldKey());
      const file = freshPath();
      const result = await rotate(["start", "--user", "alice", "--output", file, "--secrets-manager", "app/alice"]);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /alice has 1 access key:\n  AKIAOLDOLDOLDOLD0001 \(Active, created 2026-10-15 12:00 UTC, last used 2026-11-29 11:00 UTC \(1 hour ago, s3\)\)\n/);
      assert.match(result.stdout, /\[dry run\] Would create a new access key for alice and deliver it to file .* and Secrets Manager secret app\/alice\.\n/);
      assert.match(result.stdout, /Nothing was changed \(dry run\)\. Add --apply to make these changes\.\n$/);
      assert.deepEqual(writes(), []);
      assert.equal(existsSync(file), false);
    });

    it("creates the key and writes it to a new file with mode 0600, never printing the secret", async () => {
      holds(oneOldKey());
      const file = freshPath();
      const result = await rotate(["start", "--user", "alice", "--output", file, "--apply"]);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { AccessKeyId: NEW, SecretAccessKey: SECRET });
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.match(result.stdout, /^Created access key AKIANEWNEWNEWNEW0002 for alice\.$/m);
      assert.match(result.stdout, /^Next: switch the application to AKIANEWNEWNEWNEW0002; once AKIAOLDOLDOLDOLD0001 is no longer used/m);
      assert.equal(result.stdout.includes(SECRET), false);
      assert.equal(result.stderr.includes(SECRET), false);
    });

    it("stores {AccessKeyId, SecretAccessKey} in Secrets Manager", async () => {
      holds(oneOldKey());
      const result = await rotate(["start", "--user", "alice", "--secrets-manager", "app/alice", "--apply"]);
      assert.equal(result.status, 0, result.stderr);
      const put = sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input;
      assert.equal(put?.SecretId, "app/alice");
      assert.deepEqual(JSON.parse(put?.SecretString ?? ""), { AccessKeyId: NEW, SecretAccessKey: SECRET });
      assert.match(result.stdout, /^Stored it in Secrets Manager secret app\/alice \(version v2\)\.$/m);
      assert.equal(result.stdout.includes(SECRET), false);
    });

    it("prints the secret on stdout only with --show-secret", async () => {
      holds(oneOldKey());
      const result = await rotate(["start", "--user", "alice", "--show-secret", "--apply"]);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^AccessKeyId: ${NEW}\nSecretAccessKey: ${SECRET.replace(/[/+]/g, "\\$&")}$`, "m"));
    });

    it("needs somewhere to deliver the secret", async () => {
      holds(oneOldKey());
      const result = await rotate(["start", "--user", "alice", "--apply"]);
      assert.equal(result.status, 2);
      assert.equal(result.stderr, "keyage: rotate start needs somewhere to put the new secret: --secrets-manager SECRET_ID, --output FILE or --show-secret\n");
      assert.deepEqual(writes(), []);
    });

    it("never overwrites an existing file, and creates no key when the file exists", async () => {
      holds(oneOldKey());
      const file = freshPath();
      writeFileSync(file, "precious\n");
      const result = await rotate(["start", "--user", "alice", "--output", file, "--apply"]);
      assert.equal(result.status, 2);
      assert.match(result.stderr, /already exists; keyage never overwrites a secret file/);
      assert.equal(readFileSync(file, "utf8"), "precious\n");
      assert.deepEqual(writes(), []);
    });

    it("refuses when the user already has two keys, naming the inactive one", async () => {
      holds([...oneOldKey(), { id: NEW, status: "Inactive", created: NOW - 100 * DAY, lastUsed: NOW - 60 * DAY }]);
      const result = await rotate(["start", "--user", "alice", "--output", freshPath(), "--apply"]);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /keyage: alice already has two keys \(IAM's maximum\): delete the inactive AKIANEWNEWNEWNEW0002 first .* or pass --delete-inactive\n/);
      assert.deepEqual(writes(), []);
    });

    it("with --delete-inactive deletes an inactive key unused for the grace period, then creates the new one", async () => {
      const spare = "AKIASPARESPARESPARE3";
      holds([{ id: spare, status: "Inactive", created: NOW - 100 * DAY, lastUsed: NOW - 60 * DAY }, ...oneOldKey()]);
      const result = await rotate(["start", "--user", "alice", "--output", freshPath(), "--delete-inactive", "--apply"]);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(iam.commandCalls(DeleteAccessKeyCommand).map((c) => c.args[0].input.AccessKeyId), [spare]);
      assert.equal(iam.commandCalls(CreateAccessKeyCommand).length, 1);
      assert.match(result.stdout, /Deleted the inactive key AKIASPARESPARESPARE3 to make room \(unused since 2026-09-30 12:00 UTC\)\./);
    });

    it("with --delete-inactive still refuses when the inactive key was used within the grace period", async () => {
      holds([{ id: "AKIASPARESPARESPARE3", status: "Inactive", created: NOW - 100 * DAY, lastUsed: NOW - 2 * DAY }, ...oneOldKey()]);
      const result = await rotate(["start", "--user", "alice", "--output", freshPath(), "--delete-inactive", "--apply"]);
      assert.equal(result.status, 1);
      assert.equal(
        result.stderr,
        "keyage: not deleting AKIASPARESPARESPARE3: it was last used 2026-11-27 12:00 UTC, within the 7 days grace period; try again after 2026-12-04 12:00 UTC\n",
      );
      assert.deepEqual(writes(), []);
    });

    it("deletes the new key again when Secrets Manager refuses the secret, and says so", async () => {
      holds(oneOldKey());
      sm.on(PutSecretValueCommand).rejects(Object.assign(new Error("User is not authorized to perform secretsmanager:PutSecretValue"), { name: "AccessDeniedException", $metadata: { httpStatusCode: 400 } }));
      const result = await rotate(["start", "--user", "alice", "--secrets-manager", "app/alice", "--apply"]);
      assert.equal(result.status, 3);
      assert.deepEqual(iam.commandCalls(DeleteAccessKeyCommand).map((c) => c.args[0].input.AccessKeyId), [NEW]);
      assert.match(result.stdout, /^Deleted AKIANEWNEWNEWNEW0002 again because its secret could not be delivered\.$/m);
      assert.match(result.stderr, /^keyage: delivering the new secret to Secrets Manager secret app\/alice failed, so the new key was deleted and nothing changed: .*access denied/);
      assert.equal(result.stdout.includes(SECRET) || result.stderr.includes(SECRET), false);
    });

    it("also removes the secret file it wrote when the Secrets Manager half of the delivery fails", async () => {
      holds(oneOldKey());
      sm.on(PutSecretValueCommand).rejects(Object.assign(new Error("Secret is scheduled for deletion"), { name: "InvalidRequestException", $metadata: { httpStatusCode: 400 } }));
      const file = freshPath();
      const result = await rotate(["start", "--user", "alice", "--output", file, "--secrets-manager", "app/alice", "--apply"]);
      assert.equal(result.status, 3);
      assert.equal(existsSync(file), false);
      assert.equal(iam.commandCalls(DeleteAccessKeyCommand).length, 1);
    });

    it("keeps the secret file when the Secrets Manager half fails and the new key cannot be deleted either", async () => {
      holds(oneOldKey());
      sm.on(PutSecretValueCommand).rejects(Object.assign(new Error("Secret is scheduled for deletion"), { name: "InvalidRequestException", $metadata: { httpStatusCode: 400 } }));
      iam.on(DeleteAccessKeyCommand).rejects(Object.assign(new Error("Rate exceeded"), { name: "Throttling", $metadata: { httpStatusCode: 400 } }));
      const file = freshPath();
      const result = await rotate(["start", "--user", "alice", "--output", file, "--secrets-manager", "app/alice", "--apply"]);
      assert.equal(result.status, 3);
      assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { AccessKeyId: NEW, SecretAccessKey: SECRET }, "the still-valid key's secret is not lost");
      assert.match(result.stderr, /deleting the new key AKIANEWNEWNEWNEW0002 failed too .*its secret is still in /);
      assert.equal(result.stderr.includes(SECRET), false);
    });

    it("refuses an existing --output file before deleting anything to make room", async () => {
      const spare = "AKIASPARESPARESPARE3";
      holds([{ id: spare, status: "Inactive", created: NOW - 100 * DAY, lastUsed: NOW - 60 * DAY }, ...oneOldKey()]);
      const file = freshPath();
      writeFileSync(file, "something else\n");
      const result = await rotate(["start", "--user", "alice", "--output", file, "--delete-inactive", "--apply"]);
      assert.equal(result.status, 2);
      assert.match(result.stderr, /already exists; keyage never overwrites a secret file/);
      assert.deepEqual(writes(), [], "bad usage changes nothing");
      assert.equal(readFileSync(file, "utf8"), "something else\n");
    });

    it("with --replace-undelivered refuses an existing --output file before deleting the undelivered key", async () => {
      holds([...oneOldKey(), { id: NEW, created: NOW - HOUR }]);
      const file = freshPath();
      writeFileSync(file, "");
      const result = await rotate(["start", "--user", "alice", "--output", file, "--replace-undelivered", "--apply"]);
      assert.equal(result.status, 2);
      assert.match(result.stderr, /already exists; keyage never overwrites a secret file/);
      assert.deepEqual(writes(), [], "the undelivered key is still there");
    });

    it("keeps the new key when a timed-out PutSecretValue did store it (read back)", async () => {
      holds(oneOldKey());
      sm.on(PutSecretValueCommand).rejects(Object.assign(new Error("socket hang up"), { name: "TimeoutError" }));
      // Holds the old key when start looks at it, the new one when it reads it back after the failed put.
      sm.on(GetSecretValueCommand)
        .resolvesOnce({ SecretString: JSON.stringify({ AccessKeyId: OLD, SecretAccessKey: "old" }) })
        .resolves({ SecretString: JSON.stringify({ AccessKeyId: NEW, SecretAccessKey: SECRET }) });
      const result = await rotate(["start", "--user", "alice", "--secrets-manager", "app/alice", "--apply"]);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(iam.commandCalls(DeleteAccessKeyCommand).length, 0);
    });

    it("deletes the new key when a timed-out PutSecretValue did not store it", async () => {
      holds(oneOldKey());
      sm.on(PutSecretValueCommand).rejects(Object.assign(new Error("socket hang up"), { name: "TimeoutError" }));
      sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ AccessKeyId: OLD, SecretAccessKey: "old" }) });
      const result = await rotate(["start", "--user", "alice", "--secrets-manager", "app/alice", "--apply"]);
      assert.equal(result.status, 3);
      assert.deepEqual(iam.commandCalls(DeleteAccessKeyCommand).map((c) => c.args[0].input.AccessKeyId), [NEW]);
    });

    it("keeps the new key and its secret file when it cannot tell whether Secrets Manager stored it", async () => {
      holds(oneOldKey());
      sm.on(PutSecretValueCommand).rejects(Object.assign(new Error("socket hang up"), { name: "TimeoutError" }));
      // Readable when start looks at it, unreachable when it reads it back after the failed put.
      sm.on(GetSecretValueCommand)
        .resolvesOnce({ SecretString: JSON.stringify({ AccessKeyId: OLD, SecretAccessKey: "old" }) })
        .rejects(Object.assign(new Error("socket hang up"), { name: "TimeoutError" }));
      const file = freshPath();
      const result = await rotate(["start", "--user", "alice", "--output", file, "--secrets-manager", "app/alice", "--apply"]);
      assert.equal(result.status, 3);
      assert.equal(iam.commandCalls(DeleteAccessKeyCommand).length, 0);
      assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { AccessKeyId: NEW, SecretAccessKey: SECRET });
      assert.match(result.stderr, /the new key AKIANEWNEWNEWNEW0002 is kept, since the secret may hold it/);
    });

    it("on a re-run after it completed, says the rotation is already started and changes nothing", async () => {
      holds([...oneOldKey(), { id: NEW, created: NOW - HOUR }]);
      const file = freshPath();
      writeFileSync(file, JSON.stringify({ AccessKeyId: NEW, SecretAccessKey: SECRET }));
      const result = await rotate(["start", "--user", "alice", "--output", file, "--apply"]);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /The rotation is already started: AKIANEWNEWNEWNEW0002 is active and in file /);
      assert.deepEqual(writes(), []);
    });

    it("treats a missing --output file as unknown: it never replaces a newer never-used key on that alone", async () => {
      holds([...oneOldKey(), { id: "AKIALOSTLOSTLOST0003", created: NOW - 2 * DAY }]);
      const result = await rotate(["start", "--user", "alice", "--output", freshPath(), "--replace-undelivered", "--apply"]);
      assert.equal(result.status, 1);
      assert.match(
        result.stderr,
        /the newer one, AKIALOSTLOSTLOST0003, was never used; keyage cannot tell whether anything holds its secret \(a missing --output file proves nothing\)/,
      );
      assert.deepEqual(writes(), []);
    });

    it("after an interruption between creating and delivering, explains, and with --replace-undelivered deactivates (never deletes) the key the secret does not hold", async () => {
      holds([...oneOldKey(), { id: "AKIALOSTLOSTLOST0003", created: NOW - 2 * DAY }]);
      sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ AccessKeyId: OLD, SecretAccessKey: "old" }) });
      const refused = await rotate(["start", "--user", "alice", "--secrets-manager", "app/alice", "--apply"]);
      assert.equal(refused.status, 1);
      assert.match(
        refused.stderr,
        /the newer one, AKIALOSTLOSTLOST0003, was never used and is not in Secrets Manager secret app\/alice \(it holds AKIAOLDOLDOLDOLD0001\): probably left by an interrupted start, its secret lost\. Re-run with --replace-undelivered/,
      );
      assert.deepEqual(writes(), []);

      const resumed = await rotate(["start", "--user", "alice", "--secrets-manager", "app/alice", "--replace-undelivered", "--apply"]);
      assert.equal(resumed.status, 0, resumed.stderr);
      assert.deepEqual(writes(), ["UpdateAccessKey", "TagUser"], "deactivated and its deactivation recorded; nothing deleted, nothing created");
      assert.deepEqual(iam.commandCalls(UpdateAccessKeyCommand)[0]?.args[0].input, { UserName: "alice", AccessKeyId: "AKIALOSTLOSTLOST0003", Status: "Inactive" });
      assert.deepEqual(iam.commandCalls(TagUserCommand)[0]?.args[0].input.Tags, [{ Key: "keyage:deactivated:0003", Value: new Date(NOW).toISOString() }]);
      assert.match(resumed.stdout, /^Deactivated AKIALOSTLOSTLOST0003 \(never used, and it is not in Secrets Manager secret app\/alice/m);
    });

    it("refuses a user with no keys, and reports an unknown user as bad input", async () => {
      holds([]);
      const none = await rotate(["start", "--user", "alice", "--show-secret", "--apply"]);
      assert.equal(none.status, 1);
      assert.equal(none.stderr, "keyage: alice has no access keys: there is nothing to rotate\n");
      iam.on(ListAccessKeysCommand).rejects(Object.assign(new Error("The user with name zoe cannot be found."), { name: "NoSuchEntityException" }));
      const unknown = await rotate(["start", "--user", "zoe", "--show-secret"]);
      assert.equal(unknown.status, 2);
      assert.equal(unknown.stderr, 'keyage: there is no IAM user named "zoe"\n');
    });

    it("rejects a bad --grace and a bad user name before calling AWS", async () => {
      const grace = await rotate(["finish", "--user", "alice", "--grace", "1.5"]);
      assert.equal(grace.status, 2);
      assert.equal(grace.stderr, 'keyage: --grace must be a whole number of hours from 1 to 87600, got "1.5"\n');
      const user = await rotate(["finish", "--user", "alice smith"]);
      assert.equal(user.status, 2);
      assert.match(user.stderr, /--user: "alice smith" is not an IAM user name/);
      assert.equal(iam.calls().length, 0);
    });
  });

  describe("finish", () => {
    it("refuses while the old key was used within the grace period, and says when it was last used", async () => {
      holds([{ id: OLD, created: NOW - 45 * DAY, lastUsed: NOW - 2 * HOUR }, { id: NEW, created: NOW - DAY, lastUsed: NOW - HOUR }]);
      const result = await rotate(["finish", "--user", "alice", "--apply"]);
      assert.equal(result.status, 1);
      assert.equal(
        result.stderr,
        "keyage: not deactivating AKIAOLDOLDOLDOLD0001: it was last used 2026-11-29 10:00 UTC (s3), 2 hours ago, within the 24 hours grace period. " +
          "Switch whatever still uses it to AKIANEWNEWNEWNEW0002, then run finish again after 2026-11-30 10:00 UTC\n",
      );
      assert.deepEqual(writes(), []);
    });

    it("deactivates only the older key once it has been unused for the grace period", async () => {
      holds([{ id: OLD, created: NOW - 45 * DAY, lastUsed: NOW - 3 * DAY }, { id: NEW, created: NOW - 4 * DAY, lastUsed: NOW - HOUR }]);
      const result = await rotate(["finish", "--user", "alice", "--apply"]);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(
        iam.commandCalls(UpdateAccessKeyCommand).map((c) => c.args[0].input),
        [{ UserName: "alice", AccessKeyId: OLD, Status: "Inactive" }],
      );
      assert.match(result.stdout, /^Deactivated AKIAOLDOLDOLDOLD0001 \(unused since 2026-11-26 12:00 UTC\); AKIANEWNEWNEWNEW0002 stays active\.$/m);
    });

    it("honours a shorter --grace", async () => {
      holds([{ id: OLD, created: NOW - 45 * DAY, lastUsed: NOW - 3 * HOUR }, { id: NEW, created: NOW - DAY, lastUsed: NOW - HOUR }]);
      const result = await rotate(["finish", "--user", "alice", "--grace", "2", "--apply"]);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(iam.commandCalls(UpdateAccessKeyCommand).length, 1);
    });

    it("in a dry run says it would deactivate and makes no write call", async () => {
      holds([{ id: OLD, created: NOW - 45 * DAY, lastUsed: NOW - 3 * DAY }, { id: NEW, created: NOW - 4 * DAY, lastUsed: NOW - HOUR }]);
      const result = await rotate(["finish", "--user", "alice"]);
      assert.equal(result.status, 0);
      assert.match(result.stdout, /^\[dry run\] Would deactivate AKIAOLDOLDOLDOLD0001/m);
      assert.deepEqual(writes(), []);
    });

    it("never deactivates the user's only active key (a re-run after the old one was deactivated)", async () => {
      holds([{ id: OLD, status: "Inactive", created: NOW - 45 * DAY, lastUsed: NOW - 3 * DAY }, { id: NEW, created: NOW - 4 * DAY, lastUsed: NOW - HOUR }]);
      const result = await rotate(["finish", "--user", "alice", "--apply"]);
      assert.equal(result.status, 0);
      assert.match(result.stdout, /Nothing to deactivate: AKIANEWNEWNEWNEW0002 is alice's only active key, and keyage never deactivates the last one\./);
      assert.deepEqual(writes(), []);
    });

    it("warns when the new key has not been used yet", async () => {
      holds([{ id: OLD, created: NOW - 45 * DAY, lastUsed: NOW - 3 * DAY }, { id: NEW, created: NOW - 4 * DAY }]);
      const result = await rotate(["finish", "--user", "alice", "--apply"]);
      assert.equal(result.status, 0);
      assert.match(result.stderr, /warning: the new key AKIANEWNEWNEWNEW0002 has not been used yet/);
    });
  });

  describe("cleanup", () => {
    it("deletes an inactive key unused for a week and keeps the active one", async () => {
      holds([{ id: OLD, status: "Inactive", created: NOW - 45 * DAY, lastUsed: NOW - 8 * DAY }, { id: NEW, created: NOW - 9 * DAY, lastUsed: NOW - HOUR }]);
      const result = await rotate(["cleanup", "--user", "alice", "--apply"]);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(iam.commandCalls(DeleteAccessKeyCommand).map((c) => c.args[0].input), [{ UserName: "alice", AccessKeyId: OLD }]);
      assert.match(result.stdout, /^Deleted the inactive key AKIAOLDOLDOLDOLD0001 \(unused since 2026-11-21 12:00 UTC\)\.$/m);
    });

    it("refuses to delete an inactive key used within the grace period", async () => {
      holds([{ id: OLD, status: "Inactive", created: NOW - 45 * DAY, lastUsed: NOW - 2 * DAY }, { id: NEW, created: NOW - 9 * DAY, lastUsed: NOW - HOUR }]);
      const result = await rotate(["cleanup", "--user", "alice", "--apply"]);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /not deleting AKIAOLDOLDOLDOLD0001: it was last used 2026-11-27 12:00 UTC, within the 7 days grace period; delete it after 2026-12-04 12:00 UTC/);
      assert.deepEqual(writes(), []);
    });

    it("does not delete anything from a user with no active key", async () => {
      holds([{ id: OLD, status: "Inactive", created: NOW - 45 * DAY, lastUsed: NOW - 30 * DAY }]);
      const result = await rotate(["cleanup", "--user", "alice", "--apply"]);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /alice has no active key: keyage does not delete the inactive ones/);
      assert.deepEqual(writes(), []);
    });

    it("has nothing to do on a re-run after the key was deleted", async () => {
      holds([{ id: NEW, created: NOW - 9 * DAY, lastUsed: NOW - HOUR }]);
      const result = await rotate(["cleanup", "--user", "alice", "--apply"]);
      assert.equal(result.status, 0);
      assert.match(result.stdout, /Nothing to delete: alice has no inactive keys\./);
      assert.deepEqual(writes(), []);
    });
  });
});
