//! Where deliberately slow derivations run: PBKDF2 client secrets, and the embedder's own
//! password checks.
//!
//! A PBKDF2 derivation costs tens of milliseconds of CPU. Run on an async worker thread it
//! stalls every other request that worker holds, so a flood of logins would delay even
//! `GET /jwks.json`. The engine hands such work to a [`SlowHashing`]; [`HashingPool`] runs
//! it on a few threads of its own with a bounded queue, and refuses (the request is
//! answered `temporarily_unavailable`) when the queue is full, so the work waiting is
//! bounded too. The pool needs no async runtime: its answers wake the waiting task
//! through the standard [`Waker`].

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// A unit of slow work: a derivation that answers whether the credential matched.
pub type SlowWork = Box<dyn FnOnce() -> bool + Send + 'static>;

/// The answer of a [`SlowHashing`] to one unit of work.
pub type SlowAnswer<'a> = Pin<Box<dyn Future<Output = Option<bool>> + Send + 'a>>;

/// Runs slow derivations away from the caller's thread, or in place.
pub trait SlowHashing: Send + Sync {
    /// Runs `work` and answers its result, or `None` when the work was refused because
    /// too much is waiting (the engine then answers `temporarily_unavailable`).
    fn run(&self, work: SlowWork) -> SlowAnswer<'_>;
}

/// Runs the work on the calling thread: for engines whose clients all hold generated
/// secrets (one SHA-256 each, no PBKDF2) and that want no threads of their own. The
/// default is [`HashingPool::shared`].
#[derive(Debug, Default, Clone, Copy)]
pub struct InPlace;

impl SlowHashing for InPlace {
    fn run(&self, work: SlowWork) -> SlowAnswer<'_> {
        let answer = work();
        Box::pin(std::future::ready(Some(answer)))
    }
}

/// A fixed set of threads for slow derivations, with a bounded queue.
///
/// At most `threads` derivations run at once, whatever the load; at most `queue` wait;
/// anything beyond is refused at once. With the defaults of [`HashingPool::default`] (two
/// threads, 64 waiting) and 30 ms a derivation, a request waits at most about a second
/// for its turn, and the async workers never wait at all.
#[derive(Debug, Clone)]
pub struct HashingPool {
    queue: SyncSender<Job>,
}

struct Job {
    work: SlowWork,
    slot: Arc<Slot>,
}

/// Where a job's answer meets the task waiting for it.
#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    answer: Option<Option<bool>>,
    waker: Option<Waker>,
}

impl Slot {
    fn fill(&self, answer: Option<bool>) {
        let waker = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if state.answer.is_some() {
                return;
            }
            state.answer = Some(answer);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Fills the slot with "refused" if the job is dropped unrun (the pool shut down), so
/// the waiting task never hangs.
impl Drop for Job {
    fn drop(&mut self) {
        self.slot.fill(None);
    }
}

struct Waiting(Arc<Slot>);

impl Future for Waiting {
    type Output = Option<bool>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
        match state.answer {
            Some(answer) => Poll::Ready(answer),
            None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl HashingPool {
    /// A pool of `threads` threads (at least one) with room for `queue` waiting jobs.
    /// Threads that cannot be started are left out; with none at all, every job is
    /// refused.
    pub fn new(threads: usize, queue: usize) -> Self {
        let (sender, receiver) = sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads.max(1) {
            let receiver = receiver.clone();
            let _ = std::thread::Builder::new()
                .name(format!("finrift-hashing-{index}"))
                .spawn(move || loop {
                    let next = receiver.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(mut job) = next else {
                        return; // the pool was dropped
                    };
                    let work = std::mem::replace(&mut job.work, Box::new(|| false));
                    let answer = work();
                    job.slot.fill(Some(answer));
                });
        }
        Self { queue: sender }
    }
}

impl HashingPool {
    /// The process-wide pool of [`HashingPool::default`]'s size, started on first use: what
    /// an engine uses unless given another [`SlowHashing`], so that no engine runs PBKDF2
    /// on an async worker by default.
    pub fn shared() -> Self {
        static SHARED: std::sync::OnceLock<HashingPool> = std::sync::OnceLock::new();
        SHARED.get_or_init(HashingPool::default).clone()
    }
}

impl Default for HashingPool {
    /// Two threads, 64 jobs waiting.
    fn default() -> Self {
        Self::new(2, 64)
    }
}

impl SlowHashing for HashingPool {
    fn run(&self, work: SlowWork) -> SlowAnswer<'_> {
        let slot = Arc::new(Slot::default());
        let job = Job {
            work,
            slot: slot.clone(),
        };
        match self.queue.try_send(job) {
            Ok(()) => Box::pin(Waiting(slot)),
            // The job is dropped here, and its Drop answers "refused".
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                Box::pin(std::future::ready(None))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn work_runs_on_the_pool_not_the_caller() {
        let pool = HashingPool::new(1, 4);
        let caller = std::thread::current().id();
        let answer = pool
            .run(Box::new(move || std::thread::current().id() != caller))
            .await;
        assert_eq!(answer, Some(true));
    }

    #[tokio::test]
    async fn rl04_concurrency_is_capped_and_a_full_queue_refuses() {
        let pool = HashingPool::new(2, 3);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut waiting = Vec::new();
        let mut refused = 0;
        for _ in 0..20 {
            let (running, most) = (running.clone(), most.clone());
            let answer = pool.run(Box::new(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(20));
                running.fetch_sub(1, Ordering::SeqCst);
                true
            }));
            waiting.push(answer);
        }
        for answer in waiting {
            match answer.await {
                Some(true) => {}
                None => refused += 1,
                Some(false) => panic!("the work answers true"),
            }
        }
        assert!(most.load(Ordering::SeqCst) <= 2, "at most two at once");
        assert!(refused >= 20 - 2 - 3 - 2, "a full queue refuses: {refused}");
        assert!(refused < 20);
    }

    #[tokio::test]
    async fn in_place_runs_on_the_caller() {
        assert_eq!(InPlace.run(Box::new(|| true)).await, Some(true));
    }
}
