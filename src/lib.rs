//! Gatehouse: an OpenID Connect / OAuth 2 identity provider with SCIM 2.0
//! provisioning. The binary in `main.rs` is a thin CLI over this library;
//! integration tests drive the same [`server::Application`] over HTTP.

pub mod abuse;
pub mod accounts;
pub mod actors;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod keys;
pub mod mfa;
pub mod net;
pub mod oauth;
pub mod oidc;
pub mod scim;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod web;
mod wire;
