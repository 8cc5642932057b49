//! Backup and restore. SQLite: `gatehouse backup` copies the database of
//! the real binary while it serves SCIM writes; `gatehouse restore` puts
//! the copy into an empty data directory, refusing without the master key
//! the signing keys were sealed under and refusing to overwrite; the
//! restored server verifies its audit chain and still honours a token
//! issued before the backup. PostgreSQL: the documented `pg_dump -Fc` /
//! `pg_restore` into a fresh database gives the same.

use crate::binary::{json_env, json_out, run_async, serve, text};
use crate::helpers::{TestDatabase, spawn_app, spawn_instance, with};
use gatehouse::crypto::{MasterKey, SecretHasher};
use gatehouse::oauth::ClientSpec;
use gatehouse::oauth::registry;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// A machine client in `db`, with its secret, hashed under the data
/// directory's master key.
async fn machine_client(database: &TestDatabase, db: &sea_orm::DatabaseConnection) -> (String, String) {
    let (master, _) = MasterKey::load_or_generate(None, &database.dir()).unwrap();
    let spec = ClientSpec { name: "svc".into(), scopes: vec!["api".into()], ..Default::default() };
    let (c, secret) = registry::create_client(db, &SecretHasher::new(&master), spec, chrono::Utc::now()).await.unwrap();
    (c.client_id, secret.unwrap().to_string())
}

