//! `GET /admin/api/v1/audit`: the audit log for administrators, filtered
//! and paged by an opaque cursor (oldest first), behind the admin token.

use super::AppState;
use super::admin_api::{AdminError, authorize};
use crate::store::audit::{self, AuditQuery};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct EventView {
    /// Its position in the chain.
    id: i64,
    #[schema(format = DateTime)]
    occurred_at: String,
    actor: String,
    action: String,
    target: Option<String>,
    outcome: String,
    reason: Option<String>,
    request_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    /// This event's link in the hash chain.
    hash: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct EventPage {
    events: Vec<EventView>,
    page_size: u64,
    /// Pass as `cursor` for the next page; null on a short (last) page.
    next_cursor: Option<String>,
}

const DEFAULT_PAGE: u64 = 100;
const MAX_PAGE: u64 = 500;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// RFC 3339; events at or after it.
    #[param(format = DateTime)]
    since: Option<String>,
    /// RFC 3339; events before it.
    #[param(format = DateTime)]
    until: Option<String>,
    /// Who acted: `admin_api`, `cli`, `scim:<token name>`, a user's id, …
    actor: Option<String>,
    /// Whom or what the event is about: a user's or a client's id, …
    target: Option<String>,
    action: Option<String>,
    /// 1 to 500; 100 by default.
    #[param(minimum = 1, maximum = 500)]
    page_size: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The audit log, oldest first.
#[utoipa::path(get, path = "/admin/api/v1/audit", tag = "audit", params(Params),
    responses((status = 200, body = EventPage), super::openapi::Errors))]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let p = web::Query::<Params>::from_query(req.query_string())
            .map_err(|e| AdminError::BadRequest(format!("bad query: {e}")))?
            .into_inner();
        let instant = |v: Option<String>, name: &str| {
            v.map(|s| chrono::DateTime::parse_from_rfc3339(&s).map(|t| t.to_utc()))
                .transpose()
                .map_err(|_| AdminError::BadRequest(format!("{name} must be an RFC 3339 date-time")))
        };
        let (since, until) = (instant(p.since, "since")?, instant(p.until, "until")?);
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
        let q =
            AuditQuery { since, until, actor: p.actor, target: p.target, action: p.action, after_id, limit: page_size };
        let events = audit::page(&state.db, &q).await.map_err(|e| {
            tracing::error!(error = %e, "admin API: audit query failed");
            AdminError::Internal
        })?;
        // A full page may have more after it; a short one is the end.
        let next_cursor = (events.len() as u64 == page_size).then(|| events.last().map(|e| e.id.to_string())).flatten();
        let events = events
            .into_iter()
            .map(|e| EventView {
                id: e.id,
                occurred_at: e.occurred_at.to_rfc3339(),
                actor: e.actor,
                action: e.action,
                target: e.target,
                outcome: e.outcome,
                reason: e.reason,
                request_id: e.request_id,
                ip: e.ip,
                user_agent: e.user_agent,
                hash: e.hash,
            })
            .collect();
        Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(EventPage {
            events,
            page_size,
            next_cursor,
        }))
    }
    .await;
    result.unwrap_or_else(|e| e.response(&req))
}
