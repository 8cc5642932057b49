//! The `AuditLog` actor: request paths hand it events; it batches them into
//! the append-only `audit_events` table, in one order (the hash chain's). A
//! failed write keeps the batch for the next tick, so a database blip loses
//! nothing. An admin API change awaits its event's commit
//! ([`AuditHandle::record_durable`]): a group commit, flushed as soon as
//! the mailbox is empty, so concurrent changes share one write and a
//! kill -9 cannot lose the event of an acknowledged change. (SCIM writes,
//! where throughput matters, append their events inside the change's own
//! transaction instead: `store::audit::append_in`.) Other events are
//! fire-and-forget, flushed every 250 ms. Machine tokens
//! are tallied instead (see [`MachineTally`]) and written as one event per
//! client per minute.

use super::{Ping, contain_panic};
use crate::audit::{AuditEvent, Masking};
use crate::clock::Clock;
use crate::store::audit as repo;
use crate::store::{Db, StoreError};
use actix::prelude::*;
use futures_util::FutureExt as _;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

const FLUSH_EVERY: Duration = Duration::from_millis(250);
const MAX_BATCH: usize = 256;
/// Beyond this many unwritten events (database down for long), the oldest
/// are dropped with an error log rather than growing without bound.
const MAX_BUFFERED: usize = 100_000;

/// `client_credentials` tokens issued per client since the last tally.
/// Counted, not written one by one: an event per token would cost the
/// token path a message and a row each, and tell nothing a count does not.
#[derive(Debug, Default)]
pub struct MachineTally(Mutex<HashMap<String, u64>>);

impl MachineTally {
    pub fn count(&self, client_id: &str) {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match counts.get_mut(client_id) {
            Some(n) => *n += 1,
            None => {
                counts.insert(client_id.to_owned(), 1);
            }
        }
    }

    fn take(&self) -> HashMap<String, u64> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// What went wrong writing the audit log, for `/metrics`: a failing write
/// is retried and loses nothing until the buffer overflows.
#[derive(Debug, Default)]
pub struct AuditStats {
    pub write_failures: AtomicU64,
    pub dropped_events: AtomicU64,
}

/// Told when an event is written (or that it could not be).
type Waiter = tokio::sync::oneshot::Sender<()>;

pub struct AuditLog {
    db: Db,
    buffer: Vec<AuditEvent>,
    /// Parallel to `buffer`: who awaits each event's commit.
    waiters: Vec<Option<Waiter>>,
    /// A `FlushNow` is in the mailbox.
    flush_queued: bool,
    masking: Masking,
    tally: Arc<MachineTally>,
    stats: Arc<AuditStats>,
    clock: Arc<dyn Clock>,
    tally_every: Duration,
    /// Start of the period the tally counts.
    tally_since: chrono::DateTime<chrono::Utc>,
}

impl AuditLog {
    pub fn new(
        db: Db,
        masking: Masking,
        tally: Arc<MachineTally>,
        stats: Arc<AuditStats>,
        clock: Arc<dyn Clock>,
        tally_every: Duration,
    ) -> Self {
        let tally_since = clock.now();
        Self {
            db,
            buffer: Vec::new(),
            waiters: Vec::new(),
            flush_queued: false,
            masking,
            tally,
            stats,
            clock,
            tally_every,
            tally_since,
        }
    }

    /// Turns the tally into one event per client (sorted, so the chain's
    /// order does not depend on a hash map's).
    fn record_tally(&mut self) {
        let mut counts: Vec<(String, u64)> = self.tally.take().into_iter().collect();
        counts.sort();
        let now = self.clock.now();
        let since = std::mem::replace(&mut self.tally_since, now);
        for (client_id, n) in counts {
            let mut ev = AuditEvent::new(
                now,
                format!("client:{client_id}"),
                "oauth.machine_tokens_issued",
                Some(client_id.clone()),
            );
            ev.reason = Some(format!(
                "grant=client_credentials; count={n}; from={}; to={}",
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ));
            let ev = self.masking.apply(ev);
            self.push(ev, None);
        }
    }

    fn push(&mut self, event: AuditEvent, waiter: Option<Waiter>) {
        self.buffer.push(event);
        self.waiters.push(waiter);
    }

    /// Writes one batch while holding the mailbox (`ctx.wait`), so events
    /// are written in order and `Drain` runs after any flush in progress.
    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.buffer.is_empty() {
            return;
        }
        let n = self.buffer.len().min(MAX_BATCH);
        let batch: Vec<AuditEvent> = self.buffer.drain(..n).collect();
        let waiters: Vec<Option<Waiter>> = self.waiters.drain(..n.min(self.waiters.len())).collect();
        let db = self.db.clone();
        let retry = batch.clone();
        let write = AssertUnwindSafe(async move { repo::append(&db, batch).await }).catch_unwind();
        ctx.wait(write.into_actor(self).map(move |res, act, ctx| {
            match res {
                Ok(Ok(())) => {
                    for w in waiters.into_iter().flatten() {
                        let _ = w.send(());
                    }
                    // More durable events came in while this batch was
                    // written. (After a failure the tick retries: no tight
                    // loop against a failing database.)
                    if act.waiters.iter().any(Option::is_some) {
                        act.queue_flush(ctx);
                    }
                }
                Ok(Err(e)) => {
                    act.stats.write_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %e, events = retry.len(), "audit write failed; will retry");
                    act.requeue(retry, waiters);
                }
                Err(_) => {
                    act.stats.write_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(events = retry.len(), "audit write panicked; will retry");
                    act.requeue(retry, waiters);
                }
            }
        }));
    }

    /// Flushes once the events already in the mailbox are buffered: they
    /// all share the write (group commit).
    fn queue_flush(&mut self, ctx: &mut Context<Self>) {
        if !self.flush_queued {
            self.flush_queued = true;
            ctx.notify(FlushNow);
        }
    }

    fn requeue(&mut self, mut batch: Vec<AuditEvent>, mut waiters: Vec<Option<Waiter>>) {
        batch.append(&mut self.buffer);
        waiters.append(&mut self.waiters);
        if batch.len() > MAX_BUFFERED {
            let dropped = batch.len() - MAX_BUFFERED;
            self.stats.dropped_events.fetch_add(dropped as u64, Ordering::Relaxed);
            tracing::error!(dropped, "audit buffer full; dropping the oldest unwritten events");
            batch.drain(..dropped);
            // Dropping a sender tells its waiter the event is lost.
            waiters.drain(..dropped.min(waiters.len()));
        }
        self.buffer = batch;
        self.waiters = waiters;
    }
}

