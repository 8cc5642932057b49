//! The storage contract, run on whichever engine the suite targets.

use crate::helpers::{ADMIN_PASSWORD, TestDatabase, base_env, spawn_app, with};
use gatehouse::accounts::bootstrap::{self, Bootstrap};
use gatehouse::accounts::users::{self, NewUser, Password, Username};
use gatehouse::accounts::{AccountError, PasswordHasher, Verification};
use gatehouse::config::Settings;
use gatehouse::server::{Application, StartupError};
use gatehouse::store::{self, users as repo};
use sea_orm::ConnectionTrait as _;
use zeroize::Zeroizing;

#[actix_web::test]
async fn migrations_go_up_down_and_up_again() {
    let app = spawn_app().await; // auto-migrated
    let db = &app.db;
    let status = store::migration_status(db).await.unwrap();
    assert!(status.len() >= 2);
    assert!(status.iter().all(|m| m.applied));

    store::migrate_down(db, status.len() as u32).await.unwrap();
    assert!(store::migration_status(db).await.unwrap().iter().all(|m| !m.applied));
    assert!(db.execute_unprepared("SELECT id FROM users").await.is_err(), "users table is gone");

    store::migrate_up(db).await.unwrap();
    assert!(store::is_up_to_date(db).await.unwrap());
    assert_eq!(repo::count(db).await.unwrap(), 0);
    // Idempotent: nothing pending, nothing done.
    store::migrate_up(db).await.unwrap();
}

#[actix_web::test]
async fn concurrent_migrations_do_not_collide() {
    let database = TestDatabase::create().await;
    let a = store::connect(&database.url, 2).await.unwrap();
    let b = store::connect(&database.url, 2).await.unwrap();
    let (ra, rb) = tokio::join!(store::migrate_up(&a), store::migrate_up(&b));
    if database.is_postgres() {
        // The advisory lock serialises them; both succeed.
        ra.unwrap();
        rb.unwrap();
    } else {
        assert!(ra.is_ok() || rb.is_ok());
    }
    assert!(store::is_up_to_date(&a).await.unwrap());
}

#[actix_web::test]
async fn server_refuses_an_outdated_schema_without_auto_migrate() {
    let database = TestDatabase::create().await;
    let settings = Settings::load(None, with(base_env(&database), &[("GATEHOUSE_AUTO_MIGRATE", "false")])).unwrap();
    match Application::build(settings).await {
        Err(StartupError::SchemaOutdated) => {}
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("started on an empty schema"),
    }
}

#[actix_web::test]
async fn bootstrap_admin_is_created_once() {
    let database = TestDatabase::create().await;
    let env = base_env(&database);
    let first = Application::build(Settings::load(None, env.clone()).unwrap()).await.unwrap();
    let admin = match first.bootstrap() {
        Bootstrap::CreatedWithConfiguredPassword(u) => u.clone(),
        other => panic!("expected a bootstrap admin, got {other:?}"),
    };
    assert!(admin.is_admin && admin.active);
    let db = first.db().clone();
    // The configured password really is the admin's password.
    let hasher = PasswordHasher::new(1).unwrap();
    let verdict =
        hasher.verify(Zeroizing::new(ADMIN_PASSWORD.to_owned()), admin.password_hash.clone().unwrap()).await.unwrap();
    assert_eq!(verdict, Verification::Valid { needs_rehash: false });

    let second = Application::build(Settings::load(None, env).unwrap()).await.unwrap();
    assert!(matches!(second.bootstrap(), Bootstrap::NotNeeded));
    assert_eq!(repo::count(&db).await.unwrap(), 1);

    // And directly: a generated password when none is configured, still once.
    assert!(matches!(
        bootstrap::ensure_admin(&db, &hasher, &Default::default(), None, chrono::Utc::now()).await.unwrap(),
        Bootstrap::NotNeeded
    ));
}

