//! What the browser's handlers check before they act, written once as
//! extractors: the body (within the limits), that the database is up (a
//! page that needs it answers 503 at once, not after a timeout), the
//! signed-in person, the CSRF token, the login challenge a sign-in is at.
//! The order is fixed, in that order, so a refusal never depends on which
//! lookup finished first. Each surface answers a refusal its own way:
//! [`Page`] (forms) with a redirect or an HTML page, [`Script`] (the
//! passkey endpoints the pages' script calls) with JSON.

use super::AppState;
use super::browser::{self, csrf_ok, current_session, see_other};
use crate::accounts::sign_in::{self, Challenge, ChallengePurpose};
use crate::actors::sessions::Session;
use actix_web::dev::Payload;
use actix_web::error::InternalError;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// A form that carries the CSRF token of the page it was sent from.
pub trait HasCsrf {
    fn csrf(&self) -> &str;
}

/// Implements [`HasCsrf`] for forms whose token is the `csrf` field.
macro_rules! has_csrf {
    ($($t:ty),+ $(,)?) => {$(
        impl $crate::web::extract::HasCsrf for $t {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        }
    )+};
}
pub(crate) use has_csrf;

/// How one surface reads a body and answers each refusal.
pub trait Surface: 'static {
    fn body<T: DeserializeOwned + 'static>(
        req: &HttpRequest,
        payload: &mut Payload,
    ) -> LocalBoxFuture<'static, Result<T, HttpResponse>>;
    fn signed_out(req: &HttpRequest) -> HttpResponse;
    fn csrf_refused(req: &HttpRequest) -> HttpResponse;
    /// No live challenge of the expected purpose (expired, used, another's).
    fn challenge_gone(req: &HttpRequest, state: &AppState) -> HttpResponse;
    /// Our failure, logged where it happened.
    fn internal(req: &HttpRequest) -> HttpResponse;
    /// The database is known to be down: retry shortly.
    fn unavailable(req: &HttpRequest) -> HttpResponse;
}

/// HTML forms: `application/x-www-form-urlencoded` bodies (actix's form
/// limits and errors), redirects to the sign-in page, HTML error pages.
pub enum Page {}

impl Surface for Page {
    fn body<T: DeserializeOwned + 'static>(
        req: &HttpRequest,
        payload: &mut Payload,
    ) -> LocalBoxFuture<'static, Result<T, HttpResponse>> {
        let form = web::Form::<T>::from_request(req, payload);
        Box::pin(async move { form.await.map(web::Form::into_inner).map_err(|e| e.error_response()) })
    }
    fn signed_out(_: &HttpRequest) -> HttpResponse {
        see_other("/login")
    }
    fn csrf_refused(req: &HttpRequest) -> HttpResponse {
        browser::csrf_refused(req)
    }
    fn challenge_gone(req: &HttpRequest, state: &AppState) -> HttpResponse {
        super::sign_in::expired(req, state)
    }
    fn internal(req: &HttpRequest) -> HttpResponse {
        browser::server_error_page(req)
    }
    fn unavailable(req: &HttpRequest) -> HttpResponse {
        browser::unavailable_page(req)
    }
}

/// The consent form: a page, but without a session there is no sign-in
/// to send the person to (the application must start again), so it says so.
pub enum ConsentPost {}

impl Surface for ConsentPost {
    fn body<T: DeserializeOwned + 'static>(
        req: &HttpRequest,
        payload: &mut Payload,
    ) -> LocalBoxFuture<'static, Result<T, HttpResponse>> {
        Page::body(req, payload)
    }
    fn signed_out(req: &HttpRequest) -> HttpResponse {
        let text = "Your session ended. Go back to the application and start again.";
        browser::error_page(req, StatusCode::FORBIDDEN, "Signed out", text)
    }
    fn csrf_refused(req: &HttpRequest) -> HttpResponse {
        Page::csrf_refused(req)
    }
    fn challenge_gone(req: &HttpRequest, state: &AppState) -> HttpResponse {
        Page::challenge_gone(req, state)
    }
    fn internal(req: &HttpRequest) -> HttpResponse {
        Page::internal(req)
    }
    fn unavailable(req: &HttpRequest) -> HttpResponse {
        Page::unavailable(req)
    }
}

/// The JSON endpoints the pages' script calls: `{"error": ...}` answers.
pub enum Script {}

impl Surface for Script {
    fn body<T: DeserializeOwned + 'static>(
        req: &HttpRequest,
        payload: &mut Payload,
    ) -> LocalBoxFuture<'static, Result<T, HttpResponse>> {
        let limit = req.app_data::<web::Data<AppState>>().map_or(0, |s| s.settings.body_limit_bytes);
        let payload = web::Payload::from_request(req, payload);
        Box::pin(async move {
            let Ok(payload) = payload.await else {
                return Err(script_error(StatusCode::BAD_REQUEST, "malformed request"));
            };
            let bytes = super::read_body_limited(payload, limit)
                .await
                .map_err(|_| script_error(StatusCode::PAYLOAD_TOO_LARGE, "request too large"))?;
            serde_json::from_slice(&bytes).map_err(|_| script_error(StatusCode::BAD_REQUEST, "malformed request"))
        })
    }
    fn signed_out(_: &HttpRequest) -> HttpResponse {
        script_error(StatusCode::UNAUTHORIZED, "signed out")
    }
    fn csrf_refused(_: &HttpRequest) -> HttpResponse {
        script_error(StatusCode::FORBIDDEN, "the page expired; reload it")
    }
    fn challenge_gone(_: &HttpRequest, _: &AppState) -> HttpResponse {
        script_gone()
    }
    fn internal(_: &HttpRequest) -> HttpResponse {
        script_internal()
    }
    fn unavailable(_: &HttpRequest) -> HttpResponse {
        let mut res = script_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable; try again shortly");
        res.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
        res
    }
}

