//! `GET|POST /authorize`, the login form (`/login`), the consent form
//! (`/consent`). The request is carried
//! through login and consent as its own query string and re-validated at
//! every step, so nothing a person posts can widen it.

use super::browser::{self, csrf_cookie, csrf_ok, csrf_token, current_session, html, page_csp};
use super::{AppState, peer_ip, read_body_limited, request_id_of};
use crate::abuse::FailureClass;
use crate::accounts::login::{self, LoginError};
use crate::actors::sessions::{Create, End, Session, Which};
use crate::oauth::authorize::{AuthorizationRequest, AuthorizeError, Params, Reply, ResponseMode, validate};
use crate::oauth::registry::RegistryError;
use crate::store::audit::{AuditEvent, Outcome};
use crate::store::sessions::{self as store, hash_secret};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use entity::users::Model as User;
use zeroize::Zeroizing;

/// Codes live this long (RFC 6749 §4.1.2 recommends at most ten minutes).
const CODE_LIFETIME_SECS: i64 = 60;
/// Acr of a password login (no multi-factor yet).
pub const ACR_PASSWORD: &str = "urn:gatehouse:acr:password";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    stylesheet: &'a str,
    client_name: &'a str,
    error: &'a str,
    username: &'a str,
    csrf: &'a str,
    request: &'a str,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    stylesheet: &'a str,
    client_name: &'a str,
    username: &'a str,
    scopes: Vec<String>,
    csrf: &'a str,
    request: &'a str,
}

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPostPage<'a> {
    action: &'a str,
    fields: Vec<(&'a str, String)>,
    nonce: &'a str,
}

pub(super) fn stylesheet() -> &'static str {
    super::assets::stylesheet_path()
}

pub async fn get_authorize(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    authorize(&req, &state, req.query_string().as_bytes()).await
}

pub async fn post_authorize(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    match read_body_limited(payload, state.settings.body_limit_bytes).await {
        Ok(body) => authorize(&req, &state, &body).await,
        Err(_) => {
            browser::error_page(&req, StatusCode::PAYLOAD_TOO_LARGE, "Request too large", "The request is too large.")
        }
    }
}

/// Looks up the client named by `client_id`; `Err` only for storage failures.
async fn client_of(
    state: &AppState,
    params: &Params,
) -> Result<Option<std::sync::Arc<crate::oauth::registry::Client>>, ()> {
    let Some(id) = params.get("client_id") else { return Ok(None) };
    if id.len() > 128 {
        return Ok(None);
    }
    match state.clients.get(&state.db, id).await {
        Ok(c) => Ok(Some(c)),
        Err(RegistryError::NotFound) => Ok(None),
        Err(e) => {
            tracing::error!(error = %e, "client lookup failed");
            Err(())
        }
    }
}

async fn validated(
    req: &HttpRequest,
    state: &AppState,
    raw: &[u8],
) -> Result<(Params, AuthorizationRequest), HttpResponse> {
    let params =
        Params::parse(raw).map_err(|m| browser::error_page(req, StatusCode::BAD_REQUEST, "Invalid request", &m))?;
    let client = client_of(state, &params).await.map_err(|()| browser::server_error_page(req))?;
    match validate(&params, client) {
        Ok(ar) => Ok((params, ar)),
        Err(AuthorizeError::Page(m)) => Err(browser::error_page(req, StatusCode::BAD_REQUEST, "Cannot continue", &m)),
        Err(AuthorizeError::Redirect { reply, error, description }) => {
            Err(respond(state, &reply, vec![("error", error.to_owned()), ("error_description", description)]))
        }
    }
}

