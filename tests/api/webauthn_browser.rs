//! WebAuthn end to end in real headless Chromium with a CDP virtual
//! authenticator (`tests/browser/webauthn.mjs`, driven by playwright-core):
//! register, passwordless sign-in, second factor, a foreign credential's
//! assertion refused, removal. Runs when `GATEHOUSE_TEST_BROWSER_DIR` names
//! a directory with playwright-core installed and `GATEHOUSE_TEST_CHROMIUM`
//! the browser (CI sets both). Screenshots are left in the test's temporary
//! target directory (`screenshots/`).

use crate::helpers::{TestApp, spawn_app_with};
use crate::oidc_flow::{PASSWORD, person};
use std::process::Command;

/// WebAuthn accepts only domain names as relying-party ids: the issuer is
/// `localhost`, the listener loopback.
/// Admins must have a second factor (the others may).
async fn spawn_at_localhost() -> TestApp {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let bind = format!("127.0.0.1:{port}");
    let issuer = format!("http://localhost:{port}");
    spawn_app_with(&[
        ("GATEHOUSE_BIND", &bind),
        ("GATEHOUSE_ISSUER", &issuer),
        ("GATEHOUSE_MFA", "required_for_admins"),
    ])
    .await
}

#[actix_web::test]
async fn passkeys_in_chromium_with_a_virtual_authenticator() {
    let (Some(dir), Some(chromium)) = (
        std::env::var("GATEHOUSE_TEST_BROWSER_DIR").ok().filter(|d| !d.is_empty()),
        std::env::var("GATEHOUSE_TEST_CHROMIUM").ok().filter(|d| !d.is_empty()),
    ) else {
        return;
    };
    let app = spawn_at_localhost().await;
    person(&app, "alice", "alice@example.com").await;
    let bob = person(&app, "bob", "bob@example.com").await;
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let script = std::path::Path::new(&dir).join("webauthn.mjs");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/webauthn.mjs"), &script).unwrap();
    let base = app.base.replace("127.0.0.1", "localhost");
    let shots_env = shots.display().to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(&script)
            .env("GH_BASE", base)
            .env("GH_CHROMIUM", chromium)
            .env("GH_SCREENSHOTS", shots_env)
            .env("GH_PASSWORD", PASSWORD)
            .env("GH_BOB_ID", bob)
            .env("GH_ADMIN_PASSWORD", crate::helpers::ADMIN_PASSWORD)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "browser run failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(stdout.trim().lines().last().unwrap_or("")).unwrap();
    assert_eq!(v["passwordless"], true, "{v}");
    assert_eq!(v["second_factor"], true, "{v}");
    assert_eq!(v["foreign_assertion_status"], 400, "{v}");
    assert_eq!(v["removed"], true, "{v}");
    assert_eq!(v["forced_enrolment"], true, "{v}");
    assert_eq!(v["recovery_codes"], 10, "{v}");
    assert_eq!(v["csp_violations"], serde_json::json!([]), "{v}");
    for name in ["account-with-passkey", "totp-enrolment", "second-factor-challenge", "login", "forced-enrolment"] {
        assert!(shots.join(format!("{name}.png")).metadata().unwrap().len() > 1000, "{name} screenshot");
    }
    println!("screenshots in {}", shots.display());

    app.audit_written().await;
    let actions: Vec<String> =
        gatehouse::store::audit::recent(&app.db, 500).await.unwrap().into_iter().map(|e| e.action).collect();
    for a in [
        "mfa.webauthn.registered",
        "mfa.webauthn.used",
        "mfa.webauthn.failed",
        "mfa.webauthn.removed",
        "mfa.recovery_codes.created",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
    }
}

/// The JSON endpoints without a browser: CSRF, malformed bodies, unknown
/// ceremonies and forged assertions are refused; with an IP-address
/// issuer passkeys are off and the pages do not offer them.
#[actix_web::test]
async fn passkey_endpoints_refuse_what_they_cannot_verify() {
    let app = spawn_at_localhost().await;
    let base = app.base.replace("127.0.0.1", "localhost");
    let b = crate::oidc_flow::browser();
    let page = b.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-webauthn=\"passwordless\""), "{page}");
    let csrf = crate::oidc_flow::field(&page, "csrf");

    let res = b.post(format!("{base}/login/passkey/begin")).json(&serde_json::json!({"csrf": "forged"})).send().await;
    assert_eq!(res.unwrap().status(), 403);
    let res = b.post(format!("{base}/login/passkey/finish")).body("{not json").send().await.unwrap();
    assert_eq!(res.status(), 400);

    let begun: serde_json::Value = b
        .post(format!("{base}/login/passkey/begin"))
        .json(&serde_json::json!({ "csrf": csrf }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(begun["options"]["publicKey"]["challenge"].is_string(), "{begun}");
    assert_eq!(begun["options"]["publicKey"]["userVerification"], "required");
    let forged = serde_json::json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA", "userHandle": "AAAA"},
    });
    for ceremony in ["unknown-ceremony", begun["ceremony"].as_str().unwrap()] {
        let res = b
            .post(format!("{base}/login/passkey/finish"))
            .json(&serde_json::json!({ "csrf": csrf, "ceremony": ceremony, "credential": forged }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{ceremony}");
    }
    // A ceremony is taken by its first finish, even a failed one.
    let res = b
        .post(format!("{base}/login/passkey/finish"))
        .json(&serde_json::json!({ "csrf": csrf, "ceremony": begun["ceremony"], "credential": forged }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // Registration needs a session...
    let res = b.post(format!("{base}/account/passkeys/begin")).json(&serde_json::json!({"csrf": csrf})).send().await;
    assert_eq!(res.unwrap().status(), 401);
    // ...and, once the account has a factor, one that passed it.
    person(&app, "alice", "alice@example.com").await;
    let b = crate::oidc_flow::browser();
    crate::mfa::password_step(&app, &b).await;
    crate::mfa::enrol_from_account(&app, &b).await;
    let account = b.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    assert!(account.contains("id=\"sign-in-again\""), "{account}");
    let csrf = crate::oidc_flow::field(&account, "csrf");
    let res =
        b.post(app.url("/account/passkeys/begin")).json(&serde_json::json!({ "csrf": csrf })).send().await.unwrap();
    assert_eq!(res.status(), 403, "a password-only session cannot add a passkey beside the app");
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("second factor"), "{body}");

    // Starting passwordless sign-ins is budgeted per source address.
    let b = crate::oidc_flow::browser();
    let page = b.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let csrf = crate::oidc_flow::field(&page, "csrf");
    let mut statuses = Vec::new();
    for _ in 0..25 {
        let res = b.post(format!("{base}/login/passkey/begin")).json(&serde_json::json!({ "csrf": csrf })).send().await;
        statuses.push(res.unwrap().status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");

    let ip = crate::helpers::spawn_app_at_issuer(&[]).await;
    let b = crate::oidc_flow::browser();
    let page = b.get(ip.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("data-webauthn"), "no passkey button with an IP issuer");
    let csrf = crate::oidc_flow::field(&page, "csrf");
    let res = b.post(ip.url("/login/passkey/begin")).json(&serde_json::json!({ "csrf": csrf })).send().await;
    assert_eq!(res.unwrap().status(), 404);
}
