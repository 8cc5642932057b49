//! Builds the application (storage, actors, HTTP listeners) and runs it
//! until a shutdown signal, then shuts down in order: stop accepting, drain
//! in-flight requests, drain actors, close the pool.

use crate::accounts::bootstrap::{self, Bootstrap};
use crate::accounts::{AccountError, PasswordError, PasswordHasher};
use crate::actors::{ActorDeps, Actors};
use crate::audit::AuditEvent;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::crypto::envelope::{Envelope, EnvelopeError};
use crate::crypto::master_key::MasterKeySource;
use crate::crypto::{MasterKey, MasterKeyError};
use crate::keys::ops::{self, KeyError};
use crate::oauth::client_cache::ClientCache;
use crate::oauth::client_jwks::{ClientJwks, JwksError};
use crate::oauth::revocation_list::RevocationList;
use crate::oauth::token_cache::VerifiedTokens;
use crate::store::{self, Db, StoreError};
use crate::web::{self, AppState, metrics::Metrics};
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer};
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod shutdown;
pub use shutdown::ShutdownHandle;
use shutdown::Signals;

/// Why the server could not start. Each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the database schema is not up to date; run `gatehouse migrate up` (or set auto_migrate = true)")]
    SchemaOutdated,
    #[error("master key: {0}")]
    MasterKey(#[from] MasterKeyError),
    #[error("bootstrap admin: {0}")]
    Bootstrap(#[from] AccountError),
    #[error("envelope encryption: {0}")]
    Envelope(#[from] EnvelopeError),
    #[error("WebAuthn relying party from the issuer: {0}")]
    Webauthn(String),
    #[error("signing keys: {0}")]
    Keys(#[from] KeyError),
    #[error("password hasher: {0}")]
    Password(#[from] PasswordError),
    #[error("HTTP client for client key sets: {0}")]
    HttpClient(#[from] JwksError),
    #[error("redis_url: {0}")]
    Redis(String),
    #[error(transparent)]
    Traces(#[from] crate::telemetry::otel::TracesError),
    #[error("metrics registry: {0}")]
    Metrics(#[from] prometheus::Error),
    /// Names the setting (`bind` or `metrics_bind`), so the operator
    /// knows which one to change.
    #[error("cannot listen on {addr} (setting `{setting}`): {source}")]
    Bind { setting: &'static str, addr: SocketAddr, source: std::io::Error },
}

/// A built, bound, not yet running server.
pub struct Application {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    server: Server,
    metrics_server: Option<Server>,
    state: actix_web::web::Data<AppState>,
    bootstrap: Bootstrap,
    master_key_source: MasterKeySource,
    started: Instant,
}

impl Application {
    /// Connects to the configured database and builds everything.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let db = store::connect(settings.database_url.expose(), settings.db_max_connections).await?;
        Self::build_with(settings, db, Arc::new(SystemClock)).await
    }

    /// Builds on an existing pool with a given clock (tests pin both).
    pub async fn build_with(settings: Settings, db: Db, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let started = Instant::now();
        // Listeners first: a start that cannot listen must fail before it
        // creates anything (a bootstrap admin whose generated password is
        // shown only by a start that succeeds would be lost).
        let listener = bind("bind", settings.bind)?;
        let metrics_listener = match settings.metrics_bind.filter(|_| settings.metrics_enabled) {
            Some(addr) => Some(bind("metrics_bind", addr)?),
            None => None,
        };
        if settings.auto_migrate {
            store::migrate_up(&db).await?;
        } else if !store::is_up_to_date(&db).await? {
            return Err(StartupError::SchemaOutdated);
        }
        let (master_key, master_key_source) =
            MasterKey::load_or_generate(settings.master_key.as_ref().map(|k| k.expose()), &settings.data_dir)?;
        let hasher = PasswordHasher::new(settings.password_hash_concurrency)?;
        let envelope = Arc::new(Envelope::new(&master_key)?);
        let key_policy = settings.key_policy();

        // Keys exist and are loaded before the first request.
        let key_events = ops::ensure_keys(&db, &envelope, clock.as_ref(), &key_policy).await?;
        let (_, key_set) = ops::load(&db, &envelope, &mut HashMap::new(), clock.now()).await?;
        let keys = Arc::new(ArcSwap::from_pointee(key_set));

        // Every revocation is in memory before the first request.
        let revocations_loaded_at = clock.now();
        let revocations = Arc::new(RevocationList::default());
        let revoked = store::revocations::revoked_since(&db, None, revocations_loaded_at).await?;
        revocations.merge(revoked, revocations_loaded_at.timestamp());

        let mut failures = crate::abuse::FailureLimits::new(settings.auth_failures_per_minute, clock.clone());
        let mut login_failures = crate::abuse::FailureLimits::new(settings.login_failures_per_minute, clock.clone());
        let redis = match &settings.redis_url {
            None => None,
            Some(url) => {
                let link =
                    crate::abuse::shared::SharedBudgets::new(url.expose(), &settings.redis_key_prefix, clock.clone())
                        .map_err(|e| StartupError::Redis(e.to_string()))?;
                // Probed before serving: a link starts degraded, and under
                // fail_closed every check would refuse until the first probe.
                link.probe().await;
                if link.is_degraded() {
                    tracing::warn!("rate limiter: Redis unreachable at start; using this instance's budgets");
                }
                let link = Arc::new(link);
                failures = failures.with_shared(link.clone(), settings.rate_limit_redis_policy);
                login_failures = login_failures.with_shared(link.clone(), settings.rate_limit_redis_policy);
                Some(link)
            }
        };
        let failures = Arc::new(failures);

        let actors = Actors::start(ActorDeps {
            db: db.clone(),
            clock: clock.clone(),
            envelope: envelope.clone(),
            key_policy,
            key_refresh: Duration::from_secs(settings.key_refresh_secs),
            keys: keys.clone(),
            revocations: revocations.clone(),
            revocations_loaded_at,
            cache_refresh: Duration::from_secs(settings.cache_refresh_secs),
            redis: redis.clone(),
            audit_tally_every: Duration::from_secs(settings.audit_machine_tokens_secs),
            janitor_first_sweep: Duration::from_secs(20),
            audit_masking: crate::audit::Masking { ips: settings.audit_mask_ips, emails: settings.audit_mask_emails },
            audit_retention: (settings.audit_retention_days > 0)
                .then(|| chrono::Duration::days(i64::try_from(settings.audit_retention_days).unwrap_or(36_500))),
            session_idle: chrono::Duration::seconds(
                i64::try_from(settings.session_idle_secs).unwrap_or(i64::MAX / 1000),
            ),
        });
        for e in key_events {
            actors.audit.record(AuditEvent::new(clock.now(), "system", e.action, Some(e.kid)));
        }

        let bootstrap = bootstrap::ensure_admin(
            &db,
            &hasher,
            &settings.password_policy(),
            settings.bootstrap_admin_password.as_ref().map(|p| p.expose()),
            clock.now(),
        )
        .await?;
        if let Bootstrap::CreatedWithConfiguredPassword(u) | Bootstrap::CreatedWithGeneratedPassword(u, _) = &bootstrap
        {
            let mut ev = AuditEvent::new(clock.now(), "system", "user.created", Some(u.id.clone()));
            ev.reason = Some("bootstrap administrator".into());
            actors.audit.record(ev);
        }

        let passkeys = crate::mfa::webauthn::Passkeys::for_issuer(&settings.issuer).map_err(StartupError::Webauthn)?;
        if passkeys.is_none() {
            tracing::warn!(issuer = %settings.issuer, "passkeys are off: WebAuthn needs a domain name in the issuer, not an IP address");
        }
        let passkeys = passkeys.map(Arc::new);
        let settings = Arc::new(settings);
        let db_health = Arc::new(crate::store::health::DbHealth::default());
        let traces = match &settings.tracing {
            Some(t) => {
                let traces = crate::telemetry::otel::Traces::start(t)?;
                tracing::info!(endpoint = %crate::net::redact_url(&t.traces_url), service = %t.service_name, "exporting traces over OTLP/HTTP");
                Some(Arc::new(traces))
            }
            None => None,
        };
        let state = actix_web::web::Data::new(AppState {
            traces,
            settings: settings.clone(),
            db,
            actors,
            clock: clock.clone(),
            hasher,
            metrics: Arc::new(Metrics::new()?),
            keys,
            key_policy,
            secret_hasher: crate::crypto::SecretHasher::new(&master_key),
            envelope,
            passkeys,
            metadata: web::oidc::Metadata::new(&settings.issuer, key_policy.jwks_max_age_secs()),
            clients: Arc::new(ClientCache::new(
                Duration::from_secs(settings.cache_refresh_secs),
                db_health.clone(),
                clock.clone(),
            )),
            verified_tokens: VerifiedTokens::default(),
            revocations,
            client_jwks: ClientJwks::new(clock.clone())?,
            failures,
            login_failures: Arc::new(login_failures),
            redis,
            db_health,
            lockout_notifier: Arc::new(crate::accounts::lockout::LogNotifier),
            token_quota: (settings.client_token_quota_per_minute > 0).then(|| {
                let n = settings.client_token_quota_per_minute;
                crate::abuse::limiter::Limiter::new(
                    crate::abuse::limiter::Rate { per_minute: n, burst: n },
                    clock.clone(),
                )
            }),
            assertion_audiences: crate::oauth::client_assertion::AssertionAudiences::new(&settings.issuer),
        });

        spawn_db_probe(&state.db, &state.db_health);

        let addr = listener.local_addr().map_err(|source| StartupError::Bind {
            setting: "bind",
            addr: settings.bind,
            source,
        })?;
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            let state = app_state.clone();
            App::new()
                .app_data(state.clone())
                .configure(|cfg| web::configure(cfg, &state))
                .default_service(actix_web::web::to(web::error::not_found))
                .wrap(from_fn(web::middleware::body_limit))
                .wrap(from_fn(web::middleware::security_headers))
                .wrap(from_fn(web::middleware::request_context))
        })
        .workers(settings.workers)
        .shutdown_timeout(settings.shutdown_timeout_secs)
        .disable_signals()
        .listen(listener)
        .map_err(|source| StartupError::Bind { setting: "bind", addr, source })?
        .run();

        let (metrics_server, metrics_addr) = match metrics_listener {
            Some(l) => {
                let (s, a) = metrics_server(l, state.clone(), settings.shutdown_timeout_secs)?;
                (Some(s), Some(a))
            }
            None => (None, None),
        };

        Ok(Self { addr, metrics_addr, server, metrics_server, state, bootstrap, master_key_source, started })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// What the first-start bootstrap did (the CLI shows a generated password once).
    pub fn bootstrap(&self) -> &Bootstrap {
        &self.bootstrap
    }

    pub fn master_key_source(&self) -> &MasterKeySource {
        &self.master_key_source
    }

    /// Time spent in [`Application::build_with`] so far.
    pub fn startup_elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// A handle that stops the server gracefully (tests use it; the binary
    /// stops on SIGTERM/SIGINT through `run_until_stopped(true)`).
    pub fn handle(&self) -> ShutdownHandle {
        ShutdownHandle { main: self.server.handle(), metrics: self.metrics_server.as_ref().map(Server::handle) }
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// The audit log, so tests can wait for what was recorded to be
    /// written (`drain`) instead of sleeping for the batcher.
    pub fn audit(&self) -> crate::actors::audit::AuditHandle {
        self.state.actors.audit.clone()
    }

    /// Stops gracefully on the first SIGTERM or SIGINT. The handlers are
    /// registered before this returns, so a signal that arrives right after
    /// start-up is never missed (nor fatal).
    pub fn stop_on_signals(&self) -> std::io::Result<()> {
        let signals = Signals::register()?;
        let handle = self.handle();
        actix_rt::spawn(async move {
            let signal = signals.recv().await;
            tracing::info!(signal, "shutdown requested; no new connections, draining in-flight requests");
            handle.stop().await;
        });
        Ok(())
    }

    /// Serves until stopped, then shuts down in order and logs one final line.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = async {
            match self.metrics_server {
                Some(s) => s.await,
                None => Ok(()),
            }
        };
        let (main, metrics) = futures_util::future::join(self.server, metrics).await;
        let timeout = Duration::from_secs(self.state.settings.shutdown_timeout_secs.max(1));
        self.state.actors.clone().shutdown(timeout).await;
        if let Err(e) = self.state.db.close_by_ref().await {
            tracing::warn!(error = %e, "closing the database pool failed");
        }
        if let Some(traces) = self.state.traces.clone() {
            // Blocks until the last batch is sent (or the export times out).
            let _ = actix_web::rt::task::spawn_blocking(move || traces.shutdown()).await;
        }
        tracing::info!("gatehouse stopped");
        main.and(metrics)
    }
}

fn bind(setting: &'static str, addr: SocketAddr) -> Result<TcpListener, StartupError> {
    TcpListener::bind(addr).map_err(|source| StartupError::Bind { setting, addr, source })
}

fn metrics_server(
    listener: TcpListener,
    state: actix_web::web::Data<AppState>,
    shutdown_timeout: u64,
) -> Result<(Server, SocketAddr), StartupError> {
    let setting = "metrics_bind";
    let bound = |source| StartupError::Bind { setting, addr: SocketAddr::from(([0, 0, 0, 0], 0)), source };
    let addr = listener.local_addr().map_err(bound)?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", actix_web::web::get().to(web::metrics::get_metrics))
            .wrap(from_fn(web::middleware::security_headers))
    })
    .workers(1)
    .shutdown_timeout(shutdown_timeout)
    .disable_signals()
    .listen(listener)
    .map_err(|source| StartupError::Bind { setting, addr, source })?
    .run();
    Ok((server, addr))
}

/// Pings the database every second (every 200 ms while it is down) for as
/// long as the server state lives, so an outage and the recovery are known
/// before a request waits on them.
fn spawn_db_probe(db: &Db, health: &Arc<crate::store::health::DbHealth>) {
    use crate::store::health::{PROBE_EVERY, PROBE_WHILE_DOWN};
    let (db, health) = (db.clone(), Arc::downgrade(health));
    actix_rt::spawn(async move {
        loop {
            let Some(h) = health.upgrade() else { return };
            h.probe(&db, PROBE_EVERY).await;
            let pause = if h.is_down() { PROBE_WHILE_DOWN } else { PROBE_EVERY };
            drop(h);
            tokio::time::sleep(pause).await;
        }
    });
}
