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
