//! The admin REST API for clients, `/admin/api/v1/clients`: the same
//! registry and validation as `gatehouse client`, over JSON, behind the
//! `admin_token` bearer credential. Field names are those of RFC 7591 (as
//! `client show --json` prints them); unknown fields are refused.

use super::{AppState, read_body_limited, request_id_of};
use crate::abuse::FailureClass;
use crate::audit::AuditEvent;
use crate::oauth::registry::{self, Client, ClientChange, RegistryError};
use crate::oauth::{ClientSpec, ClientType, GrantType, SigningAlg, TokenEndpointAuthMethod};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

/// Largest page `GET /clients` returns.
const MAX_PAGE: u64 = 500;

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
    #[error("no such client")]
    NotFound,
    #[error("If-Match does not name the client's current version; reload it and retry")]
    PreconditionFailed,
    #[error("the client changed concurrently; retry")]
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
    pub(super) fn response(&self, req: &HttpRequest) -> HttpResponse {
        let (status, code) = self.status_and_code();
        let mut res = HttpResponse::build(status);
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        res.content_type("application/problem+json");
        if let AdminError::Unauthorized = self {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"gatehouse-admin\", error=\"invalid_token\""));
        }
        let detail = self.to_string();
        let mut body = json!({
            "type": format!("urn:gatehouse:problem:{code}"),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": detail,
            "instance": req.path(),
            "error": code,
            "error_description": detail,
        });
        if let AdminError::RateLimited { limit, retry_after } = *self {
            super::rate_limit_headers(&mut res, limit, retry_after);
            body["retry_after"] = json!(retry_after);
        }
        if let AdminError::Internal = self {
            body["request_id"] = json!(request_id_of(req).to_string());
        }
        res.body(body.to_string())
    }
}

impl From<RegistryError> for AdminError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Invalid(e) => AdminError::InvalidMetadata(e.to_string()),
            RegistryError::NotFound => AdminError::NotFound,
            RegistryError::Conflict => AdminError::Conflict,
            RegistryError::VersionMismatch(_) => AdminError::PreconditionFailed,
            RegistryError::NoSecret(_) => AdminError::BadRequest(e.to_string()),
            RegistryError::Corrupt { .. }
            | RegistryError::Random
            | RegistryError::Store(_)
            | RegistryError::Unavailable => {
                tracing::error!(error = %e, "admin API: registry failure");
                AdminError::Internal
            }
        }
    }
}

/// The writable fields, for create (absent = default) and update (absent =
/// unchanged; `jwks_uri: null` removes it).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFields {
    client_name: Option<String>,
    client_type: Option<ClientType>,
    token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    grant_types: Option<Vec<GrantType>>,
    /// Space-separated, as in RFC 7591.
    scope: Option<String>,
    #[serde(default, deserialize_with = "present")]
    jwks_uri: Option<Option<String>>,
    access_token_lifetime: Option<u32>,
    refresh_token_lifetime: Option<u32>,
    id_token_lifetime: Option<u32>,
    id_token_signed_response_alg: Option<SigningAlg>,
    consent_required: Option<bool>,
    introspection_audiences: Option<Vec<String>>,
    require_pkce: Option<bool>,
}

/// Tells `"field": null` (Some(None)) from an absent field (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn scopes(s: Option<String>) -> Option<Vec<String>> {
    s.map(|s| s.split_whitespace().map(str::to_owned).collect())
}

/// Checks the bearer credential in constant time. Without `admin_token`
/// the routes are not registered at all.
pub(super) async fn authorize(req: &HttpRequest, state: &AppState) -> Result<(), AdminError> {
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

async fn json_body(req: &HttpRequest, payload: web::Payload, state: &AppState) -> Result<ClientFields, AdminError> {
    if !super::content_type_is(req, "application/json") {
        return Err(AdminError::UnsupportedMediaType);
    }
    let body = read_body_limited(payload, state.settings.body_limit_bytes)
        .await
        .map_err(|_| AdminError::BadRequest("request body too large or unreadable".into()))?;
    serde_json::from_slice(&body).map_err(|e| AdminError::BadRequest(format!("malformed client JSON: {e}")))
}

/// `If-Match: "v3"` (the ETag we send) → 3; `*` or absent → None.
fn if_match(req: &HttpRequest) -> Result<Option<i64>, AdminError> {
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

fn etag(c: &Client) -> String {
    format!("\"v{}\"", c.version)
}

/// Records the change's event and waits for its commit: a change is not
/// acknowledged before its audit event is durable.
async fn audit(req: &HttpRequest, state: &AppState, action: &'static str, client_id: &str) -> Result<(), AdminError> {
    let ev = AuditEvent::new(state.clock.now(), "admin_api", action, Some(client_id.to_owned()));
    super::record_change(state, req, ev).await.map_err(|_| AdminError::Internal)
}

fn client_response(status: StatusCode, c: &Client, secret: Option<&str>) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(c)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(c.view(secret))
}

fn respond(req: &HttpRequest, r: Result<HttpResponse, AdminError>) -> HttpResponse {
    r.unwrap_or_else(|e| e.response(req))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    #[serde(default)]
    offset: u64,
    limit: Option<u64>,
}

/// `GET /admin/api/v1/clients?offset=&limit=`.
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let page = web::Query::<Page>::from_query(req.query_string())
            .map_err(|e| AdminError::BadRequest(format!("bad query: {e}")))?;
        let limit = page.limit.unwrap_or(100).min(MAX_PAGE);
        let (clients, total) = registry::list_clients(&state.db, page.offset, limit).await?;
        let items: Vec<_> = clients.iter().map(|c| c.view(None)).collect();
        Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "total": total, "offset": page.offset, "limit": limit, "clients": items })))
    }
    .await;
    respond(&req, result)
}

