//! The admin console's audit page and its live tail, read by a raw
//! WebSocket client (the browser test reads it with Chromium): filters,
//! the chain check, who may open the socket, resuming after a given event,
//! events written later, and the per-administrator socket cap.

use crate::admin_console::{set_admin, signed_in};
use crate::helpers::{TestApp, spawn_app_with};
use crate::oidc_flow::{PASSWORD, field, person};

async fn text(res: reqwest::Response) -> String {
    res.text().await.unwrap()
}

/// A signed-in browser's cookies, kept by hand (for a raw WebSocket).
async fn session_cookies(app: &TestApp, username: &str) -> String {
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut jar = std::collections::BTreeMap::new();
    let keep = |jar: &mut std::collections::BTreeMap<String, String>, res: &reqwest::Response| {
        for c in res.headers().get_all("set-cookie") {
            let pair = c.to_str().unwrap().split(';').next().unwrap().to_owned();
            let (k, v) = pair.split_once('=').unwrap();
            jar.insert(k.to_owned(), v.to_owned());
        }
    };
    let res = plain.get(app.url("/login")).send().await.unwrap();
    keep(&mut jar, &res);
    let page = text(res).await;
    let cookie = |jar: &std::collections::BTreeMap<String, String>| {
        jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    };
    let form = [
        ("csrf", field(&page, "csrf")),
        ("request", field(&page, "request")),
        ("username", username.to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let res = plain.post(app.url("/login")).header("cookie", cookie(&jar)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 303);
    keep(&mut jar, &res);
    cookie(&jar)
}

/// Opens the live tail as a browser would; answers the handshake's status
/// line and, on success, the stream.
async fn open_live(app: &TestApp, query: &str, origin: Option<&str>, cookie: &str) -> (String, tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let host = app.base.trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&host).await.unwrap();
    let origin = origin.map(|o| format!("Origin: {o}\r\n")).unwrap_or_default();
    let req = format!(
        "GET /admin/audit/live?{query} HTTP/1.1\r\nHost: {host}\r\n{origin}Upgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: {cookie}\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        if s.read(&mut b).await.unwrap() == 0 {
            break;
        }
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    (head.lines().next().unwrap_or_default().to_owned(), s)
}

/// The next text frame the server sends (unmasked, as servers send them).
async fn next_text(s: &mut tokio::net::TcpStream) -> serde_json::Value {
    use tokio::io::AsyncReadExt as _;
    let read = async {
        loop {
            let mut h = [0u8; 2];
            s.read_exact(&mut h).await.unwrap();
            let len = match h[1] & 0x7f {
                126 => u64::from(s.read_u16().await.unwrap()),
                127 => s.read_u64().await.unwrap(),
                n => u64::from(n),
            };
            let mut payload = vec![0u8; usize::try_from(len).unwrap()];
            s.read_exact(&mut payload).await.unwrap();
            if h[0] & 0x0f == 1 {
                return serde_json::from_slice(&payload).unwrap();
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), read).await.expect("an event within 10 s")
}

#[actix_web::test]
async fn the_audit_page_filters_checks_the_chain_and_tails_live_from_the_last_seen_event() {
    use gatehouse::audit::AuditEvent;
    let app = spawn_app_with(&[]).await;
    let root = person(&app, "root", "root@example.com").await;
    set_admin(&app, &root).await;
    person(&app, "eve", "eve@example.com").await;
    let now = chrono::Utc::now();
    let three = ["test.one", "test.two", "test.three"].map(|a| AuditEvent::new(now, "tester", a, Some("t".into())));
    gatehouse::store::audit::append(&app.db, three.to_vec()).await.unwrap();
    let ids: Vec<i64> = gatehouse::store::audit::recent(&app.db, 3).await.unwrap().iter().rev().map(|e| e.id).collect();

    let b = signed_in(&app, "root").await;
    let res = b.get(app.url("/admin/audit?action=test.two")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"), "{csp}");
    let page = text(res).await;
    assert!(page.contains("test.two") && !page.contains("test.three"), "filtered: {page}");
    let page = text(b.get(app.url("/admin/audit?verify=1")).send().await.unwrap()).await;
    assert!(page.contains("Intact:"), "{page}");
    assert_eq!(b.get(app.url("/admin/audit?colour=red")).send().await.unwrap().status(), 400);

    // Refused: no session, not an administrator, another site's page, no Origin.
    let origin = app.base.clone();
    let cookie = session_cookies(&app, "root").await;
    let (status, _) = open_live(&app, "after=0", Some(&origin), "").await;
    assert!(status.contains(" 303 "), "{status}");
    let eve = session_cookies(&app, "eve").await;
    let (status, _) = open_live(&app, "after=0", Some(&origin), &eve).await;
    assert!(status.contains(" 403 "), "{status}");
    let (status, _) = open_live(&app, "after=0", Some("http://evil.example"), &cookie).await;
    assert!(status.contains(" 403 "), "{status}");
    let (status, _) = open_live(&app, "after=0", None, &cookie).await;
    assert!(status.contains(" 403 "), "{status}");

    // Resumed after the first event: the two after it, in order, then one
    // written later (by another writer, as the CLI or another instance).
    let (status, mut live) = open_live(&app, &format!("after={}&actor=tester", ids[0]), Some(&origin), &cookie).await;
    assert!(status.contains(" 101 "), "{status}");
    let got = [next_text(&mut live).await, next_text(&mut live).await];
    assert_eq!(got.clone().map(|e| e["action"].as_str().unwrap().to_owned()), ["test.two", "test.three"]);
    assert_eq!(got[1]["id"], ids[2]);
    let later = AuditEvent::new(chrono::Utc::now(), "tester", "test.later", None);
    gatehouse::store::audit::append(&app.db, vec![later]).await.unwrap();
    let e = next_text(&mut live).await;
    assert_eq!((e["action"].as_str(), e["actor"].as_str()), (Some("test.later"), Some("tester")));

    // Four live views per administrator; a closed one frees its place.
    let mut more = Vec::new();
    for _ in 0..3 {
        let (status, s) = open_live(&app, "after=0", Some(&origin), &cookie).await;
        assert!(status.contains(" 101 "), "{status}");
        more.push(s);
    }
    let (status, _) = open_live(&app, "after=0", Some(&origin), &cookie).await;
    assert!(status.contains(" 429 "), "a fifth: {status}");
    drop(live);
    let mut reopened = false;
    for _ in 0..50 {
        let (status, _s) = open_live(&app, "after=0", Some(&origin), &cookie).await;
        if status.contains(" 101 ") {
            reopened = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(reopened, "the closed view's place came back");
}