#[actix_web::test]
async fn generated_bootstrap_password_is_returned_for_one_display() {
    let database = TestDatabase::create().await;
    let db = store::connect(&database.url, 2).await.unwrap();
    store::migrate_up(&db).await.unwrap();
    let hasher = PasswordHasher::new(1).unwrap();
    match bootstrap::ensure_admin(&db, &hasher, &Default::default(), None, chrono::Utc::now()).await.unwrap() {
        Bootstrap::CreatedWithGeneratedPassword(user, pw) => {
            assert!(pw.len() >= 20);
            let v = hasher.verify(pw, user.password_hash.unwrap()).await.unwrap();
            assert_eq!(v, Verification::Valid { needs_rehash: false });
        }
        other => panic!("expected a generated password, got {other:?}"),
    }
}

#[actix_web::test]
async fn usernames_are_unique_case_insensitively() {
    let app = spawn_app().await;
    let hasher = PasswordHasher::new(1).unwrap();
    let new = |name: &str| NewUser {
        username: Username::parse(name).unwrap(),
        email: Some("a@example.com".into()),
        display_name: None,
        password: Some(Password::parse(Zeroizing::new("long enough password".into())).unwrap()),
        is_admin: false,
    };
    let alice =
        users::create_user(&app.db, &hasher, &Default::default(), new("Alice"), chrono::Utc::now()).await.unwrap();
    assert_eq!(alice.username, "Alice");
    assert_eq!(alice.version, 1);
    let err =
        users::create_user(&app.db, &hasher, &Default::default(), new("ALICE"), chrono::Utc::now()).await.unwrap_err();
    assert!(matches!(err, AccountError::UsernameTaken), "{err:?}");

    let found = users::find_user(&app.db, "aLiCe").await.unwrap();
    assert_eq!(found.id, alice.id);
    assert_eq!(users::find_user(&app.db, &alice.id).await.unwrap().id, alice.id);
    assert!(matches!(users::find_user(&app.db, "bob").await, Err(AccountError::NotFound)));

    // Disabling bumps the version (the future ETag); repeating it does not.
    let disabled = users::set_active(&app.db, &found, false, chrono::Utc::now()).await.unwrap();
    assert!(!disabled.active);
    assert_eq!(disabled.version, 2);
    let again = users::set_active(&app.db, &disabled, false, chrono::Utc::now()).await.unwrap();
    assert_eq!(again.version, 2);
}

#[actix_web::test]
async fn bootstrap_is_audited() {
    let app = spawn_app().await;
    app.audit_written().await;
    let events = store::audit::recent(&app.db, 10).await.unwrap();
    assert!(
        events.iter().any(|e| e.action == "user.created" && e.actor == "system" && e.outcome == "success"),
        "bootstrap audit event never written"
    );
}

#[actix_web::test]
async fn client_updates_are_optimistic_and_rows_are_revalidated() {
    use gatehouse::crypto::{MasterKey, SecretHasher};
    use gatehouse::oauth::ClientSpec;
    use gatehouse::oauth::registry::{self, ClientChange, RegistryError};
    let app = spawn_app().await;
    let key = MasterKey::decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
    let hasher = SecretHasher::new(&key);
    let now = chrono::Utc::now();
    let spec = ClientSpec { name: "svc".into(), ..Default::default() };
    let (client, secret) = registry::create_client(&app.db, &hasher, spec, now).await.unwrap();
    assert!(secret.is_some());

    // A writer holding version 1 loses against one that already wrote version 2.
    let mut stale = store::clients::find(&app.db, &client.client_id).await.unwrap();
    let change = ClientChange { name: Some("renamed".into()), ..Default::default() };
    let (renamed, _) = registry::update_client(&app.db, &hasher, &client.client_id, change, now).await.unwrap();
    assert_eq!(renamed.version, 2);
    stale.version = 2; // what a writer that read version 1 would write
    stale.name = "lost update".into();
    assert!(matches!(store::clients::update(&app.db, stale).await, Err(store::clients::ClientStoreError::Conflict)));
    assert_eq!(registry::get_client(&app.db, &client.client_id).await.unwrap().registration.name, "renamed");

    // A row edited by hand into something invalid is reported, not trusted.
    app.db
        .execute_unprepared(&format!(
            "UPDATE clients SET redirect_uris = '[\"http://evil.example/cb\"]' WHERE id = '{}'",
            client.client_id
        ))
        .await
        .unwrap();
    assert!(matches!(registry::get_client(&app.db, &client.client_id).await, Err(RegistryError::Corrupt { .. })));

    assert!(matches!(registry::get_client(&app.db, "nope").await, Err(RegistryError::NotFound)));
    assert!(matches!(registry::delete_client(&app.db, "nope").await, Err(RegistryError::NotFound)));
}