/// `POST /admin/api/v1/clients`: 201 with the client and, for a
/// confidential client, its secret (shown this once).
pub async fn create(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let f = json_body(&req, payload, &state).await?;
        let spec = ClientSpec {
            name: f.client_name.ok_or_else(|| AdminError::InvalidMetadata("client_name is required".into()))?,
            client_type: f.client_type,
            auth_method: f.token_endpoint_auth_method,
            redirect_uris: f.redirect_uris.unwrap_or_default(),
            post_logout_redirect_uris: f.post_logout_redirect_uris.unwrap_or_default(),
            grant_types: f.grant_types.unwrap_or_default(),
            scopes: scopes(f.scope).unwrap_or_default(),
            jwks_uri: f.jwks_uri.flatten(),
            access_token_ttl: f.access_token_lifetime,
            refresh_token_ttl: f.refresh_token_lifetime,
            id_token_ttl: f.id_token_lifetime,
            signing_alg: f.id_token_signed_response_alg,
            consent_required: f.consent_required,
            introspection_audiences: f.introspection_audiences.unwrap_or_default(),
            require_pkce: f.require_pkce,
        };
        let (client, secret) =
            registry::create_client(&state.db, &state.secret_hasher, spec, state.clock.now()).await?;
        audit(&req, &state, "client.created", &client.client_id).await?;
        let mut res = client_response(StatusCode::CREATED, &client, secret.as_deref().map(String::as_str));
        if let Ok(location) = header::HeaderValue::from_str(&format!("/admin/api/v1/clients/{}", client.client_id)) {
            res.headers_mut().insert(header::LOCATION, location);
        }
        Ok(res)
    }
    .await;
    respond(&req, result)
}

/// `GET /admin/api/v1/clients/{id}`, with the version as ETag.
pub async fn show(req: HttpRequest, path: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let client = registry::get_client(&state.db, &path).await?;
        Ok(client_response(StatusCode::OK, &client, None))
    }
    .await;
    respond(&req, result)
}

/// `PATCH /admin/api/v1/clients/{id}`: merge the given fields; `If-Match`
/// makes it conditional on the version read.
pub async fn update(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let if_version = if_match(&req)?;
        let f = json_body(&req, payload, &state).await?;
        // The type follows from the method (as in `client update`).
        if f.client_type.is_some() {
            return Err(AdminError::InvalidMetadata(
                "client_type cannot change; set token_endpoint_auth_method (none = public)".into(),
            ));
        }
        let change = ClientChange {
            name: f.client_name,
            redirect_uris: f.redirect_uris,
            post_logout_redirect_uris: f.post_logout_redirect_uris,
            grant_types: f.grant_types,
            scopes: scopes(f.scope),
            auth_method: f.token_endpoint_auth_method,
            jwks_uri: f.jwks_uri,
            access_token_ttl: f.access_token_lifetime,
            refresh_token_ttl: f.refresh_token_lifetime,
            id_token_ttl: f.id_token_lifetime,
            signing_alg: f.id_token_signed_response_alg,
            consent_required: f.consent_required,
            introspection_audiences: f.introspection_audiences,
            require_pkce: f.require_pkce,
            if_version,
        };
        let updated = registry::update_client(&state.db, &state.secret_hasher, &path, change, state.clock.now()).await;
        state.clients.invalidate(&path);
        let (client, secret) = updated?;
        audit(&req, &state, "client.updated", &client.client_id).await?;
        Ok(client_response(StatusCode::OK, &client, secret.as_deref().map(String::as_str)))
    }
    .await;
    respond(&req, result)
}

/// `DELETE /admin/api/v1/clients/{id}`: 204; honours `If-Match`.
pub async fn delete(req: HttpRequest, path: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        if let Some(v) = if_match(&req)? {
            let current = registry::get_client(&state.db, &path).await?;
            if current.version != v {
                return Err(AdminError::PreconditionFailed);
            }
        }
        registry::delete_client(&state.db, &path).await?;
        state.clients.invalidate(&path);
        audit(&req, &state, "client.deleted", &path).await?;
        Ok(HttpResponse::NoContent().finish())
    }
    .await;
    respond(&req, result)
}

/// `POST /admin/api/v1/clients/{id}/secret`: a new secret, shown once; the
/// old one stops working at once on this instance (within
/// `cache_refresh_secs` on others).
pub async fn rotate_secret(req: HttpRequest, path: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let (client, secret) =
            registry::rotate_secret(&state.db, &state.secret_hasher, &path, state.clock.now()).await?;
        state.clients.invalidate(&path);
        audit(&req, &state, "client.secret_rotated", &client.client_id).await?;
        Ok(client_response(StatusCode::OK, &client, Some(secret.as_str())))
    }
    .await;
    respond(&req, result)
}
