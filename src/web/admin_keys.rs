//! `/admin/api/v1/keys`: the signing keys and their lifecycle, on-demand
//! rotation, and emergency revocation — which asks the caller to name the
//! key twice, because it breaks every token the key signed. Changes go
//! through the key manager (so this instance publishes them at once) and
//! are audited before they are acknowledged.

use super::AppState;
use super::admin_api::{AdminError, authorize, json_body};
use crate::actors::keys::KeyChange;
use crate::audit::AuditEvent;
use crate::keys::ops::{self, KeyError, KeyEvent, KeyView};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What revoking a key does, said before and after.
pub const REVOKE_CONSEQUENCES: &str = "The key leaves the JWKS at once. Every access token and ID token it signed \
     stops verifying, here and at every relying party once it refetches the JWKS; people stay signed in here, and \
     clients must use refresh tokens or sign in again to get tokens from the replacement key.";

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    /// Oldest first.
    keys: Vec<KeyView>,
}

#[derive(Serialize, ToSchema)]
pub struct KeyChanges {
    changes: Vec<KeyEvent>,
    keys: Vec<KeyView>,
    /// On revocation: what breaks.
    #[serde(skip_serializing_if = "Option::is_none")]
    consequences: Option<&'static str>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// The successor signs now and the current key retires at once
    /// (still published until its tokens expire). Otherwise it is published
    /// first and signs after the pre-publish window.
    #[serde(default)]
    immediate: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// The key's id again, to confirm.
    confirm: String,
}

fn key_failure(e: KeyError) -> AdminError {
    match e {
        KeyError::NotFound(_) => AdminError::NotFound,
        e => {
            tracing::error!(error = %e, "admin API: key operation failed");
            AdminError::Internal
        }
    }
}

async fn keys(state: &AppState) -> Result<Vec<KeyView>, AdminError> {
    ops::list(&state.db, state.clock.now()).await.map_err(key_failure)
}

/// Applies a change and audits each of its events durably.
async fn change(req: &HttpRequest, state: &AppState, change: KeyChange) -> Result<Vec<KeyEvent>, AdminError> {
    let events = state.actors.keys.send(change).await.map_err(|_| AdminError::Internal)?.map_err(key_failure)?;
    let now = state.clock.now();
    let audited = events
        .iter()
        .map(|e| super::record_change(state, req, AuditEvent::new(now, "admin_api", e.action, Some(e.kid.clone()))));
    for r in futures_util::future::join_all(audited).await {
        r.map_err(|_| AdminError::Internal)?;
    }
    Ok(events)
}

fn ok<T: Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

/// The signing keys with their state now.
#[utoipa::path(get, path = "/admin/api/v1/keys", tag = "keys",
    responses((status = 200, body = KeyList), super::openapi::Errors))]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        Ok(ok(&KeyList { keys: keys(&state).await? }))
    };
    result.await.unwrap_or_else(|e: AdminError| e.response(&req))
}

/// Rotate every algorithm's key.
#[utoipa::path(post, path = "/admin/api/v1/keys/rotate", tag = "keys", request_body = RotateRequest,
    responses((status = 200, body = KeyChanges), super::openapi::Errors))]
pub async fn rotate(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let r: RotateRequest = json_body(&req, payload, &state).await?;
        let changes = change(&req, &state, KeyChange::Rotate { immediate: r.immediate }).await?;
        Ok(ok(&KeyChanges { changes, keys: keys(&state).await?, consequences: None }))
    };
    result.await.unwrap_or_else(|e: AdminError| e.response(&req))
}

/// Revoke one key now; a replacement signs if it was the signer.
#[utoipa::path(post, path = "/admin/api/v1/keys/{kid}/revoke", tag = "keys",
    params(("kid" = String, Path, description = "The key's id")),
    request_body = RevokeRequest,
    responses((status = 200, body = KeyChanges), super::openapi::Errors))]
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    kid: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let r: RevokeRequest = json_body(&req, payload, &state).await?;
        if r.confirm != *kid {
            return Err(AdminError::BadRequest(format!(
                "to revoke, send confirm with the key's id. {REVOKE_CONSEQUENCES}"
            )));
        }
        let changes = change(&req, &state, KeyChange::Revoke { kid: kid.into_inner() }).await?;
        Ok(ok(&KeyChanges { changes, keys: keys(&state).await?, consequences: Some(REVOKE_CONSEQUENCES) }))
    };
    result.await.unwrap_or_else(|e: AdminError| e.response(&req))
}
