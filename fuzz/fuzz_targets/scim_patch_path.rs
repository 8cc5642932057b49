//! SCIM PATCH paths: never a panic, and the printed form parses back.
#![no_main]

use gatehouse::scim::filter::{Limits, parse_patch_path};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let limits = Limits::default();
    let Ok(path) = parse_patch_path(s, &limits) else { return };
    let printed = path.to_string();
    let again = parse_patch_path(&printed, &Limits { max_len: usize::MAX, ..limits });
    assert_eq!(again.as_ref(), Ok(&path), "{s:?} printed as {printed:?}");
});
