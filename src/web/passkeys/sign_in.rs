//! Signing in with a passkey: as the second step after a password, or
//! alone (a discoverable credential, with user verification).

use super::*;

/// `POST /login/mfa/passkey/begin`: the second step with a passkey.
pub async fn begin_second_factor(
    answer: ChallengeForm<Begin, Verify, Script>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let c = answer.challenge;
    let Some(pk) = state.passkeys.as_deref() else { return unavailable() };
    match pk.begin_second_factor(&state.db, &c.user_id, state.clock.now()).await {
        Ok((ceremony, options)) => reply(StatusCode::OK, json!({ "ceremony": ceremony, "options": options })),
        Err(MfaError::UnknownCredential) => refuse(StatusCode::BAD_REQUEST, "no passkey is registered"),
        Err(e) => server_error(&e),
    }
}

/// `POST /login/mfa/passkey/finish`.
pub async fn finish_second_factor(
    req: HttpRequest,
    answer: ChallengeForm<FinishAssertion, Verify, Script>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (form, c) = (answer.form, answer.challenge);
    let ip = peer_ip(&req);
    if state.login_failures.blocked(FailureClass::SecondFactor, &ip, &c.user_id).is_some() {
        return refuse(StatusCode::TOO_MANY_REQUESTS, "too many attempts; try again later");
    }
    let now = state.clock.now();
    match crate::web::sign_in::locked_out(&req, &state, &c).await {
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
            if let Err(e) =
                crate::web::sign_in::count_failure(&req, &state, &c, "mfa.webauthn.failed", e.to_string()).await
            {
                tracing::error!(error = %e, "recording a failed second factor failed");
                return internal();
            }
            return refuse(StatusCode::BAD_REQUEST, "that passkey was not accepted");
        }
        Err(e) => return server_error(&e),
    };
    if !matches!(end_challenge(&state.db, &c).await, Ok(true)) {
        return no_longer_valid();
    }
    let mut ev = AuditEvent::new(now, format!("user:{}", c.user_id), "mfa.webauthn.used", Some(c.user_id.clone()));
    ev.reason = Some(format!("credential {}", assertion.cred_id));
    state.actors.audit.record(crate::web::with_request(ev, &req));
    let old = current_session(&req, &state).await;
    let amr = amr_after(&c.amr, assertion.method);
    match start_session(&req, &state, &c.user_id, &amr, old.as_ref()).await {
        Ok(cookies) => with_cookies(reply(StatusCode::OK, json!({ "next": target(&c.request) })), cookies),
        Err(_) => internal(),
    }
}

/// `POST /login/passkey/begin`: sign in with a passkey alone.
pub async fn begin_passwordless(
    req: HttpRequest,
    begin: CsrfForm<Begin, Script>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let form = begin.form;
    // Each start stores a ceremony for nobody yet: budget them per browser
    // (its CSRF token) and address, and bound how many may be pending.
    let ip = peer_ip(&req);
    let browser_id: String = form.csrf.chars().take(64).collect();
    if let Some(b) = state.failures.blocked(FailureClass::PasskeyStart, &ip, &browser_id) {
        state.metrics.rate_limited.with_label_values(&[FailureClass::PasskeyStart.as_str()]).inc();
        let mut res = refuse(StatusCode::TOO_MANY_REQUESTS, "too many attempts; try again later");
        crate::web::rate_limit_headers_on(&mut res, b.limit, b.retry_after);
        return res;
    }
    state.failures.record_failure(FailureClass::PasskeyStart, &ip, &browser_id).await;
    let Some(pk) = state.passkeys.as_deref() else { return unavailable() };
    match pk.pending_passwordless(&state.db, state.clock.now()).await {
        Ok(n) if n < MAX_PENDING_PASSWORDLESS => {}
        Ok(_) => return refuse(StatusCode::TOO_MANY_REQUESTS, "too many sign-ins in progress; try again shortly"),
        Err(e) => {
            tracing::error!(error = %e, "ceremony count failed");
            return internal();
        }
    }
    match pk.begin_passwordless(&state.db, state.clock.now()).await {
        Ok((ceremony, options)) => reply(StatusCode::OK, json!({ "ceremony": ceremony, "options": options })),
        Err(e) => server_error(&e),
    }
}

/// `POST /login/passkey/finish`: a verified passkey is a multi-factor
/// login by itself (user verification is required).
pub async fn finish_passwordless(
    req: HttpRequest,
    finish: CsrfForm<FinishAssertion, Script>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let CsrfForm { form, session: old, .. } = finish;
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
            state.actors.audit.record(crate::web::with_request(ev, &req));
            return refuse(StatusCode::BAD_REQUEST, "that passkey was not accepted");
        }
        Err(e) => return server_error(&e),
    };
    let user = match crate::accounts::users::find(&state.db, &assertion.user_id).await {
        Ok(Some(u)) => u,
        Ok(None) => return refuse(StatusCode::BAD_REQUEST, "that passkey was not accepted"),
        Err(e) => {
            tracing::error!(error = %e, "user lookup failed");
            return internal();
        }
    };
    let devices = crate::web::browser::devices(&req, &state);
    let budget = crate::accounts::devices::budget(&devices, &user.id);
    // Unreadable counts as locked: this answer must not start a session.
    let locked = !matches!(crate::accounts::lockout::is_locked(&state.db, budget, now).await, Ok(false));
    if !user.active || locked {
        let reason = if locked { "account locked" } else { "account disabled" };
        refused(&state, &req, &user.id, "login.failed", reason.into());
        return refuse(StatusCode::FORBIDDEN, "this account cannot sign in now");
    }
    let mut ev = AuditEvent::new(now, format!("user:{}", user.id), "mfa.webauthn.used", Some(user.id.clone()));
    ev.reason = Some(format!("passwordless; credential {}", assertion.cred_id));
    state.actors.audit.record(crate::web::with_request(ev, &req));
    let request = if form.request.is_empty() {
        String::new()
    } else {
        match crate::web::authorize::validated(&req, &state, form.request.as_bytes()).await {
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
