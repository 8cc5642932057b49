//! sea-orm entities, one module per table. Migrations in `migration/` are
//! the source of truth for the schema; these mirror them.

pub mod account_lockouts;
pub mod audit_checkpoints;
pub mod audit_events;
pub mod authorization_codes;
pub mod client_assertions;
pub mod clients;
pub mod consents;
pub mod device_lockouts;
pub mod family_access_tokens;
pub mod group_members;
pub mod groups;
pub mod login_challenges;
pub mod login_names;
pub mod mfa_recovery_codes;
pub mod mfa_totp;
pub mod password_history;
pub mod refresh_families;
pub mod refresh_tokens;
pub mod revoked_tokens;
pub mod scim_tokens;
pub mod sessions;
pub mod signing_keys;
pub mod user_multi_values;
pub mod user_search_terms;
pub mod users;
pub mod webauthn_ceremonies;
pub mod webauthn_credentials;
