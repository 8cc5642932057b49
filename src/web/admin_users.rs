//! `/admin/api/v1/users`: search with keyset cursors, one user's page
//! (profile, groups, sessions, second factors, lockout) with its version as
//! ETag, `PATCH` of `active` under `If-Match`, the bulk actions with a
//! per-user outcome, and a user's sessions. Every change is audited before
//! it is acknowledged.

use super::AppState;
use super::admin_api::{AdminError, audited, authorize, if_match, no_store, time};
use crate::accounts::directory::{self, BulkAction, MAX_BULK, Outcome, UserFilter};
use crate::accounts::users::{self, AccountError};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use entity::users::Model as User;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A user as lists show it.
#[derive(Serialize, ToSchema)]
pub struct UserSummary {
    id: String,
    username: String,
    email: Option<String>,
    display_name: Option<String>,
    active: bool,
    administrator: bool,
    scim_managed: bool,
    /// Locked out now (the account or one of its devices).
    locked: bool,
    /// Has a confirmed authenticator app or a passkey.
    second_factor: bool,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    /// Its ETag is `"v<version>"`.
    version: i64,
}

impl UserSummary {
    fn new(u: &User, locked: bool, second_factor: bool) -> Self {
        UserSummary {
            id: u.id.clone(),
            username: u.username.clone(),
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            active: u.active,
            administrator: u.is_admin,
            scim_managed: u.scim_managed,
            locked,
            second_factor,
            created_at: time(u.created_at),
            updated_at: time(u.updated_at),
            version: u.version,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    users: Vec<UserSummary>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// The search. Every word of `q` must prefix-match the username, the email
/// or a word of the user's names.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Up to four words.
    #[param(max_length = 256)]
    q: Option<String>,
    active: Option<bool>,
    locked: Option<bool>,
    second_factor: Option<bool>,
    scim_managed: Option<bool>,
    administrator: Option<bool>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 512)]
    cursor: Option<String>,
    /// 1 to 200; 50 by default.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
}

pub(super) fn account_failure(e: AccountError) -> AdminError {
    match e {
        AccountError::NotFound => AdminError::NotFound,
        AccountError::VersionMismatch => AdminError::PreconditionFailed,
        AccountError::InvalidCursor | AccountError::InvalidQuery(_) => AdminError::BadRequest(e.to_string()),
        e => {
            tracing::error!(error = %e, "admin API: account operation failed");
            AdminError::Internal
        }
    }
}

/// Search users.
#[utoipa::path(get, path = "/admin/api/v1/users", tag = "users", params(SearchParams),
    responses((status = 200, body = UserPage), super::openapi::Errors))]
pub async fn search(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let p = web::Query::<SearchParams>::from_query(req.query_string())
            .map_err(|e| AdminError::BadRequest(format!("bad query: {e}")))?
            .into_inner();
        let limit = p.limit.unwrap_or(50);
        if !(1..=directory::MAX_PAGE).contains(&limit) {
            return Err(AdminError::BadRequest(format!("limit must be 1 to {}", directory::MAX_PAGE)));
        }
        let q = p.q.unwrap_or_default();
        if q.len() > 256 {
            return Err(AdminError::BadRequest("q must be at most 256 bytes".into()));
        }
        let filter = UserFilter {
            words: directory::query_words(&q).map_err(account_failure)?,
            active: p.active,
            locked: p.locked,
            second_factor: p.second_factor,
            scim_managed: p.scim_managed,
            admin: p.administrator,
        };
        let page = directory::search(&state.db, &filter, p.cursor.as_deref(), limit, state.clock.now())
            .await
            .map_err(account_failure)?;
        let users = page
            .users
            .iter()
            .map(|u| UserSummary::new(u, page.flags.locked.contains(&u.id), page.flags.second_factor.contains(&u.id)))
            .collect();
        Ok(no_store(StatusCode::OK).json(UserPage { users, next_cursor: page.next_cursor }))
    };
    result.await.unwrap_or_else(|e| e.response(&req))
}

