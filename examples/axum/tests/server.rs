//! The server's limits, over real loopback sockets: timers on slow and idle connections,
//! the connection cap, graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use oauth_axum::{serve, MachineEndpoints, ServerLimits};
use oauth_core::testing::test_engine;
use oauth_store_memory::MemoryStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout, Instant};

use common::{client, listener, spawn};

fn short_limits() -> ServerLimits {
    let mut limits = ServerLimits::default();
    limits.header_read_timeout = Duration::from_millis(300);
    limits.body_read_timeout = Duration::from_millis(300);
    limits.idle_timeout = Duration::from_millis(1200);
    limits
}

fn app() -> Router {
    let engine = Arc::new(test_engine(MemoryStore::new()));
    MachineEndpoints::new(engine).router()
}

/// Reads until the peer closes or `within` passes; what came, and whether it closed.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&seen).into_owned(), false),
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&seen).into_owned(), true),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one whole response with a `Content-Length`.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed before a whole response");
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .map(|n| n.trim().parse::<usize>().unwrap())
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                return text;
            }
        }
    }
}

const METADATA: &[u8] =
    b"GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: localhost\r\n\r\n";

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let (listener, addr) = listener().await;
    spawn(listener, app(), short_limits());
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut silent, Duration::from_secs(3)).await;
    let waited = started.elapsed();
    assert!(closed, "still open after 3 s");
    assert!(answer.is_empty(), "{answer}");
    assert!(
        waited >= Duration::from_millis(250),
        "closed too soon: {waited:?}"
    );
    assert!(
        waited < Duration::from_millis(1100),
        "closed late: {waited:?}"
    );
}

#[tokio::test]
async fn a_head_that_trickles_in_is_cut_at_the_header_timeout() {
    let (listener, addr) = listener().await;
    spawn(listener, app(), short_limits());
    let mut slow = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    for byte in METADATA.iter().take(20) {
        if slow.write_all(&[*byte]).await.is_err() {
            break;
        }
        sleep(Duration::from_millis(50)).await;
    }
    let (answer, closed) = read_until_closed(&mut slow, Duration::from_secs(3)).await;
    assert!(closed && !answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_body_that_trickles_past_the_body_timeout_gets_408_and_the_connection_closes() {
    let (listener, addr) = listener().await;
    spawn(listener, app(), short_limits());
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(
        b"POST /token HTTP/1.1\r\nHost: localhost\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n",
    )
    .await
    .unwrap();
    let started = Instant::now();
    // One byte every 50 ms: 100 bytes would take 5 s; the body timer is 300 ms.
    let writer = async {
        for _ in 0..100 {
            sleep(Duration::from_millis(50)).await;
            if slow.write_all(b"a").await.is_err() {
                return;
            }
        }
    };
    let _ = timeout(Duration::from_millis(600), writer).await;
    let (answer, closed) = read_until_closed(&mut slow, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("x-content-type-options: nosniff"),
        "{answer}"
    );
    assert!(closed, "the connection stayed open after the 408");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_kept_alive_connection_waits_the_idle_timeout_not_the_header_timeout() {
    let (listener, addr) = listener().await;
    spawn(listener, app(), short_limits());
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(METADATA).await.unwrap();
    assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));
    // Past the header timer (300 ms), within the idle timer (1.2 s): still served.
    sleep(Duration::from_millis(600)).await;
    stream.write_all(METADATA).await.unwrap();
    assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));
    let idle_since = Instant::now();
    let (more, closed) = read_until_closed(&mut stream, Duration::from_secs(4)).await;
    let idle = idle_since.elapsed();
    assert!(closed && more.is_empty(), "{more}");
    assert!(
        idle >= Duration::from_millis(1100),
        "closed too soon: {idle:?}"
    );
    assert!(idle < Duration::from_millis(2500), "closed late: {idle:?}");
}

#[tokio::test]
async fn two_thousand_idle_connections_do_not_keep_a_real_request_waiting() {
    let (listener, addr) = listener().await;
    // Default limits: the idle ones are within their 10 s header timer all along.
    spawn(listener, app(), ServerLimits::default());
    let mut idle = Vec::with_capacity(2000);
    for _ in 0..2000 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    let started = Instant::now();
    let answer = timeout(
        Duration::from_secs(3),
        client().get(format!("http://{addr}/jwks.json")).send(),
    )
    .await
    .expect("answered within 3 s")
    .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // The idle connections are still open: nobody was dropped to make room.
    let mut probe = [0u8; 1];
    for stream in idle.iter().step_by(97) {
        assert!(
            timeout(Duration::from_millis(5), stream.peek(&mut probe))
                .await
                .is_err(),
            "an idle connection was closed"
        );
    }
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let (listener, addr) = listener().await;
    let mut limits = ServerLimits::default();
    limits.max_connections = 2;
    spawn(listener, app(), limits);
    let first = TcpStream::connect(addr).await.unwrap();
    let _second = TcpStream::connect(addr).await.unwrap();
    sleep(Duration::from_millis(100)).await;
    // The kernel completes the handshake, but the server does not take it up.
    let mut third = TcpStream::connect(addr).await.unwrap();
    third.write_all(METADATA).await.unwrap();
    let mut buf = [0u8; 64];
    assert!(
        timeout(Duration::from_millis(300), third.read(&mut buf))
            .await
            .is_err(),
        "a connection beyond the cap was served"
    );
    drop(first);
    assert!(read_response(&mut third).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn graceful_shutdown_finishes_the_request_under_way_and_stops_accepting() {
    let (listener, addr) = listener().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (entered_tx, entered) = tokio::sync::oneshot::channel::<()>();
    let entered_tx = Arc::new(std::sync::Mutex::new(Some(entered_tx)));
    let slow = Router::new().route(
        "/slow",
        get(move || {
            if let Some(tx) = entered_tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
            async {
                sleep(Duration::from_millis(300)).await;
                "done"
            }
        }),
    );
    let server = tokio::spawn(serve(listener, slow, ServerLimits::default(), async {
        let _ = stopped.await;
    }));
    let request = tokio::spawn(client().get(format!("http://{addr}/slow")).send());
    entered.await.unwrap();
    stop.send(()).unwrap();
    let answer = request.await.unwrap().unwrap();
    assert_eq!(answer.text().await.unwrap(), "done");
    timeout(Duration::from_secs(2), server)
        .await
        .expect("serve returns once its connections are closed")
        .unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}
