//! `POST /token` with the client credentials grant, checked by an
//! independent JOSE implementation fed from the served JWKS.

use crate::binary::{json_out, run_async};
use crate::helpers::{TestApp, base_env, spawn_app};
use base64::Engine as _;
use gatehouse::crypto::{MasterKey, SecretHasher};
use gatehouse::oauth::registry;
use gatehouse::oauth::{ClientSpec, ClientType, GrantType, SigningAlg, TokenEndpointAuthMethod};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
use serde_json::Value;

pub async fn client(app: &TestApp, spec: ClientSpec) -> (String, Option<String>) {
    let (master, _) = MasterKey::load_or_generate(None, &app.database.dir()).unwrap();
    let hasher = SecretHasher::new(&master);
    let (c, secret) = registry::create_client(&app.db, &hasher, spec, chrono::Utc::now()).await.unwrap();
    (c.client_id, secret.map(|s| s.to_string()))
}

pub fn machine(name: &str, scopes: &[&str]) -> ClientSpec {
    ClientSpec { name: name.into(), scopes: scopes.iter().map(|s| (*s).to_owned()).collect(), ..Default::default() }
}

pub async fn post_token(app: &TestApp, basic: Option<(&str, &str)>, body: &str) -> reqwest::Response {
    let mut req = app.client.post(app.url("/token")).header("content-type", "application/x-www-form-urlencoded");
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    req.body(body.to_owned()).send().await.unwrap()
}

/// Verifies like a resource server would: JWKS from the server, then
/// signature, `typ`, `iss`, `aud` and `exp`.
pub async fn verify(app: &TestApp, token: &str) -> Result<Value, String> {
    let jwks: JwkSet = app.get("/jwks.json").await.json().await.unwrap();
    let header = decode_header(token).map_err(|e| e.to_string())?;
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks.find(&kid).ok_or("kid not in the JWKS")?;
    let mut v = Validation::new(header.alg);
    v.set_issuer(&["http://127.0.0.1:8080"]);
    v.set_audience(&["http://127.0.0.1:8080"]);
    let data = decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &v).map_err(|e| e.to_string())?;
    Ok(data.claims)
}

#[actix_web::test]
async fn client_credentials_issue_rfc9068_tokens_that_verify_independently() {
    let app = spawn_app().await;
    let (id, secret) = client(&app, machine("billing", &["api:read", "api:write"])).await;
    let secret = secret.unwrap();

    let res = post_token(&app, Some((&id, &secret)), "grant_type=client_credentials&scope=api:read").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.headers()["pragma"], "no-cache");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "api:read");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(decode_header(token).unwrap().alg, Algorithm::ES256);
    let claims = verify(&app, token).await.unwrap();
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["client_id"], id.as_str());
    assert_eq!(claims["scope"], "api:read");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300);
    assert!(claims["jti"].as_str().unwrap().len() >= 22);

    // client_secret_post, default scope = everything allowed, unique jti.
    let (post_id, post_secret) = client(
        &app,
        ClientSpec { auth_method: Some(TokenEndpointAuthMethod::ClientSecretPost), ..machine("poster", &["a", "b"]) },
    )
    .await;
    let form = format!("grant_type=client_credentials&client_id={post_id}&client_secret={}", post_secret.unwrap());
    let body: Value = post_token(&app, None, &form).await.json().await.unwrap();
    assert_eq!(body["scope"], "a b");
    let c1 = verify(&app, body["access_token"].as_str().unwrap()).await.unwrap();
    let body: Value = post_token(&app, None, &form).await.json().await.unwrap();
    let c2 = verify(&app, body["access_token"].as_str().unwrap()).await.unwrap();
    assert_ne!(c1["jti"], c2["jti"]);

    // An RS256 client gets RS256 tokens.
    let (rs_id, rs_secret) =
        client(&app, ClientSpec { signing_alg: Some(SigningAlg::Rs256), ..machine("rs", &[]) }).await;
    let body: Value = post_token(&app, Some((&rs_id, &rs_secret.unwrap())), "grant_type=client_credentials")
        .await
        .json()
        .await
        .unwrap();
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(decode_header(token).unwrap().alg, Algorithm::RS256);
    assert!(body.get("scope").is_none(), "no scope allowed, none granted");
    verify(&app, token).await.unwrap();
}

