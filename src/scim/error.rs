//! The SCIM error space (RFC 7644 §3.12); the web layer renders it as the
//! `urn:ietf:params:scim:api:messages:2.0:Error` body.

use super::filter::FilterError;

/// `scimType` values (RFC 7644 Table 9) Gatehouse uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    TooMany,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::TooMany => "tooMany",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScimError {
    /// 400 (409 for `uniqueness`) with a `scimType`.
    #[error("{detail}")]
    Bad { scim_type: ScimType, detail: String },
    #[error("resource not found")]
    NotFound,
    /// The token may not change this resource (admins, groups granting admin,
    /// accounts not provisioned over SCIM).
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("the resource changed since the version in If-Match")]
    PreconditionFailed,
    /// The path exists but not with this method; lists the methods it has.
    #[error("method not allowed here; allowed: {0}")]
    MethodNotAllowed(&'static str),
    /// RFC 7644 §3.12: an operation the service provider does not offer.
    #[error("{0}")]
    NotImplemented(&'static str),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database is known to be down: refused at once, retry shortly.
    #[error("the service is temporarily unavailable; retry shortly")]
    Unavailable,
}

impl ScimError {
    pub fn bad(scim_type: ScimType, detail: impl Into<String>) -> Self {
        ScimError::Bad { scim_type, detail: detail.into() }
    }

    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ScimError::Internal(Box::new(e))
    }

    pub fn status(&self) -> u16 {
        match self {
            ScimError::Bad { scim_type: ScimType::Uniqueness, .. } => 409,
            ScimError::Bad { .. } => 400,
            ScimError::NotFound => 404,
            ScimError::Forbidden(_) => 403,
            ScimError::PreconditionFailed => 412,
            ScimError::NotImplemented(_) => 501,
            ScimError::MethodNotAllowed(_) => 405,
            ScimError::Internal(_) => 500,
            ScimError::Unavailable => 503,
        }
    }

    pub fn scim_type(&self) -> Option<ScimType> {
        match self {
            ScimError::Bad { scim_type, .. } => Some(*scim_type),
            _ => None,
        }
    }
}

impl From<FilterError> for ScimError {
    fn from(e: FilterError) -> Self {
        ScimError::bad(ScimType::InvalidFilter, e.to_string())
    }
}

impl From<crate::store::StoreError> for ScimError {
    fn from(e: crate::store::StoreError) -> Self {
        ScimError::internal(e)
    }
}
