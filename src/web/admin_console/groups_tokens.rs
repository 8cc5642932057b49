//! `/admin/groups` and `/admin/scim-tokens`: the groups with their size and
//! the admin-granting mark (set or cleared from the version shown, so a
//! change made meanwhile is not overwritten blind), and the SCIM tokens
//! (made with the value shown once, revoked at once). Each change goes
//! through sudo mode and is audited under the administrator.

use super::{admin_of, bad_request, changing, date, page};
use crate::accounts::groups;
use crate::accounts::users::AccountError;
use crate::audit::AuditEvent;
use crate::scim::tokens::{self, TokenError};
use crate::web::AppState;
use crate::web::browser::{self, csrf_cookie, csrf_token, see_other};
use crate::web::extract::{AccountForm, SignedIn, has_csrf};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use entity::users::Model as User;
use zeroize::Zeroizing;

async fn audited(
    req: &HttpRequest,
    state: &AppState,
    admin: &User,
    action: &'static str,
    target: &str,
) -> Result<(), HttpResponse> {
    let ev = AuditEvent::new(state.clock.now(), format!("user:{}", admin.id), action, Some(target.to_owned()));
    crate::web::record_change(state, req, ev).await.map_err(|_| browser::server_error_page(req))
}

fn failed(req: &HttpRequest, e: &dyn std::fmt::Display) -> HttpResponse {
    tracing::error!(error = %e, "admin console: a directory operation failed");
    browser::server_error_page(req)
}

struct GroupRow {
    id: String,
    name: String,
    members: u64,
    scim: bool,
    grants_admin: bool,
    version: i64,
}

#[derive(Template)]
#[template(path = "admin_groups.html")]
struct GroupsPage<'a> {
    stylesheet: &'a str,
    groups: Vec<GroupRow>,
    csrf: &'a str,
    sudo_fresh: bool,
}

/// `GET /admin/groups`.
pub async fn get_groups(req: HttpRequest, signed_in: SignedIn, state: web::Data<AppState>) -> HttpResponse {
    let session = signed_in.session;
    if let Err(res) = admin_of(&req, &state, &session).await {
        return res;
    }
    let all = match groups::list(&state.db).await {
        Ok(g) => g,
        Err(e) => return failed(&req, &e),
    };
    let Some((cookie, set)) = csrf_cookie(&req, &state) else { return browser::server_error_page(&req) };
    let csrf = csrf_token(&state, &cookie, Some(&session));
    let body = GroupsPage {
        stylesheet: crate::web::authorize::stylesheet(),
        groups: all
            .into_iter()
            .map(|(g, members)| GroupRow {
                id: g.id,
                name: g.display_name,
                members,
                scim: g.scim_managed,
                grants_admin: g.grants_admin,
                version: g.version,
            })
            .collect(),
        csrf: &csrf,
        sudo_fresh: super::sudo_fresh(&state, &session),
    };
    page(&req, body.render(), set)
}

#[derive(serde::Deserialize)]
pub struct GroupAdminForm {
    #[serde(default)]
    csrf: String,
    /// `yes` or `no`.
    #[serde(default)]
    grants: String,
    /// The version the page showed.
    #[serde(default)]
    version: i64,
    #[serde(default)]
    password: Zeroizing<String>,
}

#[derive(serde::Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: Zeroizing<String>,
}

#[derive(serde::Deserialize)]
pub struct RevokeTokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: Zeroizing<String>,
}

has_csrf!(GroupAdminForm, NewTokenForm, RevokeTokenForm);

