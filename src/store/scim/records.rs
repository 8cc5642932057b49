//! The shapes SCIM resources are stored in, as plain data: the repository
//! fills and writes them; `scim::resource` parses and renders them (its
//! inherent impls), so the store depends on no SCIM module.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// The user attributes stored one row per element in `user_multi_values`
/// (`scim::schema` checks that its table agrees).
pub const MULTI_VALUED_ATTRIBUTES: [&str; 3] = ["emails", "phoneNumbers", "addresses"];

/// One element of `emails`, `phoneNumbers` or `addresses`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MultiValue {
    /// The attribute name as the schema spells it.
    pub attribute: &'static str,
    /// Sub-attribute values keyed by side-table column.
    pub fields: BTreeMap<&'static str, String>,
    pub primary: bool,
}

/// What every stored resource has.
#[derive(Debug, Clone)]
pub struct Meta {
    pub id: String,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub version: i64,
}

/// A stored user, as SCIM sees it.
#[derive(Debug, Clone)]
pub struct UserResource {
    pub meta: Meta,
    pub user_name: String,
    pub active: bool,
    pub is_admin: bool,
    pub scim_managed: bool,
    pub columns: BTreeMap<&'static str, String>,
    pub multi: Vec<MultiValue>,
    /// (group id, displayName) of the groups the user is in.
    pub groups: Vec<(String, String)>,
}

/// A stored group.
#[derive(Debug, Clone)]
pub struct GroupResource {
    pub meta: Meta,
    pub display_name: String,
    pub external_id: Option<String>,
    pub scim_managed: bool,
    pub grants_admin: bool,
    /// Member user ids, or `None` when not loaded (excluded from output).
    pub members: Option<Vec<String>>,
}

/// Membership changes, folded in operation order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MemberChanges {
    /// The full new member list, when an operation replaced it.
    pub replace: Option<Vec<String>>,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}
