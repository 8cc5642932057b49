//! The admin user search: every query word must prefix-match one of the
//! account's terms (`user_search_terms`: username, email, the words of its
//! names); pages are keyset pages in username order, so the millionth row
//! costs what the first does. Terms are written in the transaction that
//! writes the account (`put_terms`).

use chrono::{DateTime, Utc};
use entity::{account_lockouts, device_lockouts, mfa_totp, user_search_terms as terms, users, webauthn_credentials};
use sea_orm::sea_query::{Condition, Query, SelectStatement};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _,
};

pub use migration::m20261205_000022_user_search_terms::{search_terms, search_word};

/// Replaces the account's search terms. Run inside the transaction that
/// writes the account.
pub async fn put_terms<C: ConnectionTrait>(db: &C, user_id: &str, found_by: Vec<String>) -> Result<(), DbErr> {
    terms::Entity::delete_many().filter(terms::Column::UserId.eq(user_id)).exec(db).await?;
    if found_by.is_empty() {
        return Ok(());
    }
    let rows =
        found_by.into_iter().map(|term| terms::ActiveModel { term: Set(term), user_id: Set(user_id.to_owned()) });
    terms::Entity::insert_many(rows).exec_without_returning(db).await.map(|_| ())
}

/// What the admin search finds a SCIM-written user by.
pub(super) fn terms_of(w: &super::scim::UserWrite) -> Vec<String> {
    let names =
        ["display_name", "name_formatted", "given_name", "family_name"].map(|c| w.columns.get(c).map(String::as_str));
    search_terms(&w.username_normalized, w.email.as_deref(), &names)
}

/// What to find; `None` filters nothing.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    /// Lower-cased query words (`search_word`); each must match.
    pub words: Vec<String>,
    pub active: Option<bool>,
    /// Locked out now (the account, or any of its devices).
    pub locked: Option<bool>,
    /// Has a confirmed authenticator app or a passkey.
    pub second_factor: Option<bool>,
    pub scim_managed: Option<bool>,
    pub admin: Option<bool>,
}

/// Up to `limit` users matching `f` whose normalized username sorts after
/// `after`, in that order.
pub async fn search<C: ConnectionTrait>(
    db: &C,
    f: &UserFilter,
    after: Option<&str>,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Vec<users::Model>, DbErr> {
    let mut q = users::Entity::find();
    for w in &f.words {
        // Byte order on both engines: every term starting with `w` sorts
        // below `w` followed by the greatest code point.
        let sub = Query::select()
            .column(terms::Column::UserId)
            .from(terms::Entity)
            .and_where(terms::Column::Term.gte(w.as_str()))
            .and_where(terms::Column::Term.lt(format!("{w}\u{10FFFF}")))
            .to_owned();
        q = q.filter(users::Column::Id.in_subquery(sub));
    }
    if let Some(a) = f.active {
        q = q.filter(users::Column::Active.eq(a));
    }
    if let Some(s) = f.scim_managed {
        q = q.filter(users::Column::ScimManaged.eq(s));
    }
    if let Some(a) = f.admin {
        q = q.filter(users::Column::IsAdmin.eq(a));
    }
    if let Some(locked) = f.locked {
        let account = Query::select()
            .column(account_lockouts::Column::UserId)
            .from(account_lockouts::Entity)
            .and_where(account_lockouts::Column::LockedUntil.gt(now))
            .to_owned();
        let device = Query::select()
            .column(device_lockouts::Column::UserId)
            .from(device_lockouts::Entity)
            .and_where(device_lockouts::Column::LockedUntil.gt(now))
            .to_owned();
        q = q.filter(either(locked, account, device));
    }
    if let Some(has) = f.second_factor {
        let totp = Query::select()
            .column(mfa_totp::Column::UserId)
            .from(mfa_totp::Entity)
            .and_where(mfa_totp::Column::ConfirmedAt.is_not_null())
            .to_owned();
        let keys =
            Query::select().column(webauthn_credentials::Column::UserId).from(webauthn_credentials::Entity).to_owned();
        q = q.filter(either(has, totp, keys));
    }
    if let Some(after) = after {
        q = q.filter(users::Column::UsernameNormalized.gt(after));
    }
    q.order_by_asc(users::Column::UsernameNormalized).limit(limit).all(db).await
}

/// In `a` or in `b` (`wanted`), or in neither.
fn either(wanted: bool, a: SelectStatement, b: SelectStatement) -> Condition {
    let id = users::Column::Id;
    if wanted {
        Condition::any().add(id.in_subquery(a)).add(id.in_subquery(b))
    } else {
        Condition::all().add(id.not_in_subquery(a)).add(id.not_in_subquery(b))
    }
}

/// Per user of a page: locked now, has a second factor.
pub struct Flags {
    pub locked: std::collections::HashSet<String>,
    pub second_factor: std::collections::HashSet<String>,
}

/// The flags of the users in `ids`, in three queries whatever the page size.
pub async fn flags<C: ConnectionTrait>(db: &C, ids: &[String], now: DateTime<Utc>) -> Result<Flags, DbErr> {
    let pick = |v: Vec<String>| v.into_iter().collect::<std::collections::HashSet<_>>();
    let mut locked = pick(
        account_lockouts::Entity::find()
            .select_only()
            .column(account_lockouts::Column::UserId)
            .filter(account_lockouts::Column::UserId.is_in(ids.iter().cloned()))
            .filter(account_lockouts::Column::LockedUntil.gt(now))
            .into_tuple()
            .all(db)
            .await?,
    );
    locked.extend(
        device_lockouts::Entity::find()
            .select_only()
            .column(device_lockouts::Column::UserId)
            .filter(device_lockouts::Column::UserId.is_in(ids.iter().cloned()))
            .filter(device_lockouts::Column::LockedUntil.gt(now))
            .into_tuple::<String>()
            .all(db)
            .await?,
    );
    let mut second_factor = pick(
        mfa_totp::Entity::find()
            .select_only()
            .column(mfa_totp::Column::UserId)
            .filter(mfa_totp::Column::UserId.is_in(ids.iter().cloned()))
            .filter(mfa_totp::Column::ConfirmedAt.is_not_null())
            .into_tuple()
            .all(db)
            .await?,
    );
    second_factor.extend(
        webauthn_credentials::Entity::find()
            .select_only()
            .column(webauthn_credentials::Column::UserId)
            .filter(webauthn_credentials::Column::UserId.is_in(ids.iter().cloned()))
            .into_tuple::<String>()
            .all(db)
            .await?,
    );
    Ok(Flags { locked, second_factor })
}
