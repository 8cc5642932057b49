//! Per-account lockout against credential stuffing from many addresses:
//! the lock, its backoff, that a locked account answers like a wrong
//! password (even to the right one), the unlock by CLI and admin API, the
//! audit events and the metrics.

use crate::binary::{json_out, run_async};
use crate::helpers::{TestApp, base_env, spawn_app_at_issuer};
use crate::oidc_flow::{PASSWORD, browser, field, person};
use serde_json::Value;

const ADMIN: &str = "admin-token-for-tests-0123456789abcdef";

async fn app() -> TestApp {
    spawn_app_at_issuer(&[
        ("GATEHOUSE_TRUSTED_PROXIES", "127.0.0.1/32, ::1"),
        ("GATEHOUSE_LOCKOUT_THRESHOLD", "3"),
        ("GATEHOUSE_LOCKOUT_BASE_SECS", "60"),
        ("GATEHOUSE_ADMIN_TOKEN", ADMIN),
        ("GATEHOUSE_METRICS_ENABLED", "true"),
    ])
    .await
}

/// One login attempt from `ip` (through the trusted proxy) in a fresh
/// browser (an unknown device); the page text.
async fn attempt(app: &TestApp, ip: &str, user: &str, password: &str) -> (u16, String) {
    attempt_from(app, &browser(), ip, user, password).await
}

async fn attempt_from(app: &TestApp, b: &reqwest::Client, ip: &str, user: &str, password: &str) -> (u16, String) {
    let page = b.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let res = b
        .post(app.url("/login"))
        .header("x-forwarded-for", ip)
        .form(&[
            ("csrf", field(&page, "csrf")),
            ("request", String::new()),
            ("username", user.into()),
            ("password", password.into()),
        ])
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap_or_default())
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.audit_written().await;
    gatehouse::store::audit::recent(&app.db, 200).await.unwrap().into_iter().map(|e| e.action).collect()
}

#[actix_web::test]
async fn failures_from_many_addresses_lock_the_account() {
    let app = app().await;
    let id = person(&app, "alice", "alice@example.com").await;
    person(&app, "bob", "bob@example.com").await;
    assert_eq!(attempt(&app, "198.51.100.1", "alice", PASSWORD).await.0, 303, "the right password works");
    for i in 0..3 {
        let (status, page) = attempt(&app, &format!("203.0.113.{i}"), "alice", "wrong password!").await;
        assert_eq!(status, 200);
        assert!(page.contains("Incorrect username or password."));
    }
    // Locked: even the right password, from a fresh address, gets the same answer.
    let (status, page) = attempt(&app, "198.51.100.2", "alice", PASSWORD).await;
    assert_eq!(status, 200);
    assert!(page.contains("Incorrect username or password."));
    assert_eq!(attempt(&app, "198.51.100.3", "bob", PASSWORD).await.0, 303, "other accounts are not affected");

    let actions = audit_actions(&app).await;
    assert!(actions.iter().any(|a| a == "account.locked"), "{actions:?}");
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("gatehouse_account_lockouts_total 1"), "{metrics}");
    assert!(metrics.contains("gatehouse_login_attempts_total{outcome=\"account_locked\"} 1"), "{metrics}");

    // Listed by the admin API; unlocked by it.
    let list: Value = app
        .client
        .get(app.url("/admin/api/v1/lockouts"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["lockouts"][0]["user_id"], serde_json::json!(id));
    assert_eq!(list["lockouts"][0]["username"], "alice");
    let res =
        app.client.delete(app.url(&format!("/admin/api/v1/lockouts/{id}"))).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res =
        app.client.delete(app.url(&format!("/admin/api/v1/lockouts/{id}"))).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(res.status(), 404, "not locked any more");
    assert_eq!(attempt(&app, "198.51.100.4", "alice", PASSWORD).await.0, 303);
    assert!(audit_actions(&app).await.iter().any(|a| a == "account.unlocked"));
}

