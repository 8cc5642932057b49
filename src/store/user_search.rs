//! The admin user search: every query word must prefix-match one of the
//! account's terms (`user_search_terms`: username, email, the words of its
//! names); pages are keyset pages in username order, so the millionth row
//! costs what the first does. Terms are written in the transaction that
//! writes the account (`put_terms`).

use chrono::{DateTime, Utc};
use entity::{account_lockouts, device_lockouts, mfa_totp, user_search_terms as terms, users, webauthn_credentials};
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait as _, Func, Order, Query, SelectStatement, UnionType,
};
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

/// Where the search changes plans (see `search`).
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// How many users past the cursor the walk in username order visits
    /// before it gives up on a sparse query and lets the rarest condition
    /// drive instead.
    pub window: u64,
    /// A word matching fewer terms than this drives the search outright;
    /// the count stops here, so estimating a dense word costs no more.
    pub rare: u64,
}

impl Tuning {
    /// Measured at 100,000 users (`bench/user_search.sh`, SQLite): each
    /// user the walk probes or the driven plan sorts costs ~3 µs, so a
    /// failed window costs ~6 ms, and a word under 4,000 terms is cheaper
    /// to drive from than to hope the walk meets its (often clustered:
    /// `user-0042…`) matches.
    pub const DEFAULT: Tuning = Tuning { window: 2000, rare: 4000 };
}

