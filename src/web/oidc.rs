//! OpenID Connect / OAuth metadata endpoints served from prebuilt bytes.

use super::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

/// `GET /jwks.json` (RFC 7517): the published keys, with a strong ETag and
/// a cache lifetime well inside the pre-publish window.
pub async fn get_jwks(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let set = state.keys.load();
    let cache = state.metadata.jwks_cache_control.clone();
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

/// One prebuilt discovery document and its strong ETag.
pub struct Document {
    body: bytes::Bytes,
    etag: String,
}

impl Document {
    fn new(doc: &serde_json::Value) -> Self {
        let body = bytes::Bytes::from(doc.to_string());
        let etag = crate::crypto::strong_etag(&body);
        Self { body, etag }
    }

    fn respond(&self, req: &HttpRequest) -> HttpResponse {
        if if_none_match(req, &self.etag) {
            return HttpResponse::NotModified().insert_header((header::ETAG, self.etag.clone())).finish();
        }
        HttpResponse::Ok()
            .content_type("application/json")
            .insert_header((header::ETAG, self.etag.clone()))
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(self.body.clone())
    }
}

/// The discovery documents, built once at start from what is implemented
/// and nothing more.
pub struct Metadata {
    oauth: Document,
    openid: Document,
    /// `Cache-Control` of the JWKS, fixed by the key policy at start.
    jwks_cache_control: header::HeaderValue,
}

impl Metadata {
    pub fn new(issuer: &str, jwks_max_age_secs: i64) -> Self {
        let auth_methods = ["client_secret_basic", "client_secret_post", "private_key_jwt"];
        let token_auth_methods = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];
        let assertion_algs = crate::crypto::jwk::ASSERTION_ALGS;
        let mut doc = serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks.json"),
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "form_post"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
            "scopes_supported": crate::oauth::authorize::USER_SCOPES,
            "token_endpoint_auth_methods_supported": token_auth_methods,
            "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
            "introspection_endpoint": format!("{issuer}/introspect"),
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
            "revocation_endpoint": format!("{issuer}/revoke"),
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        });
        let oauth = Document::new(&doc);
        // OpenID Connect Discovery 1.0 §3 adds these; RS256 must be listed
        // (and a key for it always exists, see `keys::ALGORITHMS`).
        if let Some(map) = doc.as_object_mut() {
            map.insert("subject_types_supported".into(), serde_json::json!(["public"]));
            map.insert("id_token_signing_alg_values_supported".into(), serde_json::json!(["RS256", "ES256"]));
            map.insert("userinfo_endpoint".into(), serde_json::json!(format!("{issuer}/userinfo")));
            // Absent means true for request_uri (OIDC Discovery §3): say
            // plainly that neither request objects nor references are taken.
            map.insert("request_parameter_supported".into(), serde_json::json!(false));
            map.insert("request_uri_parameter_supported".into(), serde_json::json!(false));
            map.insert("claims_parameter_supported".into(), serde_json::json!(true));
            map.insert("end_session_endpoint".into(), serde_json::json!(format!("{issuer}/end_session")));
            map.insert("prompt_values_supported".into(), serde_json::json!(["none", "login", "consent"]));
            map.insert("acr_values_supported".into(), serde_json::json!(crate::mfa::ACR_VALUES));
            map.insert(
                "claims_supported".into(),
                serde_json::json!([
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "auth_time",
                    "nonce",
                    "acr",
                    "amr",
                    "sid",
                    "at_hash",
                    "azp",
                    "name",
                    "given_name",
                    "family_name",
                    "middle_name",
                    "nickname",
                    "preferred_username",
                    "profile",
                    "zoneinfo",
                    "locale",
                    "updated_at",
                    "email",
                    "email_verified",
                    "address",
                    "phone_number",
                    "phone_number_verified",
                    "groups"
                ]),
            );
        }
        let jwks_cache_control = header::HeaderValue::from_str(&format!("public, max-age={jwks_max_age_secs}"))
            .unwrap_or(header::HeaderValue::from_static("no-cache"));
        Self { oauth, openid: Document::new(&doc), jwks_cache_control }
    }
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
pub async fn get_oauth_metadata(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    state.metadata.oauth.respond(&req)
}

/// `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0).
pub async fn get_openid_configuration(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    state.metadata.openid.respond(&req)
}

/// RFC 9110 §13.1.2: `*` or any listed tag equal to ours under weak
/// comparison (a `W/` prefix is ignored).
fn if_none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers().get_all(header::IF_NONE_MATCH).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|t| {
        let t = t.trim();
        t == "*" || t.trim_start_matches("W/") == etag
    })
}
