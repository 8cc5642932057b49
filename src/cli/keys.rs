//! `gatehouse keys list|rotate [--now]|revoke KID`. Changes reach every
//! running instance within `key_refresh_secs`.

use super::{CliError, open_db, print_json, require_schema};
use crate::audit::AuditEvent;
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::crypto::MasterKey;
use crate::crypto::envelope::Envelope;
use crate::keys::ops::{self, KeyEvent};
use crate::store::audit;
use chrono::Utc;
use clap::Subcommand;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// List signing keys and their lifecycle state.
    List,
    /// Schedule the next key (published now, signing after the pre-publish window).
    Rotate {
        /// Sign with a new key at once; current keys retire now but stay
        /// published until their tokens expire.
        #[arg(long)]
        now: bool,
    },
    /// Emergency: remove a key from the JWKS at once; tokens it signed stop being valid.
    Revoke {
        /// Thumbprints are base64url and may start with `-`.
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
}

pub async fn run(action: KeysAction, settings: Settings, json: bool) -> Result<(), CliError> {
    let db = open_db(&settings).await?;
    require_schema(&db).await?;
    let (master, _) =
        MasterKey::load_or_generate(settings.master_key.as_ref().map(|k| k.expose()), &settings.data_dir)?;
    let envelope = Envelope::new(&master)?;
    let policy = settings.key_policy();
    let now = Utc::now();
    let events = match action {
        KeysAction::List => None,
        KeysAction::Rotate { now: immediate } => Some(ops::rotate(&db, &envelope, now, &policy, immediate).await?),
        KeysAction::Revoke { kid } => Some(ops::revoke(&db, &envelope, &kid, &SystemClock, &policy).await?),
    };
    if let Some(events) = &events {
        let rows = events.iter().map(|e| AuditEvent::new(now, "cli", e.action, Some(e.kid.clone()))).collect();
        audit::append(&db, rows).await?;
    }
    let keys = ops::list(&db, now).await?;
    db.close_by_ref().await?;

    if json {
        let mut out = json!({ "keys": keys });
        if let Some(events) = events {
            out["changes"] = json!(events);
        }
        print_json(&out);
        return Ok(());
    }
    for KeyEvent { action, kid, alg } in events.iter().flatten() {
        println!("{action:<26} {alg:<6} {kid}");
    }
    println!("{:<44}  {:<6}  {:<8}  {:<26}  retires", "kid", "alg", "state", "activates");
    for k in &keys {
        println!(
            "{:<44}  {:<6}  {:<8}  {:<26}  {}",
            k.kid,
            k.alg,
            k.state.as_str(),
            k.activates_at,
            k.retires_at.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}
