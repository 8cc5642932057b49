//! Repository for SCIM: users with their multi-valued attributes, groups
//! with their members, and SCIM bearer tokens. Writes that touch several
//! tables run in one transaction; updates are conditional on the version
//! read, so concurrent writers never lose each other's changes silently.

use super::StoreError;
use chrono::{DateTime, Utc};
use entity::group_members::{self, Entity as GroupMembers};
use entity::groups::{self as group_rows, Entity as Groups};
use entity::user_multi_values::{self, Entity as MultiValues};
use entity::users::{self, Entity as Users};
use sea_orm::sea_query::SimpleExpr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, SqlErr, TransactionTrait as _,
};
use std::collections::{BTreeMap, HashMap};

/// SQLite's default limit on bound variables is 32766; stay far below.
const CHUNK: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum ScimStoreError {
    #[error("name already taken")]
    Taken,
    /// A sign-in name (username or login email) of another account.
    #[error("sign-in name already taken")]
    LoginTaken(super::login_names::Taken),
    #[error("the row changed since it was read")]
    Conflict,
    #[error("no such row")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for ScimStoreError {
    fn from(e: sea_orm::DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => ScimStoreError::Taken,
            _ => ScimStoreError::Store(StoreError::Db(e)),
        }
    }
}

pub mod groups;
mod records;
pub mod tokens;

pub use records::{GroupResource, MULTI_VALUED_ATTRIBUTES, MemberChanges, Meta, MultiValue, UserResource};

/// One page of `q` in the requested order (then creation, then id, so
/// pages are stable), with the total count.
async fn page<E>(
    db: &DatabaseConnection,
    q: sea_orm::Select<E>,
    sort: Option<(SimpleExpr, bool)>,
    tiebreak: [E::Column; 2],
    offset: u64,
    limit: u64,
) -> Result<(u64, Vec<E::Model>), ScimStoreError>
where
    E: sea_orm::EntityTrait,
    E::Model: Sync,
{
    let total = q.clone().count(db).await?;
    if limit == 0 {
        return Ok((total, Vec::new()));
    }
    let mut q = q;
    if let Some((expr, asc)) = sort {
        q = q.order_by(expr, if asc { sea_orm::Order::Asc } else { sea_orm::Order::Desc });
    }
    let [a, b] = tiebreak;
    Ok((total, q.order_by_asc(a).order_by_asc(b).offset(offset).limit(limit).all(db).await?))
}

/// Calls `$mac!` with every SCIM text column of `users`: one list for
/// reading and writing them (the schema test checks it against `schema.rs`).
macro_rules! user_text_columns {
    ($mac:ident) => {
        $mac!(
            external_id,
            display_name,
            name_formatted,
            family_name,
            given_name,
            middle_name,
            honorific_prefix,
            honorific_suffix,
            nick_name,
            profile_url,
            title,
            user_type,
            preferred_language,
            locale,
            timezone,
            employee_number,
            cost_center,
            organization,
            division,
            department,
            manager_id
        )
    };
}

/// The column names `user_text_columns!` covers.
pub fn user_text_column_names() -> Vec<&'static str> {
    macro_rules! names { ($($f:ident),*) => { vec![$(stringify!($f)),*] } }
    user_text_columns!(names)
}

fn read_columns(m: &users::Model) -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    macro_rules! read { ($($f:ident),*) => { $( if let Some(v) = &m.$f { out.insert(stringify!($f), v.clone()); } )* } }
    user_text_columns!(read);
    out
}

fn write_columns(am: &mut users::ActiveModel, cols: &BTreeMap<&'static str, String>) {
    macro_rules! write { ($($f:ident),*) => { $( am.$f = Set(cols.get(stringify!($f)).cloned()); )* } }
    user_text_columns!(write);
}

/// A user's new state (create or full replace).
pub struct UserWrite {
    pub username: String,
    pub username_normalized: String,
    pub active: bool,
    /// The primary (or first) email, mirrored for login and claims.
    pub email: Option<String>,
    /// That email's sign-in key, when it can be one.
    pub login_email: Option<String>,
    /// `None` keeps the current hash.
    pub password_hash: Option<String>,
    pub columns: BTreeMap<&'static str, String>,
    pub multi: Vec<MultiValue>,
}

