//! Signing in after the first factor: what the login still needs, the
//! login challenge that carries it to the second factor (minted, looked
//! up, its attempts counted, ended), and the session it ends in. No HTTP
//! types: the pages parse, call these, and render; the audit events come
//! back to them to record, as `GrantContext` does for the token endpoint.

use super::devices;
use super::lockout::{self, LockoutPolicy};
use crate::audit::{AuditEvent, Outcome};
use crate::crypto::{RandomError, hash_secret, random_token};
use crate::mfa::service::{self as mfa, MfaError};
use crate::mfa::{ACR_MFA, MfaPolicy, acr_of, satisfies};
use crate::store::lockouts::{self as lockouts, Budget};
use crate::store::{Db, StoreError, mfa as store};
use crate::wire::wire_enum;
use chrono::{DateTime, Duration, Utc};
use entity::users::Model as User;

pub use entity::login_challenges::Model as Challenge;
pub use entity::sessions::Model as Session;

/// How long a person has for the second step.
pub const CHALLENGE_SECS: i64 = 600;
/// Answers one challenge takes (reserved before each is checked); then
/// the password is asked again.
pub const MAX_CHALLENGE_FAILURES: i32 = 5;

wire_enum! {
    /// What a login challenge asks for, as stored in its row.
    pub enum ChallengePurpose {
        /// A second factor the person has.
        Verify = "verify",
        /// A first second factor: the policy or the client demands one and
        /// the person has none.
        Enrol = "enrol",
    }
}

