//! Registering passkeys: from the account page, and at a sign-in whose
//! policy (or client) demands a factor; and removing them.

use super::*;

/// `POST /account/passkeys/begin`.
pub async fn begin_registration(
    req: HttpRequest,
    sent: AccountForm<Begin, Script>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let AccountForm { form, session, .. } = sent;
    let user = match active_user(&state, &session.user_id, signed_out).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    use crate::web::factor_rules::{AddRule, PasswordRefused, add_rule, password_confirms};
    match add_rule(&state, &session).await {
        Ok(AddRule::Allowed) => {}
        Ok(AddRule::NeedsPassword) => match password_confirms(&req, &state, &user, form.password, "mfa.add_refused")
            .await
        {
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
pub async fn finish_registration(
    req: HttpRequest,
    sent: AccountForm<FinishRegistration, Script>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let AccountForm { form, session, .. } = sent;
    let user = match active_user(&state, &session.user_id, signed_out).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    // The password (when one was needed) was checked when the ceremony
    // began; only a change since then (a factor added) can refuse it now.
    match crate::web::factor_rules::add_rule(&state, &session).await {
        Ok(crate::web::factor_rules::AddRule::SignInAgain) => return sign_in_again(),
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
            if let Err(res) = changed(&state, &req, ev).await {
                return res;
            }
            match first_recovery_codes(&req, &state, &stored.user_id).await {
                Ok(codes) => reply(StatusCode::OK, json!({ "next": "/account", "recovery_codes": codes })),
                Err(res) => res,
            }
        }
        Err(e) if is_refusal(&e) => {
            refused(&state, &req, &user.id, "mfa.webauthn.register_failed", e.to_string());
            refuse(StatusCode::BAD_REQUEST, "the passkey could not be registered")
        }
        Err(e) => server_error(&e),
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
has_csrf!(RemoveForm);

/// `POST /account/passkeys/remove` (a form): needs a session that passed a
/// second factor, or a current TOTP code; a required last factor stays.
pub async fn post_remove(req: HttpRequest, sent: AccountForm<RemoveForm>, state: web::Data<AppState>) -> HttpResponse {
    let AccountForm { form, session, .. } = sent;
    let user = match crate::accounts::users::find(&state.db, &session.user_id).await {
        Ok(Some(u)) => u,
        Ok(None) => return browser::see_other("/login"),
        Err(_) => return browser::server_error_page(&req),
    };
    let factors = match crate::mfa::service::factors(&state.db, &user.id).await {
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
    if let Err(res) = crate::web::factor_rules::second_factor_present(
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
    match crate::mfa::service::remove_passkey(&state.db, &user.id, &form.id).await {
        Ok(true) => {}
        Ok(false) => return browser::error_page(&req, StatusCode::NOT_FOUND, "Not found", "No such passkey."),
        Err(_) => return browser::server_error_page(&req),
    }
    let mut ev = AuditEvent::new(state.clock.now(), format!("user:{}", user.id), "mfa.webauthn.removed", Some(user.id));
    ev.reason = Some(format!("credential {}", form.id.chars().take(128).collect::<String>()));
    if crate::web::record_change(&state, &req, ev).await.is_err() {
        return browser::server_error_page(&req);
    }
    browser::see_other("/account")
}

/// The user of a login challenge that must enrol a factor, while they are
/// still without any (a factor enrolled since closes this way in).
async fn enrolling(state: &AppState, c: &Challenge) -> Result<entity::users::Model, HttpResponse> {
    match crate::mfa::service::factors(&state.db, &c.user_id).await {
        Ok(f) if !f.any() => {}
        Ok(_) => {
            // A factor was enrolled since: this challenge may not add another.
            let _ = end_challenge(&state.db, c).await;
            return Err(no_longer_valid());
        }
        Err(e) => {
            tracing::error!(error = %e, "factor lookup failed");
            return Err(internal());
        }
    }
    active_user(state, &c.user_id, no_longer_valid).await
}

/// `POST /login/mfa/enrol/passkey/begin`: a passkey as the factor a policy
/// (or the client) demands, registered before any session exists.
pub async fn begin_enrolment(sent: ChallengeForm<Begin, Enrol, Script>, state: web::Data<AppState>) -> HttpResponse {
    let user = match enrolling(&state, &sent.challenge).await {
        Ok(u) => u,
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
pub async fn finish_enrolment(
    req: HttpRequest,
    sent: ChallengeForm<FinishRegistration, Enrol, Script>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let ChallengeForm { form, challenge: c, .. } = sent;
    let user = match enrolling(&state, &c).await {
        Ok(u) => u,
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
            refused(&state, &req, &user.id, "mfa.webauthn.register_failed", e.to_string());
            let _ = survives_failure(&state.db, &c).await;
            return refuse(StatusCode::BAD_REQUEST, "the passkey could not be registered");
        }
        Err(e) => return server_error(&e),
    };
    let mut ev = AuditEvent::new(now, format!("user:{}", user.id), "mfa.webauthn.registered", Some(user.id.clone()));
    ev.reason = Some(format!("credential {} ({}), at a sign-in that required it", stored.cred_id, stored.name));
    if let Err(res) = changed(&state, &req, ev).await {
        return res;
    }
    if !matches!(end_challenge(&state.db, &c).await, Ok(true)) {
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
    match crate::mfa::service::recovery_codes_left(&state.db, user_id).await {
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
            let ev =
                AuditEvent::new(now, format!("user:{user_id}"), "mfa.recovery_codes.created", Some(user_id.into()));
            changed(state, req, ev).await?;
            Ok(codes.iter().map(|c| c.as_str().to_owned()).collect())
        }
        Err(e) => Err(server_error(&e)),
    }
}
