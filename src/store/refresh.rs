//! Repository for refresh token families. A family row says which token is
//! current and whether the family lives; rotation is one transaction that
//! records the access token it issues, writes the successor and swaps the
//! family's current hash only if the presented token is still current and
//! the family unrevoked. Revocation sets the family's state (once, never
//! cleared), so a successor committed after it is born dead, and it
//! revokes every unexpired access token the family issued.

use super::StoreError;
use super::revocations;
use chrono::{DateTime, Utc};
use entity::authorization_codes::{self as codes, Entity as Codes};
use entity::family_access_tokens::{self as issued, Entity as Issued};
use entity::refresh_families::{self as families, Entity as Families};
use entity::refresh_tokens::{self as refresh, Entity as RefreshTokens};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _, IntoActiveModel as _,
    QueryFilter as _, TransactionTrait as _,
};

/// An access token about to be issued from a family: its `jti` is chosen
/// before it is signed, so that it is on record before it exists.
#[derive(Debug, Clone)]
pub struct IssuedAccess {
    pub jti: String,
    pub expires_at: DateTime<Utc>,
}

/// A refresh token presented, with its family (`None`: the family is gone,
/// which counts as revoked).
#[derive(Debug, Clone)]
pub struct Presented {
    pub token: refresh::Model,
    pub family: Option<families::Model>,
}

impl Presented {
    pub fn family_revoked(&self) -> bool {
        self.family.as_ref().is_none_or(|f| f.revoked_at.is_some())
    }

    /// The current token's hash when `self` is the token the family's last
    /// rotation spent, at or after `rotated_since`, and the family lives:
    /// what the reuse grace may replace.
    pub fn just_rotated(&self, now: DateTime<Utc>, rotated_since: DateTime<Utc>) -> Option<&str> {
        let f = self.family.as_ref()?;
        let fresh = f.rotated_at.is_some_and(|at| at >= rotated_since);
        let spent_last = f.previous_hash.as_deref() == Some(self.token.token_hash.as_str());
        (self.token.expires_at > now && f.revoked_at.is_none() && fresh && spent_last)
            .then_some(f.current_hash.as_deref())
            .flatten()
    }

    /// Live: the family's current token, unrevoked and unexpired.
    pub fn is_current(&self, now: DateTime<Utc>) -> bool {
        self.token.expires_at > now
            && self
                .family
                .as_ref()
                .is_some_and(|f| f.revoked_at.is_none() && f.current_hash.as_deref() == Some(&self.token.token_hash))
    }
}

pub async fn find(db: &DatabaseConnection, token_hash: &str) -> Result<Option<Presented>, StoreError> {
    let Some(token) = RefreshTokens::find_by_id(token_hash.to_owned()).one(db).await? else { return Ok(None) };
    let family = Families::find_by_id(token.family_id.clone()).one(db).await?;
    Ok(Some(Presented { token, family }))
}

