//! Storage: the connection pool, migrations, and one repository module per
//! aggregate. The only place that builds queries.

pub mod audit;
pub mod backup;
pub mod client_assertions;
pub mod clients;
pub mod export;
pub mod health;
pub mod lockouts;
pub mod login_names;
pub mod mfa;
pub mod password_history;
pub mod refresh;
pub mod revocations;
pub mod scim;
pub mod sessions;
pub mod signing_keys;
pub mod user_search;
pub mod users;
pub mod webauthn;

use migration::{Migrator, MigratorTrait as _};
use sea_orm::{ConnectOptions, ConnectionTrait as _, DatabaseConnection, DbErr, TransactionTrait as _};
use std::time::Duration;

pub use sea_orm::DatabaseConnection as Db;

/// Storage failures. Callers map these to their own wire errors; the text
/// may name tables but never carries row values.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the database directory {path}: {source}")]
    Directory { path: String, source: std::io::Error },
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// Names the setting and where it points (without a password), so
    /// the operator knows what to fix.
    #[error("cannot open the database at {target} (setting `database_url`): {cause}")]
    Connect { target: String, cause: String },
}

/// Whether an insert failed because the row (or key) exists already.
pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

/// Opens the pool. SQLite gets WAL (readers never wait for the writer), a
/// busy timeout (writers queue instead of failing) and foreign keys on.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, StoreError> {
    if let Some(dir) = sqlite_parent_dir(url) {
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Directory { path: dir.clone(), source })?;
    }
    let failed = |cause: String| StoreError::Connect { target: crate::net::redact_url(url), cause };
    // One direct connection first: the pool would retry a refused
    // connection until its timeout and then say only "pool timed out";
    // this says "connection refused", or which database or role is
    // missing, at once.
    if url.starts_with("postgres") {
        use sea_orm::sqlx::Connection as _;
        match tokio::time::timeout(CONNECT_TIMEOUT, sea_orm::sqlx::PgConnection::connect(url)).await {
            Err(_) => return Err(failed(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()))),
            Ok(Err(e)) => return Err(failed(e.to_string())),
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
            }
        }
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(CONNECT_TIMEOUT)
        // sqlx statement logging would print bound values.
        .sqlx_logging(false)
        .record_stmt_in_spans(false)
        .map_sqlx_sqlite_opts(|o| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    sea_orm::Database::connect(opts).await.map_err(|e| failed(e.to_string()))
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The directory of a `sqlite://path/file.db` URL, which SQLite will not
/// create by itself.
fn sqlite_parent_dir(url: &str) -> Option<String> {
    let path = sqlite_file(url)?;
    let parent = path.parent()?.to_str()?;
    (!parent.is_empty()).then(|| parent.to_owned())
}

/// The database file of a `sqlite://path/file.db?…` URL (`None` for an
/// in-memory database or another engine).
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

/// Which database engine a URL or a pool uses; the few queries that differ
/// between them branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

pub fn kind(db: &DatabaseConnection) -> DatabaseKind {
    match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => DatabaseKind::Sqlite,
        _ => DatabaseKind::Postgres,
    }
}

/// How full the connection pool is: requests wait for a connection once
/// `in_use` reaches `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

impl PoolStats {
    pub fn in_use(&self) -> u32 {
        self.open.saturating_sub(self.idle)
    }
}

pub fn pool_stats(db: &DatabaseConnection) -> PoolStats {
    fn of<D: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<D>) -> PoolStats {
        let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
        PoolStats { open: pool.size(), idle, max: pool.options().get_max_connections() }
    }
    match kind(db) {
        DatabaseKind::Sqlite => of(db.get_sqlite_connection_pool()),
        DatabaseKind::Postgres => of(db.get_postgres_connection_pool()),
    }
}

/// An arbitrary constant naming Gatehouse's migration lock on PostgreSQL.
const MIGRATION_LOCK_KEY: i64 = 0x6761_7465_686f_7573; // "gatehous"

