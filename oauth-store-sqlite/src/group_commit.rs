//! Group commit: one writer thread per store that runs the writes waiting at the same
//! moment in one transaction, with one flush.
//!
//! With `synchronous = FULL` a commit costs a flush of the disk, hundreds of microseconds
//! to milliseconds, and SQLite takes one writer at a time: writes that each commit on their
//! own queue behind one another's flushes, so concurrent callers get no more done than
//! one. Here every write is handed to one thread that owns a connection of its own. While
//! it flushes one batch, the writes that arrive queue up; it then takes all of them (up to
//! [`MAX_BATCH`]) into the next `BEGIN IMMEDIATE` transaction, each inside a savepoint of
//! its own, and commits once. Each caller is answered only after that commit returned, so
//! an acknowledged write is as durable as before; a write alone is one transaction, as
//! before, with nothing to wait for.
//!
//! One write's failure (a conflict, a refused state, a panic) rolls back to its own
//! savepoint, so it changes nothing and the others of its batch go on. When the batch
//! itself fails (the lock not taken within the busy timeout, the commit or a savepoint
//! refused, SQLite abandoning the transaction after an I/O error), nothing of it was
//! written and every caller in it gets the error.

use std::error::Error;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

use oauth_core::{StorageError, StorageErrorKind};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::oneshot;

use crate::codec::error_kind;

/// The most writes one transaction takes: a bound on how long one batch holds SQLite's
/// write lock, and so on how long a reader in another process waits behind it.
pub(crate) const MAX_BATCH: usize = 64;

/// The most writes that may wait for the writer. Past it a write is refused at once as
/// busy (the engine answers `temporarily_unavailable`) instead of queueing without end:
/// a flood of writes (each DPoP proof's `jti` is one) then costs its senders retries, not
/// the process its memory and every caller an ever longer wait.
pub(crate) const MAX_QUEUED: usize = 1024;

/// The writer thread's queue. Dropping it (with the last clone of the store) lets the
/// thread finish what is queued, and waits until it has closed its connection, so that
/// the store is closed when its last clone is gone, as a pool of connections is.
#[derive(Debug)]
pub(crate) struct GroupWriter {
    /// `None` only while dropping.
    jobs: Option<SyncSender<Box<dyn Job>>>,
    thread: Option<JoinHandle<()>>,
    /// Transactions committed so far (what the tests count batches by).
    #[cfg_attr(not(test), allow(dead_code))]
    batches: Arc<AtomicU64>,
    /// Writes queued so far (what the tests wait for, instead of sleeping).
    #[cfg_attr(not(test), allow(dead_code))]
    queued: AtomicU64,
}

impl Drop for GroupWriter {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            // The writer thread itself never waits for its own end (it would wait forever).
            if thread.thread().id() == std::thread::current().id() {
                return;
            }
            // A panic of the thread has already answered its callers with errors.
            let _ = thread.join();
        }
    }
}

impl GroupWriter {
    /// Starts the writer thread on `connection` (a connection of its own: the thread keeps
    /// it for the life of the store).
    pub(crate) fn start(connection: Connection) -> Result<Self, StorageError> {
        let (jobs, queue) = mpsc::sync_channel::<Box<dyn Job>>(MAX_QUEUED);
        let batches = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&batches);
        let thread = std::thread::Builder::new()
            .name("finrift-sqlite-writer".to_owned())
            .spawn(move || serve(connection, &queue, &counted))
            .map_err(|e| {
                StorageError::with_source(
                    StorageErrorKind::Backend,
                    "could not start the SQLite writer thread",
                    e,
                )
            })?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
            batches,
            queued: AtomicU64::new(0),
        })
    }

    /// Runs `work` in the next batch's transaction and answers once that transaction has
    /// committed: `work`'s outcome, or the batch's error. A caller that stops waiting
    /// before its batch starts has its write dropped unrun (nobody would learn its
    /// outcome); once its batch has started, it runs and commits (or not) as a whole.
    /// `work` must return at its first SQLite error: after some errors SQLite has ended
    /// the transaction, and any statement run after that would commit on its own.
    pub(crate) async fn write<T, F>(&self, what: &'static str, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StorageError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Pending {
            what,
            work: Some(work),
            outcome: None,
            reply,
        };
        let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
        match jobs.try_send(Box::new(job)) {
            Ok(()) => {
                self.queued.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_)) => {
                return Err(StorageError::new(
                    StorageErrorKind::Busy,
                    format!("SQLite could not {what}: too many writes are waiting"),
                ))
            }
            Err(TrySendError::Disconnected(_)) => return Err(stopped()),
        }
        answer.await.map_err(|_| stopped())?
    }
}

