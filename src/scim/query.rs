//! A filter AST becomes a SQL condition (sea-query), never an in-memory
//! scan: `userName eq "x"` uses the unique index on the normalized name,
//! `emails[type eq "work" and value co "@x"]` is one `EXISTS` over the
//! side table, so both sides of the `and` hold for the same element.
//!
//! Case: attributes with `caseExact: false` compare lower-cased on both
//! sides (`LOWER()` in SQL, or a column stored lower-cased where one
//! exists). SQLite's `LOWER()` folds ASCII only, so on SQLite a
//! case-insensitive match of non-ASCII letters needs matching case unless
//! the attribute has a lower-cased column (`userName`, `emails.value`,
//! group `displayName`). Every comparison is two-valued (a missing
//! attribute is simply not equal), so `not` behaves as SCIM expects.

use super::error::{ScimError, ScimType};
use super::filter::{AttrPath, CompValue, CompareOp, Filter};
use super::schema::{Attribute, ResourceKind, Storage, Type};
use sea_orm::DbBackend;
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Func, Query, SimpleExpr};

const MULTI: &str = "user_multi_values";
const MEMBERS: &str = "group_members";

fn invalid(m: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidFilter, m)
}

/// The table a resource lives in.
pub fn table(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "users",
        ResourceKind::Group => "groups",
    }
}

fn col(table: &'static str, column: &'static str) -> Expr {
    Expr::col((Alias::new(table), Alias::new(column)))
}

struct Cx {
    kind: ResourceKind,
    backend: DbBackend,
}

/// Translates a filter into a condition on `table(kind)`.
pub fn condition(kind: ResourceKind, f: &Filter, backend: DbBackend) -> Result<SimpleExpr, ScimError> {
    Cx { kind, backend }.filter(f)
}

