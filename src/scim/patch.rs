//! PATCH (RFC 7644 §3.5.2) applied to a resource's JSON document; the
//! result is then parsed like a PUT body, so every validation rule applies
//! to patched values too. Group membership is not in the document: member
//! operations become a `MemberChanges` the store applies row by row.
//!
//! Quirks accepted from real provisioning clients (each tested):
//! - `op` in any case (Entra ID sends `"Replace"`, `"Add"`).
//! - Booleans as strings (`"active": "False"`), coerced where the schema
//!   says boolean.
//! - Path-less `add`/`replace` whose value keys are dotted or schema-URN
//!   prefixed paths (`"name.givenName"`,
//!   `"urn:…:enterprise:2.0:User:department"`) or the extension URN with an
//!   object (Entra ID), or plain attributes (`{"active": false}`, Okta).
//! - `remove` with `path: "members"` and a value array removes just those
//!   members (Entra ID), not all of them.
//! - `add`/`replace` through a value filter made only of `eq` terms that
//!   matches nothing (`emails[type eq "work"].value`) creates the element
//!   the filter describes, as Entra ID expects; any other filter that
//!   matches nothing is `noTarget`.

use super::error::{ScimError, ScimType};
use super::filter::{self, AttrPath, Filter, Limits};
use super::schema::{Attribute, ENTERPRISE_URN, Mutability, PATCH_URN, ResourceKind, Storage, Type};
use serde_json::{Map, Value};

/// Most operations in one PATCH request.
pub const MAX_OPERATIONS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub op: Op,
    pub path: Option<String>,
    pub value: Option<Value>,
}

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidSyntax, detail)
}

fn get_ci<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

/// Parses a `PatchOp` request body.
pub fn parse_request(body: &Value) -> Result<Vec<Operation>, ScimError> {
    let obj = body.as_object().ok_or_else(|| syntax("the body must be a JSON object"))?;
    if let Some(schemas) = obj.get("schemas") {
        let ok = schemas.as_array().is_some_and(|l| l.iter().any(|s| s.as_str() == Some(PATCH_URN)));
        if !ok {
            return Err(syntax(format!("schemas must contain {PATCH_URN}")));
        }
    }
    let ops =
        get_ci(obj, "Operations").and_then(Value::as_array).ok_or_else(|| syntax("Operations must be an array"))?;
    if ops.is_empty() {
        return Err(syntax("Operations must not be empty"));
    }
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::bad(ScimType::TooMany, format!("at most {MAX_OPERATIONS} operations per request")));
    }
    ops.iter()
        .map(|o| {
            let o = o.as_object().ok_or_else(|| syntax("each operation must be an object"))?;
            let op = match get_ci(o, "op").and_then(Value::as_str) {
                Some(s) if s.eq_ignore_ascii_case("add") => Op::Add,
                Some(s) if s.eq_ignore_ascii_case("remove") => Op::Remove,
                Some(s) if s.eq_ignore_ascii_case("replace") => Op::Replace,
                _ => return Err(syntax("op must be add, remove or replace")),
            };
            let path = match get_ci(o, "path") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) => Some(p.clone()),
                Some(_) => return Err(ScimError::bad(ScimType::InvalidPath, "path must be a string")),
            };
            let value = get_ci(o, "value").filter(|v| !v.is_null()).cloned();
            Ok(Operation { op, path, value })
        })
        .collect()
}

