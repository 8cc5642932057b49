//! The JSON half of the WebAuthn ceremonies, called by `static/webauthn.js`:
//! register a passkey (`register.rs`: from the account page, or at a
//! sign-in that must enrol a factor), use one as the second step of a
//! login, or sign in with one alone (`sign_in.rs`). Every endpoint checks
//! the page's CSRF token; the ceremony state stays on the server. What
//! both halves share is here.

mod register;
mod sign_in;

pub use register::{begin_enrolment, begin_registration, finish_enrolment, finish_registration, post_remove};
pub use sign_in::{begin_passwordless, begin_second_factor, finish_passwordless, finish_second_factor};

use super::browser::{self, current_session};
use super::extract::{AccountForm, ChallengeForm, CsrfForm, Enrol, Script, Verify, has_csrf};
use super::sign_in::{policy_requires, start_session, target, with_cookies};
use super::{AppState, peer_ip};
use crate::abuse::FailureClass;
use crate::accounts::sign_in::{Challenge, end_challenge, reserve_attempt, survives_failure};
use crate::audit::{AuditEvent, Outcome};
use crate::mfa::service::MfaError;
use crate::mfa::{ACR_MFA, amr_after};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

/// Passwordless ceremonies pending at once (each lives 5 minutes), so the
/// table stays bounded whatever the rate budgets say.
const MAX_PENDING_PASSWORDLESS: u64 = 10_000;

fn reply(status: StatusCode, body: serde_json::Value) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

fn refuse(status: StatusCode, message: &str) -> HttpResponse {
    super::extract::script_error(status, message)
}

/// Our failure (logged where it happened); the browser learns nothing more.
fn internal() -> HttpResponse {
    super::extract::script_internal()
}

/// The account `user_id` if it may still sign in; else `gone` answers.
async fn active_user(
    state: &AppState,
    user_id: &str,
    gone: fn() -> HttpResponse,
) -> Result<entity::users::Model, HttpResponse> {
    match crate::accounts::users::find_active(&state.db, user_id).await {
        Ok(Some(u)) => Ok(u),
        Ok(None) => Err(gone()),
        Err(e) => {
            tracing::error!(error = %e, "user lookup failed");
            Err(internal())
        }
    }
}

fn signed_out() -> HttpResponse {
    refuse(StatusCode::UNAUTHORIZED, "signed out")
}

fn no_longer_valid() -> HttpResponse {
    super::extract::script_gone()
}

fn sign_in_again() -> HttpResponse {
    refuse(StatusCode::FORBIDDEN, "adding a passkey needs your second factor from the last 15 minutes; sign in again")
}

fn unavailable() -> HttpResponse {
    refuse(StatusCode::NOT_FOUND, "passkeys need the issuer to be a domain name, not an IP address")
}

/// Reserves an attempt at the login challenge before the assertion is
/// checked (concurrent requests share the same five).
async fn reserve(state: &AppState, c: &Challenge) -> Result<(), HttpResponse> {
    match reserve_attempt(&state.db, c, state.clock.now()).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(refuse(StatusCode::TOO_MANY_REQUESTS, "too many attempts; sign in again")),
        Err(e) => {
            tracing::error!(error = %e, "reserving a challenge attempt failed");
            Err(internal())
        }
    }
}

fn server_error(e: &MfaError) -> HttpResponse {
    tracing::error!(error = %e, "WebAuthn ceremony failed");
    internal()
}

/// Failures a person can cause (a bad or foreign assertion, an expired
/// ceremony) against our own.
fn is_refusal(e: &MfaError) -> bool {
    matches!(e, MfaError::Ceremony | MfaError::UnknownCredential | MfaError::Duplicate | MfaError::Webauthn(_))
}

/// A refused ceremony, recorded in the background.
fn refused(state: &AppState, req: &HttpRequest, user_id: &str, action: &'static str, reason: String) {
    let mut ev = AuditEvent::new(state.clock.now(), format!("user:{user_id}"), action, Some(user_id.to_owned()));
    ev.outcome = Outcome::Failure;
    ev.reason = Some(reason);
    state.actors.audit.record(super::with_request(ev, req));
}

/// A change made (a passkey, recovery codes): acknowledged only once its
/// event is durable.
async fn changed(state: &AppState, req: &HttpRequest, ev: AuditEvent) -> Result<(), HttpResponse> {
    super::record_change(state, req, ev).await.map_err(|_| internal())
}

#[derive(serde::Deserialize)]
pub struct Begin {
    #[serde(default)]
    csrf: String,
    /// Registration from an account without any factor asks for it.
    #[serde(default)]
    password: zeroize::Zeroizing<String>,
}

#[derive(serde::Deserialize)]
pub struct FinishRegistration {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    name: String,
    credential: RegisterPublicKeyCredential,
}

#[derive(serde::Deserialize)]
pub struct FinishAssertion {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    /// The authorization request to resume (passwordless sign-in only).
    #[serde(default)]
    request: String,
    credential: PublicKeyCredential,
}

has_csrf!(Begin, FinishRegistration, FinishAssertion);
