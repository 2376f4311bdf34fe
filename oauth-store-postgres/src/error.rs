//! PostgreSQL and pool errors as storage errors.

use std::error::Error as StdError;
use std::fmt;

use deadpool_postgres::{PoolError, TimeoutType};
use oauth_core::{StorageError, StorageErrorKind};
use tokio_postgres::error::SqlState;

/// What the database said, without the `DETAIL` and `HINT` a server adds to some errors:
/// a unique violation's detail quotes the key (`Key (hash)=(\x…) already exists`), and a
/// stored hash has no place in a log. Kept as the source of the storage error.
#[derive(Debug)]
pub(crate) struct DatabaseFailure {
    code: Option<String>,
    message: String,
}

impl fmt::Display for DatabaseFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "PostgreSQL error {code}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl StdError for DatabaseFailure {}

impl DatabaseFailure {
    fn of(error: &tokio_postgres::Error) -> Self {
        match error.as_db_error() {
            Some(db) => Self {
                code: Some(db.code().code().to_owned()),
                message: db.message().to_owned(),
            },
            // Not from the server (a closed connection, an I/O error, a timeout): the
            // client's own text, which holds no value.
            None => Self {
                code: None,
                message: error.to_string(),
            },
        }
    }
}

/// The kind of failure an error from the database is.
fn kind_of(error: &tokio_postgres::Error) -> StorageErrorKind {
    let Some(code) = error.code() else {
        // No SQLSTATE: the client failed (connection closed or lost, I/O, connect
        // timeout). A retry on a fresh connection may succeed.
        return StorageErrorKind::Unavailable;
    };
    if *code == SqlState::UNIQUE_VIOLATION {
        StorageErrorKind::Conflict
    } else if *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
        || *code == SqlState::LOCK_NOT_AVAILABLE
        || *code == SqlState::TOO_MANY_CONNECTIONS
    {
        StorageErrorKind::Busy
    } else if *code == SqlState::QUERY_CANCELED
        || *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
        || code.code().starts_with("08")
    {
        // A statement timeout (query_canceled), a server going down or starting up, a
        // connection exception (class 08).
        StorageErrorKind::Unavailable
    } else if code.code().starts_with("22") {
        // Data exceptions: a stored value the statement could not read.
        StorageErrorKind::Corrupt
    } else {
        StorageErrorKind::Backend
    }
}

/// Maps an error from the database to a storage error that says what was being done.
pub(crate) fn db_error(what: &'static str) -> impl Fn(tokio_postgres::Error) -> StorageError {
    move |error| {
        StorageError::with_source(
            kind_of(&error),
            format!("PostgreSQL could not {what}"),
            DatabaseFailure::of(&error),
        )
    }
}

/// Maps a failure to get a connection from the pool.
pub(crate) fn pool_error(error: PoolError) -> StorageError {
    match error {
        PoolError::Backend(error) => db_error("connect")(error),
        // Every connection in use for the whole wait: the database is loaded.
        PoolError::Timeout(TimeoutType::Wait) => StorageError::with_source(
            StorageErrorKind::Busy,
            "no PostgreSQL connection was free within the pool's wait",
            error,
        ),
        other => StorageError::with_source(
            StorageErrorKind::Unavailable,
            "the PostgreSQL pool gave no connection",
            other,
        ),
    }
}

/// A stored value that does not decode.
pub(crate) fn corrupt(what: &str) -> StorageError {
    StorageError::new(
        StorageErrorKind::Corrupt,
        format!("a stored {what} is invalid"),
    )
}

/// Maps a column that did not decode into its Rust type (a value of the wrong type or
/// out of range: a row no build of this store wrote).
pub(crate) fn undecodable(what: &'static str) -> impl Fn(tokio_postgres::Error) -> StorageError {
    move |error| {
        StorageError::with_source(
            StorageErrorKind::Corrupt,
            format!("PostgreSQL could not {what}"),
            DatabaseFailure::of(&error),
        )
    }
}
