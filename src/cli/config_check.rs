//! `gatehouse config check`: the effective configuration, secrets redacted.

use super::{CliError, print_json};
use crate::config::{ConfigError, Settings};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Validate the configuration and print it with secrets redacted.
    Check,
}

pub fn run(action: ConfigAction, loaded: Result<Settings, ConfigError>, json: bool) -> Result<(), CliError> {
    let ConfigAction::Check = action;
    let settings = loaded?;
    let view = settings.redacted();
    if json {
        let obj: serde_json::Map<String, serde_json::Value> = view
            .into_iter()
            .map(|(k, (v, origin))| (k.to_owned(), serde_json::json!({ "value": v, "origin": origin })))
            .collect();
        print_json(&serde_json::Value::Object(obj));
    } else {
        for (k, (v, origin)) in view {
            let shown = if v.is_null() { "(unset)".to_owned() } else { v.to_string() };
            println!("{k} = {shown}  # {origin}");
        }
        println!("# configuration is valid");
    }
    Ok(())
}
