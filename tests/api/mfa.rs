//! Second factors end to end: TOTP enrolment from the account page (codes
//! computed by an independent implementation, totp-rs, from the key the
//! page shows), the second step at login, recovery codes, the `mfa`
//! policy, step-up through `acr_values`, code replay and reuse, and
//! reaching `/authorize` or `/consent` with a login that has not finished
//! its second step. Guessing and other attacks: `mfa_attacks.rs`.

use crate::binary::{json_out, run_async};
use crate::helpers::{TestApp, base_env, spawn_app_at_issuer};
use crate::oidc_flow::{
    PASSWORD, REDIRECT, browser, callback_params, consent, decode_payload, field, location, person, sign_in, unescape,
    web_client,
};
use gatehouse::oauth::pkce::challenge_of;
use serde_json::Value;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const ACR_MFA: &str = "urn:gatehouse:acr:mfa";

pub struct Rp {
    id: String,
    secret: String,
}

/// The key an enrolment page shows, as an independent TOTP generator.
pub struct Authenticator(pub totp_rs::Totp);

impl Authenticator {
    pub fn from_page(page: &str) -> Self {
        let start = page.find("id=\"totp-secret\">").expect("key on the page") + "id=\"totp-secret\">".len();
        let end = start + page[start..].find('<').unwrap();
        let b32: String = unescape(&page[start..end]).chars().filter(|c| !c.is_whitespace()).collect();
        let secret = totp_rs::Secret::try_from_base32(b32).unwrap();
        Self(totp_rs::Builder::new().with_secret(secret).with_digits(6).with_step_duration(30).build().unwrap())
    }

    pub fn step_now() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 30
    }

    pub fn code(&self, step: u64) -> String {
        self.0.generate(step * 30).to_string()
    }
}

