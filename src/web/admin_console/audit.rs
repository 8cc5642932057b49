//! `/admin/audit`: the audit log for administrators — the newest events,
//! filtered by actor, target and action, the chain checked on request, and
//! a live tail over a WebSocket (`/admin/audit/live`). The tail polls the
//! store (so events written by every instance and the CLI arrive), sends at
//! most a batch a second into actix-ws's bounded channel (a slow reader
//! slows its own polling, nothing piles up), resumes after the last id the
//! page saw, and closes when the session or the administrator's rights end.

use super::{admin_of, bad_request};
use crate::accounts::audit_log::{self as audit, AuditQuery, ChainReport, StoredEvent};
use crate::web::AppState;
use crate::web::browser::{self, html};
use crate::web::extract::SignedIn;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use std::time::Duration;

/// Events the page shows; events one live message batch carries at most.
const SHOWN: u64 = 50;
const BATCH: u64 = 100;
/// How often the tail looks for new events, and rechecks who is watching.
const POLL: Duration = Duration::from_secs(1);
const RECHECK_EVERY: u32 = 15;
/// Live sockets one administrator may hold on this instance, and all of
/// them together: each is a poll of the store a second.
const PER_ADMIN: usize = 4;
const PER_INSTANCE: usize = 64;

static OPEN: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, usize>>> =
    std::sync::LazyLock::new(Default::default);

/// One of the live sockets this instance allows; given back on drop.
struct Slot(String);

impl Slot {
    fn take(user_id: &str) -> Option<Slot> {
        let mut open = OPEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mine = open.get(user_id).copied().unwrap_or(0);
        if mine >= PER_ADMIN || open.values().sum::<usize>() >= PER_INSTANCE {
            return None;
        }
        *open.entry(user_id.to_owned()).or_default() += 1;
        Some(Slot(user_id.to_owned()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = OPEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.0) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.0);
            }
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    action: String,
    /// The live tail's resume point: events after this id.
    #[serde(default)]
    after: i64,
    /// `1`: check the chain too.
    #[serde(default)]
    verify: String,
}

impl Filters {
    fn query(&self, limit: u64) -> AuditQuery {
        let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        AuditQuery {
            actor: some(&self.actor),
            target: some(&self.target),
            action: some(&self.action),
            after_id: self.after.max(0),
            limit,
            ..AuditQuery::default()
        }
    }
}

/// One event as the page and the live tail show it.
#[derive(serde::Serialize)]
struct Row {
    id: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    outcome: String,
    reason: String,
}

impl From<StoredEvent> for Row {
    fn from(e: StoredEvent) -> Self {
        Row {
            id: e.id,
            at: e.occurred_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            actor: e.actor,
            action: e.action,
            target: e.target.unwrap_or_default(),
            outcome: e.outcome,
            reason: e.reason.unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage<'a> {
    stylesheet: &'a str,
    script: &'a str,
    actor: &'a str,
    target: &'a str,
    action: &'a str,
    events: Vec<Row>,
    last_id: i64,
    /// The chain check, when asked for.
    chain: Option<String>,
}

fn filters_of(req: &HttpRequest) -> Option<Filters> {
    web::Query::<Filters>::from_query(req.query_string()).ok().map(web::Query::into_inner)
}

/// `GET /admin/audit`.
pub async fn get_audit(req: HttpRequest, signed_in: SignedIn, state: web::Data<AppState>) -> HttpResponse {
    if let Err(res) = admin_of(&req, &state, &signed_in.session).await {
        return res;
    }
    let Some(f) = filters_of(&req) else { return bad_request(&req, "That is not a filter this page makes.") };
    let failed = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "admin console: reading the audit log failed");
        browser::server_error_page(&req)
    };
    let events = match audit::newest(&state.db, &f.query(SHOWN)).await {
        Ok(e) => e,
        Err(e) => return failed(&e),
    };
    // The tail resumes after the newest event of the whole log, so it
    // shows only what happens from now on.
    let last_id = match audit::newest(&state.db, &AuditQuery { limit: 1, ..AuditQuery::default() }).await {
        Ok(e) => e.first().map_or(0, |e| e.id),
        Err(e) => return failed(&e),
    };
    let chain = if f.verify == "1" {
        match audit::verify(&state.db).await {
            Ok(ChainReport::Intact { rows, unchained, .. }) => {
                Some(format!("Intact: {rows} events link and hash correctly ({unchained} predate the chain)."))
            }
            Ok(ChainReport::Broken { id, reason }) => Some(format!("Broken at event {id}: {reason}.")),
            Err(e) => return failed(&e),
        }
    } else {
        None
    };
    let body = AuditPage {
        stylesheet: crate::web::authorize::stylesheet(),
        script: crate::web::assets::audit_script_path(),
        actor: &f.actor,
        target: &f.target,
        action: &f.action,
        events: events.into_iter().map(Row::from).collect(),
        last_id,
        chain,
    };
    match body.render() {
        Ok(b) => html(HttpResponse::Ok(), &browser::page_csp_with_script(&[]), b),
        Err(e) => failed(&e),
    }
}

