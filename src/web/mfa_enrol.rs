//! The enrolment a policy or a client's `acr_values` forces during a
//! sign-in (`/login/mfa/enrol`), the enrolment page the account page
//! shares, and the page that shows recovery codes once.

use super::AppState;
use super::authorize::stylesheet;
use super::browser::{self, csrf_cookie, csrf_token, current_session, html, page_csp, see_other};
use super::extract::{ChallengeForm, Enrol};
use super::mfa::CodeForm;
use super::peer_ip;
use super::sign_in::{
    challenge_of_request, exhausted, expired, form_actions, page, reserve, start_session, target, throttled,
    with_cookies,
};
use crate::abuse::FailureClass;
use crate::accounts::sign_in::{self, Challenge, ChallengePurpose};
use crate::audit::{AuditEvent, Outcome};
use crate::mfa::service::{self, MfaError, Verdict};
use crate::mfa::{amr_after, totp};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use entity::users::Model as User;
use zeroize::Zeroizing;

#[derive(Template)]
#[template(path = "totp_enrol.html")]
pub(super) struct EnrolPage<'a> {
    pub stylesheet: &'a str,
    pub error: &'a str,
    pub csrf: &'a str,
    pub action: &'a str,
    pub cancel: &'a str,
    pub required: bool,
    pub ask_password: bool,
    pub qr: &'a str,
    pub secret: &'a str,
    /// Offer a passkey instead (during a login that must enrol).
    pub passkeys: bool,
    pub script: &'a str,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub(super) struct RecoveryCodesPage<'a> {
    pub stylesheet: &'a str,
    pub codes: Vec<&'a str>,
    pub continue_to: &'a str,
}

async fn user_of(req: &HttpRequest, state: &AppState, user_id: &str) -> Result<User, HttpResponse> {
    match crate::accounts::users::find_active(&state.db, user_id).await {
        Ok(Some(u)) => Ok(u),
        Ok(None) => Err(expired(req, state)),
        Err(e) => {
            tracing::error!(error = %e, "user lookup failed");
            Err(browser::server_error_page(req))
        }
    }
}

/// Where and for whom an enrolment page is shown.
pub(super) struct Enrolment<'a> {
    /// The login challenge or session (id hash) the seed is shown to.
    pub requester: &'a str,
    pub csrf: &'a str,
    pub action: &'a str,
    pub cancel: &'a str,
    /// During a sign-in that must enrol (a passkey is offered too).
    pub required: bool,
    /// The account has no factor yet: the form asks for the password.
    pub ask_password: bool,
}

/// The enrolment page for `user`: a pending seed as a QR code and as text.
pub(super) async fn render_enrol(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    enrol: &Enrolment<'_>,
    error: &str,
    actions: &[String],
    set: Option<actix_web::cookie::Cookie<'static>>,
) -> HttpResponse {
    let now = state.clock.now();
    let secret = match service::begin_totp(&state.db, &state.envelope, &user.id, enrol.requester, now).await {
        Ok(s) => s,
        Err(MfaError::AlreadyEnrolled) => return see_other("/account"),
        Err(e) => {
            tracing::error!(error = %e, "starting a TOTP enrolment failed");
            return browser::server_error_page(req);
        }
    };
    let issuer = url::Url::parse(&state.settings.issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "Gatehouse".to_owned());
    let uri = totp::otpauth_uri(&issuer, &user.username, &secret);
    let Some(qr) = totp::qr_svg(&uri) else { return browser::server_error_page(req) };
    let b32 = secret.base32();
    let grouped: Zeroizing<String> = Zeroizing::new(
        b32.as_bytes().chunks(4).filter_map(|c| std::str::from_utf8(c).ok()).collect::<Vec<_>>().join(" "),
    );
    let passkeys = enrol.required && state.passkeys.is_some();
    let body = EnrolPage {
        stylesheet: stylesheet(),
        error,
        csrf: enrol.csrf,
        action: enrol.action,
        cancel: enrol.cancel,
        required: enrol.required,
        ask_password: enrol.ask_password,
        qr: &qr,
        secret: &grouped,
        passkeys,
        script: super::assets::script_path(),
    }
    .render();
    let Ok(body) = body else { return browser::server_error_page(req) };
    let csp = if passkeys { browser::page_csp_with_script(actions) } else { page_csp(actions, None) };
    let mut res = html(HttpResponse::Ok(), &csp, body);
    if let Some(c) = set {
        browser::set_cookie(&mut res, &c);
    }
    res
}

/// `GET /login/mfa/enrol`: enrolment during a login that must have a factor.
pub async fn get_enrol(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if state.db_health.is_down() {
        return browser::unavailable_page(&req);
    }
    let c = match challenge_of_request(&req, &state).await {
        Ok(Some(c)) if sign_in::is_for(&c, ChallengePurpose::Enrol) => c,
        Ok(Some(_)) => return see_other("/login/mfa"),
        Ok(None) => return see_other("/login"),
        Err(res) => return res,
    };
    enrol_page(&req, &state, &c, "").await
}

