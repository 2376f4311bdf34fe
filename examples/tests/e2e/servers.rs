//! Starting and stopping the demos in this process, on `127.0.0.1:0`.

use std::sync::Arc;

use examples::demo::{Database, Demo, Settings};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running demo.
pub struct Server {
    /// `http://127.0.0.1:<port>`, also the issuer.
    pub base: String,
    stop: Stop,
    /// The directory of a SQLite database, removed when the server is dropped.
    _dir: Option<tempfile::TempDir>,
}

enum Stop {
    Axum(oneshot::Sender<()>, JoinHandle<()>),
    Actix(
        actix_web::dev::ServerHandle,
        JoinHandle<std::io::Result<()>>,
    ),
}

impl Server {
    /// Stops the server and waits until it has.
    pub async fn stop(self) {
        match self.stop {
            Stop::Axum(signal, task) => {
                let _ = signal.send(());
                task.await.unwrap();
            }
            Stop::Actix(handle, task) => {
                handle.stop(true).await;
                task.await.unwrap().unwrap();
            }
        }
    }
}

pub async fn start_axum() -> Server {
    start_axum_on(Database::Memory, None).await
}

/// The axum demo on a SQLite file, as `cargo run` starts it by default.
pub async fn start_axum_sqlite() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let database = Database::File(dir.path().join("demo.sqlite3"));
    start_axum_on(database, Some(dir)).await
}

async fn start_axum_on(database: Database, dir: Option<tempfile::TempDir>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap();
    let demo = Arc::new(Demo::start(&Settings::new(database), local).await.unwrap());
    let (signal, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(examples::axum_demo::serve(listener, demo, async {
        let _ = stopped.await;
    }));
    ready(Server {
        base: format!("http://{local}"),
        stop: Stop::Axum(signal, task),
        _dir: dir,
    })
    .await
}

pub async fn start_actix() -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let local = listener.local_addr().unwrap();
    let demo = Arc::new(
        Demo::start(&Settings::new(Database::Memory), local)
            .await
            .unwrap(),
    );
    let server = examples::actix_demo::server(listener, demo, 1).unwrap();
    let handle = server.handle();
    let task = tokio::spawn(server);
    ready(Server {
        base: format!("http://{local}"),
        stop: Stop::Actix(handle, task),
        _dir: None,
    })
    .await
}

/// Waits until the server answers its metadata, polling a bounded number of times.
async fn ready(server: Server) -> Server {
    let url = format!("{}/.well-known/oauth-authorization-server", server.base);
    for _ in 0..50 {
        if let Ok(response) = reqwest::get(&url).await {
            if response.status() == 200 {
                return server;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the demo at {} did not come up", server.base);
}
