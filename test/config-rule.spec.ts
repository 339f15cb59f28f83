// The Config rule with its AWS clients mocked at the SDK (aws-sdk-client-mock): dispatch, parameters,
// verdicts at the boundaries, the report/ListUsers join, batching, retries and logs.
import { strict as assert } from "node:assert";
import {
  ConfigServiceClient,
  GetComplianceDetailsByConfigRuleCommand,
  PutEvaluationsCommand,
  type Evaluation,
} from "@aws-sdk/client-config-service";
import {
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
  NoSuchEntityException,
  type AccessKeyMetadata,
  type User,
} from "@aws-sdk/client-iam";
import { mockClient } from "aws-sdk-client-mock";
import { configAnnotation, CREDENTIAL_REPORT_COLUMNS, DAY_MS, evaluateUser, ParameterError, validateParams } from "../shared";
import { EventError, PutEvaluationsError } from "../config-rule/errors";
import { evaluate, type EvaluateDeps, type RunSummary } from "../config-rule/evaluate";
import { readAccount } from "../aws/iam";
import { CONFIG_RULE_METRICS, METRIC_DIMENSION, METRIC_NAMESPACE } from "../shared/metrics";
import { readEmf } from "./emf";
import { lastRefreshPoint } from "../config-rule/evaluations";

const NOW = Date.parse("2026-11-29T12:00:00Z");
const ACCOUNT = "123456789012";
const CONTEXT = { getRemainingTimeInMillis: () => 300_000 };

function scheduled(ruleParameters: Record<string, unknown> = {}, resultToken = "token-1"): Record<string, unknown> {
  return {
    invokingEvent: JSON.stringify({ messageType: "ScheduledNotification", notificationCreationTime: "2026-11-29T11:59:00.000Z", awsAccountId: ACCOUNT }),
    ruleParameters: JSON.stringify(ruleParameters),
    resultToken,
    eventLeftScope: false,
    configRuleName: "keyage-access-keys",
    configRuleArn: `arn:aws:config:us-east-1:${ACCOUNT}:config-rule/config-rule-abc123`,
    accountId: ACCOUNT,
  };
}

function change(item: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const configurationItem = {
    resourceType: "AWS::IAM::User",
    resourceId: "AIDAALICE",
    resourceName: "alice",
    configurationItemStatus: "OK",
    configurationItemCaptureTime: "2026-11-29T11:30:00.000Z",
    ...item,
  };
  return {
    ...scheduled(),
    invokingEvent: JSON.stringify({ messageType: "ConfigurationItemChangeNotification", configurationItem, notificationCreationTime: "2026-11-29T11:31:00.000Z" }),
    ...extra,
  };
}

function user(name: string, createDate = new Date(NOW - 400 * DAY_MS)): User {
  return { UserName: name, UserId: `AIDA${name.toUpperCase()}`, Arn: `arn:aws:iam::${ACCOUNT}:user/${name}`, Path: "/", CreateDate: createDate };
}

function key(name: string, ageMs: number, id = `AKIAEXAMPLE${name.toUpperCase().padEnd(9, "X").slice(0, 9)}`, status = "Active"): AccessKeyMetadata {
  return { UserName: name, AccessKeyId: id, Status: status as "Active", CreateDate: new Date(NOW - ageMs) };
}

function reportTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "+00:00");
}

/** A credential report CSV: users with the age (ms) of an active key in slot 1, or none. */
function report(rows: { name: string; keyAgeMs?: number; created?: number }[]): Uint8Array {
  const lines = [CREDENTIAL_REPORT_COLUMNS.join(",")];
  lines.push(`<root_account>,arn:aws:iam::${ACCOUNT}:root,${reportTime(NOW - 900 * DAY_MS)},not_supported,N/A,not_supported,not_supported,true,true,${reportTime(NOW - 500 * DAY_MS)},N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`);
  for (const r of rows) {
    const k = r.keyAgeMs === undefined ? "false,N/A" : `true,${reportTime(NOW - r.keyAgeMs)}`;
    lines.push(
      `${r.name},arn:aws:iam::${ACCOUNT}:user/${r.name},${reportTime(r.created ?? NOW - 400 * DAY_MS)},false,N/A,N/A,N/A,false,${k},N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`,
    );
  }
  return Buffer.from(lines.join("\n") + "\n");
}

function setup(options: Partial<EvaluateDeps> = {}) {
  const iam = new IAMClient({});
  const config = new ConfigServiceClient({});
  const iamMock = mockClient(iam);
  const configMock = mockClient(config);
  configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
  configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [] });
  const lines: Record<string, unknown>[] = [];
  const roles: (string | undefined)[] = [];
  const deps: EvaluateDeps = {
    clients: async (roleArn) => {
      roles.push(roleArn);
      return { iam, config };
    },
    now: () => NOW,
    sleep: async () => undefined,
    log: (level, message, fields) => lines.push({ level, message, ...fields }),
    ...options,
  };
  const written = (): Evaluation[] => configMock.commandCalls(PutEvaluationsCommand).flatMap((c) => c.args[0].input.Evaluations ?? []);
  const byId = (id: string): Evaluation | undefined => written().find((e) => e.ComplianceResourceId === id);
  return { iam, config, iamMock, configMock, deps, lines, roles, written, byId };
}

async function rejects(promise: Promise<unknown>, type: new (...args: never[]) => Error, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    assert.match((err as Error).message, message);
    return true;
  });
}

