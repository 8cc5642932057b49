//! The authorization code grant (RFC 6749 §4.1.3 with RFC 7636), and the
//! issuance of a person's tokens that it shares with the refresh grant.
//! A code is spent by one statement that also records what its redemption
//! will issue, so a concurrent replay always finds it and revokes it.

use super::{TokenResponse, issue_access_token, plan_access_token};
use crate::audit::{AuditEvent, Outcome};
use crate::crypto::hash_secret;
use crate::keys::KeySet;
use crate::oauth::client::GrantType;
use crate::oauth::error::TokenError;
use crate::oauth::pkce;
use crate::oauth::registry::Client;
use crate::oauth::revocation_list::RevocationList;
use crate::oidc::{claims, id_token};
use crate::store::refresh::{self, FamilyRef, IssuedAccess};
use crate::store::sessions::{self as store, CodeIssue, Redemption};
use crate::store::{Db, revocations};
use chrono::{DateTime, Utc};
use entity::refresh_tokens::Model as RefreshRow;
use entity::users::Model as User;

/// Codes live this long (RFC 6749 §4.1.2 recommends at most ten minutes).
const CODE_LIFETIME_SECS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum IssueCodeError {
    #[error(transparent)]
    Random(#[from] crate::crypto::RandomError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The start of a code's life: minted for an authorization request and
/// the session's sign-in, stored as a hash; the code itself goes only to
/// the client (and comes back to `exchange_code`).
pub async fn issue_code(
    db: &Db,
    ar: &crate::oauth::authorize::AuthorizationRequest,
    session: &entity::sessions::Model,
    now: DateTime<Utc>,
) -> Result<String, IssueCodeError> {
    let code = crate::crypto::random_token(32)?;
    let row = entity::authorization_codes::Model {
        code_hash: hash_secret(&code),
        client_id: ar.client.client_id.clone(),
        user_id: session.user_id.clone(),
        sid: session.sid.clone(),
        redirect_uri: ar.reply.redirect_uri.clone(),
        scope: ar.scope(),
        nonce: ar.nonce.clone(),
        code_challenge: ar.code_challenge.clone(),
        auth_time: session.auth_time,
        amr: session.amr.clone(),
        acr: session.acr.clone(),
        created_at: now,
        expires_at: now + chrono::Duration::seconds(CODE_LIFETIME_SECS),
        used_at: None,
        access_jti: None,
        access_expires_at: None,
        refresh_family: None,
    };
    store::insert_code(db, row).await?;
    Ok(code)
}

/// What the grants need besides the client and the request.
pub struct GrantContext<'a> {
    pub db: &'a Db,
    pub keys: &'a KeySet,
    pub issuer: &'a str,
    pub revoked: &'a RevocationList,
    pub now: DateTime<Utc>,
    /// `refresh_reuse_grace_secs`; zero is strict.
    pub refresh_reuse_grace: chrono::Duration,
    /// Audit events to record once the response is decided.
    pub audit: &'a mut Vec<AuditEvent>,
}

pub(super) fn server_error(e: impl std::fmt::Display) -> TokenError {
    tracing::error!(error = %e, "token grant failed");
    TokenError::ServerError
}

pub(super) fn invalid_grant(m: &str) -> TokenError {
    TokenError::InvalidGrant(m.to_owned())
}

/// Who the tokens are about and how they logged in.
pub(super) struct Grant<'a> {
    pub user: &'a User,
    /// The scope of the access token (possibly narrowed on refresh).
    pub scope: &'a str,
    pub nonce: Option<&'a str>,
    pub sid: Option<&'a str>,
    pub auth_time: DateTime<Utc>,
    pub amr: &'a str,
    pub acr: &'a str,
}

/// Whether a grant of `scope` continues with refresh tokens.
fn offers_refresh(client: &Client, scope: &str) -> bool {
    scope.split(' ').any(|s| s == "offline_access")
        && client.registration.grant_types.contains(&GrantType::RefreshToken)
}

