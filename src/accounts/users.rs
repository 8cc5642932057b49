//! User accounts: validated input types and the operations the CLI, admin
//! API and (later) SCIM share.

use super::password::{PasswordError, PasswordHasher, Verification};
pub use super::password_policy::{MAX_PASSWORD_INPUT_BYTES, PasswordPolicy, Problem};
use crate::store::password_history as history;
use crate::store::users::{self as repo, NewUserRow, UserStoreError};
use crate::store::{Db, StoreError};
use chrono::{DateTime, Utc};
use entity::users::Model as User;
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("invalid username: {0}")]
    InvalidUsername(&'static str),
    #[error("invalid email address")]
    InvalidEmail,
    #[error("invalid display name: {0}")]
    InvalidDisplayName(&'static str),
    #[error("password must be at most {MAX_PASSWORD_INPUT_BYTES} bytes")]
    PasswordTooLong,
    /// Every reason the password was refused.
    #[error("password refused: {}", .0.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "))]
    PasswordPolicy(Vec<Problem>),
    #[error("username already taken")]
    UsernameTaken,
    /// One login namespace: an email that is already another account's
    /// sign-in name (its username or login email) cannot be a second one.
    #[error("email address is already another account's sign-in name")]
    EmailTaken,
    #[error("no such user")]
    NotFound,
    #[error("invalid search: {0}")]
    InvalidQuery(&'static str),
    #[error("invalid or outdated cursor; start again from the first page")]
    InvalidCursor,
    /// Changed since the version the caller read (`If-Match`).
    #[error("the account has changed since it was read")]
    VersionMismatch,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UserStoreError> for AccountError {
    fn from(e: UserStoreError) -> Self {
        match e {
            UserStoreError::UsernameTaken => AccountError::UsernameTaken,
            UserStoreError::EmailTaken => AccountError::EmailTaken,
            UserStoreError::NotFound => AccountError::NotFound,
            UserStoreError::Store(s) => AccountError::Store(s),
        }
    }
}

/// A username as given, with its case-insensitive key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    display: String,
    normalized: String,
}

impl Username {
    /// RFC 8265 (see [`super::identifiers::username`]).
    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let (display, normalized) = super::identifiers::username(raw).map_err(AccountError::InvalidUsername)?;
        Ok(Self { display, normalized })
    }

    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The key that uniqueness and lookups use.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

/// Deliberately loose (RFC 5321 addresses are wilder than any regex): one
/// `@`, non-empty parts, a dot-free domain allowed, no spaces or controls.
pub fn parse_email(raw: &str) -> Result<String, AccountError> {
    let s = raw.trim();
    let (local, domain) = s.rsplit_once('@').ok_or(AccountError::InvalidEmail)?;
    let bad = |c: char| c.is_whitespace() || c.is_control();
    if local.is_empty() || domain.is_empty() || s.len() > 320 || s.chars().any(bad) || local.contains('@') {
        return Err(AccountError::InvalidEmail);
    }
    super::identifiers::check_visible(s).map_err(|_| AccountError::InvalidEmail)?;
    Ok(s.to_owned())
}

pub fn parse_display_name(raw: &str) -> Result<String, AccountError> {
    let s = raw.trim();
    if s.chars().count() > 256 {
        return Err(AccountError::InvalidDisplayName("at most 256 characters"));
    }
    if s.chars().any(|c| c.is_control()) {
        return Err(AccountError::InvalidDisplayName("must not contain control characters"));
    }
    super::identifiers::check_visible(s).map_err(AccountError::InvalidDisplayName)?;
    Ok(s.to_owned())
}

/// A plaintext password, bounded in size; wiped on drop. The policy is
/// applied where the account it belongs to is known (create, set).
pub struct Password(Zeroizing<String>);

impl Password {
    pub fn parse(raw: Zeroizing<String>) -> Result<Self, AccountError> {
        if raw.len() > MAX_PASSWORD_INPUT_BYTES {
            return Err(AccountError::PasswordTooLong);
        }
        Ok(Self(raw))
    }

    pub fn into_inner(self) -> Zeroizing<String> {
        self.0
    }

    /// The plaintext, for the one place that must show it (a generated
    /// bootstrap password).
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// What is needed to create a user.
#[derive(Debug)]
pub struct NewUser {
    pub username: Username,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub password: Option<Password>,
    pub is_admin: bool,
}

pub async fn create_user(
    db: &Db,
    hasher: &PasswordHasher,
    policy: &PasswordPolicy,
    new: NewUser,
    now: DateTime<Utc>,
) -> Result<User, AccountError> {
    let password_hash = match new.password {
        Some(p) => {
            let identity = [new.username.as_str(), new.email.as_deref().unwrap_or("")];
            let problems = policy.check(p.expose(), &identity);
            if !problems.is_empty() {
                return Err(AccountError::PasswordPolicy(problems));
            }
            Some(hasher.hash(p.into_inner()).await?)
        }
        None => None,
    };
    let row = NewUserRow {
        id: uuid::Uuid::new_v4().to_string(),
        username: new.username.as_str().to_owned(),
        username_normalized: new.username.normalized().to_owned(),
        login_email: new.email.as_deref().and_then(super::identifiers::email_key),
        email: new.email,
        display_name: new.display_name.filter(|d| !d.is_empty()),
        password_hash,
        is_admin: new.is_admin,
    };
    Ok(repo::insert(db, row, now).await?)
}

/// The account with this id, active or not: the caller decides what a
/// disabled account sees.
pub async fn find(db: &Db, id: &str) -> Result<Option<User>, AccountError> {
    Ok(repo::find_by_id(db, id).await?)
}

/// The account behind a session, if it still exists and is active: a
/// session of a disabled account signs no one in.
pub async fn find_active(db: &Db, id: &str) -> Result<Option<User>, AccountError> {
    Ok(repo::find_by_id(db, id).await?.filter(|u| u.active))
}

/// Finds a user by id or (case-insensitively) by username.
pub async fn find_user(db: &Db, id_or_username: &str) -> Result<User, AccountError> {
    if uuid::Uuid::parse_str(id_or_username).is_ok()
        && let Some(u) = repo::find_by_id(db, id_or_username).await?
    {
        return Ok(u);
    }
    // A name RFC 8265 refuses may be an older account's, under its old key.
    let key = Username::parse(id_or_username)
        .map(|n| n.normalized().to_owned())
        .unwrap_or_else(|_| id_or_username.trim().to_lowercase());
    repo::find_by_username(db, &key).await?.ok_or(AccountError::NotFound)
}

/// Disabling also signs the user out everywhere; the CLI calls this from
/// its own process, so running servers learn of the revoked access tokens
/// at their revocation watcher's next poll (userinfo refuses them at once:
/// it checks the account).
pub async fn set_active(db: &Db, user: &User, active: bool, now: DateTime<Utc>) -> Result<User, AccountError> {
    let updated = repo::set_active(db, &user.id, active, now).await?;
    if !active {
        sign_out_everywhere(db, &user.id, now).await?;
    }
    Ok(updated)
}

/// The person's live browser sessions, for the account page.
pub async fn sessions(
    db: &Db,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<entity::sessions::Model>, AccountError> {
    Ok(crate::store::sessions::user_sessions(db, user_id, now).await?)
}

/// What keeps sessions in memory (the session actor): told when the store
/// has ended a user's sessions behind its back (deactivation, SCIM, bulk
/// actions), so it stops serving them from its cache at once.
pub trait SessionCache {
    fn forget_user(&self, user_id: &str);
}

/// Ends every browser session of the user, makes their unredeemed codes
/// unusable and revokes their refresh token families with every access
/// token issued to them (a disabled account keeps nothing). Returns the
/// revoked access tokens (`jti`, `exp`) for the caller's in-memory list;
/// other instances learn of them at their revocation watcher's next poll.
pub async fn sign_out_everywhere(
    db: &Db,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, AccountError> {
    use crate::store::sessions::{self, SessionSelector};
    sessions::end_sessions(db, user_id, SessionSelector::All, now).await?;
    Ok(crate::store::refresh::revoke_user_families(db, user_id, None, now).await?)
}

/// Sets a new password: the policy, then no reuse of the current or the
/// last `policy.history - 1` passwords (each compared with argon2, so this
/// costs up to `history` hash verifications). The replaced hash joins the
/// history, which keeps only what the policy needs.
pub async fn set_password(
    db: &Db,
    hasher: &PasswordHasher,
    policy: &PasswordPolicy,
    user: &User,
    password: Password,
    now: DateTime<Utc>,
) -> Result<User, AccountError> {
    let identity = [user.username.as_str(), user.email.as_deref().unwrap_or("")];
    let hash =
        hash_new_password(db, hasher, policy, &user.id, user.password_hash.as_deref(), &identity, password).await?;
    remember_replaced(db, policy, &user.id, user.password_hash.as_deref(), now).await?;
    Ok(repo::set_password_hash(db, &user.id, hash, now).await?)
}

/// Checks a new password for an existing account (policy and history) and
/// hashes it; the caller stores the hash and then calls `remember_replaced`.
pub async fn hash_new_password(
    db: &Db,
    hasher: &PasswordHasher,
    policy: &PasswordPolicy,
    user_id: &str,
    current_hash: Option<&str>,
    identity: &[&str],
    password: Password,
) -> Result<String, AccountError> {
    let mut problems = policy.check(password.expose(), identity);
    if problems.is_empty() && policy.history > 0 {
        let mut previous: Vec<String> = current_hash.iter().map(|h| (*h).to_owned()).collect();
        previous.extend(history::recent(db, user_id, policy.history as u64 - 1).await?);
        for phc in previous.into_iter().take(policy.history) {
            if let Verification::Valid { .. } = hasher.verify(Zeroizing::new(password.expose().to_owned()), phc).await?
            {
                problems.push(Problem::new(
                    "reused",
                    format!("was used recently; choose one not among the last {}", policy.history),
                ));
                break;
            }
        }
    }
    if !problems.is_empty() {
        return Err(AccountError::PasswordPolicy(problems));
    }
    Ok(hasher.hash(password.into_inner()).await?)
}

/// Adds a replaced password hash to the history the policy keeps.
pub async fn remember_replaced(
    db: &Db,
    policy: &PasswordPolicy,
    user_id: &str,
    old_hash: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    if let Some(old) = old_hash {
        history::push(db, user_id, old, now, policy.history.saturating_sub(1) as u64).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_compare_case_insensitively() {
        let a = Username::parse("  Alice@Example.com ").unwrap();
        assert_eq!(a.as_str(), "Alice@Example.com");
        assert_eq!(a.normalized(), "alice@example.com");
        assert!(Username::parse("").is_err());
        assert!(Username::parse("a\u{0}b").is_err());
        assert!(Username::parse(&"x".repeat(257)).is_err());
    }

    #[test]
    fn emails_are_loosely_checked() {
        assert!(parse_email("a@b").is_ok());
        for bad in ["", "a", "@b", "a@", "a b@c", "a@b@c", "\u{202E}a@b", "a\u{200B}@b"] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_input_is_bounded_and_redacted() {
        let p = |s: &str| Password::parse(Zeroizing::new(s.to_owned()));
        assert!(matches!(p(&"x".repeat(MAX_PASSWORD_INPUT_BYTES + 1)), Err(AccountError::PasswordTooLong)));
        assert!(p("short").is_ok(), "length rules belong to the policy");
        assert!(!format!("{:?}", p("twelve chars").unwrap()).contains("twelve"));
    }
}
