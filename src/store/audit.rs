//! Repository for audit events: append only.

use super::StoreError;
use chrono::{DateTime, Utc};
use entity::audit_events::{ActiveModel, Column, Entity as AuditEvents, Model};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait as _, QueryOrder as _, QuerySelect as _};

/// Whether the audited action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// One event to record. Never put a secret, token or password in any field.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub action: &'static str,
    pub target: Option<String>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl AuditEvent {
    /// A successful action with no request context (CLI, start-up).
    pub fn new(
        occurred_at: DateTime<Utc>,
        actor: impl Into<String>,
        action: &'static str,
        target: Option<String>,
    ) -> Self {
        Self {
            occurred_at,
            actor: actor.into(),
            action,
            target,
            outcome: Outcome::Success,
            reason: None,
            request_id: None,
            ip: None,
            user_agent: None,
        }
    }
}

/// Appends a batch in one statement.
pub async fn append(db: &DatabaseConnection, events: Vec<AuditEvent>) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let rows = events.into_iter().map(|e| ActiveModel {
        occurred_at: Set(e.occurred_at),
        actor: Set(e.actor),
        action: Set(e.action.to_owned()),
        target: Set(e.target),
        outcome: Set(e.outcome.as_str().to_owned()),
        reason: Set(e.reason),
        request_id: Set(e.request_id),
        ip: Set(e.ip),
        user_agent: Set(e.user_agent),
        ..Default::default()
    });
    AuditEvents::insert_many(rows).exec(db).await?;
    Ok(())
}

/// The newest `limit` events, newest first.
pub async fn recent(db: &DatabaseConnection, limit: u64) -> Result<Vec<Model>, StoreError> {
    Ok(AuditEvents::find().order_by_desc(Column::Id).limit(limit).all(db).await?)
}
