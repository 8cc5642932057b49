//! The account page (sessions and consents, each revocable), sign-out,
//! and RP-Initiated Logout 1.0 (`/end_session`).

use super::authorize::stylesheet;
use super::browser::{self, csrf_cookie, csrf_ok, csrf_token, current_session, html, page_csp, see_other};
use super::{AppState, read_body_limited};
use crate::actors::sessions::{End, Session, Which};
use crate::oauth::authorize::Params;
use crate::oauth::registry::RegistryError;
use crate::oidc::logout::verify_hint;
use crate::store::audit::AuditEvent;
use crate::store::sessions as store;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

struct SessionRow {
    sid: String,
    created: String,
    agent: String,
    current: bool,
}

struct PasskeyRow {
    id: String,
    name: String,
    created: String,
    last_used: String,
    synced: bool,
}

struct ConsentRow {
    client_id: String,
    client_name: String,
    scope: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    stylesheet: &'a str,
    username: &'a str,
    email: &'a str,
    sessions: Vec<SessionRow>,
    consents: Vec<ConsentRow>,
    csrf: &'a str,
    has_totp: bool,
    totp_since: String,
    totp_last_used: String,
    recovery_left: u64,
    mfa_required: bool,
    passkeys_enabled: bool,
    passkeys: Vec<PasskeyRow>,
    session_mfa: bool,
    can_add: bool,
    needs_password: bool,
    script: &'a str,
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage<'a> {
    stylesheet: &'a str,
    client_name: &'a str,
    username: &'a str,
    csrf: &'a str,
    request: &'a str,
}

#[derive(Template)]
#[template(path = "signed_out.html")]
struct SignedOutPage<'a> {
    stylesheet: &'a str,
}

fn with_cookie(mut res: HttpResponse, c: Option<actix_web::cookie::Cookie<'static>>) -> HttpResponse {
    if let Some(c) = c {
        browser::set_cookie(&mut res, &c);
    }
    res
}

/// `GET /account`.
pub async fn get_account(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Some(session) = current_session(&req, &state).await else { return see_other("/login") };
    let now = state.clock.now();
    let (user, sessions, consents) = match (
        crate::store::users::find_by_id(&state.db, &session.user_id).await,
        store::user_sessions(&state.db, &session.user_id, now).await,
        store::user_consents(&state.db, &session.user_id).await,
    ) {
        (Ok(Some(u)), Ok(s), Ok(c)) => (u, s, c),
        (Ok(None), _, _) => return see_other("/login"),
        _ => return browser::server_error_page(&req),
    };
    let mut consent_rows = Vec::new();
    for c in consents {
        let client_name = match state.clients.get(&state.db, &c.client_id).await {
            Ok(cl) => cl.registration.name.clone(),
            Err(RegistryError::NotFound) => continue,
            Err(_) => return browser::server_error_page(&req),
        };
        consent_rows.push(ConsentRow { client_id: c.client_id, client_name, scope: c.scope });
    }
    let (factors, mfa_required) = match (
        crate::mfa::service::factors(&state.db, &user.id).await,
        super::sign_in::policy_requires(&state, &user).await,
    ) {
        (Ok(f), Ok(r)) => (f, r),
        _ => return browser::server_error_page(&req),
    };
    let can_add = super::mfa_account::add_rule_given(&session, &factors, now);
    let date = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let Ok(creds) = crate::store::webauthn::user_credentials(&state.db, &user.id).await else {
        return browser::server_error_page(&req);
    };
    let Some((cookie, set)) = csrf_cookie(&req, &state) else { return browser::server_error_page(&req) };
    let csrf = csrf_token(&state, &cookie, Some(&session));
    let page = AccountPage {
        has_totp: factors.totp.is_some(),
        totp_since: factors.totp.as_ref().and_then(|t| t.confirmed_at).map(date).unwrap_or_default(),
        totp_last_used: factors.totp.as_ref().and_then(|t| t.last_used_at).map(date).unwrap_or_default(),
        recovery_left: factors.recovery_codes_left,
        mfa_required,
        passkeys_enabled: state.passkeys.is_some(),
        passkeys: creds
            .into_iter()
            .map(|c| PasskeyRow {
                created: date(c.created_at),
                last_used: c.last_used_at.map(date).unwrap_or_default(),
                synced: c.backup_eligible,
                id: c.cred_id,
                name: c.name,
            })
            .collect(),
        session_mfa: super::mfa_account::fresh_mfa(&session, now),
        can_add: can_add != super::mfa_account::AddRule::SignInAgain,
        needs_password: can_add == super::mfa_account::AddRule::NeedsPassword,
        script: super::assets::script_path(),
        stylesheet: stylesheet(),
        username: &user.username,
        email: user.email.as_deref().unwrap_or(""),
        sessions: sessions
            .into_iter()
            .map(|s| SessionRow {
                current: s.id == session.id,
                sid: s.sid,
                created: s.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                agent: s.user_agent.unwrap_or_default().chars().take(80).collect(),
            })
            .collect(),
        consents: consent_rows,
        csrf: &csrf,
    };
    match page.render() {
        Ok(body) => with_cookie(html(HttpResponse::Ok(), &browser::page_csp_with_script(&[]), body), set),
        Err(_) => browser::server_error_page(&req),
    }
}

