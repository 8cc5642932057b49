//! OpenID Connect / OAuth metadata endpoints served from prebuilt bytes.

use super::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

/// `GET /jwks.json` (RFC 7517): the published keys, with a strong ETag and
/// a cache lifetime well inside the pre-publish window.
pub async fn get_jwks(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let set = state.keys.load();
    let cache = format!("public, max-age={}", state.key_policy.jwks_max_age_secs());
    if if_none_match(&req, set.etag()) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, set.etag()))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish();
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::ETAG, set.etag()))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(set.jwks().clone())
}

/// RFC 9110 §13.1.2: `*` or any listed tag equal to ours under weak
/// comparison (a `W/` prefix is ignored).
fn if_none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers().get_all(header::IF_NONE_MATCH).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|t| {
        let t = t.trim();
        t == "*" || t.trim_start_matches("W/") == etag
    })
}