describe("config rule: event and rule parameters", () => {
  it("rejects a maxAccessKeyAge out of range, naming the value and the range, and writes nothing", async () => {
    const t = setup();
    await rejects(evaluate(scheduled({ maxAccessKeyAge: "0" }), CONTEXT, t.deps), ParameterError, /maxAccessKeyAge must be a whole number of days from 1 to 3650, got "0"/);
    assert.equal(t.iamMock.calls().length + t.configMock.calls().length, 0);
    assert.equal(t.roles.length, 0, "no client was even built");
    const logged = t.lines.find((l) => l.level === "error");
    assert.match(String(logged?.message), /no evaluations written/);
    // The log says what is wrong in the user's words, without keyage's class names.
    assert.equal(logged?.error, 'maxAccessKeyAge must be a whole number of days from 1 to 3650, got "0"');
  });

  it("rejects warnDays not below maxAccessKeyAge and a misspelt parameter name", async () => {
    const t = setup();
    await rejects(evaluate(scheduled({ maxAccessKeyAge: 30, warnDays: 30 }), CONTEXT, t.deps), ParameterError, /warnDays must be a whole number of days from 0 to 29 \(less than maxAccessKeyAge = 30\), got 30/);
    await rejects(evaluate(scheduled({ maxAccesKeyAge: 30 }), CONTEXT, t.deps), ParameterError, /unknown rule parameter "maxAccesKeyAge"; expected maxAccessKeyAge, warnDays, exemptions, refreshDays, executionRoleName/);
    assert.equal(t.configMock.calls().length, 0);
  });

  it("rejects an event that is not a Config rule event keyage handles, saying why", async () => {
    const t = setup();
    await rejects(evaluate({ resultToken: "x" }, CONTEXT, t.deps), EventError, /the event has no invokingEvent/);
    await rejects(evaluate({ ...scheduled(), invokingEvent: "{not json" }, CONTEXT, t.deps), EventError, /invokingEvent is not valid JSON/);
    const other = { ...scheduled(), invokingEvent: JSON.stringify({ messageType: "ConfigurationSnapshotDeliveryCompleted", notificationCreationTime: "2026-11-29T11:59:00Z" }) };
    await rejects(evaluate(other, CONTEXT, t.deps), EventError, /messageType "ConfigurationSnapshotDeliveryCompleted" is not handled; expected one of ScheduledNotification, ConfigurationItemChangeNotification, OversizedConfigurationItemChangeNotification/);
    await rejects(evaluate(change({ resourceType: "AWS::IAM::Role" }), CONTEXT, t.deps), EventError, /resourceType "AWS::IAM::Role" is not evaluated by this rule; scope it to AWS::IAM::User/);
    await rejects(evaluate({ ...scheduled(), resultToken: undefined }, CONTEXT, t.deps), EventError, /resultToken must be a non-empty string/);
    assert.equal(t.iamMock.calls().length + t.configMock.calls().length, 0);
  });

  it("assumes executionRoleName in the evaluated account for organization rules", async () => {
    const t = setup();
    t.iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    await evaluate(change({}, { ruleParameters: JSON.stringify({ executionRoleName: "KeyageAudit" }), accountId: "210987654321" }), CONTEXT, t.deps);
    assert.deepEqual(t.roles, ["arn:aws:iam::210987654321:role/KeyageAudit"]);
  });

  it("frees clients made for one run when the run ends, whether it succeeded or failed", async () => {
    const t = setup();
    let disposed = 0;
    const deps: EvaluateDeps = { ...t.deps, clients: async () => ({ iam: t.iam, config: t.config, dispose: () => (disposed += 1) }) };
    t.iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    await evaluate(change({}, { ruleParameters: JSON.stringify({ executionRoleName: "KeyageAudit" }) }), CONTEXT, deps);
    assert.equal(disposed, 1);
    t.configMock.on(PutEvaluationsCommand).rejects(Object.assign(new Error("bad token"), { name: "InvalidResultTokenException" }));
    await assert.rejects(evaluate(change({}, { ruleParameters: JSON.stringify({ executionRoleName: "KeyageAudit" }) }), CONTEXT, deps), /bad token/);
    assert.equal(disposed, 2);
  });
});

