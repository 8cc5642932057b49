//! `/admin`: the admin console, server-rendered like the sign-in pages.
//! Its people are the administrators (the per-user flag, or a member of a
//! group that grants admin) signed in with the browser session; when the
//! MFA policy asks administrators for a second factor, a session without
//! one is sent to sign in again. Changes need a sign-in from the last few
//! minutes or the password again (sudo mode), carry the session-bound CSRF
//! token, and are audited under the administrator's name.

mod audit;
mod groups_tokens;
mod lockouts;
mod user;

use super::AppState;
use super::browser::{self, csrf_cookie, csrf_token, html, see_other};
use super::extract::{AccountForm, SignedIn, has_csrf};
use crate::accounts::directory::{self, BulkAction, MAX_BULK, Outcome, UserFilter};
use crate::accounts::users::{self, AccountError};
use crate::actors::sessions::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use entity::users::Model as User;
use zeroize::Zeroizing;

pub use audit::{get_audit, get_live};
pub use groups_tokens::{get_groups, get_tokens, post_group_admin, post_new_token, post_revoke_token};
pub use lockouts::get_lockouts;
pub use user::get_user;

/// Times on the console's pages.
fn date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Users per page of the list.
const PAGE: u64 = 50;

/// Signed in recently enough (`admin_reauth_secs`) to change things
/// without the password again.
fn sudo_fresh(state: &AppState, session: &Session) -> bool {
    let window = i64::try_from(state.settings.admin_reauth_secs).unwrap_or(0);
    state.clock.now() - session.auth_time < chrono::Duration::seconds(window)
}

/// Sudo mode: a change from a sign-in older than `admin_reauth_secs` takes
/// the password again (a wrong one counts toward the lockout).
async fn confirmed(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    admin: &User,
    password: Zeroizing<String>,
) -> Result<(), HttpResponse> {
    if sudo_fresh(state, session) {
        return Ok(());
    }
    if password.is_empty() {
        return Err(browser::error_page(
            req,
            StatusCode::FORBIDDEN,
            "Confirm it is you",
            "Your sign-in is more than a few minutes old: go back and give your password with the change.",
        ));
    }
    super::factor_rules::password_confirms(req, state, admin, password, "admin.confirm_refused")
        .await
        .map_err(|r| super::factor_rules::password_refused(req, r))
}

/// The administrator making a change: signed in, an administrator, and
/// past sudo mode.
async fn changing(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    password: Zeroizing<String>,
) -> Result<User, HttpResponse> {
    let admin = admin_of(req, state, session).await?;
    confirmed(req, state, session, &admin, password).await?;
    Ok(admin)
}

/// The signed-in administrator, or the page that says why not.
async fn admin_of(req: &HttpRequest, state: &AppState, session: &Session) -> Result<User, HttpResponse> {
    let internal = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "admin console: checking the administrator failed");
        browser::server_error_page(req)
    };
    let user = match users::find_active(&state.db, &session.user_id).await {
        Ok(Some(u)) => u,
        Ok(None) => return Err(see_other("/login")),
        Err(e) => return Err(internal(&e)),
    };
    match crate::mfa::service::is_admin(&state.db, &user).await {
        Ok(true) => {}
        Ok(false) => {
            return Err(browser::error_page(
                req,
                StatusCode::FORBIDDEN,
                "Administrators only",
                "This console is for administrators. Your own account is at /account.",
            ));
        }
        Err(e) => return Err(internal(&e)),
    }
    match super::sign_in::policy_requires(state, &user).await {
        Ok(true) if session.acr != crate::mfa::ACR_MFA => Err(browser::error_page(
            req,
            StatusCode::FORBIDDEN,
            "Sign in again",
            "Administrators sign in with a second factor here. Sign out, sign in again with yours and retry.",
        )),
        Ok(_) => Ok(user),
        Err(e) => Err(internal(&e)),
    }
}