#[derive(Serialize, ToSchema)]
pub struct GroupRef {
    display_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// The session's public id (`sid` in tokens).
    sid: String,
    /// A readable device, when the user agent says enough.
    device: Option<String>,
    ip: Option<String>,
    /// How the person signed in (`pwd`, `otp`, `hwk`, …).
    amr: Vec<String>,
    #[schema(format = DateTime)]
    signed_in_at: String,
    #[schema(format = DateTime)]
    last_seen_at: String,
    #[schema(format = DateTime)]
    expires_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct SecondFactors {
    authenticator_app: bool,
    passkeys: u64,
    recovery_codes_left: u64,
}

#[derive(Serialize, ToSchema)]
pub struct UserDetail {
    user: UserSummary,
    groups: Vec<GroupRef>,
    sessions: Vec<SessionView>,
    second_factors: SecondFactors,
}

fn session_view(s: &entity::sessions::Model) -> SessionView {
    SessionView {
        sid: s.sid.clone(),
        device: s.user_agent.as_deref().and_then(super::user_agent::describe),
        ip: s.ip.clone(),
        amr: s.amr.split_whitespace().map(str::to_owned).collect(),
        signed_in_at: time(s.auth_time),
        last_seen_at: time(s.last_seen_at),
        expires_at: time(s.expires_at),
    }
}

async fn detail(state: &AppState, user_id: &str) -> Result<(User, UserDetail), AdminError> {
    let now = state.clock.now();
    let internal = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "admin API: user query failed");
        AdminError::Internal
    };
    let u = users::find(&state.db, user_id).await.map_err(account_failure)?.ok_or(AdminError::NotFound)?;
    let locked = directory::locked(&state.db, &u.id, now).await.map_err(account_failure)?;
    let factors = crate::mfa::service::factors(&state.db, &u.id).await.map_err(|e| internal(&e))?;
    let groups = directory::groups(&state.db, &u.id).await.map_err(account_failure)?;
    let sessions = users::sessions(&state.db, &u.id, now).await.map_err(account_failure)?;
    let d = UserDetail {
        user: UserSummary::new(&u, locked, factors.totp.is_some() || factors.webauthn > 0),
        groups: groups.into_iter().map(|display_name| GroupRef { display_name }).collect(),
        sessions: sessions.iter().map(session_view).collect(),
        second_factors: SecondFactors {
            authenticator_app: factors.totp.is_some(),
            passkeys: factors.webauthn,
            recovery_codes_left: factors.recovery_codes_left,
        },
    };
    Ok((u, d))
}

fn detail_response(u: &User, d: &UserDetail) -> HttpResponse {
    no_store(StatusCode::OK).insert_header((header::ETAG, format!("\"v{}\"", u.version))).json(d)
}

/// One user, with the version as ETag.
#[utoipa::path(get, path = "/admin/api/v1/users/{user_id}", tag = "users",
    params(("user_id" = String, Path, description = "The user's id")),
    responses((status = 200, body = UserDetail, headers(("ETag" = String))), super::openapi::Errors))]
pub async fn show(req: HttpRequest, state: web::Data<AppState>, user_id: web::Path<String>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let (u, d) = detail(&state, &user_id).await?;
        Ok(detail_response(&u, &d))
    };
    result.await.unwrap_or_else(|e: AdminError| e.response(&req))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// Deactivating also signs the user out everywhere.
    active: Option<bool>,
}

/// Change a user; `If-Match` makes it conditional on the version read.
#[utoipa::path(patch, path = "/admin/api/v1/users/{user_id}", tag = "users",
    params(("user_id" = String, Path, description = "The user's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read")),
    request_body = UserChange,
    responses((status = 200, body = UserDetail, headers(("ETag" = String))), super::openapi::Errors))]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    user_id: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let if_version = if_match(&req)?;
        let change: UserChange = super::admin_api::json_body(&req, payload, &state).await?;
        let u = users::find(&state.db, &user_id).await.map_err(account_failure)?.ok_or(AdminError::NotFound)?;
        match change.active {
            Some(active) => {
                let action = if active { BulkAction::Activate } else { BulkAction::Deactivate };
                // The version is checked by the write itself: a change that
                // lands between our read and this write fails it.
                let applied = directory::set_active(&state.db, &u.id, active, if_version, state.clock.now())
                    .await
                    .map_err(account_failure)?;
                super::admin_actions::forget_revoked(&state, action, &u.id, &applied).await;
                if applied.outcome == Outcome::Changed {
                    audited(&req, &state, action.audit_action(), &u.id).await?;
                }
            }
            None if if_version.is_some_and(|v| v != u.version) => return Err(AdminError::PreconditionFailed),
            None => {}
        }
        let (u, d) = detail(&state, &user_id).await?;
        Ok(detail_response(&u, &d))
    };
    result.await.unwrap_or_else(|e| e.response(&req))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    action: BulkAction,
    /// At most 500, each at most once.
    user_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkResult {
    user_id: String,
    outcome: Outcome,
}

