//! The admin API's groups (sizes, members a page at a time, the admin mark
//! under If-Match, raced) and SCIM tokens (shown once, usable at once,
//! revoked at once), each change audited.

use crate::helpers::{TestApp, spawn_app_with};
use crate::scim::{Scim, USER};
use reqwest::Method;
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-0123456789abcdef0123456789";

async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(ADMIN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

async fn json_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn events(app: &TestApp, action: &str, target: &str) -> usize {
    let path = format!("/admin/api/v1/audit?actor=admin_api&action={action}&target={target}");
    let (status, v) = json_of(call(app, Method::GET, &path, None).await).await;
    assert_eq!(status, 200, "{v}");
    v["events"].as_array().unwrap().len()
}

async fn scim_status(app: &TestApp, token: &str) -> u16 {
    app.client.get(app.url("/scim/v2/Users")).bearer_auth(token).send().await.unwrap().status().as_u16()
}

#[actix_web::test]
async fn scim_tokens_are_shown_once_work_at_once_and_die_at_once() {
    let app = spawn_app_with(&[("GATEHOUSE_ADMIN_TOKEN", ADMIN)]).await;
    let res = call(&app, Method::POST, "/admin/api/v1/scim-tokens", Some(json!({"name": "  entra  "}))).await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    let (status, issued) = json_of(res).await;
    assert_eq!(status, 201, "{issued}");
    assert_eq!(issued["name"], "entra", "trimmed");
    assert_eq!(issued["active"], true);
    let token = issued["token"].as_str().unwrap().to_owned();
    let id = issued["id"].as_str().unwrap().to_owned();
    assert!(token.starts_with("gh_scim_") && token.len() > 40, "{token}");
    assert_eq!(scim_status(&app, &token).await, 200, "usable at once");

    // Listed without its value.
    let (status, list) = json_of(call(&app, Method::GET, "/admin/api/v1/scim-tokens", None).await).await;
    assert_eq!(status, 200);
    assert!(!list.to_string().contains(&token), "{list}");
    let row = &list["tokens"][0];
    assert_eq!((row["id"].as_str(), row["active"].as_bool()), (Some(id.as_str()), Some(true)), "{list}");
    assert!(row["last_used_at"].is_string(), "the use was recorded: {list}");
    assert!(row.get("token").is_none() && row.get("token_hash").is_none());

    // Names: unique, 1 to 128 printable characters; nothing else accepted.
    let taken = call(&app, Method::POST, "/admin/api/v1/scim-tokens", Some(json!({"name": "entra"}))).await;
    assert_eq!(taken.status(), 409);
    for bad in
        [json!({"name": ""}), json!({"name": "   "}), json!({"name": "a\u{7}b"}), json!({"name": "x".repeat(129)})]
    {
        let (status, v) = json_of(call(&app, Method::POST, "/admin/api/v1/scim-tokens", Some(bad.clone())).await).await;
        assert_eq!(status, 400, "{bad}: {v}");
        assert_eq!(v["error"], "invalid_request");
    }
    let extra = json!({"name": "okta", "token": "gh_scim_chosen"});
    assert_eq!(call(&app, Method::POST, "/admin/api/v1/scim-tokens", Some(extra)).await.status(), 400);
    let ok = call(&app, Method::POST, "/admin/api/v1/scim-tokens", Some(json!({"name": "x".repeat(128)}))).await;
    assert_eq!(ok.status(), 201);
    let anonymous = app.client.post(app.url("/admin/api/v1/scim-tokens")).json(&json!({"name": "y"})).send().await;
    assert_eq!(anonymous.unwrap().status(), 401);

    // Revoked by id (or name): the next request with it fails.
    let path = format!("/admin/api/v1/scim-tokens/{id}");
    assert_eq!(call(&app, Method::DELETE, &path, None).await.status(), 204);
    assert_eq!(scim_status(&app, &token).await, 401);
    assert_eq!(call(&app, Method::DELETE, "/admin/api/v1/scim-tokens/entra", None).await.status(), 204, "idempotent");
    assert_eq!(call(&app, Method::DELETE, "/admin/api/v1/scim-tokens/nope", None).await.status(), 404);
    let (_, list) = json_of(call(&app, Method::GET, "/admin/api/v1/scim-tokens", None).await).await;
    assert_eq!(list["tokens"][0]["active"], false);
    assert!(list["tokens"][0]["revoked_at"].is_string());
    assert_eq!(list["tokens"].as_array().unwrap().len(), 2);

    assert_eq!(events(&app, "scim_token.created", "entra").await, 1);
    assert_eq!(events(&app, "scim_token.revoked", "entra").await, 1, "the second revocation changed nothing");
}

/// A SCIM group of `n` new users; returns (group id, member ids).
async fn scim_group(s: &Scim, name: &str, n: usize) -> (String, Vec<String>) {
    let mut ids = Vec::new();
    for i in 0..n {
        let u = s.create_user(json!({"schemas": [USER], "userName": format!("{name}-{i}")})).await;
        ids.push(u["id"].as_str().unwrap().to_owned());
    }
    let members: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    let body =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members});
    let g = s.ok(Method::POST, "/Groups", Some(body), 201).await;
    ids.sort();
    (g["id"].as_str().unwrap().to_owned(), ids)
}

