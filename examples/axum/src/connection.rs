//! One accepted connection: HTTP/1 over it, with its timers, until it closes, times out
//! or the server shuts down.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::IntoResponse;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{watch, OwnedSemaphorePermit};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::body::{Answered, TimedBody};
use crate::response::OAuthResponse;
use crate::server::ServerLimits;
use crate::watchdog::{Activity, Busy};

/// Serves `stream` until it is done. `_permit` holds its place under the connection cap.
pub(crate) async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ServerLimits,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    // Answers are small and written whole: no reason to hold them back for Nagle.
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new(
        limits.header_read_timeout,
        limits.idle_timeout,
    ));
    let io = TokioIo::new(Watched {
        stream,
        activity: activity.clone(),
    });
    let served = activity.clone();
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        let busy = Busy::start(served.clone());
        let timed_out = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + limits.body_read_timeout;
        // What `into_make_service_with_connect_info` records: the caller key reads it.
        request.extensions_mut().insert(ConnectInfo(peer));
        let request = request
            .map(|body| axum::body::Body::new(TimedBody::new(body, deadline, timed_out.clone())));
        let answer = router.clone().oneshot(request);
        async move {
            let response = match answer.await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let response = if timed_out.load(std::sync::atomic::Ordering::Relaxed) {
                body_timeout()
            } else {
                response
            };
            Ok::<_, Infallible>(response.map(|inner| Answered { inner, _busy: busy }))
        }
    });
    // The header timer is the watchdog's: hyper's would also cut kept-alive waits short.
    let mut connection = pin!(http1::Builder::new()
        .header_read_timeout(None)
        .serve_connection(io, service));
    tokio::select! {
        result = connection.as_mut() => return log_end(result),
        () = activity.expired() => return tracing::debug!(%peer, "connection timed out"),
        _ = stop.wait_for(|stop| *stop) => {}
    }
    // The server is stopping: finish the request under way, if any, then close; the
    // timers still apply.
    connection.as_mut().graceful_shutdown();
    tokio::select! {
        result = connection.as_mut() => log_end(result),
        () = activity.expired() => tracing::debug!(%peer, "connection timed out"),
    }
}

fn log_end(result: Result<(), hyper::Error>) {
    if let Err(error) = result {
        // A client going away mid-request is ordinary on a public server.
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// 408, and the connection closed after it: the rest of the body cannot be skipped.
fn body_timeout() -> axum::response::Response {
    OAuthResponse(oauth_core::Response {
        status: 408,
        headers: vec![("Connection", "close".to_owned())],
        body: "the request body was not received in time".to_owned(),
    })
    .into_response()
}

/// The socket, telling the watchdog when bytes come in.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
