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