async fn authorize(req: &HttpRequest, state: &AppState, raw: &[u8]) -> HttpResponse {
    let (params, ar) = match validated(req, state, raw).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let session = current_session(req, state).await;
    let user = match &session {
        Some(s) => match crate::store::users::find_by_id(&state.db, &s.user_id).await {
            Ok(u) => u.filter(|u| u.active),
            Err(e) => {
                tracing::error!(error = %e, "user lookup failed");
                return browser::server_error_page(req);
            }
        },
        None => None,
    };
    let now = state.clock.now();
    let (session, user) = match (session, user) {
        // max_age=0 is a fresh login every time (OIDC Core §3.1.2.1).
        (Some(s), Some(u))
            if !ar.prompt.login && ar.max_age.is_none_or(|m| m > 0 && (now - s.auth_time).num_seconds() <= m) =>
        {
            (s, u)
        }
        (s, _) => {
            if ar.prompt.none {
                return error_to_client(state, &ar.reply, "login_required", "the user must sign in");
            }
            // The login about to happen satisfies prompt=login and max_age.
            let carried = params.without_prompt("login").without("max_age").to_query();
            return login_page(
                req,
                state,
                s.as_ref(),
                &ar,
                "",
                ar.login_hint.as_deref().unwrap_or(""),
                &carried,
                StatusCode::OK,
            );
        }
    };
    if ar.client.registration.consent_required {
        let covered = match store::find_consent(&state.db, &user.id, &ar.client.client_id).await {
            Ok(c) => c.is_some_and(|c| ar.scopes.iter().all(|s| c.scope.split(' ').any(|g| g == s))),
            Err(e) => {
                tracing::error!(error = %e, "consent lookup failed");
                return browser::server_error_page(req);
            }
        };
        if !covered || ar.prompt.consent {
            if ar.prompt.none {
                return error_to_client(state, &ar.reply, "consent_required", "the user must approve this client");
            }
            return consent_page(req, state, &session, &user, &ar, &params.without_prompt("consent").to_query());
        }
    }
    issue_code(req, state, &ar, &session).await
}

fn error_to_client(state: &AppState, reply: &Reply, error: &str, description: &str) -> HttpResponse {
    respond(state, reply, vec![("error", error.to_owned()), ("error_description", description.to_owned())])
}

/// The authorization response: `iss` (RFC 9207) and `state` are added to
/// `fields`; sent as a 303 redirect or an auto-submitting form.
fn respond(state: &AppState, reply: &Reply, mut fields: Vec<(&str, String)>) -> HttpResponse {
    if let Some(s) = &reply.state {
        fields.push(("state", s.clone()));
    }
    fields.push(("iss", state.settings.issuer.clone()));
    match reply.mode {
        ResponseMode::Query => {
            let Ok(mut url) = url::Url::parse(&reply.redirect_uri) else {
                return HttpResponse::InternalServerError().finish();
            };
            url.query_pairs_mut().extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_str())));
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, url.to_string()))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        ResponseMode::FormPost => {
            let nonce = crate::crypto::random_token(16).unwrap_or_default();
            let page = FormPostPage { action: &reply.redirect_uri, fields, nonce: &nonce };
            let actions: Vec<String> = browser::origin_of(&reply.redirect_uri).into_iter().collect();
            match page.render() {
                Ok(body) => html(HttpResponse::Ok(), &page_csp(&actions, Some(&nonce)), body),
                Err(_) => HttpResponse::InternalServerError().finish(),
            }
        }
    }
}

async fn issue_code(req: &HttpRequest, state: &AppState, ar: &AuthorizationRequest, session: &Session) -> HttpResponse {
    let Ok(code) = crate::crypto::random_token(32) else { return browser::server_error_page(req) };
    let now = state.clock.now();
    let row = entity::authorization_codes::Model {
        code_hash: hash_secret(&code),
        client_id: ar.client.client_id.clone(),
        user_id: session.user_id.clone(),
        sid: session.sid.clone(),
        redirect_uri: ar.reply.redirect_uri.clone(),
        scope: ar.scope(),
        nonce: ar.nonce.clone(),
        code_challenge: Some(ar.code_challenge.clone()),
        auth_time: session.auth_time,
        amr: session.amr.clone(),
        acr: session.acr.clone(),
        created_at: now,
        expires_at: now + chrono::Duration::seconds(CODE_LIFETIME_SECS),
        used_at: None,
        access_jti: None,
        access_expires_at: None,
        refresh_family: None,
    };
    if let Err(e) = store::insert_code(&state.db, row).await {
        tracing::error!(error = %e, "storing an authorization code failed");
        return browser::server_error_page(req);
    }
    respond(state, &ar.reply, vec![("code", code)])
}

