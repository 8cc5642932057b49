//! `refresh_reuse_grace_secs`: a refresh whose response was lost may be
//! retried with the token it spent, within the window and while the
//! successor is unused; never two live tokens, and every other reuse still
//! revokes the family. Parallel retries race on SQLite and PostgreSQL.

use crate::helpers::spawn_app_at_issuer;
use crate::oidc_flow::browser;
use crate::token_lifecycle::{Rp, code_for, confidential, introspect, redeem, refresh};
use futures_util::future::join_all;
use serde_json::Value;

fn refresh_token(v: &Value) -> String {
    v["refresh_token"].as_str().unwrap_or_else(|| panic!("no refresh_token in {v}")).to_owned()
}

async fn live(app: &crate::helpers::TestApp, rp: &Rp, token: &str) -> bool {
    introspect(app, rp, token).await["active"] == true
}

#[actix_web::test]
async fn without_a_grace_a_lost_response_still_revokes_the_family() {
    let app = spawn_app_at_issuer(&[]).await;
    crate::oidc_flow::person(&app, "alice", "alice@example.com").await;
    let rp = confidential(&app).await;
    let (_, first) = redeem(&app, &rp, &code_for(&app, &rp, &browser()).await).await;
    let r0 = refresh_token(&first);
    let (status, lost) = refresh(&app, &rp, &r0).await;
    assert_eq!(status, 200);
    let (status, again) = refresh(&app, &rp, &r0).await;
    assert_eq!((status, again["error"].as_str()), (400, Some("invalid_grant")));
    assert!(!live(&app, &rp, &refresh_token(&lost)).await, "strict by default: the family is revoked");
}

#[actix_web::test]
async fn within_the_grace_a_retry_replaces_the_unused_successor() {
    let app = spawn_app_at_issuer(&[("GATEHOUSE_REFRESH_REUSE_GRACE_SECS", "2")]).await;
    crate::oidc_flow::person(&app, "alice", "alice@example.com").await;
    let rp = confidential(&app).await;
    let b = browser();

    // The response carrying r1 is lost; the client retries with r0.
    let (_, first) = redeem(&app, &rp, &code_for(&app, &rp, &b).await).await;
    let r0 = refresh_token(&first);
    let r1 = refresh_token(&refresh(&app, &rp, &r0).await.1);
    let (status, retried) = refresh(&app, &rp, &r0).await;
    assert_eq!(status, 200, "{retried}");
    let r1b = refresh_token(&retried);
    assert!(live(&app, &rp, &r1b).await);
    assert!(!live(&app, &rp, &r1).await, "the unused successor died: never two live tokens");
    let audit: Vec<String> = {
        app.audit_written().await;
        gatehouse::store::audit::recent(&app.db, 200).await.unwrap().into_iter().map(|e| e.action).collect()
    };
    assert!(audit.iter().any(|a| a == "oauth.refresh_reuse_granted"), "{audit:?}");

    // Once the successor is used, the old token is a replay again.
    let r2 = refresh_token(&refresh(&app, &rp, &r1b).await.1);
    let (status, body) = refresh(&app, &rp, &r0).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    assert!(!live(&app, &rp, &r2).await, "and the family is revoked");

    // After the window, a retry is a replay.
    let (_, first) = redeem(&app, &rp, &code_for(&app, &rp, &b).await).await;
    let s0 = refresh_token(&first);
    let s1 = refresh_token(&refresh(&app, &rp, &s0).await.1);
    tokio::time::sleep(std::time::Duration::from_millis(2_300)).await;
    let (status, _) = refresh(&app, &rp, &s0).await;
    assert_eq!(status, 400);
    assert!(!live(&app, &rp, &s1).await, "outside the grace the family is revoked");

    // A killed successor presented later is a replay too.
    let (_, first) = redeem(&app, &rp, &code_for(&app, &rp, &b).await).await;
    let t0 = refresh_token(&first);
    let t1 = refresh_token(&refresh(&app, &rp, &t0).await.1);
    let t1b = refresh_token(&refresh(&app, &rp, &t0).await.1);
    assert_eq!(refresh(&app, &rp, &t1).await.0, 400);
    assert!(!live(&app, &rp, &t1b).await);
}

/// Parallel retries of the spent token: however they interleave, at most
/// one token of the family is live afterwards, and it is one of those
/// handed out.
#[actix_web::test]
async fn parallel_retries_within_the_grace_leave_one_live_token() {
    let app = spawn_app_at_issuer(&[("GATEHOUSE_REFRESH_REUSE_GRACE_SECS", "60")]).await;
    crate::oidc_flow::person(&app, "alice", "alice@example.com").await;
    let rp = confidential(&app).await;
    let b = browser();
    for trial in 0..10 {
        let (_, first) = redeem(&app, &rp, &code_for(&app, &rp, &b).await).await;
        let r0 = refresh_token(&first);
        let r1 = refresh_token(&refresh(&app, &rp, &r0).await.1);
        let results = join_all((0..8).map(|_| refresh(&app, &rp, &r0))).await;
        let mut issued: Vec<String> =
            results.iter().filter(|(s, _)| *s == 200).map(|(_, v)| refresh_token(v)).collect();
        issued.push(r1);
        let mut alive = 0;
        for t in &issued {
            alive += usize::from(live(&app, &rp, t).await);
        }
        assert!(alive <= 1, "trial {trial}: {alive} live tokens");
    }
}