impl GroupWriter {
    /// How many transactions the writer has committed.
    #[cfg(test)]
    fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    /// How many writes have been queued for the writer so far.
    #[cfg(test)]
    fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }
}

fn stopped() -> StorageError {
    StorageError::new(
        StorageErrorKind::Backend,
        "the SQLite writer thread has stopped",
    )
}

/// One caller's write, its work's type erased so that one queue carries them all.
trait Job: Send {
    /// Whether its caller still waits for the answer.
    fn is_awaited(&self) -> bool;
    /// Runs the work in `tx`; whether it succeeded (its changes are to be kept).
    fn run(&mut self, tx: &Transaction<'_>) -> bool;
    /// Answers the caller with the work's outcome: after its batch committed, or when
    /// the work failed alone in its transaction (which then stored nothing).
    fn answer(self: Box<Self>);
    /// Answers the caller when the batch did not commit: nothing of it is stored.
    fn abandoned(self: Box<Self>, cause: &BatchFailure);
}

struct Pending<T, F> {
    what: &'static str,
    work: Option<F>,
    outcome: Option<Result<T, StorageError>>,
    reply: oneshot::Sender<Result<T, StorageError>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Transaction<'_>) -> Result<T, StorageError> + Send + 'static,
{
    fn is_awaited(&self) -> bool {
        !self.reply.is_closed()
    }

    fn run(&mut self, tx: &Transaction<'_>) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| work(tx))).unwrap_or_else(|_| {
            Err(StorageError::new(
                StorageErrorKind::Backend,
                format!("the SQLite write to {} panicked", self.what),
            ))
        });
        let succeeded = outcome.is_ok();
        self.outcome = Some(outcome);
        succeeded
    }

    fn answer(self: Box<Self>) {
        let outcome = self.outcome.unwrap_or_else(|| {
            Err(StorageError::new(
                StorageErrorKind::Backend,
                format!("the SQLite write to {} did not run", self.what),
            ))
        });
        // The caller may have stopped waiting; its write is stored all the same.
        let _ = self.reply.send(outcome);
    }

    fn abandoned(self: Box<Self>, cause: &BatchFailure) {
        let answer = match self.outcome {
            // Its own failure says more than the batch's.
            Some(Err(own)) => Err(own),
            _ => Err(cause.error_for(self.what)),
        };
        let _ = self.reply.send(answer);
    }
}

/// Why a batch did not commit, shared by every caller in it.
struct BatchFailure {
    kind: StorageErrorKind,
    cause: Arc<rusqlite::Error>,
}

impl BatchFailure {
    fn new(error: rusqlite::Error) -> Self {
        // The same classification as a write of its own (busy, conflict, backend).
        Self {
            kind: error_kind(&error),
            cause: Arc::new(error),
        }
    }

    fn error_for(&self, what: &'static str) -> StorageError {
        StorageError::with_source(
            self.kind,
            format!("SQLite could not {what}: its batch did not commit"),
            SharedCause(Arc::clone(&self.cause)),
        )
    }
}

/// The batch's cause, kept as the source of each caller's error.
#[derive(Debug)]
struct SharedCause(Arc<rusqlite::Error>);

impl fmt::Display for SharedCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Error for SharedCause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(self.0.as_ref())
    }
}

/// The writer thread: a batch at a time until every handle is gone and the queue empty.
fn serve(mut connection: Connection, queue: &Receiver<Box<dyn Job>>, batches: &AtomicU64) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Writes whose callers gave up before their batch began are not run.
        batch.retain(|job| job.is_awaited());
        if batch.is_empty() {
            continue;
        }
        // A panic outside the jobs' own work (in answering, say) must not end the thread,
        // which every later write needs; the batch's callers then see their answers
        // dropped, as an error.
        let committed = catch_unwind(AssertUnwindSafe(|| commit_batch(&mut connection, batch)));
        if committed.unwrap_or(false) {
            batches.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Runs `batch` in one transaction and answers every caller in it; whether it committed.
fn commit_batch(connection: &mut Connection, mut batch: Vec<Box<dyn Job>>) -> bool {
    let tx = match connection.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(error) => return abandon(batch, &BatchFailure::new(error)),
    };
    if let [only] = batch.as_mut_slice() {
        // Alone, the transaction is its savepoint: a failure rolls it all back.
        if !only.run(&tx) {
            drop(tx);
            batch.into_iter().for_each(|job| job.answer());
            return false;
        }
    } else {
        for job in &mut batch {
            if let Err(error) = run_in_savepoint(&tx, job.as_mut()) {
                drop(tx);
                return abandon(batch, &BatchFailure::new(error));
            }
        }
    }
    match tx.commit() {
        Ok(()) => {
            batch.into_iter().for_each(|job| job.answer());
            true
        }
        Err(error) => abandon(batch, &BatchFailure::new(error)),
    }
}