/// The column `sortBy` orders by (RFC 7644 §3.4.2.3: a multi-valued
/// attribute sorts by its primary value: `emails` by the primary email).
pub fn sort_column(kind: ResourceKind, path: &AttrPath) -> Result<Expr, ScimError> {
    let bad = || ScimError::bad(ScimType::InvalidValue, format!("cannot sort by {:?}", path.name));
    let (_, a) = kind.find(path.urn.as_deref(), &path.name).ok_or_else(bad)?;
    let t = table(kind);
    let target = match (&path.sub, a.storage) {
        (None, Storage::Column(c)) => c,
        (None, Storage::Normalized { normalized, .. }) => normalized,
        (None, Storage::MultiValues) | (Some(_), Storage::MultiValues) if a.name == "emails" => "email",
        (Some(s), Storage::Nested) => match a.sub_attribute(s).map(|s| s.storage) {
            Some(Storage::Column(c)) => c,
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    Ok(col(t, target))
}

impl Cx {
    fn filter(&self, f: &Filter) -> Result<SimpleExpr, ScimError> {
        Ok(match f {
            Filter::And(l, r) => self.filter(l)?.and(self.filter(r)?),
            Filter::Or(l, r) => self.filter(l)?.or(self.filter(r)?),
            Filter::Not(x) => self.filter(x)?.not(),
            Filter::Present(path) => self.leaf(path, None)?,
            Filter::Compare { path, op, value } => self.leaf(path, Some((*op, value)))?,
            Filter::ValuePath { path, filter } => {
                if path.sub.is_some() {
                    return Err(invalid("a value path takes no sub-attribute before ["));
                }
                let (_, a) = self.resolve(path)?;
                match a.storage {
                    Storage::MultiValues => self.exists_multi(a, Some(self.element_filter(a, filter)?)),
                    Storage::Membership => self.membership(a, filter)?,
                    _ => return Err(invalid(format!("{} is not multi-valued", a.name))),
                }
            }
        })
    }

    fn resolve(&self, path: &AttrPath) -> Result<(Option<&'static str>, &'static Attribute), ScimError> {
        self.kind
            .find(path.urn.as_deref(), &path.name)
            .ok_or_else(|| invalid(format!("no attribute {:?} on {}", path.name, self.kind.name())))
    }

    /// `attr op value` or `attr pr` (`cmp` is `None`) on a top-level path.
    fn leaf(&self, path: &AttrPath, cmp: Option<(CompareOp, &CompValue)>) -> Result<SimpleExpr, ScimError> {
        let (_, a) = self.resolve(path)?;
        let t = table(self.kind);
        match (a.storage, &path.sub) {
            (Storage::Column(c), None) => self.compare(a, col(t, c), None, cmp),
            (Storage::Normalized { column, normalized }, None) => {
                self.compare(a, col(t, column), Some(col(t, normalized)), cmp)
            }
            (Storage::Nested, Some(s)) => {
                let sub = a.sub_attribute(s).ok_or_else(|| invalid(format!("no attribute {}.{s}", a.name)))?;
                match sub.storage {
                    Storage::Column(c) => self.compare(sub, col(t, c), None, cmp),
                    _ => Err(invalid(format!("{}.{} cannot be filtered", a.name, sub.name))),
                }
            }
            (Storage::Nested, None) => match cmp {
                // `name pr`: any sub-attribute present.
                None => {
                    let mut any: Option<SimpleExpr> = None;
                    for sub in a.sub {
                        if let Storage::Column(c) = sub.storage {
                            let e = self.compare(sub, col(t, c), None, None)?;
                            any = Some(match any {
                                Some(x) => x.or(e),
                                None => e,
                            });
                        }
                    }
                    any.ok_or_else(|| invalid(format!("{} cannot be filtered", a.name)))
                }
                Some(_) => Err(invalid(format!("{} is complex; compare one of its sub-attributes", a.name))),
            },
            (Storage::MultiValues, sub) => {
                // `emails co "x"` means `emails.value co "x"` (RFC 7644 §3.4.2.2).
                let inner = match (sub, cmp) {
                    (None, None) => None,
                    (s, _) => {
                        let name = s.as_deref().unwrap_or("value");
                        let sub =
                            a.sub_attribute(name).ok_or_else(|| invalid(format!("no attribute {}.{name}", a.name)))?;
                        Some(self.multi_column(sub, cmp)?)
                    }
                };
                Ok(self.exists_multi(a, inner))
            }
            (Storage::Membership, sub) => {
                if sub.as_deref().is_some_and(|s| !s.eq_ignore_ascii_case("value")) {
                    return Err(invalid(format!("{} can be filtered by value only", a.name)));
                }
                let id = match cmp {
                    None => None,
                    Some((CompareOp::Eq, CompValue::String(id))) => Some(id.clone()),
                    Some(_) => return Err(invalid(format!("{}.value supports eq and pr only", a.name))),
                };
                Ok(self.exists_members(id.into_iter().collect()))
            }
            _ => Err(invalid(format!("{} cannot be filtered", a.name))),
        }
    }

    /// A condition on one row of the side table.
    fn multi_column(&self, sub: &Attribute, cmp: Option<(CompareOp, &CompValue)>) -> Result<SimpleExpr, ScimError> {
        match sub.storage {
            Storage::Column("value") => self.compare(sub, col(MULTI, "value"), Some(col(MULTI, "value_ci")), cmp),
            Storage::Column(c) => self.compare(sub, col(MULTI, c), None, cmp),
            _ => Err(invalid(format!("{} cannot be filtered", sub.name))),
        }
    }

    /// The filter inside `attr[...]`, on one side-table row.
    fn element_filter(&self, a: &Attribute, f: &Filter) -> Result<SimpleExpr, ScimError> {
        let sub = |p: &AttrPath| {
            if p.urn.is_some() || p.sub.is_some() {
                return Err(invalid(format!("inside {}[...] name a sub-attribute only", a.name)));
            }
            a.sub_attribute(&p.name).ok_or_else(|| invalid(format!("no attribute {}.{}", a.name, p.name)))
        };
        Ok(match f {
            Filter::And(l, r) => self.element_filter(a, l)?.and(self.element_filter(a, r)?),
            Filter::Or(l, r) => self.element_filter(a, l)?.or(self.element_filter(a, r)?),
            Filter::Not(x) => self.element_filter(a, x)?.not(),
            Filter::Present(p) => self.multi_column(sub(p)?, None)?,
            Filter::Compare { path, op, value } => self.multi_column(sub(path)?, Some((*op, value)))?,
            Filter::ValuePath { .. } => return Err(invalid("value paths cannot nest")),
        })
    }

    fn exists_multi(&self, a: &Attribute, inner: Option<SimpleExpr>) -> SimpleExpr {
        let mut q = Query::select();
        q.expr(Expr::val(1))
            .from(Alias::new(MULTI))
            .and_where(col(MULTI, "user_id").equals((Alias::new("users"), Alias::new("id"))))
            .and_where(col(MULTI, "attribute").eq(a.name));
        if let Some(i) = inner {
            q.and_where(i);
        }
        Expr::exists(q.to_owned())
    }

    /// `members[value eq "id"]` / `groups[value eq "id"]`.
    fn membership(&self, a: &Attribute, f: &Filter) -> Result<SimpleExpr, ScimError> {
        let mut ids = Vec::new();
        collect_ids(a, f, &mut ids)?;
        Ok(self.exists_members(ids))
    }

    /// Some membership row links this resource (to one of `ids`, if any).
    fn exists_members(&self, ids: Vec<String>) -> SimpleExpr {
        let (own, other) = match self.kind {
            ResourceKind::User => ("user_id", "group_id"),
            ResourceKind::Group => ("group_id", "user_id"),
        };
        let mut q = Query::select();
        q.expr(Expr::val(1))
            .from(Alias::new(MEMBERS))
            .and_where(col(MEMBERS, own).equals((Alias::new(table(self.kind)), Alias::new("id"))));
        if !ids.is_empty() {
            q.and_where(col(MEMBERS, other).is_in(ids));
        }
        Expr::exists(q.to_owned())
    }

    /// One comparison. `norm` is a lower-cased copy of `column`, if stored.
    fn compare(
        &self,
        a: &Attribute,
        column: Expr,
        norm: Option<Expr>,
        cmp: Option<(CompareOp, &CompValue)>,
    ) -> Result<SimpleExpr, ScimError> {
        let Some((op, value)) = cmp else {
            return Ok(match a.ty {
                Type::String | Type::Reference => column.clone().is_not_null().and(column.ne("")),
                _ => column.is_not_null(),
            });
        };
        if let CompValue::Null = value {
            return match op {
                CompareOp::Eq => Ok(column.is_null()),
                CompareOp::Ne => Ok(column.is_not_null()),
                _ => Err(invalid("null compares with eq and ne only")),
            };
        }
        // `e AND column IS NOT NULL` is false, never NULL, for a missing
        // value (so `not` includes it), and unlike COALESCE it leaves the
        // comparison sargable: `userName eq` stays an index lookup.
        let present = column.clone().is_not_null();
        let two_valued = |e: SimpleExpr| -> SimpleExpr { e.and(present.clone()) };
        match a.ty {
            Type::Boolean => {
                let CompValue::Bool(b) = value else {
                    return Err(invalid(format!("{} is a boolean; compare it with true or false", a.name)));
                };
                match op {
                    CompareOp::Eq => Ok(two_valued(column.eq(*b))),
                    CompareOp::Ne => Ok(two_valued(column.eq(*b)).not()),
                    _ => Err(invalid("booleans compare with eq and ne only")),
                }
            }
            Type::DateTime => {
                let CompValue::String(s) = value else {
                    return Err(invalid(format!("{} is a dateTime; compare it with a string", a.name)));
                };
                if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                    return Err(invalid(format!("{} supports eq ne gt ge lt le", a.name)));
                }
                let t = chrono::DateTime::parse_from_rfc3339(s)
                    .map_err(|_| invalid(format!("{s:?} is not an RFC 3339 date-time")))?
                    .with_timezone(&chrono::Utc);
                let (lhs, rhs) = match self.backend {
                    DbBackend::Sqlite => (call("julianday", [column]), call("julianday", [Expr::val(t)])),
                    _ => (column, Expr::val(t)),
                };
                let e = match op {
                    CompareOp::Eq => lhs.eq(rhs),
                    CompareOp::Ne => return Ok(two_valued(lhs.eq(rhs)).not()),
                    CompareOp::Gt => lhs.gt(rhs),
                    CompareOp::Ge => lhs.gte(rhs),
                    CompareOp::Lt => lhs.lt(rhs),
                    CompareOp::Le => lhs.lte(rhs),
                    CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
                        return Err(invalid(format!("{} supports eq ne gt ge lt le", a.name)));
                    }
                };
                Ok(two_valued(e))
            }
            Type::String | Type::Reference | Type::Complex => {
                let CompValue::String(s) = value else {
                    return Err(invalid(format!("{} is a string; compare it with a string", a.name)));
                };
                let (lhs, rhs) = match (a.case_exact, norm) {
                    (true, _) => (column, Expr::val(s.clone())),
                    // userName compares by its RFC 8265 key, as sign-in does.
                    (false, Some(n)) if a.name == "userName" && matches!(op, CompareOp::Eq | CompareOp::Ne) => {
                        let key = crate::accounts::identifiers::login_key(s).unwrap_or_else(|| s.to_lowercase());
                        (n, Expr::val(key))
                    }
                    (false, Some(n)) => (n, Expr::val(s.to_lowercase())),
                    (false, None) => (Func::lower(column).into(), Func::lower(Expr::val(s.clone())).into()),
                };
                let e = match op {
                    CompareOp::Eq => lhs.eq(rhs),
                    CompareOp::Ne => return Ok(two_valued(lhs.eq(rhs)).not()),
                    CompareOp::Co => {
                        let f = if self.backend == DbBackend::Sqlite { "instr" } else { "strpos" };
                        call(f, [lhs, rhs]).gt(0)
                    }
                    CompareOp::Sw => call("substr", [lhs, Expr::val(1), call("length", [rhs.clone()])]).eq(rhs),
                    CompareOp::Ew => {
                        let (len_l, len_r) = (call("length", [lhs.clone()]), call("length", [rhs.clone()]));
                        let start = len_l.clone().sub(len_r.clone()).add(1);
                        len_l.gte(len_r).and(call("substr", [lhs, start]).eq(rhs))
                    }
                    CompareOp::Gt => lhs.gt(rhs),
                    CompareOp::Ge => lhs.gte(rhs),
                    CompareOp::Lt => lhs.lt(rhs),
                    CompareOp::Le => lhs.lte(rhs),
                };
                Ok(two_valued(e))
            }
        }
    }
}

/// `name(args…)`: plain SQL functions both engines have under these names
/// (`strpos` and `instr` are chosen per engine by the caller).
fn call<const N: usize>(name: &'static str, args: [Expr; N]) -> Expr {
    Func::cust(Alias::new(name)).args(args).into()
}

fn collect_ids(a: &Attribute, f: &Filter, out: &mut Vec<String>) -> Result<(), ScimError> {
    match f {
        Filter::Or(l, r) => {
            collect_ids(a, l, out)?;
            collect_ids(a, r, out)
        }
        Filter::Compare { path, op: CompareOp::Eq, value: CompValue::String(id) }
            if path.urn.is_none() && path.sub.is_none() && path.name.eq_ignore_ascii_case("value") =>
        {
            out.push(id.clone());
            Ok(())
        }
        _ => Err(invalid(format!("{}[...] supports value eq \"id\" terms joined by or", a.name))),
    }
}

#[cfg(test)]
mod tests;