#[derive(Serialize, ToSchema)]
pub struct BulkResponse {
    action: BulkAction,
    results: Vec<BulkResult>,
}

/// Apply one action to many users; the answer says what happened to each.
#[utoipa::path(post, path = "/admin/api/v1/users/bulk", tag = "users", request_body = BulkRequest,
    responses((status = 200, body = BulkResponse), super::openapi::Errors))]
pub async fn bulk(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let b: BulkRequest = super::admin_api::json_body(&req, payload, &state).await?;
        if b.user_ids.is_empty() || b.user_ids.len() > MAX_BULK {
            return Err(AdminError::BadRequest(format!("user_ids must name 1 to {MAX_BULK} users")));
        }
        let mut seen = std::collections::HashSet::new();
        if !b.user_ids.iter().all(|id| seen.insert(id.as_str())) {
            return Err(AdminError::BadRequest("user_ids must not repeat a user".into()));
        }
        let outcomes = super::admin_actions::bulk(&req, &state, "admin_api", b.action, &b.user_ids).await.map_err(
            |e| match e {
                super::admin_actions::BulkError::Account(e) => account_failure(e),
                super::admin_actions::BulkError::NotAudited => AdminError::Internal,
            },
        )?;
        let results =
            b.user_ids.into_iter().zip(outcomes).map(|(user_id, outcome)| BulkResult { user_id, outcome }).collect();
        Ok(no_store(StatusCode::OK).json(BulkResponse { action: b.action, results }))
    };
    result.await.unwrap_or_else(|e| e.response(&req))
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    sessions: Vec<SessionView>,
}

/// A user's live browser sessions, newest first.
#[utoipa::path(get, path = "/admin/api/v1/users/{user_id}/sessions", tag = "users",
    params(("user_id" = String, Path, description = "The user's id")),
    responses((status = 200, body = SessionList), super::openapi::Errors))]
pub async fn sessions(req: HttpRequest, state: web::Data<AppState>, user_id: web::Path<String>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let u = users::find(&state.db, &user_id).await.map_err(account_failure)?.ok_or(AdminError::NotFound)?;
        let list = users::sessions(&state.db, &u.id, state.clock.now()).await.map_err(account_failure)?;
        Ok(no_store(StatusCode::OK).json(SessionList { sessions: list.iter().map(session_view).collect() }))
    };
    result.await.unwrap_or_else(|e: AdminError| e.response(&req))
}

/// Sign the user out everywhere: sessions end, refresh tokens and their
/// access tokens are revoked.
#[utoipa::path(delete, path = "/admin/api/v1/users/{user_id}/sessions", tag = "users",
    params(("user_id" = String, Path, description = "The user's id")),
    responses((status = 204, description = "Signed out everywhere"), super::openapi::Errors))]
pub async fn end_sessions(req: HttpRequest, state: web::Data<AppState>, user_id: web::Path<String>) -> HttpResponse {
    let result = async {
        authorize(&req, &state).await?;
        let action = BulkAction::SignOutEverywhere;
        let applied =
            directory::apply(&state.db, action, &user_id, state.clock.now()).await.map_err(account_failure)?;
        if applied.outcome == Outcome::NotFound {
            return Err(AdminError::NotFound);
        }
        super::admin_actions::forget_revoked(&state, action, &user_id, &applied).await;
        audited(&req, &state, action.audit_action(), &user_id).await?;
        Ok(HttpResponse::NoContent().finish())
    };
    result.await.unwrap_or_else(|e| e.response(&req))
}
