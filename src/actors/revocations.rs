//! The `RevocationWatcher` actor: every `cache_refresh_secs` it merges the
//! revocations other instances recorded into this instance's in-memory
//! [`RevocationList`] and forgets those of expired tokens. It re-reads a
//! minute before its last poll, so a writer whose clock lags ours by up to
//! that much is not missed (the same leeway `iat` gets).

use super::Ping;
use crate::clock::Clock;
use crate::oauth::revocation_list::RevocationList;
use crate::store::{Db, revocations};
use actix::prelude::*;
use chrono::{DateTime, Utc};
use futures_util::FutureExt as _;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

const CLOCK_SKEW: chrono::Duration = chrono::Duration::seconds(60);

pub struct RevocationWatcher {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub list: Arc<RevocationList>,
    pub every: Duration,
    /// When the last successful poll started.
    pub polled_at: DateTime<Utc>,
}

impl RevocationWatcher {
    fn poll(&mut self, ctx: &mut Context<Self>) {
        let db = self.db.clone();
        let now = self.clock.now();
        let since = self.polled_at - CLOCK_SKEW;
        let work = async move { revocations::revoked_since(&db, Some(since), now).await };
        ctx.wait(AssertUnwindSafe(work).catch_unwind().into_actor(self).map(move |res, act, _| match res {
            Ok(Ok(rows)) => {
                act.list.merge(rows, now.timestamp());
                act.polled_at = now;
            }
            // The list stays as it was; the next poll reads from the same
            // point, so nothing is lost.
            Ok(Err(e)) => tracing::warn!(error = %e, "revocation poll failed; will retry"),
            Err(_) => tracing::error!("revocation poll panicked; will retry"),
        }));
    }
}

impl Actor for RevocationWatcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(self.every, |act, ctx| act.poll(ctx));
    }
}

impl Supervised for RevocationWatcher {
    fn restarting(&mut self, _: &mut Context<Self>) {
        tracing::warn!("revocation watcher restarting");
    }
}

impl Handler<Ping> for RevocationWatcher {
    type Result = ();

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {}
}