#[actix_web::test]
async fn every_token_error_is_rfc6749_json_and_never_a_500() {
    let app = spawn_app().await;
    let (id, secret) = client(&app, machine("svc", &["api:read"])).await;
    let secret = secret.unwrap();
    let (web_id, web_secret) =
        client(&app, ClientSpec { redirect_uris: vec!["https://app.example.com/cb".into()], ..machine("web", &[]) })
            .await;
    let (public_id, _) = client(
        &app,
        ClientSpec {
            client_type: Some(ClientType::Public),
            redirect_uris: vec!["http://127.0.0.1/cb".into()],
            grant_types: vec![GrantType::AuthorizationCode],
            ..machine("native", &[])
        },
    )
    .await;
    let cc = "grant_type=client_credentials";
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));

    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (app.client.post(app.url("/token")).basic_auth(&id, Some("wrong")).form_body(cc), 401, "invalid_client"),
        (app.client.post(app.url("/token")).basic_auth("nobody", Some("x")).form_body(cc), 401, "invalid_client"),
        (
            app.client.post(app.url("/token")).form_body(&format!("{cc}&client_id={id}&client_secret={secret}")),
            401,
            "invalid_client",
        ),
        (app.client.post(app.url("/token")).form_body(cc), 401, "invalid_client"),
        (
            app.client.post(app.url("/token")).form_body(&format!("{cc}&client_id={public_id}")),
            400,
            "unauthorized_client",
        ),
        (
            app.client.post(app.url("/token")).basic_auth(&id, Some(&secret)).form_body("scope=api:read"),
            400,
            "invalid_request",
        ),
        (
            app.client
                .post(app.url("/token"))
                .basic_auth(&id, Some(&secret))
                .form_body("grant_type=password&username=a&password=b"),
            400,
            "unsupported_grant_type",
        ),
        (
            app.client
                .post(app.url("/token"))
                .basic_auth(&id, Some(&secret))
                .form_body("grant_type=authorization_code&code=x"),
            400,
            "unauthorized_client",
        ),
        (
            app.client
                .post(app.url("/token"))
                .basic_auth(&id, Some(&secret))
                .form_body(&format!("{cc}&scope=api:admin")),
            400,
            "invalid_scope",
        ),
        (
            app.client.post(app.url("/token")).basic_auth(&id, Some(&secret)).form_body(&format!("{cc}&scope=a\"b")),
            400,
            "invalid_scope",
        ),
        (
            app.client.post(app.url("/token")).basic_auth(&id, Some(&secret)).form_body(&format!("{cc}&{cc}")),
            400,
            "invalid_request",
        ),
        (
            app.client
                .post(app.url("/token"))
                .basic_auth(&id, Some(&secret))
                .header("content-type", "application/json")
                .body(r#"{"grant_type":"client_credentials"}"#),
            400,
            "invalid_request",
        ),
        (
            app.client
                .post(app.url("/token"))
                .header("authorization", format!("Basic {b64}"))
                .form_body(&format!("{cc}&client_secret={secret}")),
            400,
            "invalid_request",
        ),
        (
            app.client.post(app.url("/token")).basic_auth(&web_id, Some(web_secret.as_deref().unwrap())).form_body(cc),
            400,
            "unauthorized_client",
        ),
    ];
    for (i, (req, status, code)) in cases.into_iter().enumerate() {
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), status, "case {i}");
        assert_eq!(res.headers()["cache-control"], "no-store", "case {i}");
        let basic_tried = i < 2;
        assert_eq!(res.headers().contains_key("www-authenticate"), basic_tried, "case {i}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], code, "case {i}: {body}");
        assert!(body["error_description"].is_string(), "case {i}");
    }

    let res = app.get("/token").await;
    assert_eq!(res.status(), 404, "GET is not the token endpoint");
}

trait FormBody {
    fn form_body(self, body: &str) -> Self;
}

impl FormBody for reqwest::RequestBuilder {
    fn form_body(self, body: &str) -> Self {
        self.header("content-type", "application/x-www-form-urlencoded").body(body.to_owned())
    }
}

