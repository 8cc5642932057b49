//! `application/x-www-form-urlencoded` for the OAuth endpoints (a query
//! string or a form body): every parameter at most once (RFC 6749 §3.1,
//! §3.2), and bounded in count and length so a request cannot make us
//! hold more than a few hundred KB for it.

use std::collections::HashMap;

/// How much of a form one endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_params: usize,
    pub max_name_len: usize,
    pub max_value_len: usize,
}

/// The token endpoint: a handful of parameters; assertions are the longest.
pub const TOKEN: Limits = Limits { max_params: 32, max_name_len: 256, max_value_len: 8 * 1024 };
/// The authorization endpoint: room for extension parameters clients send
/// (and we ignore); the longest value we read is a `claims` request (4 KB).
pub const AUTHORIZE: Limits = Limits { max_params: 64, max_name_len: 256, max_value_len: 8 * 1024 };

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("too many parameters")]
    TooMany,
    #[error("parameter too long")]
    TooLong,
    /// Names the parameter (bounded by `max_name_len`).
    #[error("parameter `{0}` is repeated")]
    Repeated(String),
}

/// Parses `raw` within `limits`. An empty value is kept (a repeated empty
/// parameter is still a repetition); callers treat it as absent.
pub fn parse(raw: &[u8], limits: &Limits) -> Result<HashMap<String, String>, FormError> {
    let mut map = HashMap::new();
    for (i, (k, v)) in url::form_urlencoded::parse(raw).enumerate() {
        if i >= limits.max_params {
            return Err(FormError::TooMany);
        }
        if k.len() > limits.max_name_len || v.len() > limits.max_value_len {
            return Err(FormError::TooLong);
        }
        if map.insert(k.clone().into_owned(), v.into_owned()).is_some() {
            return Err(FormError::Repeated(k.into_owned()));
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits { max_params: 3, max_name_len: 8, max_value_len: 16 };

    #[test]
    fn each_parameter_once_within_the_limits() {
        let m = parse(b"a=1&b=&c=%20x", &SMALL).unwrap();
        assert_eq!((m["a"].as_str(), m["b"].as_str(), m["c"].as_str()), ("1", "", " x"));
        assert_eq!(parse(b"a=1&a=2", &SMALL), Err(FormError::Repeated("a".into())));
        assert_eq!(parse(b"a=&a=", &SMALL), Err(FormError::Repeated("a".into())));
        assert_eq!(parse(b"a&b&c&d", &SMALL), Err(FormError::TooMany));
        assert_eq!(parse(b"abcdefghi=1", &SMALL), Err(FormError::TooLong));
        assert_eq!(parse(format!("a={}", "x".repeat(17)).as_bytes(), &SMALL), Err(FormError::TooLong));
        // Lengths are of the decoded text: %41 is one byte.
        assert!(parse(format!("a={}", "%41".repeat(16)).as_bytes(), &SMALL).is_ok());
        assert!(parse(b"", &SMALL).unwrap().is_empty());
    }
}
