//! The authorization code grant (RFC 6749 §4.1.3 with RFC 7636) and the
//! refresh token grant (§6) with rotation: every use of a refresh token
//! returns a new one, and presenting a rotated token again revokes the
//! whole family (OAuth 2.0 Security BCP §4.14.2).

use super::{TokenResponse, issue_access_token};
use crate::keys::KeySet;
use crate::oauth::client::GrantType;
use crate::oauth::error::TokenError;
use crate::oauth::pkce;
use crate::oauth::registry::Client;
use crate::oauth::revocation_list::RevocationList;
use crate::oauth::token_request::TokenParams;
use crate::oidc::{claims, id_token};
use crate::store::audit::{AuditEvent, Outcome};
use crate::store::sessions::{self as store, Redemption, hash_secret};
use crate::store::{Db, revocations};
use chrono::{DateTime, TimeZone as _, Utc};
use entity::refresh_tokens::Model as RefreshRow;

/// What the grants need besides the client and the request.
pub struct GrantContext<'a> {
    pub db: &'a Db,
    pub keys: &'a KeySet,
    pub issuer: &'a str,
    pub revoked: &'a RevocationList,
    pub now: DateTime<Utc>,
    /// Audit events to record once the response is decided.
    pub audit: &'a mut Vec<AuditEvent>,
}

fn server_error(e: impl std::fmt::Display) -> TokenError {
    tracing::error!(error = %e, "token grant failed");
    TokenError::ServerError
}

fn invalid_grant(m: &str) -> TokenError {
    TokenError::InvalidGrant(m.to_owned())
}

/// Who the tokens are about and how they logged in.
struct Grant<'a> {
    user_id: &'a str,
    scope: &'a str,
    nonce: Option<&'a str>,
    sid: Option<&'a str>,
    auth_time: DateTime<Utc>,
    amr: &'a str,
    acr: &'a str,
    /// The family to continue (refresh) or `None` to start one.
    family: Option<&'a str>,
}

pub async fn exchange_code(
    cx: &mut GrantContext<'_>,
    client: &Client,
    params: &TokenParams,
) -> Result<TokenResponse, TokenError> {
    if !client.registration.grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(TokenError::UnauthorizedClient("this client may not use authorization_code".into()));
    }
    let code = params.get("code").ok_or_else(|| TokenError::InvalidRequest("code is required".into()))?;
    let redirect_uri =
        params.get("redirect_uri").ok_or_else(|| TokenError::InvalidRequest("redirect_uri is required".into()))?;
    let verifier =
        params.get("code_verifier").ok_or_else(|| TokenError::InvalidRequest("code_verifier is required".into()))?;
    let code_hash = hash_secret(code);
    let row = match store::redeem_code(cx.db, &code_hash, cx.now).await.map_err(server_error)? {
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
    if !row.code_challenge.as_deref().is_some_and(|c| pkce::verify(verifier, c)) {
        return Err(invalid_grant("code_verifier does not match the code_challenge"));
    }
    let grant = Grant {
        user_id: &row.user_id,
        scope: &row.scope,
        nonce: row.nonce.as_deref(),
        sid: Some(&row.sid),
        auth_time: row.auth_time,
        amr: &row.amr,
        acr: &row.acr,
        family: None,
    };
    let (response, family) = issue(cx, client, &grant, true).await?;
    let exp = Utc.timestamp_opt(response.exp, 0).single().unwrap_or(cx.now);
    store::record_issued(cx.db, &code_hash, &response.jti, exp, family.as_deref()).await.map_err(server_error)?;
    Ok(response)
}

/// A replayed code: the tokens issued from its first use are revoked.
async fn revoke_issued(cx: &mut GrantContext<'_>, row: &entity::authorization_codes::Model) -> Result<(), TokenError> {
    if let (Some(jti), Some(exp)) = (&row.access_jti, row.access_expires_at) {
        revocations::insert(cx.db, jti, &row.client_id, cx.now, exp).await.map_err(server_error)?;
        cx.revoked.insert(jti, exp.timestamp());
    }
    if let Some(family) = &row.refresh_family {
        store::revoke_family(cx.db, family, cx.now).await.map_err(server_error)?;
    }
    tracing::warn!(client_id = %row.client_id, "authorization code replayed; tokens revoked");
    let mut ev =
        AuditEvent::new(cx.now, format!("client:{}", row.client_id), "oauth.code_replayed", Some(row.user_id.clone()));
    ev.outcome = Outcome::Failure;
    ev.reason = Some("authorization code used twice; tokens issued from it revoked".into());
    cx.audit.push(ev);
    Ok(())
}