describe("config rule: change notifications", () => {
  it("evaluates only the changed user, with one ListAccessKeys, as its UserId at the capture time", async () => {
    const t = setup();
    t.iamMock.on(ListAccessKeysCommand, { UserName: "alice" }).resolves({ AccessKeyMetadata: [key("alice", 45 * DAY_MS, "AKIAIOSFODNN7EXAMPLE")] });
    const summary = await evaluate(change(), CONTEXT, t.deps);
    assert.deepEqual(summary.calls, { ListAccessKeys: 1, PutEvaluations: 1 });
    assert.equal(t.iamMock.calls().length, 1);
    assert.deepEqual(t.written(), [
      {
        ComplianceResourceType: "AWS::IAM::User",
        ComplianceResourceId: "AIDAALICE",
        ComplianceType: "NON_COMPLIANT",
        Annotation: "Access key created 2026-10-15 passed the 30-day limit on 2026-11-14; rotate it.",
        OrderingTimestamp: new Date("2026-11-29T11:30:00.000Z"),
      },
    ]);
  });

  const boundaries: [string, number, string][] = [
    ["29 days 23:59:59", 30 * DAY_MS - 1000, "COMPLIANT"],
    ["exactly 30 days", 30 * DAY_MS, "COMPLIANT"],
    ["30 days and 1 ms", 30 * DAY_MS + 1, "NON_COMPLIANT"],
  ];
  for (const [label, age, expected] of boundaries) {
    it(`calls a key ${label} old ${expected} under the default 30-day limit`, async () => {
      const t = setup();
      t.iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [key("alice", age)] });
      await evaluate(change(), CONTEXT, t.deps);
      assert.equal(t.byId("AIDAALICE")?.ComplianceType, expected);
    });
  }

  it("uses maxAccessKeyAge from the rule parameters", async () => {
    const t = setup();
    t.iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [key("alice", 45 * DAY_MS)] });
    await evaluate(change({}, { ruleParameters: JSON.stringify({ maxAccessKeyAge: "90" }) }), CONTEXT, t.deps);
    assert.equal(t.byId("AIDAALICE")?.ComplianceType, "COMPLIANT");
    assert.equal(t.byId("AIDAALICE")?.Annotation, "Access key created 2026-10-15 is within the 90-day limit, which it reaches on 2027-01-13.");
  });

  it("marks a deleted user, or one that left the rule's scope, NOT_APPLICABLE without reading IAM", async () => {
    for (const event of [change({ configurationItemStatus: "ResourceDeleted" }), change({}, { eventLeftScope: true })]) {
      const t = setup();
      await evaluate(event, CONTEXT, t.deps);
      assert.equal(t.iamMock.calls().length, 0);
      assert.equal(t.byId("AIDAALICE")?.ComplianceType, "NOT_APPLICABLE");
    }
  });

  it("marks a user that vanished before its keys were read NOT_APPLICABLE", async () => {
    const t = setup();
    t.iamMock.on(ListAccessKeysCommand).rejects(new NoSuchEntityException({ message: "The user with name alice cannot be found.", $metadata: {} }));
    await evaluate(change(), CONTEXT, t.deps);
    assert.equal(t.byId("AIDAALICE")?.ComplianceType, "NOT_APPLICABLE");
    assert.equal(t.byId("AIDAALICE")?.Annotation, "The user no longer exists.");
  });

  it("reads an oversized notification's configurationItemSummary", async () => {
    const t = setup();
    t.iamMock.on(ListAccessKeysCommand, { UserName: "bob" }).resolves({ AccessKeyMetadata: [key("bob", 3 * DAY_MS)] });
    const configurationItemSummary = {
      resourceType: "AWS::IAM::User",
      resourceId: "AIDABOB",
      resourceName: "bob",
      configurationItemStatus: "OK",
      configurationItemCaptureTime: "2026-11-29T10:00:00.000Z",
    };
    const event = { ...scheduled(), invokingEvent: JSON.stringify({ messageType: "OversizedConfigurationItemChangeNotification", configurationItemSummary }) };
    await evaluate(event, CONTEXT, t.deps);
    assert.equal(t.byId("AIDABOB")?.ComplianceType, "COMPLIANT");
    assert.deepEqual(t.byId("AIDABOB")?.OrderingTimestamp, new Date("2026-11-29T10:00:00.000Z"));
  });

  it("sends TestMode for the TESTMODE result token", async () => {
    const t = setup();
    t.iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    await evaluate(change({}, { resultToken: "TESTMODE" }), CONTEXT, t.deps);
    const input = t.configMock.commandCalls(PutEvaluationsCommand)[0]?.args[0].input;
    assert.equal(input?.TestMode, true);
    assert.equal(input?.ResultToken, "TESTMODE");
  });
});

