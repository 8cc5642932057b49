//! `POST /csp-report`: browsers report Content-Security-Policy violations on
//! our pages here (a blocked script on a login page is what an injection
//! attempt looks like). Reports are counted and logged with query strings
//! and fragments stripped, since page URLs may carry codes and state.

use super::error::ApiError;
use super::{AppState, read_body_limited};
use actix_web::{HttpResponse, web};
use serde_json::Value;

/// Directive names we label metrics with; anything else is `other`, so
/// reports cannot create unbounded series.
const KNOWN_DIRECTIVES: &[&str] = &[
    "default-src",
    "script-src",
    "script-src-elem",
    "script-src-attr",
    "style-src",
    "style-src-elem",
    "style-src-attr",
    "img-src",
    "connect-src",
    "font-src",
    "form-action",
    "frame-ancestors",
    "frame-src",
    "base-uri",
    "object-src",
    "media-src",
    "worker-src",
    "manifest-src",
];

pub async fn post_csp_report(payload: web::Payload, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let body = read_body_limited(payload, state.settings.body_limit_bytes).await?;
    let json: Value = serde_json::from_slice(&body).map_err(|_| ApiError::BadRequest("report is not JSON"))?;
    let reports = parse_reports(&json).ok_or(ApiError::BadRequest("not a CSP violation report"))?;
    for r in reports {
        state.metrics.csp_reports.with_label_values(&[r.directive]).inc();
        tracing::warn!(
            directive = r.directive,
            document = %r.document,
            blocked = %r.blocked,
            "content security policy violation reported"
        );
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, PartialEq, Eq)]
struct Violation {
    directive: &'static str,
    document: String,
    blocked: String,
}

/// Accepts the legacy `report-uri` shape (`{"csp-report": {...}}`) and the
/// Reporting API shape (`[{"type": "csp-violation", "body": {...}}]`).
fn parse_reports(v: &Value) -> Option<Vec<Violation>> {
    if let Some(r) = v.get("csp-report") {
        return Some(vec![violation(r, "document-uri", "blocked-uri", "effective-directive", "violated-directive")?]);
    }
    let list = v.as_array()?;
    let out: Vec<Violation> = list
        .iter()
        .take(32)
        .filter(|r| r.get("type").and_then(Value::as_str) == Some("csp-violation"))
        .filter_map(|r| {
            violation(r.get("body")?, "documentURL", "blockedURL", "effectiveDirective", "effectiveDirective")
        })
        .collect();
    (!out.is_empty()).then_some(out)
}

fn violation(r: &Value, doc: &str, blocked: &str, directive: &str, fallback: &str) -> Option<Violation> {
    let r = r.as_object()?;
    let text = |k: &str| r.get(k).and_then(Value::as_str);
    let raw_directive = text(directive).or_else(|| text(fallback)).unwrap_or("");
    let name = raw_directive.split_whitespace().next().unwrap_or("");
    Some(Violation {
        directive: KNOWN_DIRECTIVES.iter().find(|d| **d == name).copied().unwrap_or("other"),
        document: strip_uri(text(doc).unwrap_or("")),
        blocked: strip_uri(text(blocked).unwrap_or("")),
    })
}

/// Keeps scheme, host and path; drops query and fragment; bounds length.
fn strip_uri(u: &str) -> String {
    let cut = u.find(['?', '#']).unwrap_or(u.len());
    u[..cut].chars().filter(|c| !c.is_control()).take(256).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn legacy_report_is_parsed_and_query_stripped() {
        let v = json!({"csp-report": {
            "document-uri": "https://id.example.com/authorize?code=SECRET&state=x",
            "blocked-uri": "https://evil.example/x.js#frag",
            "violated-directive": "script-src-elem 'self'"
        }});
        let r = parse_reports(&v).unwrap();
        assert_eq!(
            r,
            vec![Violation {
                directive: "script-src-elem",
                document: "https://id.example.com/authorize".into(),
                blocked: "https://evil.example/x.js".into()
            }]
        );
    }

    #[test]
    fn reporting_api_shape_is_parsed() {
        let v = json!([{"type": "csp-violation", "body": {
            "documentURL": "https://id.example.com/login", "blockedURL": "inline", "effectiveDirective": "made-up"
        }}, {"type": "deprecation", "body": {}}]);
        let r = parse_reports(&v).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].directive, "other");
    }

    #[test]
    fn other_json_is_refused() {
        assert!(parse_reports(&json!({"hello": 1})).is_none());
        assert!(parse_reports(&json!([])).is_none());
        assert!(parse_reports(&json!({"csp-report": 5})).is_none());
    }
}
