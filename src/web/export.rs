//! The data export of one person as a JSON download: for administrators
//! (`GET /admin/api/v1/users/{id}/export`, admin token) and for the person
//! themselves (`GET /account/export`). Each export is audited before the
//! data leaves: no audit event, no export.

use super::AppState;
use super::admin_api::{AdminError, authorize};
use super::browser;
use super::extract::SignedIn;
use crate::accounts::users::AccountError;
use crate::audit::AuditEvent;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

fn download(user_id: &str, doc: &serde_json::Value) -> HttpResponse {
    // User ids are UUIDs; anything else is kept out of the header anyway.
    let name: String = user_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"gatehouse-export-{name}.json\"")))
        .json(doc)
}

/// Everything held about one person, as one JSON document (audited first).
#[utoipa::path(get, path = "/admin/api/v1/users/{user_id}/export", tag = "users",
    params(("user_id" = String, Path, description = "The user's id")),
    responses((status = 200, body = Object, description = "The `gatehouse.person-export/1` document"), super::openapi::Errors))]
pub async fn admin_export(req: HttpRequest, state: web::Data<AppState>, user_id: web::Path<String>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let now = state.clock.now();
        let failed = |e: AccountError| match e {
            AccountError::NotFound => AdminError::NotFound,
            e => {
                tracing::error!(error = %e, "admin API: export failed");
                AdminError::Internal
            }
        };
        // Known first, so an unknown id is a 404 and not an audited export.
        crate::accounts::users::find(&state.db, &user_id).await.map_err(failed)?.ok_or(AdminError::NotFound)?;
        let ev = AuditEvent::new(now, "admin_api", "user.exported", Some(user_id.to_string()));
        super::record_change(&state, &req, ev).await.map_err(|_| AdminError::Internal)?;
        let doc = crate::accounts::export::export(&state.db, &user_id, now).await.map_err(failed)?;
        Ok::<_, AdminError>(download(&user_id, &doc))
    };
    result.await.unwrap_or_else(|e| e.response(&req))
}

/// `GET /account/export`: the signed-in person's own data.
pub async fn account_export(req: HttpRequest, signed_in: SignedIn, state: web::Data<AppState>) -> HttpResponse {
    let user_id = signed_in.session.user_id;
    let now = state.clock.now();
    let ev = AuditEvent::new(now, format!("user:{user_id}"), "user.exported", Some(user_id.clone()));
    if super::record_change(&state, &req, ev).await.is_err() {
        return browser::server_error_page(&req);
    }
    match crate::accounts::export::export(&state.db, &user_id, now).await {
        Ok(doc) => download(&user_id, &doc),
        Err(e) => {
            tracing::error!(error = %e, "account export failed");
            browser::server_error_page(&req)
        }
    }
}
