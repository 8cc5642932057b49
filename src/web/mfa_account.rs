//! Second factors from the account page: set up an authenticator app,
//! remove it, and replace the recovery codes. A borrowed session must not
//! be enough to take the account over, so: adding a factor needs a second
//! factor passed in the last 15 minutes (or, for an account without any,
//! the password again); removing one or replacing the recovery codes
//! needs such a recent second factor, or a current TOTP code.

use super::AppState;
use super::browser::{self, csrf_cookie, csrf_ok, csrf_token, current_session, see_other};
use super::mfa_enrol::{recovery_codes_page, render_enrol};
use super::sign_in::{policy_requires, throttled};
use crate::abuse::FailureClass;
use crate::actors::sessions::Session;
use crate::mfa::service::{self, Verdict};
use crate::store::audit::{AuditEvent, Outcome};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use entity::users::Model as User;
use zeroize::Zeroizing;

#[derive(serde::Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: Zeroizing<String>,
    /// Asked for when an account without any factor adds its first.
    #[serde(default)]
    password: Zeroizing<String>,
}

impl std::fmt::Debug for CodeForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeForm").finish_non_exhaustive()
    }
}

async fn signed_in(req: &HttpRequest, state: &AppState) -> Result<(Session, User), HttpResponse> {
    let Some(session) = current_session(req, state).await else { return Err(see_other("/login")) };
    match crate::accounts::users::find_active(&state.db, &session.user_id).await {
        Ok(Some(u)) => Ok((session, u)),
        Ok(None) => Err(see_other("/login")),
        Err(e) => {
            tracing::error!(error = %e, "user lookup failed");
            Err(browser::server_error_page(req))
        }
    }
}

fn audit(state: &AppState, req: &HttpRequest, user_id: &str, action: &'static str, failure: Option<&str>) {
    let mut ev = AuditEvent::new(state.clock.now(), format!("user:{user_id}"), action, Some(user_id.to_owned()));
    if let Some(reason) = failure {
        ev.outcome = Outcome::Failure;
        ev.reason = Some(reason.to_owned());
    }
    state.actors.audit.record(super::with_request(ev, req));
}

/// How recent a sign-in must be to change the account's factors.
const RECENT_MINUTES: i64 = 15;

fn recent(session: &Session, now: chrono::DateTime<chrono::Utc>) -> bool {
    now - session.auth_time <= chrono::Duration::minutes(RECENT_MINUTES)
}

/// A second factor passed within the last few minutes.
pub(super) fn fresh_mfa(session: &Session, now: chrono::DateTime<chrono::Utc>) -> bool {
    session.acr == crate::mfa::ACR_MFA && recent(session, now)
}

/// What adding a factor takes from this session. A borrowed session must
/// not be able to add its own factor and keep access, so: a second factor
/// passed in the last 15 minutes; or, for an account without any factor,
/// the password again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AddRule {
    Allowed,
    NeedsPassword,
    SignInAgain,
}

pub(super) async fn add_rule(state: &AppState, session: &Session) -> Result<AddRule, crate::store::StoreError> {
    let factors = crate::store::mfa::factors(&state.db, &session.user_id).await?;
    Ok(add_rule_given(session, &factors, state.clock.now()))
}

/// The same, for factors already read.
pub(super) fn add_rule_given(
    session: &Session,
    factors: &crate::store::mfa::Factors,
    now: chrono::DateTime<chrono::Utc>,
) -> AddRule {
    if fresh_mfa(session, now) {
        AddRule::Allowed
    } else if factors.any() {
        AddRule::SignInAgain
    } else {
        AddRule::NeedsPassword
    }
}

fn sign_in_again(req: &HttpRequest) -> HttpResponse {
    browser::error_page(
        req,
        StatusCode::FORBIDDEN,
        "Sign in again",
        "Changing how you sign in needs your second factor from the last 15 minutes. Sign out, sign in again and retry.",
    )
}

async fn rule_of(req: &HttpRequest, state: &AppState, session: &Session) -> Result<AddRule, HttpResponse> {
    add_rule(state, session).await.map_err(|e| {
        tracing::error!(error = %e, "factor lookup failed");
        browser::server_error_page(req)
    })
}

