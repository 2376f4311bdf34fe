//! A server of the machine endpoints on 127.0.0.1:0, for the tests that talk to it.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer};
use oauth_actix::{MachineEndpoints, ServerLimits};
use oauth_core::testing::{test_engine, ManualClock};
use oauth_core::{Engine, Storage};
use oauth_store_memory::MemoryStore;

pub type TestEngine<S = MemoryStore> = Engine<S, Arc<ManualClock>>;

/// The default test engine on a fresh memory store.
pub fn engine() -> TestEngine {
    test_engine(MemoryStore::new())
}

/// A running server; stop it with [`Running::stop`].
pub struct Running {
    pub addr: SocketAddr,
    pub handle: ServerHandle,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// Serves `machine` under `limits` with `workers` workers, on the current actix runtime.
pub fn start<S: Storage + 'static>(
    machine: MachineEndpoints<S, Arc<ManualClock>>,
    limits: ServerLimits,
    workers: usize,
) -> Running {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let machine = machine.limits(limits);
    let server = HttpServer::new(move || {
        let machine = machine.clone();
        App::new().configure(move |config| machine.configure(config))
    });
    let server = limits
        .apply(server)
        .workers(workers)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Running { addr, handle }
}