/// Applies the operations to `doc` (the resource as rendered, without its
/// read-only attributes).
pub fn apply(kind: ResourceKind, doc: &mut Value, ops: Vec<Operation>) -> Result<MemberChanges, ScimError> {
    let Value::Object(doc) = doc else { return Err(syntax("resource is not an object")) };
    let mut members = MemberChanges::default();
    for o in ops {
        match o.path {
            // The whole extension as the path: its attributes are the value's keys.
            Some(p) if kind.extension().is_some_and(|e| p.trim().eq_ignore_ascii_case(e)) => {
                let ext = kind.extension().unwrap_or_default();
                if o.op != Op::Add {
                    doc.remove(ext);
                }
                if o.op == Op::Remove {
                    continue;
                }
                let Some(Value::Object(values)) = o.value else {
                    return Err(ScimError::bad(ScimType::InvalidValue, format!("{ext} takes an object value")));
                };
                for (k, v) in values.into_iter().filter(|(k, _)| !k.eq_ignore_ascii_case("schemas")) {
                    let mut t = target_of(&k)?;
                    t.attr.urn = Some(ext.to_owned());
                    apply_one(kind, doc, o.op, t, Some(v), &mut members)?;
                }
            }
            Some(p) => {
                let pp = filter::parse_patch_path(&p, &Limits::default())
                    .map_err(|e| ScimError::bad(ScimType::InvalidPath, format!("path: {e}")))?;
                let target = Target { attr: pp.attr, filter: pp.filter, sub: pp.sub };
                apply_one(kind, doc, o.op, target, o.value, &mut members)?;
            }
            None if o.op == Op::Remove => {
                return Err(ScimError::bad(ScimType::NoTarget, "remove needs a path"));
            }
            None => {
                let Some(Value::Object(values)) = o.value else {
                    return Err(ScimError::bad(
                        ScimType::InvalidValue,
                        "an operation without a path needs an object value",
                    ));
                };
                for (k, v) in values {
                    if let Some(ext) = kind.extension().filter(|e| k.eq_ignore_ascii_case(e))
                        && let Value::Object(inner) = v
                    {
                        for (ik, iv) in inner.into_iter().filter(|(k, _)| !k.eq_ignore_ascii_case("schemas")) {
                            let mut t = target_of(&ik)?;
                            t.attr.urn = Some(ext.to_owned());
                            apply_one(kind, doc, o.op, t, Some(iv), &mut members)?;
                        }
                        continue;
                    }
                    let t = target_of(&k)?;
                    apply_one(kind, doc, o.op, t, Some(v), &mut members)?;
                }
            }
        }
    }
    members.normalize();
    Ok(members)
}

struct Target {
    attr: AttrPath,
    filter: Option<Filter>,
    sub: Option<String>,
}

fn target_of(key: &str) -> Result<Target, ScimError> {
    let pp = filter::parse_patch_path(key, &Limits::default())
        .map_err(|e| ScimError::bad(ScimType::InvalidPath, format!("value key {key:?}: {e}")))?;
    Ok(Target { attr: pp.attr, filter: pp.filter, sub: pp.sub })
}

