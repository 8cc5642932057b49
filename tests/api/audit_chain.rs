//! The tamper-evident audit log: concurrent writers keep one chain, and
//! `audit verify` finds edited and deleted rows.

use crate::binary::{json_out, run};
use crate::helpers::{TestApp, base_env, spawn_app};
use gatehouse::store::audit::{self, AuditEvent, ChainReport};
use sea_orm::ConnectionTrait as _;

async fn settle(app: &TestApp) {
    // The server's own AuditLog writes in the background (bootstrap events).
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let _ = app;
}

#[actix_web::test]
async fn concurrent_writers_build_one_verifiable_chain() {
    let app = spawn_app().await;
    settle(&app).await;
    let before = match audit::verify_chain(&app.db).await.unwrap() {
        ChainReport::Intact { rows, .. } => rows,
        broken => panic!("{broken:?}"),
    };
    let mut tasks = Vec::new();
    for t in 0..8 {
        let db = app.db.clone();
        tasks.push(actix_rt::spawn(async move {
            for b in 0..4 {
                let events = (0..3)
                    .map(|i| {
                        let mut e = AuditEvent::new(chrono::Utc::now(), format!("writer-{t}"), "test.event", None);
                        e.reason = Some(format!("batch {b} event {i} \"quoted\" ünïcode"));
                        e
                    })
                    .collect();
                audit::append(&db, events).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let report = audit::verify_chain(&app.db).await.unwrap();
    let ChainReport::Intact { rows, unchained, head } = report else { panic!("{report:?}") };
    assert_eq!(rows, before + 8 * 4 * 3);
    assert_eq!(unchained, 0);
    assert_eq!(head.unwrap().len(), 64);

    let env = base_env(&app.database);
    let out = json_out(&run(&env, &["audit", "verify", "--json"], None));
    assert_eq!(out["status"], "intact");
    let tail = json_out(&run(&env, &["audit", "tail", "--limit", "5", "--json"], None));
    let events = tail["events"].as_array().unwrap();
    assert_eq!(events.len(), 5);
    assert!(events.windows(2).all(|w| w[0]["id"].as_i64() < w[1]["id"].as_i64()), "oldest first");
}

async fn chained_app() -> (TestApp, Vec<i64>) {
    let app = spawn_app().await;
    settle(&app).await;
    let events =
        (0..5).map(|i| AuditEvent::new(chrono::Utc::now(), "cli", "test.event", Some(format!("t{i}")))).collect();
    audit::append(&app.db, events).await.unwrap();
    let ids: Vec<i64> = audit::recent(&app.db, 5).await.unwrap().iter().rev().map(|e| e.id).collect();
    (app, ids)
}

#[actix_web::test]
async fn an_edited_row_is_found() {
    let (app, ids) = chained_app().await;
    app.db
        .execute_unprepared(&format!("UPDATE audit_events SET actor = 'mallory' WHERE id = {}", ids[2]))
        .await
        .unwrap();
    assert_eq!(
        audit::verify_chain(&app.db).await.unwrap(),
        ChainReport::Broken { id: ids[2], reason: "content does not match its hash" }
    );
    let out = run(&base_env(&app.database), &["audit", "verify"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("broken at event {}", ids[2])));
}

#[actix_web::test]
async fn a_deleted_or_rehashed_row_is_found() {
    let (app, ids) = chained_app().await;
    app.db.execute_unprepared(&format!("DELETE FROM audit_events WHERE id = {}", ids[1])).await.unwrap();
    assert_eq!(
        audit::verify_chain(&app.db).await.unwrap(),
        ChainReport::Broken { id: ids[2], reason: "does not link to the previous row" }
    );

    // Recomputing one row's hash to cover an edit still breaks the next link.
    let (app, ids) = chained_app().await;
    app.db
        .execute_unprepared(&format!("UPDATE audit_events SET hash = '{}' WHERE id = {}", "ab".repeat(32), ids[3]))
        .await
        .unwrap();
    let report = audit::verify_chain(&app.db).await.unwrap();
    assert_eq!(report, ChainReport::Broken { id: ids[3], reason: "content does not match its hash" });
}
