//! Failure budgets shared by every instance through Redis: one atomic Lua
//! GCRA step per failure (both keys at once, on Redis's own clock), so N
//! instances give an attacker one budget, not N. Redis is called only on
//! the failure path; its verdicts ("blocked until") are mirrored in memory
//! for the checks, so successful traffic never waits for Redis. Calls are
//! bounded by a timeout and a circuit breaker; while Redis is unreachable
//! the local budgets (always kept) still apply, and under `fail_closed`
//! failed-authentication checks refuse outright.

use super::limiter::Rate;
use crate::clock::Clock;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CALL_TIMEOUT: Duration = Duration::from_millis(150);
const FAILURES_TO_OPEN: u32 = 3;
const OPEN_FOR: Duration = Duration::from_secs(5);

/// KEYS: the budgets to spend from; ARGV: interval and tolerance (ms) per
/// key. Returns how far ahead of now each key's theoretical arrival time
/// is after spending (ms). Capped like the local limiter.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  tat = math.min(tat + interval, now + tolerance + 60000)
  redis.call('SET', KEYS[i], tat, 'PX', tat - now + 1000)
  out[i] = tat - now
end
return out
";

/// What to do with failed-authentication checks while Redis is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisPolicy {
    /// Keep going on this instance's own budgets (the default).
    FailOpenLocal,
    /// Refuse (429) until Redis is back.
    FailClosed,
}

pub struct SharedBudgets {
    client: redis::Client,
    conn: tokio::sync::Mutex<Option<redis::aio::ConnectionManager>>,
    script: redis::Script,
    prefix: String,
    failures: AtomicU32,
    open_until: Mutex<Option<Instant>>,
    /// True until the first successful call, and while the breaker is open.
    degraded: AtomicBool,
    clock: Arc<dyn Clock>,
}

impl SharedBudgets {
    pub fn new(url: &str, prefix: &str, clock: Arc<dyn Clock>) -> Result<Self, redis::RedisError> {
        Ok(Self {
            client: redis::Client::open(url)?,
            conn: tokio::sync::Mutex::new(None),
            script: redis::Script::new(GCRA),
            prefix: prefix.to_owned(),
            failures: AtomicU32::new(0),
            open_until: Mutex::new(None),
            degraded: AtomicBool::new(true),
            clock,
        })
    }

    pub fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::Acquire)
    }

    /// Connects (or checks the connection) once; start-up and health use it.
    pub async fn probe(&self) {
        let ok = async {
            let mut conn = self.connection().await?;
            tokio::time::timeout(CALL_TIMEOUT, redis::cmd("PING").query_async::<String>(&mut conn)).await.ok()?.ok()
        }
        .await;
        match ok {
            Some(_) => self.succeeded(),
            None => self.failed("ping"),
        }
    }

    /// Spends one event from each key; `None` if Redis could not answer.
    pub async fn spend(&self, keys: &[(&str, Rate)]) -> Option<Vec<i64>> {
        if self.open_until.lock().ok().and_then(|o| *o).is_some_and(|until| self.clock.instant() < until) {
            return None;
        }
        let mut conn = match self.connection().await {
            Some(c) => c,
            None => {
                self.failed("connect");
                return None;
            }
        };
        let mut invocation = self.script.prepare_invoke();
        for (key, rate) in keys {
            invocation.key(format!("{}{key}", self.prefix));
            invocation.arg((rate.interval() * 1000.0).round() as i64).arg((rate.tolerance() * 1000.0).round() as i64);
        }
        match tokio::time::timeout(CALL_TIMEOUT, invocation.invoke_async::<Vec<i64>>(&mut conn)).await {
            Ok(Ok(ahead)) if ahead.len() == keys.len() => {
                self.succeeded();
                Some(ahead)
            }
            Ok(Ok(_)) => {
                self.failed("unexpected reply");
                None
            }
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "rate limiter: Redis call failed");
                self.failed("error");
                None
            }
            Err(_) => {
                self.failed("timeout");
                None
            }
        }
    }

    async fn connection(&self) -> Option<redis::aio::ConnectionManager> {
        let mut guard = self.conn.lock().await;
        if let Some(c) = guard.as_ref() {
            return Some(c.clone());
        }
        let made = tokio::time::timeout(CALL_TIMEOUT * 2, self.client.get_connection_manager()).await.ok()?.ok()?;
        *guard = Some(made.clone());
        Some(made)
    }

    fn succeeded(&self) {
        self.failures.store(0, Ordering::Release);
        if self.degraded.swap(false, Ordering::AcqRel) {
            tracing::info!("rate limiter: Redis reachable; failure budgets are shared across instances");
        }
    }

    fn failed(&self, what: &'static str) {
        let n = self.failures.fetch_add(1, Ordering::AcqRel) + 1;
        if n >= FAILURES_TO_OPEN {
            if let Ok(mut o) = self.open_until.lock() {
                *o = Some(self.clock.instant() + OPEN_FOR);
            }
            if !self.degraded.swap(true, Ordering::AcqRel) {
                // Once per transition, not per failure.
                tracing::warn!(cause = what, "rate limiter: Redis unreachable; using this instance's budgets");
            }
        }
    }
}