#[actix_web::test]
async fn metadata_lists_exactly_what_is_implemented() {
    let app = spawn_app().await;
    let res = app.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(res.status(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let m: Value = res.json().await.unwrap();
    assert_eq!(m["issuer"], "http://127.0.0.1:8080");
    assert_eq!(m["token_endpoint"], "http://127.0.0.1:8080/token");
    assert_eq!(m["jwks_uri"], "http://127.0.0.1:8080/jwks.json");
    assert_eq!(
        m["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"])
    );
    assert_eq!(m["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(m["code_challenge_methods_supported"], serde_json::json!(["S256"]), "no plain");
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
    assert_eq!(m["token_endpoint_auth_signing_alg_values_supported"], serde_json::json!(["ES256", "RS256", "PS256"]));
    assert_eq!(m["authorization_endpoint"], "http://127.0.0.1:8080/authorize");
    let res = app
        .client
        .get(app.url("/.well-known/oauth-authorization-server"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
}

#[actix_web::test]
async fn openid_configuration_extends_the_oauth_metadata() {
    let app = spawn_app().await;
    let oauth: Value = app.get("/.well-known/oauth-authorization-server").await.json().await.unwrap();
    let res = app.get("/.well-known/openid-configuration").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("etag"));
    let oidc: Value = res.json().await.unwrap();
    for (k, v) in oauth.as_object().unwrap() {
        assert_eq!(&oidc[k], v, "{k} differs between the two documents");
    }
    assert_eq!(oidc["subject_types_supported"], serde_json::json!(["public"]));
    let algs = oidc["id_token_signing_alg_values_supported"].as_array().unwrap();
    assert!(algs.contains(&Value::from("RS256")), "OIDC Discovery requires RS256");
    // Every advertised algorithm has a published key to verify with.
    let jwks: Value = app.get("/jwks.json").await.json().await.unwrap();
    for alg in algs {
        assert!(jwks["keys"].as_array().unwrap().iter().any(|k| &k["alg"] == alg), "no {alg} key in the JWKS");
    }
    assert_eq!(oidc["userinfo_endpoint"], "http://127.0.0.1:8080/userinfo");
    // Absent would mean request_uri is supported (OIDC Discovery §3).
    assert_eq!(oidc["request_uri_parameter_supported"], false);
    assert_eq!(oidc["request_parameter_supported"], false);
    assert!(oauth.get("userinfo_endpoint").is_none(), "an OpenID Connect endpoint");
}

#[actix_web::test]
async fn tokens_survive_rotation_but_not_revocation_of_their_key() {
    let app = crate::helpers::spawn_app_with(&[("GATEHOUSE_KEY_REFRESH_SECS", "1")]).await;
    let (id, secret) = client(&app, machine("svc", &[])).await;
    let secret = secret.unwrap();
    let body: Value =
        post_token(&app, Some((&id, &secret)), "grant_type=client_credentials").await.json().await.unwrap();
    let old_token = body["access_token"].as_str().unwrap().to_owned();
    let old_kid = decode_header(&old_token).unwrap().kid.unwrap();

    let env = base_env(&app.database);
    json_out(&run_async(&env, &["keys", "rotate", "--now", "--json"], None).await);
    // Wait until the server signs with the new key.
    let started = std::time::Instant::now();
    let new_token = loop {
        let body: Value =
            post_token(&app, Some((&id, &secret)), "grant_type=client_credentials").await.json().await.unwrap();
        let t = body["access_token"].as_str().unwrap().to_owned();
        if decode_header(&t).unwrap().kid.unwrap() != old_kid {
            break t;
        }
        assert!(started.elapsed().as_secs() < 5, "still signing with the retired key");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    verify(&app, &new_token).await.unwrap();
    verify(&app, &old_token).await.expect("a retired key still verifies its tokens");

    json_out(&run_async(&env, &["keys", "revoke", &old_kid, "--json"], None).await);
    let started = std::time::Instant::now();
    while verify(&app, &old_token).await.is_ok() {
        assert!(started.elapsed().as_secs() < 5, "revoked key still published");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(verify(&app, &old_token).await.unwrap_err(), "kid not in the JWKS");
}