async fn record_access<C: ConnectionTrait>(db: &C, family_id: &str, access: &IssuedAccess) -> Result<(), StoreError> {
    let row = issued::ActiveModel {
        jti: Set(access.jti.clone()),
        family_id: Set(family_id.to_owned()),
        expires_at: Set(access.expires_at),
    };
    Issued::insert(row)
        .on_conflict(OnConflict::column(issued::Column::Jti).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Starts a family with its first token (code exchange). A replay of the
/// code may have revoked the family first: then the insert keeps the
/// revoked row, and the token is born dead.
pub async fn start_family(
    db: &DatabaseConnection,
    first: refresh::Model,
    access: &IssuedAccess,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let family = families::Model {
        id: first.family_id.clone(),
        client_id: first.client_id.clone(),
        user_id: first.user_id.clone(),
        current_hash: Some(first.token_hash.clone()),
        created_at: now,
        rotated_at: None,
        previous_hash: None,
        expires_at: first.expires_at.max(access.expires_at),
        revoked_at: None,
    };
    let txn = db.begin().await?;
    Families::insert(family.into_active_model())
        .on_conflict(OnConflict::column(families::Column::Id).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?;
    record_access(&txn, &first.family_id, access).await?;
    RefreshTokens::insert(first.into_active_model()).exec_without_returning(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Spends `old` (which must be its family's current token, the family
/// live), makes `successor` current and records `access`. All or nothing:
/// false, and nothing written, if `old` was no longer current.
pub async fn rotate(
    db: &DatabaseConnection,
    old: &refresh::Model,
    successor: refresh::Model,
    access: &IssuedAccess,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let swap = Families::update_many()
        .col_expr(families::Column::RotatedAt, Expr::value(now))
        .col_expr(families::Column::PreviousHash, Expr::value(Some(old.token_hash.clone())))
        .filter(families::Column::CurrentHash.eq(&old.token_hash));
    swap_current(db, old, successor, access, swap).await
}

/// The reuse grace: `old` was spent by the family's last rotation, at or
/// after `rotated_since`, and that rotation's successor (`unused`) is still
/// current. Then `successor` replaces `unused`, which dies, so the family
/// never has two live tokens; the window stays measured from the original
/// rotation. All or nothing, as `rotate`: false if any of that changed.
pub async fn rotate_within_grace(
    db: &DatabaseConnection,
    old: &refresh::Model,
    unused: &str,
    successor: refresh::Model,
    access: &IssuedAccess,
    rotated_since: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let swap = Families::update_many()
        .filter(families::Column::CurrentHash.eq(unused))
        .filter(families::Column::PreviousHash.eq(&old.token_hash))
        .filter(families::Column::RotatedAt.gte(rotated_since));
    swap_current(db, old, successor, access, swap).await
}

/// The transaction both rotations share: records `access`, writes
/// `successor` and makes it the current token of `old`'s family, if the
/// family is live and `swap`'s own conditions hold; else rolls back.
async fn swap_current(
    db: &DatabaseConnection,
    old: &refresh::Model,
    successor: refresh::Model,
    access: &IssuedAccess,
    swap: sea_orm::UpdateMany<Families>,
) -> Result<bool, StoreError> {
    // A write first: on SQLite it takes the write lock before anything is
    // read, so the transaction queues behind other writers instead of
    // failing; on PostgreSQL the family update below takes the row lock.
    let txn = db.begin().await?;
    record_access(&txn, &old.family_id, access).await?;
    // The family outlives its last refresh token while an access token it
    // issued lives: revoking the family must still find that token.
    let (new_hash, expires_at) = (successor.token_hash.clone(), successor.expires_at.max(access.expires_at));
    RefreshTokens::insert(successor.into_active_model()).exec_without_returning(&txn).await?;
    let swapped = swap
        .col_expr(families::Column::CurrentHash, Expr::value(Some(new_hash)))
        .col_expr(families::Column::ExpiresAt, Expr::value(expires_at))
        .filter(families::Column::Id.eq(&old.family_id))
        .filter(families::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if swapped {
        txn.commit().await?;
    } else {
        txn.rollback().await?;
    }
    Ok(swapped)
}

/// The family a revocation names; it may not exist yet (a code replayed
/// before its first redemption wrote the family), and is then created
/// revoked.
#[derive(Debug, Clone, Copy)]
pub struct FamilyRef<'a> {
    pub id: &'a str,
    pub client_id: &'a str,
    pub user_id: &'a str,
}

/// Revokes a family and every unexpired access token it issued; returns
/// those tokens (`jti`, `exp`) for the in-memory revocation list. Revoking
/// twice is harmless and keeps the first time.
pub async fn revoke_family(
    db: &DatabaseConnection,
    family: FamilyRef<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, StoreError> {
    let row = families::Model {
        id: family.id.to_owned(),
        client_id: family.client_id.to_owned(),
        user_id: family.user_id.to_owned(),
        current_hash: None,
        created_at: now,
        rotated_at: None,
        previous_hash: None,
        // Long enough to outlive the codes that could name it (a missing
        // family counts as revoked anyway).
        expires_at: now + chrono::Duration::days(2),
        revoked_at: Some(now),
    };
    Families::insert(row.into_active_model())
        .on_conflict(
            OnConflict::column(families::Column::Id)
                .value(
                    families::Column::RevokedAt,
                    Expr::cust("COALESCE(refresh_families.revoked_at, excluded.revoked_at)"),
                )
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    // A statement after the update: it sees every access token recorded by
    // a rotation that committed before the family was revoked.
    revoke_issued(db, &[family.id.to_owned()], now).await
}

/// The clients holding a live refresh grant of this person (not revoked,
/// not expired), each once.
pub async fn live_grant_clients(
    db: &DatabaseConnection,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let mut clients: Vec<String> = Families::find()
        .filter(families::Column::UserId.eq(user_id))
        .filter(families::Column::RevokedAt.is_null())
        .filter(families::Column::ExpiresAt.gt(now))
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.client_id)
        .collect();
    clients.sort_unstable();
    clients.dedup();
    Ok(clients)
}

/// Revokes everything a user holds (from all clients, or one): sign-out
/// everywhere, a disabled account, a withdrawn consent. Unredeemed codes
/// become unusable; families are revoked, including any a redemption in
/// flight is about to create (its code already names it); and every
/// unexpired access token issued from a code or a family is revoked.
/// Each step is idempotent and the last reads whatever was issued before
/// the earlier ones, so a retry after a failure completes the job.
pub async fn revoke_user_families(
    db: &DatabaseConnection,
    user_id: &str,
    client_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mine = |q: sea_orm::Select<Codes>| {
        let q = q.filter(codes::Column::UserId.eq(user_id));
        match client_id {
            Some(c) => q.filter(codes::Column::ClientId.eq(c)),
            None => q,
        }
    };
    let mut spend = Codes::update_many()
        .col_expr(codes::Column::UsedAt, Expr::value(now))
        .filter(codes::Column::UserId.eq(user_id))
        .filter(codes::Column::UsedAt.is_null());
    if let Some(c) = client_id {
        spend = spend.filter(codes::Column::ClientId.eq(c));
    }
    spend.exec(db).await?;

    let mut families_of = Families::update_many()
        .col_expr(families::Column::RevokedAt, Expr::value(now))
        .filter(families::Column::UserId.eq(user_id))
        .filter(families::Column::RevokedAt.is_null());
    if let Some(c) = client_id {
        families_of = families_of.filter(families::Column::ClientId.eq(c));
    }
    families_of.exec(db).await?;

    // Codes spent recently: their access tokens, and their families (a
    // redemption may have spent the code and not yet written the family).
    let spent = mine(Codes::find())
        .filter(codes::Column::UsedAt.is_not_null())
        .filter(codes::Column::AccessExpiresAt.gt(now))
        .all(db)
        .await?;
    for code in &spent {
        if let Some(family) = &code.refresh_family {
            let f = FamilyRef { id: family, client_id: &code.client_id, user_id };
            revoke_family(db, f, now).await?;
        }
    }
    let code_tokens: Vec<(String, String, DateTime<Utc>)> =
        spent.iter().filter_map(|c| Some((c.access_jti.clone()?, c.client_id.clone(), c.access_expires_at?))).collect();
    revocations::insert_many(db, &code_tokens, now).await?;
    let mut out: Vec<(String, i64)> = code_tokens.into_iter().map(|(jti, _, exp)| (jti, exp.timestamp())).collect();

    let mut ids = Families::find().filter(families::Column::UserId.eq(user_id));
    if let Some(c) = client_id {
        ids = ids.filter(families::Column::ClientId.eq(c));
    }
    let ids: Vec<String> = ids.all(db).await?.into_iter().map(|f| f.id).collect();
    if !ids.is_empty() {
        out.extend(revoke_issued(db, &ids, now).await?);
    }
    Ok(out)
}

async fn revoke_issued(
    db: &DatabaseConnection,
    family_ids: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, StoreError> {
    let tokens = Issued::find()
        .filter(issued::Column::FamilyId.is_in(family_ids.to_vec()))
        .filter(issued::Column::ExpiresAt.gt(now))
        .all(db)
        .await?;
    let clients: std::collections::HashMap<String, String> = Families::find()
        .filter(families::Column::Id.is_in(family_ids.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.id, f.client_id))
        .collect();
    let rows: Vec<(String, String, DateTime<Utc>)> = tokens
        .into_iter()
        .map(|t| (t.jti, clients.get(&t.family_id).cloned().unwrap_or_default(), t.expires_at))
        .collect();
    revocations::insert_many(db, &rows, now).await?;
    Ok(rows.into_iter().map(|(jti, _, exp)| (jti, exp.timestamp())).collect())
}

/// Purges expired tokens, families and access-token records (a family
/// expires with the last token it issued, refresh or access).
pub async fn purge(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let tokens = RefreshTokens::delete_many().filter(refresh::Column::ExpiresAt.lt(now)).exec(db).await?;
    let families = Families::delete_many().filter(families::Column::ExpiresAt.lt(now)).exec(db).await?;
    let issued = Issued::delete_many().filter(issued::Column::ExpiresAt.lt(now)).exec(db).await?;
    Ok(tokens.rows_affected + families.rows_affected + issued.rows_affected)
}