pub async fn exchange_refresh_token(
    cx: &mut GrantContext<'_>,
    client: &Client,
    params: &TokenParams,
) -> Result<TokenResponse, TokenError> {
    if !client.registration.grant_types.contains(&GrantType::RefreshToken) {
        return Err(TokenError::UnauthorizedClient("this client may not use refresh_token".into()));
    }
    let token =
        params.get("refresh_token").ok_or_else(|| TokenError::InvalidRequest("refresh_token is required".into()))?;
    let hash = hash_secret(token);
    let Some(row) = store::find_refresh(cx.db, &hash).await.map_err(server_error)? else {
        return Err(invalid_grant("unknown refresh token"));
    };
    if row.client_id != client.client_id {
        return Err(invalid_grant("the refresh token was issued to another client"));
    }
    if row.revoked_at.is_some() {
        return Err(invalid_grant("the refresh token was revoked"));
    }
    if row.expires_at <= cx.now {
        return Err(invalid_grant("the refresh token has expired"));
    }
    // A replay is a replay whatever else is wrong with the request; a bad
    // scope on a live token must not spend it.
    let scope = match row.rotated_at {
        Some(_) => None,
        None => Some(narrowed_scope(&row, params.get("scope"))?),
    };
    let Some(scope) = scope else { return Err(replayed(cx, &row).await?) };
    if !store::rotate_refresh(cx.db, &hash, cx.now).await.map_err(server_error)? {
        return Err(replayed(cx, &row).await?);
    }
    let grant = Grant {
        user_id: &row.user_id,
        scope: &scope,
        nonce: None,
        sid: row.sid.as_deref(),
        auth_time: row.auth_time,
        amr: &row.amr,
        acr: &row.acr,
        family: Some(&row.family_id),
    };
    Ok(issue(cx, client, &grant, false).await?.0)
}

/// Someone holds a copy of an old refresh token: the whole family ends.
async fn replayed(cx: &mut GrantContext<'_>, row: &RefreshRow) -> Result<TokenError, TokenError> {
    store::revoke_family(cx.db, &row.family_id, cx.now).await.map_err(server_error)?;
    tracing::warn!(client_id = %row.client_id, "refresh token replayed; family revoked");
    let mut ev = AuditEvent::new(
        cx.now,
        format!("client:{}", row.client_id),
        "oauth.refresh_replayed",
        Some(row.user_id.clone()),
    );
    ev.outcome = Outcome::Failure;
    ev.reason = Some("rotated refresh token presented again; its family is revoked".into());
    cx.audit.push(ev);
    Ok(invalid_grant("the refresh token was already used; all tokens of this grant are revoked"))
}

/// RFC 6749 §6: the scope may narrow, never widen.
fn narrowed_scope(row: &RefreshRow, requested: Option<&str>) -> Result<String, TokenError> {
    let Some(req) = requested else { return Ok(row.scope.clone()) };
    let granted: Vec<&str> = row.scope.split(' ').collect();
    let mut out: Vec<&str> = Vec::new();
    for s in req.split(' ').filter(|s| !s.is_empty()) {
        if !granted.contains(&s) {
            return Err(TokenError::InvalidScope(format!("scope `{s}` was not granted")));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out.join(" "))
}

/// Access token, ID token (for `openid`) and refresh token (for
/// `offline_access`, when the client may refresh).
async fn issue(
    cx: &mut GrantContext<'_>,
    client: &Client,
    g: &Grant<'_>,
    first: bool,
) -> Result<(TokenResponse, Option<String>), TokenError> {
    let user = crate::store::users::find_by_id(cx.db, g.user_id)
        .await
        .map_err(server_error)?
        .filter(|u| u.active)
        .ok_or_else(|| invalid_grant("the user no longer exists or is disabled"))?;
    let scopes: Vec<&str> = g.scope.split(' ').filter(|s| !s.is_empty()).collect();
    let mut response = issue_access_token(cx.keys, cx.issuer, cx.issuer, client, &user.id, Some(g.scope), cx.now)?;
    if scopes.contains(&"openid") {
        let signer = cx.keys.signer(client.registration.signing_alg).ok_or_else(|| server_error("no signing key"))?;
        let groups = if scopes.contains(&"groups") {
            crate::store::scim::groups::group_names(cx.db, &user.id).await.map_err(server_error)?
        } else {
            Vec::new()
        };
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
            claims: claims::for_scopes(&user, &groups, &scopes),
        };
        response.id_token = Some(id_token::sign(signer, facts).map_err(server_error)?);
    }
    let mut family = g.family.map(str::to_owned);
    if scopes.contains(&"offline_access") && client.registration.grant_types.contains(&GrantType::RefreshToken) {
        let token = crate::crypto::random_token(32).map_err(server_error)?;
        let fam = family.get_or_insert_with(|| uuid::Uuid::new_v4().simple().to_string()).clone();
        let row = RefreshRow {
            token_hash: hash_secret(&token),
            family_id: fam,
            client_id: client.client_id.clone(),
            user_id: user.id.clone(),
            sid: g.sid.map(str::to_owned),
            scope: g.scope.to_owned(),
            auth_time: g.auth_time,
            amr: g.amr.to_owned(),
            acr: g.acr.to_owned(),
            created_at: cx.now,
            expires_at: cx.now + chrono::Duration::seconds(i64::from(client.registration.refresh_token_ttl)),
            rotated_at: None,
            revoked_at: None,
        };
        store::insert_refresh(cx.db, row).await.map_err(server_error)?;
        response.refresh_token = Some(token);
    }
    Ok((response, family))
}
