//! Claims released by the `address` and `phone` scopes (OIDC Core §5.4):
//! what SCIM stored, in the ID token and at userinfo, never verified; and
//! the `claims` request parameter (§5.5), which asks for claims by name.

use crate::helpers::spawn_app_at_issuer;
use crate::oidc_attacks::{Rp, VERIFIER, code_for, token};
use crate::oidc_flow::{PASSWORD, REDIRECT, browser, decode_payload, web_client};
use serde_json::{Value, json};

#[actix_web::test]
async fn address_and_phone_scopes_release_what_scim_stored() {
    let app = spawn_app_at_issuer(&[]).await;
    let scim = crate::scim::add_token(&app, "entra").await;
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "alice",
        "password": PASSWORD,
        "emails": [{"value": "alice@example.com", "primary": true}],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "home"}, {"value": "+1 555 0199", "type": "work", "primary": true}],
        "addresses": [{"type": "work", "streetAddress": "1 Main St", "locality": "Springfield", "postalCode": "12345", "country": "US"}],
    });
    let res = app
        .client
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(&scim)
        .header("content-type", "application/scim+json")
        .body(user.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let (id, secret) = web_client(&app, |s| {
        s.scopes = ["openid", "email", "address", "phone"].map(String::from).to_vec();
    })
    .await;
    let rp = Rp { id, secret };
    let meta: Value = app.get("/.well-known/openid-configuration").await.json().await.unwrap();
    for (list, want) in
        [("scopes_supported", "address"), ("scopes_supported", "phone"), ("claims_supported", "phone_number")]
    {
        assert!(meta[list].as_array().unwrap().iter().any(|v| v == want), "{list} lacks {want}");
    }

    let b = browser();
    let code = code_for(&app, &rp, &b, &[("scope", "openid address phone")]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, body) = token(&app, &rp, &form).await;
    assert_eq!(status, 200, "{body}");
    let want_address =
        json!({"street_address": "1 Main St", "locality": "Springfield", "postal_code": "12345", "country": "US"});
    let id_token = decode_payload(body["id_token"].as_str().unwrap());
    assert_eq!(id_token["address"], want_address);
    assert_eq!(id_token["phone_number"], "+1 555 0199", "the primary number");
    assert_eq!(id_token["phone_number_verified"], false);
    assert!(id_token.get("email").is_none(), "email was not asked for");

    let access = body["access_token"].as_str().unwrap();
    let info: Value =
        app.client.get(app.url("/userinfo")).bearer_auth(access).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["address"], want_address);
    assert_eq!(info["phone_number"], "+1 555 0199");
}

#[actix_web::test]
async fn the_claims_parameter_brings_the_scope_of_each_claim() {
    let app = spawn_app_at_issuer(&[]).await;
    crate::oidc_flow::person(&app, "alice", "alice@example.com").await;
    let (id, secret) = web_client(&app, |s| {
        s.scopes = ["openid", "email", "profile"].map(String::from).to_vec();
    })
    .await;
    let rp = Rp { id, secret };
    let meta: Value = app.get("/.well-known/openid-configuration").await.json().await.unwrap();
    assert_eq!(meta["claims_parameter_supported"], true);

    let claims = r#"{"userinfo":{"email":{"essential":true}},"id_token":{"phone_number":null}}"#;
    let code = code_for(&app, &rp, &browser(), &[("scope", "openid"), ("claims", claims)]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, body) = token(&app, &rp, &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid email", "the granted scope is named; phone is not registered");
    let access = body["access_token"].as_str().unwrap();
    let info: Value =
        app.client.get(app.url("/userinfo")).bearer_auth(access).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["email"], "alice@example.com");
    assert!(info.get("given_name").is_none() && info.get("phone_number").is_none(), "{info}");
    assert_eq!(decode_payload(body["id_token"].as_str().unwrap())["email"], "alice@example.com");
}