#[allow(clippy::too_many_arguments)]
fn login_page(
    req: &HttpRequest,
    state: &AppState,
    session: Option<&Session>,
    ar: &AuthorizationRequest,
    error: &str,
    username: &str,
    carried: &str,
    status: StatusCode,
) -> HttpResponse {
    let actions: Vec<String> = browser::origin_of(&ar.reply.redirect_uri).into_iter().collect();
    render_login(req, state, session, &ar.client.registration.name, error, username, carried, &actions, status)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn render_login(
    req: &HttpRequest,
    state: &AppState,
    session: Option<&Session>,
    client_name: &str,
    error: &str,
    username: &str,
    carried: &str,
    actions: &[String],
    status: StatusCode,
) -> HttpResponse {
    let Some((cookie, set)) = csrf_cookie(req, state) else { return browser::server_error_page(req) };
    let csrf = csrf_token(state, &cookie, session);
    let page = LoginPage { stylesheet: stylesheet(), client_name, error, username, csrf: &csrf, request: carried };
    let Ok(body) = page.render() else { return browser::server_error_page(req) };
    let mut res = html(HttpResponse::build(status), &page_csp(actions, None), body);
    if let Some(c) = set {
        let _ = res.add_cookie(&c);
    }
    res
}

fn consent_page(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    user: &User,
    ar: &AuthorizationRequest,
    carried: &str,
) -> HttpResponse {
    let Some((cookie, set)) = csrf_cookie(req, state) else { return browser::server_error_page(req) };
    let csrf = csrf_token(state, &cookie, Some(session));
    let page = ConsentPage {
        stylesheet: stylesheet(),
        client_name: &ar.client.registration.name,
        username: &user.username,
        scopes: ar.scopes.iter().map(|s| describe_scope(s)).collect(),
        csrf: &csrf,
        request: carried,
    };
    let Ok(body) = page.render() else { return browser::server_error_page(req) };
    let actions: Vec<String> = browser::origin_of(&ar.reply.redirect_uri).into_iter().collect();
    let mut res = html(HttpResponse::Ok(), &page_csp(&actions, None), body);
    if let Some(c) = set {
        let _ = res.add_cookie(&c);
    }
    res
}

/// Scopes in plain words.
fn describe_scope(s: &str) -> String {
    match s {
        "openid" => "Confirm who you are".to_owned(),
        "profile" => "Your name, username and profile details".to_owned(),
        "email" => "Your email address".to_owned(),
        "groups" => "The names of the groups you belong to".to_owned(),
        "offline_access" => "Keep access while you are not using it".to_owned(),
        other => format!("Access to “{other}”"),
    }
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: Zeroizing<String>,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request: String,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm").field("username", &self.username).finish_non_exhaustive()
    }
}

/// `GET /login`: the sign-in page without an application (to reach the account page).
pub async fn get_login(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let session = current_session(&req, &state).await;
    render_login(&req, &state, session.as_ref(), "", "", "", "", &[], StatusCode::OK)
}

