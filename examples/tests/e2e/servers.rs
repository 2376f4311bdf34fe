//! Starting and stopping the demos in this process, on `127.0.0.1:0`.

use std::sync::Arc;

use examples::demo::{Database, Demo, Secret, Settings};
use oauth_core::jose::{KeyEncryptionKey, KeyVault};
use oauth_store_postgres::{test_server, PostgresStore};
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

/// The axum demo on PostgreSQL: a fresh schema of the test server, its signing keys
/// sealed in it.
pub async fn start_axum_postgres() -> Server {
    let database = postgres_database(&test_server::fresh_schema().await);
    start_axum_on(database, None).await
}

/// The demo's database in `schema` of the test PostgreSQL server.
pub fn postgres_database(schema: &str) -> Database {
    Database::Postgres {
        url: test_server::url_in(schema),
        key_encryption_key: Secret(KeyEncryptionKey::generate_text().unwrap()),
    }
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

/// A demo running as a process of its own (the built binary), as a deployment runs it.
pub struct Process {
    /// `http://127.0.0.1:<port>`: where this instance listens.
    pub base: String,
    child: std::process::Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (taken from the system, then released for the process to bind).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the demo binary `program` on `port` with `env`, and waits until it answers.
async fn start_process(
    program: &str,
    port: u16,
    env: &[(&str, &str)],
    log: &std::path::Path,
) -> Process {
    let base = format!("http://127.0.0.1:{port}");
    let log_path = log.to_owned();
    let log = std::fs::File::create(log).unwrap();
    let child = std::process::Command::new(program)
        .env_clear()
        .env("FINRIFT_ADDR", format!("127.0.0.1:{port}"))
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let mut process = Process { base, child };
    let url = format!("{}/.well-known/oauth-authorization-server", process.base);
    for _ in 0..500 {
        // A process that cannot start (a bad setting) exits: say why, with its log.
        if let Ok(Some(status)) = process.child.try_wait() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!("{program} exited ({status}):\n{log}");
        }
        if let Ok(response) = reqwest::get(&url).await {
            if response.status() == 200 {
                return process;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{program} at {} did not come up", process.base);
}

/// Two demo processes sharing one PostgreSQL database (a fresh schema), as two instances
/// of one service behind a load balancer: the axum demo and the actix-web demo, one
/// issuer (the first's address), one key-encryption key, one sealing key, keys looked at
/// every second.
pub struct Pair {
    pub first: Process,
    pub second: Process,
    /// The shared signing keys, as the admin CLI reaches them.
    pub vault: KeyVault<PostgresStore>,
    /// The processes' logs (standard error), kept while they run.
    _logs: tempfile::TempDir,
}

pub async fn start_pair() -> Pair {
    let schema = test_server::fresh_schema().await;
    let url = test_server::url_in(&schema);
    let key_encryption_key = KeyEncryptionKey::generate_text().unwrap();
    // Any 32 random bytes as base64url; a key-encryption key's text is one.
    let sealing_key = KeyEncryptionKey::generate_text().unwrap();
    let (first_port, second_port) = (free_port(), free_port());
    let issuer = format!("http://127.0.0.1:{first_port}");
    let env = [
        ("FINRIFT_DB", url.as_str()),
        ("FINRIFT_KEY_ENCRYPTION_KEY", key_encryption_key.as_str()),
        ("FINRIFT_ISSUER", issuer.as_str()),
        ("FINRIFT_KEY_REFRESH_SECS", "1"),
        ("FINRIFT_SEALING_KEY", sealing_key.as_str()),
    ];
    let logs = tempfile::tempdir().unwrap();
    let (first_log, second_log) = (
        logs.path().join("axum-demo.log"),
        logs.path().join("actix-demo.log"),
    );
    // Both at once on the new database: its migration and its first signing key are made
    // once, whichever instance gets there first.
    let (first, second) = tokio::join!(
        start_process(
            env!("CARGO_BIN_EXE_axum-demo"),
            first_port,
            &env,
            &first_log,
        ),
        start_process(
            env!("CARGO_BIN_EXE_actix-demo"),
            second_port,
            &env,
            &second_log,
        ),
    );
    let store = PostgresStore::open(&url).await.unwrap();
    let vault = KeyVault::new(
        store,
        KeyEncryptionKey::from_base64url(&key_encryption_key).unwrap(),
    );
    Pair {
        first,
        second,
        vault,
        _logs: logs,
    }
}
