//! Schema migrations, shared by SQLite and PostgreSQL. Append only: a
//! migration that has shipped is never edited.

pub use sea_orm_migration::MigrationStatus;
pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_users;
mod m20261123_000002_create_audit_events;
mod m20261123_000003_create_clients;
mod m20261123_000004_create_signing_keys;
mod m20261123_000005_create_revoked_tokens;
mod m20261123_000006_create_client_assertions;
mod m20261123_000007_signing_keys_announced_state;
mod m20261123_000008_create_password_history;
mod m20261123_000009_audit_hash_chain;
mod m20261123_000010_scim;
mod m20261123_000011_browser_flow;
mod m20261123_000012_account_lockouts;
mod m20261123_000013_audit_checkpoints;
mod m20261123_000014_mfa;
mod m20261123_000015_webauthn;
mod m20261202_000016_refresh_families;
mod m20261202_000017_client_introspection_audiences;
pub mod m20261202_000018_login_names;
mod m20261202_000019_device_lockouts;
mod m20261202_000020_client_require_pkce;
mod m20261203_000021_refresh_previous_hash;
pub mod m20261205_000022_user_search_terms;
mod m20261207_000023_audit_event_indexes;
mod m20261208_000024_user_search_indexes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_users::Migration),
            Box::new(m20261123_000002_create_audit_events::Migration),
            Box::new(m20261123_000003_create_clients::Migration),
            Box::new(m20261123_000004_create_signing_keys::Migration),
            Box::new(m20261123_000005_create_revoked_tokens::Migration),
            Box::new(m20261123_000006_create_client_assertions::Migration),
            Box::new(m20261123_000007_signing_keys_announced_state::Migration),
            Box::new(m20261123_000008_create_password_history::Migration),
            Box::new(m20261123_000009_audit_hash_chain::Migration),
            Box::new(m20261123_000010_scim::Migration),
            Box::new(m20261123_000011_browser_flow::Migration),
            Box::new(m20261123_000012_account_lockouts::Migration),
            Box::new(m20261123_000013_audit_checkpoints::Migration),
            Box::new(m20261123_000014_mfa::Migration),
            Box::new(m20261123_000015_webauthn::Migration),
            Box::new(m20261202_000016_refresh_families::Migration),
            Box::new(m20261202_000017_client_introspection_audiences::Migration),
            Box::new(m20261202_000018_login_names::Migration),
            Box::new(m20261202_000019_device_lockouts::Migration),
            Box::new(m20261202_000020_client_require_pkce::Migration),
            Box::new(m20261203_000021_refresh_previous_hash::Migration),
            Box::new(m20261205_000022_user_search_terms::Migration),
            Box::new(m20261207_000023_audit_event_indexes::Migration),
            Box::new(m20261208_000024_user_search_indexes::Migration),
        ]
    }
}