/// A WebSocket from another site would carry the administrator's cookie:
/// only this server's own pages may open one — the Origin is the issuer's,
/// or the host the request came to (a proxy that keeps `Host`).
fn same_origin(req: &HttpRequest, issuer: &str) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()) else { return false };
    let Ok(o) = url::Url::parse(origin) else { return false };
    if !matches!(o.scheme(), "http" | "https") {
        return false;
    }
    if url::Url::parse(issuer).is_ok_and(|i| i.origin() == o.origin()) {
        return true;
    }
    let port = o.port().map(|p| format!(":{p}")).unwrap_or_default();
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    host.is_some_and(|h| format!("{}{port}", o.host_str().unwrap_or_default()) == h)
}

/// `GET /admin/audit/live`: the WebSocket of the live tail.
pub async fn get_live(
    req: HttpRequest,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    body: web::Payload,
) -> HttpResponse {
    if !same_origin(&req, &state.settings.issuer) {
        return browser::error_page(&req, StatusCode::FORBIDDEN, "Refused", "The live view opens from this site only.");
    }
    if let Err(res) = admin_of(&req, &state, &signed_in.session).await {
        return res;
    }
    let Some(f) = filters_of(&req) else { return bad_request(&req, "That is not a filter this page makes.") };
    let Some(slot) = Slot::take(&signed_in.session.user_id) else {
        return browser::error_page(
            &req,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many live views",
            "Close another tab with the live audit view and try again.",
        );
    };
    let (res, session, stream) = match actix_ws::handle(&req, body) {
        Ok(parts) => parts,
        Err(e) => return e.error_response(),
    };
    actix_web::rt::spawn(async move {
        tail(req, state, f, session, stream.max_frame_size(4096)).await;
        drop(slot);
    });
    res
}

async fn tail(
    req: HttpRequest,
    state: web::Data<AppState>,
    f: Filters,
    mut session: actix_ws::Session,
    mut stream: actix_ws::MessageStream,
) {
    let mut q = f.query(BATCH);
    let mut tick = tokio::time::interval(POLL);
    let mut ticks = 0u32;
    let reason = loop {
        tokio::select! {
            msg = stream.recv() => match msg {
                Some(Ok(actix_ws::Message::Ping(b))) => {
                    if session.pong(&b).await.is_err() {
                        return;
                    }
                }
                Some(Ok(actix_ws::Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = tick.tick() => {
                ticks = ticks.wrapping_add(1);
                if ticks.is_multiple_of(RECHECK_EVERY) && !still_admin(&req, &state).await {
                    break actix_ws::CloseCode::Policy;
                }
                let events = match audit::events_after(&state.db, &q).await {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::warn!(error = %e, "admin console: the live tail could not read the log");
                        continue;
                    }
                };
                for e in events {
                    q.after_id = e.id;
                    let Ok(text) = serde_json::to_string(&Row::from(e)) else { continue };
                    if session.text(text).await.is_err() {
                        return;
                    }
                }
            }
        }
    };
    let _ = session.close(Some(reason.into())).await;
}

/// The session behind the socket is still live and still an administrator's.
async fn still_admin(req: &HttpRequest, state: &AppState) -> bool {
    match browser::current_session(req, state).await {
        Some(s) => admin_of(req, state, &s).await.is_ok(),
        None => false,
    }
}
