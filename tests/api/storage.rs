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
    // The audit actor batches; poll until its flush lands.
    for _ in 0..50 {
        let events = store::audit::recent(&app.db, 10).await.unwrap();
        if events.iter().any(|e| e.action == "user.created" && e.actor == "system" && e.outcome == "success") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("bootstrap audit event never written");
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
