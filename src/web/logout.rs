//! Sign-out: RP-Initiated Logout 1.0 (`/end_session`) and the
//! confirmation form (`/logout`).

use super::account::{changed, with_cookie};
use super::authorize::stylesheet;
use super::browser::{self, csrf_cookie, csrf_token, current_session, html, page_csp, see_other};
use super::extract::{AccountForm, has_csrf};
use super::{AppState, read_body_limited};
use crate::actors::sessions::{End, Session, Which};
use crate::oauth::authorize::Params;
use crate::oauth::registry::RegistryError;
use crate::oidc::logout::verify_hint;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

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
    if state.db_health.is_down() {
        return browser::unavailable_page(req);
    }
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
        if let Err(res) = end_current(req, state, &session).await {
            return res;
        }
        return finished(state, &target, req);
    }
    let username = match crate::accounts::users::find(&state.db, &session.user_id).await {
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

/// Ends this browser's session; `Err` with the page to answer (the
/// session's cookie goes when the session ended but its event did not
/// become durable).
async fn end_current(req: &HttpRequest, state: &AppState, session: &Session) -> Result<(), HttpResponse> {
    let end = End { user_id: session.user_id.clone(), which: Which::IdHash(session.id.clone()) };
    match state.actors.sessions.send(end).await {
        Ok(Ok(_)) => changed(req, state, session, "logout", "this session")
            .await
            .map_err(|res| with_cookie(res, Some(browser::expired_session_cookie(state)))),
        _ => Err(browser::server_error_page(req)),
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

has_csrf!(LogoutForm);

/// `POST /logout`: the confirmation form.
pub async fn post_logout(req: HttpRequest, sent: AccountForm<LogoutForm>, state: web::Data<AppState>) -> HttpResponse {
    let AccountForm { form, session, .. } = sent;
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
    if let Err(res) = end_current(&req, &state, &session).await {
        return res;
    }
    finished(&state, &target, &req)
}
