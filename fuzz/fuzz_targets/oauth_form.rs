//! The OAuth form parser, as `/authorize` and `/token` use it: never
//! panics, whatever it accepts is within the endpoint's limits with every
//! parameter once, and the token endpoint's view agrees with it.
#![no_main]

use gatehouse::oauth::form::{self, AUTHORIZE, FormError, TOKEN};
use gatehouse::oauth::token_request::TokenParams;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for limits in [AUTHORIZE, TOKEN] {
        match form::parse(data, &limits) {
            Ok(map) => {
                assert!(map.len() <= limits.max_params);
                for (k, v) in &map {
                    assert!(k.len() <= limits.max_name_len && v.len() <= limits.max_value_len);
                }
                // Re-encoding what was read reads back the same.
                let again = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&map).finish();
                assert_eq!(form::parse(again.as_bytes(), &limits).as_ref(), Ok(&map));
            }
            Err(FormError::Repeated(name)) => assert!(name.len() <= limits.max_name_len),
            Err(_) => {}
        }
    }
    let token = TokenParams::parse(data);
    assert_eq!(token.is_ok(), form::parse(data, &TOKEN).is_ok());
    if let Ok(p) = token {
        let map = form::parse(data, &TOKEN).unwrap_or_default();
        for (k, v) in &map {
            assert_eq!(p.get(k), Some(v.as_str()).filter(|v| !v.is_empty()));
        }
    }
    let _ = gatehouse::oauth::authorize::Params::parse(data);
});
