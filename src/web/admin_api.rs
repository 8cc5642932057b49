//! What every admin API route shares: the bearer check (constant time,
//! failures budgeted), JSON bodies, `If-Match`, and the error type, whose
//! wire form is an RFC 9457 problem document.

use super::{AppState, read_body_limited, request_id_of};
use crate::abuse::FailureClass;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("a valid admin bearer token is required")]
    Unauthorized,
    #[error("{0}")]
    BadRequest(String),
    #[error("invalid client metadata: {0}")]
    InvalidMetadata(String),
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    #[error("nothing here: no such client, user or record")]
    NotFound,
    #[error("If-Match does not name the current version; reload and retry")]
    PreconditionFailed,
    #[error("changed concurrently; retry")]
    Conflict,
    #[error("too many failed attempts; retry in {retry_after} s")]
    RateLimited { limit: u32, retry_after: u64 },
    #[error("internal error")]
    Internal,
}

impl AdminError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AdminError::Unauthorized => (StatusCode::UNAUTHORIZED, "invalid_token"),
            AdminError::BadRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            // RFC 7591 §3.2.2.
            AdminError::InvalidMetadata(_) => (StatusCode::BAD_REQUEST, "invalid_client_metadata"),
            AdminError::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request"),
            AdminError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AdminError::PreconditionFailed => (StatusCode::PRECONDITION_FAILED, "precondition_failed"),
            AdminError::Conflict => (StatusCode::CONFLICT, "conflict"),
            AdminError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            AdminError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        }
    }

    /// An RFC 9457 problem document. `error` and `error_description` stay
    /// as extension members: clients of the first admin API read them.
    pub fn response(&self, req: &HttpRequest) -> HttpResponse {
        let (status, code) = self.status_and_code();
        let mut res = HttpResponse::build(status);
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        res.content_type("application/problem+json");
        if let AdminError::Unauthorized = self {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"gatehouse-admin\", error=\"invalid_token\""));
        }
        let detail = self.to_string();
        let mut body = super::openapi::Problem {
            r#type: format!("urn:gatehouse:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.clone(),
            instance: req.path().to_owned(),
            error: code.to_owned(),
            error_description: detail,
            retry_after: None,
            request_id: None,
        };
        if let AdminError::RateLimited { limit, retry_after } = *self {
            super::rate_limit_headers(&mut res, limit, retry_after);
            body.retry_after = Some(retry_after);
        }
        if let AdminError::Internal = self {
            body.request_id = Some(request_id_of(req).to_string());
        }
        res.body(serde_json::to_string(&body).unwrap_or_default())
    }
}

/// Checks the bearer credential in constant time. Without `admin_token`
/// the routes are not registered at all.
pub async fn authorize(req: &HttpRequest, state: &AppState) -> Result<(), AdminError> {
    let Some(token) = &state.settings.admin_token else { return Err(AdminError::Unauthorized) };
    let ip = super::peer_ip(req);
    if let Some(b) = state.failures.blocked(FailureClass::AdminAuth, &ip, "") {
        state.metrics.rate_limited.with_label_values(&[FailureClass::AdminAuth.as_str()]).inc();
        return Err(AdminError::RateLimited { limit: b.limit, retry_after: b.retry_after });
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, t)| t.trim());
    if crate::crypto::constant_time_eq(presented.as_bytes(), token.expose().as_bytes()) {
        Ok(())
    } else {
        tracing::warn!(path = req.path(), "admin API: bearer token refused");
        state.failures.record_failure(FailureClass::AdminAuth, &ip, "").await;
        Err(AdminError::Unauthorized)
    }
}

/// The JSON body of an admin request; unknown fields are refused by the
/// target type.
pub async fn json_body<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<T, AdminError> {
    if !super::content_type_is(req, "application/json") {
        return Err(AdminError::UnsupportedMediaType);
    }
    let body = read_body_limited(payload, state.settings.body_limit_bytes)
        .await
        .map_err(|_| AdminError::BadRequest("request body too large or unreadable".into()))?;
    serde_json::from_slice(&body).map_err(|e| AdminError::BadRequest(format!("malformed JSON: {e}")))
}

/// `If-Match: "v3"` (the ETag we send) → 3; `*` or absent → None.
pub fn if_match(req: &HttpRequest) -> Result<Option<i64>, AdminError> {
    let Some(v) = req.headers().get(header::IF_MATCH) else { return Ok(None) };
    let v = v.to_str().map_err(|_| AdminError::BadRequest("malformed If-Match".into()))?.trim();
    if v == "*" {
        return Ok(None);
    }
    v.strip_prefix("\"v")
        .and_then(|v| v.strip_suffix('"'))
        .and_then(|v| v.parse().ok())
        .map(Some)
        .ok_or(AdminError::PreconditionFailed)
}

/// Times in answers: RFC 3339 to the second, UTC.
pub fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An answer that holds account data: never cached.
pub fn no_store(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut b = HttpResponse::build(status);
    b.insert_header((header::CACHE_CONTROL, "no-store"));
    b
}

/// Audits one change by the admin API, acknowledged once durable.
pub async fn audited(
    req: &HttpRequest,
    state: &AppState,
    action: &'static str,
    target: &str,
) -> Result<(), AdminError> {
    let ev = crate::audit::AuditEvent::new(state.clock.now(), "admin_api", action, Some(target.to_owned()));
    super::record_change(state, req, ev).await.map_err(|_| AdminError::Internal)
}
