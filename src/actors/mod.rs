//! The actor core's plumbing: actors own mutable state and schedules, run
//! under a [`actix::Supervisor`] (a panic inside a handler stops the actor
//! and the supervisor restarts it with fresh state), are addressed from
//! handlers through [`Actors`], and are drained in a fixed order on shutdown.

pub mod audit;
pub mod janitor;
pub mod keys;
pub mod rate_limiter;
pub mod revocations;
pub mod sessions;

use actix::prelude::*;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

pub use audit::{AuditHandle, AuditLog};
pub use janitor::Janitor;
pub use keys::KeyManager;
pub use rate_limiter::RateLimiter;
pub use revocations::RevocationWatcher;
pub use sessions::SessionManager;

/// Asks an actor whether its mailbox is being served; `/health/ready` uses it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Ping;

/// Runs a handler body; if it panics, logs the panic and stops the actor so
/// that its supervisor restarts it (`Supervised::restarting` resets state).
/// Returns `None` when the body panicked.
pub fn contain_panic<A, R>(ctx: &mut Context<A>, actor: &'static str, body: impl FnOnce() -> R) -> Option<R>
where
    A: Actor<Context = Context<A>>,
{
    match std::panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(r) => Some(r),
        Err(_) => {
            tracing::error!(actor, "actor panicked; restarting it under its supervisor");
            ctx.stop();
            None
        }
    }
}

/// Addresses of the running actors, cloned into every handler's state.
#[derive(Clone)]
pub struct Actors {
    pub audit: AuditHandle,
    pub keys: Addr<KeyManager>,
    pub janitor: Addr<Janitor>,
    pub revocations: Addr<RevocationWatcher>,
    pub rate_limiter: Addr<RateLimiter>,
    pub sessions: Addr<SessionManager>,
}

/// What the actors are started with.
pub struct ActorDeps {
    pub db: crate::store::Db,
    pub clock: std::sync::Arc<dyn crate::clock::Clock>,
    pub envelope: std::sync::Arc<crate::crypto::envelope::Envelope>,
    pub key_policy: crate::keys::KeyPolicy,
    pub key_refresh: Duration,
    pub keys: std::sync::Arc<arc_swap::ArcSwap<crate::keys::KeySet>>,
    /// Loaded in full before the server listens; the watcher keeps it current.
    pub revocations: std::sync::Arc<crate::oauth::revocation_list::RevocationList>,
    pub revocations_loaded_at: chrono::DateTime<chrono::Utc>,
    pub cache_refresh: Duration,
    /// The failure budgets' Redis link, when Redis is configured.
    pub redis: Option<std::sync::Arc<crate::abuse::shared::SharedBudgets>>,
    /// A browser session unused for this long has ended.
    pub session_idle: chrono::Duration,
    pub audit_masking: crate::audit::Masking,
    /// How often the machine-token tally becomes audit events.
    pub audit_tally_every: Duration,
    /// Mean wait before the janitor's first sweep.
    pub janitor_first_sweep: Duration,
    /// Audit events older than this are purged (behind a checkpoint).
    pub audit_retention: Option<chrono::Duration>,
}

/// The liveness of one actor.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ActorHealth {
    pub name: &'static str,
    pub alive: bool,
}

impl Actors {
    /// Starts every actor under a supervisor on the current arbiter.
    pub fn start(deps: ActorDeps) -> Self {
        let db = deps.db.clone();
        let masking = deps.audit_masking;
        let tally = std::sync::Arc::new(audit::MachineTally::default());
        let stats = std::sync::Arc::new(audit::AuditStats::default());
        let (audit_tally, audit_stats, audit_clock, tally_every) =
            (tally.clone(), stats.clone(), deps.clock.clone(), deps.audit_tally_every);
        let audit = AuditHandle {
            addr: Supervisor::start(move |_| {
                let (tally, stats, clock) = (audit_tally.clone(), audit_stats.clone(), audit_clock.clone());
                AuditLog::new(db.clone(), masking, tally, stats, clock, tally_every)
            }),
            tally,
            stats,
        };
        let audit_for_keys = audit.clone();
        let (janitor_db, janitor_clock) = (deps.db.clone(), deps.clock.clone());
        let audit_retention = deps.audit_retention;
        let janitor = Supervisor::start(move |_| Janitor {
            db: janitor_db.clone(),
            clock: janitor_clock.clone(),
            every: Duration::from_secs(300),
            first: deps.janitor_first_sweep,
            audit_retention,
        });
        let redis = deps.redis.clone();
        let rate_limiter =
            Supervisor::start(move |_| RateLimiter { redis: redis.clone(), every: Duration::from_secs(5) });
        let (watch_db, watch_clock) = (deps.db.clone(), deps.clock.clone());
        let (list, loaded_at, every) = (deps.revocations, deps.revocations_loaded_at, deps.cache_refresh);
        // A restart resumes from the initial load's time: re-reading is
        // harmless, missing a revocation is not.
        let revocations = Supervisor::start(move |_| RevocationWatcher {
            db: watch_db,
            clock: watch_clock,
            list: list.clone(),
            every,
            polled_at: loaded_at,
        });
        let (session_db, session_clock, session_idle) = (deps.db.clone(), deps.clock.clone(), deps.session_idle);
        let session_refresh = deps.cache_refresh;
        let sessions = Supervisor::start(move |_| {
            SessionManager::new(session_db.clone(), session_clock.clone(), session_refresh, session_idle)
        });
        let keys = Supervisor::start(move |_| KeyManager {
            db: deps.db,
            envelope: deps.envelope,
            policy: deps.key_policy,
            refresh: deps.key_refresh,
            clock: deps.clock,
            audit: audit_for_keys,
            published: deps.keys,
            cache: Default::default(),
        });
        Actors { audit, keys, janitor, revocations, rate_limiter, sessions }
    }

