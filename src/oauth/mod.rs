//! OAuth 2 protocol logic, free of HTTP types: client registrations and
//! their validation (grants, PKCE, introspection and revocation follow).

pub mod access_token;
pub mod authorize;
pub mod client;
pub mod client_assertion;
pub mod client_cache;
pub mod client_jwks;
pub mod consent;
pub mod error;
pub mod form;
pub mod grants;
pub mod introspection;
pub mod pkce;
pub mod redirect_uri;
pub mod registry;
pub mod revocation_list;
pub mod scope;
pub mod token_cache;
pub mod token_request;

pub use client::{
    ClientError, ClientRegistration, ClientSpec, ClientType, GrantType, SigningAlg, TokenEndpointAuthMethod,
};
