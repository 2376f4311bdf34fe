//! The full flow on PostgreSQL, one at a time and 16 at once, beside the database's own
//! floor in the same run: a bare single-row `INSERT` and `UPDATE … RETURNING`, each one
//! round trip on one connection, which is what the flow's writes cost at the least.
//!
//! The server is the workspace's throwaway one (`scripts/postgres-test-server.sh`, or the
//! one `FINRIFT_TEST_POSTGRES_URL` names), on loopback. That script runs it with fsync
//! and synchronous commits off, so the figures are round trips and the database's work,
//! not a disk's flush; on a durable server both the flow and its floor pay the flush.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use oauth_store_postgres::test_server;
use oauth_store_postgres::PostgresStore;
use tokio_postgres::{Client, NoTls, Statement};

use crate::fixture::{self, FlowRequests, Tokens};
use crate::measure;
use crate::report::Row;

/// How many tasks (and connections) the concurrent figures use.
pub const TASKS: usize = 16;

/// Operations per second: flows, and floor pairs (one `INSERT` and one `UPDATE …
/// RETURNING`).
#[derive(Debug, Clone, Copy)]
pub struct PostgresFigures {
    /// Full flows per second, one at a time.
    pub flows_one: f64,
    /// Full flows per second, [`TASKS`] tasks on a pool of as many connections.
    pub flows_many: f64,
    /// Floor pairs per second on one connection, one at a time.
    pub floor_one: f64,
    /// Floor pairs per second, [`TASKS`] tasks each on its own connection.
    pub floor_many: f64,
}

/// The table's rows: the flow one at a time and with [`TASKS`] at once, each also against
/// the database's floor measured in the same run.
pub fn rows(figures: &PostgresFigures) -> Vec<Row> {
    let mut rows = Vec::new();
    rows.push(Row::per_second(
        "Full flow on PostgreSQL (loopback, durability off), one at a time",
        figures.flows_one,
        "—",
        None,
    ));
    rows.push(Row::ratio(
        "Full flow on PostgreSQL, one at a time (against the database's floor)",
        1e9 / figures.flows_one,
        "one bare single-row INSERT + UPDATE … RETURNING (two round trips) on one connection",
        1e9 / figures.floor_one,
        None,
    ));
    rows.push(Row::per_second(
        &format!(
            "Full flow on PostgreSQL, {} concurrent tasks on a pool of as many, 2 workers",
            TASKS
        ),
        figures.flows_many,
        "—",
        None,
    ));
    rows.push(Row::ratio(
        &format!(
            "Full flow on PostgreSQL, {} concurrent tasks (against the database's floor)",
            TASKS
        ),
        1e9 / figures.flows_many,
        &format!(
            "the same INSERT + UPDATE pair, {} tasks on a connection each",
            TASKS
        ),
        1e9 / figures.floor_many,
        None,
    ));
    rows
}

/// Measures the flow and its floor, each for `time` (the concurrent ones twice as
/// long), on 2 worker threads.
pub fn measure(requests: &Arc<FlowRequests>, time: Duration) -> PostgresFigures {
    // The pool's and the floor's connections are driven by this runtime's workers while
    // the measurements run on runtimes of their own.
    let setup = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let (engine, floor) = setup.block_on(async {
        let schema = test_server::fresh_schema().await;
        let store = PostgresStore::open_with(test_server::options_in(&schema).pool_size(TASKS))
            .await
            .expect("open the PostgreSQL store");
        let engine = fixture::engine(store, Tokens::Opaque, &[]).await;
        let floor = Floor::new(&schema).await;
        (Arc::new(engine), Arc::new(floor))
    });

    let flow = {
        let (engine, requests) = (engine.clone(), requests.clone());
        move || {
            let (engine, requests) = (engine.clone(), requests.clone());
            async move {
                std::hint::black_box(fixture::full_flow(&engine, &requests).await);
            }
        }
    };
    let pair = {
        let floor = floor.clone();
        move || {
            let floor = floor.clone();
            async move { floor.pair().await }
        }
    };
    // Warm up: every pooled connection made and its statements prepared.
    measure::throughput(2, TASKS, time / 4, flow.clone());
    measure::throughput(2, TASKS, time / 4, pair.clone());
    let figures = PostgresFigures {
        flows_one: measure::throughput(2, 1, time, flow.clone()),
        floor_one: measure::throughput(2, 1, time, pair.clone()),
        flows_many: measure::throughput(2, TASKS, time * 2, flow),
        floor_many: measure::throughput(2, TASKS, time * 2, pair),
    };
    drop(engine);
    drop(floor);
    figures
}

/// [`TASKS`] plain connections, each with the two statements prepared (as the store's
/// are: one round trip per execution), and a table of their own.
struct Floor {
    connections: Vec<(Client, Statement, Statement)>,
    next: AtomicUsize,
}

impl Floor {
    async fn new(schema: &str) -> Self {
        let url = test_server::url_in(schema);
        let mut connections = Vec::with_capacity(TASKS);
        for index in 0..TASKS {
            let (client, connection) = tokio_postgres::connect(&url, NoTls)
                .await
                .expect("connect to the PostgreSQL server");
            tokio::spawn(connection);
            if index == 0 {
                client
                    .batch_execute(
                        "CREATE TABLE bench_floor (id bigserial PRIMARY KEY, \
                         hash bytea NOT NULL, used boolean NOT NULL DEFAULT false)",
                    )
                    .await
                    .expect("create the floor table");
            }
            let insert = client
                .prepare("INSERT INTO bench_floor (hash) VALUES ($1) RETURNING id")
                .await
                .expect("prepare");
            let update = client
                .prepare(
                    "UPDATE bench_floor SET used = true WHERE id = $1 AND NOT used RETURNING id",
                )
                .await
                .expect("prepare");
            connections.push((client, insert, update));
        }
        Self {
            connections,
            next: AtomicUsize::new(0),
        }
    }

    /// One `INSERT` and one `UPDATE … RETURNING` of that row, on the connections in turn:
    /// one task at a time waits for each round trip, as a flow does; 16 tasks mostly have
    /// a connection each, as the pool gives them.
    async fn pair(&self) {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % TASKS;
        let (client, insert, update) = &self.connections[index];
        let hash = [index as u8; 32];
        let row = client
            .query_one(insert, &[&&hash[..]])
            .await
            .expect("insert");
        let id: i64 = row.get(0);
        client.query_opt(update, &[&id]).await.expect("update");
    }
}
