//! Cross-cutting HTTP behaviour: request correlation, the access log and
//! metrics; security headers; and the early body-size check.

use super::AppState;
use super::error::ApiError;
use super::request_id::{REQUEST_ID_HEADER, RequestId, TraceContext};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage as _, ResponseError as _, web};
use std::time::Instant;
use tracing::Instrument as _;

/// Longest path written to a log line; longer ones are cut (log volume is an
/// attack surface too).
const MAX_LOGGED_PATH: usize = 256;

/// Assigns the request id and trace context, then writes one access-log line
/// (never the query string, headers or body: they carry codes and secrets)
/// and records metrics by route pattern.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let request_id = RequestId::from_header(header(REQUEST_ID_HEADER));
    let trace = TraceContext::from_header(header("traceparent"));
    req.extensions_mut().insert(request_id.clone());
    req.extensions_mut().insert(trace.clone());
    let method = req.method().as_str().to_owned();
    let path: String = req.path().chars().take(MAX_LOGGED_PATH).collect();
    let state = req.app_data::<web::Data<AppState>>().cloned();

    // Error level: the span (and so the request id on every line inside
    // it) is there whatever `log_level` lets through.
    let span = tracing::error_span!(
        "request",
        request_id = %request_id,
        trace_id = %trace.trace_id,
        span_id = %trace.span_id,
    );
    // Holding a clone of the request across `next.call` would break
    // routing (it needs the only reference), so an inner error is logged
    // from the error itself and passed on for actix to render.
    let mut res = match next.call(req).instrument(span.clone()).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            let status = e.as_response_error().status_code().as_u16();
            span.in_scope(|| tracing::info!(target: "gatehouse::access", method, path, status, "request failed"));
            return Err(e);
        }
    };

    if let Ok(v) = HeaderValue::from_str(request_id.as_str()) {
        res.headers_mut().insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
    }
    let status = res.status().as_u16();
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let elapsed = started.elapsed();
    if let Some(state) = state {
        state.metrics.observe(&method, &route, status, elapsed.as_secs_f64());
    }
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        tracing::info!(target: "gatehouse::access", method, path, route, status, latency_ms, "request completed");
    });
    Ok(res)
}

/// Headers every response carries. Pages that need more (per-response CSP
/// nonces) set their own CSP, which is then left alone.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let https = req.app_data::<web::Data<AppState>>().is_some_and(|s| s.settings.issuer_is_https());
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    let mut set_default = |name: HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set_default(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(header::REFERRER_POLICY, "no-referrer");
    set_default(header::X_FRAME_OPTIONS, "DENY");
    set_default(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'; report-uri /csp-report",
    );
    if https {
        set_default(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains");
    }
    Ok(res)
}

/// Refuses a declared body over the limit before any handler reads it.
/// Chunked bodies are bounded where they are read (extractor configs and
/// [`super::read_body_limited`]).
pub async fn body_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limit = req.app_data::<web::Data<AppState>>().map_or(usize::MAX, |s| s.settings.body_limit_bytes);
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        let res = ApiError::PayloadTooLarge { limit }.error_response();
        return Ok(req.into_response(res));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
