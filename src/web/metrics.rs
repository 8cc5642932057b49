//! Prometheus metrics: request counts and latency histograms per route
//! pattern (never per raw path, which would let callers mint series).

use super::AppState;
use super::error::ApiError;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use prometheus::{
    Encoder as _, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pub csp_reports: IntCounterVec,
    /// 1 when the shared failure budgets' Redis answers, 0 when not; absent
    /// without Redis. Set at scrape time.
    pub redis_up: IntGauge,
    /// Password logins by outcome (`success`, `wrong_password`, `unknown_account`, …).
    pub login_attempts: IntCounterVec,
    pub lockouts: prometheus::IntCounter,
    /// Requests refused by a failure budget, by class (`login`, `client_auth`, …).
    pub rate_limited: IntCounterVec,
    /// Member ids a SCIM group write skipped (`scim_unknown_members = "ignore"`).
    pub scim_unknown_members: prometheus::IntCounter,
    /// The gauges and counters below are read from their owners at scrape time.
    db_pool: IntGaugeVec,
    db_pool_max: IntGauge,
    audit_write_failures: IntCounter,
    audit_dropped: IntCounter,
    key_stops_signing: GaugeVec,
    key_next_published: IntGaugeVec,
    /// One refresh at a time: concurrent scrapes would both catch a
    /// counter up and count twice.
    refreshing: std::sync::Mutex<()>,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("gatehouse".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by method, route pattern and status"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by method and route pattern")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["method", "route"],
        )?;
        let csp_reports = IntCounterVec::new(
            Opts::new("csp_violation_reports_total", "Content-Security-Policy violation reports by directive"),
            &["directive"],
        )?;
        let build = IntGauge::with_opts(
            Opts::new("build_info", "Always 1; labelled with the running version")
                .const_label("version", env!("CARGO_PKG_VERSION")),
        )?;
        build.set(1);
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(csp_reports.clone()))?;
        registry.register(Box::new(build))?;
        let redis_up = IntGauge::new("rate_limit_redis_up", "Whether the Redis of the shared failure budgets answers")?;
        let login_attempts =
            IntCounterVec::new(Opts::new("login_attempts_total", "Password logins by outcome"), &["outcome"])?;
        let lockouts = prometheus::IntCounter::new("account_lockouts_total", "Accounts locked after failed logins")?;
        let rate_limited = IntCounterVec::new(
            Opts::new("rate_limit_hits_total", "Requests refused by a failure budget, by class"),
            &["class"],
        )?;
        registry.register(Box::new(login_attempts.clone()))?;
        registry.register(Box::new(lockouts.clone()))?;
        registry.register(Box::new(rate_limited.clone()))?;
        let scim_unknown_members = prometheus::IntCounter::new(
            "scim_unknown_members_skipped_total",
            "Member ids a SCIM group write skipped because no SCIM user has them",
        )?;
        registry.register(Box::new(scim_unknown_members.clone()))?;
        let db_pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database connections by state (in_use, idle)"),
            &["state"],
        )?;
        let db_pool_max = IntGauge::new("db_pool_max_connections", "The database pool's size limit")?;
        let audit_write_failures =
            IntCounter::new("audit_write_failures_total", "Failed audit log writes (each retried)")?;
        let audit_dropped =
            IntCounter::new("audit_events_dropped_total", "Audit events lost because the unwritten buffer overflowed")?;
        let key_stops_signing = GaugeVec::new(
            Opts::new(
                "signing_key_stops_signing_seconds",
                "Seconds until the current signing key stops signing (0: none signs)",
            ),
            &["alg"],
        )?;
        let key_next_published = IntGaugeVec::new(
            Opts::new("signing_key_next_published", "1 when a successor key is published in the JWKS, not signing yet"),
            &["alg"],
        )?;
        registry.register(Box::new(db_pool.clone()))?;
        registry.register(Box::new(db_pool_max.clone()))?;
        registry.register(Box::new(audit_write_failures.clone()))?;
        registry.register(Box::new(audit_dropped.clone()))?;
        registry.register(Box::new(key_stops_signing.clone()))?;
        registry.register(Box::new(key_next_published.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            csp_reports,
            redis_up,
            login_attempts,
            lockouts,
            rate_limited,
            scim_unknown_members,
            db_pool,
            db_pool_max,
            audit_write_failures,
            audit_dropped,
            key_stops_signing,
            key_next_published,
            refreshing: std::sync::Mutex::new(()),
        })
    }

    /// Reads the values other components own: the pool, the audit log's
    /// failure counts, each algorithm's key rotation.
    fn refresh(&self, state: &AppState) {
        let _one = self.refreshing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let pool = crate::store::pool_stats(&state.db);
        self.db_pool.with_label_values(&["in_use"]).set(i64::from(pool.in_use()));
        self.db_pool.with_label_values(&["idle"]).set(i64::from(pool.idle));
        self.db_pool_max.set(i64::from(pool.max));
        let stats = &state.actors.audit.stats;
        catch_up(&self.audit_write_failures, &stats.write_failures);
        catch_up(&self.audit_dropped, &stats.dropped_events);
        let keys = state.keys.load();
        let now = state.clock.now();
        for alg in crate::keys::ALGORITHMS {
            let rotation = keys.rotation(alg);
            let left = rotation.map_or(0.0, |r| {
                let millis = (r.stops_signing(&state.key_policy) - now).num_milliseconds().max(0);
                millis as f64 / 1000.0
            });
            self.key_stops_signing.with_label_values(&[alg.as_str()]).set(left);
            let next = rotation.is_some_and(|r| r.next_published);
            self.key_next_published.with_label_values(&[alg.as_str()]).set(i64::from(next));
        }
    }

    /// Records one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let method = match method {
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" => method,
            _ => "OTHER",
        };
        self.requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.latency.with_label_values(&[method, route]).observe(seconds);
    }

    pub fn render(&self) -> Result<Vec<u8>, prometheus::Error> {
        let mut out = Vec::with_capacity(4096);
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(out)
    }
}

/// `GET /metrics`, behind the bearer token when one is configured.
pub async fn get_metrics(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Some(token) = &state.settings.metrics_token {
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !crate::crypto::constant_time_eq(presented.as_bytes(), token.expose().as_bytes()) {
            return Err(ApiError::Unauthorized);
        }
    }
    if let Some(up) = state.redis.as_ref().map(|r| !r.is_degraded()) {
        // Registered on first use, so deployments without Redis do not show it.
        let _ = state.metrics.registry.register(Box::new(state.metrics.redis_up.clone()));
        state.metrics.redis_up.set(i64::from(up));
    }
    state.metrics.refresh(&state);
    let body = state.metrics.render().map_err(|e| ApiError::internal(&super::request_id_of(&req), &e))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .body(body))
}

/// Brings a Prometheus counter up to a count kept elsewhere (counters only
/// go up, and so do the sources).
fn catch_up(counter: &IntCounter, source: &AtomicU64) {
    let behind = source.load(Ordering::Relaxed).saturating_sub(counter.get());
    if behind > 0 {
        counter.inc_by(behind);
    }
}
