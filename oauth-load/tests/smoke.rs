//! Every scenario for a handful of operations at two connections against the axum demo
//! served in this process (no release build), on the memory store and on SQLite: no
//! errors.

// Tests: a failed step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use examples::demo::{Database, Demo, Settings};
use oauth_load::{run, Bounds, Scenario};

/// Serves the demo on `database` at `127.0.0.1:0` until the sender is used or dropped.
async fn serve(
    database: &Database,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap();
    let demo = Arc::new(
        Demo::start(&Settings::new(database.clone()), local)
            .await
            .unwrap(),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(examples::axum_demo::serve(listener, demo, async {
        let _ = stopped.await;
    }));
    (format!("http://{local}"), stop, task)
}

async fn every_scenario_without_errors(database: Database) {
    let (base, stop, task) = serve(&database).await;
    let bounds = Bounds {
        max_requests: 6,
        max_duration: Duration::from_secs(5),
    };
    for scenario in Scenario::ALL {
        let outcome = run(&base, scenario, 2, bounds).await.unwrap();
        assert_eq!(
            outcome.errors,
            0,
            "{}: {:?}",
            scenario.name(),
            outcome.first_error
        );
        assert!(outcome.completed > 0, "{}", scenario.name());
        assert!(
            outcome.completed <= bounds.max_requests,
            "{}",
            scenario.name()
        );
        assert!(outcome.per_second() > 0.0);
        assert!(outcome.latency.p50 <= outcome.latency.p99);
    }
    let _ = stop.send(());
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_runs_without_errors_on_the_memory_store() {
    every_scenario_without_errors(Database::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_runs_without_errors_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    every_scenario_without_errors(Database::File(dir.path().join("demo.sqlite3"))).await;
}
