//! `GET|POST /account/password`: the signed-in person changes their
//! password. The current one is asked for (a borrowed session must not be
//! enough; a wrong one counts like a failed login), the new one meets the
//! policy and history like everywhere else (every problem listed), and the
//! person's other sessions end: a password is changed because it may be
//! known to someone else.

use super::AppState;
use super::authorize::stylesheet;
use super::browser::{self, csrf_cookie, csrf_token, html, page_csp};
use super::extract::{AccountForm, SignedIn};
use super::factor_rules::{PasswordRefused, password_confirms, password_refused};
use super::mfa_account::account_of;
use crate::accounts::users::{self, AccountError, Password};
use crate::actors::sessions::{End, Session, Which};
use crate::audit::AuditEvent;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use askama::Template;
use entity::users::Model as User;
use zeroize::Zeroizing;

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage<'a> {
    stylesheet: &'a str,
    csrf: &'a str,
    username: &'a str,
    min_length: usize,
    error: &'a str,
    problems: Vec<String>,
    done: bool,
}

#[derive(serde::Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: Zeroizing<String>,
    #[serde(default)]
    new: Zeroizing<String>,
    #[serde(default)]
    confirm: Zeroizing<String>,
}

super::extract::has_csrf!(PasswordForm);

impl std::fmt::Debug for PasswordForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordForm").finish_non_exhaustive()
    }
}

/// What the page says besides the form.
enum Outcome<'a> {
    Form,
    Refused(&'a str),
    Problems(Vec<String>),
    Done,
}

fn render(req: &HttpRequest, state: &AppState, session: &Session, user: &User, outcome: Outcome<'_>) -> HttpResponse {
    let Some((cookie, set)) = csrf_cookie(req, state) else { return browser::server_error_page(req) };
    let csrf = csrf_token(state, &cookie, Some(session));
    let (status, error, problems, done) = match outcome {
        Outcome::Form => (StatusCode::OK, "", Vec::new(), false),
        Outcome::Refused(e) => (StatusCode::FORBIDDEN, e, Vec::new(), false),
        Outcome::Problems(p) => (StatusCode::BAD_REQUEST, "", p, false),
        Outcome::Done => (StatusCode::OK, "", Vec::new(), true),
    };
    let page = PasswordPage {
        stylesheet: stylesheet(),
        csrf: &csrf,
        username: &user.username,
        min_length: state.settings.password_min_length,
        error,
        problems,
        done,
    };
    let Ok(body) = page.render() else { return browser::server_error_page(req) };
    let mut res = html(HttpResponseBuilder::new(status), &page_csp(&[], None), body);
    if let Some(c) = set {
        browser::set_cookie(&mut res, &c);
    }
    res
}

/// `GET /account/password`.
pub async fn get_password(req: HttpRequest, signed_in: SignedIn, state: web::Data<AppState>) -> HttpResponse {
    match account_of(&req, &state, &signed_in.session).await {
        Ok(user) => render(&req, &state, &signed_in.session, &user, Outcome::Form),
        Err(res) => res,
    }
}

/// `POST /account/password`.
pub async fn post_password(
    req: HttpRequest,
    sent: AccountForm<PasswordForm>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let AccountForm { form, session, .. } = sent;
    let user = match account_of(&req, &state, &session).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    if form.new.as_str() != form.confirm.as_str() {
        return render(&req, &state, &session, &user, Outcome::Problems(vec!["differs from its repetition".into()]));
    }
    match password_confirms(&req, &state, &user, form.current, "user.password_change_refused").await {
        Ok(()) => {}
        Err(PasswordRefused::Wrong) => {
            return render(&req, &state, &session, &user, Outcome::Refused("Your current password is not right."));
        }
        Err(r) => return password_refused(&req, r),
    }
    let now = state.clock.now();
    let policy = state.settings.password_policy();
    let set = match Password::parse(form.new) {
        Ok(p) => users::set_password(&state.db, &state.hasher, &policy, &user, p, now).await,
        Err(e) => Err(e),
    };
    match set {
        Ok(_) => {}
        Err(AccountError::PasswordPolicy(problems)) => {
            let problems = problems.into_iter().map(|p| p.message).collect();
            return render(&req, &state, &session, &user, Outcome::Problems(problems));
        }
        Err(AccountError::PasswordTooLong) => {
            let too_long = format!("is longer than {} bytes", policy.max_bytes);
            return render(&req, &state, &session, &user, Outcome::Problems(vec![too_long]));
        }
        Err(e) => {
            tracing::error!(error = %e, "changing a password failed");
            return browser::server_error_page(&req);
        }
    }
    // The password is changed: everyone else holding a session of this
    // account is signed out; this browser stays signed in.
    if end_other_sessions(&state, &session).await.is_err() {
        return browser::server_error_page(&req);
    }
    let ev = AuditEvent::new(now, format!("user:{}", user.id), "user.password_changed", Some(user.id.clone()));
    if super::record_change(&state, &req, ev).await.is_err() {
        return browser::server_error_page(&req);
    }
    render(&req, &state, &session, &user, Outcome::Done)
}

async fn end_other_sessions(state: &AppState, session: &Session) -> Result<(), ()> {
    let live = users::sessions(&state.db, &session.user_id, state.clock.now()).await.map_err(|e| {
        tracing::error!(error = %e, "listing sessions failed");
    })?;
    for other in live.into_iter().filter(|s| s.sid != session.sid) {
        let end = End { user_id: session.user_id.clone(), which: Which::Sid(other.sid) };
        match state.actors.sessions.send(end).await {
            Ok(Ok(_)) => {}
            _ => return Err(()),
        }
    }
    Ok(())
}
