//! Groups and their members, for SCIM and the `groups` claim.

use super::{CHUNK, ScimStoreError, page};
use super::{GroupResource, MemberChanges, Meta};
use chrono::{DateTime, Utc};
use entity::group_members::{self, Entity as GroupMembers};
use entity::groups::{self, Entity as Groups};
use entity::users::{self, Entity as Users};
use sea_orm::sea_query::{ExprTrait as _, SimpleExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, TransactionTrait as _,
};
use std::collections::HashMap;

/// A group's new state.
pub struct GroupWrite {
    pub display_name: String,
    pub external_id: Option<String>,
}

/// Inserts a group; `audit` commits with it (see `audit::append_in`).
pub async fn insert_group(
    db: &DatabaseConnection,
    id: &str,
    w: GroupWrite,
    members: &[String],
    now: DateTime<Utc>,
    audit: Vec<crate::audit::AuditEvent>,
) -> Result<(), ScimStoreError> {
    let tx = db.begin().await?;
    Groups::insert(groups::ActiveModel {
        id: Set(id.to_owned()),
        display_name_normalized: Set(w.display_name.to_lowercase()),
        display_name: Set(w.display_name),
        external_id: Set(w.external_id),
        scim_managed: Set(true),
        grants_admin: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    })
    .exec(&tx)
    .await?;
    add_members(&tx, id, members, now).await?;
    crate::store::audit::append_in(&tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

/// Changes a group if it is still at `version`: its attributes (if
/// `w` is given) and its members (`replace`, else `add` and `remove`);
/// `audit` commits with it.
pub async fn update_group(
    db: &DatabaseConnection,
    id: &str,
    version: i64,
    w: Option<GroupWrite>,
    changes: &MemberChanges,
    now: DateTime<Utc>,
    audit: Vec<crate::audit::AuditEvent>,
) -> Result<(), ScimStoreError> {
    let tx = db.begin().await?;
    let mut am = groups::ActiveModel { updated_at: Set(now), version: Set(version + 1), ..Default::default() };
    if let Some(w) = w {
        am.display_name_normalized = Set(w.display_name.to_lowercase());
        am.display_name = Set(w.display_name);
        am.external_id = Set(w.external_id);
    }
    let res = Groups::update_many()
        .set(am)
        .filter(groups::Column::Id.eq(id))
        .filter(groups::Column::Version.eq(version))
        .exec(&tx)
        .await?;
    if res.rows_affected == 0 {
        return Err(ScimStoreError::Conflict);
    }
    if let Some(all) = &changes.replace {
        GroupMembers::delete_many().filter(group_members::Column::GroupId.eq(id)).exec(&tx).await?;
        add_members(&tx, id, all, now).await?;
    }
    add_members(&tx, id, &changes.add, now).await?;
    for chunk in changes.remove.chunks(CHUNK) {
        GroupMembers::delete_many()
            .filter(group_members::Column::GroupId.eq(id))
            .filter(group_members::Column::UserId.is_in(chunk.to_vec()))
            .exec(&tx)
            .await?;
    }
    crate::store::audit::append_in(&tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

async fn add_members(
    db: &impl ConnectionTrait,
    group: &str,
    ids: &[String],
    now: DateTime<Utc>,
) -> Result<(), ScimStoreError> {
    for chunk in ids.chunks(CHUNK) {
        let rows = chunk.iter().map(|u| group_members::ActiveModel {
            group_id: Set(group.to_owned()),
            user_id: Set(u.clone()),
            added_at: Set(now),
        });
        GroupMembers::insert_many(rows)
            .on_conflict_do_nothing_on([group_members::Column::GroupId, group_members::Column::UserId])
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Of `ids`, those that are not SCIM-managed users (unknown or local).
pub async fn foreign_users(db: &DatabaseConnection, ids: &[String]) -> Result<Vec<String>, ScimStoreError> {
    let mut known = std::collections::HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        let found: Vec<String> = Users::find()
            .select_only()
            .column(users::Column::Id)
            .filter(users::Column::Id.is_in(chunk.to_vec()))
            .filter(users::Column::ScimManaged.eq(true))
            .into_tuple()
            .all(db)
            .await?;
        known.extend(found);
    }
    Ok(ids.iter().filter(|i| !known.contains(*i)).cloned().collect())
}

/// Deletes a group; `audit` commits with it.
pub async fn delete_group(
    db: &DatabaseConnection,
    id: &str,
    audit: Vec<crate::audit::AuditEvent>,
) -> Result<(), ScimStoreError> {
    let tx = db.begin().await?;
    let res = Groups::delete_by_id(id.to_owned()).exec(&tx).await?;
    if res.rows_affected == 0 {
        return Err(ScimStoreError::NotFound);
    }
    crate::store::audit::append_in(&tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn find_group(
    db: &DatabaseConnection,
    id: &str,
    with_members: bool,
) -> Result<Option<GroupResource>, ScimStoreError> {
    let Some(row) = Groups::find_by_id(id.to_owned()).filter(groups::Column::ScimManaged.eq(true)).one(db).await?
    else {
        return Ok(None);
    };
    Ok(assemble_groups(db, vec![row], with_members).await?.pop())
}

pub async fn list_groups(
    db: &DatabaseConnection,
    cond: Option<SimpleExpr>,
    sort: Option<(SimpleExpr, bool)>,
    offset: u64,
    limit: u64,
    with_members: bool,
) -> Result<(u64, Vec<GroupResource>), ScimStoreError> {
    let mut q = Groups::find().filter(groups::Column::ScimManaged.eq(true));
    if let Some(c) = cond {
        q = q.filter(c);
    }
    let tiebreak = [groups::Column::CreatedAt, groups::Column::Id];
    let (total, rows) = page(db, q, sort, tiebreak, offset, limit).await?;
    Ok((total, assemble_groups(db, rows, with_members).await?))
}

async fn assemble_groups(
    db: &DatabaseConnection,
    rows: Vec<groups::Model>,
    with_members: bool,
) -> Result<Vec<GroupResource>, ScimStoreError> {
    let mut members: HashMap<String, Vec<String>> = HashMap::new();
    if with_members {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        for chunk in ids.chunks(CHUNK) {
            let links: Vec<(String, String)> = GroupMembers::find()
                .select_only()
                .column(group_members::Column::GroupId)
                .column(group_members::Column::UserId)
                .filter(group_members::Column::GroupId.is_in(chunk.to_vec()))
                .order_by_asc(group_members::Column::UserId)
                .into_tuple()
                .all(db)
                .await?;
            for (group, user) in links {
                members.entry(group).or_default().push(user);
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| GroupResource {
            members: with_members.then(|| members.remove(&r.id).unwrap_or_default()),
            meta: Meta { id: r.id, created: r.created_at, modified: r.updated_at, version: r.version },
            display_name: r.display_name,
            external_id: r.external_id,
            scim_managed: r.scim_managed,
            grants_admin: r.grants_admin,
        })
        .collect())
}

/// Display names of the user's groups (the `groups` claim), sorted.
pub async fn group_names(db: &DatabaseConnection, user_id: &str) -> Result<Vec<String>, ScimStoreError> {
    Ok(GroupMembers::find()
        .select_only()
        .column(groups::Column::DisplayName)
        .join(
            sea_orm::JoinType::InnerJoin,
            GroupMembers::belongs_to(Groups).from(group_members::Column::GroupId).to(groups::Column::Id).into(),
        )
        .filter(group_members::Column::UserId.eq(user_id))
        .order_by_asc(groups::Column::DisplayNameNormalized)
        .into_tuple()
        .all(db)
        .await?)
}

/// Whether the user is in a group that grants admin.
pub async fn in_admin_group(db: &DatabaseConnection, user_id: &str) -> Result<bool, ScimStoreError> {
    let n = GroupMembers::find()
        .join(
            sea_orm::JoinType::InnerJoin,
            GroupMembers::belongs_to(Groups).from(group_members::Column::GroupId).to(groups::Column::Id).into(),
        )
        .filter(group_members::Column::UserId.eq(user_id))
        .filter(groups::Column::GrantsAdmin.eq(true))
        .count(db)
        .await?;
    Ok(n > 0)
}

/// Every group (SCIM-provisioned or not), by name.
pub async fn all(db: &DatabaseConnection) -> Result<Vec<groups::Model>, ScimStoreError> {
    Ok(Groups::find().order_by_asc(groups::Column::DisplayNameNormalized).all(db).await?)
}

/// Marks a group (by id or case-insensitive name) as granting admin or not;
/// with `if_version`, only while the group is still at that version
/// (`Conflict` otherwise). Returns the group now and whether this call
/// changed it (and so bumped its version).
pub async fn set_grants_admin(
    db: &DatabaseConnection,
    id_or_name: &str,
    grants: bool,
    if_version: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(groups::Model, bool), ScimStoreError> {
    let row = Groups::find()
        .filter(
            groups::Column::Id
                .eq(id_or_name)
                .or(groups::Column::DisplayNameNormalized.eq(id_or_name.trim().to_lowercase())),
        )
        .one(db)
        .await?
        .ok_or(ScimStoreError::NotFound)?;
    let mut q = Groups::update_many()
        .col_expr(groups::Column::GrantsAdmin, sea_orm::sea_query::Expr::value(grants))
        .col_expr(groups::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
        .col_expr(groups::Column::Version, sea_orm::sea_query::Expr::col(groups::Column::Version).add(1))
        .filter(groups::Column::Id.eq(row.id.clone()))
        .filter(groups::Column::GrantsAdmin.ne(grants));
    if let Some(v) = if_version {
        q = q.filter(groups::Column::Version.eq(v));
    }
    let done = q.exec(db).await?;
    let now_row = Groups::find_by_id(row.id).one(db).await?.ok_or(ScimStoreError::NotFound)?;
    if done.rows_affected == 0 && if_version.is_some_and(|v| v != now_row.version) {
        return Err(ScimStoreError::Conflict);
    }
    Ok((now_row, done.rows_affected > 0))
}

/// How many members each group has, by group id.
pub async fn member_counts(db: &DatabaseConnection) -> Result<HashMap<String, u64>, ScimStoreError> {
    let rows: Vec<(String, i64)> = GroupMembers::find()
        .select_only()
        .column(group_members::Column::GroupId)
        .column_as(group_members::Column::UserId.count(), "n")
        .group_by(group_members::Column::GroupId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(g, n)| (g, u64::try_from(n).unwrap_or(0))).collect())
}

/// How many members one group has.
pub async fn member_count(db: &DatabaseConnection, group_id: &str) -> Result<u64, ScimStoreError> {
    let n = GroupMembers::find().filter(group_members::Column::GroupId.eq(group_id)).count(db).await?;
    Ok(n)
}

/// Up to `limit` members of the group with an id after `after`, in id
/// order (the primary key's), as (id, username).
pub async fn members_page(
    db: &DatabaseConnection,
    group_id: &str,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<(String, String)>, ScimStoreError> {
    let mut q = GroupMembers::find()
        .select_only()
        .column(group_members::Column::UserId)
        .column(users::Column::Username)
        .join(
            sea_orm::JoinType::InnerJoin,
            GroupMembers::belongs_to(Users).from(group_members::Column::UserId).to(users::Column::Id).into(),
        )
        .filter(group_members::Column::GroupId.eq(group_id));
    if let Some(after) = after {
        q = q.filter(group_members::Column::UserId.gt(after));
    }
    Ok(q.order_by_asc(group_members::Column::UserId).limit(limit).into_tuple().all(db).await?)
}

/// One group by id, SCIM-managed or not.
pub async fn find_any(db: &DatabaseConnection, id: &str) -> Result<Option<groups::Model>, ScimStoreError> {
    Ok(Groups::find_by_id(id.to_owned()).one(db).await?)
}
