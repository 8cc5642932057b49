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

/// Authorization server metadata (RFC 8414), listing only what is
/// implemented: no authorization endpoint yet, so no response types.
pub struct Metadata {
    body: bytes::Bytes,
    etag: String,
}

impl Metadata {
    pub fn new(issuer: &str) -> Self {
        let doc = serde_json::json!({
            "issuer": issuer,
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks.json"),
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "introspection_endpoint": format!("{issuer}/introspect"),
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint": format!("{issuer}/revoke"),
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        });
        let body = bytes::Bytes::from(doc.to_string());
        let etag = crate::crypto::strong_etag(&body);
        Self { body, etag }
    }
}

/// `GET /.well-known/oauth-authorization-server`.
pub async fn get_oauth_metadata(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let m = &state.metadata;
    if if_none_match(&req, &m.etag) {
        return HttpResponse::NotModified().insert_header((header::ETAG, m.etag.clone())).finish();
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::ETAG, m.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(m.body.clone())
}

/// RFC 9110 §13.1.2: `*` or any listed tag equal to ours under weak
/// comparison (a `W/` prefix is ignored).
fn if_none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers().get_all(header::IF_NONE_MATCH).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|t| {
        let t = t.trim();
        t == "*" || t.trim_start_matches("W/") == etag
    })
}
