//! The provisioning operations `/scim/v2` exposes, without HTTP: parse and
//! validate against the schema, enforce what a SCIM token may touch, and
//! store. The web layer maps requests and `ScimError` to the wire.
//!
//! Isolation: a SCIM token sees and changes only resources created over
//! SCIM (`scim_managed`). A `userName` that already belongs to a local
//! account is a 409 `uniqueness` on create, never an adoption of that
//! account; administrators (`is_admin`, or a member of a group that grants
//! admin) and groups that grant admin can be read but never changed.

use super::error::{ScimError, ScimType};
use super::patch;
use super::resource::{self, GroupResource, Parsed, UserResource};
use super::schema::ResourceKind;
use crate::accounts::password::PasswordHasher;
use crate::accounts::users::{self as accounts, AccountError, Password, PasswordPolicy, Username};
use crate::audit::AuditEvent;
use crate::store::Db;
use crate::store::scim::groups;
use crate::store::scim::{self as store, UserWrite};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// Items per page when the client does not say.
pub const DEFAULT_PAGE_SIZE: u64 = 100;

/// A list request (query string or `.search` body).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

/// A stored resource as SCIM JSON (before projection), with its id and
/// version for `Location` and `ETag`.
pub struct Rendered {
    pub id: String,
    pub version: i64,
    pub doc: Value,
    /// Member ids a group write skipped (`UnknownMembers::Ignore`), for the
    /// audit trail; empty for everything else.
    pub skipped_members: Vec<String>,
}

/// What a write does.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    Create,
    Replace(&'a str),
    Patch(&'a str),
}

/// What one request may do, with what it needs.
pub struct Provisioning<'a> {
    pub db: &'a Db,
    pub hasher: &'a PasswordHasher,
    pub policy: PasswordPolicy,
    pub now: DateTime<Utc>,
    /// This instance's revocation list: a deactivated user's access tokens
    /// go in at once.
    pub revoked: &'a crate::oauth::revocation_list::RevocationList,
    /// This instance's session cache: a deactivated or deleted user's
    /// sessions leave it at once.
    pub sessions: &'a dyn accounts::SessionCache,
    /// The `/scim/v2` URL, for `meta.location` and `$ref`.
    pub base: &'a str,
    pub unknown_members: UnknownMembers,
    /// Who the writes' audit events name; required for writes (a write
    /// without it fails rather than go unaudited), unused by reads.
    pub audit: Option<AuditAs>,
}