/// Whether `c` is a challenge for `purpose` (a row with an unknown purpose
/// is for nothing).
pub fn is_for(c: &Challenge, purpose: ChallengePurpose) -> bool {
    c.purpose.parse::<ChallengePurpose>().is_ok_and(|p| p == purpose)
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mfa(#[from] MfaError),
    #[error(transparent)]
    Account(#[from] super::users::AccountError),
    #[error("random generator failed")]
    Random(#[from] RandomError),
}

/// Where a sign-in comes from, as the challenge, the session and the audit
/// trail record it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// What a login whose first factors (`amr`) passed still needs: nothing
/// (`None`: a session at once), or a challenge.
pub async fn second_step(
    db: &Db,
    policy: MfaPolicy,
    user: &User,
    amr: &str,
    acr_values: Option<&str>,
) -> Result<Option<ChallengePurpose>, MfaError> {
    let acr = acr_of(amr);
    if acr == ACR_MFA {
        return Ok(None);
    }
    if mfa::factors(db, &user.id).await?.any() {
        return Ok(Some(ChallengePurpose::Verify));
    }
    let asked = acr_values.is_some_and(|a| !satisfies(acr, a));
    let required = asked || mfa::policy_requires(db, policy, user).await?;
    Ok(required.then_some(ChallengePurpose::Enrol))
}

/// A challenge just opened: the secret for the browser's cookie (only its
/// hash is stored) and the event to record.
pub struct Opened {
    pub secret: String,
    pub event: AuditEvent,
}

/// Opens a challenge for `purpose` that resumes `request` (an
/// authorization request's query string, or empty) once answered.
pub async fn open_challenge(
    db: &Db,
    user: &User,
    purpose: ChallengePurpose,
    amr: &str,
    request: &str,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<Opened, SignInError> {
    let secret = random_token(32)?;
    let row = Challenge {
        id_hash: hash_secret(&secret),
        user_id: user.id.clone(),
        purpose: purpose.as_str().to_owned(),
        amr: amr.to_owned(),
        auth_time: now,
        request: request.to_owned(),
        failures: 0,
        created_at: now,
        expires_at: now + Duration::seconds(CHALLENGE_SECS),
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
    };
    store::insert_challenge(db, row).await?;
    let mut event = AuditEvent::new(now, actor(&user.id), "login.second_factor_required", Some(user.id.clone()));
    event.reason = Some(purpose.as_str().to_owned());
    Ok(Opened { secret, event })
}

fn actor(user_id: &str) -> String {
    format!("user:{user_id}")
}

/// The live challenge whose cookie hashes to `id_hash`.
pub async fn find_challenge(db: &Db, id_hash: &str, now: DateTime<Utc>) -> Result<Option<Challenge>, SignInError> {
    Ok(store::find_challenge(db, id_hash, now).await?)
}

/// Reserves an attempt before an answer is checked, so parallel answers
/// share the same [`MAX_CHALLENGE_FAILURES`]; `false` when none is left.
pub async fn reserve_attempt(db: &Db, c: &Challenge, now: DateTime<Utc>) -> Result<bool, SignInError> {
    Ok(store::reserve_attempt(db, &c.id_hash, MAX_CHALLENGE_FAILURES, now).await?)
}

/// Ends the challenge: `true` for the one request that completes it.
pub async fn end_challenge(db: &Db, c: &Challenge) -> Result<bool, SignInError> {
    Ok(store::take_challenge(db, &c.id_hash).await?)
}

/// After a wrong answer that does not count toward the lockout (a failed
/// enrolment): ends the challenge if its attempts are used up; `true` if
/// it survives.
pub async fn survives_failure(db: &Db, c: &Challenge) -> Result<bool, SignInError> {
    Ok(store::survives_failure(db, &c.id_hash, MAX_CHALLENGE_FAILURES).await?)
}

/// How a wrong answer left the sign-in.
pub struct Failure {
    /// The challenge can be answered again.
    pub survives: bool,
    /// The account's lock, when this failure locked it, with its username
    /// (for the notification).
    pub locked: Option<(DateTime<Utc>, String)>,
}

/// The audit event of a wrong answer to `c`; recorded before the failure
/// is counted, so a storage failure while counting cannot lose it.
pub fn failure_event(c: &Challenge, action: &'static str, reason: String, now: DateTime<Utc>) -> AuditEvent {
    let mut event = AuditEvent::new(now, actor(&c.user_id), action, Some(c.user_id.clone()));
    event.outcome = Outcome::Failure;
    event.reason = Some(reason);
    event
}

/// Counts a wrong second factor (any kind) toward the account lockout of
/// the device's `budget` and the challenge's attempts; a lock or the last
/// attempt ends the challenge.
pub async fn count_failure(
    db: &Db,
    c: &Challenge,
    budget: Budget<'_>,
    policy: &LockoutPolicy,
    now: DateTime<Utc>,
) -> Result<Failure, SignInError> {
    let locked = match lockout::record_failure(db, budget, now, policy).await? {
        Some(until) => {
            let name = crate::store::users::find_by_id(db, &c.user_id).await.ok().flatten().map(|u| u.username);
            Some((until, name.unwrap_or_default()))
        }
        None => None,
    };
    let survives = store::survives_failure(db, &c.id_hash, MAX_CHALLENGE_FAILURES).await?;
    if !survives || locked.is_some() {
        store::take_challenge(db, &c.id_hash).await?;
        return Ok(Failure { survives: false, locked });
    }
    Ok(Failure { survives: true, locked })
}

/// Whether the challenge's account is locked for this device now; a locked
/// account's challenge ends (the lock outlives it).
pub async fn locked_out(db: &Db, c: &Challenge, budget: Budget<'_>, now: DateTime<Utc>) -> Result<bool, SignInError> {
    if !lockout::is_locked(db, budget, now).await? {
        return Ok(false);
    }
    store::take_challenge(db, &c.id_hash).await?;
    Ok(true)
}

/// A session about to start: the secret for the browser's cookie and the
/// row (holding only its hash) for the session manager to store.
pub struct NewSession {
    pub secret: String,
    pub session: Session,
}

/// Mints the session a completed sign-in ends in; `None` if the account
/// was disabled between the first factor and now.
pub async fn new_session(
    db: &Db,
    user_id: &str,
    amr: &str,
    max_age: Duration,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<Option<NewSession>, SignInError> {
    if super::users::find_active(db, user_id).await?.is_none() {
        return Ok(None);
    }
    let (secret, sid) = (random_token(32)?, random_token(16)?);
    let session = Session {
        id: hash_secret(&secret),
        sid,
        user_id: user_id.to_owned(),
        auth_time: now,
        amr: amr.to_owned(),
        acr: acr_of(amr).to_owned(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + max_age,
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
        ended_at: None,
    };
    Ok(Some(NewSession { secret, session }))
}

/// After the session is stored: only a complete sign-in resets the failed
/// attempts, and only those of the device it came from (the owner signing
/// in on a trusted browser does not lift the lock unknown devices earned).
/// Returns the event to record.
pub async fn session_started(
    db: &Db,
    devices: &[devices::Device],
    user_id: &str,
    amr: &str,
    now: DateTime<Utc>,
) -> AuditEvent {
    if let Err(e) = lockouts::clear_budget(db, devices::budget(devices, user_id)).await {
        tracing::warn!(error = %e, "could not clear the failed-login count");
    }
    let mut event = AuditEvent::new(now, actor(user_id), "login.succeeded", Some(user_id.to_owned()));
    event.reason = Some(format!("amr: {amr}"));
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_are_the_stored_strings() {
        assert_eq!(ChallengePurpose::Verify.as_str(), "verify");
        assert_eq!(ChallengePurpose::Enrol.as_str(), "enrol");
        assert!("other".parse::<ChallengePurpose>().is_err());
    }
}
