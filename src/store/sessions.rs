//! Repository for browser sessions, authorization codes and consents: the
//! rows the browser flow keeps (refresh tokens: `store::refresh`). Secrets
//! are stored only as hashes (`crypto::hash_secret`); lookups are by hash.

use super::StoreError;
use chrono::{DateTime, Utc};
use entity::authorization_codes::{self as codes, Entity as Codes};
use entity::consents::{self, Entity as Consents};
use entity::sessions::{self, Entity as Sessions};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, IntoActiveModel as _, QueryFilter as _,
    QueryOrder as _,
};

pub async fn insert_session(db: &DatabaseConnection, row: sessions::Model) -> Result<(), StoreError> {
    Sessions::insert(row.into_active_model()).exec_without_returning(db).await?;
    Ok(())
}

/// The live session with this id hash. A disabled account has no live
/// session, whatever its rows say.
pub async fn find_session(
    db: &DatabaseConnection,
    id_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<sessions::Model>, StoreError> {
    use entity::users;
    // Correlated, so both engines look the one account up by key.
    let active = sea_orm::sea_query::Query::select()
        .expr(Expr::val(1))
        .from(users::Entity)
        .and_where(Expr::col((users::Entity, users::Column::Id)).equals((Sessions, sessions::Column::UserId)))
        .and_where(Expr::col((users::Entity, users::Column::Active)).eq(true))
        .to_owned();
    Ok(Sessions::find_by_id(id_hash.to_owned())
        .filter(sessions::Column::EndedAt.is_null())
        .filter(sessions::Column::ExpiresAt.gt(now))
        .filter(Expr::exists(active))
        .one(db)
        .await?)
}

pub async fn touch_session(db: &DatabaseConnection, id_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    Sessions::update_many()
        .col_expr(sessions::Column::LastSeenAt, Expr::value(now))
        .filter(sessions::Column::Id.eq(id_hash))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends sessions: one (by id hash or by public sid, for a user) or all of
/// a user's. Returns the public sids ended.
pub async fn end_sessions(
    db: &DatabaseConnection,
    user_id: &str,
    which: SessionSelector<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let mut q =
        Sessions::find().filter(sessions::Column::UserId.eq(user_id)).filter(sessions::Column::EndedAt.is_null());
    match which {
        SessionSelector::IdHash(h) => q = q.filter(sessions::Column::Id.eq(h)),
        SessionSelector::Sid(s) => q = q.filter(sessions::Column::Sid.eq(s)),
        SessionSelector::All => {}
    }
    let rows = q.all(db).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    if !ids.is_empty() {
        Sessions::update_many()
            .col_expr(sessions::Column::EndedAt, Expr::value(now))
            .filter(sessions::Column::Id.is_in(ids))
            .exec(db)
            .await?;
    }
    Ok(rows.into_iter().map(|r| r.sid).collect())
}

#[derive(Debug, Clone, Copy)]
pub enum SessionSelector<'a> {
    IdHash(&'a str),
    Sid(&'a str),
    All,
}

/// A user's live sessions, newest first.
pub async fn user_sessions(
    db: &DatabaseConnection,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<sessions::Model>, StoreError> {
    Ok(Sessions::find()
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::EndedAt.is_null())
        .filter(sessions::Column::ExpiresAt.gt(now))
        .order_by_desc(sessions::Column::CreatedAt)
        .all(db)
        .await?)
}

pub async fn insert_code(db: &DatabaseConnection, row: codes::Model) -> Result<(), StoreError> {
    Codes::insert(row.into_active_model()).exec_without_returning(db).await?;
    Ok(())
}

/// What a redemption will issue, recorded in the same statement that
/// spends the code: a concurrent replay always finds it to revoke.
#[derive(Debug, Clone)]
pub struct CodeIssue<'a> {
    pub access_jti: &'a str,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_family: Option<&'a str>,
}

/// Spends a code, exactly once: `First` for the one caller that won,
/// `Replay` (with what the winner recorded) for everyone else. `plan`
/// sees the unspent row and says what this redemption would issue.
pub async fn redeem_code<'a>(
    db: &DatabaseConnection,
    code_hash: &str,
    now: DateTime<Utc>,
    plan: impl FnOnce(&codes::Model) -> CodeIssue<'a>,
) -> Result<Redemption, StoreError> {
    let Some(row) = Codes::find_by_id(code_hash.to_owned()).one(db).await? else {
        return Ok(Redemption::Unknown);
    };
    if row.used_at.is_some() {
        return Ok(Redemption::Replay(row));
    }
    let issue = plan(&row);
    let res = Codes::update_many()
        .col_expr(codes::Column::UsedAt, Expr::value(now))
        .col_expr(codes::Column::AccessJti, Expr::value(issue.access_jti))
        .col_expr(codes::Column::AccessExpiresAt, Expr::value(issue.access_expires_at))
        .col_expr(codes::Column::RefreshFamily, Expr::value(issue.refresh_family.map(str::to_owned)))
        .filter(codes::Column::CodeHash.eq(code_hash))
        .filter(codes::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    if res.rows_affected == 1 {
        return Ok(Redemption::First(row));
    }
    // Another redemption won between our read and our update; its record
    // was written with its spend, so this read finds it.
    match Codes::find_by_id(code_hash.to_owned()).one(db).await? {
        Some(spent) => Ok(Redemption::Replay(spent)),
        None => Ok(Redemption::Unknown),
    }
}

#[derive(Debug)]
pub enum Redemption {
    Unknown,
    First(codes::Model),
    /// Used before: whatever was issued from it must be revoked.
    Replay(codes::Model),
}

pub async fn purge_codes(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, StoreError> {
    // Used codes are kept until their tokens expire (a replay must still be
    // able to revoke them); a day covers every access token lifetime.
    let cutoff = now - chrono::Duration::days(1);
    Ok(Codes::delete_many().filter(codes::Column::ExpiresAt.lt(cutoff)).exec(db).await?.rows_affected)
}

pub async fn purge_sessions(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let cutoff = now - chrono::Duration::days(1);
    Ok(Sessions::delete_many()
        .filter(sessions::Column::ExpiresAt.lt(now).or(sessions::Column::EndedAt.lt(cutoff)))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn find_consent(
    db: &DatabaseConnection,
    user_id: &str,
    client_id: &str,
) -> Result<Option<consents::Model>, StoreError> {
    Ok(Consents::find_by_id((user_id.to_owned(), client_id.to_owned())).one(db).await?)
}

pub async fn save_consent(
    db: &DatabaseConnection,
    user_id: &str,
    client_id: &str,
    scope: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = consents::ActiveModel {
        user_id: Set(user_id.to_owned()),
        client_id: Set(client_id.to_owned()),
        scope: Set(scope.to_owned()),
        granted_at: Set(now),
    };
    Consents::insert(row)
        .on_conflict(
            OnConflict::columns([consents::Column::UserId, consents::Column::ClientId])
                .update_columns([consents::Column::Scope, consents::Column::GrantedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn user_consents(db: &DatabaseConnection, user_id: &str) -> Result<Vec<consents::Model>, StoreError> {
    Ok(Consents::find()
        .filter(consents::Column::UserId.eq(user_id))
        .order_by_asc(consents::Column::ClientId)
        .all(db)
        .await?)
}

pub async fn delete_consent(db: &DatabaseConnection, user_id: &str, client_id: &str) -> Result<bool, StoreError> {
    Ok(Consents::delete_by_id((user_id.to_owned(), client_id.to_owned())).exec(db).await?.rows_affected > 0)
}
