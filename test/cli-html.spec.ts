// `keyage audit --format html`: escaping of every AWS-sourced value, checked on the page's source; then
// the page in a real browser (Debian's chromium, driven headless by puppeteer-core, which downloads no
// browser): it renders, says what it should, logs no console error, runs no script, fetches nothing; a
// screenshot is kept in test-output/; a report of 5,000 users in 50 accounts opens in under 2 s.
//
// There is no skipping: without chromium these tests FAIL, saying how to install it (.ci/run does).
import { strict as assert } from "node:assert";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import { formatHtml } from "../cli/html";
import { EVIL_ERROR, EVIL_NAME, EVIL_USER, orgAudit } from "./org-audit";

const OUT = path.join(__dirname, "..", "test-output");
const CHROMIUM = process.env.KEYAGE_CHROMIUM ?? "/usr/bin/chromium";

describe("keyage audit --format html: every AWS-sourced value is escaped", () => {
  const page = formatHtml(orgAudit(3, 4, true), "0.0.0-test");

  it("shows a user named <script>alert(1)</script> as text, never as markup", () => {
    assert.ok(!page.includes(EVIL_USER));
    assert.ok(page.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  });

  it("escapes quotes and markup in account names and error messages", () => {
    assert.ok(!page.includes(EVIL_NAME) && !page.includes("<img"));
    assert.ok(page.includes("Prod &quot;EU&quot; &#39;blue&#39; &lt;img src=x onerror=alert(2)&gt;"));
    assert.ok(page.includes("&lt;script&gt;alert(3)&lt;/script&gt; &quot;quoted&quot;"));
  });

  it("has no script, no external resource and forbids both by Content-Security-Policy", () => {
    assert.doesNotMatch(page, /<script|<link|<img|<iframe|@import|url\(/i);
    assert.doesNotMatch(page, /<[^>]*\s(?:src|href)=/i);
    assert.match(page, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/);
  });
});

describe("keyage audit --format html in a real browser (headless chromium)", function () {
  this.timeout(60_000);
  let browser: Browser;

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium; .ci/run does) or set KEYAGE_CHROMIUM`);
    }
    mkdirSync(OUT, { recursive: true });
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, pipe: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  });
  after(async () => browser?.close());

  async function open(html: string, name: string, screenshot = true): Promise<{ text: string; errors: string[]; requests: string[]; dialogs: string[]; ms: number; shot: string }> {
    const file = path.join(OUT, `${name}.html`);
    writeFileSync(file, html);
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 900 });
    const errors: string[] = [];
    const requests: string[] = [];
    const dialogs: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => requests.push(r.url()));
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    // Into a file:// page first, so that the time measured is the report's, not a renderer process starting.
    const blank = path.join(OUT, "blank.html");
    writeFileSync(blank, "<!doctype html><title>blank</title>");
    await page.goto(`file://${blank}`);
    requests.length = 0;
    const started = performance.now();
    await page.goto(`file://${file}`, { waitUntil: "load" });
    const ms = performance.now() - started;
    // A string, evaluated in the page: this tree's TypeScript has no DOM types.
    const text = (await page.evaluate("document.body.innerText")) as string;
    const shot = path.join(OUT, `${name}.png`);
    if (screenshot) await page.screenshot({ path: shot, fullPage: true });
    await page.close();
    return { text, errors, requests, dialogs, ms, shot };
  }

  it("renders the report: title, verdict, accounts, the unaudited account, the histogram and the violators; no console error, no script run, nothing fetched", async () => {
    const r = await open(formatHtml(orgAudit(3, 12, true), "0.0.0-test"), "html-report");
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.dialogs, [], "no script ran");
    assert.deepEqual(r.requests.filter((u) => !u.startsWith("file://")), [], "nothing but the file itself was requested");
    assert.equal(r.requests.length, 1);
    assert.match(r.text, /Access key audit/);
    assert.match(r.text, /Incomplete audit: 1 of 4 accounts could not be audited/);
    assert.ok(r.text.includes(EVIL_ERROR), "the error shown as text");
    assert.ok(r.text.includes(EVIL_USER), "the user's name shown as text");
    assert.ok(r.text.includes(EVIL_NAME), "the account's name shown as text");
    assert.match(r.text, /Active key ages/);
    assert.match(r.text, /limit 30 days/);
    assert.match(r.text, /Violations, oldest first/);
    assert.match(r.text, /all accounts/);
    assert.ok(existsSync(r.shot));
  });

  it("opens a report of 5,000 users in 50 accounts in under 2 s", async () => {
    const html = formatHtml(orgAudit(50, 100), "0.0.0-test");
    // The fastest of three loads: on a shared machine other processes only ever add time, never take it away.
    const runs = [];
    for (let i = 0; i < 3; i += 1) runs.push(await open(html, "html-report-5000", false));
    for (const r of runs) {
      assert.deepEqual(r.errors, []);
      assert.match(r.text, /of 5050 users non-compliant/);
    }
    const ms = Math.min(...runs.map((r) => r.ms));
    console.log(`      5,000 users / 50 accounts: ${(html.length / 1024).toFixed(0)} KiB, loaded in ${ms.toFixed(0)} ms (fastest of ${runs.map((r) => r.ms.toFixed(0)).join(", ")})`);
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  });
});
