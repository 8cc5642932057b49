//! The account page: sessions and consents, each revocable.

use super::AppState;
use super::authorize::stylesheet;
use super::browser::{self, csrf_cookie, csrf_token, html, see_other};
use super::extract::{AccountForm, SignedIn, has_csrf};
use crate::actors::sessions::{End, Session, Which};
use crate::audit::AuditEvent;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

struct SessionRow {
    sid: String,
    /// A readable device ("Firefox on Linux"), else the raw header, cut.
    device: String,
    created: String,
    created_iso: String,
    last_seen: String,
    last_seen_iso: String,
    current: bool,
}

/// A connected application: its scopes in plain words.
struct AppRow {
    client_id: String,
    name: String,
    scopes: Vec<String>,
    offline: bool,
}

struct PasskeyRow {
    id: String,
    name: String,
    created: String,
    last_used: String,
    synced: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    stylesheet: &'a str,
    username: &'a str,
    email: &'a str,
    sessions: Vec<SessionRow>,
    apps: Vec<AppRow>,
    csrf: &'a str,
    has_totp: bool,
    totp_since: String,
    totp_last_used: String,
    recovery_left: u64,
    mfa_required: bool,
    passkeys_enabled: bool,
    passkeys: Vec<PasskeyRow>,
    session_mfa: bool,
    can_add: bool,
    needs_password: bool,
    /// Links the admin console.
    administrator: bool,
    script: &'a str,
}

pub(super) fn with_cookie(mut res: HttpResponse, c: Option<actix_web::cookie::Cookie<'static>>) -> HttpResponse {
    if let Some(c) = c {
        browser::set_cookie(&mut res, &c);
    }
    res
}

/// `GET /account`.
pub async fn get_account(req: HttpRequest, signed_in: SignedIn, state: web::Data<AppState>) -> HttpResponse {
    let session = signed_in.session;
    let now = state.clock.now();
    let (user, sessions, consents) = match (
        crate::accounts::users::find_active(&state.db, &session.user_id).await,
        crate::accounts::users::sessions(&state.db, &session.user_id, now).await,
        crate::oauth::consent::granted(&state.db, &state.clients, &session.user_id, now).await,
    ) {
        (Ok(Some(u)), Ok(s), Ok(c)) => (u, s, c),
        (Ok(None), _, _) => return see_other("/login"),
        _ => return browser::server_error_page(&req),
    };
    let (factors, mfa_required, creds, administrator) = match (
        crate::mfa::service::factors(&state.db, &user.id).await,
        super::sign_in::policy_requires(&state, &user).await,
        crate::mfa::service::passkeys(&state.db, &user.id).await,
        crate::mfa::service::is_admin(&state.db, &user).await,
    ) {
        (Ok(f), Ok(r), Ok(c), Ok(a)) => (f, r, c, a),
        _ => return browser::server_error_page(&req),
    };
    let can_add = super::factor_rules::add_rule_given(&session, &factors, now);
    let date = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let Some((cookie, set)) = csrf_cookie(&req, &state) else { return browser::server_error_page(&req) };
    let csrf = csrf_token(&state, &cookie, Some(&session));
    let page = AccountPage {
        has_totp: factors.totp.is_some(),
        totp_since: factors.totp.as_ref().and_then(|t| t.confirmed_at).map(date).unwrap_or_default(),
        totp_last_used: factors.totp.as_ref().and_then(|t| t.last_used_at).map(date).unwrap_or_default(),
        recovery_left: factors.recovery_codes_left,
        mfa_required,
        passkeys_enabled: state.passkeys.is_some(),
        passkeys: creds
            .into_iter()
            .map(|c| PasskeyRow {
                created: date(c.created_at),
                last_used: c.last_used_at.map(date).unwrap_or_default(),
                synced: c.backup_eligible,
                id: c.cred_id,
                name: c.name,
            })
            .collect(),
        session_mfa: super::factor_rules::fresh_mfa(&session, now),
        can_add: can_add != super::factor_rules::AddRule::SignInAgain,
        needs_password: can_add == super::factor_rules::AddRule::NeedsPassword,
        administrator,
        script: super::assets::script_path(),
        stylesheet: stylesheet(),
        username: &user.username,
        email: user.email.as_deref().unwrap_or(""),
        sessions: sessions
            .into_iter()
            .map(|s| {
                let raw = s.user_agent.unwrap_or_default();
                let device = super::user_agent::describe(&raw).unwrap_or_else(|| {
                    if raw.is_empty() { "An unknown device".into() } else { raw.chars().take(60).collect() }
                });
                SessionRow {
                    current: s.id == session.id,
                    sid: s.sid,
                    device,
                    created: date(s.created_at),
                    created_iso: s.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    last_seen: date(s.last_seen_at),
                    last_seen_iso: s.last_seen_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                }
            })
            .collect(),
        apps: consents
            .into_iter()
            .map(|g| AppRow {
                scopes: g.scope.split(' ').filter(|s| !s.is_empty()).map(super::authorize::describe_scope).collect(),
                client_id: g.client_id,
                name: g.client_name,
                offline: g.offline,
            })
            .collect(),
        csrf: &csrf,
    };
    match page.render() {
        Ok(body) => with_cookie(html(HttpResponse::Ok(), &browser::page_csp_with_script(&[]), body), set),
        Err(_) => browser::server_error_page(&req),
    }
}

