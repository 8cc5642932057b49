//! Traces over OTLP/HTTP: one server span per request, named by method and
//! route template, continuing the caller's `traceparent`. Spans carry no
//! query string, header or body (they hold codes and secrets), only what
//! the access log carries. Exported in batches from a background thread;
//! when traces are off nothing here runs.

use crate::config::otel::{Sampler as SamplerSetting, Tracing};
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider};
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum TracesError {
    #[error("OTLP exporter: {0}")]
    Exporter(String),
}

/// The tracer of one server; shut down (flushing what is queued) when the
/// server stops.
pub struct Traces {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

impl Traces {
    pub fn start(settings: &Tracing) -> Result<Self, TracesError> {
        let headers: HashMap<String, String> =
            settings.headers.iter().map(|(k, v)| (k.clone(), v.expose().to_owned())).collect();
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(ExportClient::new(settings.timeout)?)
            .with_endpoint(settings.traces_url.clone())
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_timeout(settings.timeout)
            .with_headers(headers)
            .build()
            .map_err(|e| TracesError::Exporter(e.to_string()))?;
        let batch = BatchConfigBuilder::default().with_scheduled_delay(settings.batch_delay).build();
        let processor = BatchSpanProcessor::builder(exporter).with_batch_config(batch).build();
        let resource = Resource::builder_empty()
            .with_service_name(settings.service_name.clone())
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
            .with_attributes(settings.resource.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_sampler(sampler(settings.sampler))
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("gatehouse");
        Ok(Self { provider, tracer })
    }

    /// Starts the span of a request. `parent` is the caller's trace id,
    /// span id and sampled flag from a valid `traceparent`.
    pub fn request(&self, parent: Option<(&str, &str, bool)>, method: &str, path: &str) -> RequestSpan {
        let cx = match parent.and_then(|(t, s, sampled)| remote_parent(t, s, sampled)) {
            Some(remote) => Context::new().with_remote_span_context(remote),
            None => Context::new(),
        };
        let mut span = self
            .tracer
            .span_builder(method.to_owned())
            .with_kind(SpanKind::Server)
            .start_with_context(&self.tracer, &cx);
        // Attributes cost allocations: only for spans that are kept.
        if span.is_recording() {
            span.set_attribute(KeyValue::new("http.request.method", method.to_owned()));
            span.set_attribute(KeyValue::new("url.path", path.to_owned()));
        }
        RequestSpan { span, method: method.to_owned() }
    }

    /// Exports what is queued and stops the exporter thread.
    pub fn shutdown(&self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!(error = %e, "trace exporter did not shut down cleanly");
        }
    }
}

/// A request's span, ended by [`RequestSpan::finish`] (or when dropped).
pub struct RequestSpan {
    span: opentelemetry_sdk::trace::Span,
    method: String,
}

impl RequestSpan {
    /// The span's trace id and span id (hex) and whether it is sampled,
    /// so log lines and the ids sent on carry the same.
    pub fn ids(&self) -> (String, String, bool) {
        let cx = self.span.span_context();
        (cx.trace_id().to_string(), cx.span_id().to_string(), cx.is_sampled())
    }

    pub fn finish(mut self, route: &str, status: u16, request_id: &str) {
        if !self.span.is_recording() {
            return;
        }
        self.span.update_name(format!("{} {route}", self.method));
        self.span.set_attribute(KeyValue::new("http.route", route.to_owned()));
        self.span.set_attribute(KeyValue::new("http.response.status_code", i64::from(status)));
        self.span.set_attribute(KeyValue::new("gatehouse.request_id", request_id.to_owned()));
        // Server spans: 4xx is the client's error, not ours (semantic conventions).
        if status >= 500 {
            self.span.set_status(Status::error(status.to_string()));
        }
        self.span.end();
    }
}

fn remote_parent(trace_id: &str, span_id: &str, sampled: bool) -> Option<SpanContext> {
    let trace_id = TraceId::from_hex(trace_id).ok()?;
    let span_id = SpanId::from_hex(span_id).ok()?;
    let flags = if sampled { TraceFlags::SAMPLED } else { TraceFlags::default() };
    Some(SpanContext::new(trace_id, span_id, flags, true, TraceState::default()))
}

fn sampler(s: SamplerSetting) -> Sampler {
    let root = if s.ratio >= 1.0 {
        Sampler::AlwaysOn
    } else if s.ratio <= 0.0 {
        Sampler::AlwaysOff
    } else {
        Sampler::TraceIdRatioBased(s.ratio)
    };
    if s.parent_based { Sampler::ParentBased(Box::new(root)) } else { root }
}

/// The exporter's HTTP client: our reqwest on a small runtime of its own.
/// The batch processor drives exports from a plain thread (`block_on`),
/// where reqwest has no reactor; requests run on this runtime's thread.
struct ExportClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
    /// Dropped with the client: the runtime's thread then ends.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl ExportClient {
    fn new(timeout: Duration) -> Result<Self, TracesError> {
        let failed = |e: &dyn std::fmt::Display| TracesError::Exporter(e.to_string());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| failed(&e))?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("otlp-export".into())
            .spawn(move || {
                // Drives every request spawned on the handle until the client goes.
                let _ = runtime.block_on(stopped);
            })
            .map_err(|e| failed(&e))?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| failed(&e))?;
        Ok(Self { client, runtime: handle, _stop: stop })
    }
}

impl std::fmt::Debug for ExportClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExportClient")
    }
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for ExportClient {
    async fn send_bytes(
        &self,
        request: opentelemetry_http::Request<opentelemetry_http::Bytes>,
    ) -> Result<opentelemetry_http::Response<opentelemetry_http::Bytes>, opentelemetry_http::HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let client = self.client.clone();
        let sent = self.runtime.spawn(async move {
            let response = client.execute(request).await?;
            let mut out = opentelemetry_http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                out = out.header(name, value);
            }
            let body = response.bytes().await?;
            Ok::<_, opentelemetry_http::HttpError>(out.body(body)?)
        });
        sent.await?
    }
}