impl Provisioning<'_> {
    fn user_doc(&self, u: &UserResource) -> Rendered {
        Rendered {
            id: u.meta.id.clone(),
            version: u.meta.version,
            doc: resource::render_user(u, self.base),
            skipped_members: Vec::new(),
        }
    }

    fn group_doc(&self, g: &GroupResource) -> Rendered {
        Rendered {
            id: g.meta.id.clone(),
            version: g.meta.version,
            doc: resource::render_group(g, self.base),
            skipped_members: Vec::new(),
        }
    }

    /// The event a write records, in its transaction.
    fn event(&self, action: &'static str, target: &str) -> Result<AuditEvent, ScimError> {
        self.audit.as_ref().map(|a| a.event(action, target)).ok_or_else(|| ScimError::internal(NoAuditContext))
    }

    fn written_group(&self, (g, skipped): (GroupResource, Vec<String>)) -> Rendered {
        Rendered { skipped_members: skipped, ..self.group_doc(&g) }
    }

    /// GET by id; a group's members only when `with_members`.
    pub async fn fetch(&self, kind: ResourceKind, id: &str, with_members: bool) -> Result<Rendered, ScimError> {
        match kind {
            ResourceKind::User => Ok(self.user_doc(&self.get_user(id).await?)),
            ResourceKind::Group => Ok(self.group_doc(&self.get_group(id, with_members).await?)),
        }
    }

    /// POST, PUT or PATCH. A patched group is read back with its members
    /// only when `with_members`.
    pub async fn write(
        &self,
        kind: ResourceKind,
        change: Change<'_>,
        body: &Value,
        if_match: Option<i64>,
        with_members: bool,
    ) -> Result<Rendered, ScimError> {
        Ok(match (kind, change) {
            (ResourceKind::User, Change::Create) => self.user_doc(&self.create_user(body).await?),
            (ResourceKind::User, Change::Replace(id)) => self.user_doc(&self.replace_user(id, body, if_match).await?),
            (ResourceKind::User, Change::Patch(id)) => self.user_doc(&self.patch_user(id, body, if_match).await?),
            (ResourceKind::Group, Change::Create) => self.written_group(self.create_group(body).await?),
            (ResourceKind::Group, Change::Replace(id)) => {
                self.written_group(self.replace_group(id, body, if_match).await?)
            }
            (ResourceKind::Group, Change::Patch(id)) => {
                self.written_group(self.patch_group(id, body, if_match, with_members).await?)
            }
        })
    }

    pub async fn delete(&self, kind: ResourceKind, id: &str, if_match: Option<i64>) -> Result<(), ScimError> {
        match kind {
            ResourceKind::User => self.delete_user(id, if_match).await,
            ResourceKind::Group => self.delete_group(id, if_match).await,
        }
    }

    pub async fn get_user(&self, id: &str) -> Result<UserResource, ScimError> {
        store::find_user(self.db, id).await?.ok_or(ScimError::NotFound)
    }

    pub async fn create_user(&self, body: &Value) -> Result<UserResource, ScimError> {
        let parsed = resource::parse(ResourceKind::User, body)?;
        let id = uuid::Uuid::new_v4().to_string();
        let (write, _) = self.user_write(parsed, None, true).await?;
        // A taken userName or email is a unique violation of the login
        // namespace, written in the same transaction: 409 from there.
        let audit = vec![self.event("scim.user.created", &id)?];
        store::insert_user(self.db, &id, write, self.now, audit).await?;
        self.get_user(&id).await
    }

    /// PUT: the body replaces every writable attribute.
    pub async fn replace_user(&self, id: &str, body: &Value, if_match: Option<i64>) -> Result<UserResource, ScimError> {
        for attempt in 0.. {
            let current = self.writable_user(id, if_match).await?;
            let parsed = resource::parse(ResourceKind::User, body)?;
            match self.store_user(current, parsed, "scim.user.replaced").await {
                Err(ScimError::PreconditionFailed) if retry(if_match, attempt) => continue,
                r => return r,
            }
        }
        Err(ScimError::PreconditionFailed)
    }

    pub async fn patch_user(&self, id: &str, body: &Value, if_match: Option<i64>) -> Result<UserResource, ScimError> {
        let ops = patch::parse_request(body)?;
        for attempt in 0.. {
            let current = self.writable_user(id, if_match).await?;
            let mut doc = resource::render_user(&current, self.base);
            strip_read_only(&mut doc);
            patch::apply(ResourceKind::User, &mut doc, ops.clone())?;
            let parsed = resource::parse(ResourceKind::User, &doc)?;
            match self.store_user(current, parsed, "scim.user.patched").await {
                Err(ScimError::PreconditionFailed) if retry(if_match, attempt) => continue,
                r => return r,
            }
        }
        Err(ScimError::PreconditionFailed)
    }

    pub async fn delete_user(&self, id: &str, if_match: Option<i64>) -> Result<(), ScimError> {
        self.writable_user(id, if_match).await?;
        // Access tokens are self-contained: revoke them before the account
        // (and with it their refresh tokens) goes.
        self.sign_out_everywhere(id).await?;
        Ok(store::delete_user(self.db, id, vec![self.event("scim.user.deleted", id)?]).await?)
    }

    async fn sign_out_everywhere(&self, id: &str) -> Result<(), ScimError> {
        let revoked = accounts::sign_out_everywhere(self.db, id, self.now).await.map_err(account_error)?;
        revoked.iter().for_each(|(jti, exp)| self.revoked.insert(jti, *exp));
        self.sessions.forget_user(id);
        Ok(())
    }

    async fn writable_user(&self, id: &str, if_match: Option<i64>) -> Result<UserResource, ScimError> {
        let u = self.get_user(id).await?;
        if u.is_admin || groups::in_admin_group(self.db, id).await? {
            return Err(ScimError::Forbidden("administrators cannot be changed over SCIM"));
        }
        if if_match.is_some_and(|v| v != u.meta.version) {
            return Err(ScimError::PreconditionFailed);
        }
        Ok(u)
    }

    async fn store_user(
        &self,
        current: UserResource,
        parsed: Parsed,
        action: &'static str,
    ) -> Result<UserResource, ScimError> {
        let id = current.meta.id.clone();
        let old_hash = self.current_hash(&id).await?;
        let (write, changed_password) =
            self.user_write(parsed, Some((&id, old_hash.as_deref())), current.active).await?;
        let deactivated = current.active && !write.active;
        store::replace_user(self.db, &id, current.meta.version, write, self.now, vec![self.event(action, &id)?])
            .await?;
        if deactivated {
            self.sign_out_everywhere(&id).await?;
        }
        if changed_password {
            accounts::remember_replaced(self.db, &self.policy, &id, old_hash.as_deref(), self.now)
                .await
                .map_err(account_error)?;
        }
        self.get_user(&id).await
    }

    async fn current_hash(&self, id: &str) -> Result<Option<String>, ScimError> {
        Ok(crate::store::users::find_by_id(self.db, id)
            .await
            .map_err(|e| ScimError::internal(AccountError::from(e)))?
            .and_then(|u| u.password_hash))
    }

    /// Validates a parsed user; `existing` is (id, current hash) on update.
    /// Without `active` the user keeps `active_default` (true on create,
    /// the current value on update: leaving `active` out never re-enables).
    async fn user_write(
        &self,
        parsed: Parsed,
        existing: Option<(&str, Option<&str>)>,
        active_default: bool,
    ) -> Result<(UserWrite, bool), ScimError> {
        let name = parsed.name.unwrap_or_default();
        let username = Username::parse(&name).map_err(account_error)?;
        let mut columns = parsed.columns;
        if let Some(d) = columns.get("display_name") {
            accounts::parse_display_name(d).map_err(account_error)?;
        }
        if let Some(m) = columns.get("manager_id")
            && uuid::Uuid::parse_str(m).is_err()
        {
            return Err(ScimError::bad(ScimType::InvalidValue, "manager.value must be a user id"));
        }
        columns.retain(|_, v| !v.is_empty());
        let emails: Vec<&resource::MultiValue> = parsed.multi.iter().filter(|m| m.attribute == "emails").collect();
        let email = emails
            .iter()
            .find(|m| m.primary)
            .or(emails.first())
            .and_then(|m| m.fields.get("value"))
            .map(|v| accounts::parse_email(v).map_err(account_error))
            .transpose()?;
        let mut changed = false;
        let password_hash = match parsed.password {
            None => None,
            Some(p) => {
                let password = Password::parse(p).map_err(account_error)?;
                let identity = [username.as_str(), email.as_deref().unwrap_or("")];
                let hash = match existing {
                    Some((id, current)) => {
                        accounts::hash_new_password(
                            self.db,
                            self.hasher,
                            &self.policy,
                            id,
                            current,
                            &identity,
                            password,
                        )
                        .await
                    }
                    None => {
                        accounts::hash_new_password(
                            self.db,
                            self.hasher,
                            &PasswordPolicy { history: 0, ..self.policy },
                            "",
                            None,
                            &identity,
                            password,
                        )
                        .await
                    }
                }
                .map_err(account_error)?;
                changed = true;
                Some(hash)
            }
        };
        Ok((
            UserWrite {
                username: username.as_str().to_owned(),
                username_normalized: username.normalized().to_owned(),
                active: parsed.active.unwrap_or(active_default),
                login_email: email.as_deref().and_then(crate::accounts::identifiers::email_key),
                email,
                password_hash,
                columns,
                multi: parsed.multi,
            },
            changed,
        ))
    }
}

/// A write that lost a race with another writer is re-read and re-applied
/// a few times, unless the client pinned a version with `If-Match`.
pub(super) fn retry(if_match: Option<i64>, attempt: u32) -> bool {
    if_match.is_none() && attempt < 10
}

/// Whether a group response must list members, given the projection.
pub fn wants_members(attributes: Option<&str>, excluded: Option<&str>) -> Result<bool, ScimError> {
    if let Some(a) = attributes.filter(|a| !a.trim().is_empty()) {
        return resource::mentions(ResourceKind::Group, a, "members");
    }
    match excluded.filter(|e| !e.trim().is_empty()) {
        Some(e) => Ok(!resource::mentions(ResourceKind::Group, e, "members")?),
        None => Ok(true),
    }
}

/// Read-only attributes are not part of what PATCH edits.
pub(super) fn strip_read_only(doc: &mut Value) {
    if let Value::Object(o) = doc {
        for k in ["id", "meta", "groups", "schemas"] {
            o.remove(k);
        }
    }
}

mod audit;
mod errors;
mod group_ops;
mod list;

use audit::NoAuditContext;
pub use audit::{AuditAs, action};
use errors::account_error;

pub use group_ops::UnknownMembers;
