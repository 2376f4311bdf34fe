//! The bodies of a connection's requests and responses, wrapped for its timers: a request
//! body that must arrive by a deadline, and a response body that marks its request
//! answered when it is dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use axum::BoxError;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::time::{sleep_until, Instant, Sleep};

use crate::watchdog::Busy;

/// A request body that fails once its deadline passes; `timed_out` tells the server to
/// answer 408 whatever the handler made of the failure.
#[derive(Debug)]
pub(crate) struct TimedBody {
    inner: Incoming,
    deadline: Instant,
    // Made on the first wait only: most bodies are read at once, or are empty.
    timer: Option<Pin<Box<Sleep>>>,
    timed_out: Arc<AtomicBool>,
}

impl TimedBody {
    pub(crate) fn new(inner: Incoming, deadline: Instant, timed_out: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            deadline,
            timer: None,
            timed_out,
        }
    }
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(BoxError::from)));
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        if timer.as_mut().poll(cx).is_ready() {
            this.timed_out.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(
                Err("the request body was not received in time".into()),
            ));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that holds its request's [`Busy`] mark until hyper drops it, which it
/// does once the body is written.
#[derive(Debug)]
pub(crate) struct Answered {
    pub(crate) inner: axum::body::Body,
    pub(crate) _busy: Busy,
}

impl Body for Answered {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
