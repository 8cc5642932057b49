//! `GET|POST /authorize` and the consent form (`/consent`); the login
//! form is in `login.rs`. The request is carried
//! through login and consent as its own query string and re-validated at
//! every step, so nothing a person posts can widen it.

use super::browser::{self, csrf_cookie, csrf_token, current_session, html, page_csp};
use super::extract::{AccountForm, ConsentPost};
use super::{AppState, read_body_limited};
use crate::actors::sessions::Session;
use crate::audit::AuditEvent;
use crate::oauth::authorize::{
    AuthorizationRequest, AuthorizeError, Fact, Facts, Next, Params, Reply, ResponseMode, decide, validate,
};
use crate::oauth::registry::RegistryError;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use entity::users::Model as User;

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

pub(super) async fn validated(
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
    if state.db_health.is_down() {
        return browser::unavailable_page(req);
    }
    let (params, ar) = match validated(req, state, raw).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let session = current_session(req, state).await;
    let user = match &session {
        Some(s) => match crate::accounts::users::find_active(&state.db, &s.user_id).await {
            Ok(u) => u,
            Err(e) => {
                tracing::error!(error = %e, "user lookup failed");
                return browser::server_error_page(req);
            }
        },
        None => None,
    };
    let signed_in = session.as_ref().zip(user.as_ref());
    let now = state.clock.now();
    let mut facts = Facts::default();
    let next = loop {
        let next = decide(&ar, signed_in.map(|(s, _)| s), &facts, now);
        let Next::Lookup(fact) = next else { break next };
        // `decide` asks only with a session, whose user is then known.
        let Some((_, user)) = signed_in else { return browser::server_error_page(req) };
        let looked_up = match fact {
            Fact::MfaRequired => crate::mfa::service::policy_requires(&state.db, state.settings.mfa, user)
                .await
                .map(|r| facts.mfa_required = Some(r))
                .map_err(|e| e.to_string()),
            Fact::HasSecondFactor => crate::mfa::service::factors(&state.db, &user.id)
                .await
                .map(|f| facts.has_second_factor = Some(f.any()))
                .map_err(|e| e.to_string()),
            Fact::RememberedScope => crate::oauth::consent::remembered_scope(&state.db, &user.id, &ar.client.client_id)
                .await
                .map(|r| facts.remembered_scope = Some(r))
                .map_err(|e| e.to_string()),
        };
        if let Err(e) = looked_up {
            tracing::error!(error = %e, fact = ?fact, "authorization lookup failed");
            return browser::server_error_page(req);
        }
    };
    // The login about to happen satisfies prompt=login and max_age.
    let fresh_login = || params.without_prompt("login").without("max_age").to_query();
    match (next, signed_in) {
        (Next::Login { hint }, _) => login_page(
            req,
            state,
            session.as_ref(),
            &ar,
            "",
            hint.as_deref().unwrap_or(""),
            &fresh_login(),
            StatusCode::OK,
        ),
        (Next::ErrorToClient { error, description }, _) => error_to_client(state, &ar.reply, error, description),
        (Next::Enrol, Some((session, user))) => {
            login_page(req, state, Some(session), &ar, "", &user.username, &fresh_login(), StatusCode::OK)
        }
        (Next::StepUp, Some((session, user))) => {
            super::sign_in::continue_login(
                req,
                state,
                user,
                &session.amr,
                Some(session),
                &params.to_query(),
                ar.acr_values.as_deref(),
            )
            .await
        }
        (Next::Consent { .. }, Some((session, user))) => {
            consent_page(req, state, session, user, &ar, &params.without_prompt("consent").to_query())
        }
        (Next::IssueCode, Some((session, _))) => issue_code(req, state, &ar, session).await,
        // Every other step needs the session `decide` was given.
        _ => browser::server_error_page(req),
    }
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
            browser::see_other(url.as_str())
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
    match crate::oauth::grants::authorization_code::issue_code(&state.db, ar, session, state.clock.now()).await {
        Ok(code) => respond(state, &ar.reply, vec![("code", code)]),
        Err(e) => {
            tracing::error!(error = %e, "issuing an authorization code failed");
            browser::server_error_page(req)
        }
    }
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
    super::login::render_login(
        req,
        state,
        session,
        &ar.client.registration.name,
        error,
        username,
        carried,
        &actions,
        status,
    )
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
        browser::set_cookie(&mut res, &c);
    }
    res
}

/// Scopes in plain words.
pub(super) fn describe_scope(s: &str) -> String {
    match s {
        "openid" => "Confirm who you are".to_owned(),
        "profile" => "Your name, username and profile details".to_owned(),
        "email" => "Your email address".to_owned(),
        "address" => "Your postal address".to_owned(),
        "phone" => "Your phone number".to_owned(),
        "groups" => "The names of the groups you belong to".to_owned(),
        "offline_access" => "Keep access while you are not using it".to_owned(),
        other => format!("Access to “{other}”"),
    }
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

super::extract::has_csrf!(ConsentForm);

/// `POST /consent`: allow or deny, then answer the client directly.
pub async fn post_consent(
    req: HttpRequest,
    sent: AccountForm<ConsentForm, ConsentPost>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let AccountForm { form, session, .. } = sent;
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
        && let Err(e) =
            crate::oauth::consent::remember(&state.db, &session.user_id, &ar.client.client_id, &ar.scope(), now).await
    {
        tracing::error!(error = %e, "saving consent failed");
        return browser::server_error_page(&req);
    }
    let mut ev =
        AuditEvent::new(now, format!("user:{}", session.user_id), "consent.granted", Some(ar.client.client_id.clone()));
    ev.reason = Some(format!("scope: {}", ar.scope()));
    if super::record_change(&state, &req, ev).await.is_err() {
        return browser::server_error_page(&req);
    }
    issue_code(&req, &state, &ar, &session).await
}
