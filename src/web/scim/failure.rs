//! SCIM errors on the wire (RFC 7644 §3.12): the error schema for every
//! failure, from a missing token to an internal error.

use super::SCIM_JSON;
use crate::scim::error::{ScimError, ScimType};
use crate::scim::schema::ERROR_URN;
use crate::web::request_id_of;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Value, json};

/// What went wrong at the edge, before or around the service.
#[derive(Debug)]
pub(super) enum Failure {
    Unauthorized,
    RateLimited { limit: u32, retry_after: u64 },
    UnsupportedMediaType,
    NotModified(String),
    Scim(ScimError),
}

impl From<ScimError> for Failure {
    fn from(e: ScimError) -> Self {
        Failure::Scim(e)
    }
}

fn error_body(status: u16, scim_type: Option<ScimType>, detail: &str) -> Value {
    let mut body = json!({"schemas": [ERROR_URN], "status": status.to_string(), "detail": detail});
    if let Some(t) = scim_type {
        body["scimType"] = json!(t.as_str());
    }
    body
}

pub(super) fn respond_error(req: &HttpRequest, f: Failure) -> HttpResponse {
    let (status, scim_type, detail) = match &f {
        Failure::Unauthorized => (401, None, "a valid SCIM bearer token is required".to_owned()),
        Failure::RateLimited { retry_after, .. } => {
            (429, None, format!("too many failed attempts; retry in {retry_after} s"))
        }
        Failure::UnsupportedMediaType => (415, None, format!("content type must be {SCIM_JSON} or application/json")),
        Failure::NotModified(tag) => {
            return HttpResponse::NotModified().insert_header((header::ETAG, tag.clone())).finish();
        }
        Failure::Scim(ScimError::Internal(e)) => {
            tracing::error!(error = %e, "SCIM: internal error");
            (500, None, format!("internal error (request id {})", request_id_of(req)))
        }
        Failure::Scim(e) => (e.status(), e.scim_type(), e.to_string()),
    };
    let mut res = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    res.insert_header((header::CONTENT_TYPE, SCIM_JSON)).insert_header((header::CACHE_CONTROL, "no-store"));
    if let Failure::Unauthorized = f {
        res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"gatehouse-scim\", error=\"invalid_token\""));
    }
    if let Failure::RateLimited { limit, retry_after } = f {
        crate::web::rate_limit_headers(&mut res, limit, retry_after);
    }
    res.body(error_body(status, scim_type, &detail).to_string())
}

/// A SCIM error for a request refused before it reached a SCIM handler
/// (the body limit): the surface keeps its error schema.
pub(in crate::web) fn early_error(status: StatusCode, detail: &str) -> HttpResponse {
    scim_json(status, &error_body(status.as_u16(), None, detail))
}

pub(super) fn scim_json(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, SCIM_JSON))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.to_string())
}