/// The end of a code's life (RFC 6749 §4.1.3): redeemed once, by the
/// client it was issued to, with its redirect URI and PKCE verifier.
pub async fn exchange_code(
    cx: &mut GrantContext<'_>,
    client: &Client,
    code: &str,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    if verifier.is_none() && client.registration.require_pkce {
        return Err(TokenError::InvalidRequest("code_verifier is required".into()));
    }
    let code_hash = hash_secret(code);
    let access = plan_access_token(client, cx.now)?;
    let family_id = uuid::Uuid::new_v4().simple().to_string();
    let plan = |row: &entity::authorization_codes::Model| CodeIssue {
        access_jti: &access.jti,
        access_expires_at: access.expires_at,
        refresh_family: offers_refresh(client, &row.scope).then_some(family_id.as_str()),
    };
    let row = match store::redeem_code(cx.db, &code_hash, cx.now, plan).await.map_err(server_error)? {
        Redemption::Unknown => return Err(invalid_grant("unknown authorization code")),
        Redemption::Replay(row) => {
            revoke_issued(cx, &row).await?;
            return Err(invalid_grant("the authorization code was already used; its tokens are revoked"));
        }
        Redemption::First(row) => row,
    };
    // The code is spent whatever happens next.
    if row.client_id != client.client_id {
        return Err(invalid_grant("the authorization code was issued to another client"));
    }
    if row.expires_at <= cx.now {
        return Err(invalid_grant("the authorization code has expired"));
    }
    if row.redirect_uri != redirect_uri {
        return Err(invalid_grant("redirect_uri does not match the authorization request"));
    }
    // What the code was issued with decides, not the client's current
    // setting: a challenge always needs its verifier, and a verifier
    // without a challenge is refused (RFC 9700 §2.1.1, PKCE downgrade).
    match (row.code_challenge.as_deref(), verifier) {
        (Some(c), Some(v)) if pkce::verify(v, c) => {}
        (Some(_), _) => return Err(invalid_grant("code_verifier does not match the code_challenge")),
        (None, Some(_)) => {
            return Err(invalid_grant("code_verifier sent, but the authorization request had no code_challenge"));
        }
        (None, None) if client.registration.require_pkce => {
            return Err(invalid_grant("the authorization request had no code_challenge"));
        }
        (None, None) => {}
    }
    let user = active_user(cx.db, &row.user_id).await?;
    let grant = Grant {
        user: &user,
        scope: &row.scope,
        nonce: row.nonce.as_deref(),
        sid: Some(&row.sid),
        auth_time: row.auth_time,
        amr: &row.amr,
        acr: &row.acr,
    };
    let mut response = sign_tokens(cx, client, &grant, &access, true).await?;
    let refresh = offers_refresh(client, &row.scope);
    if refresh {
        let (token, first) = new_refresh_token(client, &grant, &family_id, &row.scope, cx.now)?;
        refresh::start_family(cx.db, first, &access, cx.now).await.map_err(server_error)?;
        response.refresh_token = Some(token);
    }
    audit_issued(cx, client, &grant, "authorization_code", refresh.then_some(family_id.as_str()), &access);
    Ok(response)
}

/// The audit record of a person's tokens: for whom, to which client, from
/// which session and refresh family, with what scope and authentication.
/// Never a token: the access token is named by its `jti`.
pub(super) fn audit_issued(
    cx: &mut GrantContext<'_>,
    client: &Client,
    g: &Grant<'_>,
    grant_type: &str,
    family: Option<&str>,
    access: &IssuedAccess,
) {
    let mut ev =
        AuditEvent::new(cx.now, format!("client:{}", client.client_id), "oauth.tokens_issued", Some(g.user.id.clone()));
    ev.reason = Some(format!(
        "grant={grant_type}; sid={}; family={}; jti={}; scope={}; amr={}",
        g.sid.unwrap_or("-"),
        family.unwrap_or("-"),
        access.jti,
        g.scope,
        g.amr,
    ));
    cx.audit.push(ev);
}

