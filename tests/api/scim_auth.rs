//! Who may use SCIM, and what a token may touch: live tokens only,
//! managed from the CLI, and never a path to accounts SCIM did not create.

use crate::helpers::spawn_app;
use crate::scim::{Scim, enc};
use reqwest::Method;
use sea_orm::ConnectionTrait as _;
use serde_json::json;

#[actix_web::test]
async fn every_scim_request_needs_a_live_token() {
    let s = Scim::start().await;
    let url = s.app.url("/scim/v2/Users");
    let res = s.app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    assert_eq!(res.headers()["content-type"], "application/scim+json");
    for bad in ["gh_scim_nope", "", &format!("{}x", s.token)] {
        let res = s.app.client.get(&url).bearer_auth(bad).send().await.unwrap();
        assert_eq!(res.status(), 401, "{bad:?}");
    }
    let res = s.app.client.get(&url).header("authorization", format!("Basic {}", s.token)).send().await.unwrap();
    assert_eq!(res.status(), 401, "only the bearer scheme");
    assert_eq!(s.call(Method::GET, "/Users", None).await.status(), 200);

    gatehouse::store::scim::tokens::revoke_token(&s.app.db, "entra", chrono::Utc::now()).await.unwrap();
    assert_eq!(s.call(Method::GET, "/Users", None).await.status(), 401, "revocation is immediate");
    for path in ["/ServiceProviderConfig", "/Schemas", "/ResourceTypes", "/Groups"] {
        assert_eq!(s.call(Method::GET, path, None).await.status(), 401, "{path}");
    }
}

#[actix_web::test]
async fn a_scim_token_cannot_take_over_accounts_it_did_not_provision() {
    let s = Scim::start().await;
    let db = &s.app.db;
    // The bootstrap admin is a local account: invisible to SCIM...
    let admin = gatehouse::store::users::find_by_username(db, "admin").await.unwrap().unwrap();
    let list = s.list(&format!("filter={}", enc(r#"userName eq "admin""#))).await;
    assert_eq!(list["totalResults"], 0);
    s.err(Method::GET, &format!("/Users/{}", admin.id), None, 404).await;
    let r =
        s.patch(&format!("/Users/{}", admin.id), json!([{"op": "replace", "path": "active", "value": false}])).await;
    assert_eq!(r.status(), 404);
    s.err(Method::DELETE, &format!("/Users/{}", admin.id), None, 404).await;
    // ...and provisioning the same userName never adopts it.
    let t = s
        .err(
            Method::POST,
            "/Users",
            Some(json!({"userName": "ADMIN", "externalId": "x", "password": "attacker chosen passphrase 1"})),
            409,
        )
        .await;
    assert_eq!(t, "uniqueness");
    let after = gatehouse::store::users::find_by_id(db, &admin.id).await.unwrap().unwrap();
    assert_eq!(after.password_hash, admin.password_hash);
    assert!(after.active && !after.scim_managed);
    // Renaming a SCIM user onto a local name is refused the same way.
    let id = s.create_user(json!({"userName": "mallory"})).await["id"].as_str().unwrap().to_owned();
    let r = s.patch(&format!("/Users/{id}"), json!([{"op": "replace", "path": "userName", "value": "Admin"}])).await;
    assert_eq!(r.status(), 409);

    // A SCIM user later made an administrator is read-only to SCIM.
    let promoted = s.create_user(json!({"userName": "erin"})).await["id"].as_str().unwrap().to_owned();
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => "UPDATE users SET is_admin = TRUE WHERE id = $1",
            _ => "UPDATE users SET is_admin = 1 WHERE id = ?",
        },
        [promoted.clone().into()],
    ))
    .await
    .unwrap();
    s.ok(Method::GET, &format!("/Users/{promoted}"), None, 200).await;
    let r = s.patch(&format!("/Users/{promoted}"), json!([{"op": "replace", "path": "active", "value": false}])).await;
    assert_eq!(r.status(), 403);
    s.err(Method::DELETE, &format!("/Users/{promoted}"), None, 403).await;
    s.err(Method::PUT, &format!("/Users/{promoted}"), Some(json!({"userName": "erin", "active": false})), 403).await;

    // A group that grants admin can be neither changed nor joined over SCIM,
    // nor can its members be changed through it.
    let gid = s.ok(Method::POST, "/Groups", Some(json!({"displayName": "Admins"})), 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // An administrator marks it with the CLI.
    let env = crate::helpers::base_env(&s.app.database);
    // run_async, not run: a blocking wait here would stop the in-process
    // server mid-transaction (holding the audit chain's lock) while the CLI
    // waits for that lock — a deadlock.
    let out = crate::binary::run_async(&env, &["group", "grant-admin", "admins", "--json"], None).await;
    assert!(out.status.success(), "{}", crate::binary::text(&out.stderr));
    assert_eq!(crate::binary::json_out(&out)["grants_admin"], true);
    let listed = crate::binary::json_out(&crate::binary::run_async(&env, &["group", "list", "--json"], None).await);
    assert_eq!(listed[0]["display_name"], "Admins");
    let r =
        s.patch(&format!("/Groups/{gid}"), json!([{"op": "add", "path": "members", "value": [{"value": id}]}])).await;
    assert_eq!(r.status(), 403);
    s.err(Method::DELETE, &format!("/Groups/{gid}"), None, 403).await;
    let g = s.ok(Method::GET, &format!("/Groups/{gid}"), None, 200).await;
    assert_eq!(g["members"], json!([]));
    // Membership in it makes a user an administrator to SCIM too.
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                "INSERT INTO group_members (group_id, user_id, added_at) VALUES ($1, $2, now())"
            }
            _ => "INSERT INTO group_members (group_id, user_id, added_at) VALUES (?, ?, datetime('now'))",
        },
        [gid.clone().into(), id.clone().into()],
    ))
    .await
    .unwrap();
    let r = s.patch(&format!("/Users/{id}"), json!([{"op": "replace", "path": "active", "value": false}])).await;
    assert_eq!(r.status(), 403);
}

