//! SCIM 2.0 provisioning (RFC 7643, RFC 7644). So far: the filter and PATCH
//! path language.

pub mod filter;
