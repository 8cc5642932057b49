//! The caller's IP address. Behind reverse proxies listed in
//! `trusted_proxies`, the client address comes from `X-Forwarded-For`,
//! read from the right: the first hop that is not a trusted proxy is the
//! client (anything left of it could be forged by the client itself).

use std::net::IpAddr;

/// An address or a CIDR block (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = ip.trim().parse().map_err(|_| format!("`{s}` is not an IP address or CIDR block"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => {
                p.trim().parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("bad prefix in `{s}`"))?
            }
        };
        Ok(Self { addr, prefix })
    }
}

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => mask_eq(&net.octets(), &ip.octets(), self.prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => mask_eq(&net.octets(), &ip.octets(), self.prefix),
            _ => false,
        }
    }
}

fn mask_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let (full, rest) = (usize::from(prefix / 8), prefix % 8);
    if a[..full] != b[..full] {
        return false;
    }
    rest == 0 || (a[full] ^ b[full]) >> (8 - rest) == 0
}

/// Parses `trusted_proxies`: comma-separated addresses or CIDR blocks.
pub fn parse_list(s: &str) -> Result<Vec<IpNet>, String> {
    s.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::parse).collect()
}

/// The client address for a connection from `peer` carrying the given
/// `X-Forwarded-For` header values.
pub fn client_ip(peer: Option<IpAddr>, forwarded_for: &[&str], trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = forwarded_for.iter().flat_map(|h| h.split(',')).map(str::trim).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // A malformed hop ends the walk: trust nothing beyond it.
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_blocks() {
        let n: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(n.contains(ip("10.200.1.1")) && !n.contains(ip("11.0.0.1")));
        assert!(n.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped IPv6");
        let n: IpNet = "192.168.1.0/23".parse().unwrap();
        assert!(n.contains(ip("192.168.0.255")) && !n.contains(ip("192.168.2.0")));
        let n: IpNet = "fd00::/8".parse().unwrap();
        assert!(n.contains(ip("fd12::1")) && !n.contains(ip("fe80::1")));
        assert!("0.0.0.0/0".parse::<IpNet>().unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0.0/x", "::/129"] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = parse_list("10.0.0.0/8, 192.0.2.1").unwrap();
        // Direct connection: the header is the client's own claim, ignored.
        assert_eq!(client_ip(Some(ip("203.0.113.9")), &["1.2.3.4"], &trusted), Some(ip("203.0.113.9")));
        // Through our proxy: the hop it saw.
        assert_eq!(client_ip(Some(ip("10.0.0.5")), &["203.0.113.9"], &trusted), Some(ip("203.0.113.9")));
        // A client-supplied prefix is skipped: read from the right.
        assert_eq!(client_ip(Some(ip("10.0.0.5")), &["6.6.6.6, 203.0.113.9"], &trusted), Some(ip("203.0.113.9")));
        // Two proxies of ours, across two headers.
        assert_eq!(client_ip(Some(ip("10.0.0.5")), &["203.0.113.9", "192.0.2.1"], &trusted), Some(ip("203.0.113.9")));
        // Garbage stops the walk at the last good hop.
        assert_eq!(client_ip(Some(ip("10.0.0.5")), &["203.0.113.9, junk"], &trusted), Some(ip("10.0.0.5")));
        assert_eq!(client_ip(Some(ip("10.0.0.5")), &[], &trusted), Some(ip("10.0.0.5")));
    }
}
