//! The second step of a login (`/login/mfa`), and what every way of
//! finishing a login shares (the challenge, its attempts, the new
//! session); the enrolment a policy or client forces is in `mfa_enrol.rs`.
//! Between the first factor and the second the browser holds only a
//! login-challenge cookie, which is not a session: `/authorize`,
//! `/account` and everything behind them cannot see it, so a
//! half-finished login cannot be turned into tokens.

use super::authorize::{stylesheet, validated};
use super::browser::{self, csrf_cookie, csrf_ok, csrf_token, current_session, html, page_csp, see_other};
use super::{AppState, peer_ip};
use crate::abuse::FailureClass;
use crate::accounts::devices;
use crate::accounts::sign_in::{self, ChallengePurpose, Origin};
use crate::actors::sessions::{Create, End, Session, Which};
use crate::mfa::amr_after;
use crate::mfa::service::{self, MfaError, Verdict};
use crate::store::audit::AuditEvent;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use entity::users::Model as User;
pub(super) use sign_in::Challenge;
use zeroize::Zeroizing;

#[derive(Template)]
#[template(path = "mfa.html")]
struct ChallengePage<'a> {
    stylesheet: &'a str,
    error: &'a str,
    csrf: &'a str,
    has_totp: bool,
    has_passkeys: bool,
    recovery_left: u64,
    script: &'a str,
}

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

/// A challenge whose attempts are used up.
pub(super) fn exhausted(req: &HttpRequest, state: &AppState) -> HttpResponse {
    let mut res = browser::error_page(
        req,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many wrong codes",
        "This sign-in has ended. Start again from the sign-in page.",
    );
    browser::set_cookie(&mut res, &browser::expired_login_challenge_cookie(state));
    res
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
    let mut res = browser::error_page(
        req,
        StatusCode::FORBIDDEN,
        "Sign-in expired",
        "This sign-in is no longer valid. Start again from the sign-in page.",
    );
    browser::set_cookie(&mut res, &browser::expired_login_challenge_cookie(state));
    res
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

async fn render_challenge(
    req: &HttpRequest,
    state: &AppState,
    c: &Challenge,
    error: &str,
    status: StatusCode,
) -> HttpResponse {
    let factors = match service::factors(&state.db, &c.user_id).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "factor lookup failed");
            return browser::server_error_page(req);
        }
    };
    let Some((cookie, set)) = csrf_cookie(req, state) else { return browser::server_error_page(req) };
    let csrf = csrf_token(state, &cookie, None);
    let body = ChallengePage {
        stylesheet: stylesheet(),
        error,
        csrf: &csrf,
        has_totp: factors.totp.is_some(),
        has_passkeys: factors.webauthn > 0 && state.passkeys.is_some(),
        recovery_left: factors.recovery_codes_left,
        script: super::assets::script_path(),
    }
    .render();
    let Ok(body) = body else { return browser::server_error_page(req) };
    let mut res =
        html(HttpResponse::build(status), &browser::page_csp_with_script(&form_actions(req, state, c).await), body);
    if let Some(c) = set {
        browser::set_cookie(&mut res, &c);
    }
    res
}

/// `GET /login/mfa`.
pub async fn get_challenge(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match challenge_of_request(&req, &state).await {
        Ok(Some(c)) if sign_in::is_for(&c, ChallengePurpose::Verify) => {
            render_challenge(&req, &state, &c, "", StatusCode::OK).await
        }
        Ok(Some(_)) => see_other("/login/mfa/enrol"),
        Ok(None) => see_other("/login"),
        Err(res) => res,
    }
}

/// A code answered at `/login/mfa` or `/login/mfa/enrol`.
#[derive(serde::Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub(super) csrf: String,
    /// `totp` or `recovery` (the second step only).
    #[serde(default)]
    method: String,
    #[serde(default)]
    pub(super) code: Zeroizing<String>,
}

impl std::fmt::Debug for CodeForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeForm").field("method", &self.method).finish_non_exhaustive()
    }
}

/// A second factor answered at `/login/mfa`, as audit actions name it.
#[derive(Debug, Clone, Copy)]
enum Method {
    Totp,
    RecoveryCode,
}

impl Method {
    fn used(self) -> &'static str {
        match self {
            Method::Totp => "mfa.totp.used",
            Method::RecoveryCode => "mfa.recovery_code.used",
        }
    }

    fn failed(self) -> &'static str {
        match self {
            Method::Totp => "mfa.totp.failed",
            Method::RecoveryCode => "mfa.recovery_code.failed",
        }
    }
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

