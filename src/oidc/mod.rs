//! OpenID Connect on top of OAuth: claims about the person by scope, and
//! the ID token.

pub mod claims;
pub mod id_token;
pub mod logout;