/// A page of the console: its HTML with the sign-in pages' headers, and the
/// CSRF cookie when this browser had none.
fn page(
    req: &HttpRequest,
    rendered: askama::Result<String>,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> HttpResponse {
    match rendered {
        Ok(body) => super::account::with_cookie(html(HttpResponse::Ok(), &browser::page_csp(&[], None), body), cookie),
        Err(e) => {
            tracing::error!(error = %e, "admin console: rendering failed");
            browser::server_error_page(req)
        }
    }
}

fn bad_request(req: &HttpRequest, message: &str) -> HttpResponse {
    browser::error_page(req, StatusCode::BAD_REQUEST, "Not done", message)
}

/// `GET /admin`.
pub async fn get_index(_: SignedIn) -> HttpResponse {
    see_other("/admin/users")
}

/// One yes/no/any filter of the list, as its form shows it.
struct Choice {
    name: &'static str,
    label: &'static str,
    value: String,
}

struct Row {
    id: String,
    username: String,
    email: String,
    name: String,
    status: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage<'a> {
    stylesheet: &'a str,
    q: &'a str,
    filters: Vec<Choice>,
    users: Vec<Row>,
    next: Option<String>,
    csrf: &'a str,
    sudo_fresh: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    active: String,
    #[serde(default)]
    locked: String,
    #[serde(default)]
    second_factor: String,
    #[serde(default)]
    scim_managed: String,
    #[serde(default)]
    administrator: String,
    cursor: Option<String>,
}

fn tri(v: &str) -> Result<Option<bool>, ()> {
    match v {
        "" => Ok(None),
        "yes" => Ok(Some(true)),
        "no" => Ok(Some(false)),
        _ => Err(()),
    }
}

/// What a row says about the account, in words.
fn status(u: &User, locked: bool, second_factor: bool) -> String {
    let mut s = vec![if u.active { "active" } else { "deactivated" }];
    for (on, word) in
        [(u.is_admin, "administrator"), (u.scim_managed, "SCIM"), (locked, "locked"), (second_factor, "2FA")]
    {
        if on {
            s.push(word);
        }
    }
    s.join(" · ")
}

/// `GET /admin/users`: the search, its filters and a page of users with
/// the bulk actions.
pub async fn get_users(req: HttpRequest, signed_in: SignedIn, state: web::Data<AppState>) -> HttpResponse {
    let session = signed_in.session;
    if let Err(res) = admin_of(&req, &state, &session).await {
        return res;
    }
    let Ok(p) = web::Query::<ListParams>::from_query(req.query_string()) else {
        return bad_request(&req, "That search is not one this page makes. Go back and search again.");
    };
    let filter =
        match (tri(&p.active), tri(&p.locked), tri(&p.second_factor), tri(&p.scim_managed), tri(&p.administrator)) {
            (Ok(active), Ok(locked), Ok(second_factor), Ok(scim_managed), Ok(admin)) if p.q.len() <= 256 => {
                match directory::query_words(&p.q) {
                    Ok(words) => UserFilter { words, active, locked, second_factor, scim_managed, admin },
                    Err(e) => return bad_request(&req, &e.to_string()),
                }
            }
            _ => return bad_request(&req, "That search is not one this page makes. Go back and search again."),
        };
    let now = state.clock.now();
    let found = match directory::search(&state.db, &filter, p.cursor.as_deref(), PAGE, now).await {
        Ok(f) => f,
        Err(AccountError::InvalidCursor) => {
            return bad_request(&req, "That page link is broken. Start the search again.");
        }
        Err(e) => {
            tracing::error!(error = %e, "admin console: user search failed");
            return browser::server_error_page(&req);
        }
    };
    let next = found.next_cursor.as_ref().map(|c| {
        let pairs = [
            ("q", p.q.as_str()),
            ("active", &p.active),
            ("locked", &p.locked),
            ("second_factor", &p.second_factor),
            ("scim_managed", &p.scim_managed),
            ("administrator", &p.administrator),
        ];
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.extend_pairs(pairs.into_iter().filter(|(_, v)| !v.is_empty())).append_pair("cursor", c);
        format!("/admin/users?{}", q.finish())
    });
    let users = found
        .users
        .iter()
        .map(|u| Row {
            status: status(u, found.flags.locked.contains(&u.id), found.flags.second_factor.contains(&u.id)),
            id: u.id.clone(),
            username: u.username.clone(),
            email: u.email.clone().unwrap_or_default(),
            name: u.display_name.clone().unwrap_or_default(),
        })
        .collect();
    let choice = |name, label, value: &String| Choice { name, label, value: value.clone() };
    let filters = vec![
        choice("active", "Active", &p.active),
        choice("locked", "Locked out", &p.locked),
        choice("second_factor", "Second factor", &p.second_factor),
        choice("scim_managed", "From SCIM", &p.scim_managed),
        choice("administrator", "Administrator", &p.administrator),
    ];
    let Some((cookie, set)) = csrf_cookie(&req, &state) else { return browser::server_error_page(&req) };
    let csrf = csrf_token(&state, &cookie, Some(&session));
    let body = UsersPage {
        stylesheet: super::authorize::stylesheet(),
        q: &p.q,
        filters,
        users,
        next,
        csrf: &csrf,
        sudo_fresh: sudo_fresh(&state, &session),
    };
    page(&req, body.render(), set)
}

/// The bulk form: repeated `user_id` fields, which a plain struct cannot
/// take, so it is read from the pairs.
#[derive(serde::Deserialize)]
#[serde(from = "Vec<(String, String)>")]
pub struct BulkForm {
    csrf: String,
    action: String,
    password: Zeroizing<String>,
    user_ids: Vec<String>,
}

impl From<Vec<(String, String)>> for BulkForm {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let mut f = BulkForm {
            csrf: String::new(),
            action: String::new(),
            password: Zeroizing::default(),
            user_ids: Vec::new(),
        };
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => f.csrf = v,
                "action" => f.action = v,
                "password" => f.password = Zeroizing::new(v),
                "user_id" => f.user_ids.push(v),
                _ => {}
            }
        }
        f
    }
}