/// Migration 16 moves liveness from token rows to family rows: a family
/// with any revoked token stays revoked (even with a successor that raced
/// the revocation), a live token becomes current, a family with only
/// rotated tokens is spent; rolling back writes that state back to the
/// token rows, so nothing rotated or revoked since comes back to life.
#[actix_web::test]
async fn refresh_families_are_backfilled_and_rolled_back_without_reviving_anything() {
    use entity::refresh_families::Entity as Families;
    use entity::refresh_tokens::{self as refresh, Entity as RefreshTokens};
    use sea_orm::{ActiveValue::Set, EntityTrait as _};
    let app = spawn_app().await;
    let db = &app.db;
    let (client_id, _) = crate::token::client(&app, crate::token::machine("rp", &["api"])).await;
    let user_id = repo::find_by_username(db, "admin").await.unwrap().unwrap().id;
    let applied = store::migration_status(db).await.unwrap();
    let since_16 = applied.iter().rev().take_while(|m| !m.name.contains("000016")).count() as u32 + 1;
    store::migrate_down(db, since_16).await.unwrap();

    let now = chrono::Utc::now();
    let row = |hash: &str, family: &str, rotated: bool, revoked: bool| refresh::ActiveModel {
        token_hash: Set(hash.into()),
        family_id: Set(family.into()),
        client_id: Set(client_id.clone()),
        user_id: Set(user_id.clone()),
        sid: Set(None),
        scope: Set("openid offline_access".into()),
        auth_time: Set(now),
        amr: Set("pwd".into()),
        acr: Set("0".into()),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::days(1)),
        rotated_at: Set(rotated.then_some(now)),
        revoked_at: Set(revoked.then_some(now)),
    };
    let rows = [
        row("a1", "live", true, false),
        row("a2", "live", false, false),
        row("b1", "raced", true, true),
        row("b2", "raced", false, false),
        row("c1", "spent", true, false),
    ];
    RefreshTokens::insert_many(rows).exec_without_returning(db).await.unwrap();
    store::migrate_up(db).await.unwrap();

    let family = |id: &'static str| async move { Families::find_by_id(id).one(db).await.unwrap().unwrap() };
    let live = family("live").await;
    assert_eq!((live.current_hash.as_deref(), live.revoked_at.is_none()), (Some("a2"), true));
    let raced = family("raced").await;
    assert!(raced.revoked_at.is_some() && raced.current_hash.is_none(), "the raced successor stays dead: {raced:?}");
    assert!(family("spent").await.revoked_at.is_some());

    // A rotation under the new schema, then a rollback.
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait as _, QueryFilter as _};
    RefreshTokens::insert(row("a3", "live", false, false)).exec_without_returning(db).await.unwrap();
    Families::update_many()
        .col_expr(entity::refresh_families::Column::CurrentHash, Expr::value("a3"))
        .filter(entity::refresh_families::Column::Id.eq("live"))
        .exec(db)
        .await
        .unwrap();
    store::migrate_down(db, since_16).await.unwrap();
    let token = |h: &'static str| async move { RefreshTokens::find_by_id(h).one(db).await.unwrap().unwrap() };
    let dead = |t: &refresh::Model| t.rotated_at.is_some() || t.revoked_at.is_some();
    assert!(dead(&token("a2").await), "rotated under the new schema");
    assert!(!dead(&token("a3").await), "the current token stays live");
    assert!(token("b2").await.revoked_at.is_some(), "the revoked family's tokens");
    store::migrate_up(db).await.unwrap();
}

