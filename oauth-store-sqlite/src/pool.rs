//! A small pool of SQLite connections whose work runs on tokio's blocking threads.
//!
//! SQLite calls block (on disk I/O, and on the busy handler while another writer holds the
//! lock), so no connection is ever used on an async worker thread: each job takes a
//! permit (async, so waiting tasks yield), then runs on `spawn_blocking` with one free
//! connection. The permit travels into the blocking job and is released only after the
//! connection is free again, so a caller that gives up waiting cannot let a second job
//! onto a connection still in use. Reads may instead run on the caller's thread (an
//! opt-in: [`SqliteOptions::inline_reads`](crate::SqliteOptions::inline_reads)).

use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use oauth_core::{StorageError, StorageErrorKind};
use rusqlite::Connection;
use tokio::sync::Semaphore;

/// Connections, and as many permits as there are connections.
#[derive(Debug)]
pub(crate) struct Pool {
    slots: Vec<Mutex<Connection>>,
    permits: Arc<Semaphore>,
    /// Whether [`Pool::read`] runs on the caller's thread.
    inline_reads: bool,
}

impl Pool {
    /// A pool over `connections` (at least one).
    pub(crate) fn new(connections: Vec<Connection>, inline_reads: bool) -> Self {
        let permits = Arc::new(Semaphore::new(connections.len()));
        Self {
            slots: connections.into_iter().map(Mutex::new).collect(),
            permits,
            inline_reads,
        }
    }

    /// Runs the read-only `job` as [`Pool::run`] does, or, when the pool was opened with
    /// inline reads, on the calling thread: no handoff to a blocking thread and back, at
    /// the price of holding the async worker for the read. The job runs after the last
    /// await, so a caller that gives up waiting never leaves it half done.
    pub(crate) async fn read<T, F>(self: &Arc<Self>, job: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StorageError> + Send + 'static,
    {
        if !self.inline_reads {
            return self.run(job).await;
        }
        let _permit = self.permits.acquire().await.map_err(|e| {
            StorageError::with_source(StorageErrorKind::Backend, "the store is closed", e)
        })?;
        let mut connection = self.free_connection();
        job(&mut connection)
    }

    /// Runs `job` on a free connection, on a blocking thread.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, job: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let permit = self.permits.clone().acquire_owned().await.map_err(|e| {
            StorageError::with_source(StorageErrorKind::Backend, "the store is closed", e)
        })?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            // Dropped after the connection guard below (locals drop in reverse order).
            let _permit = permit;
            let mut connection = pool.free_connection();
            job(&mut connection)
        })
        .await
        .map_err(|e| {
            StorageError::with_source(
                StorageErrorKind::Backend,
                "a database task did not finish",
                e,
            )
        })?
    }

    /// A connection no other job holds. Holding a permit guarantees there is one.
    fn free_connection(&self) -> MutexGuard<'_, Connection> {
        for slot in &self.slots {
            match slot.try_lock() {
                Ok(guard) => return guard,
                // A job panicked with this connection. Any transaction it had open was
                // rolled back when the `Transaction` was dropped during the unwind, so
                // the connection is sound.
                Err(TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        // Unreachable while permits equal connections; waiting is still correct.
        self.slots[0]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
