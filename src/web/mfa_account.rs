//! Second factors from the account page: set up an authenticator app,
//! remove it, and replace the recovery codes. A borrowed session must not
//! be enough to take the account over, so: adding a factor needs a second
//! factor passed in the last 15 minutes (or, for an account without any,
//! the password again); removing one or replacing the recovery codes
//! needs such a recent second factor, or a current TOTP code.

use super::AppState;
use super::browser::{self, csrf_cookie, csrf_token, see_other};
use super::extract::{AccountForm, SignedIn};
use super::factor_rules::{
    AddRule, password_confirms, password_refused, rule_of, second_factor_present, sign_in_again,
};
use super::mfa_enrol::{recovery_codes_page, render_enrol};
use super::sign_in::{policy_requires, throttled};
use crate::abuse::FailureClass;
use crate::actors::sessions::Session;
use crate::audit::{AuditEvent, Outcome};
use crate::mfa::service::{self, Verdict};
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

super::extract::has_csrf!(CodeForm);

impl std::fmt::Debug for CodeForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeForm").finish_non_exhaustive()
    }
}

/// The signed-in person's account, while it is active.
pub(super) async fn account_of(req: &HttpRequest, state: &AppState, session: &Session) -> Result<User, HttpResponse> {
    match crate::accounts::users::find_active(&state.db, &session.user_id).await {
        Ok(Some(u)) => Ok(u),
        Ok(None) => Err(see_other("/login")),
        Err(e) => {
            tracing::error!(error = %e, "user lookup failed");
            Err(browser::server_error_page(req))
        }
    }
}

pub(super) fn event(state: &AppState, user_id: &str, action: &'static str) -> AuditEvent {
    AuditEvent::new(state.clock.now(), format!("user:{user_id}"), action, Some(user_id.to_owned()))
}

/// A refused change, recorded in the background.
pub(super) fn refused(state: &AppState, req: &HttpRequest, user_id: &str, action: &'static str, reason: &str) {
    let mut ev = event(state, user_id, action);
    ev.outcome = Outcome::Failure;
    ev.reason = Some(reason.to_owned());
    state.actors.audit.record(super::with_request(ev, req));
}

/// A change made: acknowledged only once its event is durable.
async fn changed(state: &AppState, req: &HttpRequest, user_id: &str, action: &'static str) -> Result<(), HttpResponse> {
    super::record_change(state, req, event(state, user_id, action)).await.map_err(|_| browser::server_error_page(req))
}

/// `GET /account/mfa/totp`: the enrolment page.
pub async fn get_totp(req: HttpRequest, signed_in: SignedIn, state: web::Data<AppState>) -> HttpResponse {
    let session = signed_in.session;
    let user = match account_of(&req, &state, &session).await {
        Ok(u) => u,
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
pub async fn post_totp(req: HttpRequest, sent: AccountForm<CodeForm>, state: web::Data<AppState>) -> HttpResponse {
    let AccountForm { form, session, .. } = sent;
    let user = match account_of(&req, &state, &session).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let rule = match rule_of(&req, &state, &session).await {
        Ok(AddRule::SignInAgain) => return sign_in_again(&req),
        Ok(rule) => rule,
        Err(res) => return res,
    };
    if let Some(res) = throttled(&req, &state, &user.id) {
        return res;
    }
    if rule == AddRule::NeedsPassword
        && let Err(r) = password_confirms(&req, &state, &user, form.password, "mfa.add_refused").await
    {
        return password_refused(&req, r);
    }
    let now = state.clock.now();
    match service::confirm_totp(&state.db, &state.envelope, &user.id, &session.id, &form.code, now).await {
        Ok(Verdict::Accepted) => {}
        Ok(v) => {
            state.login_failures.record_failure(FailureClass::SecondFactor, &super::peer_ip(&req), &user.id).await;
            refused(&state, &req, &user.id, "mfa.totp.enrol_failed", v.as_str());
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
    if let Err(res) = changed(&state, &req, &user.id, "mfa.totp.enrolled").await {
        return res;
    }
    new_codes(&req, &state, &user).await
}

async fn new_codes(req: &HttpRequest, state: &AppState, user: &User) -> HttpResponse {
    match service::new_recovery_codes(&state.db, &state.secret_hasher, &user.id, state.clock.now()).await {
        Ok(codes) => match changed(state, req, &user.id, "mfa.recovery_codes.created").await {
            Ok(()) => recovery_codes_page(req, &codes, "/account"),
            Err(res) => res,
        },
        Err(e) => {
            tracing::error!(error = %e, "creating recovery codes failed");
            browser::server_error_page(req)
        }
    }
}

/// `POST /account/mfa/totp/remove`: removes the authenticator and the
/// recovery codes, unless the policy requires a second factor.
pub async fn post_remove_totp(
    req: HttpRequest,
    sent: AccountForm<CodeForm>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let AccountForm { form, session, .. } = sent;
    let user = match account_of(&req, &state, &session).await {
        Ok(u) => u,
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
    if let Err(res) = second_factor_present(&req, &state, &session, &user, &form.code, "mfa.totp.remove_failed").await {
        return res;
    }
    if let Err(e) = crate::mfa::service::remove_totp(&state.db, &user.id).await {
        tracing::error!(error = %e, "removing the authenticator app failed");
        return browser::server_error_page(&req);
    }
    match changed(&state, &req, &user.id, "mfa.totp.removed").await {
        Ok(()) => see_other("/account"),
        Err(res) => res,
    }
}

/// `POST /account/mfa/recovery`: a new set of recovery codes; the old set
/// stops working.
pub async fn post_recovery_codes(
    req: HttpRequest,
    sent: AccountForm<CodeForm>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let AccountForm { form, session, .. } = sent;
    let user = match account_of(&req, &state, &session).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let action = "mfa.recovery_codes.regenerate_failed";
    if let Err(res) = second_factor_present(&req, &state, &session, &user, &form.code, action).await {
        return res;
    }
    new_codes(&req, &state, &user).await
}
