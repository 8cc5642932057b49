//! Structured logging via tracing: JSON lines (production default) or a
//! human format, always on stderr so that CLI output on stdout stays clean.

use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Targets whose debug/trace output records secrets (the database URL in
/// connect spans, bound statement values) are capped at `info`, whatever
/// `log_level` asks for.
const SECRET_BEARING_TARGETS: &[&str] = &["sea_orm", "sea_orm_migration", "sqlx", "sqlx_postgres", "sqlx_sqlite"];

/// Installs the global subscriber; a second call is a no-op.
pub fn init(format: LogFormat, level: &str) {
    let mut filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    for target in SECRET_BEARING_TARGETS {
        if let Ok(directive) = format!("{target}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
