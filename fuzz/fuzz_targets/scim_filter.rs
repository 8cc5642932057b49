//! SCIM filters: never a panic or a stack overflow, and whatever parses
//! prints to a canonical form that parses back to the same tree.
#![no_main]

use gatehouse::scim::filter::{Limits, parse_filter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let limits = Limits::default();
    let Ok(filter) = parse_filter(s, &limits) else { return };
    let printed = filter.to_string();
    // The canonical form may be longer than the input (added parentheses).
    let roomy = Limits { max_len: usize::MAX, ..limits };
    match parse_filter(&printed, &roomy) {
        Ok(again) => assert_eq!(again, filter, "{s:?} printed as {printed:?}"),
        Err(e) => panic!("{s:?} printed as {printed:?}, which does not parse: {e}"),
    }
});
