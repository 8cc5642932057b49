//! Whether the database answers, as last observed: a probe every second
//! (every 200 ms while it does not) and every readiness check keep it
//! current. While it is down, request paths that need the database refuse
//! at once (`503`) instead of each waiting out the pool's 5 s acquire
//! timeout; paths served from memory (cached clients, keys, access-token
//! checks) keep working.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often, and how patiently, the probe pings a database that answers.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);
/// How often it pings one that does not: a recovery is noticed soon.
pub const PROBE_WHILE_DOWN: Duration = Duration::from_millis(200);

#[derive(Debug, Default)]
pub struct DbHealth {
    down: AtomicBool,
}

impl DbHealth {
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// Records one observation; transitions are logged once each.
    pub fn observe(&self, answered: bool) {
        let was_down = self.down.swap(!answered, Ordering::AcqRel);
        match (was_down, answered) {
            (false, false) => tracing::error!("database unreachable; refusing requests that need it until it answers"),
            (true, true) => tracing::info!("database reachable again"),
            _ => {}
        }
    }

    /// Pings once, bounded by `within`, and records the outcome.
    pub async fn probe(&self, db: &super::Db, within: Duration) {
        let answered = matches!(tokio::time::timeout(within, db.ping()).await, Ok(Ok(())));
        self.observe(answered);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_flip_the_state() {
        let h = DbHealth::default();
        assert!(!h.is_down());
        h.observe(false);
        assert!(h.is_down());
        h.observe(false);
        assert!(h.is_down());
        h.observe(true);
        assert!(!h.is_down());
    }
}