/// Up to `limit` users matching `f` whose normalized username sorts after
/// `after`, in that order.
///
/// Two plans, both bounded by the page rather than by the directory: dense
/// queries walk users in username order and probe each (every condition is
/// one index lookup), stopping at `limit` matches or after `Tuning::window` users;
/// sparse queries start from the rarest word's terms (or the locked or
/// second-factor sets) and sort only those. A rare word (under `Tuning::rare`
/// terms) skips the walk; otherwise the walk's window decides, and the
/// driven plan continues where the window ended.
pub async fn search<C: ConnectionTrait>(
    db: &C,
    f: &UserFilter,
    after: Option<&str>,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Vec<users::Model>, DbErr> {
    search_tuned(db, f, after, limit, now, Tuning::DEFAULT).await
}

/// `search` with its plan boundaries chosen, so tests can drive every plan
/// and every hand-over on a small directory.
pub async fn search_tuned<C: ConnectionTrait>(
    db: &C,
    f: &UserFilter,
    after: Option<&str>,
    limit: u64,
    now: DateTime<Utc>,
    tuning: Tuning,
) -> Result<Vec<users::Model>, DbErr> {
    let mut rarest: Option<(&str, u64)> = None;
    for w in &f.words {
        let n = capped_term_count(db, w, tuning.rare).await?;
        if rarest.is_none_or(|(_, m)| n < m) {
            rarest = Some((w.as_str(), n));
        }
    }
    if let Some((w, n)) = rarest
        && n < tuning.rare
    {
        return driven(db, f, Some(w), after, limit, now).await;
    }
    let edge = nth_username_after(db, after, tuning.window).await?;
    let mut q = users::Entity::find().filter(conditions(f, now));
    if let Some(after) = after {
        q = q.filter(users::Column::UsernameNormalized.gt(after));
    }
    if let Some(edge) = &edge {
        q = q.filter(users::Column::UsernameNormalized.lte(edge.as_str()));
    }
    let mut found = q.order_by_asc(users::Column::UsernameNormalized).limit(limit).all(db).await?;
    let Some(edge) = edge else { return Ok(found) };
    if found.len() as u64 >= limit {
        return Ok(found);
    }
    let rest = driven(db, f, rarest.map(|(w, _)| w), Some(&edge), limit - found.len() as u64, now).await?;
    found.extend(rest);
    Ok(found)
}

/// Terms starting with `w`, counted up to `cap`: an index range scan that
/// stops early.
async fn capped_term_count<C: ConnectionTrait>(db: &C, w: &str, cap: u64) -> Result<u64, DbErr> {
    let some = Query::select()
        .expr(Expr::val(1))
        .from(terms::Entity)
        .and_where(terms::Column::Term.gte(w))
        .and_where(terms::Column::Term.lt(prefix_end(w)))
        .limit(cap)
        .to_owned();
    let count = Query::select().expr(Func::count(Expr::col(Asterisk))).from_subquery(some, "capped").to_owned();
    let row = db.query_one_raw(db.get_database_backend().build(&count)).await?;
    let n: i64 = row.map(|r| r.try_get_by_index(0)).transpose()?.unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The `n`th normalized username after `after` (an index-only scan), or
/// `None` when fewer remain.
async fn nth_username_after<C: ConnectionTrait>(db: &C, after: Option<&str>, n: u64) -> Result<Option<String>, DbErr> {
    let mut q = users::Entity::find().select_only().column(users::Column::UsernameNormalized);
    if let Some(after) = after {
        q = q.filter(users::Column::UsernameNormalized.gt(after));
    }
    q.order_by_asc(users::Column::UsernameNormalized).offset(n.saturating_sub(1)).limit(1).into_tuple().one(db).await
}

/// The sparse plan: users in the driving set, sorted after `after`. With
/// words, the set is the users having every one of them, intersected
/// among the terms alone (index-only), starting from the rarest word
/// `driver`, so only the matches are fetched; else the locked or
/// second-factor users when wanted. Without a set it is the plain filtered
/// walk, which the flag indexes serve for the rare flags.
async fn driven<C: ConnectionTrait>(
    db: &C,
    f: &UserFilter,
    driver: Option<&str>,
    after: Option<&str>,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Vec<users::Model>, DbErr> {
    let set = if let Some(w) = driver {
        let mut ids = Query::select()
            .column((terms::Entity, terms::Column::UserId))
            .from(terms::Entity)
            .and_where(Expr::col((terms::Entity, terms::Column::Term)).gte(w))
            .and_where(Expr::col((terms::Entity, terms::Column::Term)).lt(prefix_end(w)))
            .to_owned();
        for (i, other) in f.words.iter().filter(|x| x.as_str() != w).enumerate() {
            let t = Alias::new(format!("t{i}"));
            ids.and_where(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from_as(terms::Entity, t.clone())
                    .and_where(
                        Expr::col((t.clone(), terms::Column::UserId)).equals((terms::Entity, terms::Column::UserId)),
                    )
                    .and_where(Expr::col((t.clone(), terms::Column::Term)).gte(other.as_str()))
                    .and_where(Expr::col((t, terms::Column::Term)).lt(prefix_end(other)))
                    .to_owned(),
            ));
        }
        Some(ids)
    } else if f.locked == Some(true) {
        Some(locked_now(now))
    } else if f.second_factor == Some(true) {
        Some(with_second_factor())
    } else {
        None
    };
    // Every user of a word-driven set has all the words: no probe for them.
    let mut rest = f.clone();
    if driver.is_some() {
        rest.words.clear();
    }
    let mut q = users::Entity::find().filter(conditions(&rest, now));
    if let Some(after) = after {
        q = q.filter(users::Column::UsernameNormalized.gt(after));
    }
    let q = match set {
        // Sorting an expression rather than the column keeps the engine
        // from walking the username index and probing the set instead.
        Some(set) => {
            q.filter(in_set(db, set)).order_by(Expr::cust("\"users\".\"username_normalized\" || ''"), Order::Asc)
        }
        None => q.order_by_asc(users::Column::UsernameNormalized),
    };
    q.limit(limit).all(db).await
}

/// `users.id` in the set. PostgreSQL estimates an `IN (subquery)` of a few
/// thousand ids as worth a hash join over every user (a sequential scan:
/// 34 ms at 100,000 users); as `= ANY(ARRAY(subquery))` the set is computed
/// first and the users are fetched by primary key (9 ms). SQLite already
/// plans `IN` that way.
fn in_set<C: ConnectionTrait>(db: &C, set: SelectStatement) -> Expr {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            Expr::cust_with_expr("\"users\".\"id\" = ANY(ARRAY $1)", Expr::SubQuery(None, Box::new(set.into())))
        }
        _ => users::Column::Id.in_subquery(set),
    }
}

