//! Group writes naming member ids that are no SCIM user (an id Entra ID
//! still remembers, a deleted user, a local account): skipped, audited and
//! counted by default, or the whole request refused with `reject`.

use crate::scim::{Scim, seed};
use reqwest::Method;
use serde_json::{Value, json};

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|a| a.iter().map(|m| m["value"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

/// The skipped-member audit events, once the batching actor wrote them.
async fn skipped_events(s: &Scim) -> Vec<(String, String)> {
    s.app.audit_written().await;
    let events = gatehouse::store::audit::recent(&s.app.db, 500).await.unwrap();
    events
        .into_iter()
        .filter(|e| e.action == "scim.group.members_skipped")
        .map(|e| (e.target.unwrap_or_default(), e.reason.unwrap_or_default()))
        .collect()
}

async fn skipped_metric(s: &Scim) -> u64 {
    let text = s.app.get("/metrics").await.text().await.unwrap();
    let line = text.lines().find(|l| l.starts_with("gatehouse_scim_unknown_members_skipped_total ")).unwrap();
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[actix_web::test]
async fn unknown_members_are_skipped_audited_and_counted_by_default() {
    let s = Scim::start().await;
    let ids = seed(&s).await;
    let local = crate::oidc_flow::person(&s.app, "localadmin", "local@example.com").await;
    let gone = "0b6c1f0e-5d1c-4c59-9a51-6c6f0a3e2d11";
    let body = json!({
        "schemas": [GROUP],
        "displayName": "Engineering",
        "members": [{"value": ids[0]}, {"value": gone}, {"value": local}],
    });
    let g = s.ok(Method::POST, "/Groups", Some(body), 201).await;
    assert_eq!(member_ids(&g), [ids[0].clone()], "only the SCIM user is a member");
    let gid = g["id"].as_str().unwrap().to_owned();
    let gp = format!("/Groups/{gid}");

    // Entra ID's batch: one known id and one it still remembers.
    let add = json!([{"op": "add", "path": "members", "value": [{"value": ids[1]}, {"value": "nope"}]}]);
    let res = s.patch(&gp, add).await;
    assert_eq!(res.status(), 200, "the batch is not refused");
    let v: Value = res.json().await.unwrap();
    let mut want = vec![ids[0].clone(), ids[1].clone()];
    want.sort();
    assert_eq!(member_ids(&v), want);

    let put =
        json!({"schemas": [GROUP], "displayName": "Engineering", "members": [{"value": ids[2]}, {"value": "nope"}]});
    assert_eq!(member_ids(&s.ok(Method::PUT, &gp, Some(put), 200).await), [ids[2].clone()]);

    let events = skipped_events(&s).await;
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(events.iter().all(|(target, _)| *target == gid));
    assert!(
        events.iter().any(|(_, r)| r.contains(gone) && r.contains(&local) && r.starts_with("2 unknown")),
        "{events:?}"
    );
    assert!(events.iter().any(|(_, r)| r == "1 unknown: nope"), "{events:?}");
    assert_eq!(skipped_metric(&s).await, 4);
}

#[actix_web::test]
async fn with_reject_an_unknown_member_refuses_the_whole_request() {
    let s = Scim::start_with(&[("GATEHOUSE_SCIM_UNKNOWN_MEMBERS", "reject")]).await;
    let ids = seed(&s).await;
    let bad = json!({"schemas": [GROUP], "displayName": "x", "members": [{"value": ids[0]}, {"value": "nope"}]});
    assert_eq!(s.err(Method::POST, "/Groups", Some(bad), 400).await, "invalidValue");
    let g = s.ok(Method::POST, "/Groups", Some(json!({"schemas": [GROUP], "displayName": "Eng"})), 201).await;
    let gp = format!("/Groups/{}", g["id"].as_str().unwrap());
    let add = json!([{"op": "add", "path": "members", "value": [{"value": ids[1]}, {"value": "nope"}]}]);
    let res = s.patch(&gp, add).await;
    assert_eq!(res.status(), 400);
    let now = s.ok(Method::GET, &gp, None, 200).await;
    assert!(member_ids(&now).is_empty(), "nothing of the refused batch was written");
    assert_eq!(now["meta"]["version"], "W/\"1\"");
    assert!(skipped_events(&s).await.is_empty());
    assert_eq!(skipped_metric(&s).await, 0);
}
