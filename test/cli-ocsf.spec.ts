// `keyage audit --format ocsf`: every finding held against the OCSF Compliance Finding definitions kept in
// test/fixtures/ocsf-compliance-finding.json (required attributes, enum values and their captions), and
// the standards named held against ASFF's RelatedRequirements for the same audit.
import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { AwsSecurityFinding } from "@aws-sdk/client-securityhub";
import { runCli, type CliResult } from "./fixtures/cli";
import { OCSF_VERSION } from "../cli/ocsf";

const NOW = "2026-11-29T12:00:00Z";
const EXAMPLE = path.join(__dirname, "..", "examples", "credential-report.csv");
const SCHEMA = JSON.parse(readFileSync(path.join(__dirname, "fixtures", "ocsf-compliance-finding.json"), "utf8")) as {
  version: string;
  category: { uid: number };
  class: { uid: number };
  required: { event: string[]; metadata: string[]; product: string[]; finding_info: string[]; compliance: string[]; cloud: string[] };
  enums: Record<string, Record<string, string>>;
  captions: Record<string, string>;
  types: { timestamp_t: string[]; string_array: string[]; object: string[] };
};

function keyage(argv: string[]): Promise<CliResult> {
  return runCli(argv, { env: { AWS_REGION: "us-east-1" }, now: () => Date.parse(NOW) });
}

type Finding = Record<string, unknown>;

function at(obj: unknown, dotted: string): unknown {
  return dotted.split(".").reduce<unknown>((o, k) => (o === null || typeof o !== "object" ? undefined : (o as Record<string, unknown>)[k]), obj);
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === "string" && value === "") && !(Array.isArray(value) && value.length === 0);
}

async function findings(argv: string[] = []): Promise<Finding[]> {
  const result = await keyage(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--format", "ocsf", ...argv]);
  assert.equal(result.status, 1, result.stderr);
  assert.ok(result.stdout.endsWith("\n"));
  return result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Finding);
}

