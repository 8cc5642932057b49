//! Listing and `.search` (RFC 7644 §3.4.2): the filter becomes SQL, then
//! sorting, paging and projection.

use super::{DEFAULT_PAGE_SIZE, ListQuery, Provisioning, wants_members};
use crate::scim::error::{ScimError, ScimType};
use crate::scim::filter::{Limits, parse_attr_path, parse_filter};
use crate::scim::query;
use crate::scim::resource;
use crate::scim::schema::{LIST_URN, MAX_PAGE_SIZE, ResourceKind};
use crate::store::scim::{self as store, groups};
use serde_json::{Value, json};

impl Provisioning<'_> {
    /// A list or `.search` request: the `ListResponse` body.
    pub async fn list(&self, kind: ResourceKind, q: &ListQuery) -> Result<Value, ScimError> {
        let backend = self.db.get_database_backend();
        let cond = match q.filter.as_deref().filter(|f| !f.trim().is_empty()) {
            Some(f) => Some(query::condition(kind, &parse_filter(f, &Limits::default())?, backend)?),
            None => None,
        };
        let sort = match q.sort_by.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(s) => {
                let path =
                    parse_attr_path(s).map_err(|e| ScimError::bad(ScimType::InvalidValue, format!("sortBy: {e}")))?;
                let asc = match q.sort_order.as_deref() {
                    None => true,
                    Some(o) if o.eq_ignore_ascii_case("ascending") => true,
                    Some(o) if o.eq_ignore_ascii_case("descending") => false,
                    Some(_) => {
                        return Err(ScimError::bad(
                            ScimType::InvalidValue,
                            "sortOrder must be ascending or descending",
                        ));
                    }
                };
                Some((query::sort_column(kind, &path)?, asc))
            }
            None => None,
        };
        // RFC 7644 §3.4.2.4: below 1 means 1; a negative count means 0.
        let start = u64::try_from(q.start_index.unwrap_or(1).max(1)).unwrap_or(1);
        let count = u64::try_from(q.count.unwrap_or(DEFAULT_PAGE_SIZE as i64).max(0)).unwrap_or(0).min(MAX_PAGE_SIZE);
        let (attrs, excluded) = (q.attributes.as_deref(), q.excluded_attributes.as_deref());
        let (total, docs) = match kind {
            ResourceKind::User => {
                let (total, users) = store::list_users(self.db, cond, sort, start - 1, count).await?;
                (total, users.iter().map(|u| resource::render_user(u, self.base)).collect::<Vec<_>>())
            }
            ResourceKind::Group => {
                let members = wants_members(attrs, excluded)?;
                let (total, groups) = groups::list_groups(self.db, cond, sort, start - 1, count, members).await?;
                (total, groups.iter().map(|g| resource::render_group(g, self.base)).collect())
            }
        };
        let docs =
            docs.into_iter().map(|d| resource::project(kind, d, attrs, excluded)).collect::<Result<Vec<_>, _>>()?;
        Ok(json!({
            "schemas": [LIST_URN],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": docs.len(),
            "Resources": docs,
        }))
    }
}
