//! SCIM groups over real HTTP: members added and removed row by row
//! (Entra ID's way), membership filters, and parallel changes that must all
//! land.

use crate::scim::{Scim, enc, seed, user_names};
use reqwest::Method;
use serde_json::{Value, json};

#[actix_web::test]
async fn groups_and_memberships() {
    let s = Scim::start().await;
    let ids = seed(&s).await;
    let res = s
        .call(
            Method::POST,
            "/Groups",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Engineering",
                "externalId": "g-eng",
                "members": [{"value": ids[0]}, {"value": ids[2], "type": "User"}]
            })),
        )
        .await;
    assert_eq!(res.status(), 201);
    let g: Value = res.json().await.unwrap();
    let gid = g["id"].as_str().unwrap().to_owned();
    assert_eq!(g["members"].as_array().unwrap().len(), 2);
    assert!(g["members"].as_array().unwrap().iter().any(|m| m["value"] == json!(ids[0])));
    assert_eq!(g["meta"]["resourceType"], "Group");
    let gp = format!("/Groups/{gid}");

    let dup = json!({"displayName": "ENGINEERING"});
    assert_eq!(s.err(Method::POST, "/Groups", Some(dup), 409).await, "uniqueness");
    let nested = json!({"displayName": "y", "members": [{"value": gid.clone(), "type": "Group"}]});
    assert_eq!(s.err(Method::POST, "/Groups", Some(nested), 400).await, "invalidValue");

    // A user shows its groups (read-only).
    let alice = s.ok(Method::GET, &format!("/Users/{}", ids[0]), None, 200).await;
    assert_eq!(alice["groups"][0]["value"], json!(gid));
    assert_eq!(alice["groups"][0]["display"], "Engineering");
    let inlist = s.list(&format!("filter={}", enc(&format!("groups.value eq \"{gid}\"")))).await;
    assert_eq!(user_names(&inlist), ["alice", "carol"]);

    // Member changes one by one, Entra ID style; PATCH answers 200 with
    // the group, projected like a GET.
    let add = json!([{"op": "Add", "path": "members", "value": [{"value": ids[1]}, {"value": ids[3]}]}]);
    let res = s.patch(&gp, add).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "W/\"2\"");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["members"].as_array().unwrap().len(), 4);
    assert_eq!(v["meta"]["version"], "W/\"2\"");
    let remove = json!([{"op": "Remove", "path": "members", "value": [{"value": ids[0]}]}]);
    let res = s.patch(&format!("{gp}?attributes=displayName"), remove).await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["displayName"], "Engineering");
    assert!(v.get("members").is_none());
    let remove = json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[3])}]);
    let res = s.patch(&format!("{gp}?attributes=members"), remove).await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["members"].as_array().unwrap().len(), 2);
    let g = s.ok(Method::GET, &gp, None, 200).await;
    let mut members: Vec<String> =
        g["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap().to_owned()).collect();
    members.sort();
    let mut want = vec![ids[1].clone(), ids[2].clone()];
    want.sort();
    assert_eq!(members, want);
    assert_eq!(g["meta"]["version"], "W/\"4\"");

    // Entra ID checks membership with a filter.
    let q = format!("filter={}", enc(&format!("id eq \"{gid}\" and members.value eq \"{}\"", ids[1])));
    let hit = s.ok(Method::GET, &format!("/Groups?{q}&excludedAttributes=members"), None, 200).await;
    assert_eq!(hit["totalResults"], 1);
    assert!(hit["Resources"][0].get("members").is_none());
    let q = format!("filter={}", enc(&format!("id eq \"{gid}\" and members.value eq \"{}\"", ids[0])));
    assert_eq!(s.ok(Method::GET, &format!("/Groups?{q}"), None, 200).await["totalResults"], 0);
    let q = format!("filter={}", enc("displayName eq \"engineering\""));
    assert_eq!(s.ok(Method::GET, &format!("/Groups?{q}"), None, 200).await["totalResults"], 1);

    // Adding someone twice is harmless.
    assert_eq!(
        s.patch(&gp, json!([{"op": "add", "path": "members", "value": [{"value": ids[1]}]}])).await.status(),
        200
    );

    // Rename by path-less replace; members replaced wholesale by PUT.
    let res = s
        .patch(&format!("{gp}?excludedAttributes=members"), json!([{"op": "replace", "value": {"displayName": "Eng"}}]))
        .await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["displayName"], "Eng");
    assert!(v.get("members").is_none(), "excludedAttributes is honoured");
    let put = s.ok(Method::PUT, &gp, Some(json!({"displayName": "Eng", "members": [{"value": ids[3]}]})), 200).await;
    assert_eq!(put["members"].as_array().unwrap().len(), 1);
    assert_eq!(put["members"][0]["value"], json!(ids[3]));

    // Deleting a user drops its memberships; deleting the group, the group.
    assert_eq!(s.call(Method::DELETE, &format!("/Users/{}", ids[3]), None).await.status(), 204);
    let g = s.ok(Method::GET, &gp, None, 200).await;
    assert_eq!(g["members"], json!([]));
    assert_eq!(s.call(Method::DELETE, &gp, None).await.status(), 204);
    s.err(Method::GET, &gp, None, 404).await;
}

#[actix_web::test]
async fn concurrent_changes_are_all_kept() {
    let s = Scim::start().await;
    let ids = seed(&s).await;
    let gid = s.ok(Method::POST, "/Groups", Some(json!({"displayName": "Busy"})), 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let uid = ids[0].clone();
    // Provisioning clients send membership and attribute changes in parallel.
    let (group_path, user_path) = (format!("/Groups/{gid}"), format!("/Users/{uid}"));
    let member_adds =
        ids.iter().map(|id| s.patch(&group_path, json!([{"op": "add", "path": "members", "value": [{"value": id}]}])));
    let email_adds = (0..4).map(|i| {
        let add = json!([{"op": "add", "path": "emails", "value": [{"value": format!("extra{i}@example.com")}]}]);
        s.patch(&user_path, add)
    });
    let (a, b) = futures_util::future::join(
        futures_util::future::join_all(member_adds),
        futures_util::future::join_all(email_adds),
    )
    .await;
    assert!(a.iter().all(|r| r.status() == 200), "{:?}", a.iter().map(|r| r.status()).collect::<Vec<_>>());
    assert!(b.iter().all(|r| r.status() == 200), "{:?}", b.iter().map(|r| r.status()).collect::<Vec<_>>());
    let g = s.ok(Method::GET, &format!("/Groups/{gid}"), None, 200).await;
    assert_eq!(g["members"].as_array().unwrap().len(), ids.len());
    let u = s.ok(Method::GET, &format!("/Users/{uid}"), None, 200).await;
    assert_eq!(u["emails"].as_array().unwrap().len(), 5);
}
