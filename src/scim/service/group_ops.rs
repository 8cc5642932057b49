//! Group provisioning: create, replace, patch (members row by row) and
//! delete, with the admin-group guard.

use super::{Provisioning, retry, strip_read_only};
use crate::audit::AuditEvent;
use crate::scim::error::{ScimError, ScimType};
use crate::scim::patch::{self, MemberChanges};
use crate::scim::resource::{self, GroupResource, Parsed};
use crate::scim::schema::ResourceKind;
use crate::store::scim::ScimStoreError;
use crate::store::scim::groups::{self, GroupWrite};
use serde_json::Value;

/// Most skipped ids one audit event names.
const MAX_SKIPPED_NAMED: usize = 20;

crate::wire::wire_enum! {
    /// What a group write does with member ids that are not users
    /// provisioned over SCIM (unknown, deleted, or local accounts).
    pub enum UnknownMembers {
        /// Skip them and write the rest; the write's transaction records
        /// an event naming them, and the handler counts them. Entra ID
        /// retries a refused batch for ever, so one stale id would
        /// otherwise stall every later change.
        Ignore = "ignore",
        /// Refuse the whole request with 400 `invalidValue`.
        Reject = "reject",
    }
}

impl Provisioning<'_> {
    pub async fn get_group(&self, id: &str, with_members: bool) -> Result<GroupResource, ScimError> {
        groups::find_group(self.db, id, with_members).await?.ok_or(ScimError::NotFound)
    }

    /// Creates a group; returns it and the member ids skipped.
    pub async fn create_group(&self, body: &Value) -> Result<(GroupResource, Vec<String>), ScimError> {
        let parsed = resource::parse(ResourceKind::Group, body)?;
        let mut members = parsed.members.clone().unwrap_or_default();
        let write = group_write(parsed)?;
        let skipped = self.check_members(&members).await?;
        if !skipped.is_empty() {
            let skip: std::collections::HashSet<&String> = skipped.iter().collect();
            members.retain(|m| !skip.contains(m));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let audit = self.group_events("scim.group.created", &id, &skipped)?;
        groups::insert_group(self.db, &id, write, &members, self.now, audit).await?;
        Ok((self.get_group(&id, true).await?, skipped))
    }

    pub async fn replace_group(
        &self,
        id: &str,
        body: &Value,
        if_match: Option<i64>,
    ) -> Result<(GroupResource, Vec<String>), ScimError> {
        for attempt in 0.. {
            let current = self.writable_group(id, if_match).await?;
            let parsed = resource::parse(ResourceKind::Group, body)?;
            let mut changes =
                MemberChanges { replace: Some(parsed.members.clone().unwrap_or_default()), ..Default::default() };
            let write = group_write(parsed)?;
            let skipped = self.check_members(changes.replace.as_deref().unwrap_or_default()).await?;
            changes.skip(&skipped);
            let audit = self.group_events("scim.group.replaced", id, &skipped)?;
            match groups::update_group(self.db, id, current.meta.version, Some(write), &changes, self.now, audit).await
            {
                Err(ScimStoreError::Conflict) if retry(if_match, attempt) => continue,
                r => r?,
            }
            return Ok((self.get_group(id, true).await?, skipped));
        }
        Err(ScimError::PreconditionFailed)
    }

    /// PATCH; returns the group without members unless `with_members`
    /// (a large group is not read back for every membership change).
    pub async fn patch_group(
        &self,
        id: &str,
        body: &Value,
        if_match: Option<i64>,
        with_members: bool,
    ) -> Result<(GroupResource, Vec<String>), ScimError> {
        let ops = patch::parse_request(body)?;
        for attempt in 0.. {
            let current = self.writable_group(id, if_match).await?;
            let mut doc = resource::render_group(&current, self.base);
            strip_read_only(&mut doc);
            let mut changes = patch::apply(ResourceKind::Group, &mut doc, ops.clone())?;
            let write = group_write(resource::parse(ResourceKind::Group, &doc)?)?;
            let mut added: Vec<String> = changes.add.clone();
            added.extend(changes.replace.iter().flatten().cloned());
            let skipped = self.check_members(&added).await?;
            changes.skip(&skipped);
            let audit = self.group_events("scim.group.patched", id, &skipped)?;
            match groups::update_group(self.db, id, current.meta.version, Some(write), &changes, self.now, audit).await
            {
                Err(ScimStoreError::Conflict) if retry(if_match, attempt) => continue,
                r => r?,
            }
            return Ok((self.get_group(id, with_members).await?, skipped));
        }
        Err(ScimError::PreconditionFailed)
    }

    pub async fn delete_group(&self, id: &str, if_match: Option<i64>) -> Result<(), ScimError> {
        self.writable_group(id, if_match).await?;
        Ok(groups::delete_group(self.db, id, vec![self.event("scim.group.deleted", id)?]).await?)
    }

    async fn writable_group(&self, id: &str, if_match: Option<i64>) -> Result<GroupResource, ScimError> {
        let g = self.get_group(id, false).await?;
        if g.grants_admin {
            return Err(ScimError::Forbidden("groups that grant admin cannot be changed over SCIM"));
        }
        if if_match.is_some_and(|v| v != g.meta.version) {
            return Err(ScimError::PreconditionFailed);
        }
        Ok(g)
    }

    /// A group write's events: the write, and the member ids it skipped
    /// (named, at most `MAX_SKIPPED_NAMED`; the count is exact).
    fn group_events(&self, action: &'static str, id: &str, skipped: &[String]) -> Result<Vec<AuditEvent>, ScimError> {
        let mut events = Vec::with_capacity(2);
        if !skipped.is_empty() {
            let named = skipped.iter().take(MAX_SKIPPED_NAMED).map(String::as_str).collect::<Vec<_>>().join(" ");
            let more = skipped.len().saturating_sub(MAX_SKIPPED_NAMED);
            let mut ev = self.event("scim.group.members_skipped", id)?;
            ev.reason = Some(if more > 0 {
                format!("{} unknown: {named} and {more} more", skipped.len())
            } else {
                format!("{} unknown: {named}", skipped.len())
            });
            events.push(ev);
        }
        events.push(self.event(action, id)?);
        Ok(events)
    }

    /// The ids among `ids` that are not SCIM users: to skip under
    /// `Ignore`, an error under `Reject`.
    async fn check_members(&self, ids: &[String]) -> Result<Vec<String>, ScimError> {
        let mut foreign = groups::foreign_users(self.db, ids).await?;
        foreign.sort_unstable();
        foreign.dedup();
        match (foreign.first(), self.unknown_members) {
            (Some(id), UnknownMembers::Reject) => {
                Err(ScimError::bad(ScimType::InvalidValue, format!("no user {id:?} provisioned over SCIM")))
            }
            _ => Ok(foreign),
        }
    }
}

fn group_write(parsed: Parsed) -> Result<GroupWrite, ScimError> {
    let name = parsed.name.unwrap_or_default().trim().to_owned();
    if name.chars().count() > 256 {
        return Err(ScimError::bad(ScimType::InvalidValue, "displayName is longer than 256 characters"));
    }
    Ok(GroupWrite { display_name: name, external_id: parsed.columns.get("external_id").cloned() })
}