describe("config rule: periodic runs", () => {
  function periodic(t: ReturnType<typeof setup>, users: User[], csv: Uint8Array, generatedAt = new Date(NOW - 60_000), state: "COMPLETE" | "STARTED" = "COMPLETE"): void {
    t.iamMock.on(ListUsersCommand).resolves({ Users: users, IsTruncated: false });
    t.iamMock.on(GenerateCredentialReportCommand).resolvesOnce({ State: state }).resolves({ State: "COMPLETE" });
    t.iamMock.on(GetCredentialReportCommand).resolves({ Content: csv, GeneratedTime: generatedAt, ReportFormat: "text/csv" });
  }

  it("evaluates every user from the credential report with the fewest calls, and never the root account", async () => {
    const t = setup();
    const names = Array.from({ length: 250 }, (_, i) => `user${i}`);
    periodic(t, names.map((n) => user(n)), report(names.map((name, i) => ({ name, keyAgeMs: i % 5 === 0 ? 40 * DAY_MS : 5 * DAY_MS }))));
    const summary = await evaluate(scheduled(), CONTEXT, t.deps);
    assert.deepEqual(summary.calls, { GenerateCredentialReport: 1, GetComplianceDetailsByConfigRule: 1, GetCredentialReport: 1, ListUsers: 1, PutEvaluations: 3 });
    assert.deepEqual(summary.verdicts, { COMPLIANT: 200, NON_COMPLIANT: 50, NOT_APPLICABLE: 0 });
    const batches = t.configMock.commandCalls(PutEvaluationsCommand).map((c) => c.args[0].input.Evaluations?.length);
    assert.deepEqual(batches.sort(), [100, 100, 50]);
    assert.equal(t.written().length, 250);
    assert.ok(t.written().every((e) => e.ComplianceResourceId?.startsWith("AIDAUSER")), "only IAM users, by UserId");
    assert.equal(t.byId("AIDAUSER0")?.Annotation, "Access key created 2026-10-20 passed the 30-day limit on 2026-11-19; rotate it.");
    assert.deepEqual(t.byId("AIDAUSER0")?.OrderingTimestamp, new Date("2026-11-29T11:59:00.000Z"));
  });

  it("confirms a stale report's violations with ListAccessKeys, so a user who just rotated is not flagged", async () => {
    const t = setup();
    periodic(t, [user("alice"), user("bob"), user("carol")], report([{ name: "alice", keyAgeMs: 40 * DAY_MS }, { name: "bob", keyAgeMs: 50 * DAY_MS }, { name: "carol", keyAgeMs: DAY_MS }]), new Date(NOW - 3 * 3600_000));
    t.iamMock.on(ListAccessKeysCommand, { UserName: "alice" }).resolves({ AccessKeyMetadata: [key("alice", 3600_000)] }); // rotated an hour ago
    t.iamMock.on(ListAccessKeysCommand, { UserName: "bob" }).resolves({ AccessKeyMetadata: [key("bob", 50 * DAY_MS, "AKIAEXAMPLEBOBKEY123")] });
    t.iamMock.on(ListAccessKeysCommand, { UserName: "carol" }).resolves({ AccessKeyMetadata: [key("carol", DAY_MS)] });
    const summary = await evaluate(scheduled(), CONTEXT, t.deps);
    assert.equal(summary.calls.ListAccessKeys, 3, "two violators, and carol, whose empty second slot a stale report cannot vouch for");
    assert.equal(t.byId("AIDAALICE")?.ComplianceType, "COMPLIANT");
    assert.equal(t.byId("AIDABOB")?.ComplianceType, "NON_COMPLIANT");
    assert.match(String(t.byId("AIDABOB")?.Annotation), /^Access key created 2026-10-10 passed the 30-day limit on 2026-11-09/);
    assert.equal(t.byId("AIDACAROL")?.ComplianceType, "COMPLIANT");
  });

  it("trusts a report it generated itself, however old GeneratedTime looks", async () => {
    const t = setup();
    periodic(t, [user("bob")], report([{ name: "bob", keyAgeMs: 50 * DAY_MS }]), new Date(NOW - 3600_000), "STARTED");
    const summary = await evaluate(scheduled(), CONTEXT, t.deps);
    assert.equal(summary.calls.ListAccessKeys, undefined);
    assert.equal(summary.calls.GenerateCredentialReport, 2);
    assert.equal(t.byId("AIDABOB")?.ComplianceType, "NON_COMPLIANT");
  });

  it("reads users missing from the report, or re-created under the same name since, with ListAccessKeys", async () => {
    const t = setup();
    const recreated = user("dave", new Date(NOW - 2 * DAY_MS));
    periodic(t, [user("carol"), user("erin", new Date(NOW - 1000)), recreated], report([{ name: "carol", keyAgeMs: DAY_MS }, { name: "dave", keyAgeMs: 90 * DAY_MS, created: NOW - 300 * DAY_MS }]));
    t.iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    t.iamMock.on(ListAccessKeysCommand, { UserName: "dave" }).resolves({ AccessKeyMetadata: [key("dave", DAY_MS)] });
    const summary = await evaluate(scheduled(), CONTEXT, t.deps);
    assert.deepEqual(
      t.iamMock.commandCalls(ListAccessKeysCommand).map((c) => c.args[0].input.UserName).sort(),
      ["dave", "erin"],
    );
    assert.equal(summary.verdicts.NON_COMPLIANT, 0, "the new dave's key is a day old");
    assert.equal(t.byId("AIDAERIN")?.Annotation, "No active access keys.");
  });

  it("falls back to ListAccessKeys for every user, a bounded number at a time, when the report is denied", async () => {
    const t = setup({ concurrency: 3 });
    const names = Array.from({ length: 20 }, (_, i) => `u${i}`);
    t.iamMock.on(ListUsersCommand).resolves({ Users: names.map((n) => user(n)) });
    t.iamMock.on(GenerateCredentialReportCommand).rejects(Object.assign(new Error("not authorized to perform iam:GenerateCredentialReport"), { name: "AccessDenied" }));
    let inFlight = 0;
    let most = 0;
    t.iamMock.on(ListAccessKeysCommand).callsFake(async (input: { UserName: string }) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight -= 1;
      return { AccessKeyMetadata: [key(input.UserName, input.UserName === "u7" ? 31 * DAY_MS : DAY_MS)] };
    });
    const summary = await evaluate(scheduled(), CONTEXT, t.deps);
    assert.equal(summary.calls.ListAccessKeys, 20);
    assert.equal(most, 3);
    assert.equal(summary.verdicts.NON_COMPLIANT, 1);
    assert.ok(t.lines.some((l) => l.message === "credential report unavailable; reading every user with ListAccessKeys" && /AccessDenied/.test(String(l.reason))));
  });

  it("marks users evaluated earlier that no longer exist NOT_APPLICABLE, reading every page of earlier results", async () => {
    const t = setup();
    periodic(t, [user("alice")], report([{ name: "alice" }]));
    t.configMock
      .on(GetComplianceDetailsByConfigRuleCommand)
      .resolvesOnce({
        EvaluationResults: [{ EvaluationResultIdentifier: { EvaluationResultQualifier: { ResourceType: "AWS::IAM::User", ResourceId: "AIDAALICE" } } }],
        NextToken: "page2",
      })
      .resolves({ EvaluationResults: [{ EvaluationResultIdentifier: { EvaluationResultQualifier: { ResourceType: "AWS::IAM::User", ResourceId: "AIDAGONE" } } }] });
    const summary = await evaluate(scheduled(), CONTEXT, t.deps);
    assert.equal(summary.calls.GetComplianceDetailsByConfigRule, 2);
    assert.equal(t.byId("AIDAGONE")?.ComplianceType, "NOT_APPLICABLE");
    assert.equal(t.byId("AIDAGONE")?.Annotation, "The IAM user no longer exists.");
    assert.equal(t.byId("AIDAALICE")?.ComplianceType, "COMPLIANT");
  });

  it("still sends one (empty) PutEvaluations for an account without users, so Config sees the run finish", async () => {
    const t = setup();
    periodic(t, [], report([]));
    const summary = await evaluate(scheduled(), CONTEXT, t.deps);
    assert.equal(summary.calls.PutEvaluations, 1);
    assert.deepEqual(t.configMock.commandCalls(PutEvaluationsCommand)[0]?.args[0].input.Evaluations, []);
  });

  it("marks no earlier result NOT_APPLICABLE when the deadline cut ListUsers short", async () => {
    let remaining = 60_000;
    const t = setup({ reserveMs: 10_000 });
    t.iamMock.on(ListUsersCommand).callsFake(async () => {
      remaining = 5_000; // the first page took almost all the time
      return { Users: [user("alice")], IsTruncated: true, Marker: "m1" };
    });
    t.iamMock.on(GenerateCredentialReportCommand).resolves({ State: "COMPLETE" });
    t.iamMock.on(GetCredentialReportCommand).resolves({ Content: report([{ name: "alice" }, { name: "bob" }]), GeneratedTime: new Date(NOW - 1000) });
    t.configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({
      EvaluationResults: [{ EvaluationResultIdentifier: { EvaluationResultQualifier: { ResourceType: "AWS::IAM::User", ResourceId: "AIDABOB" } } }],
    });
    const summary = await evaluate(scheduled(), { getRemainingTimeInMillis: () => remaining }, t.deps);
    assert.equal(summary.partial, true);
    assert.equal(t.byId("AIDABOB"), undefined, "bob may well exist on the page not read");
    assert.equal(t.byId("AIDAALICE")?.ComplianceType, "COMPLIANT");
    assert.ok(t.lines.some((l) => l.listUsersComplete === false && l.level === "warn"));
  });

  it("keeps an exempt user COMPLIANT and says so", async () => {
    const t = setup();
    periodic(t, [user("ci-bot")], report([{ name: "ci-bot", keyAgeMs: 100 * DAY_MS }]));
    await evaluate(scheduled({ exemptions: "ci-bot:2027-01-31" }), CONTEXT, t.deps);
    assert.equal(t.byId("AIDACI-BOT")?.ComplianceType, "COMPLIANT");
    assert.match(String(t.byId("AIDACI-BOT")?.Annotation), /^Exempt until 2027-01-31: Access key created 2026-08-21 passed the 30-day limit on 2026-09-20\.$/);
  });

  it("stops reading at the deadline, writes what it evaluated and logs the users it skipped", async () => {
    let remaining = 60_000;
    // random 0: reading starts at the first user listed (another run starts elsewhere).
    const t = setup({ reserveMs: 10_000, concurrency: 1, random: () => 0 });
    const names = ["a", "b", "c", "d", "e"];
    t.iamMock.on(ListUsersCommand).resolves({ Users: names.map((n) => user(n)) });
    t.iamMock.on(GenerateCredentialReportCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDenied" }));
    t.iamMock.on(ListAccessKeysCommand).callsFake(async (input: { UserName: string }) => {
      remaining -= 25_000; // each read is slow
      return { AccessKeyMetadata: [key(input.UserName, DAY_MS)] };
    });
    const summary: RunSummary = await evaluate(scheduled(), { getRemainingTimeInMillis: () => remaining }, t.deps);
    assert.deepEqual(summary.skipped, ["c", "d", "e"], "a leaves 35 s, b leaves 10 s: no more than the reserve");
    assert.equal(summary.partial, true);
    assert.deepEqual(t.written().map((e) => e.ComplianceResourceId), ["AIDAA", "AIDAB"]);
    const warn = t.lines.find((l) => l.message === "deadline: stopped reading; these users are not evaluated this run");
    assert.deepEqual(warn?.users, ["c", "d", "e"]);
    assert.equal(t.lines.at(-1)?.level, "warn", "the summary line is a warning");
    assert.equal(t.lines.at(-1)?.partial, true);
  });
});

