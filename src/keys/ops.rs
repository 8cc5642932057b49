//! Key operations over the database, shared by the KeyManager actor and
//! the `gatehouse keys` CLI. Every write runs under one lock, re-reading
//! the rows inside it, so instances racing at start-up or rotation end
//! with exactly one new key.

use super::{ALGORITHMS, KeyPolicy, KeySet, KeyState, Plan, plan, state_at};
use crate::clock::Clock;
use crate::crypto::envelope::{Envelope, EnvelopeError};
use crate::crypto::signing::{SigningAlg, SigningError, SigningKeyPair};
use crate::store::{self, Db, StoreError, signing_keys as repo};
use chrono::{DateTime, Utc};
use entity::signing_keys::Model as KeyRow;
use std::collections::HashMap;
use std::sync::Arc;

/// Names the advisory lock that serialises key writes ("gatekeys").
const KEY_LOCK: i64 = 0x6761_7465_6b65_7973;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("key {kid}: {source}")]
    Envelope { kid: String, source: EnvelopeError },
    #[error(transparent)]
    Signing(#[from] SigningError),
    #[error("no such key (or already revoked): {0}")]
    NotFound(String),
    #[error("stored key {kid} is inconsistent: {what}")]
    Corrupt { kid: String, what: &'static str },
}

/// A change made, for the audit log and the CLI's output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct KeyEvent {
    pub action: &'static str,
    pub kid: String,
    pub alg: SigningAlg,
}

/// Brings every algorithm's keys in line with the policy: exactly one key
/// that signs now, and a successor published ahead of each rotation. The
/// time is read once the lock is held: read before it, an instance that
/// waited behind another's first key would see that key as not yet
/// active and create a second one.
pub async fn ensure_keys(
    db: &Db,
    envelope: &Envelope,
    clock: &dyn Clock,
    policy: &KeyPolicy,
) -> Result<Vec<KeyEvent>, KeyError> {
    // Keys are made before the lock is taken (an RSA key takes a while, and
    // on SQLite the lock stops every writer), for what looks due now.
    let unlocked = repo::all(db).await?;
    let due: Vec<SigningAlg> =
        ALGORITHMS.into_iter().filter(|alg| plan(&unlocked, *alg, clock.now(), policy) != Plan::Nothing).collect();
    let mut fresh = Fresh::generate(&due)?;
    let txn = store::locked_transaction(db, KEY_LOCK).await?;
    let now = clock.now();
    let mut rows = repo::all(&txn).await?;
    let mut events = Vec::new();
    for alg in ALGORITHMS {
        // A retirement changes what is current: plan again (bounded).
        for _ in 0..3 {
            match plan(&rows, alg, now, policy) {
                Plan::Nothing => break,
                Plan::RetireExtra { retire } => {
                    for kid in retire {
                        repo::schedule_retirement(&txn, &kid, now, now + policy.retire_grace).await?;
                        events.push(KeyEvent { action: "key.retirement_scheduled", kid, alg });
                    }
                    rows = repo::all(&txn).await?;
                }
                Plan::CreateCurrent => {
                    events.push(create(&txn, envelope, fresh.take(alg)?, now, now).await?);
                    break;
                }
                Plan::CreateNext { retire, activates_at } => {
                    events.push(create(&txn, envelope, fresh.take(alg)?, now, activates_at).await?);
                    repo::schedule_retirement(&txn, &retire, activates_at, activates_at + policy.retire_grace).await?;
                    events.push(KeyEvent { action: "key.retirement_scheduled", kid: retire, alg });
                    break;
                }
            }
        }
    }
    txn.commit().await.map_err(StoreError::Db)?;
    Ok(events)
}

/// One signing key as the CLI and the admin API show it (no key material).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct KeyView {
    pub kid: String,
    pub alg: String,
    pub state: KeyState,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it signs (or signed) first.
    #[schema(format = DateTime)]
    pub activates_at: String,
    #[schema(format = DateTime)]
    pub retires_at: Option<String>,
    /// When it leaves the JWKS.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

