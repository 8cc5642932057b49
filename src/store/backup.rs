//! Copies of an SQLite database taken while it serves, and the checks a
//! copy passes before it is trusted. `VACUUM INTO` reads the database in
//! one read transaction, so the copy is the state at one instant; under WAL
//! the server's writers carry on meanwhile. (PostgreSQL has `pg_dump`; see
//! docs/operations.md.)

use super::StoreError;
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, EntityTrait as _, PaginatorTrait as _, Statement};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("backups of PostgreSQL are made with pg_dump (docs/operations.md); this command copies SQLite")]
    NotSqlite,
    #[error("{0} exists already; choose a new file")]
    Exists(PathBuf),
    #[error("{path} is not a readable SQLite database: {cause}")]
    Unreadable { path: PathBuf, cause: String },
    #[error("{path} failed SQLite's integrity check: {report}")]
    Corrupt { path: PathBuf, report: String },
    #[error("{0} holds no Gatehouse schema")]
    NotGatehouse(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a copy holds, for the operator to compare with what they expect.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub users: u64,
    pub clients: u64,
    pub signing_keys: u64,
    pub audit_events: u64,
    pub bytes: u64,
}

/// Writes a consistent copy of the served SQLite database to `to`, which
/// must not exist. Returns once the copy is complete on disk.
pub async fn sqlite_copy(db: &DatabaseConnection, to: &Path) -> Result<(), BackupError> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Err(BackupError::NotSqlite);
    }
    if to.exists() {
        return Err(BackupError::Exists(to.to_owned()));
    }
    let target = to
        .to_str()
        .ok_or_else(|| BackupError::Unreadable { path: to.to_owned(), cause: "the path is not UTF-8".to_owned() })?;
    // The target is a bound value, never SQL text.
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [target.into()]))
        .await
        .map_err(StoreError::from)?;
    Ok(())
}

/// Opens a copy read-only and checks it: SQLite's full integrity check,
/// then that it carries Gatehouse's schema. The connection is for the
/// caller's further checks (the master key opens its signing keys).
pub async fn open_copy(path: &Path) -> Result<DatabaseConnection, BackupError> {
    let unreadable = |cause: String| BackupError::Unreadable { path: path.to_owned(), cause };
    if !path.is_file() {
        return Err(unreadable("no such file".to_owned()));
    }
    let url = format!("sqlite://{}?mode=ro", path.display());
    let db = sea_orm::Database::connect(url).await.map_err(|e| unreadable(e.to_string()))?;
    let rows = db
        .query_all_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA integrity_check"))
        .await
        .map_err(|e| unreadable(e.to_string()))?;
    let report: Vec<String> = rows.iter().filter_map(|r| r.try_get_by_index::<String>(0).ok()).collect();
    if report != ["ok"] {
        return Err(BackupError::Corrupt { path: path.to_owned(), report: report.join("; ") });
    }
    match super::migration_status(&db).await {
        Ok(m) if m.iter().any(|m| m.applied) => Ok(db),
        _ => Err(BackupError::NotGatehouse(path.to_owned())),
    }
}

/// Counts what matters in a database (a served one or a copy).
pub async fn summary(db: &DatabaseConnection, path: &Path) -> Result<Summary, BackupError> {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(Summary {
        users: entity::users::Entity::find().count(db).await.map_err(StoreError::from)?,
        clients: entity::clients::Entity::find().count(db).await.map_err(StoreError::from)?,
        signing_keys: entity::signing_keys::Entity::find().count(db).await.map_err(StoreError::from)?,
        audit_events: entity::audit_events::Entity::find().count(db).await.map_err(StoreError::from)?,
        bytes,
    })
}

/// Puts a checked copy in place as the database file `target`, which must
/// not exist (nor its WAL): restore is for an empty data directory, never
/// over a live database. Copies beside the target first, then renames, so
/// a crash leaves either nothing or the whole file.
pub fn install_copy(copy: &Path, target: &Path) -> Result<(), BackupError> {
    for existing in [target.to_owned(), with_suffix(target, "-wal"), with_suffix(target, "-shm")] {
        if existing.exists() {
            return Err(BackupError::Exists(existing));
        }
    }
    let io = |e: std::io::Error| BackupError::Unreadable { path: target.to_owned(), cause: e.to_string() };
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let partial = with_suffix(target, ".restoring");
    std::fs::copy(copy, &partial).map_err(io)?;
    std::fs::File::open(&partial).and_then(|f| f.sync_all()).map_err(io)?;
    std::fs::rename(&partial, target).map_err(io)?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