fn multi_rows(user_id: &str, multi: &[MultiValue]) -> Vec<user_multi_values::ActiveModel> {
    let mut position: HashMap<&str, i32> = HashMap::new();
    multi
        .iter()
        .map(|m| {
            let p = position.entry(m.attribute).or_default();
            *p += 1;
            let f = |c: &str| m.fields.get(c).cloned();
            user_multi_values::ActiveModel {
                user_id: Set(user_id.to_owned()),
                attribute: Set(m.attribute.to_owned()),
                position: Set(*p),
                value: Set(f("value")),
                value_ci: Set(f("value").map(|v| v.to_lowercase())),
                display: Set(f("display")),
                r#type: Set(f("type")),
                is_primary: Set(m.primary),
                formatted: Set(f("formatted")),
                street_address: Set(f("street_address")),
                locality: Set(f("locality")),
                region: Set(f("region")),
                postal_code: Set(f("postal_code")),
                country: Set(f("country")),
                ..Default::default()
            }
        })
        .collect()
}

async fn put_multi(db: &impl ConnectionTrait, user_id: &str, multi: &[MultiValue]) -> Result<(), ScimStoreError> {
    MultiValues::delete_many().filter(user_multi_values::Column::UserId.eq(user_id)).exec(db).await?;
    let rows = multi_rows(user_id, multi);
    if !rows.is_empty() {
        MultiValues::insert_many(rows).exec(db).await?;
    }
    Ok(())
}

