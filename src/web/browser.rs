//! What the browser-facing pages share: the session and CSRF cookies, the
//! current session, CSRF tokens bound to it, page rendering with a
//! per-response CSP.

use super::AppState;
use crate::actors::sessions::{Lookup, Session};
use crate::crypto::hash_secret;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

/// `__Host-` cookies are bound to this exact origin (no Domain, Path=/,
/// Secure); plain-http development issuers cannot use the prefix.
fn cookie_name(state: &AppState, base: &'static str) -> String {
    if https(state) { format!("__Host-{base}") } else { base.to_owned() }
}

pub fn https(state: &AppState) -> bool {
    state.settings.issuer_is_https()
}

pub fn session_cookie_name(state: &AppState) -> String {
    cookie_name(state, "gh_session")
}

fn csrf_cookie_name(state: &AppState) -> String {
    cookie_name(state, "gh_csrf")
}

fn build_cookie(state: &AppState, name: String, value: String, max_age: Option<i64>) -> Cookie<'static> {
    let mut c = Cookie::build(name, value).path("/").http_only(true).same_site(SameSite::Lax).secure(https(state));
    if let Some(secs) = max_age {
        c = c.max_age(CookieDuration::seconds(secs));
    }
    c.finish()
}

pub fn session_cookie(state: &AppState, secret: String) -> Cookie<'static> {
    let max_age = i64::try_from(state.settings.session_max_age_secs).unwrap_or(i64::MAX / 1000);
    build_cookie(state, session_cookie_name(state), secret, Some(max_age))
}

pub fn expired_session_cookie(state: &AppState) -> Cookie<'static> {
    build_cookie(state, session_cookie_name(state), String::new(), Some(0))
}

fn device_cookie_name(state: &AppState) -> String {
    cookie_name(state, "gh_device")
}

/// The browser's verified device-cookie entries (see `accounts::devices`).
pub fn devices(req: &HttpRequest, state: &AppState) -> Vec<crate::accounts::devices::Device> {
    req.cookie(&device_cookie_name(state))
        .map(|c| crate::accounts::devices::parse(&state.secret_hasher, c.value(), state.clock.now().timestamp()))
        .unwrap_or_default()
}

/// The device cookie after a completed sign-in for `user_id`.
pub fn device_cookie(req: &HttpRequest, state: &AppState, user_id: &str) -> Option<Cookie<'static>> {
    let now = state.clock.now().timestamp();
    let value = crate::accounts::devices::remember(&state.secret_hasher, &devices(req, state), user_id, now).ok()?;
    Some(build_cookie(state, device_cookie_name(state), value, Some(crate::accounts::devices::MAX_AGE_SECS)))
}

fn login_cookie_name(state: &AppState) -> String {
    cookie_name(state, "gh_login")
}

/// The cookie of a login waiting for its second factor.
pub fn login_challenge_cookie(state: &AppState, secret: String, max_age_secs: i64) -> Cookie<'static> {
    build_cookie(state, login_cookie_name(state), secret, Some(max_age_secs))
}

pub fn expired_login_challenge_cookie(state: &AppState) -> Cookie<'static> {
    build_cookie(state, login_cookie_name(state), String::new(), Some(0))
}

/// The hash of the login-challenge cookie, if the request carries one.
pub fn login_challenge_hash(req: &HttpRequest, state: &AppState) -> Option<String> {
    let secret = req.cookie(&login_cookie_name(state))?.value().to_owned();
    (!secret.is_empty() && secret.len() <= 128).then(|| hash_secret(&secret))
}

/// The session the request's cookie names, if it is live.
pub async fn current_session(req: &HttpRequest, state: &AppState) -> Option<Session> {
    let secret = req.cookie(&session_cookie_name(state))?.value().to_owned();
    if secret.is_empty() || secret.len() > 128 {
        return None;
    }
    match state.actors.sessions.send(Lookup { id_hash: hash_secret(&secret) }).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "session lookup failed");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "session manager unavailable");
            None
        }
    }
}

