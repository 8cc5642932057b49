//! Network addresses, below every other module: the caller's IP behind
//! trusted proxies, and service URLs shown without their passwords.

mod client_ip;
mod redact;

pub use client_ip::{IpNet, client_ip, parse_list};
pub use redact::redact_url;
