//! The audit log as administrators read it: filtered pages, the newest
//! events, what a live view has not shown yet, and the chain check.

use crate::store::{Db, StoreError};

pub use crate::store::audit::{AuditQuery, ChainReport};
pub use entity::audit_events::Model as StoredEvent;

/// Matching events after `q.after_id`, oldest first: a page of the log, or
/// what a live view has not shown yet.
pub async fn events_after(db: &Db, q: &AuditQuery) -> Result<Vec<StoredEvent>, StoreError> {
    crate::store::audit::page(db, q).await
}

/// The newest `q.limit` matching events, newest first.
pub async fn newest(db: &Db, q: &AuditQuery) -> Result<Vec<StoredEvent>, StoreError> {
    crate::store::audit::newest(db, q).await
}

/// Walks the whole chain (its cost grows with the log since the last
/// retention checkpoint).
pub async fn verify(db: &Db) -> Result<ChainReport, StoreError> {
    crate::store::audit::verify_chain(db).await
}
