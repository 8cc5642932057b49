//! Filter parse throughput: parses a mix of real-world SCIM filters (Entra
//! ID, Okta and the RFC's examples) in a loop and prints filters/s.
//! `cargo run --release --example scim_filter_throughput [seconds]`

use gatehouse::scim::filter::{Limits, parse_filter};
use std::time::{Duration, Instant};

const FILTERS: &[&str] = &[
    r#"userName eq "bjensen@example.com""#,
    r#"externalId eq "2819c223-7f76-453a-919d-413861904646""#,
    r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
    r#"meta.lastModified gt "2011-05-13T04:42:34Z" and not (title pr)"#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Tour Operations""#,
    r#"id eq "1f1e0cbe-8c6a-4f5e-9f0e-4b1d9a1c2d3e" and members.value eq "c2d3e4f5-0000-4000-8000-000000000000""#,
    r#"displayName eq "Engineering""#,
];

fn main() {
    let secs: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(3);
    let limits = Limits::default();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let (mut parsed, mut bytes) = (0u64, 0u64);
    while Instant::now() < deadline {
        for f in FILTERS {
            let ast = parse_filter(f, &limits);
            std::hint::black_box(&ast);
            bytes += f.len() as u64;
        }
        parsed += FILTERS.len() as u64;
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "{:.0} filters/s ({:.1} MB/s), {} filters in {:.1} s",
        parsed as f64 / s,
        bytes as f64 / s / 1e6,
        parsed,
        s
    );
}
