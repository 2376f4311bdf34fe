//! The clock of one connection: how long it may wait for a request head, and how long it
//! may sit idle between requests.
//!
//! hyper's own header timer also runs while a kept-alive connection waits for its next
//! request, which would make the idle time the header time. So the header timer is kept
//! here instead, together with the idle timer: the head of a request must arrive within
//! the header timeout of its first byte (of the connection's start, for the first
//! request), and a connection with no request under way and no byte of the next one is
//! closed after the idle timeout.

use std::sync::{Mutex, PoisonError};

use tokio::sync::Notify;
use tokio::time::{sleep_until, Duration, Instant};

/// Where a connection is in its life, shared by its reader, its service and its watchdog.
#[derive(Debug)]
pub(crate) struct Activity {
    phase: Mutex<Phase>,
    changed: Notify,
    header_timeout: Duration,
    idle_timeout: Duration,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for a request head: since when, whether the connection has had a request
    /// before, and when the first byte of this head came.
    Waiting {
        since: Instant,
        kept_alive: bool,
        first_byte: Option<Instant>,
    },
    /// This many requests are being answered: the body and handler timers apply.
    Busy(usize),
}

impl Activity {
    /// A connection accepted now.
    pub(crate) fn new(header_timeout: Duration, idle_timeout: Duration) -> Self {
        Self {
            phase: Mutex::new(Phase::Waiting {
                since: Instant::now(),
                kept_alive: false,
                first_byte: None,
            }),
            changed: Notify::new(),
            header_timeout,
            idle_timeout,
        }
    }

    fn update(&self, change: impl FnOnce(&mut Phase)) {
        // A panic elsewhere while the lock was held cannot leave a phase half-written.
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut phase);
        drop(phase);
        self.changed.notify_one();
    }

    /// Bytes came in: if the connection was waiting, a request head has begun.
    pub(crate) fn bytes_read(&self) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        if let Phase::Waiting {
            first_byte: first @ None,
            ..
        } = &mut *phase
        {
            *first = Some(Instant::now());
            drop(phase);
            self.changed.notify_one();
        }
    }

    /// A request head was read in full.
    pub(crate) fn request_started(&self) {
        self.update(|phase| {
            *phase = match *phase {
                Phase::Waiting { .. } => Phase::Busy(1),
                Phase::Busy(n) => Phase::Busy(n.saturating_add(1)),
            }
        });
    }

    /// A response was sent (or given up on).
    pub(crate) fn request_finished(&self) {
        self.update(|phase| {
            *phase = match *phase {
                Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
                _ => Phase::Waiting {
                    since: Instant::now(),
                    kept_alive: true,
                    first_byte: None,
                },
            }
        });
    }

    fn deadline(&self) -> Option<Instant> {
        match *self.phase.lock().unwrap_or_else(PoisonError::into_inner) {
            Phase::Busy(_) => None,
            Phase::Waiting {
                first_byte: Some(first),
                ..
            } => Some(first + self.header_timeout),
            Phase::Waiting {
                since,
                kept_alive: false,
                ..
            } => Some(since + self.header_timeout),
            Phase::Waiting { since, .. } => Some(since + self.idle_timeout),
        }
    }

    /// Returns when the connection has outstayed its phase's timer.
    pub(crate) async fn expired(&self) {
        loop {
            // Taken before the deadline is read, so a change in between is not missed.
            let changed = self.changed.notified();
            match self.deadline() {
                Some(deadline) if Instant::now() >= deadline => return,
                Some(deadline) => {
                    tokio::select! {
                        () = sleep_until(deadline) => {}
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

/// Counts one request as under way until dropped: with the response body once it is
/// sent, or with the request's future if the connection is dropped first.
#[derive(Debug)]
pub(crate) struct Busy(pub(crate) std::sync::Arc<Activity>);

impl Busy {
    pub(crate) fn start(activity: std::sync::Arc<Activity>) -> Self {
        activity.request_started();
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}
