//! The pages around the flow: `/` for people who type the address in, the
//! icon every page links, and a signed-out page with a way back.

use crate::helpers::spawn_app_at_issuer;
use crate::mfa::{password_step, setup, text};
use crate::oidc_flow::{browser, field};

#[actix_web::test]
async fn the_landing_page_points_to_sign_in_and_the_account_and_pages_carry_the_icon() {
    let app = spawn_app_at_issuer(&[]).await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(res.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let page = res.text().await.unwrap();
    assert!(page.contains("href=\"/login\"") && page.contains("href=\"/account\""), "{page}");
    assert!(page.contains("<h1 id=\"title\">127.0.0.1</h1>"), "names the service by the issuer's host: {page}");

    let icon = page.split("rel=\"icon\" type=\"image/svg+xml\" href=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(icon.starts_with("/static/favicon.") && icon.ends_with(".svg"), "{icon}");
    let res = app.get(icon).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert!(res.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    assert!(res.text().await.unwrap().starts_with("<svg"));
    // Error pages link it too; stale names do not exist.
    let error = app.get("/authorize?client_id=nobody").await.text().await.unwrap();
    assert!(error.contains(icon), "{error}");
    assert_eq!(app.get("/static/favicon.000000000000.svg").await.status(), 404);
}

#[actix_web::test]
async fn the_signed_out_page_offers_a_way_back() {
    let (app, _rp) = setup(&[]).await;
    let b = browser();
    password_step(&app, &b).await;
    let confirm = text(b.get(app.url("/end_session")).send().await.unwrap()).await;
    let form =
        [("csrf", field(&confirm, "csrf")), ("request", field(&confirm, "request")), ("decision", "logout".into())];
    let res = b.post(app.url("/logout")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = text(res).await;
    assert!(page.contains("You are signed out") && page.contains("href=\"/login\""), "{page}");
    assert_ne!(b.get(app.url("/account")).send().await.unwrap().status(), 200, "really signed out");
}

#[actix_web::test]
async fn the_account_page_names_devices_readably_with_whole_dates() {
    let (app, _rp) = setup(&[]).await;
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    let b = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(firefox)
        .build()
        .unwrap();
    password_step(&app, &b).await;
    let page = text(b.get(app.url("/account")).send().await.unwrap()).await;
    assert!(page.contains("<strong class=\"device\">Firefox on Linux</strong> · this browser"), "{page}");
    assert!(!page.contains("rv:133.0"), "not the raw header: {page}");
    assert!(page.contains("<time datetime=\""), "{page}");
}

/// An application that holds a refresh grant but no remembered consent (a
/// first-party client registered without consent) is still listed, and
/// disconnecting it ends its grant.
#[actix_web::test]
async fn connected_applications_include_offline_grants_and_disconnect_them() {
    use crate::token_lifecycle::{Rp, code_for, token};
    let app = spawn_app_at_issuer(&[]).await;
    crate::oidc_flow::person(&app, "alice", "alice@example.com").await;
    let (id, secret) = crate::oidc_flow::web_client(&app, |s| s.consent_required = Some(false)).await;
    let rp = Rp { id: id.clone(), secret: Some(secret) };
    let b = browser();
    let code = code_for(&app, &rp, &b).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", crate::oidc_flow::REDIRECT),
        ("code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    ];
    let (status, tokens) = token(&app, &rp, &form).await;
    assert_eq!(status, 200, "{tokens}");
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let page = text(b.get(app.url("/account")).send().await.unwrap()).await;
    assert!(page.contains("Example RP"), "{page}");
    assert!(page.contains(&format!("id=\"offline-{id}\"")), "{page}");
    let res = b
        .post(app.url("/account/consents/revoke"))
        .form(&[("csrf", field(&page, "csrf").as_str()), ("client_id", &id)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (status, body) = token(&app, &rp, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let page = text(b.get(app.url("/account")).send().await.unwrap()).await;
    assert!(!page.contains(&format!("id=\"offline-{id}\"")), "{page}");
}
