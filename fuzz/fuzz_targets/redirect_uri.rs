//! Registered redirect URI validation: never panics, and whatever it
//! accepts satisfies the registration rules.
#![no_main]

use gatehouse::oauth::ClientType;
use gatehouse::oauth::redirect_uri::{matches_loopback_ignoring_port, validate_registered};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    for ty in [ClientType::Public, ClientType::Confidential] {
        let Ok(uri) = validate_registered(s, ty) else { continue };
        assert_eq!(uri.as_str(), s, "stored exactly as given");
        assert!(!s.contains('#') && !s.contains('*'), "fragment or wildcard accepted: {s:?}");
        assert!(!s.chars().any(|c| c.is_whitespace() || c.is_control()), "whitespace accepted: {s:?}");
        let lower = s.to_ascii_lowercase();
        let web = lower.starts_with("https://") || lower.starts_with("http://");
        if ty == ClientType::Confidential {
            assert!(web, "confidential client got a non-web scheme: {s:?}");
        }
        if lower.starts_with("http://") {
            // Plain http only ever reaches a loopback literal.
            assert!(matches_loopback_ignoring_port(&uri, s), "non-loopback http accepted: {s:?}");
        }
        assert_eq!(validate_registered(uri.as_str(), ty), Ok(uri.clone()), "not idempotent");
    }
});
