//! The admin console in real headless Chromium (`tests/browser/
//! admin_console.mjs`, playwright-core with axe-core): search, bulk
//! deactivate and activate, unlock, a user's page, the groups, a new SCIM
//! token, an event arriving in the live audit tail, no accessibility
//! violation in light or dark and no CSP violation. Runs when
//! `GATEHOUSE_TEST_BROWSER_DIR` holds playwright-core and axe-core and
//! `GATEHOUSE_TEST_CHROMIUM` names the browser (CI sets both).

use crate::helpers::spawn_app_with;
use crate::oidc_flow::{PASSWORD, person};
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set};
use std::process::Command;

#[actix_web::test]
async fn the_console_in_chromium_is_usable_and_accessible_in_both_schemes() {
    let (Some(dir), Some(chromium)) = (
        std::env::var("GATEHOUSE_TEST_BROWSER_DIR").ok().filter(|d| !d.is_empty()),
        std::env::var("GATEHOUSE_TEST_CHROMIUM").ok().filter(|d| !d.is_empty()),
    ) else {
        return;
    };
    let app = spawn_app_with(&[]).await;
    let root = person(&app, "root", "root@example.com").await;
    crate::admin_console::set_admin(&app, &root).await;
    let mut ids = Vec::new();
    for (name, display) in [("ann", "Ann Smith"), ("ben", "Ben Smith"), ("cy", "Cy Smith"), ("dee", "Dee Jones")] {
        ids.push(crate::admin_users::user(&app, name, &format!("{name}@example.org"), display).await);
    }
    crate::admin_console::group(&app, "Support", false, &ids[0]).await;
    let now = chrono::Utc::now();
    entity::account_lockouts::ActiveModel {
        user_id: Set(ids[3].clone()),
        failures: Set(0),
        window_start: Set(now),
        lockouts: Set(1),
        locked_until: Set(Some(now + chrono::Duration::minutes(10))),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();

    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let script = std::path::Path::new(&dir).join("admin_console.mjs");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/admin_console.mjs"), &script).unwrap();
    let (base, shots_env) = (app.base.clone(), shots.display().to_string());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(&script)
            .env("GH_BASE", base)
            .env("GH_CHROMIUM", chromium)
            .env("GH_SCREENSHOTS", shots_env)
            .env("GH_PASSWORD", PASSWORD)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "browser run failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(stdout.trim().lines().last().unwrap_or("")).unwrap();
    assert_eq!(v["searched"], 3, "{v}");
    assert_eq!(v["deactivated"], "Deactivate: 2 changed", "{v}");
    assert_eq!(v["inactive"], 2, "{v}");
    assert_eq!(v["reactivated"], "Activate: 2 changed", "{v}");
    assert_eq!((&v["locked"], &v["locked_after"]), (&1.into(), &0.into()), "{v}");
    assert_eq!(v["unlocked"], "Unlock: 1 changed", "{v}");
    assert_eq!(v["user_page"], "ann", "{v}");
    assert_eq!(v["violations"], serde_json::json!([]), "axe: {v}");
    assert_eq!(v["groups"], 1, "{v}");
    assert!(v["issued"].as_str().unwrap().starts_with("gh_scim_"), "{v}");
    assert_eq!(v["live_event"], "login.failed", "{v}");
    assert_eq!(v["lockouts_listed"], 1, "{v}");
    assert_eq!(v["axe"].as_object().unwrap().len(), 14, "seven pages, two schemes: {v}");
    assert_eq!(v["csp_violations"], serde_json::json!([]), "{v}");

    app.audit_written().await;
    let events = gatehouse::store::audit::recent(&app.db, 500).await.unwrap();
    let by_root =
        |action: &str| events.iter().filter(|e| e.actor == format!("user:{root}") && e.action == action).count();
    assert_eq!((by_root("user.disabled"), by_root("user.enabled"), by_root("account.unlocked")), (2, 2, 1));
}