/// Every stored key, oldest first, with its state at `now`.
pub async fn list(db: &Db, now: DateTime<Utc>) -> Result<Vec<KeyView>, KeyError> {
    let at = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339());
    Ok(repo::all(db)
        .await?
        .iter()
        .map(|k| KeyView {
            kid: k.kid.clone(),
            alg: k.alg.clone(),
            state: state_at(k, now),
            created_at: k.created_at.to_rfc3339(),
            activates_at: k.activates_at.to_rfc3339(),
            retires_at: at(k.retires_at),
            expires_at: at(k.expires_at),
            revoked_at: at(k.revoked_at),
        })
        .collect())
}

/// On-demand rotation. Without `immediate`, schedules a successor after the
/// pre-publish window (a no-op when one is already scheduled); with it, a
/// new key signs at once and the current ones retire now (still published
/// until their tokens expire).
pub async fn rotate(
    db: &Db,
    envelope: &Envelope,
    now: DateTime<Utc>,
    policy: &KeyPolicy,
    immediate: bool,
) -> Result<Vec<KeyEvent>, KeyError> {
    let mut fresh = Fresh::generate(&ALGORITHMS)?;
    let txn = store::locked_transaction(db, KEY_LOCK).await?;
    let rows = repo::all(&txn).await?;
    let mut events = Vec::new();
    for alg in ALGORITHMS {
        let mine: Vec<&KeyRow> = rows.iter().filter(|k| k.alg == alg.as_str()).collect();
        let scheduled = mine.iter().any(|k| state_at(k, now) == KeyState::Next);
        if scheduled && !immediate {
            continue;
        }
        let activates_at = if immediate { now } else { now + policy.prepublish };
        events.push(create(&txn, envelope, fresh.take(alg)?, now, activates_at).await?);
        for k in mine.iter().filter(|k| state_at(k, now) == KeyState::Current) {
            repo::schedule_retirement(&txn, &k.kid, activates_at, activates_at + policy.retire_grace).await?;
            events.push(KeyEvent { action: "key.retirement_scheduled", kid: k.kid.clone(), alg });
        }
    }
    txn.commit().await.map_err(StoreError::Db)?;
    Ok(events)
}

/// Emergency revocation: the key leaves the JWKS at once and its tokens
/// stop verifying; a replacement is created if it was the signer.
pub async fn revoke(
    db: &Db,
    envelope: &Envelope,
    kid: &str,
    clock: &dyn Clock,
    policy: &KeyPolicy,
) -> Result<Vec<KeyEvent>, KeyError> {
    // Under the key lock, like every other key write: a rotation racing
    // this revocation could otherwise retire around a revoked key.
    let txn = store::locked_transaction(db, KEY_LOCK).await?;
    let now = clock.now();
    let rows = repo::all(&txn).await?;
    let row = rows
        .iter()
        .find(|k| k.kid == kid && k.revoked_at.is_none())
        .ok_or_else(|| KeyError::NotFound(kid.to_owned()))?;
    let alg: SigningAlg = row.alg.parse().map_err(|_| KeyError::Corrupt { kid: kid.to_owned(), what: "alg" })?;
    if !repo::revoke(&txn, kid, now).await? {
        return Err(KeyError::NotFound(kid.to_owned()));
    }
    txn.commit().await.map_err(StoreError::Db)?;
    let mut events = vec![KeyEvent { action: "key.revoked", kid: kid.to_owned(), alg }];
    events.extend(ensure_keys(db, envelope, clock, policy).await?);
    Ok(events)
}

/// Key pairs generated ahead of a locked write, one per algorithm.
struct Fresh(Vec<(SigningKeyPair, zeroize::Zeroizing<Vec<u8>>)>);

impl Fresh {
    fn generate(algs: &[SigningAlg]) -> Result<Self, KeyError> {
        Ok(Fresh(algs.iter().map(|alg| SigningKeyPair::generate(*alg)).collect::<Result<_, _>>()?))
    }

    /// The pair made for `alg`, or (if another instance's write changed
    /// what is due while we waited for the lock) a new one.
    fn take(&mut self, alg: SigningAlg) -> Result<(SigningKeyPair, zeroize::Zeroizing<Vec<u8>>), KeyError> {
        match self.0.iter().position(|(k, _)| k.alg() == alg) {
            Some(i) => Ok(self.0.swap_remove(i)),
            None => Ok(SigningKeyPair::generate(alg)?),
        }
    }
}

