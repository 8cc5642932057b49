//! RFC 7662 introspection and RFC 7009 revocation, including forged and
//! tampered tokens.

use crate::binary::{json_out, run_async};
use crate::helpers::{TestApp, base_env, spawn_app_with};
use crate::token::{client, machine, post_token};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse::crypto::MasterKey;
use gatehouse::crypto::envelope::Envelope;
use gatehouse::crypto::signing::SigningAlg;
use gatehouse::keys::ops;
use serde_json::{Value, json};

async fn form(app: &TestApp, path: &str, basic: (&str, &str), body: String) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .basic_auth(basic.0, Some(basic.1))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn introspect(app: &TestApp, who: (&str, &str), token: &str) -> Value {
    let res = form(app, "/introspect", who, format!("token={token}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    res.json().await.unwrap()
}

async fn issue(app: &TestApp, who: (&str, &str)) -> String {
    let body: Value = post_token(app, Some(who), "grant_type=client_credentials").await.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn introspection_and_revocation_lifecycle() {
    let app = spawn_app_with(&[]).await;
    let (a_id, a_secret) = client(&app, machine("a", &["api:read"])).await;
    // b is a resource server for the issuer's audience; c is unrelated.
    let rs = gatehouse::oauth::ClientSpec {
        introspection_audiences: vec!["http://127.0.0.1:8080".into()],
        ..machine("b", &[])
    };
    let (b_id, b_secret) = client(&app, rs).await;
    let (c_id, c_secret) = client(&app, machine("c", &[])).await;
    let a = (a_id.as_str(), a_secret.as_deref().unwrap());
    let b = (b_id.as_str(), b_secret.as_deref().unwrap());
    let c = (c_id.as_str(), c_secret.as_deref().unwrap());
    let token = issue(&app, a).await;
    // RFC 7662 §4: an unrelated client learns nothing.
    assert_eq!(introspect(&app, c, &token).await, json!({ "active": false }));

    let active = introspect(&app, b, &token).await;
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["client_id"], a_id.as_str());
    assert_eq!(active["sub"], a_id.as_str());
    assert_eq!(active["scope"], "api:read");
    assert_eq!(active["token_type"], "Bearer");
    assert_eq!(active["iss"], "http://127.0.0.1:8080");
    assert!(active["exp"].as_i64().unwrap() > active["iat"].as_i64().unwrap());

    // Another client may not revoke it, and is answered as for garbage.
    for other in [b, c] {
        let res = form(&app, "/revoke", other, format!("token={token}")).await;
        assert_eq!(res.status(), 200);
        assert_eq!(introspect(&app, b, &token).await["active"], true);
    }

    let res = form(&app, "/revoke", a, format!("token={token}&token_type_hint=access_token")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(introspect(&app, a, &token).await, json!({ "active": false }));
    // Idempotent, and unknown tokens are fine too (RFC 7009 §2.2).
    assert_eq!(form(&app, "/revoke", a, format!("token={token}")).await.status(), 200);
    assert_eq!(form(&app, "/revoke", a, "token=not-a-token".into()).await.status(), 200);

    // Requests, not tokens, can be wrong.
    let res = form(&app, "/introspect", a, String::new()).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_request");
    let res = form(&app, "/introspect", (a.0, "wrong"), format!("token={token}")).await;
    assert_eq!(res.status(), 401);
    let res = form(&app, "/revoke", (a.0, "wrong"), format!("token={token}")).await;
    assert_eq!(res.status(), 401);

    // The revocation is durable: a fresh pool (another instance) sees it.
    let other = gatehouse::store::connect(&app.database.url, 1).await.unwrap();
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert!(gatehouse::store::revocations::is_revoked(&other, claims["jti"].as_str().unwrap()).await.unwrap());
}

#[actix_web::test]
async fn forged_tampered_and_foreign_tokens_are_inactive() {
    let app = spawn_app_with(&[("GATEHOUSE_KEY_REFRESH_SECS", "1")]).await;
    let (id, secret) = client(&app, machine("svc", &[])).await;
    let me = (id.as_str(), secret.as_deref().unwrap());
    let good = issue(&app, me).await;
    assert_eq!(introspect(&app, me, &good).await["active"], true);
    let parts: Vec<&str> = good.split('.').collect();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let kid = header["kid"].as_str().unwrap().to_owned();
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());

    // The server's own key, to sign well-formed tokens with wrong claims.
    let (master, _) = MasterKey::load_or_generate(None, &app.database.dir()).unwrap();
    let envelope = Envelope::new(&master).unwrap();
    let (_, keyset) = ops::load(&app.db, &envelope, &mut Default::default(), chrono::Utc::now()).await.unwrap();
    let signer = keyset.signer(SigningAlg::Es256).unwrap().clone();
    let now = chrono::Utc::now().timestamp();
    let claims = |iss: &str, exp: i64| json!({"iss": iss, "sub": id, "aud": iss, "client_id": id, "jti": "forged-jti", "iat": now - 10, "exp": exp});

    let mut flipped = good.clone().into_bytes();
    let i = flipped.len() - 3;
    flipped[i] = if flipped[i] == b'A' { b'B' } else { b'A' };
    let hs256_header = json!({"alg": "HS256", "kid": kid, "typ": "at+jwt"});
    let forged_cases = [
        ("alg none", format!("{}.{}.", b64(&json!({"alg": "none", "kid": kid, "typ": "at+jwt"})), parts[1])),
        (
            "HS256 keyed with the public JWK",
            format!("{}.{}.{}", b64(&hs256_header), parts[1], URL_SAFE_NO_PAD.encode([7u8; 32])),
        ),
        (
            "unknown kid",
            format!("{}.{}.{}", b64(&json!({"alg": "ES256", "kid": "nope", "typ": "at+jwt"})), parts[1], parts[2]),
        ),
        ("flipped signature byte", String::from_utf8(flipped).unwrap()),
        ("payload swapped", format!("{}.{}.{}", parts[0], b64(&claims("http://127.0.0.1:8080", now + 600)), parts[2])),
        (
            "wrong issuer",
            signer.sign_jws("at+jwt", claims("https://evil.example", now + 600).to_string().as_bytes()).unwrap(),
        ),
        (
            "expired",
            signer.sign_jws("at+jwt", claims("http://127.0.0.1:8080", now - 1).to_string().as_bytes()).unwrap(),
        ),
        (
            "not an access token",
            signer.sign_jws("JWT", claims("http://127.0.0.1:8080", now + 600).to_string().as_bytes()).unwrap(),
        ),
        ("garbage", "a.b.c".to_owned()),
        ("long garbage", "a".repeat(8100)),
    ];
    for (what, token) in &forged_cases {
        assert_eq!(introspect(&app, me, token).await, json!({ "active": false }), "{what}");
    }
    // Oversized parameters are a bad request, not a token question.
    let res = form(&app, "/introspect", me, format!("token={}", "a".repeat(9000))).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_request");

    // Control: the same signer with correct claims is active, so the cases
    // above fail for the reason they name.
    let control = signer.sign_jws("at+jwt", claims("http://127.0.0.1:8080", now + 600).to_string().as_bytes()).unwrap();
    assert_eq!(introspect(&app, me, &control).await["active"], true);

    // Revoking the signing key deactivates every token it signed.
    json_out(&run_async(&base_env(&app.database), &["keys", "revoke", &kid, "--json"], None).await);
    let started = std::time::Instant::now();
    while introspect(&app, me, &good).await["active"] == true {
        assert!(started.elapsed().as_secs() < 5, "tokens of a revoked key still active");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // New tokens come from the replacement key and are active.
    let fresh = issue(&app, me).await;
    assert_eq!(introspect(&app, me, &fresh).await["active"], true);
}

#[actix_web::test]
async fn expired_revocations_are_purged() {
    let app = spawn_app_with(&[]).await;
    let now = chrono::Utc::now();
    let store = |jti: &'static str, exp: chrono::DateTime<chrono::Utc>| {
        let db = app.db.clone();
        async move { gatehouse::store::revocations::insert(&db, jti, "c", now, exp).await.unwrap() }
    };
    store("old", now - chrono::Duration::seconds(1)).await;
    store("live", now + chrono::Duration::seconds(600)).await;
    store("live", now + chrono::Duration::seconds(600)).await; // twice is fine
    assert_eq!(gatehouse::store::revocations::purge_expired(&app.db, now).await.unwrap(), 1);
    assert!(!gatehouse::store::revocations::is_revoked(&app.db, "old").await.unwrap());
    assert!(gatehouse::store::revocations::is_revoked(&app.db, "live").await.unwrap());
}

/// Polls `check` until it holds or `secs` pass.
async fn eventually(secs: u64, what: &str, mut check: impl AsyncFnMut() -> bool) {
    let started = std::time::Instant::now();
    while !check().await {
        assert!(started.elapsed() < std::time::Duration::from_secs(secs), "{what}: not within {secs} s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn revocations_and_secret_rotations_reach_every_instance() {
    let refresh = [("GATEHOUSE_CACHE_REFRESH_SECS", "1")];
    let app = spawn_app_with(&refresh).await;
    let other = crate::helpers::spawn_instance(&app, &refresh).await;
    let (id, secret) = client(&app, machine("svc", &[])).await;
    let secret = secret.unwrap();
    let who = (id.as_str(), secret.as_str());

    // Both instances know the client and the token (and cache both).
    let token = issue(&app, who).await;
    assert_eq!(introspect(&other, who, &token).await["active"], true);
    assert_eq!(introspect(&app, who, &token).await["active"], true);

    // Revoked at one instance: inactive there at once, and at the other
    // within the refresh interval (1 s here) — never active again after.
    assert_eq!(form(&app, "/revoke", who, format!("token={token}")).await.status(), 200);
    assert_eq!(introspect(&app, who, &token).await["active"], false);
    eventually(5, "revocation at the other instance", async || {
        introspect(&other, who, &token).await["active"] == false
    })
    .await;

    // The secret rotated out of band (the CLI does this): the new secret is
    // accepted and the old one refused on both instances, within a refresh.
    let (master, _) = MasterKey::load_or_generate(None, &app.database.dir()).unwrap();
    let hasher = gatehouse::crypto::SecretHasher::new(&master);
    let (_, new_secret) =
        gatehouse::oauth::registry::rotate_secret(&app.db, &hasher, &id, chrono::Utc::now()).await.unwrap();
    for node in [&app, &other] {
        eventually(5, "the new secret", async || {
            post_token(node, Some((&id, &new_secret)), "grant_type=client_credentials").await.status() == 200
        })
        .await;
        eventually(5, "the old secret refused", async || {
            post_token(node, Some(who), "grant_type=client_credentials").await.status() == 401
        })
        .await;
    }
}
