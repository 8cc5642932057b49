//! `gatehouse serve`: start, announce, run until SIGTERM/SIGINT.

use super::CliError;
use crate::accounts::bootstrap::{BOOTSTRAP_USERNAME, Bootstrap};
use crate::config::Settings;
use crate::crypto::master_key::MasterKeySource;
use crate::server::Application;

pub async fn serve(settings: Settings) -> Result<(), CliError> {
    crate::telemetry::init(settings.log_format, &settings.log_level);
    let issuer = settings.issuer.clone();
    let profile = settings.profile;
    let app = Application::build(settings).await?;

    if let MasterKeySource::GeneratedDevFile(path) = app.master_key_source() {
        tracing::warn!(path = %path.display(), "generated a development master key; set master_key (or master_key_file) for anything but local development");
        eprintln!(
            "\n  WARNING: generated a development master key at {}.\n  Anyone with this file can decrypt signing keys. Configure master_key in production.\n",
            path.display()
        );
    }
    match app.bootstrap() {
        Bootstrap::CreatedWithGeneratedPassword(user, password) => {
            tracing::info!(user_id = %user.id, "created the bootstrap administrator (password shown once on stderr)");
            // Deliberately not a log line: logs are shipped and retained.
            eprintln!(
                "\n  Created the first administrator.\n    username: {BOOTSTRAP_USERNAME}\n    password: {}\n  This password is shown only once. Change it with `gatehouse user set-password {BOOTSTRAP_USERNAME} --password-stdin`.\n",
                password.as_str()
            );
        }
        Bootstrap::CreatedWithConfiguredPassword(user) => {
            tracing::info!(user_id = %user.id, "created the bootstrap administrator with the configured password");
        }
        Bootstrap::NotNeeded => {}
    }

    app.stop_on_signals()?;
    let startup_ms = app.startup_elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        address = %app.addr(),
        metrics_address = app.metrics_addr().map(|a| a.to_string()),
        issuer,
        profile = profile.as_str(),
        startup_ms,
        "gatehouse listening"
    );
    app.run_until_stopped().await?;
    Ok(())
}
