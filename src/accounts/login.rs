//! Password login: the same answer, in about the same time, for a wrong
//! password, an unknown account, a disabled one and a locked one (no user
//! enumeration). Wrong passwords count toward the lockout of the device
//! they come from (a trusted one, or all unknown ones); a right one does
//! not reset it (that waits for the whole login).

use super::devices::Device;
use super::lockout::LockoutPolicy;
use super::password::{PasswordError, PasswordHasher, Verification};
use crate::store::Db;
use crate::store::{lockouts, users as repo};
use chrono::{DateTime, Utc};
use entity::users::Model as User;
use zeroize::Zeroizing;

/// Why a login failed, for the audit log and metrics; the person only
/// ever sees "incorrect username or password".
#[derive(Debug, Clone)]
pub struct Refusal {
    pub reason: &'static str,
    /// The account, when the login named one that exists.
    pub user: Option<User>,
    /// Set when this failure locked the account.
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("invalid credentials ({})", .0.reason)]
    Refused(Box<Refusal>),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("storage failure: {0}")]
    Store(String),
}

fn refused(reason: &'static str, user: Option<User>) -> LoginError {
    LoginError::Refused(Box::new(Refusal { reason, user, locked_until: None }))
}

/// Checks `login` (a sign-in name: a username or a login email, one
/// namespace) and `password`.
/// `devices` are the browser's verified device-cookie entries: they pick
/// which failure budget the attempt counts toward (see [`super::devices`]).
pub async fn authenticate(
    db: &Db,
    hasher: &PasswordHasher,
    lockout: &LockoutPolicy,
    devices: &[Device],
    login: &str,
    password: Zeroizing<String>,
    now: DateTime<Utc>,
) -> Result<User, LoginError> {
    let store = |e: crate::store::StoreError| LoginError::Store(e.to_string());
    let Some(user) = find(db, login.trim()).await? else {
        hasher.burn(password).await?;
        return Err(refused("unknown account", None));
    };
    let Some(phc) = user.password_hash.clone() else {
        hasher.burn(password).await?;
        return Err(refused("no password set", Some(user)));
    };
    let budget = super::devices::budget(devices, &user.id);
    if lockouts::locked_until(db, budget, now).await.map_err(store)?.is_some() {
        // Verified anyway, so a locked account takes as long as any other.
        hasher.verify(password, phc).await?;
        return Err(refused("account locked", Some(user)));
    }
    match hasher.verify(password, phc).await? {
        // The failure count is not cleared here: a second factor may
        // follow, and its wrong answers must keep counting. It is cleared
        // when the login completes (a session starts).
        Verification::Valid { .. } if user.active => Ok(user),
        Verification::Valid { .. } => Err(refused("account disabled", Some(user))),
        Verification::Invalid => {
            let locked_until = super::lockout::record_failure(db, budget, now, lockout).await.map_err(store)?;
            Err(LoginError::Refused(Box::new(Refusal { reason: "wrong password", user: Some(user), locked_until })))
        }
    }
}

async fn find(db: &Db, login: &str) -> Result<Option<User>, LoginError> {
    if login.is_empty() || login.len() > 320 {
        return Ok(None);
    }
    // One namespace: a username and a login email are keys of one table,
    // unique across accounts, so what was typed names one account or none.
    // A name RFC 8265 refuses can still belong to an account created before
    // the profile applied: it kept its old (lower-cased) key.
    let key = super::identifiers::login_key(login).unwrap_or_else(|| login.to_lowercase());
    repo::find_by_login_name(db, &key).await.map_err(|e| LoginError::Store(e.to_string()))
}
