//! The user actions the admin API and the admin console share: one action
//! on many users, each change told to this instance (revoked access tokens,
//! cached sessions) and audited under whoever acted, before the answer.

use super::AppState;
use crate::accounts::directory::{self, Applied, BulkAction, Outcome};
use crate::accounts::users::AccountError;
use crate::audit::AuditEvent;
use actix_web::HttpRequest;

/// Why a bulk action stopped part-way (the users before it were changed
/// and audited).
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("a change was made but its audit event is not durable")]
    NotAudited,
}

/// Tells this instance what the store already knows: the revoked access
/// tokens, and (through the session actor, which caches sessions) that the
/// user's sessions are over. Other instances learn both at their next poll.
pub(super) async fn forget_revoked(state: &AppState, action: BulkAction, user_id: &str, applied: &Applied) {
    use crate::actors::sessions::{End, Which};
    applied.revoked.iter().for_each(|(jti, exp)| state.revocations.insert(jti, *exp));
    let ends_sessions =
        matches!(action, BulkAction::Deactivate | BulkAction::SignOutEverywhere | BulkAction::ResetSecondFactors);
    if ends_sessions && applied.outcome == Outcome::Changed {
        let end = End { user_id: user_id.to_owned(), which: Which::All };
        if !matches!(state.actors.sessions.send(end).await, Ok(Ok(_))) {
            tracing::error!("the session cache could not be told of ended sessions");
        }
    }
}

/// Applies `action` to each of `user_ids` (already validated: 1 to
/// `MAX_BULK`, no repeats), auditing each change under `actor`; answers
/// each user's outcome, in order.
pub(super) async fn bulk(
    req: &HttpRequest,
    state: &AppState,
    actor: &str,
    action: BulkAction,
    user_ids: &[String],
) -> Result<Vec<Outcome>, BulkError> {
    let now = state.clock.now();
    let mut outcomes = Vec::with_capacity(user_ids.len());
    let mut events = Vec::new();
    for id in user_ids {
        let applied = directory::apply(&state.db, action, id, now).await?;
        forget_revoked(state, action, id, &applied).await;
        if applied.outcome == Outcome::Changed {
            let ev = AuditEvent::new(now, actor.to_owned(), action.audit_action(), Some(id.clone()));
            events.push(super::record_change(state, req, ev));
        }
        outcomes.push(applied.outcome);
    }
    // Concurrently: the audit log commits them in one batch.
    for r in futures_util::future::join_all(events).await {
        r.map_err(|_| BulkError::NotAudited)?;
    }
    Ok(outcomes)
}
