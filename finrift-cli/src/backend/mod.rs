//! Opening the store a [`Target`] names, and reading or migrating its schema: one arm
//! per backend, so the commands never see which backend they work on.
//!
//! A backend is a module with three functions: `open` (an existing store at the current
//! schema, never a new one), `schema` (its version, read without changing anything) and
//! `migrate` (create the store or bring its schema up to date), with one arm in each
//! function below.

mod postgres;
mod sqlite;

use std::sync::Arc;

use oauth_core::storage::KeySetStore;
use oauth_core::Storage;

use crate::error::CliError;
use crate::target::Target;

/// An open store, for the commands that work on one. A command group that needs another
/// of the backend's traits gets it from a field beside `storage`, filled by each
/// backend's `open`.
pub struct Store {
    storage: Box<dyn Storage>,
    /// Where the deployment's sealed signing keys are kept.
    key_sets: Arc<dyn KeySetStore>,
}

impl Store {
    /// The storage traits the engine uses: clients, codes, tokens.
    pub fn storage(&self) -> &dyn Storage {
        &*self.storage
    }

    /// Where the deployment's shared signing keys are kept, for `finrift keys`.
    pub fn key_sets(&self) -> Arc<dyn KeySetStore> {
        Arc::clone(&self.key_sets)
    }
}

/// A store's schema version, and the one this build writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaState {
    /// The version the store has; 0 when no version of finrift has set it up.
    pub found: i64,
    /// The version this build writes.
    pub current: i64,
}

/// What `migrate` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The version before, or `None` when the store was created.
    pub before: Option<i64>,
    /// The version now.
    pub after: i64,
}

/// Opens the store `target` names, which must exist and have the current schema: an
/// admin who mistypes a path gets an error, not a new empty database, and an older
/// schema is migrated only by `finrift migrate`, deliberately.
pub async fn open(target: &Target) -> Result<Store, CliError> {
    // Each store's clones share its connections: one for the commands' storage, one for
    // the key sets.
    Ok(match target {
        Target::Sqlite(path) => {
            let store = sqlite::open(path).await?;
            Store {
                storage: Box::new(store.clone()),
                key_sets: Arc::new(store),
            }
        }
        Target::Postgres(url) => {
            let store = postgres::open(url).await?;
            Store {
                storage: Box::new(store.clone()),
                key_sets: Arc::new(store),
            }
        }
    })
}

/// The schema version of the store `target` names, read without changing it.
pub async fn schema(target: &Target) -> Result<SchemaState, CliError> {
    match target {
        Target::Sqlite(path) => sqlite::schema(path).await,
        Target::Postgres(url) => postgres::schema(url).await,
    }
}

/// Creates the store `target` names, or applies its pending schema migrations.
pub async fn migrate(target: &Target) -> Result<Migration, CliError> {
    match target {
        Target::Sqlite(path) => sqlite::migrate(path).await,
        Target::Postgres(url) => postgres::migrate(url).await,
    }
}

/// Refuses a schema other than the current one, for the commands that use the store.
fn require_current(state: SchemaState, what: &str) -> Result<(), CliError> {
    let SchemaState { found, current } = state;
    if found == current {
        Ok(())
    } else if found == 0 {
        Err(CliError::new(format!(
            "{what} has no finrift schema yet: run `finrift migrate` to create it"
        )))
    } else if found < current {
        Err(CliError::new(format!(
            "{what} has schema version {found}, older than this build's {current}: \
             run `finrift migrate` first"
        )))
    } else {
        Err(newer(what, found, current))
    }
}

/// The refusal of a store written by a newer version of finrift.
fn newer(what: &str, found: i64, current: i64) -> CliError {
    CliError::new(format!(
        "{what} has schema version {found}, newer than this build's {current}: it was \
         written by a newer finrift, and is left untouched"
    ))
}
