//! The admin REST API for clients, `/admin/api/v1/clients`: the same
//! registry and validation as `gatehouse client`, over JSON, behind the
//! `admin_token` bearer credential. Field names are those of RFC 7591 (as
//! `client show --json` prints them); unknown fields are refused.

use super::AppState;
use super::admin_api::{AdminError, authorize, if_match, json_body};
use crate::audit::AuditEvent;
use crate::oauth::registry::{self, Client, ClientChange, ClientView, RegistryError};
use crate::oauth::{ClientSpec, ClientType, GrantType, SigningAlg, TokenEndpointAuthMethod};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

/// Largest page `GET /clients` returns.
const MAX_PAGE: u64 = 500;

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
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientFields {
    client_name: Option<String>,
    client_type: Option<ClientType>,
    token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    grant_types: Option<Vec<GrantType>>,
    /// Space-separated, as in RFC 7591.
    scope: Option<String>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Page {
    #[serde(default)]
    offset: u64,
    /// 100 by default; at most 500.
    limit: Option<u64>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ClientList {
    total: u64,
    offset: u64,
    limit: u64,
    clients: Vec<ClientView>,
}

/// List clients.
#[utoipa::path(get, path = "/admin/api/v1/clients", tag = "clients", params(Page),
    responses((status = 200, body = ClientList), super::openapi::Errors))]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let page = web::Query::<Page>::from_query(req.query_string())
            .map_err(|e| AdminError::BadRequest(format!("bad query: {e}")))?;
        let limit = page.limit.unwrap_or(100).min(MAX_PAGE);
        let (clients, total) = registry::list_clients(&state.db, page.offset, limit).await?;
        let clients = clients.iter().map(|c| c.view(None)).collect();
        Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(ClientList {
            total,
            offset: page.offset,
            limit,
            clients,
        }))
    }
    .await;
    respond(&req, result)
}

/// Register a client: 201 with the client and, for a confidential client,
/// its secret (shown this once).
#[utoipa::path(post, path = "/admin/api/v1/clients", tag = "clients", request_body = ClientFields,
    responses((status = 201, body = ClientView, headers(("ETag" = String), ("Location" = String))), super::openapi::Errors))]
pub async fn create(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let f: ClientFields = json_body(&req, payload, &state).await?;
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

/// One client, with the version as ETag.
#[utoipa::path(get, path = "/admin/api/v1/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path, description = "The client's id")),
    responses((status = 200, body = ClientView, headers(("ETag" = String))), super::openapi::Errors))]
pub async fn show(req: HttpRequest, path: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let client = registry::get_client(&state.db, &path).await?;
        Ok(client_response(StatusCode::OK, &client, None))
    }
    .await;
    respond(&req, result)
}

/// Merge the given fields; `If-Match` makes it conditional on the version
/// read. A change of authentication method may generate a secret.
#[utoipa::path(patch, path = "/admin/api/v1/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path, description = "The client's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read")),
    request_body = ClientFields,
    responses((status = 200, body = ClientView, headers(("ETag" = String))), super::openapi::Errors))]
pub async fn update(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let if_version = if_match(&req)?;
        let f: ClientFields = json_body(&req, payload, &state).await?;
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

/// Delete a client; honours `If-Match`.
#[utoipa::path(delete, path = "/admin/api/v1/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path, description = "The client's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read")),
    responses((status = 204, description = "Deleted"), super::openapi::Errors))]
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

/// A new secret, shown once; the old one stops working at once on this
/// instance (within `cache_refresh_secs` on others).
#[utoipa::path(post, path = "/admin/api/v1/clients/{client_id}/secret", tag = "clients",
    params(("client_id" = String, Path, description = "The client's id")),
    responses((status = 200, body = ClientView, headers(("ETag" = String))), super::openapi::Errors))]
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
