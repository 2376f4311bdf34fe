//! The finrift demo server on actix-web: the same routes and behaviour as `axum-demo`.
//! Configured by `FINRIFT_ADDR` and `FINRIFT_DB` (see `Settings`).
//!
//! Run it with `cargo run -p examples --bin actix-demo`.

use std::sync::Arc;

use examples::demo::{self, Demo, Settings, StartError};

#[actix_web::main]
async fn main() -> Result<(), StartError> {
    demo::init_tracing();
    let settings = Settings::from_env()?;
    let listener = std::net::TcpListener::bind(&settings.addr)
        .map_err(|e| format!("cannot listen on {}: {e}", settings.addr))?;
    let demo = Arc::new(Demo::start(&settings, listener.local_addr()?).await?);
    demo.log_startup(&settings.database);
    let purge = actix_web::rt::spawn(demo::purge_periodically(demo.engine().clone()));
    let rotate = actix_web::rt::spawn(demo::rotate_keys_periodically(demo.clone()));
    let server = examples::actix_demo::server(listener, demo, 2)?;
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        demo::shutdown_signal().await;
        handle.stop(true).await;
    });
    server.await?;
    purge.abort();
    rotate.abort();
    Ok(())
}
