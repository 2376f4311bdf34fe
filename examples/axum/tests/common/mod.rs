//! What the integration tests share: a server on a loopback port, and an HTTP client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use axum::Router;
use oauth_axum::{serve, ServerLimits};
use tokio::net::TcpListener;

/// Binds a loopback port.
pub async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Serves `router` on `listener` under `limits` until the test ends.
pub fn spawn(listener: TcpListener, router: Router, limits: ServerLimits) {
    tokio::spawn(serve(listener, router, limits, std::future::pending()));
}

/// Serves `router` on a fresh loopback port; its base URL.
pub async fn start(router: Router) -> String {
    let (listener, addr) = listener().await;
    spawn(listener, router, ServerLimits::default());
    format!("http://{addr}")
}

/// A client that does not follow redirects, so a test sees each 303.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Asserts the headers every answer of the adapter carries exactly once.
pub fn assert_hardened(response: &reqwest::Response) {
    let headers = response.headers();
    assert_eq!(
        headers.get_all("x-content-type-options").iter().count(),
        1,
        "{headers:?}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers.get_all("content-type").iter().count(),
        1,
        "{headers:?}"
    );
}
