//! The `Janitor` actor: soon after start, then on a jittered schedule
//! (instances sharing a database do not all sweep at once) it purges rows that can no longer
//! matter: revocations of tokens past their expiry, used client assertions
//! past theirs, expired codes, refresh tokens and sessions, audit events past
//! `audit_retention_days` (behind a checkpoint), and signing keys a day
//! after they left the JWKS. A sweep in progress holds the mailbox, so a
//! stop waits for it to finish.

use super::Ping;
use crate::clock::Clock;
use crate::keys::ops;
use crate::store::{Db, audit, client_assertions, revocations, sessions};
use actix::prelude::*;
use futures_util::FutureExt as _;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

pub struct Janitor {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    /// Mean time between sweeps; each wait is drawn from ±25 % around it.
    pub every: Duration,
    /// Mean wait before the first sweep (also ±25 %): short, so an instance
    /// restarted more often than `every` still purges.
    pub first: Duration,
    /// Audit events older than this are purged behind a checkpoint.
    pub audit_retention: Option<chrono::Duration>,
}

impl Janitor {
    fn schedule(&self, ctx: &mut Context<Self>) {
        ctx.run_later(jittered(self.every), |act, ctx| {
            act.sweep(ctx);
            act.schedule(ctx);
        });
    }

    fn sweep(&mut self, ctx: &mut Context<Self>) {
        let db = self.db.clone();
        let now = self.clock.now();
        let retention = self.audit_retention;
        let work = async move {
            let revocations = revocations::purge_expired(&db, now).await.map_err(|e| e.to_string())?;
            let assertions = client_assertions::purge_expired(&db, now).await.map_err(|e| e.to_string())?;
            let keys = ops::purge(&db, now).await.map_err(|e| e.to_string())?;
            let browser = sessions::purge_codes(&db, now).await.map_err(|e| e.to_string())?
                + crate::store::refresh::purge(&db, now).await.map_err(|e| e.to_string())?
                + sessions::purge_sessions(&db, now).await.map_err(|e| e.to_string())?
                + crate::store::mfa::purge_challenges(&db, now).await.map_err(|e| e.to_string())?
                + crate::store::webauthn::purge_ceremonies(&db, now).await.map_err(|e| e.to_string())?;
            let audit_rows = match retention {
                Some(r) => audit::purge_before(&db, now - r, now).await.map_err(|e| e.to_string())?,
                None => 0,
            };
            let browser = browser + audit_rows;
            Ok::<_, String>((revocations, assertions, keys, browser))
        };
        ctx.wait(AssertUnwindSafe(work).catch_unwind().into_actor(self).map(|res, _, _| match res {
            Ok(Ok((0, 0, 0, 0))) => {}
            Ok(Ok((revocations, assertions, keys, browser))) => {
                tracing::info!(revocations, assertions, keys, browser, "janitor purged expired rows")
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "janitor sweep failed; will retry"),
            Err(_) => tracing::error!("janitor sweep panicked; will retry"),
        }));
    }
}

/// `mean` ± 25 %, from the OS RNG.
fn jittered(mean: Duration) -> Duration {
    let mut b = [0u8; 2];
    let _ = crate::crypto::fill_random(&mut b);
    let unit = f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX); // 0..=1
    mean.mul_f64(0.75 + unit * 0.5)
}

impl Actor for Janitor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_later(jittered(self.first), |act, ctx| {
            act.sweep(ctx);
            act.schedule(ctx);
        });
    }
}

impl Supervised for Janitor {}

impl Handler<Ping> for Janitor {
    type Result = ();

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {}
}

/// Runs one sweep now and waits for it (tests, and shutdown ordering).
#[derive(Message)]
#[rtype(result = "()")]
pub struct SweepNow;

impl Handler<SweepNow> for Janitor {
    type Result = ();

    fn handle(&mut self, _: SweepNow, ctx: &mut Context<Self>) {
        self.sweep(ctx);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn jitter_stays_within_a_quarter() {
        let mean = std::time::Duration::from_secs(100);
        for _ in 0..200 {
            let d = super::jittered(mean);
            assert!(d >= std::time::Duration::from_secs(75) && d <= std::time::Duration::from_secs(125), "{d:?}");
        }
    }
}
