//! Running one cached statement on a connection or in a transaction, its errors mapped.
//!
//! Each statement is prepared once per connection (the pool's connections keep a cache
//! keyed by the SQL text) and then only bound and executed.

use deadpool_postgres::GenericClient;
use oauth_core::StorageError;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::error::db_error;

/// The parameters of one statement.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Runs `sql` and answers how many rows it changed.
pub(crate) async fn execute(
    client: &impl GenericClient,
    what: &'static str,
    sql: &str,
    params: Params<'_>,
) -> Result<u64, StorageError> {
    let statement = client.prepare_cached(sql).await.map_err(db_error(what))?;
    client
        .execute(&statement, params)
        .await
        .map_err(db_error(what))
}

/// Runs `sql` and answers its rows.
pub(crate) async fn query(
    client: &impl GenericClient,
    what: &'static str,
    sql: &str,
    params: Params<'_>,
) -> Result<Vec<Row>, StorageError> {
    let statement = client.prepare_cached(sql).await.map_err(db_error(what))?;
    client
        .query(&statement, params)
        .await
        .map_err(db_error(what))
}

/// Runs `sql` and answers its row, if it gave one (more than one is an error).
pub(crate) async fn query_opt(
    client: &impl GenericClient,
    what: &'static str,
    sql: &str,
    params: Params<'_>,
) -> Result<Option<Row>, StorageError> {
    let statement = client.prepare_cached(sql).await.map_err(db_error(what))?;
    client
        .query_opt(&statement, params)
        .await
        .map_err(db_error(what))
}