/// Runs `job` inside a savepoint of `tx`, rolled back if the job fails. `Err` when the
/// transaction itself is lost (a savepoint statement refused, or SQLite rolled the whole
/// transaction back after the job's error).
fn run_in_savepoint(tx: &Transaction<'_>, job: &mut dyn Job) -> Result<(), rusqlite::Error> {
    // Prepared once per connection: a batch runs these around every write it holds.
    tx.prepare_cached("SAVEPOINT finrift_write")?.execute([])?;
    let keep = job.run(tx);
    if tx.is_autocommit() {
        // Some errors (a full disk, an I/O error) end the transaction: nothing of the
        // batch is kept, and saying so is the only honest answer.
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
            Some("the transaction was rolled back".to_owned()),
        ));
    }
    if !keep {
        tx.prepare_cached("ROLLBACK TO finrift_write")?
            .execute([])?;
    }
    tx.prepare_cached("RELEASE finrift_write")?.execute([])?;
    Ok(())
}

/// Answers every caller of a batch that did not commit; `false`, for the caller's return.
fn abandon(batch: Vec<Box<dyn Job>>, cause: &BatchFailure) -> bool {
    batch.into_iter().for_each(|job| job.abandoned(cause));
    false
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::codec::sql_error;

    fn writer(dir: &tempfile::TempDir) -> (GroupWriter, Connection) {
        let path = dir.path().join("group.db");
        let setup = Connection::open(&path).unwrap();
        setup
            .execute_batch(
                "PRAGMA journal_mode = WAL; \
                 CREATE TABLE rows (id INTEGER PRIMARY KEY, value TEXT NOT NULL);",
            )
            .unwrap();
        (
            GroupWriter::start(Connection::open(&path).unwrap()).unwrap(),
            setup,
        )
    }

    fn insert(id: i64) -> impl FnOnce(&Transaction<'_>) -> Result<i64, StorageError> + Send {
        move |tx| {
            tx.execute("INSERT INTO rows (id, value) VALUES (?1, 'v')", [id])
                .map_err(sql_error("insert a row"))?;
            Ok(id)
        }
    }

    fn stored(connection: &Connection) -> Vec<i64> {
        let mut statement = connection
            .prepare("SELECT id FROM rows ORDER BY id")
            .unwrap();
        let ids = statement.query_map([], |row| row.get(0)).unwrap();
        ids.collect::<Result<_, _>>().unwrap()
    }

    /// The writes queued while one batch runs share the next transaction; a write that
    /// fails (a conflict) or panics inside it is rolled back alone, answered with its
    /// error, and the others of its batch are committed and answered with their outcome.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiting_writes_share_one_commit_and_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, reader) = writer(&dir);
        let writer = Arc::new(writer);
        let (release, hold) = mpsc::channel::<()>();
        let (started, running) = mpsc::channel::<()>();
        let hold = std::sync::Mutex::new(hold);
        // The first write holds the writer thread until every other write is queued.
        let first = tokio::spawn({
            let writer = Arc::clone(&writer);
            async move {
                writer
                    .write("hold the writer", move |tx| {
                        started.send(()).unwrap();
                        hold.lock().unwrap().recv().unwrap();
                        insert(1)(tx)
                    })
                    .await
            }
        });
        tokio::task::spawn_blocking(move || running.recv().unwrap())
            .await
            .unwrap();
        let mut waiting = Vec::new();
        for id in 2..=9 {
            let writer = Arc::clone(&writer);
            waiting.push(tokio::spawn(async move {
                match id {
                    // A row, then the row of the first write: a conflict, after a change
                    // that its savepoint must take back.
                    5 => {
                        writer
                            .write("insert two rows", |tx: &Transaction<'_>| {
                                insert(50)(tx)?;
                                insert(1)(tx)
                            })
                            .await
                    }
                    7 => {
                        writer
                            .write(
                                "insert a row",
                                |_tx: &Transaction<'_>| -> Result<i64, StorageError> {
                                    panic!("a broken write")
                                },
                            )
                            .await
                    }
                    _ => writer.write("insert a row", insert(id)).await,
                }
            }));
        }
        // Released once all nine writes are queued: the eight behind the first then wait
        // together, whatever the machine's speed.
        while writer.queued() < 9 {
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 1);
        let mut answers = Vec::new();
        for task in waiting {
            answers.push(task.await.unwrap());
        }
        assert_eq!(
            answers[3].as_ref().unwrap_err().kind(),
            StorageErrorKind::Conflict
        );
        assert!(
            answers[5].is_err(),
            "the panicking write is answered with an error"
        );
        let committed: Vec<i64> = answers
            .iter()
            .filter_map(|a| a.as_ref().ok().copied())
            .collect();
        assert_eq!(committed, [2, 3, 4, 6, 8, 9]);
        assert_eq!(stored(&reader), [1, 2, 3, 4, 6, 8, 9]);
        assert_eq!(
            writer.batches(),
            2,
            "the eight waiting writes made one transaction"
        );
    }

    /// Holds the writer thread inside a write until the returned sender is used.
    async fn hold(writer: &Arc<GroupWriter>) -> (mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, held) = mpsc::channel::<()>();
        let (started, running) = mpsc::channel::<()>();
        let held = std::sync::Mutex::new(held);
        let task = tokio::spawn({
            let writer = Arc::clone(writer);
            async move {
                writer
                    .write("hold the writer", move |_tx: &Transaction<'_>| {
                        started.send(()).unwrap();
                        held.lock().unwrap().recv().unwrap();
                        Ok(())
                    })
                    .await
                    .unwrap();
            }
        });
        tokio::task::spawn_blocking(move || running.recv().unwrap())
            .await
            .unwrap();
        (release, task)
    }

    /// A write whose caller stopped waiting before its batch began is not run; past
    /// [`MAX_QUEUED`] waiting writes, a write is refused at once as busy.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abandoned_writes_are_dropped_and_a_full_queue_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, reader) = writer(&dir);
        let writer = Arc::new(writer);
        let (release, held) = hold(&writer).await;
        let abandoned = tokio::spawn({
            let writer = Arc::clone(&writer);
            async move { writer.write("insert a row", insert(1)).await }
        });
        let mut waiting = Vec::new();
        for id in 2..(2 + MAX_QUEUED as i64 - 1) {
            let writer = Arc::clone(&writer);
            waiting.push(tokio::spawn(async move {
                writer.write("insert a row", insert(id)).await
            }));
        }
        // The held write and every other: the queue is full once all are in it.
        while writer.queued() < MAX_QUEUED as u64 + 1 {
            tokio::task::yield_now().await;
        }
        let refused = writer.write("insert a row", insert(0)).await.unwrap_err();
        assert_eq!(refused.kind(), StorageErrorKind::Busy);
        abandoned.abort();
        assert!(abandoned.await.unwrap_err().is_cancelled());
        release.send(()).unwrap();
        held.await.unwrap();
        for task in waiting {
            task.await.unwrap().unwrap();
        }
        let stored = stored(&reader);
        assert_eq!(
            stored.len(),
            MAX_QUEUED - 1,
            "every awaited write, and no other"
        );
        assert!(!stored.contains(&1) && !stored.contains(&0));
    }

    /// A write alone that fails stores nothing and gets its own error; the writer goes on.
    #[tokio::test]
    async fn a_failed_write_alone_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, reader) = writer(&dir);
        writer.write("insert a row", insert(1)).await.unwrap();
        let error = writer
            .write("insert two rows", |tx: &Transaction<'_>| {
                insert(2)(tx)?;
                insert(1)(tx)
            })
            .await
            .unwrap_err();
        assert_eq!(error.kind(), StorageErrorKind::Conflict);
        assert_eq!(stored(&reader), [1]);
        writer.write("insert a row", insert(3)).await.unwrap();
        assert_eq!(stored(&reader), [1, 3]);
    }
}
