//! Integration tests: the real server over real HTTP, on SQLite or (with
//! GATEHOUSE_TEST_DATABASE_URL) PostgreSQL. One binary, one link.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin_clients;
mod admin_keys;
mod admin_users;
mod audit_chain;
mod backup;
mod binary;
mod cli_clients;
mod crash;
mod db_outage;
mod export;
mod health;
mod helpers;
mod home;
mod http_edge;
mod introspection;
mod keys;
mod lockout;
mod login_namespace;
mod metrics;
mod mfa;
mod mfa_attacks;
mod oidc_attacks;
mod oidc_claims;
mod oidc_flow;
mod oidc_logout;
mod oidc_node_client;
mod otlp;
mod password_change;
mod pkce_optional;
mod private_key_jwt;
mod rate_limit;
mod refresh_grace;
mod scim;
mod scim_auth;
mod scim_conformance;
mod scim_differential;
mod scim_groups;
mod scim_unknown_members;
mod secrets;
mod storage;
mod token;
mod token_lifecycle;
mod user_search_plans;
mod webauthn_browser;
