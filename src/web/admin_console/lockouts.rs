//! `/admin/lockouts`: who is locked out now, until when, how many times in
//! a row, and from where the lockout came (the address and cause of its
//! `account.locked` event); each with an unlock button (the bulk form's
//! `unlock`, with sudo mode and an audit event).

use super::{admin_of, date, page, sudo_fresh};
use crate::accounts::audit_log::{self, AuditQuery};
use crate::accounts::lockout;
use crate::web::AppState;
use crate::web::browser::{self, csrf_cookie, csrf_token};
use crate::web::extract::SignedIn;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

struct LockoutRow {
    user_id: String,
    username: String,
    until: String,
    lockouts: i32,
    /// When, from where and why the last lockout happened, if its event
    /// is still in the log.
    locked_at: String,
    from: String,
    cause: String,
}

#[derive(Template)]
#[template(path = "admin_lockouts.html")]
struct LockoutsPage<'a> {
    stylesheet: &'a str,
    lockouts: Vec<LockoutRow>,
    csrf: &'a str,
    sudo_fresh: bool,
}

/// `GET /admin/lockouts`.
pub async fn get_lockouts(req: HttpRequest, signed_in: SignedIn, state: web::Data<AppState>) -> HttpResponse {
    let session = signed_in.session;
    if let Err(res) = admin_of(&req, &state, &session).await {
        return res;
    }
    let failed = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "admin console: reading lockouts failed");
        browser::server_error_page(&req)
    };
    let current = match lockout::current(&state.db, state.clock.now()).await {
        Ok(c) => c,
        Err(e) => return failed(&e),
    };
    let mut lockouts = Vec::with_capacity(current.len());
    for (l, username) in current {
        let q = AuditQuery {
            target: Some(l.user_id.clone()),
            action: Some("account.locked".into()),
            limit: 1,
            ..AuditQuery::default()
        };
        let last = match audit_log::newest(&state.db, &q).await {
            Ok(mut e) => e.pop(),
            Err(e) => return failed(&e),
        };
        lockouts.push(LockoutRow {
            until: l.locked_until.map(date).unwrap_or_default(),
            lockouts: l.lockouts,
            locked_at: last.as_ref().map(|e| date(e.occurred_at)).unwrap_or_default(),
            from: last.as_ref().and_then(|e| e.ip.clone()).unwrap_or_default(),
            cause: last.and_then(|e| e.reason).unwrap_or_default(),
            user_id: l.user_id,
            username,
        });
    }
    let Some((cookie, set)) = csrf_cookie(&req, &state) else { return browser::server_error_page(&req) };
    let csrf = csrf_token(&state, &cookie, Some(&session));
    let body = LockoutsPage {
        stylesheet: crate::web::authorize::stylesheet(),
        lockouts,
        csrf: &csrf,
        sudo_fresh: sudo_fresh(&state, &session),
    };
    page(&req, body.render(), set)
}