/// `POST /login`.
pub async fn post_login(req: HttpRequest, form: web::Form<LoginForm>, state: web::Data<AppState>) -> HttpResponse {
    let form = form.into_inner();
    let old = current_session(&req, &state).await;
    if !csrf_ok(&req, &state, &form.csrf, old.as_ref()) {
        return browser::error_page(
            &req,
            StatusCode::FORBIDDEN,
            "Session expired",
            "The form expired or did not come from this site. Go back, reload the page and try again.",
        );
    }
    // The carried request, re-validated: only for the client name and the
    // page's form-action; the login itself does not depend on it.
    let carried =
        if form.request.is_empty() { None } else { validated(&req, &state, form.request.as_bytes()).await.ok() };
    let (client_name, actions) = match &carried {
        Some((_, ar)) => {
            (ar.client.registration.name.clone(), browser::origin_of(&ar.reply.redirect_uri).into_iter().collect())
        }
        None => (String::new(), Vec::new()),
    };
    let ip = peer_ip(&req);
    let identity = form.username.trim().to_lowercase();
    if let Some(b) = state.login_failures.blocked(FailureClass::Login, &ip, &identity) {
        state.metrics.rate_limited.with_label_values(&[FailureClass::Login.as_str()]).inc();
        state.metrics.login_attempts.with_label_values(&["rate_limited"]).inc();
        let message = format!("Too many failed attempts. Try again in {} seconds.", b.retry_after);
        let mut res = render_login(
            &req,
            &state,
            old.as_ref(),
            &client_name,
            &message,
            &form.username,
            &form.request,
            &actions,
            StatusCode::TOO_MANY_REQUESTS,
        );
        super::rate_limit_headers_on(&mut res, b.limit, b.retry_after);
        return res;
    }
    let now = state.clock.now();
    let policy = state.settings.lockout_policy();
    let user = match login::authenticate(&state.db, &state.hasher, &policy, &form.username, form.password, now).await {
        Ok(u) => u,
        Err(LoginError::Refused(r)) => {
            state.login_failures.record_failure(FailureClass::Login, &ip, &identity).await;
            state.metrics.login_attempts.with_label_values(&[&r.reason.replace(' ', "_")]).inc();
            let target = r.user.as_ref().map_or_else(|| identity.chars().take(128).collect(), |u| u.id.clone());
            let mut ev = AuditEvent::new(now, "anonymous", "login.failed", Some(target));
            ev.outcome = Outcome::Failure;
            ev.reason = Some(r.reason.to_owned());
            ev.request_id = Some(request_id_of(&req).to_string());
            ev.ip = Some(ip.clone()).filter(|i| !i.is_empty());
            state.actors.audit.record(ev);
            if let (Some(u), Some(until)) = (&r.user, r.locked_until) {
                state.metrics.lockouts.inc();
                let mut ev = AuditEvent::new(now, "system", "account.locked", Some(u.id.clone()));
                ev.reason = Some(format!("repeated failed logins; until {}", until.to_rfc3339()));
                ev.request_id = Some(request_id_of(&req).to_string());
                state.actors.audit.record(ev);
                state.lockout_notifier.locked(&u.id, &u.username, until);
            }
            return render_login(
                &req,
                &state,
                old.as_ref(),
                &client_name,
                "Incorrect username or password.",
                &form.username,
                &form.request,
                &actions,
                StatusCode::OK,
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "login failed");
            return browser::server_error_page(&req);
        }
    };
    state.metrics.login_attempts.with_label_values(&["success"]).inc();
    // A new session id at every login: a cookie planted before login is worthless after it.
    if let Some(s) = &old {
        let _ =
            state.actors.sessions.send(End { user_id: s.user_id.clone(), which: Which::IdHash(s.id.clone()) }).await;
    }
    let (Ok(secret), Ok(sid)) = (crate::crypto::random_token(32), crate::crypto::random_token(16)) else {
        return browser::server_error_page(&req);
    };
    let max_age =
        chrono::Duration::seconds(i64::try_from(state.settings.session_max_age_secs).unwrap_or(i64::MAX / 1000));
    let session = Session {
        id: hash_secret(&secret),
        sid,
        user_id: user.id.clone(),
        auth_time: now,
        amr: "pwd".into(),
        acr: ACR_PASSWORD.into(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + max_age,
        ip: Some(ip.clone()).filter(|i| !i.is_empty()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect()),
        ended_at: None,
    };
    match state.actors.sessions.send(Create(session)).await {
        Ok(Ok(())) => {}
        other => {
            tracing::error!(outcome = ?other.err().map(|e| e.to_string()), "creating a session failed");
            return browser::server_error_page(&req);
        }
    }
    let mut ev = AuditEvent::new(now, format!("user:{}", user.id), "login.succeeded", Some(user.id.clone()));
    ev.request_id = Some(request_id_of(&req).to_string());
    ev.ip = Some(ip).filter(|i| !i.is_empty());
    state.actors.audit.record(ev);
    let target = match carried {
        Some((params, _)) => format!("/authorize?{}", params.to_query()),
        None => "/account".to_owned(),
    };
    let mut res = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, target))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish();
    let _ = res.add_cookie(&browser::session_cookie(&state, secret));
    if let Some(c) = browser::new_csrf_cookie(&state) {
        let _ = res.add_cookie(&c);
    }
    res
}

#[derive(serde::Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    remember: Option<String>,
}

/// `POST /consent`: allow or deny, then answer the client directly.
pub async fn post_consent(req: HttpRequest, form: web::Form<ConsentForm>, state: web::Data<AppState>) -> HttpResponse {
    let form = form.into_inner();
    let Some(session) = current_session(&req, &state).await else {
        return browser::error_page(
            &req,
            StatusCode::FORBIDDEN,
            "Signed out",
            "Your session ended. Go back to the application and start again.",
        );
    };
    if !csrf_ok(&req, &state, &form.csrf, Some(&session)) {
        return browser::error_page(
            &req,
            StatusCode::FORBIDDEN,
            "Session expired",
            "The form expired or did not come from this site. Go back, reload the page and try again.",
        );
    }
    let (_, ar) = match validated(&req, &state, form.request.as_bytes()).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    match form.decision.as_str() {
        "allow" => {}
        "deny" => return error_to_client(&state, &ar.reply, "access_denied", "the user denied the request"),
        _ => return browser::error_page(&req, StatusCode::BAD_REQUEST, "Invalid request", "Choose Allow or Deny."),
    }
    let now = state.clock.now();
    if form.remember.is_some()
        && let Err(e) = store::save_consent(&state.db, &session.user_id, &ar.client.client_id, &ar.scope(), now).await
    {
        tracing::error!(error = %e, "saving consent failed");
        return browser::server_error_page(&req);
    }
    let mut ev =
        AuditEvent::new(now, format!("user:{}", session.user_id), "consent.granted", Some(ar.client.client_id.clone()));
    ev.reason = Some(format!("scope: {}", ar.scope()));
    ev.request_id = Some(request_id_of(&req).to_string());
    state.actors.audit.record(ev);
    issue_code(&req, &state, &ar, &session).await
}
