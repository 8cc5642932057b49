//! The admin API's OpenAPI 3.1 document, generated from the handlers'
//! annotations and the types they serialize, served at
//! `/admin/api/v1/openapi.json`. It describes the API, not a deployment,
//! so it is served without the admin token (as are discovery documents).

use actix_web::HttpResponse;
use actix_web::http::header;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

/// An RFC 9457 problem document; `error` and `error_description` repeat
/// `type` and `detail` in OAuth's words for clients of the first API.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:gatehouse:problem:<error>`.
    #[serde(rename = "type")]
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request path.
    pub instance: String,
    pub error: String,
    pub error_description: String,
    /// Seconds, on 429.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// On 500: quote it when reporting the failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The errors every admin operation may answer with.
#[allow(dead_code)] // Only its derived description is used.
#[derive(IntoResponses)]
pub enum Errors {
    /// Malformed request or invalid metadata.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// Missing or wrong admin token.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// Changed concurrently; retry.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// `If-Match` names another version.
    #[response(status = 412, content_type = "application/problem+json")]
    PreconditionFailed(Problem),
    /// The body must be `application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Problem),
    /// Too many failed authentications from this address.
    #[response(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Problem),
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(Problem),
}

struct AdminToken;

impl Modify for AdminToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The `admin_token` setting"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Gatehouse admin API", description = "Users, groups, SCIM tokens, clients, signing keys, lockouts and the audit log. Errors are RFC 9457 problem documents."),
    paths(
        super::admin_users::search,
        super::admin_users::show,
        super::admin_users::update,
        super::admin_users::bulk,
        super::admin_users::sessions,
        super::admin_users::end_sessions,
        super::export::admin_export,
        super::admin_directory::list_groups,
        super::admin_directory::show_group,
        super::admin_directory::update_group,
        super::admin_directory::list_tokens,
        super::admin_directory::create_token,
        super::admin_directory::revoke_token,
        super::admin::list,
        super::admin::create,
        super::admin::show,
        super::admin::update,
        super::admin::delete,
        super::admin::rotate_secret,
        super::admin_lockouts::list,
        super::admin_lockouts::unlock,
        super::admin_audit::list,
        super::admin_keys::list,
        super::admin_keys::rotate,
        super::admin_keys::revoke,
    ),
    modifiers(&AdminToken),
    security(("admin_token" = [])),
)]
pub struct AdminApi;

/// The document, built once.
pub fn document() -> &'static str {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOC.get_or_init(|| AdminApi::openapi().to_json().unwrap_or_default())
}

/// `GET /admin/api/v1/openapi.json`.
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(document())
}
