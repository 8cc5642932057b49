//! `gatehouse scim-token`: bearer tokens for SCIM provisioning clients.
//! A token is shown once at creation and stored as a keyed hash.

use super::{CliError, audit, print_json, show};
use crate::config::Settings;
use crate::crypto::SecretHasher;
use crate::store::scim::tokens as store;
use clap::Subcommand;
use serde_json::json;

/// Prefix that makes a leaked token recognisable to secret scanners.
const PREFIX: &str = "gh_scim_";

#[derive(Debug, Subcommand)]
pub enum ScimTokenAction {
    /// Create a token; it is printed once.
    Create {
        /// A unique name for the provisioning client (e.g. "entra").
        #[arg(long)]
        name: String,
    },
    /// List tokens (never their values).
    List,
    /// Revoke a token by id or name; requests with it fail at once.
    Revoke { token: String },
}

pub async fn run(action: ScimTokenAction, settings: Settings, json: bool) -> Result<(), CliError> {
    let (db, hasher) = super::open_with_hasher(&settings).await?;
    let result = dispatch(action, &db, &hasher, json).await;
    db.close_by_ref().await?;
    result
}

async fn dispatch(
    action: ScimTokenAction,
    db: &crate::store::Db,
    hasher: &SecretHasher,
    json: bool,
) -> Result<(), CliError> {
    let now = chrono::Utc::now();
    match action {
        ScimTokenAction::Create { name } => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
                return Err(CliError("--name must be 1 to 128 printable characters".into()));
            }
            let secret = crate::crypto::secret_hash::generate_secret()?;
            let token = format!("{PREFIX}{}", secret.as_str());
            let id = uuid::Uuid::new_v4().to_string();
            let row = entity::scim_tokens::Model {
                id: id.clone(),
                name: name.clone(),
                token_hash: hasher.hash(&token),
                created_at: now,
                last_used_at: None,
                revoked_at: None,
            };
            store::insert_token(db, row).await.map_err(|e| match e {
                crate::store::scim::ScimStoreError::Taken => {
                    CliError(format!("a SCIM token named {name:?} already exists"))
                }
                other => CliError(other.to_string()),
            })?;
            audit(db, "scim_token.created", &name).await?;
            show(json, &json!({"id": id, "name": name, "token": token}), Some("token"));
        }
        ScimTokenAction::List => {
            let rows = store::list_tokens(db).await?;
            let list: Vec<_> = rows
                .iter()
                .map(|r| {
                    json!({
                        "id": r.id,
                        "name": r.name,
                        "created_at": r.created_at.to_rfc3339(),
                        "last_used_at": r.last_used_at.map(|t| t.to_rfc3339()),
                        "revoked_at": r.revoked_at.map(|t| t.to_rfc3339()),
                    })
                })
                .collect();
            if json {
                print_json(&json!(list));
            } else {
                for r in &rows {
                    let state = if r.revoked_at.is_some() { "revoked" } else { "active" };
                    println!("{}  {:<24} {state}", r.id, r.name);
                }
            }
        }
        ScimTokenAction::Revoke { token } => {
            let name = store::revoke_token(db, &token, now).await.map_err(|e| match e {
                crate::store::scim::ScimStoreError::NotFound => CliError(format!("no SCIM token {token:?}")),
                other => CliError(other.to_string()),
            })?;
            audit(db, "scim_token.revoked", &name).await?;
            if json {
                print_json(&json!({"revoked": name}));
            } else {
                println!("revoked {name}");
            }
        }
    }
    Ok(())
}
