//! The `KeyManager` actor: owns the parsed signing keys and the rotation
//! schedule, and publishes an immutable [`KeySet`] snapshot that handlers
//! read without a message round-trip. Every `key_refresh_secs` it re-reads
//! the keys (picking up CLI rotations and revocations, and time-driven
//! transitions) and creates successors when the policy says so; the writes
//! are locked, so many instances may run it at once.

use super::{AuditHandle, Ping};
use crate::audit::AuditEvent;
use crate::clock::Clock;
use crate::crypto::envelope::Envelope;
use crate::crypto::signing::SigningKeyPair;
use crate::keys::{ALGORITHMS, KeyPolicy, KeySet, Plan, ops, plan};
use crate::store::Db;
use actix::prelude::*;
use arc_swap::ArcSwap;
use futures_util::FutureExt as _;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

pub struct KeyManager {
    pub db: Db,
    pub envelope: Arc<Envelope>,
    pub policy: KeyPolicy,
    pub refresh: Duration,
    pub clock: Arc<dyn Clock>,
    pub audit: AuditHandle,
    pub published: Arc<ArcSwap<KeySet>>,
    pub cache: HashMap<String, Arc<SigningKeyPair>>,
}

impl KeyManager {
    fn tick(&mut self, ctx: &mut Context<Self>) {
        let db = self.db.clone();
        let envelope = self.envelope.clone();
        let policy = self.policy;
        let clock = self.clock.clone();
        let audit = self.audit.clone();
        let mut cache = std::mem::take(&mut self.cache);
        let work = async move {
            let now = clock.now();
            let (rows, set) = ops::load(&db, &envelope, &mut cache, now).await?;
            for e in ops::announce_transitions(&db, &rows, now).await? {
                tracing::info!(action = e.action, kid = %e.kid, alg = %e.alg, "signing key transition");
                audit.record(AuditEvent::new(now, "system", e.action, Some(e.kid)));
            }
            if ALGORITHMS.iter().all(|alg| plan(&rows, *alg, now, &policy) == Plan::Nothing) {
                return Ok::<_, ops::KeyError>((set, cache));
            }
            // Only when keys were due: write (locked) and read again.
            for e in ops::ensure_keys(&db, &envelope, clock.as_ref(), &policy).await? {
                tracing::info!(action = e.action, kid = %e.kid, alg = %e.alg, "signing key change");
                audit.record(AuditEvent::new(now, "system", e.action, Some(e.kid)));
            }
            let (_, set) = ops::load(&db, &envelope, &mut cache, clock.now()).await?;
            Ok((set, cache))
        };
        let guarded = AssertUnwindSafe(work).catch_unwind();
        ctx.wait(guarded.into_actor(self).map(|res, act, _| match res {
            Ok(Ok((set, cache))) => {
                act.cache = cache;
                act.publish(set);
            }
            // The last good snapshot stays published; signing goes on.
            Ok(Err(e)) => tracing::error!(error = %e, "key refresh failed; keeping the current key set"),
            Err(_) => tracing::error!("key refresh panicked; keeping the current key set"),
        }));
    }
}

impl KeyManager {
    fn publish(&mut self, set: KeySet) {
        if set.fingerprint() != self.published.load().fingerprint() {
            tracing::info!(etag = set.etag(), "publishing a new key set");
            self.published.store(Arc::new(set));
        }
    }
}

/// An administrator's change to the keys (the admin API): made under the
/// key lock, then published by this instance at once; others pick it up
/// at their next refresh. Answers what changed, for the audit log (the
/// caller's to record, under its own actor name).
#[derive(Message)]
#[rtype(result = "Result<Vec<ops::KeyEvent>, ops::KeyError>")]
pub enum KeyChange {
    /// Schedule a successor; `immediate`: it signs now.
    Rotate { immediate: bool },
    /// Emergency revocation of one key.
    Revoke { kid: String },
}

impl Handler<KeyChange> for KeyManager {
    type Result = ResponseActFuture<Self, Result<Vec<ops::KeyEvent>, ops::KeyError>>;

    fn handle(&mut self, msg: KeyChange, _: &mut Context<Self>) -> Self::Result {
        let (db, envelope, policy, clock) = (self.db.clone(), self.envelope.clone(), self.policy, self.clock.clone());
        let mut cache = self.cache.clone();
        let work = async move {
            let events = match msg {
                KeyChange::Rotate { immediate } => ops::rotate(&db, &envelope, clock.now(), &policy, immediate).await,
                KeyChange::Revoke { kid } => ops::revoke(&db, &envelope, &kid, clock.as_ref(), &policy).await,
            };
            let loaded = ops::load(&db, &envelope, &mut cache, clock.now()).await.map(|(_, set)| set);
            (events, loaded, cache)
        };
        Box::pin(work.into_actor(self).map(|(events, loaded, cache), act, _| {
            match loaded {
                Ok(set) => {
                    act.cache = cache;
                    act.publish(set);
                }
                // Published at the next refresh instead.
                Err(e) => tracing::error!(error = %e, "could not reload the keys after a change"),
            }
            events
        }))
    }
}

impl Actor for KeyManager {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(self.refresh, |act, ctx| act.tick(ctx));
    }
}

impl Supervised for KeyManager {
    fn restarting(&mut self, _: &mut Context<Self>) {
        tracing::warn!("key manager restarting");
    }
}

impl Handler<Ping> for KeyManager {
    type Result = ();

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {}
}
