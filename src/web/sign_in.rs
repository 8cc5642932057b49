//! What every way of finishing a sign-in shares, at the HTTP edge: continue
//! after the first factor (to a session, or through a challenge), the
//! challenge cookie and its attempts, and the new session's cookies. The
//! decisions are `accounts::sign_in`'s; this reads the request and answers.
//! Between the first factor and the second the browser holds only a
//! login-challenge cookie, which is not a session: `/authorize`, `/account`
//! and everything behind them cannot see it, so a half-finished login
//! cannot be turned into tokens.

use super::authorize::validated;
use super::browser::{self, html, page_csp, see_other};
use super::{AppState, peer_ip};
use crate::abuse::FailureClass;
use crate::accounts::devices;
use crate::accounts::sign_in::{self, Challenge, ChallengePurpose, Origin};
use crate::actors::sessions::{Create, End, Session, Which};
use crate::mfa::service::{self, MfaError};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use entity::users::Model as User;

/// Whether the `mfa` setting demands a second factor of this user.
pub(super) async fn policy_requires(state: &AppState, user: &User) -> Result<bool, MfaError> {
    service::policy_requires(&state.db, state.settings.mfa, user).await
}

/// Continues a login whose first factors (`amr`) passed: to a session at
/// once, or through a second-factor challenge. `request` is the
/// authorization request to resume (a query string) or empty.
pub(super) async fn continue_login(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    amr: &str,
    old: Option<&Session>,
    request: &str,
    acr_values: Option<&str>,
) -> HttpResponse {
    let purpose = match sign_in::second_step(&state.db, state.settings.mfa, user, amr, acr_values).await {
        Ok(None) => {
            return match start_session(req, state, &user.id, amr, old).await {
                Ok(cookies) => with_cookies(see_other(&target(request)), cookies),
                Err(res) => res,
            };
        }
        Ok(Some(purpose)) => purpose,
        Err(e) => {
            tracing::error!(error = %e, "second-factor policy check failed");
            return browser::server_error_page(req);
        }
    };
    let opened =
        match sign_in::open_challenge(&state.db, user, purpose, amr, request, &origin(req), state.clock.now()).await {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %e, "opening a login challenge failed");
                return browser::server_error_page(req);
            }
        };
    state.actors.audit.record(super::with_request(opened.event, req));
    let mut res = see_other(match purpose {
        ChallengePurpose::Verify => "/login/mfa",
        ChallengePurpose::Enrol => "/login/mfa/enrol",
    });
    browser::set_cookie(&mut res, &browser::login_challenge_cookie(state, opened.secret, sign_in::CHALLENGE_SECS));
    res
}

/// The request's address and browser, as a sign-in records them.
pub(super) fn origin(req: &HttpRequest) -> Origin {
    Origin { ip: Some(peer_ip(req)).filter(|i| !i.is_empty()), user_agent: user_agent(req) }
}

pub(super) fn target(request: &str) -> String {
    if request.is_empty() { "/account".to_owned() } else { format!("/authorize?{request}") }
}

fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(256).collect())
}

pub(super) fn with_cookies(mut res: HttpResponse, cookies: Vec<actix_web::cookie::Cookie<'static>>) -> HttpResponse {
    for c in &cookies {
        browser::set_cookie(&mut res, c);
    }
    res
}

/// Ends the browser's old session (a cookie planted before login is
/// worthless after it), stores a new one, and answers the cookies to set:
/// the session, a fresh CSRF cookie, and the end of any login challenge.
pub(super) async fn start_session(
    req: &HttpRequest,
    state: &AppState,
    user_id: &str,
    amr: &str,
    old: Option<&Session>,
) -> Result<Vec<actix_web::cookie::Cookie<'static>>, HttpResponse> {
    let max_age =
        chrono::Duration::seconds(i64::try_from(state.settings.session_max_age_secs).unwrap_or(i64::MAX / 1000));
    let minted = sign_in::new_session(&state.db, user_id, amr, max_age, &origin(req), state.clock.now()).await;
    let new = match minted {
        Ok(Some(new)) => new,
        // Disabled between the first factor and the second: no session.
        Ok(None) => return Err(expired(req, state)),
        Err(e) => {
            tracing::error!(error = %e, "starting a session failed");
            return Err(browser::server_error_page(req));
        }
    };
    if let Some(s) = old {
        let _ =
            state.actors.sessions.send(End { user_id: s.user_id.clone(), which: Which::IdHash(s.id.clone()) }).await;
    }
    match state.actors.sessions.send(Create(new.session)).await {
        Ok(Ok(())) => {}
        other => {
            tracing::error!(outcome = ?other.err().map(|e| e.to_string()), "creating a session failed");
            return Err(browser::server_error_page(req));
        }
    }
    let devices = browser::devices(req, state);
    let ev = sign_in::session_started(&state.db, &devices, user_id, amr, state.clock.now()).await;
    state.actors.audit.record(super::with_request(ev, req));
    let mut cookies = vec![browser::session_cookie(state, new.secret), browser::expired_login_challenge_cookie(state)];
    cookies.extend(browser::new_csrf_cookie(state));
    cookies.extend(browser::device_cookie(req, state, user_id));
    Ok(cookies)
}

