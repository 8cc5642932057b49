//! SCIM resources as JSON: parsing a request body (POST, PUT, and the
//! result of a PATCH) into typed input, rendering stored resources, and the
//! `attributes`/`excludedAttributes` projection. All three walk the schema
//! tables in `schema.rs`.

use super::error::{ScimError, ScimType};
use super::schema::{Attribute, Mutability, ResourceKind, Storage, Type};
use super::schema::{ENTERPRISE_ATTRIBUTES, ENTERPRISE_URN, GROUP_URN, USER_ATTRIBUTES, USER_URN};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// The stored shapes, defined beside the repository that fills them; the
/// SCIM behaviour (parsing, rendering, projection) is implemented here.
pub use crate::store::scim::{GroupResource, Meta, MultiValue, UserResource};

/// Longest string value accepted in any attribute.
pub const MAX_STRING: usize = 2048;
/// Most elements of one multi-valued attribute.
pub const MAX_VALUES: usize = 100;

/// A body parsed against a resource's schema. Absent attributes are `None`
/// or missing from the maps: a PUT clears them.
#[derive(Default)]
pub struct Parsed {
    /// `userName` (User) or `displayName` (Group).
    pub name: Option<String>,
    pub active: Option<bool>,
    pub password: Option<Zeroizing<String>>,
    /// Singular values keyed by column.
    pub columns: BTreeMap<&'static str, String>,
    pub multi: Vec<MultiValue>,
    /// Group member ids, when `members` was present.
    pub members: Option<Vec<String>>,
}

impl std::fmt::Debug for Parsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parsed").field("name", &self.name).finish_non_exhaustive()
    }
}

fn invalid(detail: String) -> ScimError {
    ScimError::bad(ScimType::InvalidValue, detail)
}

fn string(attr: &str, v: &Value) -> Result<String, ScimError> {
    match v {
        Value::String(s) if s.chars().count() > MAX_STRING => {
            Err(invalid(format!("{attr} is longer than {MAX_STRING} characters")))
        }
        Value::String(s) if s.chars().any(|c| c.is_control() && c != '\n') => {
            Err(invalid(format!("{attr} contains control characters")))
        }
        // Names, emails, addresses: shown on pages and carried in tokens,
        // so nothing invisible or direction-changing (passwords are opaque
        // and read with `opaque`).
        Value::String(s) if crate::accounts::identifiers::check_visible(s).is_err() => {
            Err(invalid(format!("{attr} contains invisible or direction-changing characters")))
        }
        Value::String(s) => Ok(s.clone()),
        _ => Err(invalid(format!("{attr} must be a string"))),
    }
}

/// A password: bounded and free of control characters, otherwise opaque.
fn opaque(attr: &str, v: &Value) -> Result<String, ScimError> {
    match v {
        Value::String(s) if s.chars().count() > MAX_STRING => {
            Err(invalid(format!("{attr} is longer than {MAX_STRING} characters")))
        }
        Value::String(s) if s.chars().any(|c| c.is_control() && c != '\n') => {
            Err(invalid(format!("{attr} contains control characters")))
        }
        Value::String(s) => Ok(s.clone()),
        _ => Err(invalid(format!("{attr} must be a string"))),
    }
}

/// Booleans, also as the strings "True"/"False" in any case: Entra ID
/// sends `"active": "False"` in PATCH values.
fn boolean(attr: &str, v: &Value) -> Result<bool, ScimError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(invalid(format!("{attr} must be a boolean"))),
    }
}

/// Parses a User or Group body.
pub fn parse(kind: ResourceKind, body: &Value) -> Result<Parsed, ScimError> {
    let obj =
        body.as_object().ok_or_else(|| ScimError::bad(ScimType::InvalidSyntax, "the body must be a JSON object"))?;
    let mut out = Parsed::default();
    for (key, value) in obj {
        if key.eq_ignore_ascii_case("schemas") {
            check_schemas(kind, value)?;
            continue;
        }
        if let Some(ext) = kind.extension().filter(|e| key.eq_ignore_ascii_case(e)) {
            if value.is_null() {
                continue;
            }
            let inner = value.as_object().ok_or_else(|| invalid(format!("{ext} must be an object")))?;
            for (k, v) in inner.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("schemas")) {
                let (_, a) = kind.find(Some(ext), k).ok_or_else(|| unknown(k))?;
                parse_attr(kind, a, v, &mut out)?;
            }
            continue;
        }
        let (_, a) = kind.find(None, key).ok_or_else(|| unknown(key))?;
        parse_attr(kind, a, value, &mut out)?;
    }
    match kind {
        ResourceKind::User if out.name.is_none() => Err(invalid("userName is required".into())),
        ResourceKind::Group if out.name.is_none() => Err(invalid("displayName is required".into())),
        _ => Ok(out),
    }
}

