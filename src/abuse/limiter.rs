//! In-process rate limiting with GCRA (the generic cell rate algorithm: a
//! token bucket kept as one timestamp per key), sharded by key hash so a
//! hot key locks one shard, not the limiter. Memory is bounded: a shard
//! that grows past its cap forgets keys whose bucket has refilled (they
//! are indistinguishable from new keys).

use crate::clock::Clock;
use std::collections::HashMap;
use std::hash::BuildHasher as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SHARDS: usize = 16;
/// 65,536 keys per limiter, about 100 bytes each: a few MB at most, however
/// many sources fail. Keys past it are the least limited (see `spend`).
const SHARD_CAP: usize = 4_096;

/// `burst` events at once, refilling at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

impl Rate {
    pub fn interval(&self) -> f64 {
        60.0 / f64::from(self.per_minute.max(1))
    }

    /// How far ahead of now the theoretical arrival time may run.
    pub fn tolerance(&self) -> f64 {
        self.interval() * f64::from(self.burst.max(1) - 1)
    }
}

/// The state of one key's budget, for the response headers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the next event is allowed (0 when one is now).
    pub retry_after: u64,
}

impl Budget {
    pub fn exhausted(&self) -> bool {
        self.retry_after > 0
    }
}

pub struct Limiter {
    rate: Rate,
    clock: Arc<dyn Clock>,
    epoch: Instant,
    shards: Vec<Mutex<HashMap<String, f64>>>,
    hasher: std::collections::hash_map::RandomState,
}

impl Limiter {
    pub fn new(rate: Rate, clock: Arc<dyn Clock>) -> Self {
        Self {
            rate,
            epoch: clock.instant(),
            clock,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: Default::default(),
        }
    }

    fn shard(&self, key: &str) -> &Mutex<HashMap<String, f64>> {
        &self.shards[(self.hasher.hash_one(key) as usize) % SHARDS]
    }

    fn now(&self) -> f64 {
        self.clock.instant().duration_since(self.epoch).as_secs_f64()
    }

    fn budget(&self, tat: f64, now: f64) -> Budget {
        let ahead = (tat - now).max(0.0);
        let tolerance = self.rate.tolerance();
        let interval = self.rate.interval();
        let retry_after = if ahead > tolerance { (ahead - tolerance).ceil() as u64 } else { 0 };
        let remaining = if ahead > tolerance { 0 } else { ((tolerance - ahead) / interval).floor() as u32 + 1 };
        Budget { limit: self.rate.burst, remaining: remaining.min(self.rate.burst), retry_after }
    }

    /// The budget without spending any of it.
    pub fn peek(&self, key: &str) -> Budget {
        let now = self.now();
        let tat = self.shard(key).lock().ok().and_then(|m| m.get(key).copied()).unwrap_or(now);
        self.budget(tat, now)
    }

    /// Spends one event (even past the limit: hammering keeps it closed).
    pub fn spend(&self, key: &str) -> Budget {
        let now = self.now();
        let interval = self.rate.interval();
        let Ok(mut m) = self.shard(key).lock() else { return self.budget(now, now) };
        if m.len() >= SHARD_CAP && !m.contains_key(key) {
            m.retain(|_, tat| *tat > now);
            if m.len() >= SHARD_CAP {
                // Everything is active: forget the least limited half.
                let mut tats: Vec<f64> = m.values().copied().collect();
                tats.sort_by(f64::total_cmp);
                let cut = tats[tats.len() / 2];
                m.retain(|_, tat| *tat > cut);
            }
        }
        let tat = m.get(key).copied().unwrap_or(now).max(now);
        // Cap how far ahead a key can be pushed: one full window past the limit.
        let next = (tat + interval).min(now + self.rate.tolerance() + 60.0);
        m.insert(key.to_owned(), next);
        self.budget(next, now)
    }

    /// Spends one event only if the budget allows it, atomically (a quota:
    /// refused events cost nothing).
    pub fn try_spend(&self, key: &str) -> Result<Budget, Budget> {
        let now = self.now();
        let Ok(mut m) = self.shard(key).lock() else { return Ok(self.budget(now, now)) };
        let tat = m.get(key).copied().unwrap_or(now).max(now);
        let current = self.budget(tat, now);
        if current.exhausted() {
            return Err(current);
        }
        if m.len() >= SHARD_CAP && !m.contains_key(key) {
            m.retain(|_, t| *t > now);
        }
        let next = tat + self.rate.interval();
        m.insert(key.to_owned(), next);
        Ok(self.budget(next, now))
    }

    /// Keys tracked (for tests and metrics).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().map_or(0, |m| m.len())).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How long until `budget` allows an event again, as a duration.
    pub fn retry_after(budget: &Budget) -> Duration {
        Duration::from_secs(budget.retry_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{FixedClock, SystemClock};

    #[test]
    fn a_burst_then_the_rate() {
        let l = Limiter::new(Rate { per_minute: 60, burst: 5 }, Arc::new(SystemClock));
        for i in 0..5 {
            assert!(!l.peek("k").exhausted(), "event {i}");
            let b = l.spend("k");
            assert_eq!(b.remaining, 4 - i);
        }
        let b = l.peek("k");
        assert!(b.exhausted());
        assert_eq!(b.retry_after, 1, "one per second refills");
        assert_eq!(b.remaining, 0);
        assert!(!l.peek("other").exhausted(), "keys are independent");
    }

    #[test]
    fn hammering_keeps_it_closed_but_not_forever() {
        let l = Limiter::new(Rate { per_minute: 6, burst: 2 }, Arc::new(SystemClock));
        for _ in 0..1000 {
            l.spend("k");
        }
        let b = l.peek("k");
        assert!(b.exhausted());
        assert!(b.retry_after <= 60 + 10, "bounded: {b:?}");
    }

    #[test]
    fn a_quota_refuses_without_spending() {
        let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
        let l = Limiter::new(Rate { per_minute: 60, burst: 2 }, clock.clone());
        assert_eq!(l.try_spend("c").unwrap().remaining, 1);
        assert_eq!(l.try_spend("c").unwrap().remaining, 0);
        for _ in 0..100 {
            assert!(l.try_spend("c").is_err());
        }
        // Refusals cost nothing: one second later exactly one more fits.
        clock.advance(chrono::Duration::milliseconds(1050));
        assert!(l.try_spend("c").is_ok());
        assert!(l.try_spend("c").is_err());
    }

    #[test]
    fn memory_stays_bounded() {
        let l = Limiter::new(Rate { per_minute: 1, burst: 1 }, Arc::new(SystemClock));
        for i in 0..(SHARDS * SHARD_CAP + 5000) {
            l.spend(&format!("key-{i}"));
        }
        assert!(l.len() <= SHARDS * SHARD_CAP);
    }
}
