//! `kill -9` of the real binary under SCIM write load: every create the
//! server acknowledged (201) has its user and its audit event afterwards,
//! and the hash chain still verifies. Before the group commit, the events
//! of the last 50–130 ms were lost while the chain verified regardless.

use crate::binary::{json_env, json_out, run_async, serve};
use crate::helpers::TestDatabase;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[actix_web::test]
async fn a_kill_9_loses_no_audit_event_of_an_acknowledged_change() {
    let db = TestDatabase::create().await;
    let env = json_env(&db, &[("GATEHOUSE_LOG_LEVEL", "warn,gatehouse::cli=info")]);
    let served = serve(&env);
    let conn = gatehouse::store::connect(&db.url, 2).await.unwrap();
    let token = crate::scim::store_token(&db, &conn, "entra").await;
    let url = format!("http://{}/scim/v2/Users", served.addr);
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let (url, token, acked) = (url.clone(), token.clone(), acked.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                for i in 0.. {
                    let body = serde_json::json!({
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "userName": format!("crash-{w}-{i}"),
                    });
                    let sent = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "application/scim+json")
                        .body(body.to_string())
                        .send()
                        .await;
                    let Ok(res) = sent else { break };
                    if res.status() != 201 {
                        break;
                    }
                    let Ok(v) = res.json::<serde_json::Value>().await else { break };
                    acked.lock().unwrap().push(v["id"].as_str().unwrap_or_default().to_owned());
                }
            })
        })
        .collect();
    // Let the load run, then kill mid-flight.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < 150 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    served.kill();
    for w in writers {
        let _ = w.await;
    }
    let (status, lines, _) = served.wait();
    assert!(!status.success(), "killed: {lines:?}");
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 150, "only {} creates before the kill", acked.len());

    use entity::audit_events::{Column, Entity as AuditEvents};
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
    let audited: HashSet<String> = AuditEvents::find()
        .filter(Column::Action.eq("scim.user.created"))
        .all(&conn)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.target)
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|id| !audited.contains(*id)).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged creates lost their audit event", lost.len(), acked.len());
    let users = gatehouse::store::users::count(&conn).await.unwrap();
    assert!(users >= acked.len() as u64, "every acknowledged user is stored");
    conn.close().await.unwrap();

    let out = json_out(&run_async(&crate::helpers::base_env(&db), &["audit", "verify", "--json"], None).await);
    assert_eq!(out["status"], "intact", "{out}");
}