/// Inserts a user; `audit` commits with it (see `audit::append_in`).
pub async fn insert_user(
    db: &DatabaseConnection,
    id: &str,
    w: UserWrite,
    now: DateTime<Utc>,
    audit: Vec<crate::audit::AuditEvent>,
) -> Result<(), ScimStoreError> {
    let (key, login_email) = (w.username_normalized.clone(), w.login_email.clone());
    let found_by = super::user_search::terms_of(&w);
    let mut am = users::ActiveModel {
        id: Set(id.to_owned()),
        username: Set(w.username),
        username_normalized: Set(w.username_normalized),
        email: Set(w.email),
        password_hash: Set(w.password_hash),
        active: Set(w.active),
        is_admin: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        scim_managed: Set(true),
        ..Default::default()
    };
    write_columns(&mut am, &w.columns);
    let tx = db.begin().await?;
    Users::insert(am).exec(&tx).await?;
    put_multi(&tx, id, &w.multi).await?;
    claim_names(&tx, id, &key, login_email.as_deref()).await?;
    super::user_search::put_terms(&tx, id, found_by).await?;
    super::audit::append_in(&tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces a user if it is still at `version`; `audit` commits with it.
pub async fn replace_user(
    db: &DatabaseConnection,
    id: &str,
    version: i64,
    w: UserWrite,
    now: DateTime<Utc>,
    audit: Vec<crate::audit::AuditEvent>,
) -> Result<(), ScimStoreError> {
    let (key, login_email) = (w.username_normalized.clone(), w.login_email.clone());
    let found_by = super::user_search::terms_of(&w);
    let mut am = users::ActiveModel {
        username: Set(w.username),
        username_normalized: Set(w.username_normalized),
        email: Set(w.email),
        active: Set(w.active),
        updated_at: Set(now),
        version: Set(version + 1),
        ..Default::default()
    };
    if let Some(h) = w.password_hash {
        am.password_hash = Set(Some(h));
    }
    write_columns(&mut am, &w.columns);
    let tx = db.begin().await?;
    let res = Users::update_many()
        .set(am)
        .filter(users::Column::Id.eq(id))
        .filter(users::Column::Version.eq(version))
        .exec(&tx)
        .await?;
    if res.rows_affected == 0 {
        return Err(ScimStoreError::Conflict);
    }
    put_multi(&tx, id, &w.multi).await?;
    claim_names(&tx, id, &key, login_email.as_deref()).await?;
    super::user_search::put_terms(&tx, id, found_by).await?;
    super::audit::append_in(&tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

async fn claim_names(
    tx: &impl ConnectionTrait,
    id: &str,
    key: &str,
    login_email: Option<&str>,
) -> Result<(), ScimStoreError> {
    use super::login_names::{ClaimError, claim};
    claim(tx, id, key, login_email).await.map_err(|e| match e {
        ClaimError::Taken(which) => ScimStoreError::LoginTaken(which),
        ClaimError::Db(e) => e.into(),
    })
}

/// Deletes a user; `audit` commits with it.
pub async fn delete_user(
    db: &DatabaseConnection,
    id: &str,
    audit: Vec<crate::audit::AuditEvent>,
) -> Result<(), ScimStoreError> {
    let tx = db.begin().await?;
    let res = Users::delete_by_id(id.to_owned()).exec(&tx).await?;
    if res.rows_affected == 0 {
        return Err(ScimStoreError::NotFound);
    }
    super::audit::append_in(&tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

/// Users whose rows match `cond` (SCIM-managed ones only), one page, with
/// the total count.
pub async fn list_users(
    db: &DatabaseConnection,
    cond: Option<SimpleExpr>,
    sort: Option<(SimpleExpr, bool)>,
    offset: u64,
    limit: u64,
) -> Result<(u64, Vec<UserResource>), ScimStoreError> {
    let mut q = Users::find().filter(users::Column::ScimManaged.eq(true));
    if let Some(c) = cond {
        q = q.filter(c);
    }
    let tiebreak = [users::Column::CreatedAt, users::Column::Id];
    let (total, rows) = page(db, q, sort, tiebreak, offset, limit).await?;
    Ok((total, assemble_users(db, rows).await?))
}

pub async fn find_user(db: &DatabaseConnection, id: &str) -> Result<Option<UserResource>, ScimStoreError> {
    let Some(row) = Users::find_by_id(id.to_owned()).filter(users::Column::ScimManaged.eq(true)).one(db).await? else {
        return Ok(None);
    };
    Ok(assemble_users(db, vec![row]).await?.pop())
}

/// The user's primary element of a multi-valued attribute (`addresses`,
/// `phoneNumbers`), else the first as sent: what the `address` and
/// `phone` claims release.
pub async fn preferred_value(
    db: &DatabaseConnection,
    user_id: &str,
    attribute: &str,
) -> Result<Option<user_multi_values::Model>, ScimStoreError> {
    Ok(MultiValues::find()
        .filter(user_multi_values::Column::UserId.eq(user_id))
        .filter(user_multi_values::Column::Attribute.eq(attribute))
        .order_by_desc(user_multi_values::Column::IsPrimary)
        .order_by_asc(user_multi_values::Column::Position)
        .one(db)
        .await?)
}

/// Rows as SCIM resources, with their multi-valued attributes and groups.
async fn assemble_users(db: &DatabaseConnection, rows: Vec<users::Model>) -> Result<Vec<UserResource>, ScimStoreError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut multi: HashMap<String, Vec<MultiValue>> = HashMap::new();
    let mut groups: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let values = MultiValues::find()
            .filter(user_multi_values::Column::UserId.is_in(chunk.to_vec()))
            .order_by_asc(user_multi_values::Column::Attribute)
            .order_by_asc(user_multi_values::Column::Position)
            .all(db)
            .await?;
        for v in values {
            let Some(attribute) = MULTI_VALUED_ATTRIBUTES.iter().find(|a| **a == v.attribute).copied() else {
                continue;
            };
            let mut fields = BTreeMap::new();
            for (k, val) in [
                ("value", v.value),
                ("display", v.display),
                ("type", v.r#type),
                ("formatted", v.formatted),
                ("street_address", v.street_address),
                ("locality", v.locality),
                ("region", v.region),
                ("postal_code", v.postal_code),
                ("country", v.country),
            ] {
                if let Some(val) = val {
                    fields.insert(k, val);
                }
            }
            multi.entry(v.user_id).or_default().push(MultiValue { attribute, fields, primary: v.is_primary });
        }
        let links: Vec<(String, String, String)> = GroupMembers::find()
            .select_only()
            .column(group_members::Column::UserId)
            .column(group_members::Column::GroupId)
            .column(group_rows::Column::DisplayName)
            .join(
                sea_orm::JoinType::InnerJoin,
                GroupMembers::belongs_to(Groups).from(group_members::Column::GroupId).to(group_rows::Column::Id).into(),
            )
            .filter(group_members::Column::UserId.is_in(chunk.to_vec()))
            .order_by_asc(group_rows::Column::DisplayNameNormalized)
            .into_tuple()
            .all(db)
            .await?;
        for (user, group, name) in links {
            groups.entry(user).or_default().push((group, name));
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| UserResource {
            columns: read_columns(&r),
            multi: multi.remove(&r.id).unwrap_or_default(),
            groups: groups.remove(&r.id).unwrap_or_default(),
            meta: Meta { id: r.id, created: r.created_at, modified: r.updated_at, version: r.version },
            user_name: r.username,
            active: r.active,
            is_admin: r.is_admin,
            scim_managed: r.scim_managed,
        })
        .collect())
}