/// `POST /admin/groups/{id}/admin`: sets or clears the mark, from the
/// version the page showed.
pub async fn post_group_admin(
    req: HttpRequest,
    sent: AccountForm<GroupAdminForm>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    let AccountForm { form, session, .. } = sent;
    let admin = match changing(&req, &state, &session, form.password).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let grants = match form.grants.as_str() {
        "yes" => true,
        "no" => false,
        _ => return bad_request(&req, "Choose whether the group grants admin."),
    };
    match groups::set_grants_admin(&state.db, &id, grants, Some(form.version), state.clock.now()).await {
        Ok((g, true)) => {
            let action = if g.grants_admin { "group.admin_granted" } else { "group.admin_revoked" };
            if let Err(res) = audited(&req, &state, &admin, action, &g.id).await {
                return res;
            }
        }
        Ok((_, false)) => {}
        Err(AccountError::NotFound) => {
            return browser::error_page(&req, StatusCode::NOT_FOUND, "No such group", "That group does not exist.");
        }
        Err(AccountError::VersionMismatch) => {
            return browser::error_page(
                &req,
                StatusCode::CONFLICT,
                "Changed meanwhile",
                "Someone changed this group since the page was shown. Go back, reload and decide again.",
            );
        }
        Err(e) => return failed(&req, &e),
    }
    see_other("/admin/groups")
}

struct TokenRow {
    id: String,
    name: String,
    active: bool,
    created: String,
    last_used: String,
    revoked: String,
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage<'a> {
    stylesheet: &'a str,
    tokens: Vec<TokenRow>,
    /// A token just made: shown this once.
    issued: Option<(&'a str, &'a str)>,
    csrf: &'a str,
    sudo_fresh: bool,
}

async fn tokens_page(
    req: &HttpRequest,
    state: &AppState,
    session: &crate::actors::sessions::Session,
    issued: Option<(&str, &str)>,
) -> HttpResponse {
    let rows = match tokens::list(&state.db).await {
        Ok(r) => r,
        Err(e) => return failed(req, &e),
    };
    let Some((cookie, set)) = csrf_cookie(req, state) else { return browser::server_error_page(req) };
    let csrf = csrf_token(state, &cookie, Some(session));
    let body = TokensPage {
        stylesheet: crate::web::authorize::stylesheet(),
        tokens: rows
            .into_iter()
            .map(|t| TokenRow {
                active: t.revoked_at.is_none(),
                created: date(t.created_at),
                last_used: t.last_used_at.map(date).unwrap_or_default(),
                revoked: t.revoked_at.map(date).unwrap_or_default(),
                id: t.id,
                name: t.name,
            })
            .collect(),
        issued,
        csrf: &csrf,
        sudo_fresh: super::sudo_fresh(state, session),
    };
    page(req, body.render(), set)
}

/// `GET /admin/scim-tokens`.
pub async fn get_tokens(req: HttpRequest, signed_in: SignedIn, state: web::Data<AppState>) -> HttpResponse {
    if let Err(res) = admin_of(&req, &state, &signed_in.session).await {
        return res;
    }
    tokens_page(&req, &state, &signed_in.session, None).await
}

/// `POST /admin/scim-tokens`: makes one and shows it this once.
pub async fn post_new_token(
    req: HttpRequest,
    sent: AccountForm<NewTokenForm>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let AccountForm { form, session, .. } = sent;
    let admin = match changing(&req, &state, &session, form.password).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let issued = match tokens::issue(&state.db, &state.secret_hasher, &form.name, state.clock.now()).await {
        Ok(i) => i,
        Err(e @ (TokenError::InvalidName | TokenError::Taken(_))) => return bad_request(&req, &e.to_string()),
        Err(e) => return failed(&req, &e),
    };
    if let Err(res) = audited(&req, &state, &admin, "scim_token.created", &issued.row.name).await {
        return res;
    }
    tokens_page(&req, &state, &session, Some((issued.row.name.as_str(), issued.token.as_str()))).await
}

/// `POST /admin/scim-tokens/{id}/revoke`.
pub async fn post_revoke_token(
    req: HttpRequest,
    sent: AccountForm<RevokeTokenForm>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    let AccountForm { form, session, .. } = sent;
    let admin = match changing(&req, &state, &session, form.password).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    match tokens::revoke(&state.db, &id, state.clock.now()).await {
        Ok((name, true)) => {
            if let Err(res) = audited(&req, &state, &admin, "scim_token.revoked", &name).await {
                return res;
            }
        }
        Ok((_, false)) => {}
        Err(TokenError::NotFound) => {
            return browser::error_page(
                &req,
                StatusCode::NOT_FOUND,
                "No such token",
                "That SCIM token does not exist.",
            );
        }
        Err(e) => return failed(&req, &e),
    }
    see_other("/admin/scim-tokens")
}
