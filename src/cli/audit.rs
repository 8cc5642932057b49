//! `gatehouse audit verify|tail`: check the hash chain, read the newest events.

use super::{CliError, open_db, print_json, require_schema};
use crate::config::Settings;
use crate::store::audit::{self, ChainReport};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Recompute the hash chain; exit 1 at the first broken link.
    Verify,
    /// The newest events, oldest first.
    Tail {
        #[arg(long, default_value_t = 20)]
        limit: u64,
    },
}

pub async fn run(action: AuditAction, settings: Settings, json: bool) -> Result<(), CliError> {
    let db = open_db(&settings).await?;
    require_schema(&db).await?;
    let result = match action {
        AuditAction::Verify => verify(&db, json).await,
        AuditAction::Tail { limit } => tail(&db, limit.min(10_000), json).await,
    };
    db.close_by_ref().await?;
    result
}

async fn verify(db: &crate::store::Db, json: bool) -> Result<(), CliError> {
    let report = audit::verify_chain(db).await?;
    if json {
        print_json(&serde_json::to_value(&report)?);
    }
    match report {
        ChainReport::Intact { rows, unchained, head } => {
            if !json {
                println!("audit chain intact: {rows} events");
                if unchained > 0 {
                    println!("({unchained} older events predate the chain and are not covered)");
                }
                if let Some(h) = head {
                    println!("head {h}  (keep a copy elsewhere: it reveals deletion of the newest events)");
                }
            }
            Ok(())
        }
        ChainReport::Broken { id, reason } => Err(CliError(format!("audit chain broken at event {id}: {reason}"))),
    }
}

async fn tail(db: &crate::store::Db, limit: u64, json: bool) -> Result<(), CliError> {
    let mut events = audit::recent(db, limit).await?;
    events.reverse();
    if json {
        let items: Vec<_> = events
            .iter()
            .map(|e| {
                serde_json::json!({
                    "id": e.id, "occurred_at": e.occurred_at.to_rfc3339(), "actor": e.actor, "action": e.action,
                    "target": e.target, "outcome": e.outcome, "reason": e.reason, "request_id": e.request_id,
                    "ip": e.ip, "hash": e.hash,
                })
            })
            .collect();
        print_json(&serde_json::json!({ "events": items }));
    } else {
        for e in &events {
            println!(
                "{:>6}  {}  {:<10} {:<24} {:<8} {}",
                e.id,
                e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                e.actor,
                e.action,
                e.outcome,
                e.target.as_deref().unwrap_or("-")
            );
        }
    }
    Ok(())
}
