//! Per-account lockout with exponential backoff: after `threshold` failed
//! logins within the window, from any mix of addresses, the account is
//! locked for `base`, then twice that after the next lockout, up to `max`.
//! It unlocks by itself; an administrator can unlock it earlier. A locked
//! account answers exactly like a wrong password.

use crate::store::StoreError;
use crate::store::lockouts::{self as repo, Budget, Counter};
use chrono::{DateTime, Duration, Utc};
pub use entity::account_lockouts::Model as Lockout;
use sea_orm::DatabaseConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures that lock; 0 turns lockout off.
    pub threshold: u32,
    /// Failures older than this no longer count.
    pub window: Duration,
    pub base: Duration,
    pub max: Duration,
}

impl LockoutPolicy {
    /// How long the `n`-th lockout (1-based) lasts.
    pub fn backoff(&self, n: u32) -> Duration {
        let factor = 1i64.checked_shl(n.saturating_sub(1).min(30)).unwrap_or(i64::MAX);
        let secs = self.base.num_seconds().saturating_mul(factor);
        Duration::seconds(secs.min(self.max.num_seconds()))
    }

    /// One more failure on a budget in state `old`: the next state, and the
    /// lock's end when this failure locks. Failures older than the window
    /// are forgotten first; reaching the threshold locks for the next
    /// backoff and starts counting afresh.
    pub fn next(&self, old: Option<&Counter>, now: DateTime<Utc>) -> (Counter, Option<DateTime<Utc>>) {
        let mut r = old.cloned().unwrap_or(Counter { failures: 0, window_start: now, lockouts: 0, locked_until: None });
        if now - r.window_start > self.window {
            r.failures = 0;
            r.window_start = now;
        }
        r.failures = r.failures.saturating_add(1);
        if u32::try_from(r.failures).unwrap_or(u32::MAX) < self.threshold {
            return (r, None);
        }
        r.lockouts = r.lockouts.saturating_add(1);
        let until = now + self.backoff(u32::try_from(r.lockouts).unwrap_or(u32::MAX));
        r.locked_until = Some(until);
        r.failures = 0;
        r.window_start = now;
        (r, Some(until))
    }
}

/// Counts a failure; returns the lock's end when this failure locked the
/// budget. Each write is conditional on the state it read and retried if
/// another failure got there first, so parallel guesses all count.
pub async fn record_failure(
    db: &DatabaseConnection,
    budget: Budget<'_>,
    now: DateTime<Utc>,
    policy: &LockoutPolicy,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    if policy.threshold == 0 {
        return Ok(None);
    }
    for _ in 0..8 {
        let old = repo::read(db, budget).await?;
        let (new, locked) = policy.next(old.as_ref(), now);
        if repo::write_if_unchanged(db, budget, old.as_ref(), &new, now).await? {
            return Ok(locked);
        }
    }
    tracing::warn!("failed login not counted toward lockout: too much contention");
    Ok(None)
}

/// Whether the `budget` is locked now.
pub async fn is_locked(db: &DatabaseConnection, budget: Budget<'_>, now: DateTime<Utc>) -> Result<bool, StoreError> {
    Ok(repo::locked_until(db, budget, now).await?.is_some())
}

/// The accounts locked now, with their usernames (the admin API's list).
pub async fn current(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Vec<(Lockout, String)>, StoreError> {
    repo::current(db, now).await
}

/// An administrator's unlock: forgets the account's failures and locks on
/// every device; `true` if it was locked.
pub async fn unlock(db: &DatabaseConnection, user_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    repo::clear(db, user_id, now).await
}

/// Told about every lockout; a log line today, email or a webhook later.
pub trait LockoutNotifier: Send + Sync {
    fn locked(&self, user_id: &str, username: &str, until: DateTime<Utc>);
}

/// Writes a warning line (the username, never anything the person typed).
pub struct LogNotifier;

impl LockoutNotifier for LogNotifier {
    fn locked(&self, user_id: &str, username: &str, until: DateTime<Utc>) {
        tracing::warn!(user_id, username, until = %until.to_rfc3339(), "account locked after repeated failed logins");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LockoutPolicy {
        LockoutPolicy {
            threshold: 3,
            window: Duration::minutes(15),
            base: Duration::seconds(60),
            max: Duration::seconds(3600),
        }
    }

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn failures_below_the_threshold_only_count() {
        let (c, locked) = policy().next(None, t(0));
        assert_eq!((c.failures, c.lockouts, c.window_start, locked), (1, 0, t(0), None));
        let (c, locked) = policy().next(Some(&c), t(10));
        assert_eq!((c.failures, c.window_start, locked), (2, t(0), None));
    }

    #[test]
    fn the_threshold_locks_for_the_backoff_and_restarts_the_count() {
        let mut c = None;
        let mut locks = Vec::new();
        for i in 0..6 {
            let (next, locked) = policy().next(c.as_ref(), t(i));
            locks.push(locked);
            c = Some(next);
        }
        assert_eq!(locks, [None, None, Some(t(2 + 60)), None, None, Some(t(5 + 120))]);
        let c = c.unwrap();
        assert_eq!((c.failures, c.lockouts, c.locked_until), (0, 2, Some(t(125))));
    }

    #[test]
    fn failures_older_than_the_window_are_forgotten() {
        let (c, _) = policy().next(None, t(0));
        let (c, _) = policy().next(Some(&c), t(1));
        let (c, locked) = policy().next(Some(&c), t(1 + 15 * 60 + 1));
        assert_eq!((c.failures, c.window_start, locked), (1, t(15 * 60 + 2), None));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = LockoutPolicy { threshold: 10, ..policy() };
        let secs: Vec<i64> = (1..=8).map(|n| p.backoff(n).num_seconds()).collect();
        assert_eq!(secs, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(p.backoff(u32::MAX).num_seconds(), 3600);
    }
}
