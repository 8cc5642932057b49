//! The same login flow from a second, independent, non-Rust certified
//! relying party: panva's openid-client on Node (`tests/node/`). Runs when
//! `GATEHOUSE_TEST_NODE_OIDC_DIR` names a directory where `openid-client`
//! is installed (CI installs it there).

use crate::oidc_flow::{PASSWORD, REDIRECT, person, web_client};
use std::process::Command;

#[actix_web::test]
async fn openid_client_on_node_logs_in() {
    let Some(dir) = std::env::var("GATEHOUSE_TEST_NODE_OIDC_DIR").ok().filter(|d| !d.is_empty()) else { return };
    let app = crate::helpers::spawn_app_at_issuer(&[]).await;
    let sub = person(&app, "dana", "dana@example.com").await;
    let (id, secret) = web_client(&app, |_| {}).await;
    let script = std::path::Path::new(&dir).join("oidc_client.mjs");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node/oidc_client.mjs"), &script).unwrap();
    let issuer = app.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(&script)
            .env("GH_ISSUER", issuer)
            .env("GH_CLIENT_ID", id)
            .env("GH_CLIENT_SECRET", secret)
            .env("GH_USER", "dana")
            .env("GH_PASSWORD", PASSWORD)
            .env("GH_REDIRECT", REDIRECT)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "node client failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["sub"], serde_json::json!(sub));
    assert_eq!(v["userinfo_sub"], serde_json::json!(sub));
    assert_eq!(v["email"], "dana@example.com");
    assert_eq!(v["preferred_username"], "dana");
}
