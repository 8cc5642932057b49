//! Request correlation: `X-Request-Id` (accepted when sane, else generated)
//! and W3C Trace Context `traceparent` (continued when valid, else started).

use std::fmt;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
const MAX_REQUEST_ID_LEN: usize = 128;

/// The id that ties a response, its log lines and its audit events together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// Accepts a caller's id only if it is short and made of characters that
    /// cannot forge log structure (no spaces, quotes or control characters).
    pub fn from_header(value: Option<&str>) -> Self {
        match value {
            Some(v) if is_sane(v) => RequestId(v.to_owned()),
            _ => RequestId::generate(),
        }
    }

    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        // A failed generator leaves zeros; ids correlate, they do not protect.
        let _ = crate::crypto::fill_random(&mut bytes);
        RequestId(uuid::Builder::from_random_bytes(bytes).into_uuid().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_sane(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= MAX_REQUEST_ID_LEN
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'='))
}

/// Our position in a distributed trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// 32 lowercase hex digits, shared by the whole trace.
    pub trace_id: String,
    /// The caller's span (16 hex digits), when the trace was continued.
    pub parent_id: Option<String>,
    /// Our own span id, 16 hex digits.
    pub span_id: String,
    pub sampled: bool,
}

impl TraceContext {
    /// Continues a valid `traceparent` (version 00 rules; unknown future
    /// versions are parsed by their 00 prefix as the spec asks) or starts a
    /// new trace.
    pub fn from_header(value: Option<&str>) -> Self {
        value.and_then(parse_traceparent).unwrap_or_else(|| TraceContext {
            trace_id: random_hex(16),
            parent_id: None,
            span_id: random_hex(8),
            sampled: false,
        })
    }

    /// The `traceparent` to send downstream (our span as the parent).
    pub fn header_value(&self) -> String {
        format!("00-{}-{}-{}", self.trace_id, self.span_id, if self.sampled { "01" } else { "00" })
    }
}

fn parse_traceparent(v: &str) -> Option<TraceContext> {
    let v = v.trim();
    let mut parts = v.split('-');
    let (version, trace_id, parent_id, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !hex(version, 2) || version == "ff" || !hex(trace_id, 32) || !hex(parent_id, 16) || !hex(flags, 2) {
        return None;
    }
    // Version 00 has exactly four fields; later versions may append more.
    if version == "00" && parts.next().is_some() {
        return None;
    }
    if trace_id.bytes().all(|b| b == b'0') || parent_id.bytes().all(|b| b == b'0') {
        return None;
    }
    let flags = u8::from_str_radix(flags, 16).ok()?;
    Some(TraceContext {
        trace_id: trace_id.to_owned(),
        parent_id: Some(parent_id.to_owned()),
        span_id: random_hex(8),
        sampled: flags & 1 == 1,
    })
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The OS RNG failing leaves zeros; ids are for correlation, not security.
    let _ = crate::crypto::fill_random(&mut buf);
    if buf.iter().all(|b| *b == 0) {
        buf[0] = 1;
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_and_others_replaced() {
        assert_eq!(RequestId::from_header(Some("abc-123_x.y")).as_str(), "abc-123_x.y");
        for bad in ["", "has space", "quote\"", "new\nline", &"x".repeat(129), "é"] {
            let id = RequestId::from_header(Some(bad));
            assert_ne!(id.as_str(), bad);
            assert_eq!(id.as_str().len(), 36);
        }
    }

    #[test]
    fn valid_traceparent_is_continued() {
        let t = TraceContext::from_header(Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        assert_eq!(t.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(t.parent_id.as_deref(), Some("00f067aa0ba902b7"));
        assert_ne!(t.span_id, "00f067aa0ba902b7");
        assert!(t.sampled);
        assert!(t.header_value().starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
    }

    #[test]
    fn invalid_traceparent_starts_a_new_trace() {
        for bad in [
            "garbage",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            let t = TraceContext::from_header(Some(bad));
            assert!(t.parent_id.is_none(), "{bad}");
            assert_eq!(t.trace_id.len(), 32);
        }
        let future = TraceContext::from_header(Some("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what"));
        assert_eq!(future.parent_id.as_deref(), Some("00f067aa0ba902b7"));
    }
}
