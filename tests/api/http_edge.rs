//! Middleware behaviour seen from a client: request ids, security headers,
//! body limits, error formats, static assets, CSP reports.

use crate::helpers::{raw_request, spawn_app, spawn_app_with};
use serde_json::Value;

#[actix_web::test]
async fn request_id_is_echoed_when_sane_and_generated_otherwise() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/health/live")).header("x-request-id", "abc-123.xyz").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123.xyz");

    let res =
        app.client.get(app.url("/health/live")).header("x-request-id", "bad id\"with quotes").send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id, "bad id\"with quotes");
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    let a = app.get("/health/live").await.headers()["x-request-id"].clone();
    let b = app.get("/health/live").await.headers()["x-request-id"].clone();
    assert_ne!(a, b, "each request gets its own id");
}

#[actix_web::test]
async fn security_headers_on_every_response_and_no_hsts_over_http() {
    let app = spawn_app().await;
    for path in ["/health/live", "/no/such/path"] {
        let res = app.get(path).await;
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(h.get("strict-transport-security").is_none(), "no HSTS for an http issuer");
    }
}

#[actix_web::test]
async fn hsts_when_the_issuer_is_https() {
    let app = spawn_app_with(&[("GATEHOUSE_ISSUER", "https://id.example.test")]).await;
    let res = app.get("/health/live").await;
    assert_eq!(res.headers()["strict-transport-security"], "max-age=31536000; includeSubDomains");
}

#[actix_web::test]
async fn declared_oversized_body_is_413_json() {
    let app = spawn_app_with(&[("GATEHOUSE_BODY_LIMIT_BYTES", "2048")]).await;
    let res = app.client.post(app.url("/csp-report")).body(vec![b'x'; 4096]).send().await.unwrap();
    assert_eq!(res.status(), 413);
    assert!(!res.headers()["x-request-id"].is_empty());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "request_too_large");
    assert!(body["error_description"].as_str().unwrap().contains("2048"));
}

#[actix_web::test]
async fn chunked_oversized_body_is_413_json() {
    let app = spawn_app_with(&[("GATEHOUSE_BODY_LIMIT_BYTES", "2048")]).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let chunk = format!("{:x}\r\n{}\r\n", 1500, "y".repeat(1500));
    let head = b"POST /csp-report HTTP/1.1\r\nHost: x\r\nContent-Type: application/csp-report\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    let res = raw_request(&addr, &[head, chunk.as_bytes(), chunk.as_bytes(), b"0\r\n\r\n"]).await;
    assert!(res.starts_with("HTTP/1.1 413"), "{res}");
    assert!(res.contains("\"request_too_large\""), "{res}");
}

#[actix_web::test]
async fn unknown_paths_are_json_for_apis_and_a_page_for_people() {
    let app = spawn_app().await;
    let res = app.get("/nope").await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "not_found");

    let res = app.client.get(app.url("/nope")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let html = res.text().await.unwrap();
    assert!(html.contains("Page not found"), "{html}");
    assert!(html.contains(&id), "the page quotes the request id");
}

#[actix_web::test]
async fn stylesheet_is_served_under_its_hash_and_cached_forever() {
    let app = spawn_app().await;
    let path = gatehouse::web::assets::stylesheet_path();
    let res = app.get(path).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    assert!(res.text().await.unwrap().contains("prefers-color-scheme: dark"));
    assert_eq!(app.get("/static/gatehouse.000000000000.css").await.status(), 404);
}

#[actix_web::test]
async fn csp_reports_are_accepted_and_garbage_refused() {
    let app = spawn_app().await;
    let report = r#"{"csp-report":{"document-uri":"http://127.0.0.1/x?code=SECRETCODE","violated-directive":"script-src-elem","blocked-uri":"inline"}}"#;
    let res = app
        .client
        .post(app.url("/csp-report"))
        .header("content-type", "application/csp-report")
        .body(report)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    for bad in ["not json", r#"{"something":"else"}"#] {
        let res = app.client.post(app.url("/csp-report")).body(bad).send().await.unwrap();
        assert_eq!(res.status(), 400, "{bad}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request");
    }
    assert_eq!(app.get("/csp-report").await.status(), 404, "GET is not routed");
}