/// Migration 18 builds the login namespace from existing accounts:
/// usernames move to their RFC 8265 key (fullwidth `ＤＡＮＡ` is `dana`),
/// login emails join it, a shared email stays with the oldest account, and a
/// name the profile refuses keeps its old key and still signs in.
#[actix_web::test]
async fn the_login_namespace_is_backfilled_from_existing_accounts() {
    use entity::users::{ActiveModel, Entity as Users};
    use sea_orm::{ActiveValue::Set, EntityTrait as _};
    let app = spawn_app().await;
    let db = &app.db;
    let applied = store::migration_status(db).await.unwrap();
    let since_18 = applied.iter().rev().take_while(|m| !m.name.contains("000018")).count() as u32 + 1;
    store::migrate_down(db, since_18).await.unwrap();
    let t0 = chrono::Utc::now();
    let user = |id: &str, name: &str, legacy: &str, email: Option<&str>, age: i64| ActiveModel {
        id: Set(id.into()),
        username: Set(name.into()),
        username_normalized: Set(legacy.into()),
        email: Set(email.map(Into::into)),
        active: Set(true),
        is_admin: Set(false),
        created_at: Set(t0 - chrono::Duration::seconds(age)),
        updated_at: Set(t0),
        version: Set(1),
        ..Default::default()
    };
    let rows = [
        user("00000000-0000-0000-0000-000000000001", "ＤＡＮＡ", "ｄａｎａ", Some("Dana@Corp.Example"), 30),
        user("00000000-0000-0000-0000-000000000002", "erin", "erin", Some("dana@corp.example"), 20),
        user("00000000-0000-0000-0000-000000000003", "o\u{2019}brien", "o\u{2019}brien", None, 10),
    ];
    Users::insert_many(rows).exec_without_returning(db).await.unwrap();
    store::migrate_up(db).await.unwrap();

    let owner = |key: &'static str| async move { repo::find_by_login_name(db, key).await.unwrap().map(|u| u.id) };
    assert_eq!(owner("dana").await.as_deref(), Some("00000000-0000-0000-0000-000000000001"));
    assert_eq!(owner("dana@corp.example").await.as_deref(), Some("00000000-0000-0000-0000-000000000001"), "oldest");
    assert_eq!(owner("erin").await.as_deref(), Some("00000000-0000-0000-0000-000000000002"));
    assert_eq!(owner("o\u{2019}brien").await.as_deref(), Some("00000000-0000-0000-0000-000000000003"));
    let dana = repo::find_by_id(db, "00000000-0000-0000-0000-000000000001").await.unwrap().unwrap();
    assert_eq!(dana.username_normalized, "dana", "moved to the new key");
    // The legacy name still finds its account through the CLI's lookup.
    assert_eq!(users::find_user(db, "O\u{2019}Brien").await.unwrap().username, "o\u{2019}brien");
}

/// The janitor sweeps soon after it starts, not only after its full
/// period: an instance restarted more often than that still purges.
#[actix_web::test]
async fn the_janitor_sweeps_soon_after_start() {
    use actix::Actor as _;
    use gatehouse::store::revocations;
    let app = spawn_app().await;
    let long_ago = chrono::Utc::now() - chrono::Duration::hours(2);
    revocations::insert(&app.db, "expired-jti", "some-client", long_ago, long_ago + chrono::Duration::minutes(5))
        .await
        .unwrap();
    assert!(revocations::is_revoked(&app.db, "expired-jti").await.unwrap());
    let _janitor = gatehouse::actors::Janitor {
        db: app.db.clone(),
        clock: std::sync::Arc::new(gatehouse::clock::SystemClock),
        every: std::time::Duration::from_secs(3600),
        first: std::time::Duration::from_millis(50),
        audit_retention: None,
    }
    .start();
    let mut purged = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if !revocations::is_revoked(&app.db, "expired-jti").await.unwrap() {
            purged = true;
            break;
        }
    }
    assert!(purged, "the first sweep came within seconds, not after the hour");
}
