//! Compact JWS splitting and decoding (before any signature check): never
//! panics, refuses what is over the size limit or carries `crit`, and what
//! it accepts re-encodes to the input it came from.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse::crypto::signing::parse_jws;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let Some(jws) = parse_jws(token) else { return };
    assert!(token.len() <= gatehouse::crypto::signing::MAX_JWS_LEN, "over the size limit: {}", token.len());
    assert_eq!(token.matches('.').count(), 2, "not three parts: {token:?}");
    let (input, signature) = token.rsplit_once('.').unwrap_or_default();
    assert_eq!(jws.signing_input(), input);
    assert_eq!(URL_SAFE_NO_PAD.encode(jws.signature()), signature, "signature not canonical base64url");
    let payload = input.split_once('.').map(|(_, p)| p).unwrap_or_default();
    assert_eq!(URL_SAFE_NO_PAD.encode(&jws.payload), payload);
    let header = input.split_once('.').map(|(h, _)| h).unwrap_or_default();
    let raw: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap_or_default()).unwrap_or_default();
    assert!(raw.get("crit").is_none(), "crit accepted: {raw}");
    assert_eq!(raw["alg"].as_str(), Some(jws.header.alg.as_str()));
});
