//! The test harness: boots the real server in-process on 127.0.0.1:0 with a
//! fresh database (a SQLite file, or a new PostgreSQL database when
//! GATEHOUSE_TEST_DATABASE_URL is set, dropped afterwards) and talks HTTP.

use gatehouse::config::Settings;
use gatehouse::server::{Application, ShutdownHandle};
use gatehouse::store::Db;
use sea_orm::ConnectionTrait as _;
use std::path::PathBuf;

pub const ADMIN_PASSWORD: &str = "bootstrap-password-for-the-tests";

/// A database that exists for one test only.
pub struct TestDatabase {
    pub url: String,
    pg: Option<(String, String)>, // (admin url, database name)
    _dir: tempfile::TempDir,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let dir = tempfile::tempdir().unwrap();
        match std::env::var("GATEHOUSE_TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("gh_test_{}", uuid::Uuid::new_v4().simple());
                let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
                admin.close().await.unwrap();
                let mut url = url::Url::parse(&admin_url).unwrap();
                url.set_path(&format!("/{name}"));
                TestDatabase { url: url.to_string(), pg: Some((admin_url, name)), _dir: dir }
            }
            _ => {
                let url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
                TestDatabase { url, pg: None, _dir: dir }
            }
        }
    }

    pub fn dir(&self) -> PathBuf {
        self._dir.path().to_owned()
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.pg.take() else { return };
        // Drop runs inside the test's runtime; use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok(admin) = sea_orm::Database::connect(&admin_url).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// The environment a test server starts with; tests add or override keys.
pub fn base_env(db: &TestDatabase) -> Vec<(String, String)> {
    [
        ("GATEHOUSE_BIND", "127.0.0.1:0".to_owned()),
        ("GATEHOUSE_DATABASE_URL", db.url.clone()),
        ("GATEHOUSE_DATA_DIR", db.dir().display().to_string()),
        ("GATEHOUSE_WORKERS", "1".to_owned()),
        ("GATEHOUSE_DB_MAX_CONNECTIONS", "4".to_owned()),
        ("GATEHOUSE_SHUTDOWN_TIMEOUT_SECS", "5".to_owned()),
        ("GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

pub fn with(mut env: Vec<(String, String)>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    for (k, v) in extra {
        env.retain(|(key, _)| key != k);
        env.push(((*k).to_owned(), (*v).to_owned()));
    }
    env
}

pub struct TestApp {
    pub base: String,
    pub metrics_base: Option<String>,
    pub client: reqwest::Client,
    pub db: Db,
    pub handle: ShutdownHandle,
    pub audit: gatehouse::actors::audit::AuditHandle,
    /// Shared by the instances of one test (see [`spawn_instance`]).
    pub database: std::sync::Arc<TestDatabase>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Waits until every audit event recorded so far is written.
    pub async fn audit_written(&self) {
        self.audit.drain().await.unwrap();
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let database = TestDatabase::create().await;
    let settings = Settings::load(None, with(base_env(&database), extra)).unwrap();
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://{}", app.addr());
    let metrics_base = app.metrics_addr().map(|a| format!("http://{a}"));
    let (handle, db, audit) = (app.handle(), app.db().clone(), app.audit());
    actix_rt::spawn(app.run_until_stopped());
    TestApp { base, metrics_base, client: reqwest::Client::new(), db, handle, audit, database: database.into() }
}

/// Another instance on `app`'s database and data directory (so the same
/// master key), as a second node of a deployment.
pub async fn spawn_instance(app: &TestApp, extra: &[(&str, &str)]) -> TestApp {
    let settings = Settings::load(None, with(base_env(&app.database), extra)).unwrap();
    let second = Application::build(settings).await.unwrap();
    let base = format!("http://{}", second.addr());
    let metrics_base = second.metrics_addr().map(|a| format!("http://{a}"));
    let (handle, db, audit) = (second.handle(), second.db().clone(), second.audit());
    actix_rt::spawn(second.run_until_stopped());
    TestApp { base, metrics_base, client: reqwest::Client::new(), db, handle, audit, database: app.database.clone() }
}

/// Sends raw bytes and returns the raw response (for requests reqwest will
/// not make: chunked bodies, slow bodies, broken framing).
pub async fn raw_request(addr: &str, parts: &[&[u8]]) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    for p in parts {
        s.write_all(p).await.unwrap();
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// A server whose issuer is its own address (what strict relying parties
/// check discovery against): a free port is picked first.
pub async fn spawn_app_at_issuer(extra: &[(&str, &str)]) -> TestApp {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let bind = format!("127.0.0.1:{port}");
    let issuer = format!("http://{bind}");
    let mut all: Vec<(&str, &str)> = vec![("GATEHOUSE_BIND", &bind), ("GATEHOUSE_ISSUER", &issuer)];
    all.extend_from_slice(extra);
    spawn_app_with(&all).await
}