/// The request's live login challenge (`Err` for a storage failure).
pub(super) async fn challenge_of_request(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Option<Challenge>, HttpResponse> {
    let Some(hash) = browser::login_challenge_hash(req, state) else { return Ok(None) };
    sign_in::find_challenge(&state.db, &hash, state.clock.now()).await.map_err(|e| {
        tracing::error!(error = %e, "login challenge lookup failed");
        browser::server_error_page(req)
    })
}

/// Where the pages' forms may lead: here, and the client the login resumes.
pub(super) async fn form_actions(req: &HttpRequest, state: &AppState, c: &Challenge) -> Vec<String> {
    if c.request.is_empty() {
        return Vec::new();
    }
    match validated(req, state, c.request.as_bytes()).await {
        Ok((_, ar)) => browser::origin_of(&ar.reply.redirect_uri).into_iter().collect(),
        Err(_) => Vec::new(),
    }
}

/// An error page that also ends the sign-in: the challenge cookie goes.
pub(super) fn ended(req: &HttpRequest, state: &AppState, status: StatusCode, title: &str, text: &str) -> HttpResponse {
    let mut res = browser::error_page(req, status, title, text);
    browser::set_cookie(&mut res, &browser::expired_login_challenge_cookie(state));
    res
}

/// A challenge whose attempts are used up.
pub(super) fn exhausted(req: &HttpRequest, state: &AppState) -> HttpResponse {
    let text = "This sign-in has ended. Start again from the sign-in page.";
    ended(req, state, StatusCode::TOO_MANY_REQUESTS, "Too many wrong codes", text)
}

/// Reserves an attempt at the challenge before an answer is checked;
/// `Err` with the response to send when none is left.
pub(super) async fn reserve(req: &HttpRequest, state: &AppState, c: &Challenge) -> Result<(), HttpResponse> {
    match sign_in::reserve_attempt(&state.db, c, state.clock.now()).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(exhausted(req, state)),
        Err(e) => {
            tracing::error!(error = %e, "reserving a challenge attempt failed");
            Err(browser::server_error_page(req))
        }
    }
}

pub(super) fn expired(req: &HttpRequest, state: &AppState) -> HttpResponse {
    let text = "This sign-in is no longer valid. Start again from the sign-in page.";
    ended(req, state, StatusCode::FORBIDDEN, "Sign-in expired", text)
}

pub(super) fn page(
    req: &HttpRequest,
    body: Result<String, askama::Error>,
    actions: &[String],
    status: StatusCode,
    set: Option<actix_web::cookie::Cookie<'static>>,
) -> HttpResponse {
    let Ok(body) = body else { return browser::server_error_page(req) };
    let mut res = html(HttpResponse::build(status), &page_csp(actions, None), body);
    if let Some(c) = set {
        browser::set_cookie(&mut res, &c);
    }
    res
}

/// The per-(IP, user) budget for wrong second factors: `Some(response)`
/// when it is spent.
pub(super) fn throttled(req: &HttpRequest, state: &AppState, user_id: &str) -> Option<HttpResponse> {
    let b = state.login_failures.blocked(FailureClass::SecondFactor, &peer_ip(req), user_id)?;
    state.metrics.rate_limited.with_label_values(&[FailureClass::SecondFactor.as_str()]).inc();
    let mut res = browser::error_page(
        req,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        &format!("Too many wrong codes. Try again in {} seconds.", b.retry_after),
    );
    super::rate_limit_headers_on(&mut res, b.limit, b.retry_after);
    Some(res)
}

/// Counts a wrong second factor (any kind): the per-(IP, user) budget, an
/// audit event, the account lockout, and the challenge's attempts. `true`
/// if the challenge survives it.
pub(super) async fn count_failure(
    req: &HttpRequest,
    state: &AppState,
    c: &Challenge,
    action: &'static str,
    reason: String,
) -> Result<bool, sign_in::SignInError> {
    state.login_failures.record_failure(FailureClass::SecondFactor, &peer_ip(req), &c.user_id).await;
    state.metrics.login_attempts.with_label_values(&["wrong_second_factor"]).inc();
    let devices = browser::devices(req, state);
    let budget = devices::budget(&devices, &c.user_id);
    let policy = state.settings.lockout_policy();
    let now = state.clock.now();
    state.actors.audit.record(super::with_request(sign_in::failure_event(c, action, reason, now), req));
    let failure = sign_in::count_failure(&state.db, c, budget, &policy, now).await?;
    if let Some((until, name)) = &failure.locked {
        super::login::announce_lockout(state, req, &c.user_id, name, *until, "repeated failed second factors");
    }
    Ok(failure.survives)
}

/// Whether the challenge's account is locked now; a locked account's
/// challenge ends (the lock outlives it).
pub(super) async fn locked_out(
    req: &HttpRequest,
    state: &AppState,
    c: &Challenge,
) -> Result<bool, sign_in::SignInError> {
    let devices = browser::devices(req, state);
    sign_in::locked_out(&state.db, c, devices::budget(&devices, &c.user_id), state.clock.now()).await
}
