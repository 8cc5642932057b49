//! Trace export settings from the standard `OTEL_*` variables (the names,
//! formats and defaults of the OpenTelemetry specification), so Gatehouse
//! is configured like every other service next to the same collector.
//! Traces are off unless an OTLP endpoint is set.

use super::ConfigError;
use super::load::Origin;
use super::secret::Secret;
use std::collections::BTreeMap;
use std::time::Duration;

/// The variables read here; other `OTEL_*` variables are left alone (they
/// may be meant for other processes sharing the environment).
pub const VARS: &[&str] = &[
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_BSP_SCHEDULE_DELAY",
];

/// Which requests are traced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampler {
    /// Fraction of new traces kept (by trace id, so every service of a
    /// trace decides alike).
    pub ratio: f64,
    /// A caller's `traceparent` decides instead, when present.
    pub parent_based: bool,
}

#[derive(Debug, Clone)]
pub struct Tracing {
    /// Where spans are sent: OTLP over HTTP, protobuf bodies.
    pub traces_url: String,
    /// Sent with every export (often a collector's credentials).
    pub headers: Vec<(String, Secret)>,
    pub service_name: String,
    /// Further resource attributes (`OTEL_RESOURCE_ATTRIBUTES`).
    pub resource: Vec<(String, String)>,
    pub sampler: Sampler,
    pub timeout: Duration,
    /// How long finished spans wait to be sent in one batch.
    pub batch_delay: Duration,
}

/// `None` when traces are off: no endpoint, `OTEL_SDK_DISABLED=true` or
/// `OTEL_TRACES_EXPORTER=none`.
pub fn resolve(env: &BTreeMap<String, String>) -> Result<Option<Tracing>, ConfigError> {
    let get = |var: &str| env.get(var).map(|v| v.trim()).filter(|v| !v.is_empty());
    let bad = |var: &str, message: String| ConfigError::invalid(var, &Origin::Env(var.to_owned()), message);

    if get("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Ok(None);
    }
    match get("OTEL_TRACES_EXPORTER") {
        None | Some("otlp") => {}
        Some("none") => return Ok(None),
        Some(other) => {
            return Err(bad("OTEL_TRACES_EXPORTER", format!("`{other}` is not supported; use `otlp` or `none`")));
        }
    }
    let traces_url = match (get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), get("OTEL_EXPORTER_OTLP_ENDPOINT")) {
        (Some(url), _) => checked_url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url)?,
        // The spec: the signal's path is appended to the base endpoint.
        (None, Some(base)) => {
            format!("{}/v1/traces", checked_url("OTEL_EXPORTER_OTLP_ENDPOINT", base)?.trim_end_matches('/'))
        }
        (None, None) => return Ok(None),
    };
    for var in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
        if let Some(p) = get(var).filter(|p| *p != "http/protobuf") {
            return Err(bad(var, format!("`{p}` is not supported; Gatehouse exports `http/protobuf`")));
        }
    }

    let mut headers: Vec<(String, Secret)> = Vec::new();
    for var in ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"] {
        for (name, value) in key_values(get(var).unwrap_or("")).map_err(|m| bad(var, m))? {
            let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
            if !valid || value.bytes().any(|b| b.is_ascii_control()) {
                return Err(bad(var, format!("`{name}` is not a valid header")));
            }
            // The signal-specific variable wins over the general one.
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
            headers.push((name, Secret::new(value)));
        }
    }

    let mut resource =
        key_values(get("OTEL_RESOURCE_ATTRIBUTES").unwrap_or("")).map_err(|m| bad("OTEL_RESOURCE_ATTRIBUTES", m))?;
    let from_resource = resource.iter().position(|(k, _)| k == "service.name").map(|i| resource.remove(i).1);
    let service_name =
        get("OTEL_SERVICE_NAME").map(str::to_owned).or(from_resource).unwrap_or_else(|| "gatehouse".into());

    let arg = match get("OTEL_TRACES_SAMPLER_ARG") {
        None => None,
        Some(a) => match a.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Some(r),
            _ => return Err(bad("OTEL_TRACES_SAMPLER_ARG", format!("`{a}` is not a ratio between 0 and 1"))),
        },
    };
    let sampler = match get("OTEL_TRACES_SAMPLER").unwrap_or("parentbased_always_on") {
        "always_on" => Sampler { ratio: 1.0, parent_based: false },
        "always_off" => Sampler { ratio: 0.0, parent_based: false },
        "traceidratio" => Sampler { ratio: arg.unwrap_or(1.0), parent_based: false },
        "parentbased_always_on" => Sampler { ratio: 1.0, parent_based: true },
        "parentbased_always_off" => Sampler { ratio: 0.0, parent_based: true },
        "parentbased_traceidratio" => Sampler { ratio: arg.unwrap_or(1.0), parent_based: true },
        other => return Err(bad("OTEL_TRACES_SAMPLER", format!("`{other}` is not a sampler Gatehouse knows"))),
    };

    let millis = |var: &str, default: u64| -> Result<Duration, ConfigError> {
        let Some(ms) = get(var) else { return Ok(Duration::from_millis(default)) };
        let ms: u64 = ms
            .parse()
            .ok()
            .filter(|ms| (1..=600_000).contains(ms))
            .ok_or_else(|| bad(var, format!("`{ms}` is not a duration in milliseconds (1 to 600000)")))?;
        Ok(Duration::from_millis(ms))
    };
    let general = millis("OTEL_EXPORTER_OTLP_TIMEOUT", 10_000)?;
    let timeout = millis("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", general.as_millis() as u64)?;
    let batch_delay = millis("OTEL_BSP_SCHEDULE_DELAY", 5_000)?;
    Ok(Some(Tracing { traces_url, headers, service_name, resource, sampler, timeout, batch_delay }))
}

