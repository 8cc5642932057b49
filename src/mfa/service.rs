//! The second-factor operations the pages call: enrol, confirm, verify,
//! spend. Storage and crypto stay here, out of the handlers.

use super::{recovery, totp};
use crate::crypto::SecretHasher;
use crate::crypto::envelope::{Envelope, EnvelopeError};
use crate::store::{Db, StoreError, mfa as store};
use chrono::{DateTime, Duration, Utc};
use entity::users::Model as User;
use zeroize::Zeroizing;

pub use crate::store::mfa::Factors;
/// A registered passkey, as the account page lists it.
pub use entity::webauthn_credentials::Model as RegisteredPasskey;

/// A pending enrolment's seed is reused this long, so reloading the page
/// does not invalidate what was just scanned.
const PENDING_REUSE_MINUTES: i64 = 15;

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("storage failure: {0}")]
    Store(#[from] StoreError),
    #[error("sealed TOTP seed: {0}")]
    Envelope(#[from] EnvelopeError),
    #[error("random generator failed")]
    Random,
    #[error("an authenticator is already enrolled")]
    AlreadyEnrolled,
    #[error("group lookup failed: {0}")]
    Groups(String),
    /// The ceremony is unknown, expired, used, or someone else's.
    #[error("no such WebAuthn ceremony")]
    Ceremony,
    /// The credential is not registered (to this person).
    #[error("unknown credential")]
    UnknownCredential,
    #[error("this credential is registered already")]
    Duplicate,
    /// A ceremony that failed verification (bad signature, origin,
    /// challenge, counter, user verification...).
    #[error("WebAuthn: {0}")]
    Webauthn(String),
}

/// How a second-factor answer fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    /// Not a valid code (or no such factor).
    Wrong,
    /// A valid code that was used before.
    Replayed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Wrong => "wrong code",
            Verdict::Replayed => "code already used",
        }
    }
}

/// Seeds are sealed to their owner: a row copied to another user's id does
/// not open.
fn record(user_id: &str) -> String {
    format!("totp:{user_id}")
}

fn unix(now: DateTime<Utc>) -> i64 {
    now.timestamp()
}

/// The seed of a pending enrolment for `requester` (the id hash of the
/// login challenge or session asking): started now, or the one this same
/// requester was shown recently. Another requester gets a new seed, so a
/// seed is never shown to two parties (someone with only the password
/// cannot plant one for the owner to scan).
pub async fn begin_totp(
    db: &Db,
    envelope: &Envelope,
    user_id: &str,
    requester: &str,
    now: DateTime<Utc>,
) -> Result<totp::Secret, MfaError> {
    if let Some(row) = store::find_totp(db, user_id).await? {
        if row.confirmed_at.is_some() {
            return Err(MfaError::AlreadyEnrolled);
        }
        if row.pending_for.as_deref() == Some(requester)
            && now - row.created_at < Duration::minutes(PENDING_REUSE_MINUTES)
        {
            return Ok(totp::Secret::from_bytes(envelope.open(&record(user_id), &row.secret_sealed)?));
        }
    }
    let secret = totp::Secret::generate().map_err(|_| MfaError::Random)?;
    let sealed = envelope.seal(&record(user_id), secret.as_bytes())?;
    if !store::begin_totp(db, user_id, &sealed, requester, now).await? {
        return Err(MfaError::AlreadyEnrolled);
    }
    Ok(secret)
}