    /// Pings every actor, each within `timeout`.
    pub async fn health(&self, timeout: Duration) -> Vec<ActorHealth> {
        let alive = |r: Result<Result<(), MailboxError>, tokio::time::error::Elapsed>| matches!(r, Ok(Ok(())));
        let (audit, keys, janitor, revocations, rate_limiter, sessions) = tokio::join!(
            tokio::time::timeout(timeout, self.audit.addr.send(Ping)),
            tokio::time::timeout(timeout, self.keys.send(Ping)),
            tokio::time::timeout(timeout, self.janitor.send(Ping)),
            tokio::time::timeout(timeout, self.revocations.send(Ping)),
            tokio::time::timeout(timeout, self.rate_limiter.send(Ping)),
            tokio::time::timeout(timeout, self.sessions.send(Ping)),
        );
        vec![
            ActorHealth { name: "audit_log", alive: alive(audit) },
            ActorHealth { name: "key_manager", alive: alive(keys) },
            ActorHealth { name: "janitor", alive: alive(janitor) },
            ActorHealth { name: "revocation_watcher", alive: alive(revocations) },
            ActorHealth { name: "rate_limiter", alive: alive(rate_limiter) },
            ActorHealth { name: "session_manager", alive: alive(sessions) },
        ]
    }

    /// Drains actors in dependency order once HTTP traffic has stopped: the
    /// audit log goes last because every other actor may still record.
    pub async fn shutdown(self, timeout: Duration) {
        // A Ping is answered only after a sweep in progress has finished.
        if tokio::time::timeout(timeout, self.janitor.send(Ping)).await.is_err() {
            tracing::error!(actor = "janitor", "actor drain timed out");
        }
        match tokio::time::timeout(timeout, self.audit.drain()).await {
            Ok(Ok(())) => tracing::info!(actor = "audit_log", "actor drained"),
            Ok(Err(e)) => tracing::error!(actor = "audit_log", error = %e, "actor drain failed"),
            Err(_) => tracing::error!(actor = "audit_log", "actor drain timed out"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test actor whose state must be reset by a restart.
    struct Flaky {
        counter: u32,
    }
    impl Actor for Flaky {
        type Context = Context<Self>;
    }
    impl Supervised for Flaky {
        fn restarting(&mut self, _: &mut Context<Self>) {
            self.counter = 0;
        }
    }
    #[derive(Message)]
    #[rtype(result = "Option<u32>")]
    struct Bump {
        explode: bool,
    }
    impl Handler<Bump> for Flaky {
        type Result = Option<u32>;
        fn handle(&mut self, msg: Bump, ctx: &mut Context<Self>) -> Option<u32> {
            contain_panic(ctx, "flaky", || {
                self.counter += 1;
                assert!(!msg.explode, "deliberate test panic");
                self.counter
            })
        }
    }

    #[actix_rt::test]
    async fn supervisor_restarts_an_actor_after_a_panic() {
        let addr = Supervisor::start(|_| Flaky { counter: 0 });
        assert_eq!(addr.send(Bump { explode: false }).await.unwrap(), Some(1));
        assert_eq!(addr.send(Bump { explode: false }).await.unwrap(), Some(2));
        assert_eq!(addr.send(Bump { explode: true }).await.unwrap(), None);
        // Same address, fresh state: the supervisor restarted it.
        assert_eq!(addr.send(Bump { explode: false }).await.unwrap(), Some(1));
    }
}
