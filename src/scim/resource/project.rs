//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5) on rendered
//! resources.

use crate::scim::error::{ScimError, ScimType};
use crate::scim::schema::{ENTERPRISE_URN, ResourceKind, Returned};
use serde_json::{Map, Value, json};

/// A resolved `attributes`/`excludedAttributes` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Selected {
    /// `None` for core attributes, else the extension URN whose object holds it.
    container: Option<&'static str>,
    name: &'static str,
    sub: Option<&'static str>,
    always: bool,
}

fn selection(kind: ResourceKind, list: &str) -> Result<Vec<Selected>, ScimError> {
    let mut out = Vec::new();
    for raw in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let path = crate::scim::filter::parse_attr_path(raw)
            .map_err(|e| ScimError::bad(ScimType::InvalidValue, format!("attribute list: {e}")))?;
        let (urn, a) = kind.find(path.urn.as_deref(), &path.name).ok_or_else(|| {
            ScimError::bad(ScimType::InvalidValue, format!("attribute list: unknown attribute {raw:?}"))
        })?;
        let sub = match &path.sub {
            Some(s) => Some(
                a.sub_attribute(s)
                    .ok_or_else(|| {
                        ScimError::bad(ScimType::InvalidValue, format!("attribute list: unknown attribute {raw:?}"))
                    })?
                    .name,
            ),
            None => None,
        };
        let container = urn.filter(|u| *u == ENTERPRISE_URN);
        out.push(Selected { container, name: a.name, sub, always: a.returned == Returned::Always });
    }
    Ok(out)
}

/// Checks an `attributes`/`excludedAttributes` list without applying it,
/// and says whether it mentions `name` (to skip loading large values).
pub fn mentions(kind: ResourceKind, list: &str, name: &str) -> Result<bool, ScimError> {
    Ok(selection(kind, list)?.iter().any(|s| s.container.is_none() && s.name == name))
}

/// RFC 7644 §3.4.2.5: `attributes` keeps `id`, `schemas` and the listed
/// (sub-)attributes; `excludedAttributes` drops the listed ones except
/// those returned always.
pub fn project(
    kind: ResourceKind,
    doc: Value,
    attributes: Option<&str>,
    excluded: Option<&str>,
) -> Result<Value, ScimError> {
    let Value::Object(mut obj) = doc else { return Ok(doc) };
    if let Some(list) = attributes.filter(|l| !l.trim().is_empty()) {
        let sel = selection(kind, list)?;
        let mut out = Map::new();
        for key in ["schemas", "id"] {
            if let Some(v) = obj.remove(key) {
                out.insert(key.into(), v);
            }
        }
        for s in &sel {
            let (src, dst) = match s.container {
                None => (&obj, &mut out),
                Some(urn) => {
                    let Some(Value::Object(src)) = obj.get(urn) else { continue };
                    let Value::Object(dst) = out.entry(urn).or_insert_with(|| Value::Object(Map::new())) else {
                        continue;
                    };
                    (src, dst)
                }
            };
            let Some(v) = src.get(s.name) else { continue };
            match (s.sub, v) {
                (None, v) => {
                    dst.insert(s.name.into(), v.clone());
                }
                (Some(sub), Value::Object(inner)) => {
                    if let Some(sv) = inner.get(sub) {
                        let Value::Object(d) = dst.entry(s.name).or_insert_with(|| Value::Object(Map::new())) else {
                            continue;
                        };
                        d.insert(sub.into(), sv.clone());
                    }
                }
                (Some(sub), Value::Array(items)) => {
                    let picked: Vec<Value> =
                        items.iter().filter_map(|i| i.get(sub).map(|sv| json!({ sub: sv }))).collect();
                    if !picked.is_empty() {
                        dst.insert(s.name.into(), Value::Array(picked));
                    }
                }
                _ => {}
            }
        }
        return Ok(Value::Object(out));
    }
    if let Some(list) = excluded.filter(|l| !l.trim().is_empty()) {
        for s in selection(kind, list)?.iter().filter(|s| !s.always) {
            let target = match s.container {
                None => Some(&mut obj),
                Some(urn) => match obj.get_mut(urn) {
                    Some(Value::Object(m)) => Some(m),
                    _ => None,
                },
            };
            let Some(target) = target else { continue };
            match s.sub {
                None => {
                    target.remove(s.name);
                }
                Some(sub) => match target.get_mut(s.name) {
                    Some(Value::Object(inner)) => {
                        inner.remove(sub);
                    }
                    Some(Value::Array(items)) => {
                        for i in items.iter_mut() {
                            if let Value::Object(o) = i {
                                o.remove(sub);
                            }
                        }
                    }
                    _ => {}
                },
            }
        }
    }
    Ok(Value::Object(obj))
}
