//! Value filters in PATCH paths (`emails[type eq "work"]`, RFC 7644
//! §3.5.2): which elements of a multi-valued attribute an operation
//! targets, and the element an `eq` filter describes when it adds one.

use super::get_ci;
use crate::scim::error::{ScimError, ScimType};
use crate::scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use crate::scim::schema::{Attribute, Type};
use serde_json::{Map, Value};

/// The element a filter of `eq` terms joined by `and` describes.
pub(super) fn eq_template(a: &Attribute, f: &Filter) -> Option<Map<String, Value>> {
    fn walk(a: &Attribute, f: &Filter, out: &mut Map<String, Value>) -> bool {
        match f {
            Filter::And(l, r) => walk(a, l, out) && walk(a, r, out),
            Filter::Compare { path, op: CompareOp::Eq, value } if path.urn.is_none() && path.sub.is_none() => {
                let Some(sub) = a.sub_attribute(&path.name) else { return false };
                let v = match value {
                    CompValue::String(s) => Value::String(s.clone()),
                    CompValue::Bool(b) => Value::Bool(*b),
                    _ => return false,
                };
                out.insert(sub.name.into(), v);
                true
            }
            _ => false,
        }
    }
    let mut out = Map::new();
    walk(a, f, &mut out).then_some(out)
}

/// Evaluates a value filter against one element of `a`.
pub fn matches(a: &Attribute, f: &Filter, elem: &Map<String, Value>) -> Result<bool, ScimError> {
    let invalid = |m: String| ScimError::bad(ScimType::InvalidFilter, m);
    let sub_of = |path: &AttrPath| {
        if path.urn.is_some() || path.sub.is_some() {
            return Err(invalid(format!("inside {}[...] name a sub-attribute only", a.name)));
        }
        a.sub_attribute(&path.name).ok_or_else(|| invalid(format!("{} has no sub-attribute {:?}", a.name, path.name)))
    };
    Ok(match f {
        Filter::And(l, r) => matches(a, l, elem)? && matches(a, r, elem)?,
        Filter::Or(l, r) => matches(a, l, elem)? || matches(a, r, elem)?,
        Filter::Not(x) => !matches(a, x, elem)?,
        Filter::ValuePath { .. } => return Err(invalid("value paths cannot nest".into())),
        Filter::Present(path) => {
            let sub = sub_of(path)?;
            match get_ci(elem, sub.name) {
                None | Some(Value::Null) => false,
                Some(Value::String(s)) => !s.is_empty(),
                Some(_) => true,
            }
        }
        Filter::Compare { path, op, value } => {
            let sub = sub_of(path)?;
            compare(sub, get_ci(elem, sub.name), *op, value)?
        }
    })
}

fn compare(sub: &Attribute, have: Option<&Value>, op: CompareOp, want: &CompValue) -> Result<bool, ScimError> {
    let have = have.filter(|v| !v.is_null());
    match (have, want) {
        (None, CompValue::Null) | (Some(_), CompValue::Null) => {
            return match op {
                CompareOp::Eq => Ok(have.is_none()),
                CompareOp::Ne => Ok(have.is_some()),
                _ => Err(ScimError::bad(ScimType::InvalidFilter, "null compares with eq and ne only")),
            };
        }
        (None, _) => return Ok(op == CompareOp::Ne),
        _ => {}
    }
    if sub.ty == Type::Boolean {
        let CompValue::Bool(w) = want else {
            return Err(ScimError::bad(ScimType::InvalidFilter, format!("{} is a boolean", sub.name)));
        };
        let h = have
            .is_some_and(|v| v.as_bool() == Some(true) || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true")));
        return match op {
            CompareOp::Eq => Ok(h == *w),
            CompareOp::Ne => Ok(h != *w),
            _ => Err(ScimError::bad(ScimType::InvalidFilter, "booleans compare with eq and ne only")),
        };
    }
    let CompValue::String(w) = want else {
        return Err(ScimError::bad(ScimType::InvalidFilter, format!("{} is a string", sub.name)));
    };
    let Some(h) = have.and_then(Value::as_str) else { return Ok(op == CompareOp::Ne) };
    let (h, w) = if sub.case_exact { (h.to_owned(), w.clone()) } else { (h.to_lowercase(), w.to_lowercase()) };
    Ok(match op {
        CompareOp::Eq => h == w,
        CompareOp::Ne => h != w,
        CompareOp::Co => h.contains(&w),
        CompareOp::Sw => h.starts_with(&w),
        CompareOp::Ew => h.ends_with(&w),
        CompareOp::Gt => h > w,
        CompareOp::Lt => h < w,
        CompareOp::Ge => h >= w,
        CompareOp::Le => h <= w,
    })
}
