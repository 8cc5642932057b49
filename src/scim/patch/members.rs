//! Group membership in PATCH: `members` operations become a
//! `MemberChanges` applied row by row, never a rewrite of the whole group.

use super::{Op, ScimError, ScimType};
use crate::scim::filter::{CompValue, CompareOp, Filter};
use crate::scim::schema::Attribute;
use serde_json::Value;

pub use crate::store::scim::MemberChanges;

impl MemberChanges {
    pub(super) fn add(&mut self, ids: Vec<String>) {
        match &mut self.replace {
            Some(set) => set.extend(ids),
            None => {
                self.remove.retain(|r| !ids.contains(r));
                self.add.extend(ids);
            }
        }
    }

    pub(super) fn remove(&mut self, ids: Vec<String>) {
        match &mut self.replace {
            Some(set) => set.retain(|m| !ids.contains(m)),
            None => {
                self.add.retain(|a| !ids.contains(a));
                self.remove.extend(ids);
            }
        }
    }

    /// Drops ids that must not be written (unknown members being ignored).
    pub fn skip(&mut self, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        let drop: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
        self.add.retain(|a| !drop.contains(a.as_str()));
        if let Some(set) = &mut self.replace {
            set.retain(|m| !drop.contains(m.as_str()));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.replace.is_none() && self.add.is_empty() && self.remove.is_empty()
    }

    pub(super) fn normalize(&mut self) {
        for v in [Some(&mut self.add), Some(&mut self.remove), self.replace.as_mut()].into_iter().flatten() {
            v.sort_unstable();
            v.dedup();
        }
    }
}

pub(super) fn members_op(
    op: Op,
    f: Option<&Filter>,
    sub: Option<&Attribute>,
    value: Option<Value>,
    members: &mut MemberChanges,
) -> Result<(), ScimError> {
    if sub.is_some() {
        return Err(ScimError::bad(
            ScimType::Mutability,
            "members' sub-attributes cannot be changed; add or remove the member",
        ));
    }
    let ids = |v: Option<Value>| -> Result<Vec<String>, ScimError> {
        match v {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items.iter().map(crate::scim::resource::member_id).collect(),
            Some(v @ Value::Object(_)) => Ok(vec![crate::scim::resource::member_id(&v)?]),
            Some(_) => Err(ScimError::bad(ScimType::InvalidValue, "members must be an array of {\"value\": id}")),
        }
    };
    match (op, f) {
        (Op::Add, None) => members.add(ids(value)?),
        (Op::Replace, None) => {
            let new = ids(value)?;
            members.add.clear();
            members.remove.clear();
            members.replace = Some(new);
        }
        (Op::Remove, None) if value.is_some() => members.remove(ids(value)?),
        (Op::Remove, None) => {
            members.add.clear();
            members.remove.clear();
            members.replace = Some(Vec::new());
        }
        (Op::Remove, Some(f)) => {
            let mut out = Vec::new();
            member_filter_ids(f, &mut out)?;
            members.remove(out);
        }
        (_, Some(_)) => {
            return Err(ScimError::bad(ScimType::InvalidPath, "members filters are for remove only"));
        }
    }
    Ok(())
}

/// `members[value eq "a" or value eq "b"]`: the ids named. Membership is
/// not loaded to evaluate general filters on groups of any size.
fn member_filter_ids(f: &Filter, out: &mut Vec<String>) -> Result<(), ScimError> {
    match f {
        Filter::Or(l, r) => {
            member_filter_ids(l, out)?;
            member_filter_ids(r, out)
        }
        Filter::Compare { path, op: CompareOp::Eq, value: CompValue::String(id) }
            if path.urn.is_none() && path.sub.is_none() && path.name.eq_ignore_ascii_case("value") =>
        {
            out.push(id.clone());
            Ok(())
        }
        _ => Err(ScimError::bad(ScimType::InvalidFilter, "members filters must be value eq \"id\" terms joined by or")),
    }
}