/// `POST /login/mfa`: a TOTP code or a recovery code.
pub async fn post_challenge(req: HttpRequest, form: web::Form<CodeForm>, state: web::Data<AppState>) -> HttpResponse {
    let form = form.into_inner();
    if !csrf_ok(&req, &state, &form.csrf, None) {
        return browser::csrf_refused(&req);
    }
    let c = match challenge_of_request(&req, &state).await {
        Ok(Some(c)) if sign_in::is_for(&c, ChallengePurpose::Verify) => c,
        Ok(_) => return expired(&req, &state),
        Err(res) => return res,
    };
    if let Some(res) = throttled(&req, &state, &c.user_id) {
        return res;
    }
    let now = state.clock.now();
    match locked_out(&req, &state, &c).await {
        Ok(false) => {}
        Ok(true) => {
            let mut res = browser::error_page(
                &req,
                StatusCode::TOO_MANY_REQUESTS,
                "Account locked",
                "Too many failed attempts. Try again later.",
            );
            browser::set_cookie(&mut res, &browser::expired_login_challenge_cookie(&state));
            return res;
        }
        Err(e) => {
            tracing::error!(error = %e, "lockout lookup failed");
            return browser::server_error_page(&req);
        }
    }
    let (method, amr_method) = match form.method.as_str() {
        "totp" => (Method::Totp, "otp"),
        "recovery" => (Method::RecoveryCode, "otp"),
        _ => return render_challenge(&req, &state, &c, "Choose a way to verify.", StatusCode::BAD_REQUEST).await,
    };
    if let Err(res) = reserve(&req, &state, &c).await {
        return res;
    }
    let verdict = match method {
        Method::Totp => service::verify_totp(&state.db, &state.envelope, &c.user_id, &form.code, now).await,
        Method::RecoveryCode => {
            service::verify_recovery_code(&state.db, &state.secret_hasher, &c.user_id, &form.code, now).await
        }
    };
    let verdict = match verdict {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "second-factor check failed");
            return browser::server_error_page(&req);
        }
    };
    if verdict != Verdict::Accepted {
        return second_factor_failed(&req, &state, &c, method, verdict).await;
    }
    match sign_in::end_challenge(&state.db, &c).await {
        Ok(true) => {}
        Ok(false) => return expired(&req, &state),
        Err(e) => {
            tracing::error!(error = %e, "completing a login challenge failed");
            return browser::server_error_page(&req);
        }
    }
    let ev = AuditEvent::new(now, format!("user:{}", c.user_id), method.used(), Some(c.user_id.clone()));
    state.actors.audit.record(super::with_request(ev, &req));
    let old = current_session(&req, &state).await;
    let amr = amr_after(&c.amr, amr_method);
    match start_session(&req, &state, &c.user_id, &amr, old.as_ref()).await {
        Ok(cookies) => with_cookies(see_other(&target(&c.request)), cookies),
        Err(res) => res,
    }
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
) -> Result<bool, crate::store::StoreError> {
    state.login_failures.record_failure(FailureClass::SecondFactor, &peer_ip(req), &c.user_id).await;
    state.metrics.login_attempts.with_label_values(&["wrong_second_factor"]).inc();
    let devices = browser::devices(req, state);
    let budget = devices::budget(&devices, &c.user_id);
    let policy = state.settings.lockout_policy();
    let failure = sign_in::count_failure(&state.db, c, budget, &policy, action, reason, state.clock.now()).await?;
    state.actors.audit.record(super::with_request(failure.event, req));
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
) -> Result<bool, crate::store::StoreError> {
    let devices = browser::devices(req, state);
    sign_in::locked_out(&state.db, c, devices::budget(&devices, &c.user_id), state.clock.now()).await
}

/// A wrong or replayed code at `/login/mfa`: counted, then the page again
/// or, with the attempts used up, the end of this sign-in.
async fn second_factor_failed(
    req: &HttpRequest,
    state: &AppState,
    c: &Challenge,
    method: Method,
    verdict: Verdict,
) -> HttpResponse {
    let survives = match count_failure(req, state, c, method.failed(), verdict.as_str().to_owned()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "recording a failed second factor failed");
            return browser::server_error_page(req);
        }
    };
    if !survives {
        return exhausted(req, state);
    }
    let message = match verdict {
        Verdict::Replayed => "That code was already used. Wait for the next one.",
        _ => "That code is not valid.",
    };
    render_challenge(req, state, c, message, StatusCode::OK).await
}
