//! The audit side of a SCIM write: who it names, and the action.

use super::Change;
use crate::audit::{AuditEvent, Masking};
use crate::scim::schema::ResourceKind;

/// The audit context of a write: its event commits in the write's own
/// transaction, so a change a client was told about always has its event
/// (a crash cannot lose it), at no extra commit.
#[derive(Debug, Clone)]
pub struct AuditAs {
    /// Actor and request context; action and target are set per write.
    pub template: AuditEvent,
    pub masking: Masking,
}

impl AuditAs {
    pub(super) fn event(&self, action: &'static str, target: &str) -> AuditEvent {
        let mut e = self.template.clone();
        e.action = action;
        e.target = Some(target.to_owned());
        self.masking.apply(e)
    }
}

/// What the store is told to record with a write.
#[derive(Debug)]
pub(super) struct NoAuditContext;

impl std::fmt::Display for NoAuditContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a SCIM write without an audit context")
    }
}

impl std::error::Error for NoAuditContext {}

/// The audit action of a write.
pub fn action(kind: ResourceKind, change: Change<'_>) -> &'static str {
    match (kind, change) {
        (ResourceKind::User, Change::Create) => "scim.user.created",
        (ResourceKind::User, Change::Replace(_)) => "scim.user.replaced",
        (ResourceKind::User, Change::Patch(_)) => "scim.user.patched",
        (ResourceKind::Group, Change::Create) => "scim.group.created",
        (ResourceKind::Group, Change::Replace(_)) => "scim.group.replaced",
        (ResourceKind::Group, Change::Patch(_)) => "scim.group.patched",
    }
}