#[actix_web::test]
async fn scim_tokens_are_managed_from_the_cli() {
    use crate::binary::{json_out, run_async, text};
    let app = spawn_app().await;
    let env = crate::helpers::with(
        crate::helpers::base_env(&app.database),
        &[("GATEHOUSE_LOG_FORMAT", "json"), ("GATEHOUSE_LOG_LEVEL", "trace")],
    );
    let out = run_async(&env, &["scim-token", "create", "--name", "okta", "--json"], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let created = json_out(&out);
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("gh_scim_") && token.len() > 40, "{token}");
    assert!(!text(&out.stderr).contains(&token), "token in a log line");
    let dup = run_async(&env, &["scim-token", "create", "--name", "okta"], None).await;
    assert_eq!(dup.status.code(), Some(1));
    assert!(text(&dup.stderr).contains("already exists"));

    let call = |t: &str| app.client.get(app.url("/scim/v2/Users")).bearer_auth(t.to_owned()).send();
    assert_eq!(call(&token).await.unwrap().status(), 200);

    let listed = json_out(&run_async(&env, &["scim-token", "list", "--json"], None).await);
    assert_eq!(listed[0]["name"], "okta");
    assert!(listed[0]["last_used_at"].is_string(), "use is recorded");
    assert!(!listed.to_string().contains(&token), "list never shows the token");
    // Only a keyed hash is stored.
    let rows = gatehouse::store::scim::tokens::list_tokens(&app.db).await.unwrap();
    assert!(!rows[0].token_hash.contains(&token[8..]));

    let out = run_async(&env, &["scim-token", "revoke", "okta"], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(call(&token).await.unwrap().status(), 401);
    let listed = json_out(&run_async(&env, &["scim-token", "list", "--json"], None).await);
    assert!(listed[0]["revoked_at"].is_string());
    assert_eq!(run_async(&env, &["scim-token", "revoke", "nope"], None).await.status.code(), Some(1));
}
