//! The PostgreSQL backend: a database that must exist already, named by a URL that is
//! never repeated (it may hold a password).
//!
//! Each command first makes one connection of its own and reads the schema version
//! through it ([`oauth_store_postgres::read_schema_version`]). That connection's error is typed, so each way of not reaching the database
//! (a URL that does not parse, no server, no such database, a refused login) gets its own
//! sentence; the store, opened after, reports only text. The store is opened with
//! migrations off, so that only `finrift migrate` changes a schema.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use oauth_store_postgres::{PostgresOptions, PostgresStore, SCHEMA_VERSION};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls};

use super::{newer, require_current, Migration, SchemaState};
use crate::error::{chain, CliError};

/// How the database is named in messages: never by its URL.
const WHAT: &str = "the PostgreSQL database";

/// How long the first connection may take. An admin at a terminal wants an answer soon,
/// and a server that does not answer in this long is not one to work on.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the existing database `url` names, which must have the current schema.
pub(super) async fn open(url: &str) -> Result<PostgresStore, CliError> {
    let found = read_version(url).await?;
    require_current(
        SchemaState {
            found,
            current: SCHEMA_VERSION,
        },
        WHAT,
    )?;
    // One connection: a command makes its calls one after the other. Migrations off: the
    // store checks the version again, in case another admin changed it meanwhile.
    let options = options(url)?.pool_size(1).migrate_on_open(false);
    PostgresStore::open_with(options)
        .await
        .map_err(|e| CliError::storage("open the PostgreSQL database", &e))
}

/// The schema version of the database `url` names.
pub(super) async fn schema(url: &str) -> Result<SchemaState, CliError> {
    Ok(SchemaState {
        found: read_version(url).await?,
        current: SCHEMA_VERSION,
    })
}

/// Creates finrift's tables in the existing database `url` names, or brings them to
/// [`SCHEMA_VERSION`]. The database itself is never created: that is the DBA's call
/// (owner, encoding, where it lives), and a mistyped name must not become a new one.
pub(super) async fn migrate(url: &str) -> Result<Migration, CliError> {
    let found = read_version(url).await?;
    if found > SCHEMA_VERSION {
        return Err(newer(WHAT, found, SCHEMA_VERSION));
    }
    // Opening applies the pending migrations, each in its own transaction, under a lock
    // that instances starting at the same time also take.
    let store = PostgresStore::open_with(options(url)?.pool_size(1))
        .await
        .map_err(|e| CliError::storage("migrate the PostgreSQL database", &e))?;
    let after = store
        .schema_version()
        .await
        .map_err(|e| CliError::storage("read the schema version", &e))?;
    Ok(Migration {
        // Version 0: no finrift table was there, so this created them.
        before: (found > 0).then_some(found),
        after,
    })
}

/// The store's options for `url`.
fn options(url: &str) -> Result<PostgresOptions, CliError> {
    // Its error repeats nothing of the URL; ours says the same in the CLI's terms.
    PostgresOptions::from_url(url).map_err(|_| unparsable())
}

fn unparsable() -> CliError {
    CliError::new(
        "the PostgreSQL URL does not parse: expected postgres://user[:password]@host[:port]/database",
    )
}

/// Connects to the database `url` names and reads its finrift schema version: 0 when it
/// has no finrift tables.
async fn read_version(url: &str) -> Result<i64, CliError> {
    let client = connect(url).await?;
    oauth_store_postgres::read_schema_version(&client)
        .await
        .map_err(|e| CliError::storage("read the schema version", &e))
}

/// One connection to the database `url` names, its I/O driven by a task of its own
/// until the client is dropped.
async fn connect(url: &str) -> Result<Client, CliError> {
    let mut config: Config = url.parse().map_err(|_| unparsable())?;
    config.connect_timeout(CONNECT_TIMEOUT);
    if config.get_application_name().is_none() {
        config.application_name("finrift");
    }
    let (client, connection) = config.connect(NoTls).await.map_err(|e| connect_error(&e))?;
    // The connection ends with an error when the server goes away; the query that was
    // waiting on it reports that, so the task's own result adds nothing.
    tokio::spawn(connection);
    Ok(client)
}

/// The sentence for a failed connection. Neither host nor port is named: they come from
/// the URL, and an error line ends up in logs and shell histories.
fn connect_error(error: &tokio_postgres::Error) -> CliError {
    if let Some(db) = error.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_CATALOG_NAME {
            return CliError::new(
                "the database does not exist: create it first (`finrift migrate` creates \
                 finrift's tables in an existing database, not the database)",
            );
        }
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            return CliError::new(
                "PostgreSQL refused the login: check the user and password of the URL",
            );
        }
        return CliError::new(format!(
            "PostgreSQL refused the connection: {} (error {})",
            db.message(),
            code.code()
        ));
    }
    // No answer from a server: nothing listens there, the name does not resolve, or the
    // connect timed out. The I/O error says which.
    match io_cause(error) {
        Some(cause) => CliError::new(format!("cannot reach the PostgreSQL server: {cause}")),
        None => CliError::new(format!(
            "cannot reach the PostgreSQL server: {}",
            chain(error)
        )),
    }
}

/// The I/O error under `error`, if there is one.
fn io_cause<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a io::Error> {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            return Some(io);
        }
        source = cause.source();
    }
    None
}
