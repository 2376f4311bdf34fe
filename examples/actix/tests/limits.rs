//! The server limits, over real sockets on loopback: silent connections, trickled bodies,
//! many idle connections, the connection cap and the body size limit.

#![allow(clippy::unwrap_used, clippy::expect_used)]
// These tests time the server's own wall-clock timeouts; no engine clock is involved.
#![allow(clippy::disallowed_methods)]

mod support;

use std::time::{Duration, Instant};

use actix_web::rt::net::TcpStream;
use actix_web::rt::time::{sleep, timeout};
use actix_web::web;
use oauth_actix::{MachineEndpoints, ServerLimits, MAX_BODY_BYTES};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use support::{engine, start, Running};

/// Short limits, so that the tests see them act.
fn short_limits() -> ServerLimits {
    let mut limits = ServerLimits::default();
    limits.header_timeout = Duration::from_millis(500);
    limits.body_timeout = Duration::from_millis(500);
    limits.disconnect_timeout = Duration::from_millis(300);
    limits
}

fn serve(limits: ServerLimits, workers: usize) -> Running {
    let machine = MachineEndpoints::new(web::Data::new(engine()));
    start(machine, limits, workers)
}

/// Everything the server sends until it closes, or `None` if it is still open after `wait`.
async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut received = Vec::new();
    match timeout(wait, stream.read_to_end(&mut received)).await {
        Ok(_) => Some(String::from_utf8_lossy(&received).into_owned()),
        Err(_) => None,
    }
}

/// One whole request, its answer read to the end (the request asks to close).
async fn exchange(running: &Running, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("the server answers and closes")
}

#[actix_web::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let running = serve(short_limits(), 1);
    let started = Instant::now();
    let mut silent = TcpStream::connect(running.addr).await.unwrap();
    let answer = read_until_closed(&mut silent, Duration::from_secs(5)).await;
    let elapsed = started.elapsed();
    assert!(
        answer.is_some(),
        "the silent connection is still open after 5 s"
    );
    assert!(
        elapsed >= Duration::from_millis(400),
        "closed too early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(3),
        "closed too late: {elapsed:?}"
    );
    running.stop().await;
}

#[actix_web::test]
async fn headers_that_never_end_are_cut_off_at_the_header_timeout() {
    let running = serve(short_limits(), 1);
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    stream
        .write_all(b"POST /token HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let answer = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.is_some(), "half-sent headers hold the connection");
    assert!(started.elapsed() < Duration::from_secs(3));
    running.stop().await;
}

#[actix_web::test]
async fn a_trickled_body_is_cut_off_at_the_body_timeout() {
    let running = serve(short_limits(), 1);
    let stream = TcpStream::connect(running.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let trickle = actix_web::rt::spawn(async move {
        let head = "POST /token HTTP/1.1\r\nHost: x\r\n\
                    Content-Type: application/x-www-form-urlencoded\r\n\
                    Content-Length: 100\r\n\r\n";
        writer.write_all(head.as_bytes()).await.unwrap();
        // One byte every 100 ms: the whole body would take 10 s.
        for _ in 0..100 {
            if writer.write_all(b"a").await.is_err() {
                break;
            }
            sleep(Duration::from_millis(100)).await;
        }
    });
    let started = Instant::now();
    let mut received = Vec::new();
    let read = timeout(Duration::from_secs(5), reader.read_to_end(&mut received)).await;
    let elapsed = started.elapsed();
    let answer = String::from_utf8_lossy(&received);
    assert!(
        read.is_ok(),
        "the trickling connection is still open after 5 s: {answer:?}"
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer
        .to_ascii_lowercase()
        .contains("x-content-type-options: nosniff"));
    assert!(
        elapsed < Duration::from_secs(3),
        "cut off too late: {elapsed:?}"
    );
    trickle.abort();
    running.stop().await;
}

#[actix_web::test]
async fn a_body_over_64_kib_gets_413_declared_or_chunked() {
    let running = serve(ServerLimits::default(), 1);
    let body = "a".repeat(65 * 1024);
    let declared = format!(
        "POST /token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = exchange(&running, declared.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("invalid_request"), "{answer}");

    // No length given: the limit holds while reading.
    let mut chunked = String::from(
        "POST /token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for chunk in body.as_bytes().chunks(8 * 1024) {
        chunked.push_str(&format!(
            "{:x}\r\n{}\r\n",
            chunk.len(),
            "a".repeat(chunk.len())
        ));
    }
    chunked.push_str("0\r\n\r\n");
    let answer = exchange(&running, chunked.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // At the limit, the body is read and the engine answers (an unknown grant type).
    let at_limit = format!(
        "POST /token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {MAX_BODY_BYTES}\r\n\r\n{}",
        "a".repeat(MAX_BODY_BYTES)
    );
    let answer = exchange(&running, at_limit.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    running.stop().await;
}

#[actix_web::test]
async fn two_thousand_idle_connections_do_not_keep_a_real_request_waiting() {
    let mut limits = ServerLimits::default();
    limits.header_timeout = Duration::from_secs(30);
    let running = serve(limits, 2);
    let mut idle = Vec::with_capacity(2_000);
    let opening = Instant::now();
    for _ in 0..2_000 {
        idle.push(TcpStream::connect(running.addr).await.unwrap());
    }
    assert!(
        opening.elapsed() < Duration::from_secs(20),
        "opening took {:?}",
        opening.elapsed()
    );

    let started = Instant::now();
    let answer = timeout(
        Duration::from_secs(5),
        reqwest::get(running.url(oauth_actix::METADATA_PATH)),
    )
    .await
    .expect("a real request is answered within 5 s")
    .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );

    // The idle connections were held open all along, not shed.
    let mut probe = [0u8; 1];
    let still_open = timeout(Duration::from_millis(100), idle[0].read(&mut probe)).await;
    assert!(still_open.is_err(), "the first idle connection was closed");
    drop(idle);
    running.stop().await;
}

#[actix_web::test]
async fn a_worker_holds_no_more_than_max_connections() {
    let mut limits = ServerLimits::default();
    limits.max_connections = 4;
    let running = serve(limits, 1);
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(running.addr).await.unwrap());
    }
    // Let the worker take all four before the next one arrives.
    sleep(Duration::from_millis(200)).await;
    let url = running.url(oauth_actix::METADATA_PATH);
    let refused = timeout(Duration::from_millis(700), reqwest::get(url.as_str())).await;
    assert!(refused.is_err(), "a fifth connection was served");
    idle.pop();
    let served = timeout(Duration::from_secs(5), reqwest::get(url.as_str()))
        .await
        .expect("served once a connection closed")
        .unwrap();
    assert_eq!(served.status(), 200);
    running.stop().await;
}
