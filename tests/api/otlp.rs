//! Traces over OTLP/HTTP, received by a plain HTTP server standing in for
//! the collector and decoded with OpenTelemetry's own protobuf types: one
//! server span per request, named by route template, continuing the
//! caller's `traceparent`, sampled as the standard variables say, and never
//! carrying a secret.

use crate::helpers::{TestApp, spawn_app_with};
use crate::token::{client, machine};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the collector received: each export's headers and decoded body,
/// and the raw bytes (to look for secrets).
#[derive(Default)]
struct Received {
    exports: Vec<(Vec<(String, String)>, ExportTraceServiceRequest)>,
    raw: Vec<u8>,
}

struct Collector {
    url: String,
    received: Arc<Mutex<Received>>,
    _server: actix_web::dev::ServerHandle,
}

impl Collector {
    async fn start() -> Self {
        let received = Arc::new(Mutex::new(Received::default()));
        let store = received.clone();
        let server = HttpServer::new(move || {
            let store = store.clone();
            App::new().route(
                "/v1/traces",
                web::post().to(move |req: HttpRequest, body: web::Bytes| {
                    let store = store.clone();
                    async move {
                        let Ok(decoded) = ExportTraceServiceRequest::decode(body.as_ref()) else {
                            return HttpResponse::BadRequest().finish();
                        };
                        let headers = req
                            .headers()
                            .iter()
                            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                            .collect();
                        let mut r = store.lock().unwrap();
                        r.raw.extend_from_slice(&body);
                        r.exports.push((headers, decoded));
                        HttpResponse::Ok().content_type("application/x-protobuf").body(Vec::<u8>::new())
                    }
                }),
            )
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_rt::spawn(server);
        Collector { url: format!("http://{addr}"), received, _server: handle }
    }

    fn spans(&self) -> Vec<Span> {
        let r = self.received.lock().unwrap();
        r.exports
            .iter()
            .flat_map(|(_, e)| e.resource_spans.iter())
            .flat_map(|rs| rs.scope_spans.iter())
            .flat_map(|ss| ss.spans.iter().cloned())
            .collect()
    }

    async fn spans_named(&self, name: &str) -> Span {
        let started = Instant::now();
        loop {
            if let Some(s) = self.spans().into_iter().find(|s| s.name == name) {
                return s;
            }
            let names: Vec<String> = self.spans().into_iter().map(|s| s.name).collect();
            assert!(started.elapsed() < Duration::from_secs(15), "no span {name}; got {names:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn attr(span: &Span, key: &str) -> Option<AnyValue> {
    span.attributes.iter().find(|kv| kv.key == key).and_then(|kv| kv.value.clone()?.value)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn traced_app(collector: &Collector, extra: &[(&str, &str)]) -> TestApp {
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url.as_str()),
        ("OTEL_SERVICE_NAME", "gatehouse-under-test"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    env.extend_from_slice(extra);
    spawn_app_with(&env).await
}

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

#[actix_web::test]
async fn a_token_request_is_one_server_span_in_the_callers_trace_without_secrets() {
    let collector = Collector::start().await;
    let app =
        traced_app(&collector, &[("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20collector-credential")]).await;
    let (id, secret) = client(&app, machine("traced", &["api:read"])).await;
    let secret = secret.unwrap();
    let res = app
        .client
        .post(app.url("/token"))
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .basic_auth(&id, Some(&secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=api%3Aread")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let access_token = res.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();

    let span = collector.spans_named("POST /token").await;
    assert_eq!(hex(&span.trace_id), CALLER_TRACE, "the caller's trace continues");
    assert_eq!(hex(&span.parent_span_id), CALLER_SPAN);
    assert_eq!(span.kind, opentelemetry_proto::tonic::trace::v1::span::SpanKind::Server as i32);
    assert_eq!(attr(&span, "http.route"), Some(AnyValue::StringValue("/token".into())));
    assert_eq!(attr(&span, "http.request.method"), Some(AnyValue::StringValue("POST".into())));
    assert_eq!(attr(&span, "http.response.status_code"), Some(AnyValue::IntValue(200)));
    assert_eq!(attr(&span, "gatehouse.request_id"), Some(AnyValue::StringValue(request_id)));
    assert!(span.end_time_unix_nano >= span.start_time_unix_nano);

    // A path with an id is still named by its template.
    app.get("/scim/v2/Users/7d7a1b3c-0000-4000-8000-000000000000").await;
    collector.spans_named("GET /scim/v2/Users/{id}").await;

    let r = collector.received.lock().unwrap();
    let (headers, export) = &r.exports[0];
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(header("content-type"), Some("application/x-protobuf"));
    assert_eq!(header("authorization"), Some("Bearer collector-credential"));
    let resource = export.resource_spans[0].resource.as_ref().unwrap();
    let service = resource.attributes.iter().find(|kv| kv.key == "service.name").unwrap();
    assert_eq!(service.value.clone().unwrap().value, Some(AnyValue::StringValue("gatehouse-under-test".into())));
    let raw = String::from_utf8_lossy(&r.raw);
    for secret in [secret.as_str(), access_token.as_str(), "grant_type", "api:read"] {
        assert!(!raw.contains(secret), "{secret} reached the trace");
    }
}

#[actix_web::test]
async fn sampling_follows_the_standard_variables() {
    // Nothing is kept, whatever the caller says.
    let collector = Collector::start().await;
    let app = traced_app(&collector, &[("OTEL_TRACES_SAMPLER", "always_off")]).await;
    let sampled = format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01");
    app.client.get(app.url("/health/live")).header("traceparent", &sampled).send().await.unwrap();
    app.get("/health/live").await;
    app.handle.stop().await; // flushes the exporter
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(collector.spans().is_empty(), "always_off exported spans");

    // Parent-based: a sampled caller is traced, an unsampled one and a new
    // trace are not.
    let collector = Collector::start().await;
    let app = traced_app(&collector, &[("OTEL_TRACES_SAMPLER", "parentbased_always_off")]).await;
    app.get("/health/live").await;
    let unsampled = format!("00-{CALLER_TRACE}-{CALLER_SPAN}-00");
    app.client.get(app.url("/jwks.json")).header("traceparent", &unsampled).send().await.unwrap();
    app.client.get(app.url("/.well-known/openid-configuration")).header("traceparent", &sampled).send().await.unwrap();
    let span = collector.spans_named("GET /.well-known/openid-configuration").await;
    assert_eq!(hex(&span.trace_id), CALLER_TRACE);
    app.handle.stop().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let names: Vec<String> = collector.spans().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["GET /.well-known/openid-configuration"]);
}

#[actix_web::test]
async fn a_malformed_otel_variable_refuses_to_start_and_names_itself() {
    let db = crate::helpers::TestDatabase::create().await;
    let env = crate::helpers::with(
        crate::helpers::base_env(&db),
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")],
    );
    let err = gatehouse::config::Settings::load(None, env).unwrap_err().to_string();
    assert!(err.contains("OTEL_EXPORTER_OTLP_PROTOCOL") && err.contains("http/protobuf"), "{err}");
}
