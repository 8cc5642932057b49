//! The audit record: what every layer says happened. Plain data, no I/O,
//! so the domain can return events and the store can chain them without
//! either naming the other's types. Storage lives in `store::audit`.

use chrono::{DateTime, Utc};

/// Whether the audited action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// What to blur before an event is stored (`audit_mask_ips`,
/// `audit_mask_emails`): enough stays to investigate (the network, the
/// domain), not enough to identify a person from the log alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Masking {
    pub ips: bool,
    pub emails: bool,
}

impl Masking {
    pub fn apply(&self, mut e: AuditEvent) -> AuditEvent {
        if self.ips {
            e.ip = e.ip.map(|ip| mask_ip(&ip));
        }
        if self.emails {
            e.actor = mask_emails(&e.actor);
            e.target = e.target.map(|t| mask_emails(&t));
            e.reason = e.reason.map(|r| mask_emails(&r));
        }
        e
    }
}

/// IPv4 to its /24 (`203.0.113.0`), IPv6 to its /48.
pub fn mask_ip(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0")
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::", s[0], s[1], s[2])
        }
        Err(_) => "masked".to_owned(),
    }
}

/// `alice@example.com` → `a***@example.com`, wherever one appears.
pub fn mask_emails(text: &str) -> String {
    text.split(' ')
        .map(|w| match w.rsplit_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            _ => w.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One event to record. Never put a secret, token or password in any field.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub action: &'static str,
    pub target: Option<String>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl AuditEvent {
    /// A successful action with no request context (CLI, start-up).
    pub fn new(
        occurred_at: DateTime<Utc>,
        actor: impl Into<String>,
        action: &'static str,
        target: Option<String>,
    ) -> Self {
        Self {
            occurred_at,
            actor: actor.into(),
            action,
            target,
            outcome: Outcome::Success,
            reason: None,
            request_id: None,
            ip: None,
            user_agent: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_keep_their_network_only() {
        assert_eq!(mask_ip("203.0.113.77"), "203.0.113.0");
        assert_eq!(mask_ip("2001:db8:85a3:8d3:1319:8a2e:370:7348"), "2001:db8:85a3::");
        assert_eq!(mask_ip("not an ip"), "masked");
    }

    #[test]
    fn emails_keep_their_domain_only() {
        assert_eq!(mask_emails("alice@example.com"), "a***@example.com");
        assert_eq!(
            mask_emails("scope: x for bob.smith@corp.example and carol@x.y"),
            "scope: x for b***@corp.example and c***@x.y"
        );
        assert_eq!(mask_emails("no email here, @handle"), "no email here, @handle");
        let e = AuditEvent::new(Utc::now(), "user:1", "login.failed", Some("alice@example.com".into()));
        let mut with_ip = e.clone();
        with_ip.ip = Some("10.1.2.3".into());
        let m = Masking { ips: true, emails: true }.apply(with_ip);
        assert_eq!((m.target.as_deref(), m.ip.as_deref()), (Some("a***@example.com"), Some("10.1.2.0")));
        let off = Masking::default().apply(e);
        assert_eq!(off.target.as_deref(), Some("alice@example.com"));
    }
}
