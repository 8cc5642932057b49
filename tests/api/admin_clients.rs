//! The admin REST API for clients, over real HTTP: authentication, the
//! whole lifecycle, conditional updates, validation errors, and changes
//! taking effect at the token endpoint at once.

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::token::post_token;
use serde_json::{Value, json};

const TOKEN: &str = "admin-token-for-tests-0123456789abcdef";

async fn admin_app() -> TestApp {
    spawn_app_with(&[("GATEHOUSE_ADMIN_TOKEN", TOKEN)]).await
}

fn url(app: &TestApp, rest: &str) -> String {
    app.url(&format!("/admin/api/v1/clients{rest}"))
}

async fn call(app: &TestApp, method: reqwest::Method, rest: &str, body: Option<Value>) -> reqwest::Response {
    let mut req = app.client.request(method, url(app, rest)).bearer_auth(TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

async fn error_of(res: reqwest::Response, status: u16) -> String {
    assert_eq!(res.status(), status);
    let body: Value = res.json().await.unwrap();
    assert!(body["error_description"].is_string());
    body["error"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn the_admin_api_is_not_served_without_a_token_configured() {
    let app = spawn_app().await;
    let res = app.client.get(url(&app, "")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[actix_web::test]
async fn requests_without_the_admin_token_are_refused() {
    let app = admin_app().await;
    for auth in
        [None, Some("Bearer wrong-token"), Some("Basic YWRtaW46YWRtaW4="), Some(&format!("Bearer {TOKEN}x")[..])]
    {
        let mut req = app.client.get(url(&app, ""));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{auth:?}");
        assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
        assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_token");
    }
    // Nothing is created without the token either.
    let res = app.client.post(url(&app, "")).json(&json!({"client_name": "x"})).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let list: Value = call(&app, reqwest::Method::GET, "", None).await.json().await.unwrap();
    assert_eq!(list["total"], 0);
}

#[actix_web::test]
async fn clients_are_created_read_updated_rotated_and_deleted_with_immediate_effect() {
    let app = admin_app().await;
    let res = call(
        &app,
        reqwest::Method::POST,
        "",
        Some(json!({"client_name": "billing", "scope": "api:read api:write", "access_token_lifetime": 600})),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = res.json().await.unwrap();
    let id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/admin/api/v1/clients/{id}"));
    assert_eq!(created["grant_types"], json!(["client_credentials"]));
    assert_eq!(created["token_endpoint_auth_method"], "client_secret_basic");
    assert!(created.get("secret_hash").is_none());

    // Usable at once; the server caches it from here on.
    let res = post_token(&app, Some((&id, &secret)), "grant_type=client_credentials&scope=api:read").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["expires_in"], 600);

    let res = call(&app, reqwest::Method::GET, &format!("/{id}"), None).await;
    assert_eq!(res.status(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, "\"v1\"");
    let shown: Value = res.json().await.unwrap();
    assert!(shown.get("client_secret").is_none(), "the secret is shown once");

    let list: Value = call(&app, reqwest::Method::GET, "?limit=10", None).await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["clients"][0]["client_id"], id.as_str());

    // A conditional update with the right version narrows the scope; the
    // token endpoint sees it on the next request.
    let res = app
        .client
        .patch(url(&app, &format!("/{id}")))
        .bearer_auth(TOKEN)
        .header("if-match", &etag)
        .json(&json!({"scope": "api:write"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"v2\"");
    let res = post_token(&app, Some((&id, &secret)), "grant_type=client_credentials&scope=api:read").await;
    assert_eq!(res.status(), 400, "api:read was removed");
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_scope");

    // The same stale version again is refused, and nothing changes.
    let res = app
        .client
        .patch(url(&app, &format!("/{id}")))
        .bearer_auth(TOKEN)
        .header("if-match", &etag)
        .json(&json!({"client_name": "lost update"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res, 412).await, "precondition_failed");
    let shown: Value = call(&app, reqwest::Method::GET, &format!("/{id}"), None).await.json().await.unwrap();
    assert_eq!(shown["client_name"], "billing");

    // Rotation: the old secret stops working at once, the new one works.
    let res = call(&app, reqwest::Method::POST, &format!("/{id}/secret"), None).await;
    assert_eq!(res.status(), 200);
    let new_secret = res.json::<Value>().await.unwrap()["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(post_token(&app, Some((&id, &secret)), "grant_type=client_credentials").await.status(), 401);
    assert_eq!(post_token(&app, Some((&id, &new_secret)), "grant_type=client_credentials").await.status(), 200);

    // Deletion: gone for the token endpoint at once.
    let res = app
        .client
        .delete(url(&app, &format!("/{id}")))
        .bearer_auth(TOKEN)
        .header("if-match", "\"v1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 412, "a stale If-Match protects deletes too");
    assert_eq!(call(&app, reqwest::Method::DELETE, &format!("/{id}"), None).await.status(), 204);
    assert_eq!(post_token(&app, Some((&id, &new_secret)), "grant_type=client_credentials").await.status(), 401);
    assert_eq!(error_of(call(&app, reqwest::Method::GET, &format!("/{id}"), None).await, 404).await, "not_found");
    assert_eq!(call(&app, reqwest::Method::DELETE, &format!("/{id}"), None).await.status(), 404);

    // Every change is audited, attributed to the admin API, and durable
    // before the API answered.
    let expected = ["client.created", "client.updated", "client.secret_rotated", "client.deleted"];
    let events = gatehouse::store::audit::recent(&app.db, 50).await.unwrap();
    let ours: Vec<_> = events.iter().filter(|e| e.actor == "admin_api").rev().collect();
    assert_eq!(ours.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), expected);
    assert!(ours.iter().all(|e| e.request_id.is_some() && e.target.as_deref() == Some(id.as_str())));
}

#[actix_web::test]
async fn invalid_requests_get_precise_errors() {
    let app = admin_app().await;
    let post = |body: Value| call(&app, reqwest::Method::POST, "", Some(body));
    let cases = [
        (json!({"scope": "a"}), "invalid_client_metadata", "no client_name"),
        (
            json!({"client_name": "x", "redirect_uris": ["https://a.example/cb#frag"]}),
            "invalid_client_metadata",
            "fragment",
        ),
        (json!({"client_name": "x", "grant_types": ["implicit"]}), "invalid_request", "unknown grant type"),
        (json!({"client_name": "x", "colour": "blue"}), "invalid_request", "unknown field"),
        (json!({"client_name": "x", "access_token_lifetime": 5}), "invalid_client_metadata", "lifetime too short"),
        (
            json!({"client_name": "x", "client_type": "public", "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
            "public client_credentials",
        ),
        (
            json!({"client_name": "x", "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
            "no jwks_uri",
        ),
        (json!(["not", "an", "object"]), "invalid_request", "not an object"),
    ];
    for (body, code, why) in cases {
        let res = post(body).await;
        assert_eq!(res.status(), 400, "{why}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"], code, "{why}");
    }
    let res = app
        .client
        .post(url(&app, ""))
        .bearer_auth(TOKEN)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("client_name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let res = app
        .client
        .post(url(&app, ""))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body("{\"client_name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(res, 400).await, "invalid_request");
    let res = call(&app, reqwest::Method::GET, "?limit=ten", None).await;
    assert_eq!(error_of(res, 400).await, "invalid_request");
    let res = call(&app, reqwest::Method::PATCH, "/nope", Some(json!({"client_name": "y"}))).await;
    assert_eq!(error_of(res, 404).await, "not_found");
    let list: Value = call(&app, reqwest::Method::GET, "", None).await.json().await.unwrap();
    assert_eq!(list["total"], 0, "nothing invalid was stored");
    // Past what the database driver binds (it used to panic the worker).
    let res = call(&app, reqwest::Method::GET, "?offset=9223372036854775808", None).await;
    assert_eq!(res.status(), 200);
    assert!(res.json::<Value>().await.unwrap()["clients"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn the_audit_log_is_listed_filtered_and_paged() {
    let app = admin_app().await;
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut ids = Vec::new();
    for name in ["one", "two", "three"] {
        let res = call(&app, reqwest::Method::POST, "", Some(json!({"client_name": name}))).await;
        ids.push(res.json::<Value>().await.unwrap()["client_id"].as_str().unwrap().to_owned());
    }
    let get = |query: String| {
        let app = &app;
        async move {
            app.client.get(app.url(&format!("/admin/api/v1/audit?{query}"))).bearer_auth(TOKEN).send().await.unwrap()
        }
    };
    // The audit log writes in batches: wait for all three.
    let filter = format!("action=client.created&actor=admin_api&since={}", urlencode(&since));
    let started = std::time::Instant::now();
    loop {
        let page: Value = get(format!("{filter}&page_size=10")).await.json().await.unwrap();
        if page["events"].as_array().unwrap().len() == 3 {
            break;
        }
        assert!(started.elapsed().as_secs() < 10, "events missing: {page}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let first: Value = get(format!("{filter}&page_size=2")).await.json().await.unwrap();
    let events = first["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["target"], ids[0].as_str(), "oldest first");
    assert_eq!(events[0]["actor"], "admin_api");
    assert!(events[0]["hash"].as_str().unwrap().len() == 64);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = get(format!("{filter}&page_size=2&cursor={cursor}")).await.json().await.unwrap();
    assert_eq!(second["events"].as_array().unwrap().len(), 1);
    assert_eq!(second["events"][0]["target"], ids[2].as_str());
    assert!(second["next_cursor"].is_null(), "a short page is the last");
    // About one client only; and nothing before the first write.
    let about: Value = get(format!("{filter}&target={}", ids[1])).await.json().await.unwrap();
    let targets: Vec<&str> =
        about["events"].as_array().unwrap().iter().map(|e| e["target"].as_str().unwrap()).collect();
    assert_eq!(targets, [ids[1].as_str()]);
    let before: Value = get(format!("{filter}&until={}", urlencode(&since))).await.json().await.unwrap();
    assert!(before["events"].as_array().unwrap().is_empty(), "{before}");

    for bad in ["since=yesterday", "until=soon", "page_size=0", "page_size=501", "cursor=-4", "cursor=x", "colour=blue"]
    {
        assert_eq!(error_of(get(bad.to_owned()).await, 400).await, "invalid_request", "{bad}");
    }
    let res = app.client.get(app.url("/admin/api/v1/audit")).send().await.unwrap();
    assert_eq!(res.status(), 401);
}

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}

/// Errors are RFC 9457 problem documents (`application/problem+json`),
/// keeping `error` and `error_description` for earlier clients.
#[actix_web::test]
async fn admin_api_errors_are_problem_documents() {
    let app = admin_app().await;
    let cases = [
        (app.client.get(url(&app, "")).send().await.unwrap(), 401, "invalid_token"),
        (call(&app, reqwest::Method::GET, "/no-such-client", None).await, 404, "not_found"),
        (
            call(&app, reqwest::Method::POST, "", Some(json!({"client_name": "x", "bogus": 1}))).await,
            400,
            "invalid_request",
        ),
    ];
    for (res, status, code) in cases {
        assert_eq!(res.status(), status, "{code}");
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{code}");
        let path = res.url().path().to_owned();
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["status"], status, "{p}");
        assert_eq!(p["type"], format!("urn:gatehouse:problem:{code}"), "{p}");
        assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
        assert!(p["detail"].as_str().is_some_and(|d| !d.is_empty()), "{p}");
        assert_eq!(p["instance"], path, "{p}");
        assert_eq!(p["error"], code, "{p}");
        assert_eq!(p["error_description"], p["detail"], "{p}");
    }
}
