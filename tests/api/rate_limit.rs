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

async fn introspect(app: &crate::helpers::TestApp, id: &str, secret: &str) -> reqwest::Response {
    app.client
        .post(app.url("/introspect"))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=x")
        .send()
        .await
        .unwrap()
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
    let res = introspect(&app, &a, &a_secret).await;
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

/// Redis for the shared-budget tests (CI sets it; skipped otherwise), and a
/// key prefix of the test's own so parallel tests do not share budgets.
fn redis() -> Option<(String, String)> {
    let url = std::env::var("GATEHOUSE_TEST_REDIS_URL").ok().filter(|u| !u.is_empty())?;
    Some((url, format!("gh-test-{}:", uuid::Uuid::new_v4().simple())))
}

#[actix_web::test]
async fn with_redis_the_instances_share_one_budget() {
    let Some((url, prefix)) = redis() else { return };
    let env = [
        ("GATEHOUSE_AUTH_FAILURES_PER_MINUTE", "4"),
        ("GATEHOUSE_REDIS_URL", url.as_str()),
        ("GATEHOUSE_REDIS_KEY_PREFIX", prefix.as_str()),
    ];
    let app = spawn_app_with(&env).await;
    let other = crate::helpers::spawn_instance(&app, &env).await;
    let (a, _) = client(&app, machine("a", &[])).await;
    let ready: Value = app.get("/health/ready").await.json().await.unwrap();
    let started = std::time::Instant::now();
    let mut ready = ready;
    while ready["checks"]["redis"] != "ok" {
        assert!(started.elapsed().as_secs() < 10, "redis never reported ok: {ready}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        ready = app.get("/health/ready").await.json().await.unwrap();
    }
    // Two failures on each instance spend one shared budget of four...
    for node in [&app, &other, &app, &other] {
        assert_eq!(post_token(node, Some((&a, "wrong")), "grant_type=client_credentials").await.status(), 401);
    }
    // ...so the next failure, on either, finds it exhausted and is refused
    // from then on (each instance learns the verdict on its own next failure).
    for node in [&app, &other] {
        let first = post_token(node, Some((&a, "wrong")), "grant_type=client_credentials").await.status();
        assert!(first == 401 || first == 429, "{first}");
        assert_eq!(post_token(node, Some((&a, "wrong")), "grant_type=client_credentials").await.status(), 429);
    }
}

#[actix_web::test]
async fn redis_down_falls_back_to_local_budgets_or_closes() {
    // Nothing listens on port 1.
    let open = spawn_app_with(&[
        ("GATEHOUSE_AUTH_FAILURES_PER_MINUTE", "2"),
        ("GATEHOUSE_REDIS_URL", "redis://127.0.0.1:1/0"),
    ])
    .await;
    let ready = open.get("/health/ready").await;
    assert_eq!(ready.status(), 200, "fail_open_local stays ready");
    assert_eq!(ready.json::<Value>().await.unwrap()["checks"]["redis"], "unavailable");
    let (a, secret) = client(&open, machine("a", &[])).await;
    assert_eq!(post_token(&open, Some((&a, &secret.unwrap())), "grant_type=client_credentials").await.status(), 200);
    for _ in 0..2 {
        assert_eq!(post_token(&open, Some((&a, "wrong")), "grant_type=client_credentials").await.status(), 401);
    }
    assert_eq!(post_token(&open, Some((&a, "wrong")), "grant_type=client_credentials").await.status(), 429);

    let closed = spawn_app_with(&[
        ("GATEHOUSE_REDIS_URL", "redis://127.0.0.1:1/0"),
        ("GATEHOUSE_RATE_LIMIT_REDIS_POLICY", "fail_closed"),
    ])
    .await;
    assert_eq!(closed.get("/health/ready").await.status(), 503);
    let (b, secret) = client(&closed, machine("b", &[])).await;
    let res = post_token(&closed, Some((&b, &secret.unwrap())), "grant_type=client_credentials").await;
    assert_eq!(res.status(), 429, "fail_closed refuses while Redis is down");
}

#[actix_web::test]
async fn a_client_token_quota_caps_successful_issuance_per_client() {
    let app = spawn_app_with(&[("GATEHOUSE_CLIENT_TOKEN_QUOTA_PER_MINUTE", "3")]).await;
    let (a, a_secret) = client(&app, machine("a", &[])).await;
    let (b, b_secret) = client(&app, machine("b", &[])).await;
    let (a_secret, b_secret) = (a_secret.unwrap(), b_secret.unwrap());
    for _ in 0..3 {
        assert_eq!(post_token(&app, Some((&a, &a_secret)), "grant_type=client_credentials").await.status(), 200);
    }
    assert_limited(post_token(&app, Some((&a, &a_secret)), "grant_type=client_credentials").await, "3").await;
    // Per client, and a refused request is not a failed authentication.
    assert_eq!(post_token(&app, Some((&b, &b_secret)), "grant_type=client_credentials").await.status(), 200);
    let res = introspect(&app, &a, &a_secret).await;
    assert_eq!(res.status(), 200, "the quota counts tokens issued, not introspections");
}

/// Starts a private `redis-server` on a free port (the shared one must not
/// be stopped); `None` when Redis tests are not enabled.
fn private_redis(port: u16) -> Option<std::process::Child> {
    std::env::var("GATEHOUSE_TEST_REDIS_URL").ok().filter(|u| !u.is_empty())?;
    let child = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok()?;
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(child);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    None
}

async fn redis_check(app: &crate::helpers::TestApp) -> String {
    let v: Value = app.get("/health/ready").await.json().await.unwrap();
    v["checks"]["redis"].as_str().unwrap_or_default().to_owned()
}

#[actix_web::test]
async fn redis_killed_mid_test_falls_back_and_recovers() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let Some(mut redis) = private_redis(port) else { return };
    let url = format!("redis://127.0.0.1:{port}/0");
    let app = spawn_app_with(&[("GATEHOUSE_AUTH_FAILURES_PER_MINUTE", "3"), ("GATEHOUSE_REDIS_URL", &url)]).await;
    assert_eq!(redis_check(&app).await, "ok");
    let (a, _) = client(&app, machine("a", &[])).await;
    assert_eq!(post_token(&app, Some((&a, "wrong")), "grant_type=client_credentials").await.status(), 401);

    redis.kill().unwrap();
    redis.wait().unwrap();
    // Local budgets keep limiting while Redis is gone (fail_open_local).
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(post_token(&app, Some((&a, "wrong")), "grant_type=client_credentials").await.status().as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    // Another client from the same address is not affected.
    let (b, b_secret) = client(&app, machine("b", &[])).await;
    assert_eq!(post_token(&app, Some((&b, &b_secret.unwrap())), "grant_type=client_credentials").await.status(), 200);
    let mut down = false;
    for _ in 0..40 {
        if redis_check(&app).await == "unavailable" {
            down = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(down, "readiness reports Redis down");
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("gatehouse_rate_limit_redis_up 0"), "{metrics}");

    // Back up: noticed by the probe without waiting for a failure.
    let mut redis = private_redis(port).expect("restart redis");
    let mut up = false;
    for _ in 0..60 {
        if redis_check(&app).await == "ok" {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    redis.kill().unwrap();
    let _ = redis.wait();
    assert!(up, "recovery is noticed");
}

#[actix_web::test]
async fn failed_scim_tokens_are_limited_with_scim_errors() {
    let app = spawn_app_with(&[("GATEHOUSE_AUTH_FAILURES_PER_MINUTE", "2")]).await;
    let url = app.url("/scim/v2/Users");
    for _ in 0..10 {
        let res = app.client.get(&url).bearer_auth("gh_scim_guess").send().await.unwrap();
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
            assert_eq!(res.headers()["ratelimit-remaining"], "0");
            assert_eq!(res.headers()["content-type"], "application/scim+json");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["status"], "429");
            return;
        }
        assert_eq!(res.status(), 401);
    }
    panic!("SCIM authentication failures were never limited");
}

/// Counts the keys under a prefix: proof that failures reached Redis.
async fn redis_keys(url: &str, prefix: &str) -> usize {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut conn).await.unwrap();
    keys.len()
}

/// Every shared budget serves while Redis is up, under either policy: the
/// login, second-factor and token-endpoint budgets spend through one link,
/// probed before the first request (a link used to start "degraded", and
/// under fail_closed every password login got 429 while readiness said ok).
#[actix_web::test]
async fn with_redis_up_login_second_factor_and_token_budgets_serve_under_both_policies() {
    use crate::mfa::{enrol_from_account, password_step, second_step, setup};
    let Some((url, prefix)) = redis() else { return };
    for policy in ["fail_open_local", "fail_closed"] {
        let prefix = format!("{prefix}{policy}:");
        let env = [
            ("GATEHOUSE_REDIS_URL", url.as_str()),
            ("GATEHOUSE_REDIS_KEY_PREFIX", prefix.as_str()),
            ("GATEHOUSE_RATE_LIMIT_REDIS_POLICY", policy),
        ];
        let (app, _rp) = setup(&env).await;
        let ready = app.get("/health/ready").await;
        assert_eq!(ready.status(), 200, "{policy}");
        assert_eq!(ready.json::<Value>().await.unwrap()["checks"]["redis"], "ok", "{policy}: ready at once");

        let b = crate::oidc_flow::browser();
        assert_eq!(password_step(&app, &b).await, "/account", "{policy}: a password login");
        // Enrolling spends a wrong password and a wrong code on the way.
        let (auth, step, _) = enrol_from_account(&app, &b).await;
        let b = crate::oidc_flow::browser();
        assert_eq!(password_step(&app, &b).await, "/login/mfa", "{policy}");
        let res = second_step(&app, &b, "totp", "000000").await;
        assert_eq!(res.status(), 200, "{policy}: a wrong code is a wrong code, not 429");
        let res = second_step(&app, &b, "totp", &auth.code(step + 1)).await;
        assert_eq!(res.status(), 303, "{policy}: the second factor");

        let (a, secret) = client(&app, machine("a", &[])).await;
        let good = post_token(&app, Some((&a, &secret.unwrap())), "grant_type=client_credentials").await;
        assert_eq!(good.status(), 200, "{policy}: the token endpoint");
        assert_eq!(post_token(&app, Some((&a, "wrong")), "grant_type=client_credentials").await.status(), 401);
        assert!(redis_keys(&url, &prefix).await >= 4, "{policy}: login, second-factor and client budgets are shared");
    }
}

/// With Redis unreachable, fail_closed refuses password logins as well
/// (not only client authentication); fail_open_local keeps serving them.
#[actix_web::test]
async fn with_redis_down_password_logins_follow_the_policy() {
    use crate::oidc_flow::{PASSWORD, browser, person, sign_in};
    for (policy, want) in [("fail_open_local", 303), ("fail_closed", 429)] {
        let app = spawn_app_with(&[
            ("GATEHOUSE_REDIS_URL", "redis://127.0.0.1:1/0"),
            ("GATEHOUSE_RATE_LIMIT_REDIS_POLICY", policy),
        ])
        .await;
        person(&app, "alice", "alice@example.com").await;
        let b = browser();
        let page = b.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
        let res = sign_in(&app, &b, &page, "alice", PASSWORD).await;
        assert_eq!(res.status(), want, "{policy}");
    }
}