/// A replayed code: the tokens issued from its first use are revoked.
async fn revoke_issued(cx: &mut GrantContext<'_>, row: &entity::authorization_codes::Model) -> Result<(), TokenError> {
    if let (Some(jti), Some(exp)) = (&row.access_jti, row.access_expires_at) {
        revocations::insert(cx.db, jti, &row.client_id, cx.now, exp).await.map_err(server_error)?;
        cx.revoked.insert(jti, exp.timestamp());
    }
    if let Some(family) = &row.refresh_family {
        let family = FamilyRef { id: family, client_id: &row.client_id, user_id: &row.user_id };
        revoke_family(cx, family).await?;
    }
    tracing::warn!(client_id = %row.client_id, "authorization code replayed; tokens revoked");
    let mut ev =
        AuditEvent::new(cx.now, format!("client:{}", row.client_id), "oauth.code_replayed", Some(row.user_id.clone()));
    ev.outcome = Outcome::Failure;
    ev.reason = Some("authorization code used twice; tokens issued from it revoked".into());
    cx.audit.push(ev);
    Ok(())
}

/// Revokes a family and its access tokens, here at once and durably for
/// the other instances.
pub(super) async fn revoke_family(cx: &GrantContext<'_>, family: FamilyRef<'_>) -> Result<(), TokenError> {
    let revoked = refresh::revoke_family(cx.db, family, cx.now).await.map_err(server_error)?;
    for (jti, exp) in revoked {
        cx.revoked.insert(&jti, exp);
    }
    Ok(())
}

pub(super) async fn active_user(db: &Db, user_id: &str) -> Result<User, TokenError> {
    crate::store::users::find_by_id(db, user_id)
        .await
        .map_err(server_error)?
        .filter(|u| u.active)
        .ok_or_else(|| invalid_grant("the user no longer exists or is disabled"))
}

/// A new refresh token of `family` for the whole grant's `scope` (RFC
/// 6749 §6: a new refresh token has the scope of the one it replaces).
pub(super) fn new_refresh_token(
    client: &Client,
    g: &Grant<'_>,
    family: &str,
    scope: &str,
    now: DateTime<Utc>,
) -> Result<(String, RefreshRow), TokenError> {
    let token = crate::crypto::random_token(32).map_err(server_error)?;
    let row = RefreshRow {
        token_hash: hash_secret(&token),
        family_id: family.to_owned(),
        client_id: client.client_id.clone(),
        user_id: g.user.id.clone(),
        sid: g.sid.map(str::to_owned),
        scope: scope.to_owned(),
        auth_time: g.auth_time,
        amr: g.amr.to_owned(),
        acr: g.acr.to_owned(),
        created_at: now,
        expires_at: now + chrono::Duration::seconds(i64::from(client.registration.refresh_token_ttl)),
        rotated_at: None,
        revoked_at: None,
    };
    Ok((token, row))
}

/// The access token (with its planned `jti`) and, for `openid`, the ID
/// token.
pub(super) async fn sign_tokens(
    cx: &GrantContext<'_>,
    client: &Client,
    g: &Grant<'_>,
    access: &IssuedAccess,
    first: bool,
) -> Result<TokenResponse, TokenError> {
    let user = g.user;
    let scopes: Vec<&str> = g.scope.split(' ').filter(|s| !s.is_empty()).collect();
    let mut response =
        issue_access_token(cx.keys, cx.issuer, cx.issuer, client, &user.id, Some(g.scope), access, cx.now)?;
    if scopes.contains(&"openid") {
        let signer = cx.keys.signer(client.registration.signing_alg).ok_or_else(|| server_error("no signing key"))?;
        let related = claims::Related::load(cx.db, &user.id, &scopes).await.map_err(server_error)?;
        let facts = id_token::IdTokenFacts {
            issuer: cx.issuer,
            client_id: &client.client_id,
            auth_time: g.auth_time,
            // OIDC Core §12.2: a refreshed ID token carries no nonce.
            nonce: if first { g.nonce } else { None },
            acr: g.acr,
            amr: g.amr.split(' ').filter(|s| !s.is_empty()).collect(),
            sid: g.sid,
            access_token: Some(&response.access_token),
            lifetime_secs: client.registration.id_token_ttl,
            now: cx.now,
            claims: claims::for_scopes(user, &related, &scopes),
        };
        response.id_token = Some(id_token::sign(signer, facts).map_err(server_error)?);
    }
    Ok(response)
}
