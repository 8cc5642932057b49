//! The sign-in form (`GET|POST /login`): CSRF, the per-(IP, username)
//! failure budget, the account lockout; then `mfa::continue_login` decides
//! between a new session and a second-factor step.

use super::authorize::{stylesheet, validated};
use super::browser::{self, csrf_cookie, csrf_token, current_session, html, page_csp};
use super::extract::{CsrfForm, has_csrf};
use super::{AppState, peer_ip};
use crate::abuse::FailureClass;
use crate::accounts::login::{self, LoginError};
use crate::actors::sessions::Session;
use crate::audit::{AuditEvent, Outcome};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use zeroize::Zeroizing;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    stylesheet: &'a str,
    client_name: &'a str,
    error: &'a str,
    username: &'a str,
    csrf: &'a str,
    request: &'a str,
    passkeys: bool,
    script: &'a str,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn render_login(
    req: &HttpRequest,
    state: &AppState,
    session: Option<&Session>,
    client_name: &str,
    error: &str,
    username: &str,
    carried: &str,
    actions: &[String],
    status: StatusCode,
) -> HttpResponse {
    let Some((cookie, set)) = csrf_cookie(req, state) else { return browser::server_error_page(req) };
    let csrf = csrf_token(state, &cookie, session);
    let passkeys = state.passkeys.is_some();
    let page = LoginPage {
        stylesheet: stylesheet(),
        client_name,
        error,
        username,
        csrf: &csrf,
        request: carried,
        passkeys,
        script: super::assets::script_path(),
    };
    let Ok(body) = page.render() else { return browser::server_error_page(req) };
    let csp = if passkeys { browser::page_csp_with_script(actions) } else { page_csp(actions, None) };
    let mut res = html(HttpResponse::build(status), &csp, body);
    if let Some(c) = set {
        browser::set_cookie(&mut res, &c);
    }
    res
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: Zeroizing<String>,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request: String,
}

has_csrf!(LoginForm);

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm").field("username", &self.username).finish_non_exhaustive()
    }
}

/// An account was just locked: counted, audited, and told to the notifier.
pub(super) fn announce_lockout(
    state: &AppState,
    req: &HttpRequest,
    user_id: &str,
    username: &str,
    until: chrono::DateTime<chrono::Utc>,
    cause: &str,
) {
    state.metrics.lockouts.inc();
    let mut ev = AuditEvent::new(state.clock.now(), "system", "account.locked", Some(user_id.to_owned()));
    ev.reason = Some(format!("{cause}; until {}", until.to_rfc3339()));
    state.actors.audit.record(super::with_request(ev, req));
    state.lockout_notifier.locked(user_id, username, until);
}

/// `GET /login`: the sign-in page without an application (to reach the account page).
pub async fn get_login(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if state.db_health.is_down() {
        return browser::unavailable_page(&req);
    }
    let session = current_session(&req, &state).await;
    render_login(&req, &state, session.as_ref(), "", "", "", "", &[], StatusCode::OK)
}

/// `POST /login`.
pub async fn post_login(req: HttpRequest, sent: CsrfForm<LoginForm>, state: web::Data<AppState>) -> HttpResponse {
    let CsrfForm { form, session: old, .. } = sent;
    // The carried request, re-validated: only for the client name and the
    // page's form-action; the login itself does not depend on it.
    let carried =
        if form.request.is_empty() { None } else { validated(&req, &state, form.request.as_bytes()).await.ok() };
    let (client_name, actions) = match &carried {
        Some((_, ar)) => {
            (ar.client.registration.name.clone(), browser::origin_of(&ar.reply.redirect_uri).into_iter().collect())
        }
        None => (String::new(), Vec::new()),
    };
    let ip = peer_ip(&req);
    // The budget is per sign-in name, as sign-in compares it (fullwidth
    // `ａｄｍｉｎ` is `admin`, so it must not get a budget of its own).
    let identity =
        crate::accounts::identifiers::login_key(&form.username).unwrap_or_else(|| form.username.trim().to_lowercase());
    if let Some(b) = state.login_failures.blocked(FailureClass::Login, &ip, &identity) {
        state.metrics.rate_limited.with_label_values(&[FailureClass::Login.as_str()]).inc();
        state.metrics.login_attempts.with_label_values(&["rate_limited"]).inc();
        let message = format!("Too many failed attempts. Try again in {} seconds.", b.retry_after);
        let mut res = render_login(
            &req,
            &state,
            old.as_ref(),
            &client_name,
            &message,
            &form.username,
            &form.request,
            &actions,
            StatusCode::TOO_MANY_REQUESTS,
        );
        super::rate_limit_headers_on(&mut res, b.limit, b.retry_after);
        return res;
    }
    let now = state.clock.now();
    let policy = state.settings.lockout_policy();
    let devices = browser::devices(&req, &state);
    let authenticated =
        login::authenticate(&state.db, &state.hasher, &policy, &devices, &form.username, form.password, now).await;
    let user = match authenticated {
        Ok(u) => u,
        Err(LoginError::Refused(r)) => {
            state.login_failures.record_failure(FailureClass::Login, &ip, &identity).await;
            state.metrics.login_attempts.with_label_values(&[&r.reason.replace(' ', "_")]).inc();
            // An unknown name is not stored as typed: people type passwords
            // into the username box. A keyed hash still links repeated
            // attempts on the same name.
            let target = r.user.as_ref().map_or_else(
                || {
                    let h = state.secret_hasher.hash(&format!("login-name|{identity}"));
                    format!("unknown:{}", h.rsplit('$').next().unwrap_or_default().chars().take(16).collect::<String>())
                },
                |u| u.id.clone(),
            );
            let mut ev = AuditEvent::new(now, "anonymous", "login.failed", Some(target));
            ev.outcome = Outcome::Failure;
            ev.reason = Some(r.reason.to_owned());
            state.actors.audit.record(super::with_request(ev, &req));
            if let (Some(u), Some(until)) = (&r.user, r.locked_until) {
                announce_lockout(&state, &req, &u.id, &u.username, until, "repeated failed logins");
            }
            return render_login(
                &req,
                &state,
                old.as_ref(),
                &client_name,
                "Incorrect username or password.",
                &form.username,
                &form.request,
                &actions,
                StatusCode::OK,
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "login failed");
            return browser::server_error_page(&req);
        }
    };
    state.metrics.login_attempts.with_label_values(&["success"]).inc();
    let ev = AuditEvent::new(now, format!("user:{}", user.id), "login.password_verified", Some(user.id.clone()));
    state.actors.audit.record(super::with_request(ev, &req));
    let (request, acr_values) = match &carried {
        Some((params, ar)) => (params.to_query(), ar.acr_values.clone()),
        None => (String::new(), None),
    };
    super::sign_in::continue_login(&req, &state, &user, "pwd", old.as_ref(), &request, acr_values.as_deref()).await
}