#[actix_web::test]
async fn the_cli_lists_and_unlocks_and_the_backoff_doubles() {
    let app = app().await;
    let id = person(&app, "carol", "carol@example.com").await;
    for i in 0..3 {
        attempt(&app, &format!("203.0.113.{i}"), "carol", "wrong password!").await;
    }
    let first = gatehouse::store::lockouts::locked_until(
        &app.db,
        gatehouse::store::lockouts::Budget::Unknown { user_id: &id },
        chrono::Utc::now(),
    )
    .await
    .unwrap()
    .unwrap();
    let secs = (first - chrono::Utc::now()).num_seconds();
    assert!((55..=60).contains(&secs), "{secs}");
    let env = base_env(&app.database);
    let listed = json_out(&run_async(&env, &["user", "lockouts", "--json"], None).await);
    assert_eq!(listed[0]["username"], "carol");
    let out = json_out(&run_async(&env, &["user", "unlock", "carol", "--json"], None).await);
    assert_eq!(out["was_locked"], true);
    // Unlock clears the backoff too; the next lockout is the first again.
    for i in 0..3 {
        attempt(&app, &format!("203.0.113.{}", 10 + i), "carol", "wrong password!").await;
    }
    let again = gatehouse::store::lockouts::locked_until(
        &app.db,
        gatehouse::store::lockouts::Budget::Unknown { user_id: &id },
        chrono::Utc::now(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!((again - chrono::Utc::now()).num_seconds() <= 60);
    // Without an unlock, the next lockout lasts twice as long.
    let policy = gatehouse::accounts::lockout::LockoutPolicy {
        threshold: 3,
        window: chrono::Duration::minutes(15),
        base: chrono::Duration::seconds(60),
        max: chrono::Duration::seconds(3600),
    };
    let later = chrono::Utc::now() + chrono::Duration::seconds(61);
    let mut until = None;
    for _ in 0..3 {
        until = gatehouse::accounts::lockout::record_failure(
            &app.db,
            gatehouse::store::lockouts::Budget::Unknown { user_id: &id },
            later,
            &policy,
        )
        .await
        .unwrap()
        .or(until);
    }
    assert_eq!((until.unwrap() - later).num_seconds(), 120);
}

/// Statistical, not absolute: the medians of many attempts must be of the
/// same order (the answer for an unknown or a locked account costs one
/// argon2 verification, like a wrong password; without that they would be
/// tens of times faster).
#[actix_web::test]
async fn unknown_locked_and_wrong_password_answers_take_alike() {
    let app = spawn_app_at_issuer(&[
        ("GATEHOUSE_TRUSTED_PROXIES", "127.0.0.1/32, ::1"),
        ("GATEHOUSE_LOCKOUT_THRESHOLD", "1000"),
    ])
    .await;
    person(&app, "alice", "alice@example.com").await;
    let bob = person(&app, "bob", "bob@example.com").await;
    let lock_now = gatehouse::accounts::lockout::LockoutPolicy {
        threshold: 1,
        window: chrono::Duration::minutes(15),
        base: chrono::Duration::seconds(3600),
        max: chrono::Duration::seconds(3600),
    };
    gatehouse::accounts::lockout::record_failure(
        &app.db,
        gatehouse::store::lockouts::Budget::Unknown { user_id: &bob },
        chrono::Utc::now(),
        &lock_now,
    )
    .await
    .unwrap();
    let mut timings: Vec<(&str, Vec<u128>)> = vec![("wrong", vec![]), ("unknown", vec![]), ("locked", vec![])];
    for round in 0..7 {
        for (kind, samples) in timings.iter_mut() {
            let (user, pw) = match *kind {
                "wrong" => ("alice", "not the password"),
                "unknown" => ("nobody-at-all", "not the password"),
                _ => ("bob", PASSWORD),
            };
            let ip = format!("198.18.{round}.{}", samples.len() + 1);
            let started = std::time::Instant::now();
            let (status, page) = attempt(&app, &ip, user, pw).await;
            samples.push(started.elapsed().as_micros());
            assert_eq!(status, 200, "{kind}");
            assert!(page.contains("Incorrect username or password."), "{kind}");
        }
    }
    let medians: Vec<(&str, u128)> = timings
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_unstable();
            (k, v[v.len() / 2])
        })
        .collect();
    let (lo, hi) = (medians.iter().map(|m| m.1).min().unwrap(), medians.iter().map(|m| m.1).max().unwrap());
    assert!(hi <= lo * 3, "answers differ in cost: {medians:?}");
}

/// One login attempt from the given browser (its cookie jar is its device),
/// each from its own address so the per-address budget stays out of it.
async fn attempt_in(app: &TestApp, b: &reqwest::Client, user: &str, password: &str) -> (u16, String) {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    attempt_from(app, b, &format!("198.18.{}.{}", n / 250, n % 250 + 1), user, password).await
}

/// OWASP device cookies: an attacker guessing from fresh cookie jars locks
/// the account for unknown devices only; the owner's browser, which signed
/// in before, keeps signing in, with a budget of its own; the device cookie
/// never stands in for the password, and the owner's success does not lift
/// the attacker's lock.
#[actix_web::test]
async fn guessing_from_unknown_devices_does_not_lock_the_owners_browser() {
    let app = app().await;
    person(&app, "alice", "alice@example.com").await;
    let owner = browser();
    assert_eq!(attempt_in(&app, &owner, "alice", PASSWORD).await.0, 303, "the owner signs in once");

    for _ in 0..6 {
        let (status, page) = attempt_in(&app, &browser(), "alice", "guess guess guess").await;
        assert_eq!(status, 200);
        assert!(page.contains("Incorrect username or password."));
    }
    let (status, _) = attempt_in(&app, &browser(), "alice", PASSWORD).await;
    assert_eq!(status, 200, "unknown devices are locked out, even with the right password");

    assert_eq!(attempt_in(&app, &owner, "alice", PASSWORD).await.0, 303, "the owner's browser is not");
    let (status, page) = attempt_in(&app, &owner, "alice", "wrong on the owner's browser").await;
    assert_eq!((status, page.contains("Incorrect username or password.")), (200, true), "the cookie is no password");
    let (status, _) = attempt_in(&app, &browser(), "alice", PASSWORD).await;
    assert_eq!(status, 200, "the owner's success did not lift the unknown devices' lock");

    // The owner's browser has a budget of its own: exhausting it locks that
    // browser (a stolen device cookie buys an attacker three guesses).
    for _ in 0..3 {
        attempt_in(&app, &owner, "alice", "wrong again on the owner's browser").await;
    }
    assert_eq!(attempt_in(&app, &owner, "alice", PASSWORD).await.0, 200, "the owner's browser is now locked too");
    // Another account's device cookie gives no trust: bob's browser guessing
    // at alice is an unknown device for her.
    person(&app, "bob", "bob@example.com").await;
    let bob = browser();
    assert_eq!(attempt_in(&app, &bob, "bob", PASSWORD).await.0, 303);
    assert_eq!(attempt_in(&app, &bob, "alice", PASSWORD).await.0, 200, "bob's browser is unknown to alice's account");
}
