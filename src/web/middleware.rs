//! Cross-cutting HTTP behaviour: request correlation, the access log and
//! metrics; security headers; and the early body checks (declared size,
//! read deadline).

use super::AppState;
use super::error::ApiError;
use super::request_id::{REQUEST_ID_HEADER, RequestId, TraceContext};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::Payload;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage as _, ResponseError as _, web};
use futures_util::Stream;
use std::cell::Cell;
use std::future::Future as _;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
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
    let mut trace = TraceContext::from_header(header("traceparent"));
    let method = req.method().as_str().to_owned();
    let path: String = req.path().chars().take(MAX_LOGGED_PATH).collect();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    // With traces on, the exported span's ids are the ones logged and sent on.
    let otel = state.as_ref().and_then(|s| s.traces.as_ref()).map(|traces| {
        let parent = trace.parent_id.as_deref().map(|p| (trace.trace_id.as_str(), p, trace.sampled));
        let span = traces.request(parent, &method, &path);
        (trace.trace_id, trace.span_id, trace.sampled) = span.ids();
        span
    });
    req.extensions_mut().insert(request_id.clone());
    req.extensions_mut().insert(trace.clone());

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
            if let Some(otel) = otel {
                otel.finish("unmatched", status, request_id.as_str());
            }
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
    if let Some(otel) = otel {
        otel.finish(&route, status, request_id.as_str());
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

/// Refuses a declared body over the limit before any handler reads it, and
/// gives the body a deadline: a client trickling it (one byte every few
/// seconds holds a connection and a worker's buffer forever otherwise) is
/// answered 408 and the connection closed. Chunked bodies are bounded in
/// size where they are read (extractor configs and
/// [`super::read_body_limited`]).
pub async fn body_limit(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>();
    let limit = state.map_or(usize::MAX, |s| s.settings.body_limit_bytes);
    let timeout = state.map_or(10, |s| s.settings.body_read_timeout_secs);
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        let e = ApiError::PayloadTooLarge { limit };
        // Each surface keeps its own error format.
        let res = if req.path().starts_with("/scim/") {
            super::scim::early_error(actix_web::http::StatusCode::PAYLOAD_TOO_LARGE, &e.to_string())
        } else {
            e.error_response()
        };
        return Ok(req.into_response(res));
    }
    let has_body = declared.is_some_and(|n| n > 0) || req.headers().contains_key(header::TRANSFER_ENCODING);
    if !has_body {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let expired = Rc::new(Cell::new(false));
    let inner = req.take_payload();
    req.set_payload(Payload::Stream {
        payload: Box::pin(DeadlinePayload {
            inner,
            deadline: Instant::now() + Duration::from_secs(timeout),
            sleep: None,
            expired: expired.clone(),
        }),
    });
    let res = next.call(req).await;
    if !expired.get() {
        return Ok(res?.map_into_boxed_body());
    }
    // Whatever the handler made of the failed read, the answer is 408, and
    // the connection cannot be reused: the rest of the body may still come.
    let (http_req, _) = match res {
        Ok(res) => res.into_parts(),
        Err(_) => {
            tracing::info!(timeout, "request body timed out");
            return Err(timed_out_error(timeout));
        }
    };
    tracing::info!(timeout, "request body timed out");
    let mut out = ApiError::BodyTimeout { secs: timeout }.error_response();
    out.head_mut().set_connection_type(ConnectionType::Close);
    Ok(ServiceResponse::new(http_req, out))
}

/// An inner error after the deadline passed becomes the 408 (as an error,
/// since the request it belonged to is gone).
fn timed_out_error(timeout: u64) -> actix_web::Error {
    let mut res = ApiError::BodyTimeout { secs: timeout }.error_response();
    res.head_mut().set_connection_type(ConnectionType::Close);
    actix_web::error::InternalError::from_response("request body timed out", res).into()
}

fn timed_out() -> PayloadError {
    PayloadError::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, "request body timed out"))
}

/// A request payload that fails once its deadline passes. The timer is armed
/// only when the client makes us wait: a body that is already there costs
/// nothing.
struct DeadlinePayload {
    inner: Payload,
    deadline: Instant,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    expired: Rc<Cell<bool>>,
}

impl Stream for DeadlinePayload {
    type Item = Result<web::Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        // Once expired, always an error: a handler that reads on must never
        // see a truncated body as a complete one.
        if this.expired.get() {
            return Poll::Ready(Some(Err(timed_out())));
        }
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        let deadline = this.deadline;
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline.into())));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.expired.set(true);
                Poll::Ready(Some(Err(timed_out())))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