#[derive(serde::Deserialize)]
pub struct EndSessionsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    sid: String,
}

/// `POST /account/sessions/end`: one session by its public id, or `all`.
pub async fn post_end_sessions(
    req: HttpRequest,
    form: web::Form<EndSessionsForm>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let Some(session) = current_session(&req, &state).await else { return see_other("/login") };
    if !csrf_ok(&req, &state, &form.csrf, Some(&session)) {
        return browser::csrf_refused(&req);
    }
    let which = if form.sid == "all" { Which::All } else { Which::Sid(form.sid.clone()) };
    let ended = match state.actors.sessions.send(End { user_id: session.user_id.clone(), which }).await {
        Ok(Ok(e)) => e,
        _ => return browser::server_error_page(&req),
    };
    audit(&req, &state, &session, "logout", &format!("{} session(s)", ended.len()));
    if ended.contains(&session.sid) {
        return with_cookie(see_other("/login"), Some(browser::expired_session_cookie(&state)));
    }
    see_other("/account")
}

#[derive(serde::Deserialize)]
pub struct RevokeConsentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    client_id: String,
}

/// `POST /account/consents/revoke`: forgets the consent and revokes the
/// client's refresh token families for this user, with their access tokens.
pub async fn post_revoke_consent(
    req: HttpRequest,
    form: web::Form<RevokeConsentForm>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let Some(session) = current_session(&req, &state).await else { return see_other("/login") };
    if !csrf_ok(&req, &state, &form.csrf, Some(&session)) {
        return browser::csrf_refused(&req);
    }
    let now = state.clock.now();
    let done = async {
        store::delete_consent(&state.db, &session.user_id, &form.client_id).await?;
        crate::store::refresh::revoke_user_families(&state.db, &session.user_id, Some(&form.client_id), now).await
    };
    match done.await {
        Ok(revoked) => revoked.iter().for_each(|(jti, exp)| state.revocations.insert(jti, *exp)),
        Err(_) => return browser::server_error_page(&req),
    }
    audit(&req, &state, &session, "consent.revoked", &form.client_id);
    see_other("/account")
}

fn audit(req: &HttpRequest, state: &AppState, session: &Session, action: &'static str, target: &str) {
    let ev = AuditEvent::new(state.clock.now(), format!("user:{}", session.user_id), action, Some(target.to_owned()));
    state.actors.audit.record(super::with_request(ev, req));
}

/// Where a logout request may send the person afterwards.
struct LogoutTarget {
    /// The post-logout URI with `state`, if one was asked for and is registered.
    redirect: Option<String>,
    client_name: String,
    /// The `id_token_hint`'s subject, when a valid hint came with the request.
    hinted_sub: Option<String>,
    hinted_sid: Option<String>,
}

/// Validates a logout request; a wrong hint or an unregistered URI is an
/// error page, never a redirect.
async fn logout_target(req: &HttpRequest, state: &AppState, params: &Params) -> Result<LogoutTarget, HttpResponse> {
    let bad = |m: &str| browser::error_page(req, StatusCode::BAD_REQUEST, "Cannot sign out from here", m);
    let keys = state.keys.load();
    let hint = match params.get("id_token_hint") {
        Some(t) => Some(
            verify_hint(&keys, &state.settings.issuer, t)
                .ok_or_else(|| bad("The sign-out request carries an ID token that is not valid here."))?,
        ),
        None => None,
    };
    let client_id = match (params.get("client_id"), &hint) {
        (Some(c), Some(h)) if c != h.client_id => {
            return Err(bad("The sign-out request names two different applications."));
        }
        (Some(c), _) => Some(c.to_owned()),
        (None, Some(h)) => Some(h.client_id.clone()),
        (None, None) => None,
    };
    let client = match &client_id {
        Some(id) => match state.clients.get(&state.db, id).await {
            Ok(c) => Some(c),
            Err(RegistryError::NotFound) => return Err(bad("The application that sent you here is not registered.")),
            Err(_) => return Err(browser::server_error_page(req)),
        },
        None => None,
    };
    let redirect = match params.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            if !client.as_ref().is_some_and(|c| c.post_logout_allowed(uri)) {
                return Err(bad(
                    "The address to send you to after signing out is not registered for this application.",
                ));
            }
            let mut url = url::Url::parse(uri).map_err(|_| browser::server_error_page(req))?;
            if let Some(s) = params.get("state") {
                url.query_pairs_mut().append_pair("state", s);
            }
            Some(url.to_string())
        }
    };
    Ok(LogoutTarget {
        redirect,
        client_name: client.map(|c| c.registration.name.clone()).unwrap_or_default(),
        hinted_sub: hint.as_ref().map(|h| h.sub.clone()),
        hinted_sid: hint.and_then(|h| h.sid),
    })
}

