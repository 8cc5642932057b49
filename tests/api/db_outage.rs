//! The database goes away while serving (PostgreSQL behind a TCP proxy the
//! test cuts): requests that need it are refused at once with each
//! surface's own error — `503 temporarily_unavailable` on OAuth endpoints,
//! the SCIM error schema on `/scim`, a page in the browser flow — while a
//! cached client keeps getting machine tokens; when the database is back,
//! service resumes without a restart. PostgreSQL only (CI sets it).

use crate::helpers::{TestApp, spawn_app, spawn_instance};
use crate::token::{client, machine, post_token};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

/// A TCP proxy in front of the real PostgreSQL that can be cut: every
/// connection through it is closed, and new ones are closed on arrival.
struct Proxy {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    conns: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let conns = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (flag, list) = (up.clone(), conns.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !flag.load(Ordering::Acquire) {
                    continue; // dropped: closed on arrival
                }
                let upstream = upstream.clone();
                let h = tokio::spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                list.lock().unwrap().push(h);
            }
        });
        Self { addr, up, conns }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::Release);
        for h in self.conns.lock().unwrap().drain(..) {
            h.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::Release);
    }
}

async fn until(what: &str, mut ok: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !ok().await {
        assert!(Instant::now() < deadline, "{what} did not happen within 15 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn scim_status(node: &TestApp, token: &str) -> (u16, Value) {
    let res = node.client.get(node.url("/scim/v2/Users?count=1")).bearer_auth(token).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[actix_web::test]
async fn while_the_database_is_down_requests_fail_fast_and_service_resumes_after() {
    let app = spawn_app().await;
    if !app.database.is_postgres() {
        return;
    }
    let mut direct = url::Url::parse(&app.database.url).unwrap();
    let upstream = format!("{}:{}", direct.host_str().unwrap(), direct.port().unwrap_or(5432));
    let proxy = Proxy::start(upstream).await;
    direct.set_host(Some("127.0.0.1")).unwrap();
    direct.set_port(Some(proxy.addr.port())).unwrap();
    let proxied = direct.to_string();
    let node =
        spawn_instance(&app, &[("GATEHOUSE_DATABASE_URL", &proxied), ("GATEHOUSE_CACHE_REFRESH_SECS", "1")]).await;

    let scim = crate::scim::add_token(&app, "entra").await;
    let (id, secret) = client(&app, machine("svc", &["api"])).await;
    let secret = secret.unwrap();
    let machine_token = || post_token(&node, Some((&id, &secret)), "grant_type=client_credentials");
    assert_eq!(machine_token().await.status(), 200, "warms the client cache");
    assert_eq!(scim_status(&node, &scim).await.0, 200);

    proxy.cut();
    until("readiness reporting the outage", async || node.get("/health/ready").await.status() == 503).await;
    // The cached client is stale by now; it is served anyway.
    tokio::time::sleep(Duration::from_millis(1_200)).await;

    let started = Instant::now();
    let res = machine_token().await;
    let machine_ms = started.elapsed().as_millis();
    assert_eq!(res.status(), 200, "client_credentials needs no database: {:?}", res.text().await);

    let started = Instant::now();
    let (status, body) = scim_status(&node, &scim).await;
    let scim_ms = started.elapsed().as_millis();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    assert_eq!(body["status"], "503");

    let started = Instant::now();
    let res = post_token(&node, Some((&id, &secret)), "grant_type=refresh_token&refresh_token=abc").await;
    let token_ms = started.elapsed().as_millis();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "temporarily_unavailable");

    let res = node.get("/authorize?client_id=x").await;
    assert_eq!(res.status(), 503, "the browser flow says so on a page");
    let res = node.get("/login").await;
    assert_eq!(res.status(), 503);
    // Every page and form of the browser flow, signed in or not, before
    // any CSRF or session check would need the database.
    for path in [
        "/account",
        "/account/mfa/totp",
        "/account/password",
        "/account/export",
        "/login/mfa",
        "/login/mfa/enrol",
        "/end_session",
    ] {
        let res = node.get(path).await;
        assert_eq!(res.status(), 503, "GET {path}");
        assert_eq!(res.headers()["retry-after"], "1", "GET {path}");
    }
    for path in [
        "/login",
        "/login/mfa",
        "/login/mfa/enrol",
        "/consent",
        "/logout",
        "/account/sessions/end",
        "/account/consents/revoke",
        "/account/mfa/totp/remove",
        "/account/passkeys/remove",
        "/account/password",
    ] {
        let res = node.client.post(node.url(path)).form(&[("csrf", "x")]).send().await.unwrap();
        assert_eq!(res.status(), 503, "POST {path}");
        assert!(res.text().await.unwrap().contains("unavailable"), "POST {path} says so on a page");
    }
    for path in ["/login/passkey/begin", "/login/mfa/passkey/begin", "/account/passkeys/begin"] {
        let res = node.client.post(node.url(path)).json(&serde_json::json!({"csrf": "x"})).send().await.unwrap();
        assert_eq!(res.status(), 503, "POST {path}");
        assert_eq!(res.headers()["retry-after"], "1", "POST {path}");
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("unavailable"), "POST {path}: {body}");
    }
    // What is served from memory stays up.
    assert_eq!(node.get("/jwks.json").await.status(), 200);
    assert_eq!(node.get("/.well-known/openid-configuration").await.status(), 200);
    eprintln!("while down: client_credentials {machine_ms} ms, SCIM {scim_ms} ms, refresh grant {token_ms} ms");

    proxy.restore();
    let back = Instant::now();
    until("SCIM answering again", async || scim_status(&node, &scim).await.0 == 200).await;
    eprintln!("first SCIM success {} ms after the database came back", back.elapsed().as_millis());
    assert_eq!(node.get("/health/ready").await.status(), 200);
    assert_eq!(machine_token().await.status(), 200);
}