describe("keyage audit --format ocsf", () => {
  it("writes JSON Lines: one Compliance Finding per user of the report, the root row included", async () => {
    const fs = await findings();
    assert.equal(fs.length, 9);
    assert.deepEqual(fs.map((f) => at(f, "resources.0.name")).slice(0, 2), ["<root_account>", "alice"]);
  });

  it("fills every attribute the schema requires, for the class, the metadata, the product, finding_info, compliance and cloud", async () => {
    for (const f of await findings()) {
      const name = String(at(f, "resources.0.name"));
      for (const attr of SCHEMA.required.event) assert.ok(present(f[attr]), `${name}: ${attr} is required`);
      for (const attr of SCHEMA.required.metadata) assert.ok(present(at(f, `metadata.${attr}`)), `${name}: metadata.${attr}`);
      for (const attr of SCHEMA.required.product) assert.ok(present(at(f, `metadata.product.${attr}`)), `${name}: metadata.product.${attr}`);
      for (const attr of SCHEMA.required.finding_info) assert.ok(present(at(f, `finding_info.${attr}`)), `${name}: finding_info.${attr}`);
      for (const attr of SCHEMA.required.compliance) assert.ok(present(at(f, `compliance.${attr}`)), `${name}: compliance.${attr}`);
      // The cloud profile is declared, so its object (and the object's required provider) must be there.
      assert.deepEqual(at(f, "metadata.profiles"), ["cloud"]);
      for (const attr of SCHEMA.required.cloud) assert.ok(present(at(f, `cloud.${attr}`)), `${name}: cloud.${attr}`);
    }
  });

  it("uses only the schema's enum values, with their captions, and the class's ids", async () => {
    for (const f of await findings()) {
      assert.equal(f.class_uid, SCHEMA.class.uid);
      assert.equal(f.category_uid, SCHEMA.category.uid);
      assert.equal(f.type_uid, (f.class_uid as number) * 100 + (f.activity_id as number));
      assert.equal(f.type_uid, 200301);
      for (const [attr, values] of Object.entries(SCHEMA.enums)) {
        const value = at(f, attr);
        assert.ok(value !== undefined, `${attr} is set`);
        assert.ok(String(value) in values, `${attr} = ${String(value)} is one of ${Object.keys(values).join(", ")}`);
      }
      for (const [caption, id] of Object.entries(SCHEMA.captions)) {
        assert.equal(at(f, caption), SCHEMA.enums[id]?.[String(at(f, id))], `${caption} is the caption of ${id}`);
      }
      for (const attr of SCHEMA.types.timestamp_t) assert.ok(Number.isInteger(at(f, attr)), `${attr} is epoch milliseconds`);
      for (const attr of SCHEMA.types.string_array) {
        const value = at(f, attr);
        assert.ok(Array.isArray(value) && value.every((s) => typeof s === "string"), `${attr} is an array of strings`);
      }
      for (const attr of SCHEMA.types.object) assert.equal(typeof at(f, attr), "object", attr);
      assert.equal(at(f, "metadata.version"), SCHEMA.version);
      assert.equal(OCSF_VERSION, SCHEMA.version);
    }
  });

  it("maps the verdicts: a violation Fail/New/Medium, the root row's key Critical, a compliant user Pass/Resolved/Informational", async () => {
    const report = readFileSync(EXAMPLE, "utf8").replace(/^(<root_account>,[^,]+,[^,]+,[^,]+,[^,]+,[^,]+,[^,]+,[^,]+,)false,N\/A/m, "$1true,2026-11-28T00:00:00+00:00");
    const file = path.join(tmpdir(), `keyage-ocsf-root-${process.pid}.csv`);
    writeFileSync(file, report);
    const result = await keyage(["audit", "--credential-report", file, "--now", NOW, "--format", "ocsf"]);
    const fs = result.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as Finding);
    const of = (name: string): Finding => fs.find((f) => at(f, "resources.0.name") === name) as Finding;
    assert.deepEqual([at(of("bob"), "compliance.status"), of("bob").status, of("bob").severity], ["Fail", "New", "Medium"]);
    assert.deepEqual([at(of("<root_account>"), "compliance.status"), of("<root_account>").severity, at(of("<root_account>"), "resources.0.type")], ["Fail", "Critical", "AWS::Account"]);
    assert.deepEqual([at(of("alice"), "compliance.status"), of("alice").status, of("alice").severity], ["Pass", "Resolved", "Informational"]);
    assert.deepEqual(at(of("alice"), "resources.0"), { type: "AWS::IAM::User", uid: "arn:aws:iam::123456789012:user/alice", name: "alice", cloud_partition: "aws" });
    assert.deepEqual(at(of("alice"), "cloud"), { provider: "AWS", account: { uid: "123456789012", type_id: 10, type: "AWS Account" } });
    assert.equal(of("alice").time, Date.parse(NOW));
  });

  it("keeps keyage's own facts under unmapped: the limit, the warning window and each key's age, reason and last use", async () => {
    const bob = (await findings()).find((f) => at(f, "resources.0.name") === "bob") as Finding;
    assert.deepEqual(at(bob, "unmapped.keyage.maxAgeDays"), 30);
    assert.deepEqual(at(bob, "unmapped.keyage.warnDays"), 7);
    const key = at(bob, "unmapped.keyage.keys.0") as Record<string, unknown>;
    assert.equal(key.ageDays, 45);
    assert.equal(key.reason, "expired");
  });

  for (const limit of [30, 90, 91, 365]) {
    it(`names exactly the requirements ASFF names with --max-age-days ${limit}, and their standards`, async () => {
      const ocsf = await keyage(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--format", "ocsf", "--max-age-days", String(limit)]);
      const asff = await keyage(["audit", "--credential-report", EXAMPLE, "--now", NOW, "--format", "asff", "--max-age-days", String(limit)]);
      const os = ocsf.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as Finding);
      const as = JSON.parse(asff.stdout) as AwsSecurityFinding[];
      assert.equal(os.length, as.length);
      os.forEach((f, i) => {
        const related = as[i]?.Compliance?.RelatedRequirements ?? [];
        assert.deepEqual(at(f, "compliance.requirements"), related, `${String(at(f, "resources.0.name"))}`);
        assert.equal(at(f, "finding_info.uid"), as[i]?.Id, "the same id as the ASFF finding");
        const standards = at(f, "compliance.standards") as string[];
        if (related.length > 0) assert.deepEqual(standards, [...new Set(related.map((r) => r.slice(0, r.lastIndexOf("/"))))]);
        else assert.deepEqual(standards, [`keyage keyage/iam-access-key-max-age (${limit} days)`], "no industry standard is claimed");
      });
      if (limit > 90) assert.ok(os.filter((f) => at(f, "resources.0.name") !== "<root_account>").every((f) => !JSON.stringify(at(f, "compliance.standards")).includes("CIS")));
    });
  }
});