/// Checks the password an account without factors gives to add its first;
/// a wrong one counts like a failed login (budget and lockout).
pub(super) async fn password_confirms(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    password: Zeroizing<String>,
) -> Result<(), PasswordRefused> {
    let ip = super::peer_ip(req);
    let identity = user.username.to_lowercase();
    if state.login_failures.blocked(FailureClass::Login, &ip, &identity).is_some() {
        return Err(PasswordRefused::Throttled);
    }
    let now = state.clock.now();
    let policy = state.settings.lockout_policy();
    let devices = super::browser::devices(req, state);
    let authenticated = crate::accounts::login::authenticate(
        &state.db,
        &state.hasher,
        &policy,
        &devices,
        &user.username,
        password,
        now,
    )
    .await;
    match authenticated {
        Ok(u) if u.id == user.id => Ok(()),
        Err(crate::accounts::login::LoginError::Refused(r)) => {
            if let (Some(u), Some(until)) = (&r.user, r.locked_until) {
                super::login::announce_lockout(state, req, &u.id, &u.username, until, "repeated failed logins");
            }
            state.login_failures.record_failure(FailureClass::Login, &ip, &identity).await;
            audit(state, req, &user.id, "mfa.add_refused", Some("wrong password"));
            Err(PasswordRefused::Wrong)
        }
        Ok(_) => {
            state.login_failures.record_failure(FailureClass::Login, &ip, &identity).await;
            audit(state, req, &user.id, "mfa.add_refused", Some("wrong password"));
            Err(PasswordRefused::Wrong)
        }
        Err(e) => {
            tracing::error!(error = %e, "password check failed");
            Err(PasswordRefused::Failed)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PasswordRefused {
    Wrong,
    Throttled,
    Failed,
}

fn password_refused(req: &HttpRequest, r: PasswordRefused) -> HttpResponse {
    match r {
        PasswordRefused::Wrong => browser::error_page(
            req,
            StatusCode::FORBIDDEN,
            "Not changed",
            "That password is not right. Go back and try again.",
        ),
        PasswordRefused::Throttled => {
            browser::error_page(req, StatusCode::TOO_MANY_REQUESTS, "Too many attempts", "Try again in a minute.")
        }
        PasswordRefused::Failed => browser::server_error_page(req),
    }
}

/// `GET /account/mfa/totp`: the enrolment page.
pub async fn get_totp(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let (session, user) = match signed_in(&req, &state).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    match rule_of(&req, &state, &session).await {
        Ok(AddRule::SignInAgain) => sign_in_again(&req),
        Ok(rule) => enrol_page(&req, &state, &session, &user, rule, "").await,
        Err(res) => res,
    }
}

async fn enrol_page(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    user: &User,
    rule: AddRule,
    error: &str,
) -> HttpResponse {
    let Some((cookie, set)) = csrf_cookie(req, state) else { return browser::server_error_page(req) };
    let csrf = csrf_token(state, &cookie, Some(session));
    let enrol = super::mfa_enrol::Enrolment {
        requester: &session.id,
        csrf: &csrf,
        action: "/account/mfa/totp",
        cancel: "/account",
        required: false,
        ask_password: rule == AddRule::NeedsPassword,
    };
    render_enrol(req, state, user, &enrol, error, &[], set).await
}

/// `POST /account/mfa/totp`: confirms the authenticator with its first
/// code; a new set of recovery codes is shown once.
pub async fn post_totp(req: HttpRequest, form: web::Form<CodeForm>, state: web::Data<AppState>) -> HttpResponse {
    let (session, user) = match signed_in(&req, &state).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if !csrf_ok(&req, &state, &form.csrf, Some(&session)) {
        return browser::csrf_refused(&req);
    }
    let form = form.into_inner();
    let rule = match rule_of(&req, &state, &session).await {
        Ok(AddRule::SignInAgain) => return sign_in_again(&req),
        Ok(rule) => rule,
        Err(res) => return res,
    };
    if let Some(res) = throttled(&req, &state, &user.id) {
        return res;
    }
    if rule == AddRule::NeedsPassword
        && let Err(r) = password_confirms(&req, &state, &user, form.password).await
    {
        return password_refused(&req, r);
    }
    let now = state.clock.now();
    match service::confirm_totp(&state.db, &state.envelope, &user.id, &session.id, &form.code, now).await {
        Ok(Verdict::Accepted) => {}
        Ok(v) => {
            state.login_failures.record_failure(FailureClass::SecondFactor, &super::peer_ip(&req), &user.id).await;
            audit(&state, &req, &user.id, "mfa.totp.enrol_failed", Some(v.as_str()));
            return enrol_page(
                &req,
                &state,
                &session,
                &user,
                rule,
                "That code is not valid. Check the time on your device.",
            )
            .await;
        }
        Err(e) => {
            tracing::error!(error = %e, "confirming a TOTP enrolment failed");
            return browser::server_error_page(&req);
        }
    }
    audit(&state, &req, &user.id, "mfa.totp.enrolled", None);
    new_codes(&req, &state, &user).await
}

async fn new_codes(req: &HttpRequest, state: &AppState, user: &User) -> HttpResponse {
    match service::new_recovery_codes(&state.db, &state.secret_hasher, &user.id, state.clock.now()).await {
        Ok(codes) => {
            audit(state, req, &user.id, "mfa.recovery_codes.created", None);
            recovery_codes_page(req, &codes, "/account")
        }
        Err(e) => {
            tracing::error!(error = %e, "creating recovery codes failed");
            browser::server_error_page(req)
        }
    }
}

/// Changes that weaken the account (removing a factor, new recovery
/// codes) need proof of a second factor now: a session that passed one,
/// or a current TOTP code.
pub(super) async fn second_factor_present(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    user: &User,
    code: &str,
    action: &'static str,
) -> Result<(), HttpResponse> {
    if fresh_mfa(session, state.clock.now()) {
        return Ok(());
    }
    // Nothing to check (no code typed, or no authenticator app): say so
    // without counting a failure.
    let has_totp = match crate::mfa::service::factors(&state.db, &user.id).await {
        Ok(f) => f.totp.is_some(),
        Err(e) => {
            tracing::error!(error = %e, "factor lookup failed");
            return Err(browser::server_error_page(req));
        }
    };
    if code.trim().is_empty() || !has_totp {
        return Err(sign_in_again(req));
    }
    if let Some(res) = throttled(req, state, &user.id) {
        return Err(res);
    }
    match service::verify_totp(&state.db, &state.envelope, &user.id, code, state.clock.now()).await {
        Ok(Verdict::Accepted) => Ok(()),
        Ok(v) => {
            state.login_failures.record_failure(FailureClass::SecondFactor, &super::peer_ip(req), &user.id).await;
            audit(state, req, &user.id, action, Some(v.as_str()));
            Err(browser::error_page(
                req,
                StatusCode::FORBIDDEN,
                "Not changed",
                "This needs your second factor: enter the current code from your app, or sign in again with your second factor and retry within 15 minutes.",
            ))
        }
        Err(e) => {
            tracing::error!(error = %e, "TOTP check failed");
            Err(browser::server_error_page(req))
        }
    }
}

async fn current_code_ok(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    user: &User,
    form: &CodeForm,
    action: &'static str,
) -> Result<(), HttpResponse> {
    if !csrf_ok(req, state, &form.csrf, Some(session)) {
        return Err(browser::csrf_refused(req));
    }
    second_factor_present(req, state, session, user, &form.code, action).await
}

/// `POST /account/mfa/totp/remove`: removes the authenticator and the
/// recovery codes, unless the policy requires a second factor.
pub async fn post_remove_totp(req: HttpRequest, form: web::Form<CodeForm>, state: web::Data<AppState>) -> HttpResponse {
    let (session, user) = match signed_in(&req, &state).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let others = match crate::mfa::service::factors(&state.db, &user.id).await {
        Ok(f) => f.webauthn,
        Err(_) => return browser::server_error_page(&req),
    };
    match policy_requires(&state, &user).await {
        Ok(true) if others == 0 => {
            return browser::error_page(
                &req,
                StatusCode::FORBIDDEN,
                "Required",
                "This account must keep a second factor: add a passkey before removing the authenticator app.",
            );
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "second-factor policy check failed");
            return browser::server_error_page(&req);
        }
    }
    if let Err(res) = current_code_ok(&req, &state, &session, &user, &form, "mfa.totp.remove_failed").await {
        return res;
    }
    if let Err(e) = crate::store::mfa::remove_totp(&state.db, &user.id).await {
        tracing::error!(error = %e, "removing the authenticator app failed");
        return browser::server_error_page(&req);
    }
    audit(&state, &req, &user.id, "mfa.totp.removed", None);
    see_other("/account")
}

/// `POST /account/mfa/recovery`: a new set of recovery codes; the old set
/// stops working.
pub async fn post_recovery_codes(
    req: HttpRequest,
    form: web::Form<CodeForm>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (session, user) = match signed_in(&req, &state).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if let Err(res) =
        current_code_ok(&req, &state, &session, &user, &form, "mfa.recovery_codes.regenerate_failed").await
    {
        return res;
    }
    new_codes(&req, &state, &user).await
}
