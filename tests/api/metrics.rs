use crate::helpers::spawn_app_with;

#[actix_web::test]
async fn metrics_count_requests_by_route_pattern() {
    let app = spawn_app_with(&[]).await;
    app.get("/health/live").await;
    app.get("/static/whatever-1.css").await;
    app.get("/static/whatever-2.css").await;
    app.get("/random/unknown/path").await;

    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    assert!(
        text.contains(r#"gatehouse_http_requests_total{method="GET",route="/health/live",status="200"} 1"#),
        "{text}"
    );
    // Raw paths never become labels: both assets share their pattern.
    assert!(
        text.contains(r#"gatehouse_http_requests_total{method="GET",route="/static/{name}",status="404"} 2"#),
        "{text}"
    );
    assert!(text.contains(r#"route="unmatched",status="404"} 1"#), "{text}");
    assert!(!text.contains("whatever-1"), "{text}");
    assert!(text.contains("gatehouse_http_request_duration_seconds_bucket"), "{text}");
    assert!(text.contains("gatehouse_build_info"), "{text}");
}

#[actix_web::test]
async fn metrics_token_is_required_when_configured() {
    let app = spawn_app_with(&[("GATEHOUSE_METRICS_TOKEN", "metrics-token-0123456789")]).await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], r#"Bearer error="invalid_token""#);
    let res = app.client.get(app.url("/metrics")).bearer_auth("wrong-token-0123456789").send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = app.client.get(app.url("/metrics")).bearer_auth("metrics-token-0123456789").send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[actix_web::test]
async fn metrics_on_a_separate_bind_leave_the_public_listener() {
    let app = spawn_app_with(&[("GATEHOUSE_METRICS_BIND", "127.0.0.1:0")]).await;
    assert_eq!(app.get("/metrics").await.status(), 404);
    let metrics = app.metrics_base.clone().unwrap();
    let res = app.client.get(format!("{metrics}/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("gatehouse_http_requests_total"));
}

/// One sample's value from Prometheus text (`name{labels}` exactly).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no sample {series} in\n{text}"))
        .parse()
        .unwrap()
}

async fn scrape(app: &crate::helpers::TestApp) -> String {
    app.get("/metrics").await.text().await.unwrap()
}

async fn scrape_until(app: &crate::helpers::TestApp, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let started = std::time::Instant::now();
    loop {
        let text = scrape(app).await;
        if ok(&text) {
            return text;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(15), "{what}:\n{text}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The rotation alerts read these: how long each algorithm's signing key
/// has left, and whether its successor is already in the JWKS.
#[actix_web::test]
async fn metrics_report_each_signing_keys_time_left_and_its_successor() {
    let app = spawn_app_with(&[("GATEHOUSE_KEY_REFRESH_SECS", "1")]).await;
    let text = scrape(&app).await;
    let rotation = 30.0 * 86400.0;
    for alg in ["ES256", "RS256"] {
        let left = sample(&text, &format!(r#"gatehouse_signing_key_stops_signing_seconds{{alg="{alg}"}}"#));
        assert!(left > rotation - 600.0 && left <= rotation, "{alg}: {left}");
        assert_eq!(sample(&text, &format!(r#"gatehouse_signing_key_next_published{{alg="{alg}"}}"#)), 0.0);
    }

    // A scheduled rotation: successors are published a pre-publish window
    // (one day) ahead, and the current keys now end when they start.
    let env = crate::helpers::base_env(&app.database);
    crate::binary::run_async(&env, &["keys", "rotate", "--json"], None).await;
    let text = scrape_until(&app, "successors published", |t| {
        t.contains(r#"gatehouse_signing_key_next_published{alg="ES256"} 1"#)
            && t.contains(r#"gatehouse_signing_key_next_published{alg="RS256"} 1"#)
    })
    .await;
    for alg in ["ES256", "RS256"] {
        let left = sample(&text, &format!(r#"gatehouse_signing_key_stops_signing_seconds{{alg="{alg}"}}"#));
        assert!(left > 86400.0 - 600.0 && left <= 86400.0, "{alg}: {left}");
    }
}

/// A failing audit write is counted (the alert), retried, and loses
/// nothing once the database takes writes again.
#[actix_web::test]
async fn metrics_count_audit_write_failures_and_nothing_is_lost() {
    use sea_orm::ConnectionTrait as _;
    let app = spawn_app_with(&[]).await;
    let text = scrape(&app).await;
    assert_eq!(sample(&text, "gatehouse_audit_write_failures_total"), 0.0);
    assert!(sample(&text, "gatehouse_db_pool_max_connections") >= 2.0, "{text}");
    assert!(text.contains(r#"gatehouse_db_pool_connections{state="in_use"}"#), "{text}");
    assert!(text.contains(r#"gatehouse_db_pool_connections{state="idle"}"#), "{text}");

    // The database refuses audit rows (a trigger), as a full disk would.
    let (refuse, allow) = if app.database.is_postgres() {
        (
            "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql;
             CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit();",
            "DROP TRIGGER refuse_audit ON audit_events; DROP FUNCTION refuse_audit();",
        )
    } else {
        (
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
            "DROP TRIGGER refuse_audit;",
        )
    };
    app.db.execute_unprepared(refuse).await.unwrap();
    let event = gatehouse::audit::AuditEvent::new(chrono::Utc::now(), "test", "test.metrics_probe", None);
    app.audit.record(event);
    scrape_until(&app, "the failure counted", |t| !t.contains("gatehouse_audit_write_failures_total 0\n")).await;

    app.db.execute_unprepared(allow).await.unwrap();
    app.audit_written().await;
    let events = gatehouse::store::audit::recent(&app.db, 50).await.unwrap();
    assert!(events.iter().any(|e| e.action == "test.metrics_probe"), "the event was written after all");
    assert_eq!(sample(&scrape(&app).await, "gatehouse_audit_events_dropped_total"), 0.0);
}