fn checked_url(var: &str, url: &str) -> Result<String, ConfigError> {
    let parsed = url::Url::parse(url).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    match parsed {
        Some(_) => Ok(url.to_owned()),
        None => Err(ConfigError::invalid(var, &Origin::Env(var.to_owned()), format!("`{url}` is not an http(s) URL"))),
    }
}

/// `key1=value1,key2=value2`, values percent-decoded (W3C Baggage format,
/// as the specification says for headers and resource attributes).
fn key_values(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(format!("`{pair}` is not key=value"));
        };
        let v = percent_encoding::percent_decode_str(v.trim())
            .decode_utf8()
            .map_err(|_| format!("the value of `{}` is not UTF-8 once decoded", k.trim()))?;
        out.push((k.trim().to_owned(), v.into_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn off_without_an_endpoint_or_when_disabled() {
        assert!(resolve(&env(&[])).unwrap().is_none());
        assert!(resolve(&env(&[("OTEL_SERVICE_NAME", "x")])).unwrap().is_none());
        let base = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
        assert!(resolve(&env(&[base, ("OTEL_SDK_DISABLED", "true")])).unwrap().is_none());
        assert!(resolve(&env(&[base, ("OTEL_TRACES_EXPORTER", "none")])).unwrap().is_none());
    }

    #[test]
    fn the_specifications_defaults_and_endpoint_rules() {
        let t = resolve(&env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")])).unwrap().unwrap();
        assert_eq!(t.traces_url, "http://collector:4318/v1/traces");
        assert_eq!(t.service_name, "gatehouse");
        assert_eq!(t.sampler, Sampler { ratio: 1.0, parent_based: true });
        assert_eq!(t.timeout, Duration::from_secs(10));
        assert_eq!(t.batch_delay, Duration::from_secs(5));
        let t = resolve(&env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://collector/custom/path"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=idp,deployment.environment=prod%20eu"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.01"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(t.traces_url, "https://collector/custom/path", "the signal endpoint is used as is");
        assert_eq!(t.service_name, "idp");
        assert_eq!(t.resource, [("deployment.environment".to_owned(), "prod eu".to_owned())]);
        assert_eq!(t.sampler, Sampler { ratio: 0.01, parent_based: true });
        assert_eq!(t.timeout, Duration::from_millis(2500));
    }

    #[test]
    fn headers_are_secrets_and_the_signal_specific_ones_win() {
        let t = resolve(&env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Basic%20abc,x-tenant=a"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "X-Tenant=b"),
        ]))
        .unwrap()
        .unwrap();
        let shown: Vec<(&str, &str)> = t.headers.iter().map(|(n, v)| (n.as_str(), v.expose())).collect();
        assert_eq!(shown, [("Authorization", "Basic abc"), ("X-Tenant", "b")]);
        assert!(!format!("{t:?}").contains("abc"), "headers never print");
    }

    #[test]
    fn every_malformed_value_names_its_variable() {
        let base = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318");
        for (var, value) in [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://c/v1/traces"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "no-equals-sign"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "bad header=x"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x=%0a"),
            ("OTEL_RESOURCE_ATTRIBUTES", "k=%ff"),
            ("OTEL_TRACES_SAMPLER", "sometimes"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
            ("OTEL_TRACES_SAMPLER_ARG", "half"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
            ("OTEL_BSP_SCHEDULE_DELAY", "soon"),
            ("OTEL_TRACES_EXPORTER", "zipkin"),
        ] {
            let mut e = env(&[base]);
            e.insert(var.to_owned(), value.to_owned());
            let err = resolve(&e).expect_err(value).to_string();
            assert!(err.contains(var), "{var}={value}: {err}");
        }
    }
}
