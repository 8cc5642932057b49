//! Errors at the HTTP edge: JSON for APIs (`error`, `error_description`,
//! `request_id` on server errors) and an HTML page for people.

use super::assets;
use super::request_id::RequestId;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse, ResponseError};
use askama::Template;

/// Errors of the operational endpoints (health, metrics, reports). Protocol
/// endpoints get their own enums with their spec's wire format.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no such resource")]
    NotFound,
    #[error("request body exceeds the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body did not arrive within {secs} s")]
    BodyTimeout { secs: u64 },
    #[error("{0}")]
    BadRequest(&'static str),
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// The cause is logged with the request id; the caller sees only the id.
    #[error("internal error")]
    Internal { request_id: String },
}

impl ApiError {
    /// Logs `cause` with the request id and returns the opaque error.
    pub fn internal(request_id: &RequestId, cause: &dyn std::fmt::Display) -> Self {
        // The request span carries the id onto this line.
        tracing::error!(error = %cause, "internal error");
        ApiError::Internal { request_id: request_id.to_string() }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound => "not_found",
            ApiError::PayloadTooLarge { .. } => "request_too_large",
            ApiError::BodyTimeout { .. } => "request_timeout",
            ApiError::BadRequest(_) => "invalid_request",
            ApiError::Unauthorized => "invalid_token",
            ApiError::Internal { .. } => "server_error",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = serde_json::json!({ "error": self.code(), "error_description": self.to_string() });
        if let ApiError::Internal { request_id } = self {
            body["request_id"] = serde_json::Value::String(request_id.clone());
        }
        let mut res = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized) {
            // RFC 6750 §3.
            res.insert_header((header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#));
        }
        res.insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]));
        res.json(body)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
    request_id: &'a str,
    stylesheet: &'a str,
}

/// The error page people see. Rendering cannot realistically fail (the
/// template is compiled in); if it does, a plain-text body still says why.
pub fn error_page(status: StatusCode, title: &str, message: &str, request_id: &str) -> HttpResponse {
    let page = ErrorPage { status: status.as_u16(), title, message, request_id, stylesheet: assets::stylesheet_path() };
    match page.render() {
        Ok(html) => HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html),
        Err(_) => {
            HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(format!("{title}: {message}"))
        }
    }
}

/// Whether the caller is a browser asking for a page rather than an API
/// client asking for JSON.
pub fn wants_html(req: &HttpRequest) -> bool {
    req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

/// The default service: a page for people, JSON for everyone else.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if wants_html(&req) {
        let id = req.extensions().get::<RequestId>().map(|r| r.to_string()).unwrap_or_default();
        error_page(StatusCode::NOT_FOUND, "Page not found", "There is nothing at this address.", &id)
    } else {
        ApiError::NotFound.error_response()
    }
}
