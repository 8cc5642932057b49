//! The admin API's users: prefix search over usernames, emails and name
//! words with keyset cursors and filters, one user's page with its ETag,
//! PATCH under If-Match, the bulk actions with per-user outcomes (each
//! change audited), sessions, and the OpenAPI document that describes it.

use crate::helpers::{TestApp, spawn_app_with};
use crate::mfa::{password_step, setup};
use gatehouse::accounts::{NewUser, PasswordHasher, Username, users::create_user};
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set};
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-0123456789abcdef0123456789";

/// A user who cannot sign in (no password: no slow hashing in the test).
pub async fn user(app: &TestApp, username: &str, email: &str, display: &str) -> String {
    let policy = gatehouse::config::Settings::load(None, Vec::<(String, String)>::new()).unwrap().password_policy();
    let new = NewUser {
        username: Username::parse(username).unwrap(),
        email: Some(email.to_owned()),
        display_name: Some(display.to_owned()),
        password: None,
        is_admin: false,
    };
    let hasher = PasswordHasher::new(1).unwrap();
    create_user(&app.db, &hasher, &policy, new, chrono::Utc::now()).await.unwrap().id
}

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let res = app.client.get(app.url(path)).bearer_auth(ADMIN).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let res = app.client.post(app.url(path)).bearer_auth(ADMIN).json(&body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn names(page: &Value) -> Vec<String> {
    page["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_owned()).collect()
}

async fn search(app: &TestApp, query: &str) -> Vec<String> {
    let (status, page) = get(app, &format!("/admin/api/v1/users?{query}")).await;
    assert_eq!(status, 200, "{query}: {page}");
    names(&page)
}

#[actix_web::test]
async fn search_pages_by_cursor_and_matches_prefixes_of_names_and_emails() {
    let app = spawn_app_with(&[("GATEHOUSE_ADMIN_TOKEN", ADMIN)]).await;
    for i in 0..23 {
        let family = if i % 3 == 0 { "Smith" } else { "Jones" };
        user(&app, &format!("person-{i:02}"), &format!("p{i:02}@corp{}.example", i % 2), &format!("Pat {family}"))
            .await;
    }
    user(&app, "élodie", "elodie@example.org", "Élodie Núñez").await;

    // Every user once, in order, seven at a time.
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/admin/api/v1/users?limit=7&cursor={c}"),
            None => "/admin/api/v1/users?limit=7".to_owned(),
        };
        let (status, page) = get(&app, &q).await;
        assert_eq!(status, 200, "{page}");
        assert!(names(&page).len() <= 7);
        all.extend(names(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut sorted = all.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    sorted.dedup();
    assert_eq!(all, sorted, "ordered, without repeats");
    assert_eq!(all.len(), 25, "23 people, élodie and the bootstrap admin: {all:?}");

    // Words of the name, the email, the username; every word must match.
    let smiths = search(&app, "q=smi").await;
    assert_eq!(smiths.len(), 8, "{smiths:?}");
    assert!(smiths.iter().all(|n| n.trim_start_matches("person-").parse::<u32>().unwrap() % 3 == 0));
    assert_eq!(search(&app, "q=p04@").await, ["person-04"]);
    assert_eq!(search(&app, "q=SMITH+person-1").await, ["person-12", "person-15", "person-18"]);
    assert_eq!(search(&app, "q=%C3%89LO").await, ["élodie"], "Unicode case folding");
    assert_eq!(search(&app, "q=n%C3%BA%C3%B1").await, ["élodie"]);
    assert!(search(&app, "q=mith").await.is_empty(), "prefixes, not substrings");

    // Filters.
    let now = chrono::Utc::now();
    let locked = gatehouse::accounts::users::find_user(&app.db, "person-05").await.unwrap();
    entity::account_lockouts::ActiveModel {
        user_id: Set(locked.id.clone()),
        failures: Set(0),
        window_start: Set(now),
        lockouts: Set(1),
        locked_until: Set(Some(now + chrono::Duration::minutes(10))),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let (_, page) = get(&app, "/admin/api/v1/users?locked=true").await;
    assert_eq!(names(&page), ["person-05"]);
    assert_eq!(page["users"][0]["locked"], true);
    assert_eq!(search(&app, "locked=false&q=person-0").await.len(), 9);
    assert_eq!(search(&app, "administrator=true").await, ["admin"]);
    assert!(search(&app, "second_factor=true").await.is_empty());
    assert_eq!(search(&app, "scim_managed=false&q=person").await.len(), 23);
    let disabled = user(&app, "zz-disabled", "zz@example.org", "Zed").await;
    let (s, _) = post(&app, "/admin/api/v1/users/bulk", json!({"action": "deactivate", "user_ids": [disabled]})).await;
    assert_eq!(s, 200);
    assert_eq!(search(&app, "active=false").await, ["zz-disabled"]);

    // Bad input is a problem document, never a server error.
    for bad in [
        "cursor=not-a-cursor",
        "cursor=%F0%9F%98%80",
        "limit=0",
        "limit=201",
        "limit=-1",
        "active=maybe",
        "q=a+b+c+d+e",
        "unknown=1",
    ] {
        let res =
            app.client.get(app.url(&format!("/admin/api/v1/users?{bad}"))).bearer_auth(ADMIN).send().await.unwrap();
        assert_eq!(res.status(), 400, "{bad}");
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{bad}");
    }
    let res = app.client.get(app.url("/admin/api/v1/users")).send().await.unwrap();
    assert_eq!(res.status(), 401);
}

#[actix_web::test]
async fn bulk_actions_report_each_user_and_audit_each_change() {
    let app = spawn_app_with(&[("GATEHOUSE_ADMIN_TOKEN", ADMIN)]).await;
    let a = user(&app, "ann", "ann@example.org", "Ann").await;
    let b = user(&app, "ben", "ben@example.org", "Ben").await;
    let ghost = uuid::Uuid::new_v4().to_string();

    let (s, r) =
        post(&app, "/admin/api/v1/users/bulk", json!({"action": "deactivate", "user_ids": [a, b, ghost]})).await;
    assert_eq!(s, 200, "{r}");
    let outcomes: Vec<&str> = r["results"].as_array().unwrap().iter().map(|x| x["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["changed", "changed", "not_found"]);
    assert_eq!(r["results"][0]["user_id"], a.as_str());
    let (_, r) = post(&app, "/admin/api/v1/users/bulk", json!({"action": "deactivate", "user_ids": [a]})).await;
    assert_eq!(r["results"][0]["outcome"], "unchanged", "already inactive: nothing written");
    for id in [&a, &b] {
        assert!(!gatehouse::accounts::users::find(&app.db, id).await.unwrap().unwrap().active);
    }
    let (_, r) = post(&app, "/admin/api/v1/users/bulk", json!({"action": "activate", "user_ids": [b]})).await;
    assert_eq!(r["results"][0]["outcome"], "changed");
    let (_, r) = post(&app, "/admin/api/v1/users/bulk", json!({"action": "unlock", "user_ids": [b]})).await;
    assert_eq!(r["results"][0]["outcome"], "unchanged", "was not locked");
    let (_, r) =
        post(&app, "/admin/api/v1/users/bulk", json!({"action": "reset_second_factors", "user_ids": [b]})).await;
    assert_eq!(r["results"][0]["outcome"], "unchanged", "had no factor");

    app.audit_written().await;
    let events = gatehouse::store::audit::recent(&app.db, 100).await.unwrap();
    let of = |action: &str| -> Vec<String> {
        events.iter().filter(|e| e.action == action).filter_map(|e| e.target.clone()).collect()
    };
    let mut disabled = of("user.disabled");
    disabled.sort();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(disabled, expected, "one event per change, none for the unchanged or unknown");
    assert_eq!(of("user.enabled"), std::slice::from_ref(&b));
    assert!(of("account.unlocked").is_empty());
    assert!(events.iter().filter(|e| e.action == "user.disabled").all(|e| e.actor == "admin_api"));

    // Refused requests change nothing.
    let too_many: Vec<String> = (0..501).map(|i| format!("id-{i}")).collect();
    for body in [
        json!({"action": "deactivate", "user_ids": []}),
        json!({"action": "deactivate", "user_ids": too_many}),
        json!({"action": "deactivate", "user_ids": [b, b]}),
        json!({"action": "delete_everything", "user_ids": [b]}),
        json!({"action": "deactivate", "user_ids": [b], "extra": true}),
        json!({"user_ids": [b]}),
    ] {
        let (s, r) = post(&app, "/admin/api/v1/users/bulk", body.clone()).await;
        assert_eq!(s, 400, "{body}: {r}");
    }
    assert!(gatehouse::accounts::users::find(&app.db, &b).await.unwrap().unwrap().active);
    let res = app
        .client
        .post(app.url("/admin/api/v1/users/bulk"))
        .bearer_auth(ADMIN)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
}

#[actix_web::test]
async fn a_users_page_carries_its_version_and_patch_honours_if_match() {
    let (app, _rp) = setup(&[("GATEHOUSE_ADMIN_TOKEN", ADMIN)]).await;
    let alice = gatehouse::accounts::users::find_user(&app.db, "alice").await.unwrap();
    let b = crate::oidc_flow::browser();
    password_step(&app, &b).await;
    let path = format!("/admin/api/v1/users/{}", alice.id);

    let res = app.client.get(app.url(&path)).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"v{}\"", alice.version));
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["user"]["username"], "alice");
    assert_eq!(page["sessions"].as_array().unwrap().len(), 1, "{page}");
    assert!(page["sessions"][0]["amr"].as_array().unwrap().contains(&"pwd".into()));
    assert_eq!(page["second_factors"]["authenticator_app"], false);
    let (s, list) = get(&app, &format!("{path}/sessions")).await;
    assert_eq!((s, list["sessions"].as_array().unwrap().len()), (200, 1));

    let patch = |if_match: &str, body: Value| {
        app.client.patch(app.url(&path)).bearer_auth(ADMIN).header("if-match", if_match.to_owned()).json(&body).send()
    };
    assert_eq!(patch("\"v999\"", json!({"active": false})).await.unwrap().status(), 412);
    assert_eq!(patch(&etag, json!({"active": false, "is_admin": true})).await.unwrap().status(), 400);
    assert!(gatehouse::accounts::users::find(&app.db, &alice.id).await.unwrap().unwrap().active);
    let res = patch(&etag, json!({"active": false})).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_ne!(res.headers()["etag"].to_str().unwrap(), etag, "a new version");
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["user"]["active"], false);
    assert!(page["sessions"].as_array().unwrap().is_empty(), "deactivation signs out: {page}");
    assert_eq!(patch(&etag, json!({"active": true})).await.unwrap().status(), 412, "the old version is stale");
    // The browser's session is over.
    let res = b.get(app.url("/account")).send().await.unwrap();
    assert_eq!(res.status(), 303);

    let missing = format!("/admin/api/v1/users/{}", uuid::Uuid::new_v4());
    let (s, problem) = get(&app, &missing).await;
    assert_eq!((s, problem["error"].as_str()), (404, Some("not_found")));
    let res = app.client.delete(app.url(&format!("{missing}/sessions"))).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = app.client.delete(app.url(&format!("{path}/sessions"))).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(res.status(), 204);
}

#[actix_web::test]
async fn the_openapi_document_describes_every_admin_route() {
    let app = spawn_app_with(&[("GATEHOUSE_ADMIN_TOKEN", ADMIN)]).await;
    let res = app.get("/admin/api/v1/openapi.json").await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/admin/api/v1/users", "get"),
        ("/admin/api/v1/users/bulk", "post"),
        ("/admin/api/v1/users/{user_id}", "get"),
        ("/admin/api/v1/users/{user_id}", "patch"),
        ("/admin/api/v1/users/{user_id}/sessions", "delete"),
        ("/admin/api/v1/users/{user_id}/export", "get"),
        ("/admin/api/v1/groups", "get"),
        ("/admin/api/v1/groups/{group_id}", "get"),
        ("/admin/api/v1/groups/{group_id}", "patch"),
        ("/admin/api/v1/scim-tokens", "get"),
        ("/admin/api/v1/scim-tokens", "post"),
        ("/admin/api/v1/scim-tokens/{token_id}", "delete"),
        ("/admin/api/v1/clients", "post"),
        ("/admin/api/v1/clients/{client_id}/secret", "post"),
        ("/admin/api/v1/lockouts/{user_id}", "delete"),
        ("/admin/api/v1/audit", "get"),
        ("/admin/api/v1/keys", "get"),
        ("/admin/api/v1/keys/rotate", "post"),
        ("/admin/api/v1/keys/{kid}/revoke", "post"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path}");
        assert!(op["responses"]["401"].is_object(), "{method} {path} documents its errors");
    }
    assert!(doc["components"]["schemas"]["ClientType"]["enum"].is_array(), "{}", doc["components"]["schemas"]);
    assert_eq!(doc["components"]["securitySchemes"]["admin_token"]["scheme"], "bearer");
    // Without an admin token there is no admin API to describe.
    let plain = crate::helpers::spawn_app().await;
    assert_eq!(plain.get("/admin/api/v1/openapi.json").await.status(), 404);
}

#[actix_web::test]
async fn the_search_terms_migration_finds_accounts_made_before_it() {
    use migration::MigratorTrait as _;
    use sea_orm::ConnectionTrait as _;
    let tdb = crate::helpers::TestDatabase::create().await;
    let db = sea_orm::Database::connect(&tdb.url).await.unwrap();
    let before = migration::Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261205_000022_user_search_terms")
        .unwrap();
    migration::Migrator::up(&db, Some(before as u32)).await.unwrap();
    for (i, (user, email, display)) in
        [("grace", Some("'grace@navy.example'"), "'Grace Hopper'"), ("ada", None, "NULL")].into_iter().enumerate()
    {
        db.execute_unprepared(&format!(
            "INSERT INTO users (id, username, username_normalized, email, display_name, active, is_admin, \
             created_at, updated_at, version, scim_managed) VALUES ('{i}', '{user}', '{user}', {}, {display}, \
             TRUE, FALSE, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00', 1, FALSE)",
            email.unwrap_or("NULL")
        ))
        .await
        .unwrap();
    }
    migration::Migrator::up(&db, None).await.unwrap();
    let terms = |id: &'static str| {
        let db = db.clone();
        async move {
            let rows = db
                .query_all_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    format!("SELECT term FROM user_search_terms WHERE user_id = '{id}' ORDER BY term"),
                ))
                .await
                .unwrap();
            rows.iter().map(|r| r.try_get::<String>("", "term").unwrap()).collect::<Vec<_>>()
        }
    };
    assert_eq!(terms("0").await, ["grace", "grace@navy.example", "hopper"]);
    assert_eq!(terms("1").await, ["ada"]);
    db.close().await.unwrap();
}

#[actix_web::test]
async fn a_disabled_accounts_session_is_never_read_back_as_live() {
    let (app, _rp) = setup(&[]).await;
    let alice = gatehouse::accounts::users::find_user(&app.db, "alice").await.unwrap();
    password_step(&app, &crate::oidc_flow::browser()).await;
    let now = chrono::Utc::now();
    let sessions = gatehouse::store::sessions::user_sessions(&app.db, &alice.id, now).await.unwrap();
    let id = sessions[0].id.clone();
    assert!(gatehouse::store::sessions::find_session(&app.db, &id, now).await.unwrap().is_some());
    // Straight in the store, as another process would: nothing else told.
    gatehouse::store::users::set_active(&app.db, &alice.id, false, now).await.unwrap();
    assert!(gatehouse::store::sessions::find_session(&app.db, &id, now).await.unwrap().is_none());
    gatehouse::store::users::set_active(&app.db, &alice.id, true, now).await.unwrap();
    assert!(gatehouse::store::sessions::find_session(&app.db, &id, now).await.unwrap().is_some());
}