fn apply_one(
    kind: ResourceKind,
    doc: &mut Map<String, Value>,
    op: Op,
    t: Target,
    value: Option<Value>,
    members: &mut MemberChanges,
) -> Result<(), ScimError> {
    let (urn, a) = kind
        .find(t.attr.urn.as_deref(), &t.attr.name)
        .ok_or_else(|| ScimError::bad(ScimType::InvalidPath, format!("no attribute {:?}", t.attr.name)))?;
    if t.attr.sub.is_some() && t.sub.is_some() {
        return Err(ScimError::bad(ScimType::InvalidPath, "a path has at most one sub-attribute"));
    }
    let sub = match t.attr.sub.as_deref().or(t.sub.as_deref()) {
        Some(s) => Some(
            a.sub_attribute(s)
                .ok_or_else(|| ScimError::bad(ScimType::InvalidPath, format!("no attribute {}.{s}", a.name)))?,
        ),
        None => None,
    };
    if kind == ResourceKind::Group && a.storage == Storage::Membership {
        return members_op(op, t.filter.as_ref(), sub, value, members);
    }
    if a.mutability == Mutability::ReadOnly || sub.is_some_and(|s| s.mutability == Mutability::ReadOnly) {
        return Err(ScimError::bad(ScimType::Mutability, format!("{} is read-only", a.name)));
    }
    if op != Op::Remove && value.is_none() {
        return Err(ScimError::bad(ScimType::InvalidValue, format!("{op:?} needs a value")));
    }
    if t.filter.is_some() && !a.multi {
        return Err(ScimError::bad(ScimType::InvalidPath, format!("{} is single-valued; it takes no filter", a.name)));
    }
    let container = match urn {
        Some(u) if u == ENTERPRISE_URN => {
            let entry = doc.entry(ENTERPRISE_URN).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            match entry {
                Value::Object(m) => m,
                _ => return Err(ScimError::bad(ScimType::InvalidValue, "extension must be an object")),
            }
        }
        _ => doc,
    };
    let value = value.unwrap_or(Value::Null);
    match (a.multi, t.filter, sub) {
        (false, _, None) => match op {
            Op::Remove => {
                container.remove(a.name);
            }
            _ => match (container.get_mut(a.name), value) {
                (Some(Value::Object(old)), Value::Object(new)) if a.ty == Type::Complex => merge(old, new),
                (_, v) => {
                    container.insert(a.name.into(), v);
                }
            },
        },
        (false, _, Some(sub)) => {
            let entry = container.entry(a.name).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = entry {
                set_sub(inner, sub, op, value);
            }
        }
        (true, None, None) => {
            let new = match value {
                Value::Array(items) => items,
                Value::Null => Vec::new(),
                v => vec![v],
            };
            match op {
                Op::Remove => {
                    container.remove(a.name);
                }
                Op::Replace => {
                    container.insert(a.name.into(), Value::Array(new));
                }
                Op::Add => {
                    let entry = container.entry(a.name).or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(items) = entry {
                        if new.iter().any(is_primary) {
                            items.iter_mut().for_each(clear_primary);
                        }
                        items.extend(new);
                    }
                }
            }
        }
        (true, None, Some(sub)) => {
            if let Some(Value::Array(items)) = container.get_mut(a.name) {
                for item in items.iter_mut() {
                    if let Value::Object(o) = item {
                        set_sub(o, sub, op, value.clone());
                    }
                }
            }
        }
        (true, Some(f), sub) => {
            let entry = container.entry(a.name).or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(items) = entry else {
                return Err(ScimError::bad(ScimType::InvalidValue, format!("{} must be an array", a.name)));
            };
            let mut hits = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if let Value::Object(o) = item
                    && matches(a, &f, o)?
                {
                    hits.push(i);
                }
            }
            if hits.is_empty() {
                let template = match (op, eq_template(a, &f)) {
                    (Op::Add | Op::Replace, Some(t)) => t,
                    _ => {
                        return Err(ScimError::bad(
                            ScimType::NoTarget,
                            format!("no value of {} matches the filter", a.name),
                        ));
                    }
                };
                items.push(Value::Object(template));
                hits.push(items.len() - 1);
            }
            if op == Op::Remove && sub.is_none() {
                let mut i = 0;
                items.retain(|_| {
                    i += 1;
                    !hits.contains(&(i - 1))
                });
                return Ok(());
            }
            for i in hits {
                let Some(Value::Object(o)) = items.get_mut(i) else { continue };
                match (sub, op, &value) {
                    (Some(sub), _, _) => set_sub(o, sub, op, value.clone()),
                    (None, Op::Add, Value::Object(new)) => merge(o, new.clone()),
                    (None, _, Value::Object(new)) => *o = new.clone(),
                    (None, _, _) => {
                        return Err(ScimError::bad(
                            ScimType::InvalidValue,
                            format!("a value of {} must be an object", a.name),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

fn is_primary(v: &Value) -> bool {
    v.as_object()
        .and_then(|o| get_ci(o, "primary"))
        .is_some_and(|p| p.as_bool().unwrap_or(false) || p.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true")))
}

fn clear_primary(v: &mut Value) {
    if let Value::Object(o) = v {
        o.retain(|k, _| !k.eq_ignore_ascii_case("primary"));
    }
}

fn merge(old: &mut Map<String, Value>, new: Map<String, Value>) {
    for (k, v) in new {
        old.retain(|ok, _| !ok.eq_ignore_ascii_case(&k));
        old.insert(k, v);
    }
}

fn set_sub(o: &mut Map<String, Value>, sub: &Attribute, op: Op, value: Value) {
    o.retain(|k, _| !k.eq_ignore_ascii_case(sub.name));
    if op != Op::Remove {
        o.insert(sub.name.into(), value);
    }
}

mod members;
mod value_filter;
pub use members::MemberChanges;
use members::members_op;
use value_filter::eq_template;
pub use value_filter::matches;

#[cfg(test)]
mod tests;
