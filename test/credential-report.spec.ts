import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { CREDENTIAL_REPORT_COLUMNS, CredentialReportError, evaluateUser, parseCredentialReport, validateParams } from "../shared";
import { EXAMPLE_VERDICTS } from "./fixtures";

const EXAMPLE = readFileSync(path.join(__dirname, "..", "examples", "credential-report.csv"), "utf8");
const HEADER = CREDENTIAL_REPORT_COLUMNS.join(",");
const NOW = Date.parse("2026-11-29T12:00:00Z");

/** A report row; `over` replaces columns by name. */
function row(user: string, over: Record<string, string> = {}): string {
  const base: Record<string, string> = {
    user,
    arn: `arn:aws:iam::123456789012:user/${user}`,
    user_creation_time: "2024-01-01T00:00:00+00:00",
    password_enabled: "false",
    mfa_active: "false",
    access_key_1_active: "false",
    access_key_2_active: "false",
    cert_1_active: "false",
    cert_2_active: "false",
  };
  return CREDENTIAL_REPORT_COLUMNS.map((c) => over[c] ?? base[c] ?? "N/A").join(",");
}

function throwsReport(fn: () => unknown, message: RegExp, line?: number): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CredentialReportError, `expected CredentialReportError, got ${String(err)}`);
    assert.match(err.message, message);
    if (line !== undefined) assert.equal(err.line, line);
    return true;
  });
}

