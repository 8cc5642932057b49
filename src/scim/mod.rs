//! SCIM 2.0 provisioning (RFC 7643, RFC 7644): the filter and PATCH path
//! language, the schemas, resources as JSON, PATCH, the filter-to-SQL
//! translation and the provisioning operations.

pub mod auth;
pub mod error;
pub mod filter;
pub mod patch;
pub mod query;
pub mod resource;
pub mod schema;
pub mod service;
pub mod tokens;