fn unknown(key: &str) -> ScimError {
    ScimError::bad(ScimType::InvalidSyntax, format!("unknown attribute {key:?}"))
}

fn check_schemas(kind: ResourceKind, v: &Value) -> Result<(), ScimError> {
    let list = v.as_array().ok_or_else(|| invalid("schemas must be an array".into()))?;
    for s in list {
        let s = s.as_str().ok_or_else(|| invalid("schemas must hold strings".into()))?;
        if kind.attributes(s).is_none() {
            return Err(invalid(format!("schema {s:?} is not supported for {}", kind.name())));
        }
    }
    Ok(())
}

fn parse_attr(kind: ResourceKind, a: &'static Attribute, v: &Value, out: &mut Parsed) -> Result<(), ScimError> {
    // RFC 7644 §3.5.1: values of readOnly attributes are ignored.
    if a.mutability == Mutability::ReadOnly || v.is_null() {
        return Ok(());
    }
    match a.storage {
        Storage::Normalized { .. } => {
            let s = string(a.name, v)?;
            if s.trim().is_empty() {
                return Err(invalid(format!("{} must not be empty", a.name)));
            }
            out.name = Some(s);
        }
        Storage::Column(_) if a.ty == Type::Boolean => out.active = Some(boolean(a.name, v)?),
        Storage::Column(c) => {
            let s = string(a.name, v)?;
            if !s.is_empty() {
                out.columns.insert(c, s);
            }
        }
        Storage::Nested => {
            let inner = v.as_object().ok_or_else(|| invalid(format!("{} must be an object", a.name)))?;
            for (k, sv) in inner {
                let sub = a.sub_attribute(k).ok_or_else(|| unknown(&format!("{}.{k}", a.name)))?;
                if sub.mutability == Mutability::ReadOnly || sv.is_null() {
                    continue;
                }
                if let Storage::Column(c) = sub.storage {
                    let s = string(sub.name, sv)?;
                    if !s.is_empty() {
                        out.columns.insert(c, s);
                    }
                }
            }
        }
        Storage::MultiValues => {
            let items = elements(a, v)?;
            let mut primaries = 0;
            for item in items {
                let m = parse_element(a, item)?;
                primaries += usize::from(m.primary);
                if !m.fields.is_empty() {
                    out.multi.push(m);
                }
            }
            if primaries > 1 {
                return Err(invalid(format!("at most one of {} may be primary", a.name)));
            }
        }
        Storage::Membership if kind == ResourceKind::Group => {
            let mut ids = Vec::new();
            for item in elements(a, v)? {
                ids.push(member_id(item)?);
            }
            ids.sort_unstable();
            ids.dedup();
            out.members = Some(ids);
        }
        Storage::Membership => {}
        Storage::None => {
            if a.name == "password" {
                out.password = Some(Zeroizing::new(opaque(a.name, v)?));
            }
        }
    }
    Ok(())
}

fn elements<'a>(a: &Attribute, v: &'a Value) -> Result<Vec<&'a Value>, ScimError> {
    let items: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![v],
        _ => return Err(invalid(format!("{} must be an array", a.name))),
    };
    if a.storage == Storage::MultiValues && items.len() > MAX_VALUES {
        return Err(invalid(format!("{} has more than {MAX_VALUES} values", a.name)));
    }
    Ok(items)
}

/// A member reference: `{"value": id, ...}`; only users can be members.
pub fn member_id(item: &Value) -> Result<String, ScimError> {
    let obj = item.as_object().ok_or_else(|| invalid("a member must be an object".into()))?;
    if let Some(t) = obj.iter().find(|(k, _)| k.eq_ignore_ascii_case("type")).and_then(|(_, v)| v.as_str())
        && !t.eq_ignore_ascii_case("User")
    {
        return Err(invalid(format!("member type {t:?} is not supported; only users can be members")));
    }
    match obj.iter().find(|(k, _)| k.eq_ignore_ascii_case("value")).map(|(_, v)| v) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(invalid("a member needs a string value (the user's id)".into())),
    }
}