fn finished(state: &AppState, target: &LogoutTarget, req: &HttpRequest) -> HttpResponse {
    let res = match &target.redirect {
        Some(to) => see_other(to),
        None => match (SignedOutPage { stylesheet: stylesheet() }).render() {
            Ok(body) => html(HttpResponse::Ok(), &page_csp(&[], None), body),
            Err(_) => browser::server_error_page(req),
        },
    };
    with_cookie(res, Some(browser::expired_session_cookie(state)))
}

pub async fn get_end_session(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    end_session(&req, &state, req.query_string().as_bytes()).await
}

pub async fn post_end_session(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    match read_body_limited(payload, state.settings.body_limit_bytes).await {
        Ok(body) => end_session(&req, &state, &body).await,
        Err(_) => {
            browser::error_page(&req, StatusCode::PAYLOAD_TOO_LARGE, "Request too large", "The request is too large.")
        }
    }
}

/// RP-Initiated Logout: with a valid `id_token_hint` for the signed-in
/// person the session ends at once; otherwise the person confirms.
async fn end_session(req: &HttpRequest, state: &AppState, raw: &[u8]) -> HttpResponse {
    let params = match Params::parse(raw) {
        Ok(p) => p,
        Err(m) => return browser::error_page(req, StatusCode::BAD_REQUEST, "Invalid request", &m),
    };
    let target = match logout_target(req, state, &params).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let Some(session) = current_session(req, state).await else { return finished(state, &target, req) };
    let hinted = target.hinted_sub.as_deref() == Some(session.user_id.as_str())
        && target.hinted_sid.as_deref().is_none_or(|sid| sid == session.sid);
    if hinted {
        if end_current(req, state, &session).await.is_err() {
            return browser::server_error_page(req);
        }
        return finished(state, &target, req);
    }
    let username = match crate::store::users::find_by_id(&state.db, &session.user_id).await {
        Ok(Some(u)) => u.username,
        _ => String::new(),
    };
    let Some((cookie, set)) = csrf_cookie(req, state) else { return browser::server_error_page(req) };
    let csrf = csrf_token(state, &cookie, Some(&session));
    let page = LogoutPage {
        stylesheet: stylesheet(),
        client_name: &target.client_name,
        username: &username,
        csrf: &csrf,
        request: &params.to_query(),
    };
    let actions: Vec<String> = target.redirect.as_deref().and_then(browser::origin_of).into_iter().collect();
    match page.render() {
        Ok(body) => with_cookie(html(HttpResponse::Ok(), &page_csp(&actions, None), body), set),
        Err(_) => browser::server_error_page(req),
    }
}

async fn end_current(req: &HttpRequest, state: &AppState, session: &Session) -> Result<(), ()> {
    match state
        .actors
        .sessions
        .send(End { user_id: session.user_id.clone(), which: Which::IdHash(session.id.clone()) })
        .await
    {
        Ok(Ok(_)) => {
            audit(req, state, session, "logout", "this session");
            Ok(())
        }
        _ => Err(()),
    }
}

#[derive(serde::Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request: String,
    #[serde(default)]
    decision: String,
}

/// `POST /logout`: the confirmation form.
pub async fn post_logout(req: HttpRequest, form: web::Form<LogoutForm>, state: web::Data<AppState>) -> HttpResponse {
    let Some(session) = current_session(&req, &state).await else { return see_other("/login") };
    if !csrf_ok(&req, &state, &form.csrf, Some(&session)) {
        return browser::csrf_refused(&req);
    }
    let params = match Params::parse(form.request.as_bytes()) {
        Ok(p) => p,
        Err(m) => return browser::error_page(&req, StatusCode::BAD_REQUEST, "Invalid request", &m),
    };
    let target = match logout_target(&req, &state, &params).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    if form.decision != "logout" {
        return see_other("/account");
    }
    if end_current(&req, &state, &session).await.is_err() {
        return browser::server_error_page(&req);
    }
    finished(&state, &target, &req)
}
