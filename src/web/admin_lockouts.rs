//! `GET /admin/api/v1/lockouts` (accounts locked now) and
//! `DELETE /admin/api/v1/lockouts/{user_id}` (unlock), with the admin token.

use super::AppState;
use super::admin_api::{AdminError, authorize};
use crate::accounts::lockout;
use crate::audit::AuditEvent;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct LockoutView {
    user_id: String,
    username: String,
    #[schema(format = DateTime)]
    locked_until: Option<String>,
    /// Lockouts in a row; each lasts longer.
    lockouts: i32,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct LockoutList {
    lockouts: Vec<LockoutView>,
}

/// Accounts locked out now.
#[utoipa::path(get, path = "/admin/api/v1/lockouts", tag = "lockouts",
    responses((status = 200, body = LockoutList), super::openapi::Errors))]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let rows = lockout::current(&state.db, state.clock.now()).await.map_err(|e| {
            tracing::error!(error = %e, "admin API: lockout query failed");
            AdminError::Internal
        })?;
        let lockouts = rows
            .into_iter()
            .map(|(l, username)| LockoutView {
                user_id: l.user_id,
                username,
                locked_until: l.locked_until.map(|t| t.to_rfc3339()),
                lockouts: l.lockouts,
            })
            .collect();
        Ok::<_, AdminError>(
            HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(LockoutList { lockouts }),
        )
    };
    result.await.unwrap_or_else(|e| e.response(&req))
}

/// Unlock an account (and its devices).
#[utoipa::path(delete, path = "/admin/api/v1/lockouts/{user_id}", tag = "lockouts",
    params(("user_id" = String, Path, description = "The user's id")),
    responses((status = 204, description = "Unlocked"), super::openapi::Errors))]
pub async fn unlock(req: HttpRequest, state: web::Data<AppState>, user_id: web::Path<String>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let now = state.clock.now();
        let was = lockout::unlock(&state.db, &user_id, now).await.map_err(|e| {
            tracing::error!(error = %e, "admin API: unlock failed");
            AdminError::Internal
        })?;
        if !was {
            return Err(AdminError::NotFound);
        }
        let ev = AuditEvent::new(now, "admin_api", "account.unlocked", Some(user_id.to_string()));
        super::record_change(&state, &req, ev).await.map_err(|_| AdminError::Internal)?;
        Ok(HttpResponse::NoContent().finish())
    };
    result.await.unwrap_or_else(|e| e.response(&req))
}
