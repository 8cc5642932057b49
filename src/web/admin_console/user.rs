//! `/admin/users/{id}`: one person as an administrator sees them — profile
//! and flags, groups, live sessions, second factors, connected
//! applications and their recent audit events — with the actions the bulk
//! form takes, for this one user.

use super::{admin_of, date, page, sudo_fresh};
use crate::web::AppState;
use crate::web::browser::{self, csrf_cookie, csrf_token};
use crate::web::extract::SignedIn;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// How many of the person's audit events the page shows.
const RECENT_EVENTS: u64 = 20;

struct SessionRow {
    device: String,
    ip: String,
    signed_in: String,
    last_seen: String,
}

struct AppRow {
    name: String,
    client_id: String,
    scopes: String,
    offline: bool,
}

struct EventRow {
    at: String,
    at_iso: String,
    actor: String,
    action: String,
    outcome: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage<'a> {
    stylesheet: &'a str,
    id: &'a str,
    username: &'a str,
    email: &'a str,
    name: &'a str,
    active: bool,
    status: String,
    created: String,
    groups: Vec<String>,
    sessions: Vec<SessionRow>,
    totp: bool,
    passkeys: u64,
    recovery_left: u64,
    apps: Vec<AppRow>,
    events: Vec<EventRow>,
    csrf: &'a str,
    sudo_fresh: bool,
    is_self: bool,
}

/// `GET /admin/users/{id}`.
pub async fn get_user(
    req: HttpRequest,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    let session = signed_in.session;
    let admin = match admin_of(&req, &state, &session).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, what, "admin console: reading a user failed");
        browser::server_error_page(&req)
    };
    let now = state.clock.now();
    let u = match crate::accounts::users::find(&state.db, &id).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return browser::error_page(&req, StatusCode::NOT_FOUND, "No such user", "That user does not exist.");
        }
        Err(e) => return failed("user", &e),
    };
    let dir = crate::accounts::directory::locked(&state.db, &u.id, now).await;
    let groups = crate::accounts::directory::groups(&state.db, &u.id).await;
    let sessions = crate::accounts::users::sessions(&state.db, &u.id, now).await;
    let events = crate::accounts::directory::recent_events(&state.db, &u.id, RECENT_EVENTS).await;
    let (locked, groups, sessions, events) = match (dir, groups, sessions, events) {
        (Ok(l), Ok(g), Ok(s), Ok(e)) => (l, g, s, e),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => return failed("account", &e),
    };
    let factors = match crate::mfa::service::factors(&state.db, &u.id).await {
        Ok(f) => f,
        Err(e) => return failed("factors", &e),
    };
    let apps = match crate::oauth::consent::granted(&state.db, &state.clients, &u.id, now).await {
        Ok(a) => a,
        Err(e) => return failed("applications", &e),
    };
    let Some((cookie, set)) = csrf_cookie(&req, &state) else { return browser::server_error_page(&req) };
    let csrf = csrf_token(&state, &cookie, Some(&session));
    let body = UserPage {
        stylesheet: crate::web::authorize::stylesheet(),
        id: &u.id,
        username: &u.username,
        email: u.email.as_deref().unwrap_or(""),
        name: u.display_name.as_deref().unwrap_or(""),
        active: u.active,
        status: super::status(&u, locked, factors.any()),
        created: date(u.created_at),
        groups,
        sessions: sessions
            .iter()
            .map(|s| SessionRow {
                device: s
                    .user_agent
                    .as_deref()
                    .and_then(crate::web::user_agent::describe)
                    .unwrap_or_else(|| "An unknown device".into()),
                ip: s.ip.clone().unwrap_or_default(),
                signed_in: date(s.auth_time),
                last_seen: date(s.last_seen_at),
            })
            .collect(),
        totp: factors.totp.is_some(),
        passkeys: factors.webauthn,
        recovery_left: factors.recovery_codes_left,
        apps: apps
            .into_iter()
            .map(|a| AppRow {
                scopes: a
                    .scope
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(crate::web::authorize::describe_scope)
                    .collect::<Vec<_>>()
                    .join("; "),
                name: a.client_name,
                client_id: a.client_id,
                offline: a.offline,
            })
            .collect(),
        events: events
            .into_iter()
            .map(|e| EventRow {
                at: date(e.occurred_at),
                at_iso: e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                actor: e.actor,
                action: e.action,
                outcome: e.outcome,
                reason: e.reason.unwrap_or_default(),
            })
            .collect(),
        csrf: &csrf,
        sudo_fresh: sudo_fresh(&state, &session),
        is_self: admin.id == u.id,
    };
    page(&req, body.render(), set)
}