describe("credential report: parseCredentialReport", () => {
  it("reads the example report: every row, the root row flagged, keys by slot", () => {
    const users = parseCredentialReport(EXAMPLE);
    assert.deepEqual(
      users.map((u) => u.user),
      ["<root_account>", "alice", "bob", "carol", "dave", "erin", "build-bot", "ci-deploy", "svc.legacy@example.com"],
    );
    const [root] = users;
    assert.equal(root?.root, true);
    assert.equal(root?.arn, "arn:aws:iam::123456789012:root");
    assert.deepEqual(root?.keys, []);
    const carol = users.find((u) => u.user === "carol");
    assert.deepEqual(carol?.keys, [
      { slot: 1, status: "Inactive", createDate: "2026-04-01T10:00:00+00:00", lastUsedDate: "2026-11-25T16:00:00+00:00", lastUsedRegion: "us-east-1", lastUsedService: "sts" },
      { slot: 2, status: "Active", createDate: "2026-11-26T16:20:00+00:00", lastUsedDate: "2026-11-29T07:00:00+00:00", lastUsedRegion: "us-east-1", lastUsedService: "s3" },
    ]);
    assert.equal(users.find((u) => u.user === "ci-deploy")?.line, 9);
  });

  it("gives the verdicts a person would expect on the example", () => {
    const params = validateParams({});
    const verdicts = Object.fromEntries(parseCredentialReport(EXAMPLE).map((u) => [u.user, evaluateUser(u, params, NOW).compliance]));
    assert.deepEqual(verdicts, EXAMPLE_VERDICTS);
  });

  it("reads CRLF line ends and a byte-order mark the same as LF", () => {
    const crlf = "\ufeff" + EXAMPLE.replace(/\n/g, "\r\n");
    assert.deepEqual(parseCredentialReport(crlf), parseCredentialReport(EXAMPLE));
  });

  it("ignores a trailing blank line and columns AWS may add later", () => {
    const text = `${HEADER},future_column\n${row("a")},x\n\n`;
    assert.equal(parseCredentialReport(text).length, 1);
  });

  it("finds columns by name, not position", () => {
    const cols = [...CREDENTIAL_REPORT_COLUMNS].reverse();
    const line = row("rev", { access_key_1_active: "true", access_key_1_last_rotated: "2026-11-01T00:00:00+00:00" }).split(",").reverse().join(",");
    const [u] = parseCredentialReport(`${cols.join(",")}\n${line}\n`);
    assert.equal(u?.user, "rev");
    assert.deepEqual(u?.keys.map((k) => [k.slot, k.status, k.createDate]), [[1, "Active", "2026-11-01T00:00:00+00:00"]]);
  });

  it("keeps an active key whose creation time is N/A, so the rule flags its unknown age", () => {
    const [u] = parseCredentialReport(`${HEADER}\n${row("odd", { access_key_2_active: "true" })}\n`);
    assert.ok(u);
    assert.deepEqual(u.keys.map((k) => [k.slot, k.createDate]), [[2, "N/A"]]);
    const v = evaluateUser(u, validateParams({}), NOW);
    assert.equal(v.compliance, "NON_COMPLIANT");
    assert.match(v.annotation, /age of access key 2 cannot be determined \(createDate "N\/A"\)/);
  });

  it("reads a quoted user name with a comma, and repairs one AWS left unquoted", () => {
    const quoted = row("x", { user: '"svc,deploy"', arn: '"arn:aws:iam::123456789012:user/svc,deploy"' });
    const unquoted = row("x", { user: "svc,deploy", arn: "arn:aws:iam::123456789012:user/ci/svc,deploy", access_key_1_active: "true", access_key_1_last_rotated: "2026-11-01T00:00:00+00:00" });
    const [a, b] = parseCredentialReport(`${HEADER}\n${quoted}\n${unquoted}\n`);
    assert.equal(a?.user, "svc,deploy");
    assert.equal(b?.user, "svc,deploy");
    assert.equal(b?.arn, "arn:aws:iam::123456789012:user/ci/svc,deploy");
    assert.equal(b?.keys[0]?.createDate, "2026-11-01T00:00:00+00:00");
  });

  describe("rejects broken reports, saying what is wrong and where", () => {
    it("an empty file", () => {
      throwsReport(() => parseCredentialReport(""), /^the credential report is empty$/);
      throwsReport(() => parseCredentialReport("\ufeff\n"), /^the credential report is empty$/);
    });

    it("a report still base64-encoded, as GetCredentialReport returns it", () => {
      throwsReport(() => parseCredentialReport(Buffer.from(EXAMPLE).toString("base64")), /looks base64-encoded .*decode it first/);
    });

    it("a file that is not a credential report", () => {
      throwsReport(() => parseCredentialReport("name,email\nalice,a@example.com\n"), /^line 1: header "name,email" is not a credential report's \(expected a header starting user,arn,user_creation_time\)$/, 1);
    });

    it("a header missing one column, naming it", () => {
      const header = CREDENTIAL_REPORT_COLUMNS.filter((c) => c !== "access_key_2_last_rotated").join(",");
      throwsReport(() => parseCredentialReport(`${header}\n`), /^line 1: missing column access_key_2_last_rotated \(expected a header starting user,arn,user_creation_time\)$/, 1);
    });

    it("a row with too few fields, naming its line", () => {
      const short = row("b").split(",").slice(0, 20).join(",");
      throwsReport(() => parseCredentialReport(`${HEADER}\n${row("a")}\n${short}\n`), /^line 3: expected 22 fields, found 20$/, 3);
    });

    it("a row with too many fields, naming its line", () => {
      throwsReport(() => parseCredentialReport(`${HEADER}\n${row("a")},extra\n`), /^line 2: expected 22 fields, found 23 \(an unquoted comma in a field\?\)$/, 2);
    });

    it("a key flag that is neither true nor false, naming line and column", () => {
      throwsReport(() => parseCredentialReport(`${HEADER}\n${row("a", { access_key_1_active: "yes" })}\n`), /^line 2: column access_key_1_active must be true or false, got "yes"$/, 2);
    });

    it("a row with no user name", () => {
      throwsReport(() => parseCredentialReport(`${HEADER}\n${row("", { arn: "arn:aws:iam::1:user/" })}\n`), /^line 2: column user is empty$/, 2);
    });

    it("an unterminated quote, with the CSV parser's reason", () => {
      throwsReport(() => parseCredentialReport(`${HEADER}\n"alice,${row("x").slice(2)}\n`), /^the credential report is not valid CSV: /);
    });
  });
});

describe("credential report: csvRecords", () => {
  it("splits quote-free text exactly as csv-parse does (LF, CRLF, blank lines, byte-order mark)", async () => {
    const fc = (await import("fast-check")).default;
    const { parse } = await import("csv-parse/sync");
    const { csvRecords } = await import("../shared");
    const field = fc.string({ unit: fc.constantFrom("a", "b", " ", "-", "@", ".", "é", "+", "=") , maxLength: 6 });
    const line = fc.array(field, { minLength: 1, maxLength: 5 }).map((fs) => fs.join(","));
    const doc = fc.tuple(fc.array(fc.oneof(line, fc.constant("")), { maxLength: 8 }), fc.constantFrom("\n", "\r\n"), fc.boolean(), fc.boolean()).map(
      ([lines, eol, bom, trailing]) => (bom ? "\ufeff" : "") + lines.join(eol) + (trailing ? eol : ""),
    );
    fc.assert(
      fc.property(doc, (text) => {
        const ours = csvRecords(text).map((r) => [r.record, r.info.lines]);
        const theirs = (parse(text, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true }) as unknown as { record: string[]; info: { lines: number } }[]).map((r) => [r.record, r.info.lines]);
        assert.deepEqual(ours, theirs);
      }),
    );
  });
});
