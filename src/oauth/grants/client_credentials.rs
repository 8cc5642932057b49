//! RFC 6749 §4.4 client credentials grant.

use super::{TokenResponse, issue_access_token, plan_access_token};
use crate::keys::KeySet;
use crate::oauth::error::TokenError;
use crate::oauth::registry::Client;
use crate::oauth::scope::is_scope_token;
use chrono::{DateTime, Utc};

/// Issues an access token to an authenticated client for itself. The
/// requested scope must be within the client's allowed scopes; without a
/// `scope` parameter the client gets all of them (RFC 6749 §3.3 default).
pub fn exchange_client_credentials(
    client: &Client,
    requested_scope: Option<&str>,
    keys: &KeySet,
    issuer: &str,
    now: DateTime<Utc>,
) -> Result<TokenResponse, TokenError> {
    let reg = &client.registration;
    let granted: Vec<&str> = match requested_scope.filter(|s| !s.is_empty()) {
        None => reg.scopes.iter().map(String::as_str).collect(),
        Some(requested) => {
            let mut out: Vec<&str> = Vec::new();
            for s in requested.split(' ') {
                if !is_scope_token(s) {
                    return Err(TokenError::InvalidScope("malformed scope".into()));
                }
                if !reg.scopes.iter().any(|a| a == s) {
                    return Err(TokenError::InvalidScope(format!("scope `{s}` is not allowed for this client")));
                }
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            out
        }
    };
    let scope = (!granted.is_empty()).then(|| granted.join(" "));
    // The default resource (RFC 9068 §3) is the issuer itself until
    // resource indicators (RFC 8707) are supported.
    let planned = plan_access_token(client, now)?;
    issue_access_token(keys, issuer, issuer, client, &client.client_id, scope.as_deref(), &planned, now)
}