/// Every term starting with `w` sorts below this (byte order on both
/// engines).
fn prefix_end(w: &str) -> String {
    format!("{w}\u{10FFFF}")
}

/// All of `f`, each condition one index probe per user.
fn conditions(f: &UserFilter, now: DateTime<Utc>) -> Condition {
    let user = (users::Entity, users::Column::Id);
    let mut all = Condition::all();
    for w in &f.words {
        all = all.add(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(terms::Entity)
                .and_where(Expr::col((terms::Entity, terms::Column::UserId)).equals(user))
                .and_where(terms::Column::Term.gte(w.as_str()))
                .and_where(terms::Column::Term.lt(prefix_end(w)))
                .to_owned(),
        ));
    }
    if let Some(a) = f.active {
        all = all.add(users::Column::Active.eq(a));
    }
    if let Some(s) = f.scim_managed {
        all = all.add(users::Column::ScimManaged.eq(s));
    }
    if let Some(a) = f.admin {
        all = all.add(users::Column::IsAdmin.eq(a));
    }
    if let Some(locked) = f.locked {
        let account = Query::select()
            .expr(Expr::val(1))
            .from(account_lockouts::Entity)
            .and_where(Expr::col((account_lockouts::Entity, account_lockouts::Column::UserId)).equals(user))
            .and_where(account_lockouts::Column::LockedUntil.gt(now))
            .to_owned();
        let device = Query::select()
            .expr(Expr::val(1))
            .from(device_lockouts::Entity)
            .and_where(Expr::col((device_lockouts::Entity, device_lockouts::Column::UserId)).equals(user))
            .and_where(device_lockouts::Column::LockedUntil.gt(now))
            .to_owned();
        all = all.add(either(locked, account, device));
    }
    if let Some(has) = f.second_factor {
        let totp = Query::select()
            .expr(Expr::val(1))
            .from(mfa_totp::Entity)
            .and_where(Expr::col((mfa_totp::Entity, mfa_totp::Column::UserId)).equals(user))
            .and_where(mfa_totp::Column::ConfirmedAt.is_not_null())
            .to_owned();
        let keys = Query::select()
            .expr(Expr::val(1))
            .from(webauthn_credentials::Entity)
            .and_where(Expr::col((webauthn_credentials::Entity, webauthn_credentials::Column::UserId)).equals(user))
            .to_owned();
        all = all.add(either(has, totp, keys));
    }
    all
}

/// In `a` or in `b` (`wanted`), or in neither.
fn either(wanted: bool, a: SelectStatement, b: SelectStatement) -> Condition {
    if wanted {
        Condition::any().add(Expr::exists(a)).add(Expr::exists(b))
    } else {
        Condition::all().add(Expr::exists(a).not()).add(Expr::exists(b).not())
    }
}

/// The users locked out now, by account or by device.
fn locked_now(now: DateTime<Utc>) -> SelectStatement {
    Query::select()
        .column(account_lockouts::Column::UserId)
        .from(account_lockouts::Entity)
        .and_where(account_lockouts::Column::LockedUntil.gt(now))
        .union(
            UnionType::Distinct,
            Query::select()
                .column(device_lockouts::Column::UserId)
                .from(device_lockouts::Entity)
                .and_where(device_lockouts::Column::LockedUntil.gt(now))
                .to_owned(),
        )
        .to_owned()
}

/// The users with a confirmed authenticator app or a passkey.
fn with_second_factor() -> SelectStatement {
    Query::select()
        .column(mfa_totp::Column::UserId)
        .from(mfa_totp::Entity)
        .and_where(mfa_totp::Column::ConfirmedAt.is_not_null())
        .union(
            UnionType::Distinct,
            Query::select().column(webauthn_credentials::Column::UserId).from(webauthn_credentials::Entity).to_owned(),
        )
        .to_owned()
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
