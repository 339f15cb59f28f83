// A synthetic organization audit, for the HTML report's tests and the sample screenshot in docs/.
import { evaluateAll, type AccountRun, type Audit, type AuditEntry, type AuditInput } from "../cli/model";
import { validateParams } from "../shared";

const DAY = 86_400_000;
/** Evaluation time of every synthetic audit. */
export const ORG_NOW = Date.parse("2026-11-29T12:00:00Z");
export const EVIL_USER = "<script>alert(1)</script>";
export const EVIL_NAME = `Prod "EU" 'blue' <img src=x onerror=alert(2)>`;
export const EVIL_ERROR = `could not assume arn:aws:iam::444444444444:role/keyage-audit: AccessDenied: <script>alert(3)</script> "quoted"`;

const iso = (ageDays: number): string => new Date(ORG_NOW - ageDays * DAY).toISOString();

/**
 * An organization audit: `accounts` accounts of `users` users each (key ages spread over 0–120 days, every
 * fourth user with an old inactive key, a root key in the second account), plus one account not audited.
 * With `evil`, the first user, the first account's name and the failure carry markup and quotes.
 */
export function orgAudit(accounts: number, users: number, evil = false): Audit {
  const params = validateParams({ maxAgeDays: 30, warnDays: 7 });
  const runs: AccountRun[] = [];
  const entries: AuditEntry[] = [];
  for (let a = 0; a < accounts; a += 1) {
    const id = String(100000000000 + a * 1111);
    const inputs: AuditInput[] = [{ user: "<root_account>", arn: `arn:aws:iam::${id}:root`, root: true, keys: a === 1 ? [{ slot: 1, status: "Active", createDate: iso(200) }] : [] }];
    for (let u = 0; u < users; u += 1) {
      const name = evil && a === 0 && u === 0 ? EVIL_USER : `user-${a}-${u}`;
      const age = name === EVIL_USER ? 61 : (u * 7 + a * 3) % 120;
      const id4 = String(u).padStart(4, "0");
      inputs.push({
        user: name,
        arn: `arn:aws:iam::${id}:user/${name}`,
        keys: [{ accessKeyId: `AKIA${id}${id4}`, status: "Active", createDate: iso(age + 0.5) }, ...(u % 4 === 0 ? [{ accessKeyId: `AKIB${id}${id4}`, status: "Inactive", createDate: iso(300) }] : [])],
      });
    }
    entries.push(...evaluateAll(inputs, params, ORG_NOW, `account ${id}`).entries.map((e) => ({ ...e, account: id })));
    runs.push({ id, name: evil && a === 0 ? EVIL_NAME : `workload-${a}`, status: "audited", notes: a === 2 ? ["the root user's keys were not checked (no credential report: AccessDenied)"] : [] });
  }
  runs.push({ id: "444444444444", name: "sandbox", status: "failed", error: evil ? EVIL_ERROR : "could not assume arn:aws:iam::444444444444:role/keyage-audit: AccessDenied", notes: [] });
  return { params, now: ORG_NOW, source: `the organization (${accounts} of ${accounts + 1} accounts audited)`, entries, accounts: runs };
}
