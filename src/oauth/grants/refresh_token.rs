//! The refresh token grant (RFC 6749 §6) with rotation: every use returns
//! a new token of the same family, and presenting a spent one again
//! revokes the family and every access token it issued (OAuth 2.0
//! Security BCP §4.14.2). Whether a token is live is the family's state,
//! checked on every use; rotation is one compare-and-swap transaction.
//! With `refresh_reuse_grace_secs`, the token just spent may be presented
//! again within the window (the client lost the response) while its
//! successor is unused: it rotates once more and the successor dies, so a
//! family never has two live tokens.

use super::TokenResponse;
use super::authorization_code::{
    Grant, GrantContext, active_user, audit_issued, invalid_grant, new_refresh_token, revoke_family, server_error,
    sign_tokens,
};
use super::plan_access_token;
use crate::audit::{AuditEvent, Outcome};
use crate::crypto::hash_secret;
use crate::oauth::error::TokenError;
use crate::oauth::registry::Client;
use crate::store::refresh::{self, FamilyRef};
use entity::refresh_tokens::Model as RefreshRow;

/// RFC 6749 §6, rotating the token (and honouring the reuse grace).
pub async fn exchange_refresh_token(
    cx: &mut GrantContext<'_>,
    client: &Client,
    token: &str,
    requested_scope: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    let hash = hash_secret(token);
    let Some(presented) = refresh::find(cx.db, &hash).await.map_err(server_error)? else {
        return Err(invalid_grant("unknown refresh token"));
    };
    let row = &presented.token;
    if row.client_id != client.client_id {
        // Said as for an unknown token: whoever presents another client's
        // token learns nothing about it.
        return Err(invalid_grant("unknown refresh token"));
    }
    if presented.family_revoked() {
        return Err(invalid_grant("the refresh token was revoked"));
    }
    if row.expires_at <= cx.now {
        return Err(invalid_grant("the refresh token has expired"));
    }
    // A replay is a replay whatever else is wrong with the request; a bad
    // scope on a live token must not spend it. Within the reuse grace, the
    // token the last rotation spent may rotate once more, replacing its
    // still-unused successor.
    let unused = if presented.is_current(cx.now) {
        None
    } else {
        let since = cx.now - cx.refresh_reuse_grace;
        match presented.just_rotated(cx.now, since).filter(|_| cx.refresh_reuse_grace > chrono::Duration::zero()) {
            Some(unused) => Some((unused.to_owned(), since)),
            None => return Err(replayed(cx, row).await?),
        }
    };
    let scope = narrowed_scope(row, requested_scope)?;
    let user = active_user(cx.db, &row.user_id).await?;
    let grant = Grant {
        user: &user,
        scope: &scope,
        nonce: None,
        sid: row.sid.as_deref(),
        auth_time: row.auth_time,
        amr: &row.amr,
        acr: &row.acr,
    };
    let access = plan_access_token(client, cx.now)?;
    let (token, successor) = new_refresh_token(client, &grant, &row.family_id, &row.scope, cx.now)?;
    // Signed before the swap: a signing failure after it would spend the
    // old token without handing over the new one, and the client's retry
    // would look like a replay and end the grant.
    let mut response = sign_tokens(cx, client, &grant, &access, false).await?;
    let swapped = match &unused {
        None => refresh::rotate(cx.db, row, successor, &access, cx.now).await,
        Some((unused, since)) => refresh::rotate_within_grace(cx.db, row, unused, successor, &access, *since).await,
    };
    if !swapped.map_err(server_error)? {
        // Another request spent it (or its successor) between our read
        // and our swap.
        return Err(replayed(cx, row).await?);
    }
    response.refresh_token = Some(token);
    if unused.is_some() {
        let mut ev = AuditEvent::new(
            cx.now,
            format!("client:{}", row.client_id),
            "oauth.refresh_reuse_granted",
            Some(row.user_id.clone()),
        );
        ev.reason = Some("rotated refresh token presented again within the grace; its unused successor is dead".into());
        cx.audit.push(ev);
    }
    audit_issued(cx, client, &grant, "refresh_token", Some(&row.family_id), &access);
    Ok(response)
}

/// Someone holds a copy of a spent refresh token: the whole family ends.
async fn replayed(cx: &mut GrantContext<'_>, row: &RefreshRow) -> Result<TokenError, TokenError> {
    let family = FamilyRef { id: &row.family_id, client_id: &row.client_id, user_id: &row.user_id };
    revoke_family(cx, family).await?;
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
