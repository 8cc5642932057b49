//! SCIM bearer tokens: minted by the CLI, stored only as keyed hashes, and
//! checked on every request. The handler reads the header and applies the
//! failure budget; whose token it is, is decided here.

use super::error::ScimError;
use crate::crypto::SecretHasher;
use crate::store::Db;
use crate::store::scim::tokens as store;
use chrono::{DateTime, Duration, Utc};

/// Longest token looked up at all (ours are 43 characters).
const MAX_TOKEN_LEN: usize = 256;

/// Who is calling: a live SCIM token's name, as the audit trail names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer(authorization: Option<&str>) -> Option<&str> {
    authorization
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_LEN)
}

/// The caller whose live token this is (`None`: unknown or revoked). Use
/// is recorded at most once a minute, not written on every request.
pub async fn authenticate(
    db: &Db,
    hasher: &SecretHasher,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Caller>, ScimError> {
    let Some(row) = store::find_token(db, &hasher.hash(token)).await? else { return Ok(None) };
    if row.last_used_at.is_none_or(|t| now - t >= Duration::minutes(1))
        && let Err(e) = store::touch_token(db, &row.id, now).await
    {
        tracing::warn!(error = %e, "SCIM: could not record token use");
    }
    Ok(Some(Caller { name: row.name }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bearer_token_of_sane_length() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(Some("Bearer")), None);
        assert_eq!(bearer(None), None);
        assert_eq!(bearer(Some(&format!("Bearer {}", "a".repeat(257)))), None);
        assert!(bearer(Some(&format!("Bearer {}", "a".repeat(256)))).is_some());
    }
}