#[actix_web::test]
async fn groups_show_their_members_a_page_at_a_time_and_take_the_admin_mark_under_if_match() {
    let s = Scim::start_with(&[("GATEHOUSE_ADMIN_TOKEN", ADMIN)]).await;
    let app = &s.app;
    let (gid, ids) = scim_group(&s, "ops", 5).await;
    scim_group(&s, "empty", 0).await;

    let (status, list) = json_of(call(app, Method::GET, "/admin/api/v1/groups", None).await).await;
    assert_eq!(status, 200, "{list}");
    let shown: Vec<(String, u64)> = list["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["display_name"].as_str().unwrap().to_owned(), g["members"].as_u64().unwrap()))
        .collect();
    assert_eq!(shown, [("empty".to_owned(), 0), ("ops".to_owned(), 5)]);
    assert_eq!(list["groups"][1]["scim_managed"], true);
    assert_eq!(list["groups"][1]["grants_admin"], false);

    // Members two at a time, in id order, each once.
    let base = format!("/admin/api/v1/groups/{gid}");
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let q = match &after {
            Some(a) => format!("{base}?limit=2&after={a}"),
            None => format!("{base}?limit=2"),
        };
        let (status, page) = json_of(call(app, Method::GET, &q, None).await).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["members"], 5);
        let members = page["member_page"].as_array().unwrap();
        assert!(members.len() <= 2);
        seen.extend(members.iter().map(|m| m["user_id"].as_str().unwrap().to_owned()));
        assert!(members.iter().all(|m| m["username"].as_str().unwrap().starts_with("ops-")));
        match page["next_after"].as_str() {
            Some(a) => after = Some(a.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    for bad in ["limit=0", "limit=1001", "limit=x", "colour=red"] {
        let (status, v) = json_of(call(app, Method::GET, &format!("{base}?{bad}"), None).await).await;
        assert_eq!(status, 400, "{bad}: {v}");
    }
    assert_eq!(call(app, Method::GET, "/admin/api/v1/groups/nope", None).await.status(), 404);

    // The admin mark: conditional on the version read.
    let res = call(app, Method::GET, &base, None).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let grant = json!({"grants_admin": true});
    let stale = app.client.patch(app.url(&base)).bearer_auth(ADMIN).header("if-match", "\"v999\"").json(&grant);
    assert_eq!(stale.send().await.unwrap().status(), 412);
    let res = app.client.patch(app.url(&base)).bearer_auth(ADMIN).header("if-match", &etag).json(&grant).send().await;
    let res = res.unwrap();
    let new_etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let (status, v) = json_of(res).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["grants_admin"], true);
    assert_ne!(new_etag, etag);
    // SCIM may no longer change it.
    let (_, member) = json_of(call(app, Method::GET, &format!("/admin/api/v1/users/{}", ids[0]), None).await).await;
    assert_eq!(member["groups"][0]["display_name"], "ops", "{member}");
    assert_eq!(s.err(Method::DELETE, &format!("/Groups/{gid}"), None, 403).await, "");
    // Asking again changes nothing: same version, no second event.
    let (status, v) = json_of(call(app, Method::PATCH, &base, Some(grant)).await).await;
    assert_eq!((status, format!("\"v{}\"", v["version"])), (200, new_etag));
    assert_eq!(events(app, "group.admin_granted", &gid).await, 1);
    let (status, v) = json_of(call(app, Method::PATCH, &base, Some(json!({"grants_admin": false}))).await).await;
    assert_eq!((status, &v["grants_admin"]), (200, &json!(false)));
    assert_eq!(events(app, "group.admin_revoked", &gid).await, 1);
    for bad in [json!({}), json!({"grants_admin": "yes"}), json!({"grants_admin": true, "displayName": "x"})] {
        assert_eq!(call(app, Method::PATCH, &base, Some(bad.clone())).await.status(), 400, "{bad}");
    }
    assert_eq!(
        call(app, Method::PATCH, "/admin/api/v1/groups/nope", Some(json!({"grants_admin": true}))).await.status(),
        404
    );
}

/// Many admins flip the same group from the same version at once: exactly
/// one wins, the rest are told the group changed, and the audit log holds
/// one event per change that happened.
#[actix_web::test]
async fn parallel_if_match_writes_to_a_group_let_exactly_one_through() {
    let s = Scim::start_with(&[("GATEHOUSE_ADMIN_TOKEN", ADMIN)]).await;
    let app = &s.app;
    let (gid, _) = scim_group(&s, "race", 1).await;
    let base = format!("/admin/api/v1/groups/{gid}");
    for trial in 0..12 {
        let res = call(app, Method::GET, &base, None).await;
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        let (_, now) = json_of(res).await;
        let want = !now["grants_admin"].as_bool().unwrap();
        let sends = (0..6).map(|_| {
            app.client
                .patch(app.url(&base))
                .bearer_auth(ADMIN)
                .header("if-match", &etag)
                .json(&json!({"grants_admin": want}))
                .send()
        });
        let statuses: Vec<u16> =
            futures_util::future::join_all(sends).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "trial {trial}: {statuses:?}");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 412), "trial {trial}: {statuses:?}");
    }
    assert_eq!(events(app, "group.admin_granted", &gid).await, 6);
    assert_eq!(events(app, "group.admin_revoked", &gid).await, 6);
}
