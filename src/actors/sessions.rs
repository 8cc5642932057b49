//! The `SessionManager` actor: owns browser login sessions. Sessions are
//! durable rows (they survive restarts and are shared by instances); the
//! actor keeps the ones in use cached for `cache_refresh_secs`, applies the
//! idle and absolute timeouts, and records activity at most once a minute
//! per session rather than on every request. A session ended on another
//! instance is honoured here within `cache_refresh_secs`.

use super::Ping;
use crate::clock::Clock;
use crate::store::sessions::{self as store, SessionSelector};
use crate::store::{Db, StoreError};
use actix::prelude::*;
use chrono::Duration as ChronoDuration;
pub use entity::sessions::Model as Session;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most sessions kept in memory (about 1 KB each). An entry is trusted for
/// `refresh` only, so this is the number of browsers active within that
/// time; past it, stale entries go first, then the whole cache (rows stay).
const MAX_CACHED: usize = 16_384;

pub struct SessionManager {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    /// How long a cached session is trusted before it is re-read.
    pub refresh: Duration,
    /// A session unused for this long has ended.
    pub idle: ChronoDuration,
    cache: HashMap<String, (Session, Instant)>,
}

impl SessionManager {
    pub fn new(db: Db, clock: Arc<dyn Clock>, refresh: Duration, idle: ChronoDuration) -> Self {
        Self { db, clock, refresh, idle, cache: HashMap::new() }
    }

    /// Caches `s` as read at `at`, within `MAX_CACHED`.
    fn remember(&mut self, s: Session, at: Instant) {
        if self.cache.len() >= MAX_CACHED && !self.cache.contains_key(&s.id) {
            let (refresh, now) = (self.refresh, self.clock.instant());
            self.cache.retain(|_, (_, read)| now.duration_since(*read) < refresh);
            if self.cache.len() >= MAX_CACHED {
                self.cache.clear();
            }
        }
        self.cache.insert(s.id.clone(), (s, at));
    }
}

impl Actor for SessionManager {
    type Context = Context<Self>;
}

impl Supervised for SessionManager {
    fn restarting(&mut self, _: &mut Context<Self>) {
        tracing::warn!("session manager restarting");
        self.cache.clear();
    }
}

impl Handler<Ping> for SessionManager {
    type Result = ();

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {}
}

/// The live session whose cookie hashes to `id_hash`, if any.
#[derive(Message)]
#[rtype(result = "Result<Option<Session>, StoreError>")]
pub struct Lookup {
    pub id_hash: String,
}

/// Stores a new session (after a successful login).
#[derive(Message)]
#[rtype(result = "Result<(), StoreError>")]
pub struct Create(pub Session);

/// Ends one or all of a user's sessions; answers the public sids ended.
#[derive(Message)]
#[rtype(result = "Result<Vec<String>, StoreError>")]
pub struct End {
    pub user_id: String,
    pub which: Which,
}

#[derive(Debug, Clone)]
pub enum Which {
    IdHash(String),
    Sid(String),
    All,
}

impl Handler<Lookup> for SessionManager {
    type Result = ResponseActFuture<Self, Result<Option<Session>, StoreError>>;

    fn handle(&mut self, msg: Lookup, _: &mut Context<Self>) -> Self::Result {
        let now = self.clock.now();
        let instant = self.clock.instant();
        let cached = self
            .cache
            .get(&msg.id_hash)
            .filter(|(_, at)| instant.duration_since(*at) < self.refresh)
            .map(|(s, _)| s.clone());
        let db = self.db.clone();
        let id_hash = msg.id_hash;
        Box::pin(
            async move {
                match cached {
                    Some(s) => Ok((Some(s), false)),
                    None => store::find_session(&db, &id_hash, now).await.map(|s| (s, true)),
                }
            }
            .into_actor(self)
            .map(move |res, act, ctx| {
                let (found, fresh) = res?;
                let Some(mut s) = found else { return Ok(None) };
                if s.ended_at.is_some() || s.expires_at <= now || now - s.last_seen_at > act.idle {
                    act.cache.remove(&s.id);
                    if s.ended_at.is_none() {
                        // Idle: end it for every instance.
                        let db = act.db.clone();
                        let (user, id) = (s.user_id.clone(), s.id.clone());
                        ctx.spawn(
                            async move {
                                if let Err(e) = store::end_sessions(&db, &user, SessionSelector::IdHash(&id), now).await
                                {
                                    tracing::warn!(error = %e, "could not end an idle session");
                                }
                            }
                            .into_actor(act),
                        );
                    }
                    return Ok(None);
                }
                if now - s.last_seen_at > ChronoDuration::minutes(1) {
                    s.last_seen_at = now;
                    let db = act.db.clone();
                    let id = s.id.clone();
                    ctx.spawn(
                        async move {
                            if let Err(e) = store::touch_session(&db, &id, now).await {
                                tracing::warn!(error = %e, "could not record session activity");
                            }
                        }
                        .into_actor(act),
                    );
                }
                let at = if fresh { act.clock.instant() } else { act.cache.get(&s.id).map_or(instant, |(_, at)| *at) };
                act.remember(s.clone(), at);
                Ok(Some(s))
            }),
        )
    }
}

impl Handler<Create> for SessionManager {
    type Result = ResponseActFuture<Self, Result<(), StoreError>>;

    fn handle(&mut self, msg: Create, _: &mut Context<Self>) -> Self::Result {
        let db = self.db.clone();
        let row = msg.0;
        let cached = row.clone();
        Box::pin(async move { store::insert_session(&db, row).await }.into_actor(self).map(move |res, act, _| {
            res?;
            let at = act.clock.instant();
            act.remember(cached, at);
            Ok(())
        }))
    }
}

impl crate::accounts::users::SessionCache for Addr<SessionManager> {
    /// Queued ahead of any later lookup, so none of them sees the sessions.
    fn forget_user(&self, user_id: &str) {
        self.do_send(End { user_id: user_id.to_owned(), which: Which::All });
    }
}

impl Handler<End> for SessionManager {
    type Result = ResponseActFuture<Self, Result<Vec<String>, StoreError>>;

    fn handle(&mut self, msg: End, _: &mut Context<Self>) -> Self::Result {
        let db = self.db.clone();
        let now = self.clock.now();
        let user = msg.user_id.clone();
        // Out of the cache at once, so a lookup queued behind this message
        // cannot be served the session; and again once the store has ended
        // it, in case a lookup read it back meanwhile. `All` also covers
        // sessions ended in the store directly (deactivation, SCIM), which
        // the store's answer does not list.
        let forget = move |cache: &mut HashMap<String, (Session, Instant)>, which: &Which, ended: &[String]| {
            cache.retain(|key, (s, _)| {
                let named = match which {
                    Which::IdHash(h) => key == h,
                    Which::Sid(sid) => &s.sid == sid,
                    Which::All => true,
                };
                !(s.user_id == user && (named || ended.contains(&s.sid)))
            })
        };
        forget(&mut self.cache, &msg.which, &[]);
        Box::pin(
            async move {
                let which = match &msg.which {
                    Which::IdHash(h) => SessionSelector::IdHash(h),
                    Which::Sid(s) => SessionSelector::Sid(s),
                    Which::All => SessionSelector::All,
                };
                store::end_sessions(&db, &msg.user_id, which, now).await.map(|ended| (ended, msg.which))
            }
            .into_actor(self)
            .map(move |res, act, _| {
                let (ended, which) = res?;
                forget(&mut act.cache, &which, &ended);
                Ok(ended)
            }),
        )
    }
}
