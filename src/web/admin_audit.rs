//! `GET /admin/api/v1/audit`: the audit log for administrators, filtered
//! and paged by an opaque cursor (oldest first), behind the admin token.

use super::AppState;
use super::admin::{AdminError, authorize};
use crate::store::audit::{self, AuditQuery};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

const DEFAULT_PAGE: u64 = 100;
const MAX_PAGE: u64 = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// RFC 3339; events at or after it.
    since: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    page_size: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let p = web::Query::<Params>::from_query(req.query_string())
            .map_err(|e| AdminError::BadRequest(format!("bad query: {e}")))?
            .into_inner();
        let since = p
            .since
            .map(|s| chrono::DateTime::parse_from_rfc3339(&s).map(|t| t.to_utc()))
            .transpose()
            .map_err(|_| AdminError::BadRequest("since must be an RFC 3339 date-time".into()))?;
        let after_id = match p.cursor.as_deref() {
            None => 0,
            Some(c) => c
                .parse::<i64>()
                .ok()
                .filter(|id| *id >= 0)
                .ok_or_else(|| AdminError::BadRequest("invalid cursor".into()))?,
        };
        let page_size = p.page_size.unwrap_or(DEFAULT_PAGE);
        if page_size == 0 || page_size > MAX_PAGE {
            return Err(AdminError::BadRequest(format!("page_size must be 1 to {MAX_PAGE}")));
        }
        let q = AuditQuery { since, actor: p.actor, action: p.action, after_id, limit: page_size };
        let events = audit::page(&state.db, &q).await.map_err(|e| {
            tracing::error!(error = %e, "admin API: audit query failed");
            AdminError::Internal
        })?;
        // A full page may have more after it; a short one is the end.
        let next_cursor = (events.len() as u64 == page_size).then(|| events.last().map(|e| e.id.to_string())).flatten();
        let items: Vec<_> = events
            .iter()
            .map(|e| {
                json!({
                    "id": e.id, "occurred_at": e.occurred_at.to_rfc3339(), "actor": e.actor, "action": e.action,
                    "target": e.target, "outcome": e.outcome, "reason": e.reason, "request_id": e.request_id,
                    "ip": e.ip, "user_agent": e.user_agent, "hash": e.hash,
                })
            })
            .collect();
        Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "events": items, "page_size": page_size, "next_cursor": next_cursor })))
    }
    .await;
    result.unwrap_or_else(|e| e.response(&req))
}
