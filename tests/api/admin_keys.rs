//! The admin API's signing keys: the list, on-demand rotation published by
//! this instance at once, and emergency revocation, which must be confirmed
//! by naming the key and says what it breaks.

use crate::helpers::{TestApp, spawn_app_with};
use crate::token::{client, machine, post_token};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-0123456789abcdef0123456789";

async fn call(app: &TestApp, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = app.url(&format!("/admin/api/v1/keys{path}"));
    let req = match body {
        Some(b) => app.client.post(url).json(&b),
        None => app.client.get(url),
    };
    let res = req.bearer_auth(ADMIN).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn kid_of(token: &str) -> String {
    let header = URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap();
    serde_json::from_slice::<Value>(&header).unwrap()["kid"].as_str().unwrap().to_owned()
}

async fn published(app: &TestApp) -> Vec<String> {
    let jwks: Value = app.client.get(app.url("/jwks.json")).send().await.unwrap().json().await.unwrap();
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

fn with_state<'a>(list: &'a Value, state: &str) -> Vec<&'a str> {
    let keys = list["keys"].as_array().unwrap();
    keys.iter().filter(|k| k["state"] == state).map(|k| k["kid"].as_str().unwrap()).collect()
}

#[actix_web::test]
async fn keys_are_listed_rotated_and_revoked_with_confirmation() {
    let app = spawn_app_with(&[("GATEHOUSE_ADMIN_TOKEN", ADMIN)]).await;
    let (status, list) = call(&app, "", None).await;
    assert_eq!(status, 200);
    let first = with_state(&list, "current").into_iter().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(first.len(), 2, "one per algorithm: {list}");
    assert!(list.to_string().find("private").is_none(), "no key material: {list}");

    // Rotation now: new signers, published here at once; the old ones retire.
    let (status, rotated) = call(&app, "/rotate", Some(json!({"immediate": true}))).await;
    assert_eq!(status, 200, "{rotated}");
    let actions: Vec<&str> =
        rotated["changes"].as_array().unwrap().iter().map(|c| c["action"].as_str().unwrap()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "key.created_current").count(), 2, "{rotated}");
    let current = with_state(&rotated, "current").into_iter().map(str::to_owned).collect::<Vec<_>>();
    assert!(current.iter().all(|k| !first.contains(k)), "{rotated}");
    let jwks = published(&app).await;
    assert!(current.iter().chain(&first).all(|k| jwks.contains(k)), "new and retired keys published: {jwks:?}");

    let (id, secret) = client(&app, machine("svc", &["api:read"])).await;
    let secret = secret.unwrap();
    let body: Value =
        post_token(&app, Some((&id, &secret)), "grant_type=client_credentials").await.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();
    let kid = kid_of(&token);
    assert!(current.contains(&kid), "the rotated-in key signs at once");

    // Revocation must name the key, and says what breaks.
    for bad in [json!({}), json!({"confirm": "another"}), json!({"confirm": kid, "force": true})] {
        let (status, problem) = call(&app, &format!("/{kid}/revoke"), Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}: {problem}");
    }
    let (_, problem) = call(&app, &format!("/{kid}/revoke"), Some(json!({"confirm": "another"}))).await;
    assert!(problem["detail"].as_str().unwrap().contains("stops verifying"), "{problem}");
    assert!(published(&app).await.contains(&kid), "nothing revoked yet");
    let (status, revoked) = call(&app, &format!("/{kid}/revoke"), Some(json!({"confirm": kid}))).await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["consequences"].as_str().unwrap().contains("ID token"));
    assert!(!published(&app).await.contains(&kid), "gone from the JWKS at once");
    let res = app
        .client
        .post(app.url("/introspect"))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["active"], false, "its tokens are dead");
    let body: Value =
        post_token(&app, Some((&id, &secret)), "grant_type=client_credentials").await.json().await.unwrap();
    assert_ne!(kid_of(body["access_token"].as_str().unwrap()), kid, "a replacement signs");
    let (status, _) = call(&app, &format!("/{kid}/revoke"), Some(json!({"confirm": kid}))).await;
    assert_eq!(status, 404, "already revoked");

    // Each change is in the audit log under the admin API's name.
    let res = app
        .client
        .get(app.url(&format!("/admin/api/v1/audit?actor=admin_api&action=key.revoked&target={kid}")))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let events: Value = res.json().await.unwrap();
    assert_eq!(events["events"].as_array().unwrap().len(), 1, "{events}");
    let res = app.client.get(app.url("/admin/api/v1/keys")).send().await.unwrap();
    assert_eq!(res.status(), 401);
}