async fn machine_token(base: &str, id: &str, secret: &str) -> String {
    let res = reqwest::Client::new()
        .post(format!("{base}/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

async fn introspect(base: &str, id: &str, secret: &str, token: &str) -> Value {
    let res = reqwest::Client::new()
        .post(format!("{base}/introspect"))
        .basic_auth(id, Some(secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[actix_web::test]
async fn an_sqlite_copy_taken_under_load_restores_whole_in_an_empty_data_directory() {
    let db = TestDatabase::create().await;
    if db.is_postgres() {
        return; // the PostgreSQL run checks pg_dump below
    }
    let env = json_env(&db, &[("GATEHOUSE_LOG_LEVEL", "warn,gatehouse::cli=info")]);
    let served = serve(&env);
    let base = format!("http://{}", served.addr);
    let conn = gatehouse::store::connect(&db.url, 2).await.unwrap();
    let scim = crate::scim::store_token(&db, &conn, "entra").await;
    let (id, secret) = machine_client(&db, &conn).await;
    let token = machine_token(&base, &id, &secret).await;

    // SCIM writes run through the backup.
    let (stop, acked) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (url, scim, stop, acked) = (format!("{base}/scim/v2/Users"), scim.clone(), stop.clone(), acked.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                for i in 0.. {
                    if stop.load(Ordering::Acquire) {
                        break;
                    }
                    let body = serde_json::json!({
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "userName": format!("backup-{w}-{i}"),
                    });
                    let res = client
                        .post(&url)
                        .bearer_auth(&scim)
                        .header("content-type", "application/scim+json")
                        .body(body.to_string())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 201, "writes go on during the backup");
                    acked.fetch_add(1, Ordering::AcqRel);
                }
            })
        })
        .collect();
    while acked.load(Ordering::Acquire) < 40 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = acked.load(Ordering::Acquire);
    let copy = tempfile::tempdir().unwrap();
    let file = copy.path().join("gatehouse-backup.db");
    let file_arg = file.display().to_string();
    let made = json_out(&run_async(&env, &["backup", "--to", &file_arg, "--json"], None).await);
    let after = acked.load(Ordering::Acquire);
    stop.store(true, Ordering::Release);
    for w in writers {
        w.await.unwrap();
    }
    assert!(after > before, "the server kept writing while the copy was made");
    let users = made["users"].as_u64().unwrap();
    // The bootstrap admin, and at least every create acknowledged before.
    assert!(users > before as u64, "{made}");
    assert!(made["signing_keys"].as_u64().unwrap() > 0, "{made}");
    let again = run_async(&env, &["backup", "--to", &file_arg], None).await;
    assert!(!again.status.success() && text(&again.stderr).contains("exists already"), "never overwrites");

    // An empty data directory elsewhere, the server there not running.
    let dest = tempfile::tempdir().unwrap();
    let dest_url = format!("sqlite://{}/gatehouse.db?mode=rwc", dest.path().display());
    let dest_dir = dest.path().display().to_string();
    let elsewhere = with(env.clone(), &[("GATEHOUSE_DATABASE_URL", &dest_url), ("GATEHOUSE_DATA_DIR", &dest_dir)]);
    let restore = |env: Vec<(String, String)>| {
        let file_arg = file_arg.clone();
        async move { run_async(&env, &["restore", "--from", &file_arg, "--json"], None).await }
    };
    let no_key = restore(elsewhere.clone()).await;
    assert!(!no_key.status.success());
    assert!(text(&no_key.stderr).contains("no master key"), "{}", text(&no_key.stderr));
    let other_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let wrong = restore(with(elsewhere.clone(), &[("GATEHOUSE_MASTER_KEY", other_key)])).await;
    assert!(!wrong.status.success());
    assert!(text(&wrong.stderr).contains("does not open"), "{}", text(&wrong.stderr));
    assert!(!dest.path().join("gatehouse.db").exists(), "a refused restore leaves nothing behind");

    let key = std::fs::read_to_string(db.dir().join("master.key")).unwrap();
    let restored_env = with(elsewhere, &[("GATEHOUSE_MASTER_KEY", key.trim())]);
    let restored = json_out(&restore(restored_env.clone()).await);
    assert_eq!(restored["users"], made["users"], "{restored}");
    assert_eq!(restored["audit_events"], made["audit_events"]);
    let twice = restore(restored_env.clone()).await;
    assert!(!twice.status.success() && text(&twice.stderr).contains("exists already"), "never over a database");

    served.terminate();
    let _ = served.wait();
    let verify = json_out(&run_async(&restored_env, &["audit", "verify", "--json"], None).await);
    assert_eq!(verify["status"], "intact", "{verify}");
    let second = serve(&restored_env);
    let base2 = format!("http://{}", second.addr);
    let seen = introspect(&base2, &id, &secret, &token).await;
    assert_eq!(seen["active"], true, "a token issued before the backup still verifies: {seen}");
    assert_eq!(seen["client_id"], id.as_str());
    // And the restored server issues with the same keys.
    let fresh = machine_token(&base2, &id, &secret).await;
    assert_eq!(kid(&fresh), kid(&token));
    second.terminate();
    let _ = second.wait();
    conn.close().await.unwrap();
}

fn kid(jwt: &str) -> String {
    use base64::Engine as _;
    let header = jwt.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap();
    serde_json::from_slice::<Value>(&bytes).unwrap()["kid"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_postgresql_dump_restores_into_a_fresh_database() {
    let app = spawn_app().await;
    if !app.database.is_postgres() {
        return;
    }
    let (id, secret) = machine_client(&app.database, &app.db).await;
    let token = machine_token(&app.base, &id, &secret).await;
    app.audit_written().await;
    let dump = tempfile::tempdir().unwrap();
    let file = dump.path().join("gatehouse.dump");
    let out = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--file", file.to_str().unwrap(), &app.database.url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    let fresh = TestDatabase::create().await;
    let out = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname", &fresh.url, file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let url = fresh.url.clone();
    let env = with(crate::helpers::base_env(&app.database), &[("GATEHOUSE_DATABASE_URL", &url)]);
    let verify = json_out(&run_async(&env, &["audit", "verify", "--json"], None).await);
    assert_eq!(verify["status"], "intact", "{verify}");
    let restored = spawn_instance(&app, &[("GATEHOUSE_DATABASE_URL", &url)]).await;
    let seen = introspect(&restored.base, &id, &secret, &token).await;
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(kid(&machine_token(&restored.base, &id, &secret).await), kid(&token));
    let res = run_async(&env, &["backup", "--to", dump.path().join("x.db").to_str().unwrap()], None).await;
    assert!(!res.status.success() && text(&res.stderr).contains("pg_dump"), "backup says what to use");
}