describe("config rule: a deadline never starves the same users", () => {
  it("starts reading at a different user each run when the earlier results cannot be read", async () => {
    const skippedWith = async (random: number): Promise<readonly string[]> => {
      let remaining = 60_000;
      const t = setup({ concurrency: 1, random: () => random });
      t.iamMock.on(ListUsersCommand).resolves({ Users: ["a", "b", "c", "d", "e"].map((n) => user(n)) });
      t.iamMock.on(GenerateCredentialReportCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDenied" }));
      t.configMock.on(GetComplianceDetailsByConfigRuleCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
      t.iamMock.on(ListAccessKeysCommand).callsFake(async (input: { UserName: string }) => {
        remaining -= 25_000;
        return { AccessKeyMetadata: [key(input.UserName, DAY_MS)] };
      });
      const summary = await evaluate(scheduled(), { getRemainingTimeInMillis: () => remaining }, t.deps);
      assert.equal(summary.partial, true);
      return summary.skipped;
    };
    assert.deepEqual(await skippedWith(0), ["c", "d", "e"]);
    assert.deepEqual(await skippedWith(0.4), ["a", "b", "e"], "this run started at c");
  });

  it("reads, over a few runs, users whose results changed recently too, not only the users whose results Config recorded longest ago", async () => {
    // A scheduled run writes only what changed, so a result's recording time says when it last changed:
    // a, b and c were recorded just after their last refresh point (unchanged since), d and e an hour
    // ago (they just changed): none is due.
    const params = validateParams();
    const earlier = ["a", "b", "c", "d", "e"].map((n) => {
      const annotation = configAnnotation(evaluateUser({ user: n, keys: [{ accessKeyId: `AKIA${n}`, createDate: new Date(NOW - DAY_MS) }] }, params, NOW), params, NOW);
      const recorded = ["d", "e"].includes(n) ? NOW - 3_600_000 : lastRefreshPoint(`AIDA${n.toUpperCase()}`, 30, NOW) + 60_000;
      return {
        EvaluationResultIdentifier: { EvaluationResultQualifier: { ConfigRuleName: "keyage-access-keys", ResourceType: "AWS::IAM::User", ResourceId: `AIDA${n.toUpperCase()}` } },
        ComplianceType: "COMPLIANT" as const,
        Annotation: annotation,
        ResultRecordedTime: new Date(recorded),
      };
    });
    const readIn = async (random: number): Promise<string[]> => {
      let remaining = 60_000;
      const read: string[] = [];
      const t = setup({ concurrency: 1, random: () => random });
      t.iamMock.on(ListUsersCommand).resolves({ Users: ["a", "b", "c", "d", "e"].map((n) => user(n)) });
      t.iamMock.on(GenerateCredentialReportCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDenied" }));
      t.configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: earlier });
      t.iamMock.on(ListAccessKeysCommand).callsFake(async (input: { UserName: string }) => {
        remaining -= 25_000;
        read.push(input.UserName);
        return { AccessKeyMetadata: [key(input.UserName, DAY_MS)] };
      });
      const summary = await evaluate(scheduled(), { getRemainingTimeInMillis: () => remaining }, t.deps);
      assert.equal(summary.partial, true, "three users are left unread each run");
      assert.equal(summary.written, 0, "nothing read has changed");
      return read;
    };
    const read = new Set([...(await readIn(0)), ...(await readIn(0.4)), ...(await readIn(0.8))]);
    assert.deepEqual([...read].sort(), ["a", "b", "c", "d", "e"]);
  });

  it("reads first the users Config has no result for, then those due for a refresh, oldest first", async () => {
    const params = validateParams();
    const result = (n: string, recordedDaysAgo: number | "since its last refresh point") => ({
      EvaluationResultIdentifier: { EvaluationResultQualifier: { ConfigRuleName: "keyage-access-keys", ResourceType: "AWS::IAM::User", ResourceId: `AIDA${n.toUpperCase()}` } },
      ComplianceType: "COMPLIANT" as const,
      Annotation: configAnnotation(evaluateUser({ user: n, keys: [{ accessKeyId: `AKIA${n}`, createDate: new Date(NOW - DAY_MS) }] }, params, NOW), params, NOW),
      ResultRecordedTime: new Date(typeof recordedDaysAgo === "number" ? NOW - recordedDaysAgo * DAY_MS : lastRefreshPoint(`AIDA${n.toUpperCase()}`, 30, NOW) + 60_000),
    });
    let remaining = 50_000;
    const read: string[] = [];
    const t = setup({ concurrency: 1, random: () => 0 });
    t.iamMock.on(ListUsersCommand).resolves({ Users: ["a", "b", "c", "d", "e"].map((n) => user(n)) });
    t.iamMock.on(GenerateCredentialReportCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDenied" }));
    t.configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [result("a", "since its last refresh point"), result("b", "since its last refresh point"), result("c", 31), result("d", 45)] });
    t.iamMock.on(ListAccessKeysCommand).callsFake(async (input: { UserName: string }) => {
      remaining -= 15_000;
      read.push(input.UserName);
      return { AccessKeyMetadata: [key(input.UserName, DAY_MS)] };
    });
    await evaluate(scheduled(), { getRemainingTimeInMillis: () => remaining }, t.deps);
    assert.deepEqual(read, ["e", "d", "c"], "e has no result, d and c are due (45 and 31 days old, over a 30-day cycle); a and b wait for their next refresh point");
  });
});

