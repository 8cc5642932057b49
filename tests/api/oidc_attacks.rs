//! The browser flow under attack: code and refresh token replay, PKCE
//! missing, wrong or `plain`, CSRF on the login and consent forms, session
//! fixation, `prompt=none` without a session, redirect URIs that must not
//! be redirected to, login brute force, and bearer errors at userinfo.

use crate::helpers::{TestApp, spawn_app_at_issuer};
use crate::oidc_flow::{
    PASSWORD, REDIRECT, browser, callback_params, consent, field, location, person, sign_in, web_client,
};
use gatehouse::oauth::pkce::challenge_of;
use serde_json::Value;

pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub struct Rp {
    pub id: String,
    pub secret: String,
}

pub fn authorize_url(app: &TestApp, rp: &Rp, extra: &[(&str, &str)]) -> String {
    let challenge = challenge_of(VERIFIER);
    let mut pairs: Vec<(&str, &str)> = vec![
        ("client_id", &rp.id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid profile offline_access"),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        pairs.retain(|(pk, _)| pk != k);
        if !v.is_empty() {
            pairs.push((k, v));
        }
    }
    let q = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    app.url(&format!("/authorize?{q}"))
}

async fn setup() -> (TestApp, Rp) {
    let app = spawn_app_at_issuer(&[]).await;
    person(&app, "alice", "alice@example.com").await;
    let (id, secret) = web_client(&app, |_| {}).await;
    (app, Rp { id, secret })
}

/// Logs in and consents; returns the code.
pub async fn code_for(app: &TestApp, rp: &Rp, b: &reqwest::Client, extra: &[(&str, &str)]) -> String {
    let res = b.get(authorize_url(app, rp, extra)).send().await.unwrap();
    let res = if res.status() == 200 {
        let page = res.text().await.unwrap();
        if page.contains("name=\"password\"") {
            let res = sign_in(app, b, &page, "alice", PASSWORD).await;
            assert_eq!(res.status(), 303);
            b.get(app.url(&location(&res))).send().await.unwrap()
        } else {
            return consent_code(app, b, &page).await;
        }
    } else {
        res
    };
    if res.status() == 200 {
        let page = res.text().await.unwrap();
        return consent_code(app, b, &page).await;
    }
    assert_eq!(res.status(), 303);
    callback_params(&location(&res))["code"].clone()
}

async fn consent_code(app: &TestApp, b: &reqwest::Client, page: &str) -> String {
    let res = consent(app, b, page, "allow").await;
    assert_eq!(res.status(), 303);
    callback_params(&location(&res))["code"].clone()
}

pub async fn token(app: &TestApp, rp: &Rp, form: &[(&str, &str)]) -> (u16, Value) {
    let res = app.client.post(app.url("/token")).basic_auth(&rp.id, Some(&rp.secret)).form(form).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn redeem(app: &TestApp, rp: &Rp, code: &str) -> (u16, Value) {
    token(
        app,
        rp,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

async fn active(app: &TestApp, rp: &Rp, access_token: &str) -> bool {
    let res = app
        .client
        .post(app.url("/introspect"))
        .basic_auth(&rp.id, Some(&rp.secret))
        .form(&[("token", access_token)])
        .send()
        .await
        .unwrap();
    res.json::<Value>().await.unwrap()["active"] == true
}

#[actix_web::test]
async fn a_replayed_code_fails_and_revokes_what_it_issued() {
    let (app, rp) = setup().await;
    let code = code_for(&app, &rp, &browser(), &[]).await;
    let (status, first) = redeem(&app, &rp, &code).await;
    assert_eq!(status, 200, "{first}");
    let access = first["access_token"].as_str().unwrap().to_owned();
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();
    assert!(active(&app, &rp, &access).await);
    let (status, again) = redeem(&app, &rp, &code).await;
    assert_eq!((status, again["error"].as_str()), (400, Some("invalid_grant")));
    assert!(!active(&app, &rp, &access).await, "the access token from the first use is revoked");
    let (status, r) = token(&app, &rp, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!((status, r["error"].as_str()), (400, Some("invalid_grant")), "and its refresh token");
}

#[actix_web::test]
async fn pkce_is_required_s256_and_checked() {
    let (app, rp) = setup().await;
    let b = browser();
    for (extra, why) in [
        (&[("code_challenge", "")][..], "missing"),
        (&[("code_challenge_method", "plain"), ("code_challenge", VERIFIER)], "plain"),
    ] {
        let res = b.get(authorize_url(&app, &rp, extra)).send().await.unwrap();
        assert_eq!(res.status(), 303, "{why}");
        let p = callback_params(&location(&res));
        assert_eq!(p["error"], "invalid_request", "{why}");
        assert_eq!((p["state"].as_str(), p["iss"].as_str()), ("st-123", app.base.as_str()));
    }
    let code = code_for(&app, &rp, &b, &[]).await;
    let wrong = "x".repeat(43);
    let (status, body) = token(
        &app,
        &rp,
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", &wrong)],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let code = code_for(&app, &rp, &b, &[]).await;
    let (status, body) =
        token(&app, &rp, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    let code = code_for(&app, &rp, &b, &[]).await;
    let (status, body) = token(
        &app,
        &rp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://rp.example.com/other"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "redirect_uri must match");
    // Another client cannot redeem it either.
    let code = code_for(&app, &rp, &b, &[]).await;
    let (other_id, other_secret) = web_client(&app, |s| s.name = "Other".into()).await;
    let other = Rp { id: other_id, secret: other_secret };
    let (status, body) = redeem(&app, &other, &code).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
}

#[actix_web::test]
async fn refresh_tokens_rotate_and_a_replay_revokes_the_family() {
    let (app, rp) = setup().await;
    let code = code_for(&app, &rp, &browser(), &[]).await;
    let (_, first) = redeem(&app, &rp, &code).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();
    let (status, second) =
        token(&app, &rp, &[("grant_type", "refresh_token"), ("refresh_token", &r1), ("scope", "openid")]).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["scope"], "openid", "scope may narrow");
    assert!(second["id_token"].is_string());
    // RFC 6749 §6: the new refresh token keeps the scope of the one it
    // replaces, whatever the access token was narrowed to.
    assert!(second["refresh_token"].is_string(), "narrowing the access token does not end the grant");
    let code = code_for(&app, &rp, &browser(), &[]).await;
    let (_, first) = redeem(&app, &rp, &code).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) =
        token(&app, &rp, &[("grant_type", "refresh_token"), ("refresh_token", &r1), ("scope", "openid email")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "never widen");
    let (status, second) = token(&app, &rp, &[("grant_type", "refresh_token"), ("refresh_token", &r1)]).await;
    assert_eq!(status, 200);
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2, "rotated");
    let (status, body) = token(&app, &rp, &[("grant_type", "refresh_token"), ("refresh_token", &r1)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "replay");
    let (status, body) = token(&app, &rp, &[("grant_type", "refresh_token"), ("refresh_token", &r2)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "the family is revoked");
}

#[actix_web::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let (app, rp) = setup().await;
    let b = browser();
    let page = b.get(authorize_url(&app, &rp, &[])).send().await.unwrap().text().await.unwrap();
    let request = field(&page, "request");
    for csrf in ["", "forged", &field(&page, "csrf")[..10]] {
        let res = b
            .post(app.url("/login"))
            .form(&[("csrf", csrf), ("request", &request), ("username", "alice"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{csrf:?}");
        assert!(res.headers().get("set-cookie").is_none_or(|c| !c.to_str().unwrap().contains("gh_session")));
    }
    // A token from another browser does not work in this one.
    let other = browser();
    let other_page = other.get(authorize_url(&app, &rp, &[])).send().await.unwrap().text().await.unwrap();
    let res = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", field(&other_page, "csrf").as_str()),
            ("request", &request),
            ("username", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // Consent: log in properly, then post a forged decision.
    let res = sign_in(&app, &b, &page, "alice", PASSWORD).await;
    let consent_page = b.get(app.url(&location(&res))).send().await.unwrap().text().await.unwrap();
    let res = b
        .post(app.url("/consent"))
        .form(&[
            ("csrf", field(&page, "csrf").as_str()),
            ("request", &field(&consent_page, "request")),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "the pre-login token is not valid after login");
    let res = app
        .client
        .post(app.url("/consent"))
        .form(&[
            ("csrf", field(&consent_page, "csrf").as_str()),
            ("request", &field(&consent_page, "request")),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "without the session cookie");
}

#[actix_web::test]
async fn a_session_id_planted_before_login_is_worthless_after_it() {
    let (app, rp) = setup().await;
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let base = url::Url::parse(&app.base).unwrap();
    jar.add_cookie_str("gh_session=attacker-chosen-value-0123456789abcdefghijklmnop", &base);
    let b = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = b.get(authorize_url(&app, &rp, &[])).send().await.unwrap().text().await.unwrap();
    let res = sign_in(&app, &b, &page, "alice", PASSWORD).await;
    assert_eq!(res.status(), 303);
    let set: Vec<String> = res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let session = set.iter().find(|c| c.starts_with("gh_session=")).unwrap();
    assert!(!session.contains("attacker-chosen"), "a new id at login");
    // The planted value authenticates nothing.
    let attacker = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = attacker
        .get(authorize_url(&app, &rp, &[("prompt", "none")]))
        .header("cookie", "gh_session=attacker-chosen-value-0123456789abcdefghijklmnop")
        .send()
        .await
        .unwrap();
    assert_eq!(callback_params(&location(&res))["error"], "login_required");
}

#[actix_web::test]
async fn prompt_none_without_a_session_is_login_required() {
    let (app, rp) = setup().await;
    let b = browser();
    let res = b.get(authorize_url(&app, &rp, &[("prompt", "none")])).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let p = callback_params(&location(&res));
    assert_eq!(
        (p["error"].as_str(), p["state"].as_str(), p["iss"].as_str()),
        ("login_required", "st-123", app.base.as_str())
    );
    // Signed in but without consent: consent_required.
    let page = b.get(authorize_url(&app, &rp, &[])).send().await.unwrap().text().await.unwrap();
    sign_in(&app, &b, &page, "alice", PASSWORD).await;
    let res = b.get(authorize_url(&app, &rp, &[("prompt", "none")])).send().await.unwrap();
    assert_eq!(callback_params(&location(&res))["error"], "consent_required");
    // max_age=0 and prompt=login ask for a fresh login even with a session,
    // and the fresh login is then enough (no loop).
    for extra in [[("max_age", "0")], [("prompt", "login")]] {
        let res = b.get(authorize_url(&app, &rp, &extra)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{extra:?}");
        let page = res.text().await.unwrap();
        assert!(page.contains("name=\"password\""), "{extra:?}: the login page");
        let res = sign_in(&app, &b, &page, "alice", PASSWORD).await;
        let res = b.get(app.url(&location(&res))).send().await.unwrap();
        assert_eq!(res.status(), 200, "{extra:?}: consent next, not login again");
        assert!(res.text().await.unwrap().contains("name=\"decision\""));
    }
    // Deny at consent: access_denied back to the client.
    let page = b.get(authorize_url(&app, &rp, &[])).send().await.unwrap().text().await.unwrap();
    let res = consent(&app, &b, &page, "deny").await;
    assert_eq!(callback_params(&location(&res))["error"], "access_denied");
}

#[actix_web::test]
async fn unregistered_redirect_uris_get_an_error_page_not_a_redirect() {
    let (app, rp) = setup().await;
    let b = browser();
    for bad in [
        "https://evil.example.com/callback",
        "https://rp.example.com/callback/",
        "https://rp.example.com/Callback",
        "https://rp.example.com/callback?x=1",
        "https://rp.example.com@evil.com/callback",
        "https://rp.example.com.evil.com/callback",
        "https://rp.example.com/%63allback",
        "javascript:alert(1)",
        "",
    ] {
        let res = b
            .get(authorize_url(&app, &rp, &[("redirect_uri", bad)]))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{bad}");
        assert!(res.headers().get("location").is_none(), "{bad}");
        assert!(res.text().await.unwrap().contains("<h1"), "{bad}: an HTML error page");
    }
    let res = b.get(authorize_url(&app, &rp, &[("client_id", "nobody")])).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
}

#[actix_web::test]
async fn login_failures_are_limited_and_say_nothing_about_the_account() {
    let (app, rp) = setup().await;
    let b = browser();
    let page = b.get(authorize_url(&app, &rp, &[])).send().await.unwrap().text().await.unwrap();
    let res = sign_in(&app, &b, &page, "nobody", PASSWORD).await;
    let unknown = res.text().await.unwrap();
    let res = sign_in(&app, &b, &page, "alice", "wrong password here").await;
    assert_eq!(res.status(), 200);
    let wrong = res.text().await.unwrap();
    let strip =
        |s: &str| s.replace(&field(s, "csrf"), "").replace("value=\"nobody\"", "").replace("value=\"alice\"", "");
    assert_eq!(strip(&unknown), strip(&wrong), "unknown account and wrong password look the same");
    assert!(wrong.contains("Incorrect username or password."));
    for _ in 0..4 {
        assert_eq!(sign_in(&app, &b, &page, "alice", "still wrong").await.status(), 200);
    }
    // The sixth failure within a minute for (IP, alice) is refused.
    let res = sign_in(&app, &b, &page, "alice", PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert!(res.text().await.unwrap().contains("Too many failed attempts"));
    // Disabled accounts cannot log in (and look like wrong passwords).
    let db = &app.db;
    let bob = person(&app, "bob", "bob@example.com").await;
    gatehouse::store::users::set_active(db, &bob, false, chrono::Utc::now()).await.unwrap();
    let res = sign_in(&app, &browser(), &page, "bob", PASSWORD).await;
    assert_ne!(res.status(), 303);
}

#[actix_web::test]
async fn userinfo_speaks_rfc_6750() {
    let (app, _) = setup().await;
    let res = app.client.get(app.url("/userinfo")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"gatehouse\"");
    let res = app.client.get(app.url("/userinfo")).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));
    let res = app.client.get(app.url("/userinfo")).header("authorization", "Basic abc").send().await.unwrap();
    assert_eq!(res.status(), 400);
    // A machine token names a client, not a person.
    let (svc, secret) = crate::token::client(&app, crate::token::machine("svc", &["openid"])).await;
    let body: Value = crate::token::post_token(&app, Some((&svc, &secret.unwrap())), "grant_type=client_credentials")
        .await
        .json()
        .await
        .unwrap();
    let res =
        app.client.get(app.url("/userinfo")).bearer_auth(body["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(res.status(), 401);
    // A person's token without openid: insufficient_scope.
    let (id, secret) = web_client(&app, |s| {
        s.name = "Plain OAuth".into();
        s.scopes = vec!["api".into()];
    })
    .await;
    let plain = Rp { id, secret };
    let code = code_for(&app, &plain, &browser(), &[("scope", "api")]).await;
    let (status, t) = redeem(&app, &plain, &code).await;
    assert_eq!(status, 200, "{t}");
    assert!(t.get("id_token").is_none(), "no openid, no ID token");
    let res =
        app.client.get(app.url("/userinfo")).bearer_auth(t["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));
}

/// OIDC Core §3.1.2.1: what a library asks for by default (`address`,
/// `phone`) is ignored rather than refused, and the token response says
/// which scope was granted (RFC 6749 §3.3).
#[actix_web::test]
async fn unknown_scopes_in_an_openid_request_are_ignored_and_the_grant_says_so() {
    let (app, rp) = setup().await;
    let code = code_for(&app, &rp, &browser(), &[("scope", "openid profile email address phone")]).await;
    let (status, t) = redeem(&app, &rp, &code).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["scope"], "openid profile email");
}

/// RFC 6750 §2.2: the access token may come in a form-encoded POST body,
/// but in one way only.
#[actix_web::test]
async fn userinfo_takes_the_token_from_a_form_body() {
    let (app, rp) = setup().await;
    let code = code_for(&app, &rp, &browser(), &[]).await;
    let (status, t) = redeem(&app, &rp, &code).await;
    assert_eq!(status, 200, "{t}");
    let token = t["access_token"].as_str().unwrap();
    let post = |body: String| {
        app.client.post(app.url("/userinfo")).header("content-type", "application/x-www-form-urlencoded").body(body)
    };
    let res = post(format!("access_token={token}")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let claims: Value = res.json().await.unwrap();
    assert!(claims["sub"].is_string(), "{claims}");
    let res = post(format!("access_token={token}")).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 400, "header and body at once");
    assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("invalid_request"));
    let res = post(format!("access_token={token}&access_token={token}")).send().await.unwrap();
    assert_eq!(res.status(), 400, "repeated");
    assert_eq!(post("access_token=".into()).send().await.unwrap().status(), 400, "empty");
    assert_eq!(post("access_token=garbage".into()).send().await.unwrap().status(), 401);
    assert_eq!(post("other=1".into()).send().await.unwrap().status(), 401, "no token at all");
    // The header still works on POST.
    let res = app.client.post(app.url("/userinfo")).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[actix_web::test]
async fn form_post_answers_with_a_self_submitting_form() {
    let (app, rp) = setup().await;
    let b = browser();
    let page =
        b.get(authorize_url(&app, &rp, &[("response_mode", "form_post")])).send().await.unwrap().text().await.unwrap();
    let res = sign_in(&app, &b, &page, "alice", PASSWORD).await;
    let consent_page = b.get(app.url(&location(&res))).send().await.unwrap().text().await.unwrap();
    let res = consent(&app, &b, &consent_page, "allow").await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let html = res.text().await.unwrap();
    assert!(html.contains(&format!("action=\"{REDIRECT}\"")) || html.contains("action=\"https:&#47;&#47;"), "{html}");
    assert!(!field(&html, "code").is_empty());
    assert_eq!(field(&html, "state"), "st-123");
    assert_eq!(field(&html, "iss"), app.base);
    let nonce = html.split("nonce=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(csp.contains(&format!("script-src 'nonce-{nonce}'")), "{csp}");
    assert!(csp.contains("form-action 'self' https://rp.example.com"), "{csp}");
}

#[actix_web::test]
async fn deactivating_over_scim_ends_sessions_and_every_token() {
    scim_takes_everything_away(false).await;
}

#[actix_web::test]
async fn deleting_over_scim_ends_sessions_and_every_token() {
    scim_takes_everything_away(true).await;
}

/// A signed-in user with tokens is deactivated (or deleted) over SCIM:
/// the refresh token, the access token (self-contained, so revoked by
/// `jti`), the browser session (also in this instance's session cache) and
/// the account page all stop working at once.
async fn scim_takes_everything_away(delete: bool) {
    let (app, rp) = setup().await;
    let scim_token = crate::scim::add_token(&app, "entra").await;
    let scim =
        |m: reqwest::Method, p: &str| app.client.request(m, app.url(&format!("/scim/v2{p}"))).bearer_auth(&scim_token);
    let created: Value = scim(reqwest::Method::POST, "/Users")
        .header("content-type", "application/scim+json")
        .body(serde_json::json!({"userName": "carol", "password": PASSWORD}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let b = browser();
    let page = b.get(authorize_url(&app, &rp, &[])).send().await.unwrap().text().await.unwrap();
    let res = sign_in(&app, &b, &page, "carol", PASSWORD).await;
    let page = b.get(app.url(&location(&res))).send().await.unwrap().text().await.unwrap();
    let res = consent(&app, &b, &page, "allow").await;
    let code = callback_params(&location(&res))["code"].clone();
    let (_, tokens) = redeem(&app, &rp, &code).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    // The account page puts the session in the session cache.
    assert_eq!(b.get(app.url("/account")).send().await.unwrap().status(), 200);

    let res = if delete {
        scim(reqwest::Method::DELETE, &format!("/Users/{id}")).send().await.unwrap()
    } else {
        scim(reqwest::Method::PATCH, &format!("/Users/{id}"))
            .header("content-type", "application/scim+json")
            .body(serde_json::json!({"schemas": [crate::scim::PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}).to_string())
            .send()
            .await
            .unwrap()
    };
    assert_eq!(res.status(), if delete { 204 } else { 200 });
    let (status, body) = token(&app, &rp, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let res = app
        .client
        .post(app.url("/introspect"))
        .basic_auth(&rp.id, Some(&rp.secret))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer, serde_json::json!({"active": false}), "the access token is revoked");
    assert_eq!(b.get(app.url("/account")).send().await.unwrap().status(), 303, "the cached session is gone");
    let res = b.get(authorize_url(&app, &rp, &[("prompt", "none")])).send().await.unwrap();
    assert_eq!(callback_params(&location(&res))["error"], "login_required", "the session is gone");
    let res = app.client.get(app.url("/userinfo")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(res.status(), 401, "userinfo refuses the token at once");
}
