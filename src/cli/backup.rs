//! `gatehouse backup --to FILE` and `gatehouse restore --from FILE`: a
//! consistent copy of the SQLite database while the server runs, and its
//! return into an empty data directory. The copy holds the signing keys
//! sealed under the master key and never the key itself: keep the two
//! apart, and restore with the same key (restore checks that it opens them).

use super::{CliError, open_db, print_json};
use crate::config::Settings;
use crate::crypto::MasterKey;
use crate::crypto::envelope::Envelope;
use crate::store::backup::{self, BackupError, Summary};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub async fn backup(settings: Settings, to: PathBuf, json: bool) -> Result<(), CliError> {
    if crate::store::sqlite_file(settings.database_url.expose()).is_none() {
        return Err(BackupError::NotSqlite.into());
    }
    let db = open_db(&settings).await?;
    let made = backup::sqlite_copy(&db, &to).await;
    db.close_by_ref().await?;
    made?;
    // Trusted only once it reads back whole.
    let copy = backup::open_copy(&to).await?;
    let summary = backup::summary(&copy, &to).await?;
    copy.close_by_ref().await?;
    report(json, "backed up to", &to, &summary);
    Ok(())
}

pub async fn restore(settings: Settings, from: PathBuf, json: bool) -> Result<(), CliError> {
    let Some(target) = crate::store::sqlite_file(settings.database_url.expose()) else {
        return Err(CliError(
            "restore puts an SQLite copy in place; for PostgreSQL use pg_restore (docs/operations.md)".to_owned(),
        ));
    };
    crate::telemetry::init(settings.log_format, &settings.log_level);
    let copy = backup::open_copy(&from).await?;
    let checked = async {
        keys_open(&settings, &copy).await?;
        Ok::<_, CliError>(backup::summary(&copy, &from).await?)
    }
    .await;
    copy.close_by_ref().await?;
    let summary = checked?;
    backup::install_copy(&from, &target)?;
    report(json, "restored to", &target, &summary);
    Ok(())
}

/// The configured master key must open every live signing key of the
/// copy: a server started without it could not sign, and would make new
/// keys that no token issued before the backup verifies against.
async fn keys_open(settings: &Settings, copy: &crate::store::Db) -> Result<(), CliError> {
    let configured = settings.master_key.as_ref().map(|k| k.expose());
    let Some(key) = MasterKey::load(configured, &settings.data_dir)? else {
        return Err(CliError(
            "no master key: configure master_key (or master_key_file) with the key the backup was made under"
                .to_owned(),
        ));
    };
    let envelope = Envelope::new(&key)?;
    crate::keys::ops::load(copy, &envelope, &mut HashMap::new(), chrono::Utc::now()).await.map_err(|e| {
        CliError(format!("the configured master key does not open this backup's signing keys ({e}); restore with the key it was made under"))
    })?;
    Ok(())
}

fn report(json: bool, what: &str, path: &Path, s: &Summary) {
    if json {
        let mut v = serde_json::to_value(s).unwrap_or_default();
        v["path"] = path.display().to_string().into();
        print_json(&v);
    } else {
        println!(
            "{what} {}: {} users, {} clients, {} signing keys, {} audit events, {} bytes",
            path.display(),
            s.users,
            s.clients,
            s.signing_keys,
            s.audit_events,
            s.bytes
        );
    }
}