describe("config rule: writing evaluations", () => {
  it("retries FailedEvaluations with backoff until Config takes them, and leaves throttling to the SDK", async () => {
    const t = setup();
    t.iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    const pauses: number[] = [];
    t.deps = { ...t.deps, sleep: async (ms) => void pauses.push(ms), random: () => 1 };
    const failed = { FailedEvaluations: [{ ComplianceResourceType: "AWS::IAM::User", ComplianceResourceId: "AIDAALICE", ComplianceType: "COMPLIANT" as const, OrderingTimestamp: new Date() }] };
    t.configMock.on(PutEvaluationsCommand).resolvesOnce(failed).resolvesOnce(failed).resolves({ FailedEvaluations: [] });
    const summary = await evaluate(change(), CONTEXT, t.deps);
    assert.equal(summary.calls.PutEvaluations, 3);
    assert.equal(summary.written, 1);
    assert.deepEqual(pauses, [400, 800]);
  });

  it("fails loudly when Config keeps rejecting evaluations", async () => {
    const t = setup({ putAttempts: 3 });
    t.iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    t.configMock.on(PutEvaluationsCommand).callsFake(async (input: { Evaluations: Evaluation[] }) => ({ FailedEvaluations: input.Evaluations }));
    await rejects(evaluate(change(), CONTEXT, t.deps), PutEvaluationsError, /1 of 1 evaluations could not be written \(FailedEvaluations after 3 attempts\)/);
    const last = t.lines.at(-1);
    assert.equal(last?.message, "run summary");
    assert.equal(last?.level, "error");
  });

  it("fails a periodic run with its summary line, not an unhandled rejection, when Config refuses the verdicts while earlier results are still being read", async () => {
    const t = setup();
    t.iamMock.on(ListUsersCommand).resolves({ Users: [user("alice")] });
    t.iamMock.on(GenerateCredentialReportCommand).resolves({ State: "COMPLETE" });
    t.iamMock.on(GetCredentialReportCommand).resolves({ Content: report([{ name: "alice", keyAgeMs: DAY_MS }]), GeneratedTime: new Date(NOW - 1000) });
    t.configMock.on(PutEvaluationsCommand).rejects(Object.assign(new Error("not authorized to perform config:PutEvaluations"), { name: "AccessDeniedException" }));
    t.configMock.on(GetComplianceDetailsByConfigRuleCommand).callsFake(async () => {
      await new Promise((r) => setTimeout(r, 30)); // a long history of earlier results
      return { EvaluationResults: [] };
    });
    const unhandled: unknown[] = [];
    const listener = (reason: unknown): void => void unhandled.push(reason);
    process.on("unhandledRejection", listener);
    try {
      await rejects(evaluate(scheduled(), CONTEXT, t.deps), PutEvaluationsError, /PutEvaluations failed: AccessDeniedException: not authorized/);
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off("unhandledRejection", listener);
    }
    assert.deepEqual(unhandled.map(String), [], "Lambda turns an unhandled rejection into Runtime.UnhandledPromiseRejection and drops the run");
    assert.equal(t.lines.at(-1)?.message, "run summary");
    assert.equal(t.lines.at(-1)?.level, "error");
  });

  it("stops retrying FailedEvaluations before the Lambda's deadline and fails the run loudly", async () => {
    let remaining = 5_000;
    const pauses: number[] = [];
    const t = setup({
      sleep: async (ms) => {
        pauses.push(ms);
        remaining -= ms;
      },
      random: () => 1,
    });
    t.iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    t.configMock.on(PutEvaluationsCommand).callsFake(async (input: { Evaluations: Evaluation[] }) => ({ FailedEvaluations: input.Evaluations }));
    await rejects(evaluate(change(), { getRemainingTimeInMillis: () => remaining }, t.deps), PutEvaluationsError, /1 of 1 evaluations could not be written.*Lambda deadline/);
    assert.deepEqual(pauses, [400, 800, 1600], "the next pause (3.2 s) would run into the deadline");
    assert.ok(remaining >= 1000, `${remaining} ms left to log the summary and return`);
    assert.equal(t.lines.at(-1)?.message, "run summary");
    assert.equal(t.lines.at(-1)?.level, "error");
  });
});

