//! What changing the account's second factors takes from a session. A
//! borrowed session must not be enough to take the account over, so:
//! adding a factor needs a second factor passed in the last 15 minutes
//! (or, for an account without any, the password again); removing one or
//! replacing the recovery codes needs such a recent second factor, or a
//! current TOTP code. The account page, the TOTP pages and the passkey
//! endpoints all ask here.

use super::AppState;
use super::browser;
use super::mfa_account::refused;
use super::sign_in::throttled;
use crate::abuse::FailureClass;
use crate::actors::sessions::Session;
use crate::mfa::service::{self, Verdict};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use entity::users::Model as User;
use zeroize::Zeroizing;

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

pub(super) async fn add_rule(state: &AppState, session: &Session) -> Result<AddRule, crate::mfa::service::MfaError> {
    let factors = crate::mfa::service::factors(&state.db, &session.user_id).await?;
    Ok(add_rule_given(session, &factors, state.clock.now()))
}

/// The same, for factors already read.
pub(super) fn add_rule_given(
    session: &Session,
    factors: &crate::mfa::service::Factors,
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

pub(super) fn sign_in_again(req: &HttpRequest) -> HttpResponse {
    browser::error_page(
        req,
        StatusCode::FORBIDDEN,
        "Sign in again",
        "Changing how you sign in needs your second factor from the last 15 minutes. Sign out, sign in again and retry.",
    )
}

pub(super) async fn rule_of(req: &HttpRequest, state: &AppState, session: &Session) -> Result<AddRule, HttpResponse> {
    add_rule(state, session).await.map_err(|e| {
        tracing::error!(error = %e, "factor lookup failed");
        browser::server_error_page(req)
    })
}

/// Checks the password a signed-in person gives again (to add a first
/// factor, change the password, make an admin change); a wrong one counts
/// like a failed login (budget and lockout) and is audited as `refusal`.
pub(super) async fn password_confirms(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    password: Zeroizing<String>,
    refusal: &'static str,
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
            refused(state, req, &user.id, refusal, "wrong password");
            Err(PasswordRefused::Wrong)
        }
        Ok(_) => {
            state.login_failures.record_failure(FailureClass::Login, &ip, &identity).await;
            refused(state, req, &user.id, refusal, "wrong password");
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

pub(super) fn password_refused(req: &HttpRequest, r: PasswordRefused) -> HttpResponse {
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
            refused(state, req, &user.id, action, v.as_str());
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
