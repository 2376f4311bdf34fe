//! Every flow test, on the PostgreSQL store: each on a fresh schema of the test server,
//! through a pool of 8 connections (so the concurrency cases race real connections and
//! the database's row locks).

#![allow(clippy::unwrap_used, clippy::expect_used)]

oauth_tests::flow_tests!(oauth_store_postgres::test_server::fresh_store());
