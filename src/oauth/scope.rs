//! RFC 6749 §3.3 scope tokens.

/// Longest scope token accepted.
pub const MAX_SCOPE_LEN: usize = 128;

/// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`: printable ASCII except
/// space, `"` and `\`.
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SCOPE_LEN
        && s.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_token_grammar() {
        for ok in ["openid", "api:read", "https://api.example.com/read", "a!#[]~"] {
            assert!(is_scope_token(ok), "{ok}");
        }
        for bad in ["", "two words", "quo\"te", "back\\slash", "tab\t", "é", &"x".repeat(129)] {
            assert!(!is_scope_token(bad), "{bad}");
        }
    }
}
