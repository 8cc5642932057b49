//! Abuse protection. So far: budgets for failed authentication (client
//! credentials at the token, introspection and revocation endpoints; the
//! admin token), counted per source IP and per (IP, claimed identity).
//! Successful requests spend nothing, so legitimate load never meets them.

pub mod limiter;
pub mod shared;

use limiter::{Budget, Limiter, Rate};
use shared::{RedisPolicy, SharedBudgets};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::clock::Clock;

/// Longest identity (client id, username) put into a key: callers choose it.
const MAX_IDENTITY: usize = 128;
/// Bounds the mirror of Redis verdicts.
const MAX_VERDICTS: usize = 65_536;

/// Where a failure happened; each class has its own budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    ClientAuth,
    AdminAuth,
    ScimAuth,
    Login,
    /// Wrong TOTP or recovery codes after a correct password.
    SecondFactor,
    /// Passwordless sign-ins started: each stores a ceremony before anyone
    /// is known, so each spends budget (success or not).
    PasskeyStart,
}

impl FailureClass {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::ClientAuth => "client_auth",
            FailureClass::AdminAuth => "admin_auth",
            FailureClass::ScimAuth => "scim_auth",
            FailureClass::Login => "login",
            FailureClass::SecondFactor => "second_factor",
            FailureClass::PasskeyStart => "passkey_start",
        }
    }
}

/// Failure budgets: `per_minute` per (IP, identity) and five times that per
/// IP. Not per identity alone: anyone could then lock a client out by
/// failing in its name. Each instance always keeps its own budgets; with
/// Redis configured the budgets are also shared by every instance.
pub struct FailureLimits {
    rates: Option<(Rate, Rate)>,
    per_identity: Option<Limiter>,
    per_ip: Option<Limiter>,
    shared: Option<Arc<SharedBudgets>>,
    policy: RedisPolicy,
    /// Keys the shared budget found exhausted, and until when.
    verdicts: Mutex<HashMap<String, Instant>>,
    clock: Arc<dyn Clock>,
}

impl FailureLimits {
    /// `per_minute == 0` turns the limits off.
    pub fn new(per_minute: u32, clock: Arc<dyn Clock>) -> Self {
        if per_minute == 0 {
            return Self {
                rates: None,
                per_identity: None,
                per_ip: None,
                shared: None,
                policy: RedisPolicy::FailOpenLocal,
                verdicts: Mutex::default(),
                clock,
            };
        }
        let ip_rate = per_minute.saturating_mul(5);
        let rates = (Rate { per_minute, burst: per_minute }, Rate { per_minute: ip_rate, burst: ip_rate });
        Self {
            rates: Some(rates),
            per_identity: Some(Limiter::new(rates.0, clock.clone())),
            per_ip: Some(Limiter::new(rates.1, clock.clone())),
            shared: None,
            policy: RedisPolicy::FailOpenLocal,
            verdicts: Mutex::default(),
            clock,
        }
    }

    /// Shares the budgets through Redis (ignored when limits are off). Every
    /// budget of an instance uses one link, so the link's health, probed on
    /// a schedule, is the health of them all.
    pub fn with_shared(mut self, shared: Arc<SharedBudgets>, policy: RedisPolicy) -> Self {
        if self.rates.is_some() {
            self.shared = Some(shared);
            self.policy = policy;
        }
        self
    }

    fn keys(class: FailureClass, ip: &str, identity: &str) -> (String, String) {
        let c = class.as_str();
        let identity: String = identity.chars().take(MAX_IDENTITY).collect();
        (format!("{c}|{ip}|{identity}"), format!("{c}|{ip}"))
    }

    /// The exhausted budget if this source may not try again yet.
    pub fn blocked(&self, class: FailureClass, ip: &str, identity: &str) -> Option<Budget> {
        let (rate, _) = self.rates?;
        let (id_key, ip_key) = Self::keys(class, ip, identity);
        let id = self.per_identity.as_ref().map(|l| l.peek(&id_key)).filter(Budget::exhausted);
        let ip = self.per_ip.as_ref().map(|l| l.peek(&ip_key)).filter(Budget::exhausted);
        let local = match (id, ip) {
            (Some(a), Some(b)) => Some(if a.retry_after >= b.retry_after { a } else { b }),
            (a, b) => a.or(b),
        };
        if local.is_some() {
            return local;
        }
        let shared = self.shared.as_ref()?;
        if shared.is_degraded() && self.policy == RedisPolicy::FailClosed {
            return Some(Budget { limit: rate.burst, remaining: 0, retry_after: 5 });
        }
        let now = self.clock.instant();
        let verdicts = self.verdicts.lock().ok()?;
        let until = [&id_key, &ip_key].iter().filter_map(|k| verdicts.get(k.as_str())).filter(|u| **u > now).max()?;
        let retry_after = until.duration_since(now).as_secs().max(1);
        Some(Budget { limit: rate.burst, remaining: 0, retry_after })
    }

    pub async fn record_failure(&self, class: FailureClass, ip: &str, identity: &str) {
        let Some((id_rate, ip_rate)) = self.rates else { return };
        let (id_key, ip_key) = Self::keys(class, ip, identity);
        if let Some(l) = &self.per_identity {
            l.spend(&id_key);
        }
        if let Some(l) = &self.per_ip {
            l.spend(&ip_key);
        }
        let Some(shared) = &self.shared else { return };
        let Some(ahead) = shared.spend(&[(&id_key, id_rate), (&ip_key, ip_rate)]).await else { return };
        let now = self.clock.instant();
        let Ok(mut verdicts) = self.verdicts.lock() else { return };
        if verdicts.len() >= MAX_VERDICTS {
            verdicts.retain(|_, until| *until > now);
        }
        for ((key, rate), ahead_ms) in [(id_key, id_rate), (ip_key, ip_rate)].into_iter().zip(ahead) {
            let over_ms = ahead_ms as f64 - rate.tolerance() * 1000.0;
            if over_ms > 0.0 && verdicts.len() < MAX_VERDICTS {
                verdicts.insert(key, now + std::time::Duration::from_millis(over_ms.ceil() as u64));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_and_ips_have_separate_budgets() {
        let f = FailureLimits::new(2, Arc::new(crate::clock::SystemClock));
        let c = FailureClass::ClientAuth;
        futures_util::FutureExt::now_or_never(f.record_failure(c, "10.0.0.1", "a")).unwrap();
        assert!(f.blocked(c, "10.0.0.1", "a").is_none());
        futures_util::FutureExt::now_or_never(f.record_failure(c, "10.0.0.1", "a")).unwrap();
        assert!(f.blocked(c, "10.0.0.1", "a").is_some());
        assert!(f.blocked(c, "10.0.0.1", "b").is_none(), "another client from the same IP");
        assert!(f.blocked(c, "10.0.0.2", "a").is_none(), "the same client from elsewhere");
        assert!(f.blocked(FailureClass::AdminAuth, "10.0.0.1", "a").is_none(), "classes are separate");
        for id in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            futures_util::FutureExt::now_or_never(f.record_failure(c, "10.0.0.1", id)).unwrap();
        }
        assert!(f.blocked(c, "10.0.0.1", "z").is_some(), "the IP as a whole ran out");
        assert!(FailureLimits::new(0, Arc::new(crate::clock::SystemClock)).blocked(c, "x", "y").is_none());
    }
}