/// The script's "start again": the sign-in this request belonged to ended.
pub fn script_gone() -> HttpResponse {
    script_error(StatusCode::FORBIDDEN, "this sign-in is no longer valid; start again")
}

/// The script's "our failure": the browser learns nothing more.
pub fn script_internal() -> HttpResponse {
    script_error(StatusCode::INTERNAL_SERVER_ERROR, "something went wrong")
}

/// The JSON refusal of the script endpoints.
pub fn script_error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "error": message }))
}

/// A refusal, carried through actix as an error that renders as itself.
fn reject(res: HttpResponse) -> actix_web::Error {
    InternalError::from_response("refused", res).into()
}

/// The app's state, once the database is known to be up.
fn state_up<S: Surface>(req: &HttpRequest) -> Result<web::Data<AppState>, actix_web::Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| reject(HttpResponse::InternalServerError().finish()))?;
    if state.db_health.is_down() {
        return Err(reject(S::unavailable(req)));
    }
    Ok(state)
}

/// The signed-in person's session (pages without a form: the account
/// pages' GETs). Without a session, [`Surface::signed_out`].
pub struct SignedIn<S = Page> {
    pub session: Session,
    surface: PhantomData<S>,
}

impl<S: Surface> FromRequest for SignedIn<S> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state_up::<S>(&req)?;
            let Some(session) = current_session(&req, &state).await else { return Err(reject(S::signed_out(&req))) };
            Ok(Self { session, surface: PhantomData })
        })
    }
}

/// A form whose CSRF token is this browser's (for its session, if it has
/// one): the login pages, where a session is optional.
pub struct CsrfForm<T, S = Page> {
    pub form: T,
    pub session: Option<Session>,
    surface: PhantomData<S>,
}

impl<T: HasCsrf + DeserializeOwned + 'static, S: Surface> FromRequest for CsrfForm<T, S> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = S::body::<T>(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let form = body.await.map_err(reject)?;
            let state = state_up::<S>(&req)?;
            let session = current_session(&req, &state).await;
            if !csrf_ok(&req, &state, form.csrf(), session.as_ref()) {
                return Err(reject(S::csrf_refused(&req)));
            }
            Ok(Self { form, session, surface: PhantomData })
        })
    }
}

/// A form from the signed-in person, with a CSRF token bound to their
/// session: the account pages. Without a session, [`Surface::signed_out`].
pub struct AccountForm<T, S = Page> {
    pub form: T,
    pub session: Session,
    surface: PhantomData<S>,
}

impl<T: HasCsrf + DeserializeOwned + 'static, S: Surface> FromRequest for AccountForm<T, S> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = S::body::<T>(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let form = body.await.map_err(reject)?;
            let state = state_up::<S>(&req)?;
            let Some(session) = current_session(&req, &state).await else { return Err(reject(S::signed_out(&req))) };
            if !csrf_ok(&req, &state, form.csrf(), Some(&session)) {
                return Err(reject(S::csrf_refused(&req)));
            }
            Ok(Self { form, session, surface: PhantomData })
        })
    }
}

/// The purpose a [`ChallengeForm`] requires, as a type.
pub trait ForPurpose: 'static {
    const PURPOSE: ChallengePurpose;
}

/// A challenge for a second factor the person has.
pub enum Verify {}
impl ForPurpose for Verify {
    const PURPOSE: ChallengePurpose = ChallengePurpose::Verify;
}

/// A challenge to enrol a first second factor.
pub enum Enrol {}
impl ForPurpose for Enrol {
    const PURPOSE: ChallengePurpose = ChallengePurpose::Enrol;
}

/// A form answering the browser's live login challenge for purpose `P`
/// (the CSRF token is the browser's: there is no session yet).
pub struct ChallengeForm<T, P, S = Page> {
    pub form: T,
    pub challenge: Challenge,
    marker: PhantomData<(P, S)>,
}

impl<T: HasCsrf + DeserializeOwned + 'static, P: ForPurpose, S: Surface> FromRequest for ChallengeForm<T, P, S> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = S::body::<T>(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let form = body.await.map_err(reject)?;
            let state = state_up::<S>(&req)?;
            if !csrf_ok(&req, &state, form.csrf(), None) {
                return Err(reject(S::csrf_refused(&req)));
            }
            match super::sign_in::challenge_of_request(&req, &state).await {
                Ok(Some(challenge)) if sign_in::is_for(&challenge, P::PURPOSE) => {
                    Ok(Self { form, challenge, marker: PhantomData })
                }
                Ok(_) => Err(reject(S::challenge_gone(&req, &state))),
                Err(_) => Err(reject(S::internal(&req))),
            }
        })
    }
}
