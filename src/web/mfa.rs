//! The second step of a login (`/login/mfa`): a TOTP or recovery code.
//! What every way of finishing a sign-in shares is in `sign_in.rs`; the
//! enrolment a policy or client forces in `mfa_enrol.rs`; passkeys in
//! `passkeys/`.

use super::AppState;
use super::authorize::stylesheet;
use super::browser::{self, csrf_cookie, csrf_token, current_session, html, see_other};
use super::extract::{ChallengeForm, Verify, has_csrf};
use super::sign_in::{
    challenge_of_request, count_failure, ended, exhausted, expired, form_actions, locked_out, reserve, start_session,
    target, throttled, with_cookies,
};
use crate::accounts::sign_in::{self, Challenge, ChallengePurpose};
use crate::audit::AuditEvent;
use crate::mfa::amr_after;
use crate::mfa::service::{self, Verdict};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
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
    if state.db_health.is_down() {
        return browser::unavailable_page(&req);
    }
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

has_csrf!(CodeForm);

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

/// `POST /login/mfa`: a TOTP code or a recovery code.
pub async fn post_challenge(
    req: HttpRequest,
    answer: ChallengeForm<CodeForm, Verify>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let ChallengeForm { form, challenge: c, .. } = answer;
    if let Some(res) = throttled(&req, &state, &c.user_id) {
        return res;
    }
    let now = state.clock.now();
    match locked_out(&req, &state, &c).await {
        Ok(false) => {}
        Ok(true) => {
            let text = "Too many failed attempts. Try again later.";
            return ended(&req, &state, StatusCode::TOO_MANY_REQUESTS, "Account locked", text);
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