fn parse_element(a: &'static Attribute, item: &Value) -> Result<MultiValue, ScimError> {
    let obj = item.as_object().ok_or_else(|| invalid(format!("each of {} must be an object", a.name)))?;
    let mut m = MultiValue { attribute: a.name, ..MultiValue::default() };
    for (k, v) in obj {
        let sub = a.sub_attribute(k).ok_or_else(|| unknown(&format!("{}.{k}", a.name)))?;
        if v.is_null() {
            continue;
        }
        match sub.storage {
            Storage::Column("is_primary") => m.primary = boolean(&format!("{}.primary", a.name), v)?,
            Storage::Column(c) => {
                let s = string(&format!("{}.{}", a.name, sub.name), v)?;
                if !s.is_empty() {
                    m.fields.insert(c, s);
                }
            }
            _ => {}
        }
    }
    Ok(m)
}

/// `2026-11-23T17:42:48.123Z`: what `meta.created`/`lastModified` carry.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A weak ETag from a row version.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

impl Meta {
    fn json(&self, kind: ResourceKind, base: &str) -> Value {
        json!({
            "resourceType": kind.name(),
            "created": timestamp(self.created),
            "lastModified": timestamp(self.modified),
            "location": format!("{base}/{}/{}", kind.endpoint(), self.id),
            "version": etag(self.version),
        })
    }
}

fn put_columns(attrs: &[Attribute], columns: &BTreeMap<&'static str, String>, out: &mut Map<String, Value>) {
    for a in attrs {
        match a.storage {
            Storage::Column(c) if a.ty != Type::Boolean => {
                if let Some(v) = columns.get(c) {
                    out.insert(a.name.into(), Value::String(v.clone()));
                }
            }
            Storage::Nested => {
                let mut inner = Map::new();
                put_columns(a.sub, columns, &mut inner);
                if !inner.is_empty() {
                    out.insert(a.name.into(), Value::Object(inner));
                }
            }
            _ => {}
        }
    }
}

/// Renders a user in full (before projection).
pub fn render_user(u: &UserResource, base: &str) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(u.meta.id));
    if let Some(x) = u.columns.get("external_id") {
        out.insert("externalId".into(), json!(x));
    }
    out.insert("userName".into(), json!(u.user_name));
    put_columns(USER_ATTRIBUTES, &u.columns, &mut out);
    out.insert("active".into(), json!(u.active));
    for a in USER_ATTRIBUTES.iter().filter(|a| a.storage == Storage::MultiValues) {
        let items: Vec<Value> = u
            .multi
            .iter()
            .filter(|m| m.attribute == a.name)
            .map(|m| {
                let mut o = Map::new();
                for sub in a.sub {
                    match sub.storage {
                        Storage::Column("is_primary") => {
                            o.insert("primary".into(), json!(m.primary));
                        }
                        Storage::Column(c) => {
                            if let Some(v) = m.fields.get(c) {
                                o.insert(sub.name.into(), json!(v));
                            }
                        }
                        _ => {}
                    }
                }
                Value::Object(o)
            })
            .collect();
        if !items.is_empty() {
            out.insert(a.name.into(), Value::Array(items));
        }
    }
    if !u.groups.is_empty() {
        let groups: Vec<Value> = u
            .groups
            .iter()
            .map(|(id, name)| json!({"value": id, "$ref": format!("{base}/Groups/{id}"), "display": name, "type": "direct"}))
            .collect();
        out.insert("groups".into(), Value::Array(groups));
    }
    let mut ext = Map::new();
    put_columns(ENTERPRISE_ATTRIBUTES, &u.columns, &mut ext);
    let mut schemas = vec![json!(USER_URN)];
    if !ext.is_empty() {
        schemas.push(json!(ENTERPRISE_URN));
        out.insert(ENTERPRISE_URN.into(), Value::Object(ext));
    }
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("meta".into(), u.meta.json(ResourceKind::User, base));
    Value::Object(out)
}

/// Renders a group in full (before projection).
pub fn render_group(g: &GroupResource, base: &str) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([GROUP_URN]));
    out.insert("id".into(), json!(g.meta.id));
    if let Some(x) = &g.external_id {
        out.insert("externalId".into(), json!(x));
    }
    out.insert("displayName".into(), json!(g.display_name));
    if let Some(members) = &g.members {
        let list: Vec<Value> = members
            .iter()
            .map(|id| json!({"value": id, "$ref": format!("{base}/Users/{id}"), "type": "User"}))
            .collect();
        out.insert("members".into(), Value::Array(list));
    }
    out.insert("meta".into(), g.meta.json(ResourceKind::Group, base));
    Value::Object(out)
}

mod project;
pub use project::{mentions, project};

#[cfg(test)]
mod tests;
