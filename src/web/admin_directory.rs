//! `/admin/api/v1/groups` and `/admin/api/v1/scim-tokens`: the groups
//! (their size, members a page at a time, and the admin-granting mark,
//! under If-Match) and the SCIM provisioning tokens
//! (listed without their values; created with the value shown once;
//! revoked at once). Every change is audited before it is acknowledged.

use super::AppState;
use super::admin_api::{AdminError, audited, authorize, if_match, json_body, no_store, time};
use super::admin_users::account_failure;
use crate::accounts::groups;
use crate::scim::tokens::{self, TokenError};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use entity::groups::Model as Group;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct GroupView {
    id: String,
    display_name: String,
    external_id: Option<String>,
    /// Provisioned over SCIM (else made here).
    scim_managed: bool,
    /// Marked as admin-granting (`gatehouse group grant-admin`); SCIM can
    /// no longer change the group.
    grants_admin: bool,
    members: u64,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    version: i64,
}

impl GroupView {
    fn new(g: &Group, members: u64) -> Self {
        GroupView {
            id: g.id.clone(),
            display_name: g.display_name.clone(),
            external_id: g.external_id.clone(),
            scim_managed: g.scim_managed,
            grants_admin: g.grants_admin,
            members,
            created_at: time(g.created_at),
            updated_at: time(g.updated_at),
            version: g.version,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct GroupList {
    /// By name.
    groups: Vec<GroupView>,
}

/// Every group, with its member count.
#[utoipa::path(get, path = "/admin/api/v1/groups", tag = "groups",
    responses((status = 200, body = GroupList), super::openapi::Errors))]
pub async fn list_groups(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let all = groups::list(&state.db).await.map_err(account_failure)?;
        Ok(no_store(StatusCode::OK)
            .json(GroupList { groups: all.iter().map(|(g, n)| GroupView::new(g, *n)).collect() }))
    };
    result.await.unwrap_or_else(|e: AdminError| e.response(&req))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembersParams {
    /// Members after this user id (the last one of the previous page).
    after: Option<String>,
    /// 1 to 1000; 100 by default.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct Member {
    user_id: String,
    username: String,
}

#[derive(Serialize, ToSchema)]
pub struct GroupDetail {
    #[serde(flatten)]
    group: GroupView,
    /// This page of members, in user id order.
    member_page: Vec<Member>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_after: Option<String>,
}

fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

async fn group_detail(state: &AppState, id: &str, p: &MembersParams) -> Result<HttpResponse, AdminError> {
    let limit = p.limit.unwrap_or(100);
    if !(1..=groups::MAX_MEMBERS_PAGE).contains(&limit) {
        return Err(AdminError::BadRequest(format!("limit must be 1 to {}", groups::MAX_MEMBERS_PAGE)));
    }
    let (g, members) = groups::find(&state.db, id).await.map_err(account_failure)?.ok_or(AdminError::NotFound)?;
    // One more than asked tells whether another page exists.
    let mut page = groups::members(&state.db, &g.id, p.after.as_deref(), limit + 1).await.map_err(account_failure)?;
    let more = page.len() as u64 > limit;
    page.truncate(limit as usize);
    let next_after = if more { page.last().map(|(id, _)| id.clone()) } else { None };
    let member_page = page.into_iter().map(|(user_id, username)| Member { user_id, username }).collect();
    let body = GroupDetail { group: GroupView::new(&g, members), member_page, next_after };
    Ok(no_store(StatusCode::OK).insert_header((header::ETAG, etag(g.version))).json(body))
}

/// One group and a page of its members; the version is the ETag.
#[utoipa::path(get, path = "/admin/api/v1/groups/{group_id}", tag = "groups",
    params(("group_id" = String, Path, description = "The group's id"), MembersParams),
    responses((status = 200, body = GroupDetail, headers(("ETag" = String))), super::openapi::Errors))]
pub async fn show_group(req: HttpRequest, state: web::Data<AppState>, id: web::Path<String>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let p = web::Query::<MembersParams>::from_query(req.query_string())
            .map_err(|e| AdminError::BadRequest(format!("bad query: {e}")))?;
        group_detail(&state, &id, &p).await
    };
    result.await.unwrap_or_else(|e: AdminError| e.response(&req))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupChange {
    /// The admin-granting mark (SCIM can no longer change a marked group).
    grants_admin: bool,
}

/// Set or clear a group's admin-granting mark.
#[utoipa::path(patch, path = "/admin/api/v1/groups/{group_id}", tag = "groups",
    params(("group_id" = String, Path, description = "The group's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read")),
    request_body = GroupChange,
    responses((status = 200, body = GroupDetail, headers(("ETag" = String))), super::openapi::Errors))]
