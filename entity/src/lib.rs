//! sea-orm entities, one module per table. Migrations in `migration/` are
//! the source of truth for the schema; these mirror them.

pub mod audit_events;
pub mod client_assertions;
pub mod clients;
pub mod password_history;
pub mod revoked_tokens;
pub mod signing_keys;
pub mod users;