async fn enrol_page(req: &HttpRequest, state: &AppState, c: &Challenge, error: &str) -> HttpResponse {
    let user = match user_of(req, state, &c.user_id).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let Some((cookie, set)) = csrf_cookie(req, state) else { return browser::server_error_page(req) };
    let csrf = csrf_token(state, &cookie, None);
    let actions = form_actions(req, state, c).await;
    let enrol = Enrolment {
        requester: &c.id_hash,
        csrf: &csrf,
        action: "/login/mfa/enrol",
        cancel: "/login",
        required: true,
        ask_password: false,
    };
    render_enrol(req, state, &user, &enrol, error, &actions, set).await
}

/// `POST /login/mfa/enrol`: the first code confirms the authenticator and
/// completes the login; the recovery codes are shown once.
pub async fn post_enrol(
    req: HttpRequest,
    answer: ChallengeForm<CodeForm, Enrol>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let ChallengeForm { form, challenge: c, .. } = answer;
    if let Some(res) = throttled(&req, &state, &c.user_id) {
        return res;
    }
    if let Err(res) = still_without_factor(&req, &state, &c).await {
        return res;
    }
    if let Err(res) = reserve(&req, &state, &c).await {
        return res;
    }
    let now = state.clock.now();
    match service::confirm_totp(&state.db, &state.envelope, &c.user_id, &c.id_hash, &form.code, now).await {
        Ok(Verdict::Accepted) => {}
        Ok(v) => {
            state.login_failures.record_failure(FailureClass::SecondFactor, &peer_ip(&req), &c.user_id).await;
            let mut ev =
                AuditEvent::new(now, format!("user:{}", c.user_id), "mfa.totp.enrol_failed", Some(c.user_id.clone()));
            ev.outcome = Outcome::Failure;
            ev.reason = Some(v.as_str().to_owned());
            state.actors.audit.record(super::with_request(ev, &req));
            return match sign_in::survives_failure(&state.db, &c).await {
                Ok(true) => {
                    enrol_page(&req, &state, &c, "That code is not valid. Check the time on your device.").await
                }
                Ok(false) => exhausted(&req, &state),
                Err(_) => browser::server_error_page(&req),
            };
        }
        Err(e) => {
            tracing::error!(error = %e, "confirming a TOTP enrolment failed");
            return browser::server_error_page(&req);
        }
    }
    if !matches!(sign_in::end_challenge(&state.db, &c).await, Ok(true)) {
        return expired(&req, &state);
    }
    let ev = AuditEvent::new(now, format!("user:{}", c.user_id), "mfa.totp.enrolled", Some(c.user_id.clone()));
    if super::record_change(&state, &req, ev).await.is_err() {
        return browser::server_error_page(&req);
    }
    let codes = match service::new_recovery_codes(&state.db, &state.secret_hasher, &c.user_id, now).await {
        Ok(codes) => codes,
        Err(e) => {
            tracing::error!(error = %e, "creating recovery codes failed");
            return browser::server_error_page(&req);
        }
    };
    let ev = AuditEvent::new(now, format!("user:{}", c.user_id), "mfa.recovery_codes.created", Some(c.user_id.clone()));
    if super::record_change(&state, &req, ev).await.is_err() {
        return browser::server_error_page(&req);
    }
    let old = current_session(&req, &state).await;
    let amr = amr_after(&c.amr, "otp");
    let cookies = match start_session(&req, &state, &c.user_id, &amr, old.as_ref()).await {
        Ok(cookies) => cookies,
        Err(res) => return res,
    };
    with_cookies(recovery_codes_page(&req, &codes, &target(&c.request)), cookies)
}

/// An enrolment challenge is for someone without a factor: if one was
/// enrolled since (in another browser), the challenge ends and the next
/// sign-in asks for that factor — an old challenge must not add another.
pub(super) async fn still_without_factor(
    req: &HttpRequest,
    state: &AppState,
    c: &Challenge,
) -> Result<(), HttpResponse> {
    match crate::mfa::service::factors(&state.db, &c.user_id).await {
        Ok(f) if !f.any() => Ok(()),
        Ok(_) => {
            let _ = sign_in::end_challenge(&state.db, c).await;
            Err(expired(req, state))
        }
        Err(e) => {
            tracing::error!(error = %e, "factor lookup failed");
            Err(browser::server_error_page(req))
        }
    }
}

/// The one time recovery codes are shown.
pub(super) fn recovery_codes_page(req: &HttpRequest, codes: &[Zeroizing<String>], continue_to: &str) -> HttpResponse {
    let body =
        RecoveryCodesPage { stylesheet: stylesheet(), codes: codes.iter().map(|c| c.as_str()).collect(), continue_to }
            .render();
    page(req, body, &[], StatusCode::OK, None)
}
