//! The data export of one person (GDPR access and portability), from the
//! admin API, the CLI and the account page: the same document everywhere,
//! with the person's sessions, groups, second factors and audit trail, each
//! export audited first, and never a secret in it.

use crate::binary::run_async;
use crate::helpers::{TestApp, base_env};
use crate::mfa::{enrol_from_account, password_step, setup};
use crate::oidc_flow::{PASSWORD, browser, person};
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set};
use serde_json::Value;

const ADMIN: &str = "admin-token-0123456789abcdef0123456789";

async fn admin_export(app: &TestApp, user_id: &str) -> reqwest::Response {
    app.client.get(app.url(&format!("/admin/api/v1/users/{user_id}/export"))).bearer_auth(ADMIN).send().await.unwrap()
}

/// The document without the instant it was made and the export events
/// (which the exports themselves add).
fn comparable(mut doc: Value) -> Value {
    doc["generated_at"] = Value::Null;
    let events = doc["audit_events"].as_array_mut().unwrap();
    events.retain(|e| e["action"] != "user.exported");
    doc
}

#[actix_web::test]
async fn a_persons_export_holds_their_data_and_no_secret_wherever_it_is_asked_for() {
    let (app, _rp) = setup(&[("GATEHOUSE_ADMIN_TOKEN", ADMIN)]).await;
    let alice = gatehouse::accounts::users::find_user(&app.db, "alice").await.unwrap();
    let bob = person(&app, "bob", "bob@example.com").await;
    // alice signs in, enrols an authenticator app, and is in a group.
    let b = browser();
    password_step(&app, &b).await;
    let (auth, _, recovery) = enrol_from_account(&app, &b).await;
    let now = chrono::Utc::now();
    entity::groups::ActiveModel {
        id: Set("grp-eng".into()),
        display_name: Set("Engineering".into()),
        display_name_normalized: Set("engineering".into()),
        external_id: Set(None),
        scim_managed: Set(false),
        grants_admin: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&app.db)
    .await
    .unwrap();
    entity::group_members::ActiveModel {
        group_id: Set("grp-eng".into()),
        user_id: Set(alice.id.clone()),
        added_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    app.audit_written().await;

    // The admin API.
    let res = admin_export(&app, &alice.id).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(
        res.headers()["content-disposition"],
        format!("attachment; filename=\"gatehouse-export-{}.json\"", alice.id).as_str()
    );
    let raw = res.text().await.unwrap();
    let doc: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(doc["format"], "gatehouse.person-export/1");
    assert_eq!(doc["subject"], alice.id.as_str());
    assert_eq!(doc["profile"]["username"], "alice");
    assert_eq!(doc["profile"]["email"], "alice@example.com");
    assert_eq!(doc["profile"]["display_name"], "alice Example");
    assert_eq!(doc["groups"][0]["display_name"], "Engineering");
    let sessions = doc["sessions"].as_array().unwrap();
    assert!(!sessions.is_empty(), "{doc}");
    assert!(sessions[0]["methods"].as_array().unwrap().contains(&"pwd".into()), "{doc}");
    assert!(doc["second_factors"]["totp"]["confirmed_at"].is_string(), "{doc}");
    assert_eq!(doc["second_factors"]["recovery_codes_left"], 10);
    let actions: Vec<&str> =
        doc["audit_events"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    for expected in ["login.password_verified", "mfa.totp.enrolled", "user.exported"] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    // Nothing that would let the reader act as alice.
    let seed = auth.0.secret().to_base32();
    let hash = alice.password_hash.clone().unwrap();
    for secret in [PASSWORD, hash.as_str(), "$argon2", seed.as_str(), recovery[0].as_str()] {
        assert!(!raw.contains(secret), "{secret} is in the export");
    }
    let cookies = ["gh_session", "gh_device"];
    assert!(cookies.iter().all(|c| !raw.contains(c)));
    // Only alice's data.
    assert!(!raw.contains("bob"), "another person's data in the export");

    // The CLI gives the same document.
    let out = run_async(&base_env(&app.database), &["user", "export", "alice"], None).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let from_cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(comparable(from_cli), comparable(doc.clone()));

    // alice, from her account page, gets hers; the link is on the page.
    let page = b.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("href=\"/account/export\""), "{page}");
    let res = b.get(app.url("/account/export")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let own: Value = res.json().await.unwrap();
    assert_eq!(comparable(own), comparable(doc));

    // Each export is on record, by whom.
    app.audit_written().await;
    let events = gatehouse::store::audit::recent(&app.db, 500).await.unwrap();
    let exported: Vec<&str> = events.iter().filter(|e| e.action == "user.exported").map(|e| e.actor.as_str()).collect();
    let by_alice = format!("user:{}", alice.id);
    assert_eq!(exported.len(), 3, "{exported:?}");
    for actor in ["admin_api", "cli", by_alice.as_str()] {
        assert!(exported.contains(&actor), "{actor} in {exported:?}");
    }
    assert!(events.iter().all(|e| e.target.as_deref() != Some(bob.as_str()) || e.action != "user.exported"));
}

#[actix_web::test]
async fn exports_are_refused_without_the_admin_token_or_a_session_and_unknown_people_are_404() {
    let (app, _rp) = setup(&[("GATEHOUSE_ADMIN_TOKEN", ADMIN)]).await;
    let alice = gatehouse::accounts::users::find_user(&app.db, "alice").await.unwrap();
    let url = app.url(&format!("/admin/api/v1/users/{}/export", alice.id));
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 401);
    let wrong = app.client.get(&url).bearer_auth("not-the-admin-token-0123456789abcdef").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(admin_export(&app, "00000000-0000-4000-8000-000000000000").await.status(), 404);

    // Without a session the account export is the signed-out page, not data.
    let res = browser().get(app.url("/account/export")).send().await.unwrap();
    assert_ne!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(!body.contains("alice"), "{body}");

    // Nothing was exported, so nothing is on record.
    app.audit_written().await;
    let events = gatehouse::store::audit::recent(&app.db, 500).await.unwrap();
    assert!(events.iter().all(|e| e.action != "user.exported"));
    let out = run_async(&base_env(&app.database), &["user", "export", "nobody"], None).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such user"));
}