/// A body trickled slower than `body_read_timeout_secs` is answered 408 and
/// the connection closed (end of stream), whichever endpoint reads it.
#[actix_web::test]
async fn trickled_body_is_408_and_the_connection_closes() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = spawn_app_with(&[("GATEHOUSE_BODY_READ_TIMEOUT_SECS", "1")]).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    for (path, content_type) in
        [("/token", "application/x-www-form-urlencoded"), ("/csp-report", "application/csp-report")]
    {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head =
            format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: 100\r\n\r\n");
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(b"grant").await.unwrap();
        let mut out = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(30), s.read_to_end(&mut out)).await;
        assert!(matches!(read, Ok(Ok(_))), "{path}: the server must close the connection");
        let res = String::from_utf8_lossy(&out);
        assert!(res.starts_with("HTTP/1.1 408"), "{path}: {res}");
        assert!(res.contains("\"request_timeout\""), "{path}: {res}");
    }
    // A body that arrives in time is unaffected.
    let res = app
        .client
        .post(app.url("/csp-report"))
        .header("content-type", "application/csp-report")
        .body(r#"{"csp-report":{"document-uri":"http://x/","violated-directive":"img-src"}}"#)
        .send()
        .await
        .unwrap();
    assert_ne!(res.status().as_u16(), 408);
}

/// A long filter gets the SCIM error schema wherever the application sees
/// it: in the URL up to the HTTP parser's limit (a URI of 65,534 bytes, the
/// `http` crate's; beyond it actix-http answers a bare 400 before any
/// application code runs), and in a `.search` body up to the body limit
/// (beyond it, a SCIM `413`).
#[actix_web::test]
async fn long_filters_get_the_scim_error_schema() {
    let s = crate::scim::Scim::start().await;
    let long = |n: usize| format!("userName eq \"{}\"", "a".repeat(n));
    let in_url = format!("/Users?filter={}", crate::scim::enc(&long(60_000)));
    assert!(in_url.len() > 60_000 && in_url.len() < 65_000);
    assert_eq!(s.err(reqwest::Method::GET, &in_url, None, 400).await, "invalidFilter");
    let body = serde_json::json!({"filter": long(30_000)});
    assert_eq!(s.err(reqwest::Method::POST, "/Users/.search", Some(body), 400).await, "invalidFilter");
    // Beyond `body_limit_bytes` (64 KiB by default) the body is refused
    // unread, still in the SCIM error schema.
    let body = serde_json::json!({"filter": long(100_000)});
    assert_eq!(s.err(reqwest::Method::POST, "/Users/.search", Some(body), 413).await, "");
}

/// The authorization endpoint reads a bounded form (RFC 6749 §3.1): a
/// repeated parameter, too many, or one too long is an error page for the
/// person, never a redirect to an unchecked client; by GET and by POST.
#[actix_web::test]
async fn authorize_refuses_repeated_excess_and_oversized_parameters() {
    let app = spawn_app().await;
    let many = (0..65).map(|i| format!("p{i}=1")).collect::<Vec<_>>().join("&");
    for (what, form, shown) in [
        ("repeated", "client_id=a&client_id=b".to_owned(), "parameter `client_id` is repeated"),
        ("too many", many, "too many parameters"),
        ("too long", format!("client_id=a&state={}", "x".repeat(8 * 1024 + 1)), "parameter too long"),
    ] {
        let got = app.client.get(app.url(&format!("/authorize?{form}"))).send().await.unwrap();
        let posted = app
            .client
            .post(app.url("/authorize"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.clone())
            .send()
            .await
            .unwrap();
        for res in [got, posted] {
            assert_eq!(res.status(), 400, "{what}");
            assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{what}");
            let body = res.text().await.unwrap();
            assert!(body.contains(&shown.replace('`', "&#x60;")) || body.contains(shown), "{what}: {body}");
        }
    }
}
