//! Test support for this workspace: the PostgreSQL server its tests run against, and a
//! fresh schema on it for each store, so tests never see each other's rows.
//!
//! The server is the one `FINRIFT_TEST_POSTGRES_URL` names (CI starts one with
//! `scripts/postgres-test-server.sh` and sets it). Without it, the tests run that script
//! themselves, which starts (or finds running) a throwaway server on loopback, installing
//! PostgreSQL from the distribution's packages if needed. If neither gives a server, the
//! tests fail, saying why: they never pass by skipping.

//! It finds the script through this crate's source directory, so it serves the tests of
//! a checkout of the finrift workspace, not a build from a package registry.

// Test support: a panic, with what went wrong, is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::sync::OnceLock;

use tokio_postgres::NoTls;

use crate::{PostgresOptions, PostgresStore};

/// The prefix of every schema the tests make; schemas left by earlier runs are dropped
/// before the first test of a process makes its own.
const SCHEMA_PREFIX: &str = "finrift_test_";

/// The URL of the test server, found or started once per test process.
pub fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("FINRIFT_TEST_POSTGRES_URL") {
            return url;
        }
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scripts/postgres-test-server.sh"
        );
        let output = Command::new("bash")
            .arg(script)
            .output()
            .unwrap_or_else(|e| panic!("could not run {script}: {e}"));
        assert!(
            output.status.success(),
            "no PostgreSQL server for the tests: set FINRIFT_TEST_POSTGRES_URL, or fix what \
             {script} reported:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    })
}

/// A plain connection to the test server, outside any store.
pub async fn admin_connection() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(server_url(), NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL server: {e}"));
    tokio::spawn(connection);
    client
}

/// A new empty schema, named after the server's clock and random bits. The first
/// call in a process first drops the schemas made more than an hour ago: what earlier runs
/// left, never those of a run still going (in another process, or another checkout).
pub async fn fresh_schema() -> String {
    static CLEANED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    let admin = admin_connection().await;
    let now: i64 = admin
        .query_one("SELECT extract(epoch FROM now())::bigint", &[])
        .await
        .unwrap()
        .get(0);
    CLEANED
        .get_or_init(|| async {
            let old = admin
                .query(
                    "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)",
                    &[&SCHEMA_PREFIX],
                )
                .await
                .unwrap();
            for row in old {
                let name: &str = row.get(0);
                let made: Option<i64> = name[SCHEMA_PREFIX.len()..]
                    .split('_')
                    .next()
                    .and_then(|seconds| seconds.parse().ok());
                if made.is_none_or(|made| made < now - 3600) {
                    admin
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                        .await
                        .unwrap();
                }
            }
        })
        .await;
    // About 160 random bits as lower-case letters, digits and `_` (unquoted names fold to
    // lower case), so the name stays within PostgreSQL's 63 bytes.
    let mut random = oauth_core::RandomSource::new()
        .secret()
        .unwrap()
        .to_ascii_lowercase()
        .replace('-', "_");
    random.truncate(32);
    let name = format!("{SCHEMA_PREFIX}{now}_{random}");
    admin
        .batch_execute(&format!("CREATE SCHEMA {name}"))
        .await
        .unwrap();
    name
}

/// A connection URL of the test server whose sessions use `schema` (through the URL's
/// `options`), for a program that takes only a URL: a demo, the admin CLI.
pub fn url_in(schema: &str) -> String {
    let separator = if server_url().contains('?') { '&' } else { '?' };
    format!(
        "{}{separator}options=-c%20search_path%3D{schema}",
        server_url()
    )
}

/// Options for a store in `schema`, with 8 connections so the kit's racers spread over
/// several.
pub fn options_in(schema: &str) -> PostgresOptions {
    PostgresOptions::from_url(server_url())
        .unwrap()
        .schema(schema)
        .unwrap()
        .pool_size(8)
}

/// A store on a new empty schema.
pub async fn fresh_store() -> PostgresStore {
    let schema = fresh_schema().await;
    PostgresStore::open_with(options_in(&schema)).await.unwrap()
}

/// Waits until a session of the application `application_name` waits for a lock (a
/// statement of the test blocked behind a row another session holds), so a test knows
/// it got that far. Naming the application keeps other tests' waits out of it.
pub async fn wait_for_a_lock_wait(admin: &tokio_postgres::Client, application_name: &str) {
    for _ in 0..500 {
        let row = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE wait_event_type = 'Lock' AND application_name = $1",
                &[&application_name],
            )
            .await
            .unwrap();
        if row.get::<_, i64>(0) > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no session of {application_name} came to wait for a lock within 5 seconds");
}

/// Every row of a table, locked by another session (`SELECT … FOR UPDATE` in an open
/// transaction) until [`HeldRows::release`]: what a slow or stuck request looks like to
/// the store under test.
pub struct HeldRows(tokio_postgres::Client);

impl HeldRows {
    /// Ends the holding transaction, so the rows are free again when this returns.
    pub async fn release(self) {
        self.0.batch_execute("ROLLBACK").await.unwrap();
    }
}

/// Locks every row of `table` in `schema` from a session of its own.
pub async fn hold_rows(schema: &str, table: &str) -> HeldRows {
    let admin = admin_connection().await;
    admin
        .batch_execute(&format!("BEGIN; SELECT 1 FROM {schema}.{table} FOR UPDATE"))
        .await
        .unwrap();
    HeldRows(admin)
}
