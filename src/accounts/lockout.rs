//! Per-account lockout with exponential backoff: after `threshold` failed
//! logins within the window, from any mix of addresses, the account is
//! locked for `base`, then twice that after the next lockout, up to `max`.
//! It unlocks by itself; an administrator can unlock it earlier. A locked
//! account answers exactly like a wrong password.

use chrono::{DateTime, Duration, Utc};

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

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = LockoutPolicy {
            threshold: 10,
            window: Duration::minutes(15),
            base: Duration::seconds(60),
            max: Duration::seconds(3600),
        };
        let secs: Vec<i64> = (1..=8).map(|n| p.backoff(n).num_seconds()).collect();
        assert_eq!(secs, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(p.backoff(u32::MAX).num_seconds(), 3600);
    }
}