#[derive(serde::Deserialize)]
pub struct EndSessionsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    sid: String,
}

has_csrf!(EndSessionsForm, RevokeConsentForm);

/// `POST /account/sessions/end`: one session by its public id, or `all`.
pub async fn post_end_sessions(
    req: HttpRequest,
    sent: AccountForm<EndSessionsForm>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let AccountForm { form, session, .. } = sent;
    let which = if form.sid == "all" { Which::All } else { Which::Sid(form.sid.clone()) };
    let ended = match state.actors.sessions.send(End { user_id: session.user_id.clone(), which }).await {
        Ok(Ok(e)) => e,
        _ => return browser::server_error_page(&req),
    };
    let recorded = changed(&req, &state, &session, "logout", &format!("{} session(s)", ended.len())).await;
    let res = match recorded {
        Ok(()) if ended.contains(&session.sid) => see_other("/login"),
        Ok(()) => see_other("/account"),
        Err(res) => res,
    };
    // An ended session's cookie goes whatever the answer.
    with_cookie(res, ended.contains(&session.sid).then(|| browser::expired_session_cookie(&state)))
}

#[derive(serde::Deserialize)]
pub struct RevokeConsentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    client_id: String,
}

/// `POST /account/consents/revoke`: forgets the consent and revokes the
/// client's refresh token families for this user, with their access tokens.
pub async fn post_revoke_consent(
    req: HttpRequest,
    sent: AccountForm<RevokeConsentForm>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let AccountForm { form, session, .. } = sent;
    let now = state.clock.now();
    match crate::oauth::consent::withdraw(&state.db, &session.user_id, &form.client_id, now).await {
        Ok(revoked) => revoked.iter().for_each(|(jti, exp)| state.revocations.insert(jti, *exp)),
        Err(_) => return browser::server_error_page(&req),
    }
    match changed(&req, &state, &session, "consent.revoked", &form.client_id).await {
        Ok(()) => see_other("/account"),
        Err(res) => res,
    }
}

/// The person's change, acknowledged only once its event is durable.
pub(super) async fn changed(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    action: &'static str,
    target: &str,
) -> Result<(), HttpResponse> {
    let ev = AuditEvent::new(state.clock.now(), format!("user:{}", session.user_id), action, Some(target.to_owned()));
    super::record_change(state, req, ev).await.map_err(|_| browser::server_error_page(req))
}
