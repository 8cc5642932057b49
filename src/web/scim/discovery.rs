//! The discovery endpoints (RFC 7644 §4), and the answers for paths and
//! methods that do not exist.

use super::{Failure, PATH, authenticate, base, finish, respond_error, scim_json};
use crate::scim::error::ScimError;
use crate::scim::schema;
use crate::web::AppState;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

pub(super) async fn method_not_allowed(req: HttpRequest, allow: &'static str) -> HttpResponse {
    let mut res = respond_error(&req, Failure::Scim(ScimError::MethodNotAllowed(allow)));
    if let Ok(v) = header::HeaderValue::from_str(allow) {
        res.headers_mut().insert(header::ALLOW, v);
    }
    res
}

pub(super) async fn service_provider_config(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let r = async {
        authenticate(&req, &state).await?;
        let b = base(&state);
        Ok(scim_json(StatusCode::OK, &schema::service_provider_config(&b, &format!("{b}/Schemas"))))
    };
    finish(&req, r.await)
}

fn list_of(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [schema::LIST_URN],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

pub(super) async fn resource_types(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let r = async {
        authenticate(&req, &state).await?;
        Ok(scim_json(StatusCode::OK, &list_of(schema::resource_types(&base(&state)))))
    };
    finish(&req, r.await)
}

pub(super) async fn resource_type(req: HttpRequest, state: web::Data<AppState>, id: web::Path<String>) -> HttpResponse {
    let r = async {
        authenticate(&req, &state).await?;
        let found = schema::resource_types(&base(&state)).into_iter().find(|t| t["id"] == json!(id.as_str()));
        found.map(|t| scim_json(StatusCode::OK, &t)).ok_or(Failure::Scim(ScimError::NotFound))
    };
    finish(&req, r.await)
}

pub(super) async fn schemas(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let r = async {
        authenticate(&req, &state).await?;
        Ok(scim_json(StatusCode::OK, &list_of(schema::schemas(&base(&state)))))
    };
    finish(&req, r.await)
}

pub(super) async fn schema_by_id(req: HttpRequest, state: web::Data<AppState>, id: web::Path<String>) -> HttpResponse {
    let r = async {
        authenticate(&req, &state).await?;
        let found = schema::schemas(&base(&state)).into_iter().find(|s| s["id"] == json!(id.as_str()));
        found.map(|s| scim_json(StatusCode::OK, &s)).ok_or(Failure::Scim(ScimError::NotFound))
    };
    finish(&req, r.await)
}

pub(super) async fn not_found(req: HttpRequest) -> HttpResponse {
    let detail = if req.path().ends_with("/Bulk") {
        ScimError::NotImplemented("Bulk is not supported (see ServiceProviderConfig)")
    } else if req.path() == format!("{PATH}/.search") {
        ScimError::NotImplemented(
            "searching several resource types at once is not supported; use /Users/.search or /Groups/.search",
        )
    } else if req.path().ends_with("/Me") || req.path().contains("/Me/") {
        ScimError::NotImplemented("/Me is not supported: SCIM tokens belong to provisioning clients, not people")
    } else {
        ScimError::NotFound
    };
    respond_error(&req, Failure::Scim(detail))
}
