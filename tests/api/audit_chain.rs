//! The tamper-evident audit log: concurrent writers keep one chain, and
//! `audit verify` finds edited and deleted rows.

use crate::binary::{json_out, run_async};
use crate::helpers::{TestApp, base_env, spawn_app};
use gatehouse::audit::AuditEvent;
use gatehouse::store::audit::{self, ChainReport};
use sea_orm::ConnectionTrait as _;

async fn settle(app: &TestApp) {
    // The server's own AuditLog writes in the background (bootstrap events).
    app.audit_written().await;
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
    let out = json_out(&run_async(&env, &["audit", "verify", "--json"], None).await);
    assert_eq!(out["status"], "intact");
    let tail = json_out(&run_async(&env, &["audit", "tail", "--limit", "5", "--json"], None).await);
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
    let out = run_async(&base_env(&app.database), &["audit", "verify"], None).await;
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

#[actix_web::test]
async fn retention_purges_behind_a_checkpoint_and_the_rest_still_verifies() {
    let app = spawn_app().await;
    settle(&app).await;
    let now = chrono::Utc::now();
    let old = now - chrono::Duration::days(400);
    let events = (0..4)
        .map(|i| AuditEvent::new(old + chrono::Duration::seconds(i), "cli", "test.old", Some(format!("o{i}"))))
        .collect();
    audit::append(&app.db, events).await.unwrap();
    let events = (0..3).map(|i| AuditEvent::new(now, "cli", "test.new", Some(format!("n{i}")))).collect();
    audit::append(&app.db, events).await.unwrap();
    // The bootstrap events are recent and come first in id order; only a
    // prefix of the chain older than the cutoff can go, so nothing does.
    let purged = audit::purge_before(&app.db, now - chrono::Duration::days(365), now).await.unwrap();
    assert_eq!(purged, 0);
    // Purge everything older than a minute from now: all but the newest row.
    let purged = audit::purge_before(&app.db, now + chrono::Duration::minutes(1), now).await.unwrap();
    assert!(purged >= 6, "{purged}");
    let left = audit::recent(&app.db, 100).await.unwrap();
    assert_eq!(left.len(), 1, "the newest event stays: the next one chains to it");
    match audit::verify_chain(&app.db).await.unwrap() {
        ChainReport::Intact { rows: 1, .. } => {}
        other => panic!("{other:?}"),
    }
    // New events chain on; tampering after a checkpoint is still found.
    audit::append(&app.db, vec![AuditEvent::new(now, "cli", "test.after", None)]).await.unwrap();
    assert!(matches!(audit::verify_chain(&app.db).await.unwrap(), ChainReport::Intact { rows: 2, .. }));
    app.db
        .execute_unprepared(&format!("UPDATE audit_events SET actor = 'mallory' WHERE id = {}", left[0].id))
        .await
        .unwrap();
    assert!(matches!(audit::verify_chain(&app.db).await.unwrap(), ChainReport::Broken { .. }));
}

#[actix_web::test]
async fn deleting_old_events_without_a_checkpoint_is_found() {
    let (app, ids) = chained_app().await;
    app.db.execute_unprepared(&format!("DELETE FROM audit_events WHERE id <= {}", ids[1])).await.unwrap();
    assert_eq!(
        audit::verify_chain(&app.db).await.unwrap(),
        ChainReport::Broken { id: ids[2], reason: "does not link to the previous row" }
    );
}

#[actix_web::test]
async fn addresses_are_masked_and_unknown_login_names_never_stored() {
    let app = crate::helpers::spawn_app_with(&[
        ("GATEHOUSE_AUDIT_MASK_IPS", "true"),
        ("GATEHOUSE_AUDIT_MASK_EMAILS", "true"),
        ("GATEHOUSE_TRUSTED_PROXIES", "127.0.0.1/32, ::1"),
    ])
    .await;
    let b = crate::oidc_flow::browser();
    let page = b.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    b.post(app.url("/login"))
        .header("x-forwarded-for", "203.0.113.77")
        .form(&[
            ("csrf", crate::oidc_flow::field(&page, "csrf").as_str()),
            ("request", ""),
            ("username", "someone.secret@example.org"),
            ("password", "whatever it is 123"),
        ])
        .send()
        .await
        .unwrap();
    settle(&app).await;
    let ev = audit::recent(&app.db, 10).await.unwrap().into_iter().find(|e| e.action == "login.failed").unwrap();
    assert_eq!(ev.ip.as_deref(), Some("203.0.113.0"));
    // An unknown login name is never stored as typed (it may be a password
    // typed into the wrong box): a keyed hash links repeated attempts.
    let target = ev.target.unwrap();
    assert!(target.starts_with("unknown:") && !target.contains("someone"), "{target}");
    assert!(matches!(audit::verify_chain(&app.db).await.unwrap(), ChainReport::Intact { .. }), "masked before hashing");
}
