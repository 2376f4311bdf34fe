//! A server for a public network: an accept loop under a connection cap, HTTP/1 on each
//! connection with header, body and idle timers, and graceful shutdown.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use crate::connection;

/// The limits [`serve`] holds every connection to.
///
/// While a request is being answered only the body timer runs: a handler's own time is
/// not limited here (put a timeout layer on slow routes), nor is the time a client takes
/// to read its answer.
///
/// ```
/// use std::time::Duration;
/// use oauth_axum::ServerLimits;
///
/// let mut limits = ServerLimits::default();
/// assert_eq!(limits.header_read_timeout, Duration::from_secs(10));
/// assert_eq!(limits.body_read_timeout, Duration::from_secs(30));
/// assert_eq!(limits.idle_timeout, Duration::from_secs(60));
/// assert_eq!(limits.max_connections, 4096);
/// limits.max_connections = 512;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// Time for a request head to arrive in full: from the connection's start for its
    /// first request, from the first byte for the later ones. Beyond it the connection
    /// is closed without an answer. Default 10 s.
    pub header_read_timeout: Duration,
    /// Time for a request body to arrive in full, from the end of its head. Beyond it
    /// the request is answered 408 and the connection closed. Default 30 s.
    pub body_read_timeout: Duration,
    /// Time a kept-alive connection may wait, with nothing under way, for the first byte
    /// of its next request. Default 60 s.
    pub idle_timeout: Duration,
    /// Connections served at once; more wait in the listen queue until one closes. At
    /// least 1. Default 4,096.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
        }
    }
}

/// Pause after a failed accept (out of file descriptors, mostly): retrying at once would
/// spin while nothing has changed.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `router` on `listener` over HTTP/1.1 under `limits`, until `shutdown`
/// resolves; then it stops accepting, lets each connection finish the request under way,
/// and returns when all are closed. Each request carries its peer as
/// `ConnectInfo<SocketAddr>`, for [`Caller`](crate::Caller).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = limits.max_connections.clamp(1, u32::MAX as usize);
    let permits = Arc::new(Semaphore::new(slots));
    let (stop, stopped) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        // A slot first, then accept: beyond the cap, callers wait in the kernel's queue.
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                tokio::spawn(connection::run(
                    stream,
                    peer,
                    router.clone(),
                    limits,
                    stopped.clone(),
                    permit,
                ));
            }
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                }
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection holds a permit until it closes: all of them back means all closed.
    let all = u32::try_from(slots).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
}
