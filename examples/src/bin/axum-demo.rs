//! The finrift demo server on axum: an OAuth 2.0 authorization server with a login and
//! consent page, and a protected API. Configured by `FINRIFT_ADDR` and `FINRIFT_DB` (see `Settings`).
//!
//! Run it with `cargo run -p examples --bin axum-demo`.

use std::sync::Arc;

use examples::demo::{self, Demo, Settings, StartError};

#[tokio::main]
async fn main() -> Result<(), StartError> {
    demo::init_tracing();
    let settings = Settings::from_env()?;
    let listener = tokio::net::TcpListener::bind(&settings.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.addr))?;
    let demo = Arc::new(Demo::start(&settings, listener.local_addr()?).await?);
    demo.log_startup(&settings.database);
    let purge = tokio::spawn(demo::purge_periodically(demo.engine().clone()));
    let rotate = tokio::spawn(demo::rotate_keys_periodically(demo.clone()));
    examples::axum_demo::serve(listener, demo, demo::shutdown_signal()).await;
    purge.abort();
    rotate.abort();
    Ok(())
}
