//! Stopping: the handle tests and the signal watcher use, and the signals.

use actix_web::dev::ServerHandle;

/// Stops every listener of one application.
#[derive(Clone)]
pub struct ShutdownHandle {
    pub(super) main: ServerHandle,
    pub(super) metrics: Option<ServerHandle>,
}

impl ShutdownHandle {
    /// Graceful: stop accepting, let in-flight requests finish within the
    /// drain timeout.
    pub async fn stop(&self) {
        let metrics = async {
            if let Some(m) = &self.metrics {
                m.stop(true).await;
            }
        };
        futures_util::future::join(self.main.stop(true), metrics).await;
    }
}

/// SIGTERM and SIGINT, registered up front.
pub(super) struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    pub(super) fn register() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals { term: signal(SignalKind::terminate())?, int: signal(SignalKind::interrupt())? })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// Resolves with the name of the first signal received.
    pub(super) async fn recv(mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "ctrl-c"
        }
    }
}
