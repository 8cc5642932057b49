//! Repository for audit events: append only.

use super::StoreError;
use crate::audit::AuditEvent;
use chrono::Timelike as _;
use chrono::{DateTime, Utc};
use entity::audit_checkpoints::{self as checkpoints, Entity as Checkpoints};
use entity::audit_events::{Column, Entity as AuditEvents, Model};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait as _, ConnectionTrait as _, DatabaseConnection, DbErr,
    EntityTrait as _, IntoActiveModel as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};

/// Serialises appends from every instance and the CLI, so the chain has
/// one order.
const AUDIT_LOCK: i64 = 0x6761_7465_6175_6474; // "gateaudt"
/// `prev_hash` of the first chained row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hashed content of a row: a JSON array in a fixed order, with the
/// time at the microsecond precision every engine stores.
fn canonical(m: &Model) -> String {
    let at = m.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    serde_json::json!([at, m.actor, m.action, m.target, m.outcome, m.reason, m.request_id, m.ip, m.user_agent])
        .to_string()
}

fn row_hash(m: &Model, prev: &str) -> String {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(canonical(m).as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Appends a batch, chained to the last row, under a lock shared by every
/// writer (several instances, the CLI).
pub async fn append(db: &DatabaseConnection, events: Vec<AuditEvent>) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let txn = super::locked_transaction(db, AUDIT_LOCK).await?;
    chain(&txn, events).await?;
    txn.commit().await?;
    Ok(())
}

/// Appends events inside the caller's transaction, so they commit (or roll
/// back) with the change they record: an acknowledged change never lacks
/// its event, at the cost of no extra commit. Call it last before
/// committing: on PostgreSQL it takes the chain's lock (held to the
/// commit); on SQLite the transaction's earlier writes hold the write lock.
pub async fn append_in(txn: &sea_orm::DatabaseTransaction, events: Vec<AuditEvent>) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({AUDIT_LOCK})")).await?;
    }
    chain(txn, events).await
}

