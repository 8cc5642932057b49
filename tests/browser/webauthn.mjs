// WebAuthn end to end in headless Chromium with a CDP virtual authenticator:
// register a passkey from the account page, sign out, sign in with the
// passkey alone, use it as the second step after a password, try an
// assertion made with another person's credential (refused), remove it, and
// enrol a passkey at a sign-in whose policy demands a factor.
// Screenshots of the enrolment and challenge pages go to GH_SCREENSHOTS.
// Prints one JSON line of findings; any failed expectation exits non-zero.
import { chromium } from "playwright-core";
import path from "node:path";

const base = process.env.GH_BASE;
const shots = process.env.GH_SCREENSHOTS;
const password = process.env.GH_PASSWORD;

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
const cdp = await context.newCDPSession(page);
await cdp.send("WebAuthn.enable");
const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
  options: {
    protocol: "ctap2",
    transport: "internal",
    hasResidentKey: true,
    hasUserVerification: true,
    isUserVerified: true,
    automaticPresenceSimulation: true,
  },
});

async function shot(name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

async function passwordLogin(user) {
  await context.clearCookies();
  await page.goto(`${base}/login`);
  await page.fill("#username", user);
  await page.fill("#password", password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  return new URL(page.url()).pathname;
}

// A first factor: the password again, and the recovery codes shown once.
async function registerFirstPasskey(name) {
  await page.goto(`${base}/account`);
  await page.fill("#passkey-name", name);
  await page.fill("#passkey-password", password);
  await page.click("#passkey-register");
  await page.waitForSelector("#webauthn-codes:not([hidden])");
  const codes = await page.$$eval("#webauthn-codes li code", (els) => els.map((e) => e.textContent));
  expect(codes.length === 10, `ten recovery codes shown (got ${codes.length})`);
  await Promise.all([page.waitForURL(`${base}/account`), page.click("#codes-continue")]);
  await page.waitForSelector(`#passkeys li:has-text("${name}")`);
  return codes;
}

const out = {};

// 1. Register alice's passkey after a password login.
expect((await passwordLogin("alice")) === "/account", "a password login without factors lands on the account page");
await page.goto(`${base}/account/mfa/totp`);
expect(await page.$("#totp-secret"), "the TOTP enrolment page shows the key");
await shot("totp-enrolment");
out.recovery_codes = (await registerFirstPasskey("Alice laptop")).length;
await shot("account-with-passkey");
out.credentials = (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials.length;

// 2. Sign out; sign in with the passkey alone.
await context.clearCookies();
await page.goto(`${base}/login`);
await shot("login");
await Promise.all([page.waitForURL(`${base}/account`), page.click("#passkey-login")]);
out.passwordless = (await page.textContent("main")).includes("Signed in as alice");

// 3. A second person's passkey on the same authenticator.
expect((await passwordLogin("bob")) === "/account", "bob has no factor yet");
await registerFirstPasskey("Bob key");
const creds = (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
expect(creds.length === 2, "two credentials in the authenticator");

// 4. Password, then the passkey as the second step; first an assertion
//    made with bob's credential for alice's challenge.
expect((await passwordLogin("alice")) === "/login/mfa", "alice's password leads to the second step");
await shot("second-factor-challenge");
// The user handle is the account's UUID, as bytes.
const bobHandle = process.env.GH_BOB_ID.replace(/-/g, "");
const bobCred = creds.find((c) => Buffer.from(c.userHandle, "base64").toString("hex") === bobHandle);
expect(bobCred, "bob's credential carries bob's user handle");
const foreign = await page.evaluate(async (bobId) => {
  const dec = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)), (c) => c.charCodeAt(0)).buffer;
  const enc = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const csrf = document.querySelector('input[name="csrf"]').value;
  const post = (url, body) => fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const begun = await (await post("/login/mfa/passkey/begin", { csrf })).json();
  const pk = begun.options.publicKey;
  pk.challenge = dec(pk.challenge);
  pk.allowCredentials = [{ type: "public-key", id: dec(bobId) }];
  const c = await navigator.credentials.get({ publicKey: pk });
  const r = c.response;
  const res = await post("/login/mfa/passkey/finish", {
    csrf,
    ceremony: begun.ceremony,
    credential: {
      id: c.id, rawId: enc(c.rawId), type: c.type, extensions: {},
      response: { authenticatorData: enc(r.authenticatorData), clientDataJSON: enc(r.clientDataJSON), signature: enc(r.signature), userHandle: r.userHandle ? enc(r.userHandle) : null },
    },
  });
  return { status: res.status, body: await res.json() };
}, Buffer.from(bobCred.credentialId, "base64").toString("base64url"));
out.foreign_assertion_status = foreign.status;
expect(foreign.status === 400, `an assertion with bob's credential is refused (got ${foreign.status})`);
await page.goto(`${base}/login/mfa`);
await Promise.all([page.waitForURL(`${base}/account`), page.click("#passkey-second-factor")]);
out.second_factor = (await page.textContent("main")).includes("Signed in as alice");

// 5. Remove it (the session passed a second factor, so no code is asked).
await Promise.all([page.waitForURL(`${base}/account`), page.click('#passkeys li:has-text("Alice laptop") button')]);
out.removed = !(await page.textContent("#passkeys")).includes("Alice laptop");

// 6. An admin under mfa=required_for_admins with no factor: the password
//    leads to enrolment, where a passkey completes the sign-in.
await context.clearCookies();
await page.goto(`${base}/login`);
await page.fill("#username", "admin");
await page.fill("#password", process.env.GH_ADMIN_PASSWORD);
await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
expect(new URL(page.url()).pathname === "/login/mfa/enrol", `the admin is sent to enrolment (at ${page.url()})`);
await shot("forced-enrolment");
await page.click("#passkey-enrol");
await page.waitForSelector("#webauthn-codes:not([hidden])");
await shot("forced-enrolment-recovery-codes");
await Promise.all([page.waitForURL(`${base}/account`), page.click("#codes-continue")]);
out.forced_enrolment = (await page.textContent("main")).includes("Signed in as admin");

out.csp_violations = cspViolations;
await browser.close();
console.log(JSON.stringify(out));
