//! `private_key_jwt` client authentication: assertions signed by an
//! independent JOSE library (jsonwebtoken) with a key whose public half a
//! real HTTP server on an ephemeral port publishes as the client's JWKS.

use crate::helpers::{TestApp, spawn_app};
use crate::token::{client, machine, post_token, verify};
use actix_web::{App, HttpResponse, HttpServer, web};
use gatehouse::crypto::signing::{SigningAlg, SigningKeyPair};
use gatehouse::oauth::{ClientSpec, TokenEndpointAuthMethod};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const ISS: &str = "http://127.0.0.1:8080";

/// The client's own web server, publishing its JWKS.
struct JwksServer {
    url: String,
    keys: Arc<Mutex<Vec<Value>>>,
    hits: Arc<AtomicUsize>,
}

async fn jwks_server() -> JwksServer {
    let keys: Arc<Mutex<Vec<Value>>> = Arc::default();
    let hits: Arc<AtomicUsize> = Arc::default();
    let (k, h) = (keys.clone(), hits.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        let (k, h) = (k.clone(), h.clone());
        App::new().route(
            "/jwks",
            web::get().to(move || {
                let (k, h) = (k.clone(), h.clone());
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    let keys = k.lock().unwrap().clone();
                    HttpResponse::Ok().json(json!({ "keys": keys }))
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    actix_rt::spawn(server);
    JwksServer { url, keys, hits }
}

/// A client key pair: the PKCS#8 private key for jsonwebtoken, the JWK to publish.
struct ClientKey {
    pkcs8: Vec<u8>,
    jwk: Value,
    alg: Algorithm,
}

fn client_key(alg: SigningAlg) -> ClientKey {
    let (pair, pkcs8) = SigningKeyPair::generate(alg).unwrap();
    let alg = if alg == SigningAlg::Es256 { Algorithm::ES256 } else { Algorithm::RS256 };
    ClientKey { pkcs8: pkcs8.to_vec(), jwk: pair.public_jwk().clone(), alg }
}

impl ClientKey {
    fn kid(&self) -> String {
        self.jwk["kid"].as_str().unwrap().to_owned()
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_as(self.alg, Some(self.kid()), claims)
    }

    fn sign_as(&self, alg: Algorithm, kid: Option<String>, claims: &Value) -> String {
        let mut header = Header::new(alg);
        header.kid = kid;
        let key = match alg {
            Algorithm::ES256 => EncodingKey::from_ec_der(&self.pkcs8),
            _ => EncodingKey::from_rsa_der(&rsa_pkcs1(&self.pkcs8)),
        };
        encode(&header, claims, &key).unwrap()
    }
}

/// jsonwebtoken wants PKCS#1 for RSA: the key inside the PKCS#8 wrapper.
fn rsa_pkcs1(pkcs8: &[u8]) -> Vec<u8> {
    // PKCS#8 = SEQ { INTEGER 0, SEQ { OID, NULL }, OCTET STRING { PKCS#1 } }:
    // the PKCS#1 key is the last TLV's content.
    let mut i = 0;
    let read_len = |b: &[u8], i: &mut usize| -> usize {
        let first = b[*i];
        *i += 1;
        if first < 0x80 {
            return first as usize;
        }
        let n = (first & 0x7f) as usize;
        let mut len = 0;
        for _ in 0..n {
            len = (len << 8) | b[*i] as usize;
            *i += 1;
        }
        len
    };
    i += 1; // outer SEQUENCE
    read_len(pkcs8, &mut i);
    loop {
        let tag = pkcs8[i];
        i += 1;
        let len = read_len(pkcs8, &mut i);
        if tag == 0x04 {
            return pkcs8[i..i + len].to_vec();
        }
        i += len;
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(client_id: &str) -> Value {
    json!({
        "iss": client_id, "sub": client_id, "aud": ISS,
        "exp": now() + 60, "iat": now(), "jti": uuid::Uuid::new_v4().to_string(),
    })
}

async fn with_assertion(app: &TestApp, path: &str, assertion: &str, extra: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("client_assertion_type={TYPE}&client_assertion={assertion}{extra}"))
        .send()
        .await
        .unwrap()
}

async fn token_with(app: &TestApp, assertion: &str) -> reqwest::Response {
    with_assertion(app, "/token", assertion, "&grant_type=client_credentials").await
}

async fn assert_invalid_client(res: reqwest::Response, why: &str) {
    assert_eq!(res.status(), 401, "{why}");
    assert!(res.headers().get("www-authenticate").is_none(), "{why}: no Basic challenge for assertions");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client", "{why}");
}

async fn jwt_client(app: &TestApp, jwks: &JwksServer, scopes: &[&str]) -> String {
    let spec = ClientSpec {
        auth_method: Some(TokenEndpointAuthMethod::PrivateKeyJwt),
        jwks_uri: Some(jwks.url.clone()),
        ..machine("signer", scopes)
    };
    let (id, secret) = client(app, spec).await;
    assert!(secret.is_none(), "a private_key_jwt client has no secret");
    id
}

#[actix_web::test]
async fn assertions_authenticate_once_and_only_when_everything_holds() {
    let app = spawn_app().await;
    let jwks = jwks_server().await;
    let key = client_key(SigningAlg::Es256);
    jwks.keys.lock().unwrap().push(key.jwk.clone());
    let id = jwt_client(&app, &jwks, &["api:read"]).await;

    let good = key.sign(&claims(&id));
    let res = token_with(&app, &good).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let access = verify(&app, body["access_token"].as_str().unwrap()).await.unwrap();
    assert_eq!(access["client_id"], id.as_str());
    assert_eq!(access["scope"], "api:read");

    assert_invalid_client(token_with(&app, &good).await, "replayed assertion").await;

    let mutate = |k: &str, v: Value| {
        let mut c = claims(&id);
        c[k] = v;
        c
    };
    let other = client_key(SigningAlg::Es256);
    let cases: Vec<(&str, String)> = vec![
        ("wrong audience", key.sign(&mutate("aud", "https://elsewhere.example".into()))),
        // An assertion minted for another endpoint must not buy a token.
        ("audience is the introspection endpoint", key.sign(&mutate("aud", format!("{ISS}/introspect").into()))),
        ("audience is the revocation endpoint", key.sign(&mutate("aud", json!([format!("{ISS}/revoke")])))),
        // RFC 7515 §4.1.11: an extension we do not understand is fatal.
        ("crit names an unknown extension", {
            let mut h = Header::new(Algorithm::ES256);
            h.kid = Some(key.kid());
            h.crit = Some(vec!["urn:example:unknown".into()]);
            encode(&h, &claims(&id), &EncodingKey::from_ec_der(&key.pkcs8)).unwrap()
        }),
        ("expired", key.sign(&mutate("exp", (now() - 120).into()))),
        ("lives too long", key.sign(&mutate("exp", (now() + 7200).into()))),
        ("not yet valid", key.sign(&mutate("nbf", (now() + 600).into()))),
        ("iss is not the client", key.sign(&mutate("iss", "someone-else".into()))),
        ("no jti", {
            let mut c = claims(&id);
            c.as_object_mut().unwrap().remove("jti");
            key.sign(&c)
        }),
        ("signed by an unregistered key under our kid", other.sign_as(Algorithm::ES256, Some(key.kid()), &claims(&id))),
        ("signed by an unregistered key without kid", other.sign_as(Algorithm::ES256, None, &claims(&id))),
        ("HS256 keyed with the public JWK", {
            let mut h = Header::new(Algorithm::HS256);
            h.kid = Some(key.kid());
            encode(&h, &claims(&id), &EncodingKey::from_secret(key.jwk.to_string().as_bytes())).unwrap()
        }),
        ("alg none", {
            use base64::Engine as _;
            let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims(&id)))
        }),
        ("flipped signature byte", {
            let mut t = key.sign(&claims(&id)).into_bytes();
            let last = t.len() - 2;
            t[last] = if t[last] == b'A' { b'B' } else { b'A' };
            String::from_utf8(t).unwrap()
        }),
        ("not a JWT", "garbage".to_owned()),
    ];
    for (why, assertion) in cases {
        assert_invalid_client(token_with(&app, &assertion).await, why).await;
    }

    // Array audience naming the token endpoint, and no kid: accepted.
    let mut c = claims(&id);
    c["aud"] = json!(["https://other.example", format!("{ISS}/token")]);
    assert_eq!(token_with(&app, &key.sign_as(Algorithm::ES256, None, &c)).await.status(), 200);
}

#[actix_web::test]
async fn malformed_assertion_requests_are_invalid_requests() {
    let app = spawn_app().await;
    let jwks = jwks_server().await;
    let key = client_key(SigningAlg::Es256);
    jwks.keys.lock().unwrap().push(key.jwk.clone());
    let id = jwt_client(&app, &jwks, &[]).await;
    let a = key.sign(&claims(&id));
    let cases = [
        ("&grant_type=client_credentials&client_secret=x", "an assertion and a secret"),
        ("&grant_type=client_credentials&client_id=someone-else", "client_id differs from sub"),
    ];
    for (extra, why) in cases {
        let res = with_assertion(&app, "/token", &a, extra).await;
        assert_eq!(res.status(), 400, "{why}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_request", "{why}");
    }
    let res = app
        .client
        .post(app.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=client_credentials&client_assertion_type=urn:example:saml&client_assertion={a}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "unknown assertion type");
    let res = app
        .client
        .post(app.url("/token"))
        .basic_auth(&id, Some("x"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=client_credentials&client_assertion_type={TYPE}&client_assertion={a}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "Basic and an assertion");
    // The registered method is the only one: this client has no secret to try.
    assert_eq!(post_token(&app, Some((&id, "guess")), "grant_type=client_credentials").await.status(), 401);
    // And a secret client cannot switch to assertions.
    let (secret_id, _) = client(&app, machine("secretive", &[])).await;
    assert_invalid_client(token_with(&app, &key.sign(&claims(&secret_id))).await, "method not registered").await;
}

#[actix_web::test]
async fn rotated_client_keys_are_fetched_but_unknown_kids_do_not_hammer_the_client() {
    let app = spawn_app().await;
    let jwks = jwks_server().await;
    let mut rsa = client_key(SigningAlg::Rs256);
    // Unpinned (no `alg`), so the key serves RS256 and PS256 alike.
    rsa.jwk.as_object_mut().unwrap().remove("alg");
    jwks.keys.lock().unwrap().push(rsa.jwk.clone());
    let id = jwt_client(&app, &jwks, &[]).await;
    assert_eq!(token_with(&app, &rsa.sign(&claims(&id))).await.status(), 200, "RS256 assertion");
    // PS256 with the same RSA key.
    assert_eq!(
        token_with(&app, &rsa.sign_as(Algorithm::PS256, Some(rsa.kid()), &claims(&id))).await.status(),
        200,
        "PS256 assertion"
    );
    // Introspection and revocation accept assertions too (aud = that endpoint).
    let mut c = claims(&id);
    c["aud"] = format!("{ISS}/introspect").into();
    let res = with_assertion(&app, "/introspect", &rsa.sign(&c), "&token=x").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["active"], false);
    // ... and the issuer itself, but not another endpoint.
    let mut c = claims(&id);
    c["aud"] = ISS.into();
    assert_eq!(with_assertion(&app, "/revoke", &rsa.sign(&c), "&token=x").await.status(), 200);
    let mut c = claims(&id);
    c["aud"] = format!("{ISS}/token").into();
    assert_eq!(with_assertion(&app, "/introspect", &rsa.sign(&c), "&token=x").await.status(), 401);
    let fetched = jwks.hits.load(Ordering::SeqCst);
    assert_eq!(fetched, 1, "the key set is cached");

    // The client rotates to a new key; at first we do not know its kid, and
    // a burst of assertions naming it costs the client's server nothing more
    // until the refetch gap has passed.
    let ec = client_key(SigningAlg::Es256);
    jwks.keys.lock().unwrap().push(ec.jwk.clone());
    for _ in 0..5 {
        assert_invalid_client(token_with(&app, &ec.sign(&claims(&id))).await, "kid not fetched yet").await;
    }
    assert!(jwks.hits.load(Ordering::SeqCst) <= fetched + 1);
    let started = std::time::Instant::now();
    loop {
        if token_with(&app, &ec.sign(&claims(&id))).await.status() == 200 {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "the new key was never fetched");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

#[actix_web::test]
async fn an_unreachable_client_jwks_is_an_authentication_failure_not_a_server_error() {
    let app = spawn_app().await;
    // Bind and drop a listener: nothing answers on that port.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let spec = ClientSpec {
        auth_method: Some(TokenEndpointAuthMethod::PrivateKeyJwt),
        jwks_uri: Some(format!("http://127.0.0.1:{port}/jwks")),
        ..machine("gone", &[])
    };
    let (id, _) = client(&app, spec).await;
    let key = client_key(SigningAlg::Es256);
    assert_invalid_client(token_with(&app, &key.sign(&claims(&id))).await, "JWKS unreachable").await;
}