/// The browser's CSRF cookie value, or a new one to set (`None` only if
/// the OS random generator failed).
pub fn csrf_cookie(req: &HttpRequest, state: &AppState) -> Option<(String, Option<Cookie<'static>>)> {
    if let Some(c) = req.cookie(&csrf_cookie_name(state)).filter(|c| c.value().len() == 43) {
        return Some((c.value().to_owned(), None));
    }
    let value = crate::crypto::random_token(32).ok()?;
    Some((value.clone(), Some(build_cookie(state, csrf_cookie_name(state), value, None))))
}

/// A fresh CSRF cookie (at login, so tokens from before it stop working).
pub fn new_csrf_cookie(state: &AppState) -> Option<Cookie<'static>> {
    crate::crypto::random_token(32).ok().map(|v| build_cookie(state, csrf_cookie_name(state), v, None))
}

/// The token forms carry: a keyed hash of the CSRF cookie and the session,
/// so a token works only in the browser and session it was made for.
pub fn csrf_token(state: &AppState, cookie: &str, session: Option<&Session>) -> String {
    state.secret_hasher.hash(&csrf_binding(cookie, session))
}

fn csrf_binding(cookie: &str, session: Option<&Session>) -> String {
    format!("csrf|{cookie}|{}", session.map_or("-", |s| s.id.as_str()))
}

pub fn csrf_ok(req: &HttpRequest, state: &AppState, token: &str, session: Option<&Session>) -> bool {
    let Some(cookie) = req.cookie(&csrf_cookie_name(state)) else { return false };
    !token.is_empty() && state.secret_hasher.verify(&csrf_binding(cookie.value(), session), token)
}

/// Security headers of a page: framing and objects off, styles from here
/// only, forms may post to `form_action` (the client's origin, where a
/// login or consent form ends up after its redirect), scripts only with
/// the given nonce.
pub fn page_csp(form_action: &[String], script_nonce: Option<&str>) -> String {
    let mut csp = String::from(
        "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    for a in form_action {
        csp.push(' ');
        csp.push_str(a);
    }
    if let Some(n) = script_nonce {
        csp.push_str(&format!("; script-src 'nonce-{n}'"));
    }
    csp.push_str("; report-uri /csp-report");
    csp
}

/// The CSP of a page that runs the WebAuthn script: scripts and requests
/// to this origin only, still no inline script.
pub fn page_csp_with_script(form_action: &[String]) -> String {
    let csp = page_csp(form_action, None);
    csp.replace("; report-uri", "; script-src 'self'; connect-src 'self'; report-uri")
}

/// `https://host:port` of a redirect URI (or `scheme:` for private-use
/// schemes), for `form-action`.
pub fn origin_of(uri: &str) -> Option<String> {
    let u = url::Url::parse(uri).ok()?;
    match u.scheme() {
        "http" | "https" => Some(u.origin().ascii_serialization()),
        s => Some(format!("{s}:")),
    }
}

/// Adds a cookie; ours are base64url values, so encoding cannot fail, but
/// if it ever did the response would silently lack the cookie: say so.
pub fn set_cookie(res: &mut HttpResponse, c: &Cookie<'_>) {
    if let Err(e) = res.add_cookie(c) {
        tracing::error!(error = %e, cookie = c.name(), "could not set a cookie");
    }
}

pub fn html(mut b: HttpResponseBuilder, csp: &str, body: String) -> HttpResponse {
    b.content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, csp.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

pub fn error_page(req: &HttpRequest, status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let mut res = super::error::error_page(status, title, message, &super::request_id_of(req).to_string());
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    res
}

/// A form whose CSRF token does not fit this browser and session.
pub fn csrf_refused(req: &HttpRequest) -> HttpResponse {
    error_page(
        req,
        StatusCode::FORBIDDEN,
        "Session expired",
        "The form expired or did not come from this site. Go back, reload the page and try again.",
    )
}

/// `303 See Other` to `to`, never cached.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The database is known to be down: said at once, not after the pool's
/// timeout.
pub fn unavailable_page(req: &HttpRequest) -> HttpResponse {
    let mut res = error_page(
        req,
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        "Sign-in is unavailable for a moment. Please try again shortly.",
    );
    res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    res
}

pub fn server_error_page(req: &HttpRequest) -> HttpResponse {
    error_page(req, StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Please try again in a moment.")
}
