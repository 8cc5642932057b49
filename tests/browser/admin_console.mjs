// The admin console in headless Chromium: sign in as an administrator,
// search, bulk-deactivate two users and bring them back, unlock a locked
// one, open a user's page, the groups, make a SCIM token, watch a failed
// sign-in arrive in the live audit tail; axe-core checks every page in light and dark.
// Prints one JSON line of findings; any failed expectation exits non-zero.
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const base = process.env.GH_BASE;
const shots = process.env.GH_SCREENSHOTS;

function expect(cond, what) {
  if (!cond) throw new Error(`expected: ${what}`);
}

const browser = await chromium.launch({
  executablePath: process.env.GH_CHROMIUM,
  headless: true,
  args: ["--no-sandbox"],
});
const context = await browser.newContext();
const page = await context.newPage();
const cspViolations = [];
page.on("console", (m) => {
  if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
});

const out = { axe: {}, violations: [] };

// axe through the DevTools protocol: the pages' CSP allows no script of
// ours, and must not be loosened for the check.
async function audit(name) {
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.evaluate(axeSource);
    const result = await page.evaluate(() =>
      window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"] } }),
    );
    out.axe[`${name}-${scheme}`] = result.violations.length;
    for (const v of result.violations) {
      out.violations.push({ page: `${name}-${scheme}`, id: v.id, nodes: v.nodes.map((n) => n.target.join(" ")) });
    }
    await page.screenshot({ path: path.join(shots, `admin-${name}-${scheme}.png`), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: "light" });
}

async function rows() {
  return page.$$eval("input[name=user_id][type=checkbox]", (els) => els.map((e) => e.value));
}

async function bulk(ids, action) {
  for (const id of ids) await page.check(`input[name=user_id][value="${id}"]`);
  await page.selectOption("#action", action);
  await Promise.all([page.waitForNavigation(), page.click("#apply")]);
  return page.textContent("h1");
}

await page.goto(`${base}/login`);
await page.fill("#username", "root");
await page.fill("#password", process.env.GH_PASSWORD);
await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);

await page.goto(`${base}/admin`);
expect(new URL(page.url()).pathname === "/admin/users", "/admin opens the user list");
await audit("users");

await page.fill("#q", "smith");
await Promise.all([page.waitForNavigation(), page.click("form[role=search] button[type=submit]")]);
const smiths = await rows();
out.searched = smiths.length;
out.deactivated = await bulk(smiths.slice(0, 2), "deactivate");
await audit("bulk");

await page.goto(`${base}/admin/users?active=no`);
out.inactive = (await rows()).length;
out.reactivated = await bulk(await rows(), "activate");

await page.goto(`${base}/admin/lockouts`);
out.lockouts_listed = await page.$$eval("#lockouts tbody tr", (trs) => trs.length);
await audit("lockouts");
await page.goto(`${base}/admin/users?locked=yes`);
const locked = await rows();
out.locked = locked.length;
out.unlocked = await bulk(locked, "unlock");
await page.goto(`${base}/admin/users?locked=yes`);
out.locked_after = (await rows()).length;

await page.goto(`${base}/admin/users?q=smith`);
await Promise.all([page.waitForNavigation(), page.click(`a[href="/admin/users/${smiths[0]}"]`)]);
out.user_page = await page.textContent("h1");
await audit("user");

await page.goto(`${base}/admin/groups`);
out.groups = await page.$$eval("#groups tbody tr", (trs) => trs.length);
await audit("groups");
await page.goto(`${base}/admin/scim-tokens`);
await page.fill("#token-name", "okta");
await Promise.all([page.waitForNavigation(), page.click("#new-token button[type=submit]")]);
out.issued = await page.textContent("#issued-token");
await audit("tokens");

// The live tail: a failed sign-in elsewhere shows up without a reload.
await page.goto(`${base}/admin/audit`);
await page.waitForFunction(() => document.getElementById("live-status").textContent.startsWith("Live"));
await audit("audit");
const other = await browser.newContext();
const intruder = await other.newPage();
await intruder.goto(`${base}/login`);
await intruder.fill("#username", "root");
await intruder.fill("#password", "not the password");
await Promise.all([intruder.waitForNavigation(), intruder.click("button[type=submit]")]);
await other.close();
await page.waitForSelector('#events tbody tr.fresh:has-text("login.failed")', { timeout: 15000 });
out.live_event = await page.textContent('#events tbody tr.fresh:has-text("login.failed") td:nth-child(3)');

out.csp_violations = cspViolations;
await browser.close();
console.log(JSON.stringify(out));