/// Links `events` to the chain's head and inserts them, in order.
async fn chain(txn: &sea_orm::DatabaseTransaction, events: Vec<AuditEvent>) -> Result<(), DbErr> {
    let last = AuditEvents::find().order_by_desc(Column::Id).one(txn).await?;
    let mut prev = last.and_then(|m| m.hash).unwrap_or_else(|| GENESIS.to_owned());
    let mut rows = Vec::with_capacity(events.len());
    for e in events {
        let nanos = e.occurred_at.timestamp_subsec_nanos();
        let mut m = Model {
            id: 0,
            occurred_at: e.occurred_at.with_nanosecond(nanos - nanos % 1000).unwrap_or(e.occurred_at),
            actor: e.actor,
            action: e.action.to_owned(),
            target: e.target,
            outcome: e.outcome.as_str().to_owned(),
            reason: e.reason,
            request_id: e.request_id,
            ip: e.ip,
            user_agent: e.user_agent,
            prev_hash: None,
            hash: None,
        };
        let hash = row_hash(&m, &prev);
        m.prev_hash = Some(std::mem::replace(&mut prev, hash.clone()));
        m.hash = Some(hash);
        let mut row = m.into_active_model();
        row.id = NotSet;
        rows.push(row);
    }
    // One row at a time: ids must follow the chain's order.
    for row in rows {
        AuditEvents::insert(row).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// Which events to list; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub since: Option<DateTime<Utc>>,
    /// Events before this instant.
    pub until: Option<DateTime<Utc>>,
    pub actor: Option<String>,
    /// What the event is about (a user's id, a client's id, …).
    pub target: Option<String>,
    pub action: Option<String>,
    /// Only events after this id (the cursor of the previous page).
    pub after_id: i64,
    pub limit: u64,
}

fn matching(q: &AuditQuery) -> sea_orm::Select<AuditEvents> {
    let mut find = AuditEvents::find();
    if let Some(since) = q.since {
        find = find.filter(Column::OccurredAt.gte(since));
    }
    if let Some(until) = q.until {
        find = find.filter(Column::OccurredAt.lt(until));
    }
    if let Some(actor) = &q.actor {
        find = find.filter(Column::Actor.eq(actor.as_str()));
    }
    if let Some(target) = &q.target {
        find = find.filter(Column::Target.eq(target.as_str()));
    }
    if let Some(action) = &q.action {
        find = find.filter(Column::Action.eq(action.as_str()));
    }
    find
}

/// A page of events, oldest first.
pub async fn page(db: &DatabaseConnection, q: &AuditQuery) -> Result<Vec<Model>, StoreError> {
    Ok(matching(q).filter(Column::Id.gt(q.after_id)).order_by_asc(Column::Id).limit(q.limit).all(db).await?)
}

/// The newest `q.limit` matching events, newest first (`after_id` unused).
pub async fn newest(db: &DatabaseConnection, q: &AuditQuery) -> Result<Vec<Model>, StoreError> {
    Ok(matching(q).order_by_desc(Column::Id).limit(q.limit).all(db).await?)
}

/// What `audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum ChainReport {
    /// Every chained row links and hashes correctly. `unchained` rows
    /// predate the chain (written before it existed).
    Intact { rows: u64, unchained: u64, head: Option<String> },
    /// The first row that does not fit, and why.
    Broken { id: i64, reason: &'static str },
}

/// Walks the log in order from the last retention checkpoint (or the
/// start) and recomputes every link. Catches edited, inserted, reordered
/// or deleted rows — except deletion of the newest rows, which only a copy
/// of the head hash kept elsewhere can reveal.
pub async fn verify_chain(db: &DatabaseConnection) -> Result<ChainReport, StoreError> {
    let checkpoint = Checkpoints::find().order_by_desc(checkpoints::Column::Id).one(db).await?;
    let (mut after, mut rows, mut unchained) = (checkpoint.as_ref().map_or(0, |c| c.through_id), 0u64, 0u64);
    let mut prev: Option<String> = checkpoint.map(|c| c.through_hash);
    if after > 0 && AuditEvents::find().filter(Column::Id.lte(after)).count(db).await? > 0 {
        return Ok(ChainReport::Broken { id: after, reason: "events remain before the retention checkpoint" });
    }
    loop {
        let page =
            AuditEvents::find().filter(Column::Id.gt(after)).order_by_asc(Column::Id).limit(1000).all(db).await?;
        if page.is_empty() {
            return Ok(ChainReport::Intact { rows, unchained, head: prev });
        }
        for m in page {
            after = m.id;
            let (Some(hash), Some(prev_hash)) = (&m.hash, &m.prev_hash) else {
                if prev.is_some() || m.hash.is_some() || m.prev_hash.is_some() {
                    return Ok(ChainReport::Broken { id: m.id, reason: "row is missing its hashes" });
                }
                unchained += 1;
                continue;
            };
            let expected_prev = prev.as_deref().unwrap_or(GENESIS);
            if prev_hash != expected_prev {
                return Ok(ChainReport::Broken { id: m.id, reason: "does not link to the previous row" });
            }
            if &row_hash(&m, prev_hash) != hash {
                return Ok(ChainReport::Broken { id: m.id, reason: "content does not match its hash" });
            }
            prev = Some(hash.clone());
            rows += 1;
        }
    }
}

/// Retention: deletes the oldest events that happened before `cutoff`
/// (always keeping the newest event, which the next one chains to) and
/// records a checkpoint with the last deleted event's hash, so the rest
/// still verifies. Returns how many events were deleted.
pub async fn purge_before(
    db: &DatabaseConnection,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let txn = super::locked_transaction(db, AUDIT_LOCK).await?;
    let Some(newest) = AuditEvents::find().order_by_desc(Column::Id).one(&txn).await? else {
        txn.commit().await?;
        return Ok(0);
    };
    let first_kept = AuditEvents::find()
        .filter(Column::OccurredAt.gte(cutoff))
        .order_by_asc(Column::Id)
        .one(&txn)
        .await?
        .map_or(newest.id, |m| m.id.min(newest.id));
    let Some(last_purged) =
        AuditEvents::find().filter(Column::Id.lt(first_kept)).order_by_desc(Column::Id).one(&txn).await?
    else {
        txn.commit().await?;
        return Ok(0);
    };
    let deleted = AuditEvents::delete_many().filter(Column::Id.lte(last_purged.id)).exec(&txn).await?.rows_affected;
    let checkpoint = checkpoints::ActiveModel {
        id: NotSet,
        through_id: Set(last_purged.id),
        // Rows from before the chain existed have no hash; the chain then
        // starts at the next row's prev_hash, which is the genesis value.
        through_hash: Set(last_purged.hash.unwrap_or_else(|| GENESIS.to_owned())),
        purged_rows: Set(i64::try_from(deleted).unwrap_or(i64::MAX)),
        created_at: Set(now),
    };
    Checkpoints::insert(checkpoint).exec_without_returning(&txn).await?;
    txn.commit().await?;
    Ok(deleted)
}

/// The newest `limit` events, newest first.
pub async fn recent(db: &DatabaseConnection, limit: u64) -> Result<Vec<Model>, StoreError> {
    Ok(AuditEvents::find().order_by_desc(Column::Id).limit(limit).all(db).await?)
}

/// Events by or about a user: as target, or as the `user:<id>` actor
/// (both columns are indexed).
pub fn by_or_about(user_id: &str) -> sea_orm::Condition {
    sea_orm::Condition::any().add(Column::Target.eq(user_id)).add(Column::Actor.eq(format!("user:{user_id}")))
}

/// The newest `limit` events by or about a user, newest first.
pub async fn about_user(db: &DatabaseConnection, user_id: &str, limit: u64) -> Result<Vec<Model>, StoreError> {
    Ok(AuditEvents::find().filter(by_or_about(user_id)).order_by_desc(Column::Id).limit(limit).all(db).await?)
}