/// Confirms `requester`'s pending enrolment with its first code.
pub async fn confirm_totp(
    db: &Db,
    envelope: &Envelope,
    user_id: &str,
    requester: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Verdict, MfaError> {
    let Some(row) = store::find_totp(db, user_id)
        .await?
        .filter(|r| r.confirmed_at.is_none() && r.pending_for.as_deref() == Some(requester))
    else {
        return Ok(Verdict::Wrong);
    };
    let secret = totp::Secret::from_bytes(envelope.open(&record(user_id), &row.secret_sealed)?);
    let Some(step) = totp::matching_step(&secret, code, unix(now)) else { return Ok(Verdict::Wrong) };
    Ok(if store::confirm_totp(db, user_id, &row.secret_sealed, step, now).await? {
        Verdict::Accepted
    } else {
        Verdict::Wrong
    })
}

/// Checks a code against the user's confirmed authenticator and spends
/// its time step.
pub async fn verify_totp(
    db: &Db,
    envelope: &Envelope,
    user_id: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Verdict, MfaError> {
    let Some(row) = store::find_totp(db, user_id).await?.filter(|r| r.confirmed_at.is_some()) else {
        return Ok(Verdict::Wrong);
    };
    let secret = totp::Secret::from_bytes(envelope.open(&record(user_id), &row.secret_sealed)?);
    let Some(step) = totp::matching_step(&secret, code, unix(now)) else { return Ok(Verdict::Wrong) };
    if row.last_used_step.is_some_and(|last| step <= last) {
        return Ok(Verdict::Replayed);
    }
    Ok(if store::use_totp_step(db, user_id, step, now).await? { Verdict::Accepted } else { Verdict::Replayed })
}

/// Spends one recovery code.
pub async fn verify_recovery_code(
    db: &Db,
    hasher: &SecretHasher,
    user_id: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Verdict, MfaError> {
    let Some(normalized) = recovery::normalize(code) else { return Ok(Verdict::Wrong) };
    let hash = hasher.hash(&recovery::hash_input(user_id, &normalized));
    Ok(if store::use_recovery_code(db, user_id, &hash, now).await? { Verdict::Accepted } else { Verdict::Wrong })
}

/// A new set of recovery codes (the old set stops working), to show once.
pub async fn new_recovery_codes(
    db: &Db,
    hasher: &SecretHasher,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Zeroizing<String>>, MfaError> {
    let codes = recovery::generate().map_err(|_| MfaError::Random)?;
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|c| recovery::normalize(c))
        .map(|n| hasher.hash(&recovery::hash_input(user_id, &n)))
        .collect();
    store::replace_recovery_codes(db, user_id, &hashes, now).await?;
    Ok(codes)
}

/// Whether the `mfa` setting demands a second factor of this user.
pub async fn policy_requires(db: &Db, policy: super::MfaPolicy, user: &User) -> Result<bool, MfaError> {
    Ok(match policy {
        super::MfaPolicy::Optional => false,
        super::MfaPolicy::Required => true,
        super::MfaPolicy::RequiredForAdmins => is_admin(db, user).await?,
    })
}

/// The second factors the person has enrolled.
pub async fn factors(db: &Db, user_id: &str) -> Result<Factors, MfaError> {
    Ok(store::factors(db, user_id).await?)
}

/// Whether the policy's "admin" covers this user: the flag, or a group
/// that grants admin.
pub async fn is_admin(db: &Db, user: &User) -> Result<bool, MfaError> {
    if user.is_admin {
        return Ok(true);
    }
    crate::store::scim::groups::in_admin_group(db, &user.id).await.map_err(|e| MfaError::Groups(e.to_string()))
}

/// Removes the authenticator app; `false` if there was none.
pub async fn remove_totp(db: &Db, user_id: &str) -> Result<bool, MfaError> {
    Ok(store::remove_totp(db, user_id).await?)
}

/// Recovery codes not spent yet.
pub async fn recovery_codes_left(db: &Db, user_id: &str) -> Result<u64, MfaError> {
    Ok(store::recovery_codes_left(db, user_id).await?)
}

/// The person's passkeys.
pub async fn passkeys(db: &Db, user_id: &str) -> Result<Vec<RegisteredPasskey>, MfaError> {
    Ok(crate::store::webauthn::user_credentials(db, user_id).await?)
}

/// Removes one of the person's passkeys (`false`: no such passkey of
/// theirs), then the recovery codes if no factor is left for them to back.
pub async fn remove_passkey(db: &Db, user_id: &str, cred_id: &str) -> Result<bool, MfaError> {
    if !crate::store::webauthn::delete_credential(db, user_id, cred_id).await? {
        return Ok(false);
    }
    if let Err(e) = store::drop_orphaned_recovery_codes(db, user_id).await {
        tracing::warn!(error = %e, "could not drop recovery codes");
    }
    Ok(true)
}
