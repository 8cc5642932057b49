//! Failed authentications are budgeted per (source, client) and per source;
//! successes are not counted.

use crate::helpers::spawn_app_with;
use crate::token::{client, machine, post_token};
use serde_json::Value;

const ADMIN: &str = "admin-token-for-rate-limit-tests-0123456789";

async fn assert_limited(res: reqwest::Response, limit: &str) {
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(res.headers()["ratelimit-limit"], limit);
    assert_eq!(res.headers()["ratelimit-remaining"], "0");
    assert_eq!(res.headers()["ratelimit-reset"].to_str().unwrap(), retry.to_string());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
    assert_eq!(body["retry_after"], retry);
}

#[actix_web::test]
async fn failed_client_authentications_are_limited_per_client_and_source() {
    let app = spawn_app_with(&[("GATEHOUSE_AUTH_FAILURES_PER_MINUTE", "3")]).await;
    let (a, a_secret) = client(&app, machine("a", &[])).await;
    let (b, b_secret) = client(&app, machine("b", &[])).await;
    let (a_secret, b_secret) = (a_secret.unwrap(), b_secret.unwrap());
    let body = "grant_type=client_credentials";

    for _ in 0..3 {
        assert_eq!(post_token(&app, Some((&a, "wrong-secret")), body).await.status(), 401);
    }
    // Out of budget: even the right secret waits (the check comes first).
    assert_limited(post_token(&app, Some((&a, &a_secret)), body).await, "3").await;
    // Introspection and revocation share the budget.
    let res = app
        .client
        .post(app.url("/introspect"))
        .basic_auth(&a, Some(&a_secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);

    // Another client from the same source is not locked out by a's failures,
    // and successful requests spend nothing.
    for _ in 0..25 {
        assert_eq!(post_token(&app, Some((&b, &b_secret)), body).await.status(), 200);
    }
}

#[actix_web::test]
async fn failed_admin_tokens_are_limited() {
    let app = spawn_app_with(&[("GATEHOUSE_AUTH_FAILURES_PER_MINUTE", "2"), ("GATEHOUSE_ADMIN_TOKEN", ADMIN)]).await;
    let url = app.url("/admin/api/v1/clients");
    for _ in 0..2 {
        assert_eq!(app.client.get(&url).bearer_auth("guess").send().await.unwrap().status(), 401);
    }
    assert_limited(app.client.get(&url).bearer_auth(ADMIN).send().await.unwrap(), "2").await;
}

#[actix_web::test]
async fn zero_turns_the_limits_off() {
    let app = spawn_app_with(&[("GATEHOUSE_AUTH_FAILURES_PER_MINUTE", "0")]).await;
    let (a, secret) = client(&app, machine("a", &[])).await;
    for _ in 0..30 {
        assert_eq!(post_token(&app, Some((&a, "wrong")), "grant_type=client_credentials").await.status(), 401);
    }
    assert_eq!(post_token(&app, Some((&a, &secret.unwrap())), "grant_type=client_credentials").await.status(), 200);
}

async fn failing_token(app: &crate::helpers::TestApp, id: &str, forwarded: &str) -> u16 {
    app.client
        .post(app.url("/token"))
        .basic_auth(id, Some("wrong"))
        .header("x-forwarded-for", forwarded)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let app = spawn_app_with(&[
        ("GATEHOUSE_AUTH_FAILURES_PER_MINUTE", "2"),
        ("GATEHOUSE_TRUSTED_PROXIES", "127.0.0.1/32, ::1"),
    ])
    .await;
    let (a, _) = client(&app, machine("a", &[])).await;
    for _ in 0..2 {
        assert_eq!(failing_token(&app, &a, "203.0.113.1").await, 401);
    }
    assert_eq!(failing_token(&app, &a, "203.0.113.1").await, 429);
    // Another client behind the same proxy is its own source; a forged
    // left-most hop does not help the first one.
    assert_eq!(failing_token(&app, &a, "203.0.113.2").await, 401);
    assert_eq!(failing_token(&app, &a, "198.51.100.7, 203.0.113.1").await, 429);

    // Without trusting the proxy the header is ignored: one shared source.
    let app = spawn_app_with(&[("GATEHOUSE_AUTH_FAILURES_PER_MINUTE", "2")]).await;
    let (a, _) = client(&app, machine("a", &[])).await;
    assert_eq!(failing_token(&app, &a, "203.0.113.1").await, 401);
    assert_eq!(failing_token(&app, &a, "203.0.113.2").await, 401);
    assert_eq!(failing_token(&app, &a, "203.0.113.3").await, 429);
}
