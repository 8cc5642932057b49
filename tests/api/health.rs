use crate::helpers::spawn_app;
use serde_json::Value;

#[actix_web::test]
async fn live_answers_ok() {
    let app = spawn_app().await;
    let res = app.get("/health/live").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[actix_web::test]
async fn ready_reports_each_check() {
    let app = spawn_app().await;
    let res = app.get("/health/ready").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["audit_log"], "ok");
    assert_eq!(body["checks"]["key_manager"], "ok");
    assert_eq!(body["checks"]["janitor"], "ok");
}

#[actix_web::test]
async fn ready_turns_503_when_the_database_is_unreachable() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health/ready").await.status(), 200);
    app.db.close_by_ref().await.unwrap();

    let res = app.get("/health/ready").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["checks"]["database"], "unreachable");
    assert_eq!(body["checks"]["audit_log"], "ok", "only the failing check is named");
    // Liveness is about the process, not its dependencies.
    assert_eq!(app.get("/health/live").await.status(), 200);
}

#[actix_web::test]
async fn a_stopped_server_stops_answering() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health/live").await.status(), 200);
    app.handle.stop().await;
    let res = reqwest::Client::new().get(app.url("/health/live")).send().await;
    assert!(res.is_err(), "still answering after stop: {res:?}");
}

#[actix_web::test]
async fn a_taken_port_is_a_clear_startup_error() {
    let app = spawn_app().await;
    let taken = app.base.trim_start_matches("http://").to_owned();
    let env = crate::helpers::with(crate::helpers::base_env(&app.database), &[("GATEHOUSE_BIND", &taken)]);
    let settings = gatehouse::config::Settings::load(None, env).unwrap();
    match gatehouse::server::Application::build(settings).await {
        Err(e @ gatehouse::server::StartupError::Bind { .. }) => assert!(e.to_string().contains(&taken), "{e}"),
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("bound a port that is in use"),
    }
}

/// A first start that cannot listen creates nothing: the next start still
/// creates the administrator and shows its generated password (before, the
/// failed start had created it, and its password was never shown). A taken
/// metrics port names `metrics_bind`.
#[actix_web::test]
async fn a_start_that_cannot_listen_creates_nothing() {
    use gatehouse::accounts::bootstrap::Bootstrap;
    let db = crate::helpers::TestDatabase::create().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();
    let mut env = crate::helpers::base_env(&db);
    env.retain(|(k, _)| k != "GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD");
    let start = |extra: &[(&str, &str)]| {
        let settings = gatehouse::config::Settings::load(None, crate::helpers::with(env.clone(), extra)).unwrap();
        gatehouse::server::Application::build(settings)
    };
    match start(&[("GATEHOUSE_BIND", &taken_addr)]).await {
        Err(e) => assert!(e.to_string().contains("`bind`") && e.to_string().contains(&taken_addr), "{e}"),
        Ok(_) => panic!("bound a port that is in use"),
    }
    let metrics = [("GATEHOUSE_METRICS_ENABLED", "true"), ("GATEHOUSE_METRICS_BIND", taken_addr.as_str())];
    match start(&metrics).await {
        Err(e) => assert!(e.to_string().contains("`metrics_bind`"), "{e}"),
        Ok(_) => panic!("bound a metrics port that is in use"),
    }
    let app = start(&[]).await.unwrap();
    assert!(
        matches!(app.bootstrap(), Bootstrap::CreatedWithGeneratedPassword(..)),
        "the administrator is created by the start that can show its password"
    );
}

/// A database that cannot be opened is named with its setting and where it
/// points (never its password), at once: a closed port says "refused"
/// instead of waiting out the pool and saying "pool timed out".
#[actix_web::test]
async fn database_errors_name_the_setting_and_the_target() {
    let db = crate::helpers::TestDatabase::create().await;
    let start = |url: String| {
        let env = crate::helpers::with(crate::helpers::base_env(&db), &[("GATEHOUSE_DATABASE_URL", url.as_str())]);
        async move {
            let settings = gatehouse::config::Settings::load(None, env).unwrap();
            match gatehouse::server::Application::build(settings).await {
                Err(e) => e.to_string(),
                Ok(_) => panic!("started on {url}"),
            }
        }
    };
    let closed = start("postgres://gatehouse:hunter2-secret@127.0.0.1:1/gatehouse".into()).await;
    assert!(closed.contains("`database_url`") && closed.contains("127.0.0.1:1"), "{closed}");
    assert!(!closed.contains("hunter2-secret") && !closed.contains("pool timed out"), "{closed}");

    // SQLite's "unable to open database file" (code 14) names the path.
    let dir = tempfile::tempdir().unwrap();
    let not_a_file = dir.path().join("a-directory");
    std::fs::create_dir(&not_a_file).unwrap();
    let sqlite = start(format!("sqlite://{}?mode=rwc", not_a_file.display())).await;
    assert!(sqlite.contains("`database_url`") && sqlite.contains("a-directory"), "{sqlite}");

    // With PostgreSQL at hand: a missing database and a missing role.
    let Ok(pg) = std::env::var("GATEHOUSE_TEST_DATABASE_URL") else { return };
    let Ok(base) = url::Url::parse(&pg) else { return };
    let mut missing_db = base.clone();
    missing_db.set_path("/gatehouse_no_such_database");
    let e = start(missing_db.to_string()).await;
    assert!(e.contains("`database_url`") && e.contains("gatehouse_no_such_database"), "{e}");
    let mut missing_role = base.clone();
    let _ = missing_role.set_username("gatehouse_no_such_role");
    let e = start(missing_role.to_string()).await;
    assert!(e.contains("`database_url`") && e.contains("gatehouse_no_such_role"), "{e}");
}
