//! What a demo process runs beside its server: the periodic key rotation and purge, the
//! shutdown signal, the log.

use std::sync::Arc;

use super::{Demo, DemoEngine};

/// Runs the key rotation procedure ([`Demo::rotate_keys`]) every hour, for ever (spawn
/// it); with keys shared in PostgreSQL, also looks for keys changed by another instance
/// every [`Settings::key_refresh`](super::Settings::key_refresh).
pub async fn rotate_keys_periodically(demo: Arc<Demo>) {
    const ROTATE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
    let tick = demo
        .keys
        .poll_interval(demo.key_refresh)
        .unwrap_or(ROTATE_EVERY)
        .min(ROTATE_EVERY);
    let mut every = tokio::time::interval(tick);
    let mut last_rotation: Option<tokio::time::Instant> = None;
    loop {
        every.tick().await;
        if last_rotation.is_none_or(|at| at.elapsed() >= ROTATE_EVERY) {
            last_rotation = Some(tokio::time::Instant::now());
            if let Err(error) = demo.rotate_keys().await {
                tracing::warn!(%error, "rotating the signing keys failed");
            }
        } else if let Err(error) = demo.refresh_keys().await {
            tracing::warn!(%error, "reading the shared signing keys failed");
        }
    }
}

/// Deletes expired records every ten minutes, for ever (spawn it).
pub async fn purge_periodically(engine: Arc<DemoEngine>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        if let Err(fault) = engine.purge_expired().await {
            tracing::warn!(error = %fault, "purging expired records failed");
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

/// Logs to standard error at `info` (a second call does nothing).
pub fn init_tracing() {
    use std::io::IsTerminal as _;
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
