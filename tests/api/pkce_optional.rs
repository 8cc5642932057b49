//! A confidential client registered with `require_pkce = false` (what the
//! OpenID conformance plans' relying parties need): it signs in without
//! PKCE, a PKCE downgrade is still refused, and the setting is changed
//! through the admin API with effect at the next request.

use crate::helpers::spawn_app_at_issuer;
use crate::oidc_attacks::{Rp, VERIFIER, authorize_url, code_for, token};
use crate::oidc_flow::{REDIRECT, browser, callback_params, location, person, web_client};
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-for-pkce-tests-0123456789";
const NO_PKCE: &[(&str, &str)] = &[("code_challenge", ""), ("code_challenge_method", "")];

#[actix_web::test]
async fn a_client_registered_without_pkce_signs_in_without_it() {
    let app = spawn_app_at_issuer(&[("GATEHOUSE_ADMIN_TOKEN", ADMIN)]).await;
    person(&app, "alice", "alice@example.com").await;
    let (id, secret) = web_client(&app, |s| s.require_pkce = Some(false)).await;
    let rp = Rp { id, secret };
    let b = browser();
    let redeem = |code: String, verifier: Option<&'static str>| {
        let (app, rp) = (&app, &rp);
        async move {
            let mut form = vec![("grant_type", "authorization_code"), ("code", &*code), ("redirect_uri", REDIRECT)];
            form.extend(verifier.map(|v| ("code_verifier", v)));
            token(app, rp, &form).await
        }
    };

    let code = code_for(&app, &rp, &b, NO_PKCE).await;
    let (status, body) = redeem(code, None).await;
    assert_eq!(status, 200, "no PKCE at either end: {body}");
    assert!(body["id_token"].is_string());

    // RFC 9700 §2.1.1: a verifier for a code issued without a challenge is
    // a downgrade attempt, refused.
    let code = code_for(&app, &rp, &b, NO_PKCE).await;
    let (status, body) = redeem(code, Some(VERIFIER)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");

    // A client that sends PKCE anyway has it enforced.
    let code = code_for(&app, &rp, &b, &[]).await;
    let (status, body) = redeem(code, None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let code = code_for(&app, &rp, &b, &[]).await;
    assert_eq!(redeem(code, Some(VERIFIER)).await.0, 200);

    // Turned back on, the same request is refused at /authorize.
    let res = app
        .client
        .patch(app.url(&format!("/admin/api/v1/clients/{}", rp.id)))
        .bearer_auth(ADMIN)
        .json(&json!({ "require_pkce": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["require_pkce"], true);
    let res = b.get(authorize_url(&app, &rp, NO_PKCE)).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(callback_params(&location(&res))["error"], "invalid_request");
}

#[actix_web::test]
async fn a_public_client_cannot_turn_pkce_off() {
    let app = spawn_app_at_issuer(&[("GATEHOUSE_ADMIN_TOKEN", ADMIN)]).await;
    let res = app
        .client
        .post(app.url("/admin/api/v1/clients"))
        .bearer_auth(ADMIN)
        .json(&json!({
            "client_name": "SPA",
            "token_endpoint_auth_method": "none",
            "redirect_uris": [REDIRECT],
            "require_pkce": false,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client_metadata", "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("require_pkce"), "{body}");
}