fn authorize_url(app: &TestApp, rp: &Rp, extra: &[(&str, &str)]) -> String {
    let challenge = challenge_of(VERIFIER);
    let mut pairs: Vec<(&str, &str)> = vec![
        ("client_id", &rp.id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "st-1"),
        ("nonce", "n-1"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    pairs.extend_from_slice(extra);
    let q = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    app.url(&format!("/authorize?{q}"))
}

pub async fn setup(extra: &[(&str, &str)]) -> (TestApp, Rp) {
    let app = spawn_app_at_issuer(extra).await;
    person(&app, "alice", "alice@example.com").await;
    let (id, secret) = web_client(&app, |s| s.consent_required = Some(false)).await;
    (app, Rp { id, secret })
}

/// Audit actions, once the batching actor has written them.
pub async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.audit_written().await;
    gatehouse::store::audit::recent(&app.db, 500).await.unwrap().into_iter().map(|e| e.action).collect()
}

pub async fn text(res: reqwest::Response) -> String {
    res.text().await.unwrap()
}

/// Signs in without a client; answers where the password step led.
pub async fn password_step(app: &TestApp, b: &reqwest::Client) -> String {
    let page = text(b.get(app.url("/login")).send().await.unwrap()).await;
    let res = sign_in(app, b, &page, "alice", PASSWORD).await;
    assert_eq!(res.status(), 303);
    location(&res)
}

/// Enrols TOTP from the account page of a signed-in browser; returns the
/// authenticator, the step its confirming code used, and the recovery codes.
pub async fn enrol_from_account(app: &TestApp, b: &reqwest::Client) -> (Authenticator, u64, Vec<String>) {
    let account = text(b.get(app.url("/account")).send().await.unwrap()).await;
    assert!(account.contains("id=\"setup-totp\""), "{account}");
    let page = text(b.get(app.url("/account/mfa/totp")).send().await.unwrap()).await;
    assert!(page.contains("<svg"), "a QR code: {page}");
    let auth = Authenticator::from_page(&page);
    // A wrong first code does not enrol.
    // The first factor of an account takes the password again.
    let res = b
        .post(app.url("/account/mfa/totp"))
        .form(&[
            ("csrf", field(&page, "csrf")),
            ("code", auth.code(Authenticator::step_now())),
            ("password", "wrong".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "a wrong password adds nothing");
    let res = b
        .post(app.url("/account/mfa/totp"))
        .form(&[("csrf", field(&page, "csrf")), ("code", "000000".into()), ("password", PASSWORD.into())])
        .send()
        .await
        .unwrap();
    let again = text(res).await;
    assert!(again.contains("not valid"), "{again}");
    let step = Authenticator::step_now();
    let res = b
        .post(app.url("/account/mfa/totp"))
        .form(&[("csrf", field(&again, "csrf")), ("code", auth.code(step)), ("password", PASSWORD.into())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let codes = recovery_codes(&text(res).await);
    (auth, step, codes)
}

pub fn recovery_codes(page: &str) -> Vec<String> {
    let list = &page[page.find("id=\"recovery-codes\"").expect("codes shown")..];
    let list = &list[..list.find("</ul>").unwrap()];
    let codes: Vec<String> = list.split("<code>").skip(1).map(|c| c[..c.find("</code>").unwrap()].to_owned()).collect();
    assert_eq!(codes.len(), 10, "{list}");
    codes
}

/// Answers the second step with a TOTP or recovery code.
pub async fn second_step(app: &TestApp, b: &reqwest::Client, method: &str, code: &str) -> reqwest::Response {
    let page = text(b.get(app.url("/login/mfa")).send().await.unwrap()).await;
    let csrf = field(&page, "csrf");
    b.post(app.url("/login/mfa"))
        .form(&[("csrf", csrf.as_str()), ("method", method), ("code", code)])
        .send()
        .await
        .unwrap()
}

async fn id_token_claims(app: &TestApp, rp: &Rp, callback: &str) -> Value {
    let code = callback_params(callback)["code"].clone();
    let res = app
        .client
        .post(app.url("/token"))
        .basic_auth(&rp.id, Some(&rp.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    decode_payload(body["id_token"].as_str().unwrap())
}

#[actix_web::test]
async fn totp_enrolment_then_a_second_step_at_login_with_replay_refused() {
    let (app, rp) = setup(&[]).await;
    let b = browser();
    assert_eq!(password_step(&app, &b).await, "/account");
    let (auth, used_step, _) = enrol_from_account(&app, &b).await;
    let account = text(b.get(app.url("/account")).send().await.unwrap()).await;
    assert!(account.contains("id=\"recovery-left\">10<"), "{account}");

    // A new browser: the password is only the first step.
    let b = browser();
    let res = b.get(authorize_url(&app, &rp, &[])).send().await.unwrap();
    let page = text(res).await;
    let res = sign_in(&app, &b, &page, "alice", PASSWORD).await;
    assert_eq!(location(&res), "/login/mfa");

    // The half-finished login reaches nothing that needs a session.
    let res = b.get(authorize_url(&app, &rp, &[])).send().await.unwrap();
    assert_eq!(res.status(), 200, "the login page again, not a code");
    assert!(text(res).await.contains("name=\"password\""));
    assert_eq!(location(&b.get(app.url("/account")).send().await.unwrap()), "/login");
    let res = b.get(authorize_url(&app, &rp, &[("prompt", "none")])).send().await.unwrap();
    assert_eq!(callback_params(&location(&res))["error"], "login_required");

    // The code that confirmed the enrolment is spent.
    let res = second_step(&app, &b, "totp", &auth.code(used_step)).await;
    assert_eq!(res.status(), 200);
    assert!(text(res).await.contains("already used"));
    // The next one works (one step of clock skew is allowed).
    let res = second_step(&app, &b, "totp", &auth.code(used_step + 1)).await;
    assert_eq!(res.status(), 303);
    let next = location(&res);
    assert!(next.starts_with("/authorize?"), "{next}");
    let res = b.get(app.url(&next)).send().await.unwrap();
    let claims = id_token_claims(&app, &rp, &location(&res)).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["acr"], ACR_MFA);

    // The same code, in yet another login, is refused again.
    let b = browser();
    assert_eq!(password_step(&app, &b).await, "/login/mfa");
    let res = second_step(&app, &b, "totp", &auth.code(used_step + 1)).await;
    assert!(text(res).await.contains("already used"));

    // Discovery says which acr values exist.
    let meta: Value = app.get("/.well-known/openid-configuration").await.json().await.unwrap();
    assert_eq!(meta["acr_values_supported"], serde_json::json!(["urn:gatehouse:acr:password", ACR_MFA]));
}

#[actix_web::test]
async fn a_recovery_code_works_once() {
    let (app, _rp) = setup(&[]).await;
    let b = browser();
    password_step(&app, &b).await;
    let (_auth, _, codes) = enrol_from_account(&app, &b).await;

    let b = browser();
    password_step(&app, &b).await;
    let res = second_step(&app, &b, "recovery", &codes[0]).await;
    assert_eq!(location(&res), "/account");
    let account = text(b.get(app.url("/account")).send().await.unwrap()).await;
    assert!(account.contains("id=\"recovery-left\">9<"), "{account}");

    let b = browser();
    password_step(&app, &b).await;
    let res = second_step(&app, &b, "recovery", &codes[0]).await;
    assert_eq!(res.status(), 200);
    assert!(text(res).await.contains("not valid"), "a used code is refused");
    // Typed differently (upper case, no dash), the next code still works.
    let res = second_step(&app, &b, "recovery", &codes[1].replace('-', "").to_uppercase()).await;
    assert_eq!(location(&res), "/account");

    let audit = audit_actions(&app).await;
    assert_eq!(audit.iter().filter(|a| *a == "mfa.recovery_code.used").count(), 2);
}

#[actix_web::test]
async fn required_mfa_sends_the_person_to_enrolment_before_any_token() {
    let (app, rp) = setup(&[("GATEHOUSE_MFA", "required")]).await;
    let b = browser();
    let page = text(b.get(authorize_url(&app, &rp, &[])).send().await.unwrap()).await;
    let res = sign_in(&app, &b, &page, "alice", PASSWORD).await;
    assert_eq!(location(&res), "/login/mfa/enrol");
    // Half-finished: no code, no account page, no consent.
    let res = b.get(authorize_url(&app, &rp, &[])).send().await.unwrap();
    assert!(text(res).await.contains("name=\"password\""));
    assert_eq!(location(&b.get(app.url("/account")).send().await.unwrap()), "/login");
    let res = consent(&app, &b, &page, "allow").await;
    assert_ne!(res.status(), 303, "consent needs a session");

    let enrol = text(b.get(app.url("/login/mfa/enrol")).send().await.unwrap()).await;
    assert!(enrol.contains("<svg"));
    let auth = Authenticator::from_page(&enrol);
    // Reloading shows the same key (what was scanned stays valid).
    let reload = text(b.get(app.url("/login/mfa/enrol")).send().await.unwrap()).await;
    assert_eq!(Authenticator::from_page(&reload).0.secret(), auth.0.secret());
    let res = b
        .post(app.url("/login/mfa/enrol"))
        .form(&[("csrf", field(&enrol, "csrf")), ("code", auth.code(Authenticator::step_now()))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let shown = text(res).await;
    recovery_codes(&shown);
    let href_at = shown.find("<a href=\"/authorize?").expect("continue link to the authorization request") + 9;
    let href = unescape(&shown[href_at..href_at + shown[href_at..].find('"').unwrap()]);
    let res = b.get(app.url(&href)).send().await.unwrap();
    let claims = id_token_claims(&app, &rp, &location(&res)).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));

    // Required: the factor cannot be removed from the account page.
    let account = text(b.get(app.url("/account")).send().await.unwrap()).await;
    assert!(!account.contains("/account/mfa/totp/remove"));
}

#[actix_web::test]
async fn required_for_admins_spares_others() {
    let (app, rp) = setup(&[("GATEHOUSE_MFA", "required_for_admins")]).await;
    let b = browser();
    assert_eq!(password_step(&app, &b).await, "/account", "alice is not an admin");
    // The bootstrap admin is.
    let b = browser();
    let page = text(b.get(authorize_url(&app, &rp, &[])).send().await.unwrap()).await;
    let res = sign_in(&app, &b, &page, "admin", crate::helpers::ADMIN_PASSWORD).await;
    assert_eq!(location(&res), "/login/mfa/enrol");
}

#[actix_web::test]
async fn acr_values_step_a_password_session_up_to_mfa() {
    let (app, rp) = setup(&[]).await;
    let b = browser();
    password_step(&app, &b).await;
    let (auth, used_step, _) = enrol_from_account(&app, &b).await;

    // Signed in with the password only (before enrolling): fine by default...
    let res = b.get(authorize_url(&app, &rp, &[])).send().await.unwrap();
    let claims = id_token_claims(&app, &rp, &location(&res)).await;
    assert_eq!(claims["acr"], "urn:gatehouse:acr:password");
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    // ...not when the client asks for MFA: prompt=none cannot, a browser steps up.
    let res = b.get(authorize_url(&app, &rp, &[("acr_values", ACR_MFA), ("prompt", "none")])).send().await.unwrap();
    assert_eq!(callback_params(&location(&res))["error"], "login_required");
    let res = b.get(authorize_url(&app, &rp, &[("acr_values", ACR_MFA)])).send().await.unwrap();
    assert_eq!(location(&res), "/login/mfa");
    let res = second_step(&app, &b, "totp", &auth.code(used_step + 1)).await;
    let res = b.get(app.url(&location(&res))).send().await.unwrap();
    let claims = id_token_claims(&app, &rp, &location(&res)).await;
    assert_eq!(claims["acr"], ACR_MFA);
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    // The stepped-up session now satisfies it silently.
    let res = b.get(authorize_url(&app, &rp, &[("acr_values", ACR_MFA), ("prompt", "none")])).send().await.unwrap();
    assert!(callback_params(&location(&res)).contains_key("code"));
}

#[actix_web::test]
async fn a_session_without_a_factor_steps_up_through_the_password_first() {
    let (app, rp) = setup(&[]).await;
    let b = browser();
    password_step(&app, &b).await;
    // A client asks for MFA; alice has no factor: enrolling one needs her
    // password again, not just the session.
    let res = b.get(authorize_url(&app, &rp, &[("acr_values", ACR_MFA)])).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = text(res).await;
    assert!(page.contains("name=\"password\""), "{page}");
    let res = sign_in(&app, &b, &page, "alice", PASSWORD).await;
    assert_eq!(location(&res), "/login/mfa/enrol");
}

#[actix_web::test]
async fn removing_the_factor_needs_a_current_code_and_admins_can_reset() {
    let (app, _rp) = setup(&[]).await;
    let b = browser();
    password_step(&app, &b).await;
    let (auth, used_step, _) = enrol_from_account(&app, &b).await;
    let env = base_env(&app.database);

    let listed = json_out(&run_async(&env, &["user", "mfa", "list", "alice", "--json"], None).await);
    assert!(listed["totp"]["confirmed_at"].is_string(), "{listed}");
    assert_eq!(listed["recovery_codes_left"], 10);

    let account = text(b.get(app.url("/account")).send().await.unwrap()).await;
    let res = b
        .post(app.url("/account/mfa/totp/remove"))
        .form(&[("csrf", field(&account, "csrf")), ("code", "123456".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "a wrong code removes nothing");
    let res = b
        .post(app.url("/account/mfa/recovery"))
        .form(&[("csrf", field(&account, "csrf")), ("code", auth.code(used_step + 1))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    recovery_codes(&text(res).await);

    let reset = json_out(&run_async(&env, &["user", "mfa", "reset", "alice", "--json"], None).await);
    assert_eq!(reset["recovery_codes_left"], 10);
    assert!(reset["sessions_ended"].as_u64().unwrap() >= 1);
    let listed = json_out(&run_async(&env, &["user", "mfa", "list", "alice", "--json"], None).await);
    assert!(listed["totp"].is_null());
    assert_eq!(listed["recovery_codes_left"], 0);
    let b = browser();
    assert_eq!(password_step(&app, &b).await, "/account", "no second step after a reset");
    let audit = audit_actions(&app).await;
    for action in ["mfa.totp.enrolled", "mfa.recovery_codes.created", "mfa.totp.remove_failed", "mfa.reset"] {
        assert!(audit.iter().any(|a| a == action), "{action} audited: {audit:?}");
    }
}

#[actix_web::test]
async fn expired_challenges_and_abandoned_enrolments_are_purged() {
    let (app, _rp) = setup(&[("GATEHOUSE_MFA", "required")]).await;
    let b = browser();
    assert_eq!(password_step(&app, &b).await, "/login/mfa/enrol");
    text(b.get(app.url("/login/mfa/enrol")).send().await.unwrap()).await;
    let now = chrono::Utc::now();
    assert_eq!(gatehouse::store::mfa::purge_challenges(&app.db, now).await.unwrap(), 0, "both still live");
    let later = now + chrono::Duration::days(2);
    assert_eq!(gatehouse::store::mfa::purge_challenges(&app.db, later).await.unwrap(), 2, "challenge and seed");
    // The browser's challenge is gone with it.
    let res = b.get(app.url("/login/mfa/enrol")).send().await.unwrap();
    assert_eq!(location(&res), "/login");
}
