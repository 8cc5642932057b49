//! Abuse protection. So far: budgets for failed authentication (client
//! credentials at the token, introspection and revocation endpoints; the
//! admin token), counted per source IP and per (IP, claimed identity).
//! Successful requests spend nothing, so legitimate load never meets them.

pub mod limiter;

use limiter::{Budget, Limiter, Rate};

/// Where a failure happened; each class has its own budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    ClientAuth,
    AdminAuth,
}

impl FailureClass {
    fn as_str(self) -> &'static str {
        match self {
            FailureClass::ClientAuth => "client_auth",
            FailureClass::AdminAuth => "admin_auth",
        }
    }
}

/// Failure budgets: `per_minute` per (IP, identity) and five times that per
/// IP. Not per identity alone: anyone could then lock a client out by
/// failing in its name.
pub struct FailureLimits {
    per_identity: Option<Limiter>,
    per_ip: Option<Limiter>,
}

impl FailureLimits {
    /// `per_minute == 0` turns the limits off.
    pub fn new(per_minute: u32) -> Self {
        if per_minute == 0 {
            return Self { per_identity: None, per_ip: None };
        }
        let ip_rate = per_minute.saturating_mul(5);
        Self {
            per_identity: Some(Limiter::new(Rate { per_minute, burst: per_minute })),
            per_ip: Some(Limiter::new(Rate { per_minute: ip_rate, burst: ip_rate })),
        }
    }

    fn keys(class: FailureClass, ip: &str, identity: &str) -> (String, String) {
        let c = class.as_str();
        (format!("{c}|{ip}|{identity}"), format!("{c}|{ip}"))
    }

    /// The exhausted budget if this source may not try again yet.
    pub fn blocked(&self, class: FailureClass, ip: &str, identity: &str) -> Option<Budget> {
        let (id_key, ip_key) = Self::keys(class, ip, identity);
        let id = self.per_identity.as_ref().map(|l| l.peek(&id_key)).filter(Budget::exhausted);
        let ip = self.per_ip.as_ref().map(|l| l.peek(&ip_key)).filter(Budget::exhausted);
        match (id, ip) {
            (Some(a), Some(b)) => Some(if a.retry_after >= b.retry_after { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    pub fn record_failure(&self, class: FailureClass, ip: &str, identity: &str) {
        let (id_key, ip_key) = Self::keys(class, ip, identity);
        if let Some(l) = &self.per_identity {
            l.spend(&id_key);
        }
        if let Some(l) = &self.per_ip {
            l.spend(&ip_key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_and_ips_have_separate_budgets() {
        let f = FailureLimits::new(2);
        let c = FailureClass::ClientAuth;
        f.record_failure(c, "10.0.0.1", "a");
        assert!(f.blocked(c, "10.0.0.1", "a").is_none());
        f.record_failure(c, "10.0.0.1", "a");
        assert!(f.blocked(c, "10.0.0.1", "a").is_some());
        assert!(f.blocked(c, "10.0.0.1", "b").is_none(), "another client from the same IP");
        assert!(f.blocked(c, "10.0.0.2", "a").is_none(), "the same client from elsewhere");
        assert!(f.blocked(FailureClass::AdminAuth, "10.0.0.1", "a").is_none(), "classes are separate");
        for id in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            f.record_failure(c, "10.0.0.1", id);
        }
        assert!(f.blocked(c, "10.0.0.1", "z").is_some(), "the IP as a whole ran out");
        assert!(FailureLimits::new(0).blocked(c, "x", "y").is_none());
    }
}
