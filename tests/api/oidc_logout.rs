//! RP-Initiated Logout and the account page: ending sessions with and
//! without an `id_token_hint`, refusing open redirects through
//! `post_logout_redirect_uri`, and revoking sessions and consents.

use crate::helpers::{TestApp, spawn_app_at_issuer};
use crate::oidc_flow::{
    PASSWORD, REDIRECT, browser, callback_params, consent, field, location, person, sign_in, web_client,
};
use gatehouse::oauth::pkce::challenge_of;
use serde_json::Value;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const BYE: &str = "https://rp.example.com/bye";

fn authorize_url(app: &TestApp, client_id: &str, prompt: Option<&str>) -> String {
    let challenge = challenge_of(VERIFIER);
    let mut pairs = vec![
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    if let Some(p) = prompt {
        pairs.push(("prompt", p));
    }
    app.url(&format!(
        "/authorize?{}",
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
    ))
}

/// Logs alice in through the whole flow; returns (browser, client id, ID token).
async fn logged_in(app: &TestApp) -> (reqwest::Client, String, String) {
    let (id, secret) = web_client(app, |s| s.post_logout_redirect_uris = vec![BYE.into()]).await;
    let b = browser();
    let page = b.get(authorize_url(app, &id, None)).send().await.unwrap().text().await.unwrap();
    let res = sign_in(app, &b, &page, "alice", PASSWORD).await;
    let page = b.get(app.url(&location(&res))).send().await.unwrap().text().await.unwrap();
    let code = callback_params(&location(&consent(app, &b, &page, "allow").await))["code"].clone();
    let res = app
        .client
        .post(app.url("/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    let tokens: Value = res.json().await.unwrap();
    (b, id, tokens["id_token"].as_str().unwrap().to_owned())
}

async fn signed_in(app: &TestApp, b: &reqwest::Client, client_id: &str) -> bool {
    let res = b.get(authorize_url(app, client_id, Some("none"))).send().await.unwrap();
    !callback_params(&location(&res)).contains_key("error")
}

fn logout_url(app: &TestApp, pairs: &[(&str, &str)]) -> String {
    app.url(&format!(
        "/end_session?{}",
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
    ))
}

#[actix_web::test]
async fn logout_with_a_valid_hint_ends_the_session_and_returns_to_the_client() {
    let app = spawn_app_at_issuer(&[]).await;
    person(&app, "alice", "alice@example.com").await;
    let (b, id, id_token) = logged_in(&app).await;
    assert!(signed_in(&app, &b, &id).await);
    let res = b
        .get(logout_url(&app, &[("id_token_hint", &id_token), ("post_logout_redirect_uri", BYE), ("state", "s1")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("{BYE}?state=s1"));
    assert!(!signed_in(&app, &b, &id).await);
    let meta: Value = app.get("/.well-known/openid-configuration").await.json().await.unwrap();
    assert_eq!(meta["end_session_endpoint"], format!("{}/end_session", app.base));
}

#[actix_web::test]
async fn post_logout_redirects_are_never_open() {
    let app = spawn_app_at_issuer(&[]).await;
    person(&app, "alice", "alice@example.com").await;
    let (b, id, id_token) = logged_in(&app).await;
    let mut tampered = id_token.clone();
    tampered.pop();
    tampered.push(if id_token.ends_with('A') { 'B' } else { 'A' });
    for pairs in [
        vec![("id_token_hint", id_token.as_str()), ("post_logout_redirect_uri", "https://evil.example.com/")],
        vec![("id_token_hint", id_token.as_str()), ("post_logout_redirect_uri", "https://rp.example.com/bye/")],
        vec![("id_token_hint", id_token.as_str()), ("post_logout_redirect_uri", REDIRECT)],
        vec![("post_logout_redirect_uri", BYE)],
        vec![("client_id", "nobody"), ("post_logout_redirect_uri", BYE)],
        vec![("id_token_hint", tampered.as_str()), ("post_logout_redirect_uri", BYE)],
        vec![("id_token_hint", "not.a.jwt")],
        vec![("id_token_hint", id_token.as_str()), ("client_id", "someone-else")],
    ] {
        let res = b.get(logout_url(&app, &pairs)).send().await.unwrap();
        assert_eq!(res.status(), 400, "{pairs:?}");
        assert!(res.headers().get("location").is_none(), "{pairs:?}");
    }
    assert!(signed_in(&app, &b, &id).await, "none of that signed the person out");
    // With client_id instead of a hint the URI is fine, but the person confirms.
    let res = b.get(logout_url(&app, &[("client_id", &id), ("post_logout_redirect_uri", BYE)])).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Sign out?"));
    let forged = b
        .post(app.url("/logout"))
        .form(&[("csrf", "forged"), ("request", &field(&page, "request")), ("decision", "logout")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(signed_in(&app, &b, &id).await);
    let res = b
        .post(app.url("/logout"))
        .form(&[("csrf", field(&page, "csrf").as_str()), ("request", &field(&page, "request")), ("decision", "logout")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), BYE);
    assert!(!signed_in(&app, &b, &id).await);
}

#[actix_web::test]
async fn the_account_page_ends_sessions_and_revokes_consents() {
    let app = spawn_app_at_issuer(&[]).await;
    person(&app, "alice", "alice@example.com").await;
    let (b, id, _) = logged_in(&app).await;
    let (other, _, _) = logged_in(&app).await;
    let res = b.get(app.url("/account")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("this browser") && page.contains("Example RP"));
    assert!(page.contains("<li>Confirm who you are</li>"), "scopes in plain words: {page}");
    assert_eq!(page.matches("Sign out this session").count(), 2);
    // Revoke the consent: the next authorization asks again.
    let res = b
        .post(app.url("/account/consents/revoke"))
        .form(&[("csrf", field(&page, "csrf").as_str()), ("client_id", &id)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(committed(&app, "consent.revoked").await, "acknowledged only once its event is durable");
    let res = b.get(authorize_url(&app, &id, None)).send().await.unwrap();
    assert_eq!(res.status(), 200, "consent page again");
    // A forged form does nothing; "everywhere" ends the other browser too.
    let res = b.post(app.url("/account/sessions/end")).form(&[("csrf", "x"), ("sid", "all")]).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let page = b.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    let res = b
        .post(app.url("/account/sessions/end"))
        .form(&[("csrf", field(&page, "csrf").as_str()), ("sid", "all")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/login");
    assert!(committed(&app, "logout").await);
    // Ended at once on this instance (the actor's cache is updated).
    assert_eq!(other.get(app.url("/account")).send().await.unwrap().status(), 303);
    assert_eq!(b.get(app.url("/account")).send().await.unwrap().status(), 303);
}

/// Whether an event is in the table already, without waiting for the
/// audit batcher (as a change's event must be when it is acknowledged).
async fn committed(app: &crate::helpers::TestApp, action: &str) -> bool {
    gatehouse::store::audit::recent(&app.db, 100).await.unwrap().iter().any(|e| e.action == action)
}
