//! Liveness and readiness for orchestrators and load balancers.

use super::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::json;
use std::time::Duration;

/// `GET /health/live`: the process is answering HTTP.
pub async fn get_live() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .json(json!({ "status": "ok" }))
}

/// `GET /health/ready`: the database answers within the configured timeout
/// and every actor serves its mailbox; otherwise 503 naming what failed.
/// With Redis configured its state is reported (fatal only under
/// `rate_limit_redis_policy = "fail_closed"`).
/// Details of a failure go to the log, not to the (public) response.
pub async fn get_ready(state: web::Data<AppState>) -> HttpResponse {
    let timeout = Duration::from_millis(state.settings.ready_timeout_ms);
    let (db, actors) = tokio::join!(tokio::time::timeout(timeout, state.db.ping()), state.actors.health(timeout));

    let mut checks = serde_json::Map::new();
    let db_ok = match db {
        Ok(Ok(())) => "ok",
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            "unreachable"
        }
        Err(_) => {
            tracing::warn!("readiness: database timed out");
            "timeout"
        }
    };
    state.db_health.observe(db_ok == "ok");
    checks.insert("database".into(), json!(db_ok));
    let mut ready = db_ok == "ok";
    for a in actors {
        ready &= a.alive;
        checks.insert(a.name.into(), json!(if a.alive { "ok" } else { "not_responding" }));
    }
    if let Some(up) = state.redis.as_ref().map(|r| !r.is_degraded()) {
        checks.insert("redis".into(), json!(if up { "ok" } else { "unavailable" }));
        // Only fatal when failed-authentication checks refuse without it.
        if !up && state.settings.rate_limit_redis_policy == crate::abuse::shared::RedisPolicy::FailClosed {
            ready = false;
        }
    }
    let mut res = if ready { HttpResponse::Ok() } else { HttpResponse::ServiceUnavailable() };
    res.insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .json(json!({ "status": if ready { "ready" } else { "unavailable" }, "checks": checks }))
}