describe("config rule: logs", () => {
  it("writes one summary line per run with users, verdicts, calls by action and duration, and no full key id anywhere", async () => {
    const out: string[] = [];
    const { jsonLogger } = await import("../aws/log");
    let clock = NOW;
    const t = setup({ log: jsonLogger({ write: (l) => void out.push(l), level: "debug" }), now: () => (clock += 7) });
    t.iamMock.on(ListUsersCommand).resolves({ Users: [user("alice")] });
    t.iamMock.on(GenerateCredentialReportCommand).rejects(Object.assign(new Error("User AKIAIOSFODNN7EXAMPLE is not authorized"), { name: "AccessDenied" }));
    t.iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [key("alice", 45 * DAY_MS, "AKIAIOSFODNN7EXAMPLE")] });
    await evaluate(scheduled(), CONTEXT, t.deps);
    const lines = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    const summaries = lines.filter((l) => l.message === "run summary");
    assert.equal(summaries.length, 1);
    const [summary] = summaries;
    assert.equal(summary?.users, 1);
    assert.deepEqual(summary?.verdicts, { COMPLIANT: 0, NON_COMPLIANT: 1, NOT_APPLICABLE: 0 });
    assert.deepEqual(summary?.calls, { GenerateCredentialReport: 1, GetComplianceDetailsByConfigRule: 1, ListAccessKeys: 1, ListUsers: 1, PutEvaluations: 1 });
    assert.equal(typeof summary?.durationMs, "number");
    assert.ok((summary?.durationMs as number) > 0);
    for (const line of out) assert.doesNotMatch(line, /AKIAIOSFODNN7EXAMPLE/);
    assert.ok(out.some((l) => l.includes("…MPLE")), "the key is still named by its last four characters");
  });
});

