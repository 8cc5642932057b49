//! RFC 6749 §5.2 token endpoint errors: one variant per `error` code, each
//! carrying the description sent to the client (never a secret).

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Missing, repeated or malformed parameters; unsupported content type.
    #[error("{0}")]
    InvalidRequest(String),
    /// Client authentication failed (unknown client, wrong secret, wrong
    /// method). `basic` says whether it was tried with HTTP Basic, which
    /// makes the response a 401 with a `WWW-Authenticate` challenge.
    #[error("client authentication failed")]
    InvalidClient { basic: bool },
    #[error("{0}")]
    UnauthorizedClient(String),
    #[error("{0}")]
    UnsupportedGrantType(String),
    /// The code or refresh token is invalid, expired, revoked, used, or
    /// bound to another client or redirect URI.
    #[error("{0}")]
    InvalidGrant(String),
    #[error("{0}")]
    InvalidScope(String),
    /// Too many failed client authentications from this source.
    #[error("too many failed client authentications; retry in {retry_after} s")]
    RateLimited { limit: u32, retry_after: u64 },
    /// The client used up its token quota for now.
    #[error("token quota exceeded; retry in {retry_after} s")]
    QuotaExceeded { limit: u32, retry_after: u64 },
    /// An internal failure; details are logged, not sent.
    #[error("the server could not complete the request")]
    ServerError,
    /// The database is unreachable and the request needs it: refused at
    /// once (503) rather than after the pool's timeout.
    #[error("the service is temporarily unavailable; retry shortly")]
    TemporarilyUnavailable,
}

impl TokenError {
    /// The `error` code of RFC 6749 §5.2.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(_) => "invalid_request",
            TokenError::InvalidClient { .. } => "invalid_client",
            TokenError::UnauthorizedClient(_) => "unauthorized_client",
            TokenError::UnsupportedGrantType(_) => "unsupported_grant_type",
            TokenError::InvalidGrant(_) => "invalid_grant",
            TokenError::InvalidScope(_) => "invalid_scope",
            TokenError::RateLimited { .. } | TokenError::QuotaExceeded { .. } => "rate_limited",
            TokenError::ServerError => "server_error",
            TokenError::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}