/// Applies pending migrations. On PostgreSQL several instances may start at
/// once: a transaction-scoped advisory lock makes them take turns, and the
/// DDL commits atomically with the migration record.
pub async fn migrate_up(db: &DatabaseConnection) -> Result<(), StoreError> {
    match kind(db) {
        DatabaseKind::Postgres => {
            let txn = db.begin().await?;
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")).await?;
            Migrator::up(&txn, None).await?;
            txn.commit().await?;
        }
        DatabaseKind::Sqlite => Migrator::up(db, None).await?,
    }
    Ok(())
}

/// Opens a transaction holding a named lock, so that instances sharing a
/// PostgreSQL database take turns (e.g. creating signing keys). SQLite
/// serialises writers itself; there the transaction suffices. The lock is
/// released when the transaction commits or is dropped.
pub async fn locked_transaction(
    db: &DatabaseConnection,
    lock: i64,
) -> Result<sea_orm::DatabaseTransaction, StoreError> {
    let txn = db.begin().await?;
    match kind(db) {
        DatabaseKind::Postgres => {
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({lock})")).await?;
        }
        // A deferred SQLite transaction that reads and then writes fails
        // at once if another writer got in between; a (no-op) write first
        // takes the write lock up front, and the busy timeout queues us.
        DatabaseKind::Sqlite => {
            txn.execute_unprepared("UPDATE seaql_migrations SET applied_at = applied_at WHERE 1 = 0").await?;
        }
    }
    Ok(txn)
}

/// Reverts the last `steps` applied migrations.
pub async fn migrate_down(db: &DatabaseConnection, steps: u32) -> Result<(), StoreError> {
    Ok(Migrator::down(db, Some(steps)).await?)
}

/// One migration and whether it has been applied.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationState {
    pub name: String,
    pub applied: bool,
}

pub async fn migration_status(db: &DatabaseConnection) -> Result<Vec<MigrationState>, StoreError> {
    let list = Migrator::get_migration_with_status(db).await?;
    Ok(list
        .iter()
        .map(|m| MigrationState {
            name: m.name().to_owned(),
            applied: matches!(m.status(), migration::MigrationStatus::Applied),
        })
        .collect())
}

/// True when no migration is pending (the server refuses to run on a
/// schema it does not know).
pub async fn is_up_to_date(db: &DatabaseConnection) -> Result<bool, StoreError> {
    Ok(migration_status(db).await?.iter().all(|m| m.applied))
}

#[cfg(test)]
mod tests {
    use super::sqlite_parent_dir;
    use crate::net::redact_url as redacted;

    /// Connection errors name the target through the settings' redaction.
    #[test]
    fn error_messages_show_the_database_without_its_password() {
        let pg = redacted("postgres://gh:s3cret@db.internal:5432/gatehouse");
        assert!(pg.contains("db.internal:5432/gatehouse") && !pg.contains("s3cret"), "{pg}");
        let query = redacted("postgres://gh@db:5432/gh?password=s3cret&sslmode=require");
        assert!(query.starts_with("postgres://gh@db:5432/gh") && !query.contains("s3cret"), "{query}");
        assert!(redacted("sqlite://data/gatehouse.db?mode=rwc").starts_with("sqlite://data/gatehouse.db"));
        assert!(!redacted("not a url s3cret").contains("s3cret"));
    }

    #[test]
    fn sqlite_dir_is_derived_from_the_url() {
        assert_eq!(sqlite_parent_dir("sqlite://data/gh.db?mode=rwc").as_deref(), Some("data"));
        assert_eq!(sqlite_parent_dir("sqlite:///var/lib/gh/gh.db").as_deref(), Some("/var/lib/gh"));
        assert_eq!(sqlite_parent_dir("sqlite://gh.db"), None);
        assert_eq!(sqlite_parent_dir("sqlite::memory:"), None);
        assert_eq!(sqlite_parent_dir("postgres://x/y"), None);
    }
}