async fn create(
    txn: &sea_orm::DatabaseTransaction,
    envelope: &Envelope,
    (key, pkcs8): (SigningKeyPair, zeroize::Zeroizing<Vec<u8>>),
    now: DateTime<Utc>,
    activates_at: DateTime<Utc>,
) -> Result<KeyEvent, KeyError> {
    let alg = key.alg();
    let kid = key.kid().to_owned();
    let sealed = envelope.seal(&kid, &pkcs8).map_err(|source| KeyError::Envelope { kid: kid.clone(), source })?;
    repo::insert(
        txn,
        KeyRow {
            kid: kid.clone(),
            alg: alg.as_str().to_owned(),
            private_key: sealed,
            public_jwk: key.public_jwk().to_string(),
            created_at: now,
            activates_at,
            retires_at: None,
            expires_at: None,
            revoked_at: None,
            announced_state: Some(if activates_at <= now { "current" } else { "next" }.to_owned()),
        },
    )
    .await?;
    Ok(KeyEvent { action: if activates_at <= now { "key.created_current" } else { "key.created_next" }, kid, alg })
}

/// Reads the rows and builds the snapshot for `now`. `cache` keeps parsed
/// private keys by kid across calls, so only new keys are decrypted.
pub async fn load(
    db: &Db,
    envelope: &Envelope,
    cache: &mut HashMap<String, Arc<SigningKeyPair>>,
    now: DateTime<Utc>,
) -> Result<(Vec<KeyRow>, KeySet), KeyError> {
    let rows = repo::all(db).await?;
    let live: Vec<&KeyRow> =
        rows.iter().filter(|k| !matches!(state_at(k, now), KeyState::Revoked | KeyState::Expired)).collect();
    cache.retain(|kid, _| live.iter().any(|k| &k.kid == kid));
    for row in live {
        if cache.contains_key(&row.kid) {
            continue;
        }
        let alg: SigningAlg = row.alg.parse().map_err(|_| KeyError::Corrupt { kid: row.kid.clone(), what: "alg" })?;
        let pkcs8 = envelope
            .open(&row.kid, &row.private_key)
            .map_err(|source| KeyError::Envelope { kid: row.kid.clone(), source })?;
        let key = SigningKeyPair::from_pkcs8(alg, &pkcs8)?;
        if key.kid() != row.kid {
            return Err(KeyError::Corrupt { kid: row.kid.clone(), what: "kid does not match the key" });
        }
        cache.insert(row.kid.clone(), Arc::new(key));
    }
    let set = KeySet::build(&rows, cache, now);
    Ok((rows, set))
}

/// Audits the transitions time has made since the last look (a `next` key
/// becoming `current`, `current` becoming `retired`, `retired` leaving the
/// JWKS): each row's announced state is moved by a conditional update, so
/// exactly one instance records each transition. A row never announced
/// (created before this existed) is brought up to date silently.
pub async fn announce_transitions(db: &Db, rows: &[KeyRow], now: DateTime<Utc>) -> Result<Vec<KeyEvent>, KeyError> {
    let mut events = Vec::new();
    for row in rows {
        let state = state_at(row, now);
        let announced = row.announced_state.as_deref();
        if announced == Some(state.as_str()) {
            continue;
        }
        if !repo::claim_announcement(db, &row.kid, announced, state.as_str()).await? || announced.is_none() {
            continue;
        }
        let action = match state {
            KeyState::Next => continue,
            KeyState::Current => "key.activated",
            KeyState::Retired => "key.retired",
            KeyState::Expired => "key.expired",
            KeyState::Revoked => "key.revoked",
        };
        let alg = row.alg.parse().map_err(|_| KeyError::Corrupt { kid: row.kid.clone(), what: "alg" })?;
        events.push(KeyEvent { action, kid: row.kid.clone(), alg });
    }
    Ok(events)
}

/// Removes keys that left the JWKS more than a day ago.
pub async fn purge(db: &Db, now: DateTime<Utc>) -> Result<u64, KeyError> {
    Ok(repo::purge_expired(db, now - chrono::Duration::days(1)).await?)
}