impl Actor for AuditLog {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(FLUSH_EVERY, |act, ctx| act.flush(ctx));
        ctx.run_interval(self.tally_every, |act, _| act.record_tally());
    }
}

impl Supervised for AuditLog {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // The buffer survives a restart: losing audit events is worse than
        // replaying the batch that may have caused the panic.
        tracing::warn!(buffered = self.buffer.len(), "audit log actor restarting");
    }
}

/// Records one event.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Record(pub AuditEvent);

impl Handler<Record> for AuditLog {
    type Result = ();

    fn handle(&mut self, msg: Record, ctx: &mut Context<Self>) {
        let event = self.masking.apply(msg.0);
        contain_panic(ctx, "audit_log", || self.push(event, None));
        if self.buffer.len() >= MAX_BATCH {
            self.flush(ctx);
        }
    }
}

/// Records one event and tells the waiter once it is committed; a dropped
/// sender means it could not be (the buffer overflowed during an outage).
#[derive(Message)]
#[rtype(result = "()")]
pub struct RecordDurable(pub AuditEvent, pub Waiter);

impl Handler<RecordDurable> for AuditLog {
    type Result = ();

    fn handle(&mut self, msg: RecordDurable, ctx: &mut Context<Self>) {
        let event = self.masking.apply(msg.0);
        self.push(event, Some(msg.1));
        if self.buffer.len() >= MAX_BATCH {
            self.flush(ctx);
        } else {
            self.queue_flush(ctx);
        }
    }
}

/// Sent by the actor to itself: flush now that the mailbox is drained.
#[derive(Message)]
#[rtype(result = "()")]
struct FlushNow;

impl Handler<FlushNow> for AuditLog {
    type Result = ();

    fn handle(&mut self, _: FlushNow, ctx: &mut Context<Self>) {
        self.flush_queued = false;
        self.flush(ctx);
    }
}

/// Writes everything buffered; sent at shutdown.
#[derive(Message)]
#[rtype(result = "Result<(), StoreError>")]
pub struct Drain;

impl Handler<Drain> for AuditLog {
    type Result = AtomicResponse<Self, Result<(), StoreError>>;

    fn handle(&mut self, _: Drain, _: &mut Context<Self>) -> Self::Result {
        self.record_tally();
        let batch = std::mem::take(&mut self.buffer);
        let waiters = std::mem::take(&mut self.waiters);
        let db = self.db.clone();
        AtomicResponse::new(Box::pin(
            async move {
                let written = repo::append(&db, batch).await;
                if written.is_ok() {
                    for w in waiters.into_iter().flatten() {
                        let _ = w.send(());
                    }
                }
                written
            }
            .into_actor(self),
        ))
    }
}

impl Handler<Ping> for AuditLog {
    type Result = ();

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {}
}

/// An acknowledged change's audit event could not be committed in time.
#[derive(Debug, thiserror::Error)]
#[error("the audit event could not be written")]
pub struct AuditNotDurable;

/// What handlers hold: record without waiting, or wait for the commit.
#[derive(Clone)]
pub struct AuditHandle {
    pub addr: Addr<AuditLog>,
    pub tally: Arc<MachineTally>,
    pub stats: Arc<AuditStats>,
}

impl AuditHandle {
    /// Fire-and-forget: never blocks or fails the request being audited.
    pub fn record(&self, event: AuditEvent) {
        self.addr.do_send(Record(event));
    }

    /// Records an event and waits until it is committed, for a change about
    /// to be acknowledged. `Err` when it is not durable within `within`
    /// (the database is failing): the caller must not report success.
    pub async fn record_durable(&self, event: AuditEvent, within: Duration) -> Result<(), AuditNotDurable> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        // `send` waits for room in the mailbox (backpressure under load),
        // where `try_send` would fail a change just because others queue.
        let committed = async {
            self.addr.send(RecordDurable(event, tx)).await.map_err(|_| AuditNotDurable)?;
            rx.await.map_err(|_| AuditNotDurable)
        };
        tokio::time::timeout(within, committed).await.map_err(|_| AuditNotDurable)?
    }

    pub async fn drain(&self) -> Result<(), StoreError> {
        self.addr
            .send(Drain)
            .await
            .map_err(|_| StoreError::Db(sea_orm::DbErr::Custom("audit log actor is gone".into())))?
    }
}
