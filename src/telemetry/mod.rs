//! Structured logging via tracing: JSON lines (production default) or a
//! human format, always on stderr so that CLI output on stdout stays clean.
//! Lines are written by a background thread: a request never waits for the
//! terminal or the log shipper.

mod json;
pub mod otel;

use crate::config::LogFormat;
use std::sync::Mutex;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Targets whose debug/trace output records secrets (the database URL in
/// connect spans, bound statement values) are capped at `info`, whatever
/// `log_level` asks for.
const SECRET_BEARING_TARGETS: &[&str] = &["sea_orm", "sea_orm_migration", "sqlx", "sqlx_postgres", "sqlx_sqlite"];

/// Keeps the writer thread alive until [`flush`].
static GUARD: Mutex<Option<WorkerGuard>> = Mutex::new(None);

/// Installs the global subscriber; a second call is a no-op.
pub fn init(format: LogFormat, level: &str) {
    let mut filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    // Only a cap: at `warn` these targets stay at `warn`.
    let verbose = filter.max_level_hint().is_none_or(|max| max > tracing_subscriber::filter::LevelFilter::INFO);
    for target in SECRET_BEARING_TARGETS.iter().filter(|_| verbose) {
        if let Ok(directive) = format!("{target}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    // Lossy when the 128k-line buffer is full (a flood must not stall
    // request handling); the audit trail lives in the database, not here.
    // Buffered: the writer thread drains every queued line, then flushes
    // once, instead of one system call per line.
    let (writer, guard) =
        tracing_appender::non_blocking(std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr()));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    let installed = match format {
        LogFormat::Json => builder.fmt_fields(json::JsonFields).event_format(json::JsonLines).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    if installed.is_ok() {
        *GUARD.lock().unwrap_or_else(|e| e.into_inner()) = Some(guard);
    }
}

/// Writes out buffered lines; call before the process exits.
pub fn flush() {
    drop(GUARD.lock().unwrap_or_else(|e| e.into_inner()).take());
}
