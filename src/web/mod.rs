//! The HTTP edge: handlers grouped by surface, middleware, and the app
//! wiring. Handlers parse, call domain code, and map outcomes to HTTP.

pub mod assets;
pub mod csp_report;
pub mod error;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod request_id;

use crate::accounts::PasswordHasher;
use crate::actors::Actors;
use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::MasterKey;
use crate::store::Db;
use actix_web::{HttpMessage as _, HttpRequest, ResponseError as _, web};
use error::ApiError;
use futures_util::StreamExt as _;
use metrics::Metrics;
use request_id::RequestId;
use std::sync::Arc;

/// Shared, immutable state every handler receives.
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub actors: Actors,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    pub metrics: Arc<Metrics>,
    pub master_key: Arc<MasterKey>,
}

/// Registers every route of the public listener.
pub fn configure(cfg: &mut web::ServiceConfig, state: &web::Data<AppState>) {
    let limit = state.settings.body_limit_bytes;
    cfg.app_data(web::PayloadConfig::new(limit))
        .app_data(web::JsonConfig::default().limit(limit).error_handler(move |e, _| body_error(e.to_string(), limit)))
        .app_data(web::FormConfig::default().limit(limit).error_handler(move |e, _| body_error(e.to_string(), limit)))
        .route("/health/live", web::get().to(health::get_live))
        .route("/health/ready", web::get().to(health::get_ready))
        .route("/csp-report", web::post().to(csp_report::post_csp_report))
        .route("/static/{name}", web::get().to(assets::get_asset));
    if state.settings.metrics_enabled && state.settings.metrics_bind.is_none() {
        cfg.route("/metrics", web::get().to(metrics::get_metrics));
    }
}

/// Maps extractor failures: overflow is 413, anything else 400.
fn body_error(message: String, limit: usize) -> actix_web::Error {
    let err = if message.contains("overflow") || message.contains("larger than") || message.contains("limit") {
        ApiError::PayloadTooLarge { limit }
    } else {
        ApiError::BadRequest("malformed request body")
    };
    actix_web::error::InternalError::from_response(message, err.error_response()).into()
}

/// The request id assigned by [`middleware::request_context`].
pub fn request_id_of(req: &HttpRequest) -> RequestId {
    req.extensions().get::<RequestId>().cloned().unwrap_or_else(RequestId::generate)
}

/// Reads a whole body, failing with 413 as soon as it passes `limit` (also
/// for chunked bodies that declared no length).
pub async fn read_body_limited(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::BadRequest("request body could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
