//! The JSON half of the WebAuthn ceremonies, called by `static/webauthn.js`:
//! register a passkey from the account page, use one as the second step
//! of a login, or sign in with one alone. Every endpoint checks the page's
//! CSRF token; the ceremony state stays on the server.

use super::browser::{self, csrf_ok, current_session};
use super::mfa::{MAX_CHALLENGE_FAILURES, challenge_of_request, policy_requires, start_session, target, with_cookies};
use super::{AppState, peer_ip, read_body_limited};
use crate::abuse::FailureClass;
use crate::actors::sessions::Session;
use crate::mfa::service::MfaError;
use crate::mfa::webauthn::Purpose;
use crate::mfa::{ACR_MFA, amr_after};
use crate::store::audit::{AuditEvent, Outcome};
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
    reply(status, json!({ "error": message }))
}

/// Our failure (logged where it happened); the browser learns nothing more.
fn internal() -> HttpResponse {
    refuse(StatusCode::INTERNAL_SERVER_ERROR, "something went wrong")
}

/// The account `user_id` if it may still sign in; else `gone` answers.
async fn active_user(
    state: &AppState,
    user_id: &str,
    gone: fn() -> HttpResponse,
) -> Result<entity::users::Model, HttpResponse> {
    match crate::store::users::find_by_id(&state.db, user_id).await {
        Ok(Some(u)) if u.active => Ok(u),
        Ok(_) => Err(gone()),
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
    refuse(StatusCode::FORBIDDEN, "this sign-in is no longer valid; start again")
}

/// Reads a JSON body within the body limit.
async fn body<T: serde::de::DeserializeOwned>(payload: web::Payload, state: &AppState) -> Result<T, HttpResponse> {
    let bytes = read_body_limited(payload, state.settings.body_limit_bytes)
        .await
        .map_err(|_| refuse(StatusCode::PAYLOAD_TOO_LARGE, "request too large"))?;
    serde_json::from_slice(&bytes).map_err(|_| refuse(StatusCode::BAD_REQUEST, "malformed request"))
}

fn sign_in_again() -> HttpResponse {
    refuse(StatusCode::FORBIDDEN, "adding a passkey needs your second factor from the last 15 minutes; sign in again")
}

fn unavailable() -> HttpResponse {
    refuse(StatusCode::NOT_FOUND, "passkeys need the issuer to be a domain name, not an IP address")
}

/// Reserves an attempt at the login challenge before the assertion is
/// checked (concurrent requests share the same five).
async fn reserve(state: &AppState, c: &entity::login_challenges::Model) -> Result<(), HttpResponse> {
    match crate::store::mfa::reserve_attempt(&state.db, &c.id_hash, MAX_CHALLENGE_FAILURES, state.clock.now()).await {
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

fn audit(state: &AppState, req: &HttpRequest, user_id: &str, action: &'static str, failure: Option<String>) {
    let mut ev = AuditEvent::new(state.clock.now(), format!("user:{user_id}"), action, Some(user_id.to_owned()));
    if let Some(reason) = failure {
        ev.outcome = Outcome::Failure;
        ev.reason = Some(reason);
    }
    state.actors.audit.record(super::with_request(ev, req));
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

async fn account_user(req: &HttpRequest, state: &AppState) -> Result<(Session, entity::users::Model), HttpResponse> {
    let Some(session) = current_session(req, state).await else { return Err(signed_out()) };
    let user = active_user(state, &session.user_id, signed_out).await?;
    Ok((session, user))
}

/// `POST /account/passkeys/begin`.
pub async fn begin_registration(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let form: Begin = match body(payload, &state).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let (session, user) = match account_user(&req, &state).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if !csrf_ok(&req, &state, &form.csrf, Some(&session)) {
        return refuse(StatusCode::FORBIDDEN, "the page expired; reload it");
    }
    use super::mfa_account::{AddRule, PasswordRefused, add_rule, password_confirms};
    match add_rule(&state, &session).await {
        Ok(AddRule::Allowed) => {}
        Ok(AddRule::NeedsPassword) => match password_confirms(&req, &state, &user, form.password).await {
            Ok(()) => {}
            Err(PasswordRefused::Wrong) => return refuse(StatusCode::FORBIDDEN, "that password is not right"),
            Err(PasswordRefused::Throttled) => return refuse(StatusCode::TOO_MANY_REQUESTS, "try again in a minute"),
            Err(PasswordRefused::Failed) => return internal(),
        },
        Ok(AddRule::SignInAgain) => return sign_in_again(),
        Err(e) => {
            tracing::error!(error = %e, "factor lookup failed");
            return internal();
        }
    }
    let Some(pk) = state.passkeys.as_deref() else { return unavailable() };
    match pk.begin_registration(&state.db, &user, state.clock.now()).await {
        Ok((ceremony, options)) => reply(StatusCode::OK, json!({ "ceremony": ceremony, "options": options })),
        Err(e) => server_error(&e),
    }
}

/// `POST /account/passkeys/finish`.
pub async fn finish_registration(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let form: FinishRegistration = match body(payload, &state).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let (session, user) = match account_user(&req, &state).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if !csrf_ok(&req, &state, &form.csrf, Some(&session)) {
        return refuse(StatusCode::FORBIDDEN, "the page expired; reload it");
    }
    // The password (when one was needed) was checked when the ceremony
    // began; only a change since then (a factor added) can refuse it now.
    match super::mfa_account::add_rule(&state, &session).await {
        Ok(super::mfa_account::AddRule::SignInAgain) => return sign_in_again(),
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "factor lookup failed");
            return internal();
        }
    }
    let Some(pk) = state.passkeys.as_deref() else { return unavailable() };
    let now = state.clock.now();
    match pk.finish_registration(&state.db, &user, &form.ceremony, &form.credential, &form.name, now).await {
        Ok(stored) => {
            let mut ev = AuditEvent::new(now, format!("user:{}", user.id), "mfa.webauthn.registered", Some(user.id));
            ev.reason = Some(format!("credential {} ({})", stored.cred_id, stored.name));
            state.actors.audit.record(super::with_request(ev, &req));
            match first_recovery_codes(&req, &state, &stored.user_id).await {
                Ok(codes) => reply(StatusCode::OK, json!({ "next": "/account", "recovery_codes": codes })),
                Err(res) => res,
            }
        }
        Err(e) if is_refusal(&e) => {
            audit(&state, &req, &user.id, "mfa.webauthn.register_failed", Some(e.to_string()));
            refuse(StatusCode::BAD_REQUEST, "the passkey could not be registered")
        }
        Err(e) => server_error(&e),
    }
}

/// `POST /login/mfa/passkey/begin`: the second step with a passkey.
pub async fn begin_second_factor(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let form: Begin = match body(payload, &state).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    if !csrf_ok(&req, &state, &form.csrf, None) {
        return refuse(StatusCode::FORBIDDEN, "the page expired; reload it");
    }
    let c = match challenge_of_request(&req, &state).await {
        Ok(Some(c)) if c.purpose == "verify" => c,
        Ok(_) => return no_longer_valid(),
        Err(_) => return internal(),
    };
    let Some(pk) = state.passkeys.as_deref() else { return unavailable() };
    match pk.begin_second_factor(&state.db, &c.user_id, state.clock.now()).await {
        Ok((ceremony, options)) => reply(StatusCode::OK, json!({ "ceremony": ceremony, "options": options })),
        Err(MfaError::UnknownCredential) => refuse(StatusCode::BAD_REQUEST, "no passkey is registered"),
        Err(e) => server_error(&e),
    }
}

/// `POST /login/mfa/passkey/finish`.
pub async fn finish_second_factor(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let form: FinishAssertion = match body(payload, &state).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    if !csrf_ok(&req, &state, &form.csrf, None) {
        return refuse(StatusCode::FORBIDDEN, "the page expired; reload it");
    }
    let c = match challenge_of_request(&req, &state).await {
        Ok(Some(c)) if c.purpose == "verify" => c,
        Ok(_) => return no_longer_valid(),
        Err(_) => return internal(),
    };
    let ip = peer_ip(&req);
    if state.login_failures.blocked(FailureClass::SecondFactor, &ip, &c.user_id).is_some() {
        return refuse(StatusCode::TOO_MANY_REQUESTS, "too many attempts; try again later");
    }
    let now = state.clock.now();
    match super::mfa::locked_out(&state, &c).await {
        Ok(false) => {}
        Ok(true) => return refuse(StatusCode::TOO_MANY_REQUESTS, "too many failed attempts; try again later"),
        Err(e) => {
            tracing::error!(error = %e, "lockout lookup failed");
            return internal();
        }
    }
    if let Err(res) = reserve(&state, &c).await {
        return res;
    }
    let Some(pk) = state.passkeys.as_deref() else { return unavailable() };
    let assertion = match pk.finish_second_factor(&state.db, &c.user_id, &form.ceremony, &form.credential, now).await {
        Ok(a) => a,
        Err(e) if is_refusal(&e) => {
            if let Err(e) = super::mfa::count_failure(&req, &state, &c, "mfa.webauthn.failed", e.to_string()).await {
                tracing::error!(error = %e, "recording a failed second factor failed");
                return internal();
            }
            return refuse(StatusCode::BAD_REQUEST, "that passkey was not accepted");
        }
        Err(e) => return server_error(&e),
    };
    if !matches!(crate::store::mfa::take_challenge(&state.db, &c.id_hash).await, Ok(true)) {
        return no_longer_valid();
    }
    let mut ev = AuditEvent::new(now, format!("user:{}", c.user_id), "mfa.webauthn.used", Some(c.user_id.clone()));
    ev.reason = Some(format!("credential {}", assertion.cred_id));
    state.actors.audit.record(super::with_request(ev, &req));
    let old = current_session(&req, &state).await;
    let amr = amr_after(&c.amr, assertion.method);
    match start_session(&req, &state, &c.user_id, &amr, old.as_ref()).await {
        Ok(cookies) => with_cookies(reply(StatusCode::OK, json!({ "next": target(&c.request) })), cookies),
        Err(_) => internal(),
    }
}

/// `POST /login/passkey/begin`: sign in with a passkey alone.
pub async fn begin_passwordless(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let form: Begin = match body(payload, &state).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let session = current_session(&req, &state).await;
    if !csrf_ok(&req, &state, &form.csrf, session.as_ref()) {
        return refuse(StatusCode::FORBIDDEN, "the page expired; reload it");
    }
    // Each start stores a ceremony for nobody yet: budget them per browser
    // (its CSRF token) and address, and bound how many may be pending.
    let ip = peer_ip(&req);
    let browser_id: String = form.csrf.chars().take(64).collect();
    if let Some(b) = state.failures.blocked(FailureClass::PasskeyStart, &ip, &browser_id) {
        state.metrics.rate_limited.with_label_values(&[FailureClass::PasskeyStart.as_str()]).inc();
        let mut res = refuse(StatusCode::TOO_MANY_REQUESTS, "too many attempts; try again later");
        super::rate_limit_headers_on(&mut res, b.limit, b.retry_after);
        return res;
    }
    state.failures.record_failure(FailureClass::PasskeyStart, &ip, &browser_id).await;
    match crate::store::webauthn::live_ceremonies(&state.db, Purpose::Passwordless.as_str(), state.clock.now()).await {
        Ok(n) if n < MAX_PENDING_PASSWORDLESS => {}
        Ok(_) => return refuse(StatusCode::TOO_MANY_REQUESTS, "too many sign-ins in progress; try again shortly"),
        Err(e) => {
            tracing::error!(error = %e, "ceremony count failed");
            return internal();
        }
    }
    let Some(pk) = state.passkeys.as_deref() else { return unavailable() };
    match pk.begin_passwordless(&state.db, state.clock.now()).await {
        Ok((ceremony, options)) => reply(StatusCode::OK, json!({ "ceremony": ceremony, "options": options })),
        Err(e) => server_error(&e),
    }
}

/// `POST /login/passkey/finish`: a verified passkey is a multi-factor
/// login by itself (user verification is required).
pub async fn finish_passwordless(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let form: FinishAssertion = match body(payload, &state).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let old = current_session(&req, &state).await;
    if !csrf_ok(&req, &state, &form.csrf, old.as_ref()) {
        return refuse(StatusCode::FORBIDDEN, "the page expired; reload it");
    }
    let ip = peer_ip(&req);
    if state.login_failures.blocked(FailureClass::Login, &ip, "passkey").is_some() {
        return refuse(StatusCode::TOO_MANY_REQUESTS, "too many attempts; try again later");
    }
    let Some(pk) = state.passkeys.as_deref() else { return unavailable() };
    let now = state.clock.now();
    let assertion = match pk.finish_passwordless(&state.db, &form.ceremony, &form.credential, now).await {
        Ok(a) => a,
        Err(e) if is_refusal(&e) => {
            state.login_failures.record_failure(FailureClass::Login, &ip, "passkey").await;
            let mut ev = AuditEvent::new(now, "anonymous", "login.failed", None);
            ev.outcome = Outcome::Failure;
            ev.reason = Some(format!("passkey: {e}"));
            state.actors.audit.record(super::with_request(ev, &req));
            return refuse(StatusCode::BAD_REQUEST, "that passkey was not accepted");
        }
        Err(e) => return server_error(&e),
    };
    let user = match crate::store::users::find_by_id(&state.db, &assertion.user_id).await {
        Ok(Some(u)) => u,
        Ok(None) => return refuse(StatusCode::BAD_REQUEST, "that passkey was not accepted"),
        Err(e) => {
            tracing::error!(error = %e, "user lookup failed");
            return internal();
        }
    };
    let locked = !matches!(crate::store::lockouts::locked_until(&state.db, &user.id, now).await, Ok(None));
    if !user.active || locked {
        audit(
            &state,
            &req,
            &user.id,
            "login.failed",
            Some(if locked { "account locked" } else { "account disabled" }.into()),
        );
        return refuse(StatusCode::FORBIDDEN, "this account cannot sign in now");
    }
    let mut ev = AuditEvent::new(now, format!("user:{}", user.id), "mfa.webauthn.used", Some(user.id.clone()));
    ev.reason = Some(format!("passwordless; credential {}", assertion.cred_id));
    state.actors.audit.record(super::with_request(ev, &req));
    let request = if form.request.is_empty() {
        String::new()
    } else {
        match super::authorize::validated(&req, &state, form.request.as_bytes()).await {
            Ok((params, _)) => params.to_query(),
            Err(_) => String::new(),
        }
    };
    let amr = format!("{} mfa", assertion.method);
    debug_assert_eq!(crate::mfa::acr_of(&amr), ACR_MFA);
    match start_session(&req, &state, &user.id, &amr, old.as_ref()).await {
        Ok(cookies) => with_cookies(reply(StatusCode::OK, json!({ "next": target(&request) })), cookies),
        Err(_) => internal(),
    }
}

#[derive(serde::Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    code: zeroize::Zeroizing<String>,
}

/// `POST /account/passkeys/remove` (a form): needs a session that passed a
/// second factor, or a current TOTP code; a required last factor stays.
pub async fn post_remove(req: HttpRequest, form: web::Form<RemoveForm>, state: web::Data<AppState>) -> HttpResponse {
    let Some(session) = current_session(&req, &state).await else { return browser::see_other("/login") };
    if !csrf_ok(&req, &state, &form.csrf, Some(&session)) {
        return browser::csrf_refused(&req);
    }
    let user = match crate::store::users::find_by_id(&state.db, &session.user_id).await {
        Ok(Some(u)) => u,
        Ok(None) => return browser::see_other("/login"),
        Err(_) => return browser::server_error_page(&req),
    };
    let factors = match crate::store::mfa::factors(&state.db, &user.id).await {
        Ok(f) => f,
        Err(_) => return browser::server_error_page(&req),
    };
    let last = factors.totp.is_none() && factors.webauthn <= 1;
    match policy_requires(&state, &user).await {
        Ok(true) if last => {
            return browser::error_page(
                &req,
                StatusCode::FORBIDDEN,
                "Required",
                "This account must keep a second factor: add another one before removing this one.",
            );
        }
        Ok(_) => {}
        Err(_) => return browser::server_error_page(&req),
    }
    if let Err(res) = super::mfa_account::second_factor_present(
        &req,
        &state,
        &session,
        &user,
        &form.code,
        "mfa.webauthn.remove_failed",
    )
    .await
    {
        return res;
    }
    match crate::store::webauthn::delete_credential(&state.db, &user.id, &form.id).await {
        Ok(true) => {}
        Ok(false) => return browser::error_page(&req, StatusCode::NOT_FOUND, "Not found", "No such passkey."),
        Err(_) => return browser::server_error_page(&req),
    }
    if let Err(e) = crate::store::mfa::drop_orphaned_recovery_codes(&state.db, &user.id).await {
        tracing::warn!(error = %e, "could not drop recovery codes");
    }
    let mut ev = AuditEvent::new(state.clock.now(), format!("user:{}", user.id), "mfa.webauthn.removed", Some(user.id));
    ev.reason = Some(format!("credential {}", form.id.chars().take(128).collect::<String>()));
    state.actors.audit.record(super::with_request(ev, &req));
    browser::see_other("/account")
}

/// The login challenge of a sign-in that must enrol a factor, and its user.
async fn enrolling(
    req: &HttpRequest,
    state: &AppState,
) -> Result<(entity::login_challenges::Model, entity::users::Model), HttpResponse> {
    let c = match challenge_of_request(req, state).await {
        Ok(Some(c)) if c.purpose == "enrol" => c,
        Ok(_) => return Err(no_longer_valid()),
        Err(_) => return Err(internal()),
    };
    match crate::store::mfa::factors(&state.db, &c.user_id).await {
        Ok(f) if !f.any() => {}
        Ok(_) => {
            // A factor was enrolled since: this challenge may not add another.
            let _ = crate::store::mfa::take_challenge(&state.db, &c.id_hash).await;
            return Err(no_longer_valid());
        }
        Err(e) => {
            tracing::error!(error = %e, "factor lookup failed");
            return Err(internal());
        }
    }
    let user = active_user(state, &c.user_id, no_longer_valid).await?;
    Ok((c, user))
}

/// `POST /login/mfa/enrol/passkey/begin`: a passkey as the factor a policy
/// (or the client) demands, registered before any session exists.
pub async fn begin_enrolment(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let form: Begin = match body(payload, &state).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    if !csrf_ok(&req, &state, &form.csrf, None) {
        return refuse(StatusCode::FORBIDDEN, "the page expired; reload it");
    }
    let (_, user) = match enrolling(&req, &state).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let Some(pk) = state.passkeys.as_deref() else { return unavailable() };
    match pk.begin_registration(&state.db, &user, state.clock.now()).await {
        Ok((ceremony, options)) => reply(StatusCode::OK, json!({ "ceremony": ceremony, "options": options })),
        Err(e) => server_error(&e),
    }
}

/// `POST /login/mfa/enrol/passkey/finish`: the new passkey completes the
/// login (its registration proved possession, with user verification).
pub async fn finish_enrolment(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let form: FinishRegistration = match body(payload, &state).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    if !csrf_ok(&req, &state, &form.csrf, None) {
        return refuse(StatusCode::FORBIDDEN, "the page expired; reload it");
    }
    let (c, user) = match enrolling(&req, &state).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if state.login_failures.blocked(FailureClass::SecondFactor, &peer_ip(&req), &user.id).is_some() {
        return refuse(StatusCode::TOO_MANY_REQUESTS, "too many attempts; try again later");
    }
    if let Err(res) = reserve(&state, &c).await {
        return res;
    }
    let Some(pk) = state.passkeys.as_deref() else { return unavailable() };
    let now = state.clock.now();
    let stored = match pk.finish_registration(&state.db, &user, &form.ceremony, &form.credential, &form.name, now).await
    {
        Ok(s) => s,
        Err(e) if is_refusal(&e) => {
            state.login_failures.record_failure(FailureClass::SecondFactor, &peer_ip(&req), &user.id).await;
            audit(&state, &req, &user.id, "mfa.webauthn.register_failed", Some(e.to_string()));
            let _ = crate::store::mfa::survives_failure(&state.db, &c.id_hash, MAX_CHALLENGE_FAILURES).await;
            return refuse(StatusCode::BAD_REQUEST, "the passkey could not be registered");
        }
        Err(e) => return server_error(&e),
    };
    let mut ev = AuditEvent::new(now, format!("user:{}", user.id), "mfa.webauthn.registered", Some(user.id.clone()));
    ev.reason = Some(format!("credential {} ({}), at a sign-in that required it", stored.cred_id, stored.name));
    state.actors.audit.record(super::with_request(ev, &req));
    if !matches!(crate::store::mfa::take_challenge(&state.db, &c.id_hash).await, Ok(true)) {
        return no_longer_valid();
    }
    let codes = match first_recovery_codes(&req, &state, &user.id).await {
        Ok(codes) => codes,
        Err(res) => return res,
    };
    let old = current_session(&req, &state).await;
    let amr = amr_after(&c.amr, if stored.backup_eligible { "swk" } else { "hwk" });
    match start_session(&req, &state, &user.id, &amr, old.as_ref()).await {
        Ok(cookies) => {
            with_cookies(reply(StatusCode::OK, json!({ "next": target(&c.request), "recovery_codes": codes })), cookies)
        }
        Err(_) => internal(),
    }
}

/// Recovery codes for an account that has none (its first factor was just
/// added), for the page to show once; empty if it has some already.
async fn first_recovery_codes(req: &HttpRequest, state: &AppState, user_id: &str) -> Result<Vec<String>, HttpResponse> {
    match crate::store::mfa::recovery_codes_left(&state.db, user_id).await {
        Ok(0) => {}
        Ok(_) => return Ok(Vec::new()),
        Err(e) => {
            tracing::error!(error = %e, "recovery code count failed");
            return Err(internal());
        }
    }
    let now = state.clock.now();
    match crate::mfa::service::new_recovery_codes(&state.db, &state.secret_hasher, user_id, now).await {
        Ok(codes) => {
            audit(state, req, user_id, "mfa.recovery_codes.created", None);
            Ok(codes.iter().map(|c| c.as_str().to_owned()).collect())
        }
        Err(e) => Err(server_error(&e)),
    }
}