pub async fn update_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let if_version = if_match(&req)?;
        let change: GroupChange = json_body(&req, payload, &state).await?;
        let (g, changed) = groups::set_grants_admin(&state.db, &id, change.grants_admin, if_version, state.clock.now())
            .await
            .map_err(|e| match e {
                crate::accounts::users::AccountError::VersionMismatch => AdminError::PreconditionFailed,
                e => account_failure(e),
            })?;
        if changed {
            let action = if g.grants_admin { "group.admin_granted" } else { "group.admin_revoked" };
            audited(&req, &state, action, &g.id).await?;
        }
        group_detail(&state, &g.id, &MembersParams { after: None, limit: None }).await
    };
    result.await.unwrap_or_else(|e: AdminError| e.response(&req))
}

fn token_failure(e: TokenError) -> AdminError {
    match e {
        TokenError::InvalidName => AdminError::BadRequest(e.to_string()),
        TokenError::Taken(_) => AdminError::Conflict,
        TokenError::NotFound => AdminError::NotFound,
        e => {
            tracing::error!(error = %e, "admin API: SCIM token operation failed");
            AdminError::Internal
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ScimTokenView {
    id: String,
    name: String,
    /// Not revoked.
    active: bool,
    #[schema(format = DateTime)]
    created_at: String,
    /// To the minute.
    #[schema(format = DateTime)]
    last_used_at: Option<String>,
    #[schema(format = DateTime)]
    revoked_at: Option<String>,
}

impl From<&entity::scim_tokens::Model> for ScimTokenView {
    fn from(t: &entity::scim_tokens::Model) -> Self {
        ScimTokenView {
            id: t.id.clone(),
            name: t.name.clone(),
            active: t.revoked_at.is_none(),
            created_at: time(t.created_at),
            last_used_at: t.last_used_at.map(time),
            revoked_at: t.revoked_at.map(time),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ScimTokenList {
    /// Oldest first, revoked ones included; never their values.
    tokens: Vec<ScimTokenView>,
}

/// The SCIM provisioning tokens.
#[utoipa::path(get, path = "/admin/api/v1/scim-tokens", tag = "scim-tokens",
    responses((status = 200, body = ScimTokenList), super::openapi::Errors))]
pub async fn list_tokens(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let rows = tokens::list(&state.db).await.map_err(token_failure)?;
        Ok(no_store(StatusCode::OK).json(ScimTokenList { tokens: rows.iter().map(ScimTokenView::from).collect() }))
    };
    result.await.unwrap_or_else(|e: AdminError| e.response(&req))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScimToken {
    /// The provisioning client's unique name ("entra"), 1 to 128 characters.
    name: String,
}

#[derive(Serialize, ToSchema)]
pub struct IssuedScimToken {
    #[serde(flatten)]
    view: ScimTokenView,
    /// The bearer token. Shown this once: only its keyed hash is kept.
    token: String,
}

/// Create a SCIM token: 201 with its value, shown this once.
#[utoipa::path(post, path = "/admin/api/v1/scim-tokens", tag = "scim-tokens", request_body = NewScimToken,
    responses((status = 201, body = IssuedScimToken), super::openapi::Errors))]
pub async fn create_token(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let n: NewScimToken = json_body(&req, payload, &state).await?;
        let issued =
            tokens::issue(&state.db, &state.secret_hasher, &n.name, state.clock.now()).await.map_err(token_failure)?;
        audited(&req, &state, "scim_token.created", &issued.row.name).await?;
        let body = IssuedScimToken { view: ScimTokenView::from(&issued.row), token: issued.token.to_string() };
        Ok(no_store(StatusCode::CREATED).json(body))
    };
    result.await.unwrap_or_else(|e: AdminError| e.response(&req))
}

/// Revoke a SCIM token (by id or name): requests with it fail from now on.
#[utoipa::path(delete, path = "/admin/api/v1/scim-tokens/{token_id}", tag = "scim-tokens",
    params(("token_id" = String, Path, description = "The token's id or name")),
    responses((status = 204, description = "Revoked (or already was)"), super::openapi::Errors))]
pub async fn revoke_token(req: HttpRequest, state: web::Data<AppState>, id: web::Path<String>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let (name, was_live) = tokens::revoke(&state.db, &id, state.clock.now()).await.map_err(token_failure)?;
        if was_live {
            audited(&req, &state, "scim_token.revoked", &name).await?;
        }
        Ok(HttpResponse::NoContent().finish())
    };
    result.await.unwrap_or_else(|e: AdminError| e.response(&req))
}