has_csrf!(BulkForm);

fn action_of(s: &str) -> Option<(BulkAction, &'static str)> {
    Some(match s {
        "activate" => (BulkAction::Activate, "Activate"),
        "deactivate" => (BulkAction::Deactivate, "Deactivate"),
        "unlock" => (BulkAction::Unlock, "Unlock"),
        "reset_second_factors" => (BulkAction::ResetSecondFactors, "Reset second factors"),
        "sign_out_everywhere" => (BulkAction::SignOutEverywhere, "Sign out everywhere"),
        _ => return None,
    })
}

struct ResultRow {
    id: String,
    username: String,
    outcome: &'static str,
}

#[derive(Template)]
#[template(path = "admin_bulk.html")]
struct BulkPage<'a> {
    stylesheet: &'a str,
    action: &'a str,
    rows: Vec<ResultRow>,
    changed: usize,
}

/// `POST /admin/users/bulk`: one action on the selected users (also the
/// user page's buttons, with one), then what happened to each.
pub async fn post_bulk(req: HttpRequest, sent: AccountForm<BulkForm>, state: web::Data<AppState>) -> HttpResponse {
    let AccountForm { form, session, .. } = sent;
    let admin = match admin_of(&req, &state, &session).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let Some((action, label)) = action_of(&form.action) else { return bad_request(&req, "Choose an action.") };
    let mut ids = Vec::with_capacity(form.user_ids.len());
    for id in form.user_ids {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() || ids.len() > MAX_BULK {
        return bad_request(&req, &format!("Select 1 to {MAX_BULK} users."));
    }
    let locks_out_self =
        matches!(action, BulkAction::Deactivate | BulkAction::SignOutEverywhere | BulkAction::ResetSecondFactors);
    if locks_out_self && ids.contains(&admin.id) {
        return bad_request(&req, "Your own account is among the selected; change it from your account page.");
    }
    if let Err(res) = confirmed(&req, &state, &session, &admin, form.password).await {
        return res;
    }
    let actor = format!("user:{}", admin.id);
    let outcomes = match super::admin_actions::bulk(&req, &state, &actor, action, &ids).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "admin console: bulk action failed");
            return browser::server_error_page(&req);
        }
    };
    let mut rows = Vec::with_capacity(ids.len());
    for (id, outcome) in ids.into_iter().zip(outcomes) {
        let username = match users::find(&state.db, &id).await {
            Ok(Some(u)) => u.username,
            _ => String::new(),
        };
        let outcome = match outcome {
            Outcome::Changed => "changed",
            Outcome::Unchanged => "already so",
            Outcome::NotFound => "no such user",
        };
        rows.push(ResultRow { id, username, outcome });
    }
    let changed = rows.iter().filter(|r| r.outcome == "changed").count();
    let body = BulkPage { stylesheet: super::authorize::stylesheet(), action: label, rows, changed };
    page(&req, body.render(), None)
}