describe("config rule: run figures as CloudWatch metrics (embedded metric format)", () => {
  const FUNCTION = "keyage-evaluator-1a2b3c4";
  const withName = { ...CONTEXT, functionName: FUNCTION };

  async function summaryLine(out: string[]): Promise<Record<string, unknown>> {
    const line = out.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === "run summary");
    assert.ok(line, "a summary line");
    return line;
  }

  it("makes the summary line a valid EMF record: namespace keyage, the function's name as dimension, one number per figure", async () => {
    const out: string[] = [];
    const { jsonLogger } = await import("../aws/log");
    const t = setup({ log: jsonLogger({ write: (l) => void out.push(l) }) });
    t.iamMock.on(ListUsersCommand).resolves({ Users: [user("alice"), user("bob"), user("carol")] });
    t.iamMock.on(GenerateCredentialReportCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDenied" }));
    t.iamMock.on(ListAccessKeysCommand, { UserName: "alice" }).resolves({ AccessKeyMetadata: [key("alice", 45 * DAY_MS)] });
    t.iamMock.on(ListAccessKeysCommand, { UserName: "bob" }).resolves({ AccessKeyMetadata: [key("bob", DAY_MS)] });
    t.iamMock.on(ListAccessKeysCommand, { UserName: "carol" }).rejects(Object.assign(new Error("denied"), { name: "AccessDenied" }));
    await evaluate(scheduled(), withName, t.deps);
    const emf = readEmf(await summaryLine(out));
    assert.equal(emf.namespace, METRIC_NAMESPACE);
    assert.deepEqual(emf.dimensions, [{ [METRIC_DIMENSION]: FUNCTION }]);
    assert.deepEqual(Object.keys(emf.values), [...CONFIG_RULE_METRICS]);
    assert.ok(Object.values(emf.units).every((u) => u === "Count"));
    assert.deepEqual(emf.values, {
      RunCompleted: 1, ScheduledRunCompleted: 1, Users: 2, NonCompliant: 1, Written: 2, Failed: 0, Unreadable: 1, Skipped: 0, StaleResults: 0, Partial: 1,
    });
  });

  it("counts a change-triggered run as completed but not as the scheduled sweep the missed-run alarm watches", async () => {
    const out: string[] = [];
    const { jsonLogger } = await import("../aws/log");
    const t = setup({ log: jsonLogger({ write: (l) => void out.push(l) }) });
    t.iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [key("alice", DAY_MS)] });
    await evaluate(change(), withName, t.deps);
    const emf = readEmf(await summaryLine(out));
    assert.equal(emf.values.RunCompleted, 1);
    assert.equal(emf.values.ScheduledRunCompleted, 0);
    assert.equal(emf.values.Partial, 0);
  });

  it("still writes a valid EMF line when the run fails, counting it as not completed", async () => {
    const out: string[] = [];
    const { jsonLogger } = await import("../aws/log");
    const t = setup({ log: jsonLogger({ write: (l) => void out.push(l) }), putAttempts: 1 });
    t.iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    t.configMock.on(PutEvaluationsCommand).callsFake(async (input: { Evaluations: Evaluation[] }) => ({ FailedEvaluations: input.Evaluations }));
    await assert.rejects(evaluate(change(), withName, t.deps), PutEvaluationsError);
    const line = await summaryLine(out);
    assert.equal(line.level, "error");
    const emf = readEmf(line);
    assert.equal(emf.values.RunCompleted, 0);
    assert.equal(emf.values.ScheduledRunCompleted, 0);
    assert.equal(emf.values.Failed, 1);
  });

  it("adds no metrics when it does not know its function's name (outside Lambda)", async () => {
    const out: string[] = [];
    const { jsonLogger } = await import("../aws/log");
    const t = setup({ log: jsonLogger({ write: (l) => void out.push(l) }) });
    t.iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    await evaluate(change(), CONTEXT, t.deps);
    const line = await summaryLine(out);
    assert.equal(line._aws, undefined);
    assert.equal(line.RunCompleted, undefined);
  });
});

describe("config rule: IAM reader", () => {
  it("returns every user with keys, the root row and progress, for the CLI's live audit", async () => {
    const iam = new IAMClient({});
    const mock = mockClient(iam);
    mock.on(ListUsersCommand).resolves({ Users: [user("alice"), user("bob")] });
    mock.on(GenerateCredentialReportCommand).resolves({ State: "COMPLETE" });
    mock.on(GetCredentialReportCommand).resolves({ Content: report([{ name: "alice", keyAgeMs: DAY_MS }, { name: "bob" }]), GeneratedTime: new Date(NOW - 1000) });
    const progress: string[] = [];
    const snapshot = await readAccount(iam, { now: () => NOW, onProgress: (done, total) => progress.push(`${done}/${total}`) });
    assert.deepEqual(snapshot.users.map((u) => [u.user, u.userId, u.source, u.keys.length]), [
      ["alice", "AIDAALICE", "credential-report", 1],
      ["bob", "AIDABOB", "credential-report", 0],
    ]);
    assert.equal(snapshot.root?.user, "<root_account>");
    assert.equal(snapshot.report?.fresh, true);
    assert.deepEqual(progress, ["2/2"]);
    assert.deepEqual(snapshot.calls, { GenerateCredentialReport: 1, GetCredentialReport: 1, ListUsers: 1 });
  });

  it("reads every key id with ListAccessKeys when asked not to use the report", async () => {
    const iam = new IAMClient({});
    const mock = mockClient(iam);
    mock.on(ListUsersCommand).resolves({ Users: [user("alice")] });
    mock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [key("alice", DAY_MS, "AKIAIOSFODNN7EXAMPLE")] });
    const snapshot = await readAccount(iam, { now: () => NOW, useCredentialReport: false });
    assert.equal(snapshot.users[0]?.keys[0]?.accessKeyId, "AKIAIOSFODNN7EXAMPLE");
    assert.equal(snapshot.reportUnavailable, "not requested");
    assert.equal(mock.commandCalls(GenerateCredentialReportCommand).length, 0);
  });
});
