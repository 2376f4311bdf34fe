//! The error a storage backend reports when it cannot do its work.

use std::error::Error as StdError;
use std::fmt;

/// What kind of storage failure happened; the engine decides its answer from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageErrorKind {
    /// A record with the same key already exists (a duplicate insert).
    Conflict,
    /// The backend is busy (locked database, exhausted pool) past its wait budget; the
    /// request may succeed if retried. Answered as `temporarily_unavailable`.
    Busy,
    /// The backend could not be reached in time: a lost connection, a connection or
    /// statement timeout, a server shutting down. The request may succeed if retried.
    /// Answered as `temporarily_unavailable`.
    Unavailable,
    /// The backend failed otherwise (an unexpected error, a refused statement).
    Backend,
    /// A stored record could not be decoded.
    Corrupt,
}

/// A storage failure, with its source kept for logs.
#[derive(Debug)]
pub struct StorageError {
    kind: StorageErrorKind,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl StorageError {
    /// A failure of `kind` with a message for logs (never a secret).
    pub fn new(kind: StorageErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// A failure caused by `source`.
    pub fn with_source(
        kind: StorageErrorKind,
        message: impl Into<String>,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// A duplicate insert.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StorageErrorKind::Conflict, message)
    }

    /// The kind of failure.
    pub fn kind(&self) -> StorageErrorKind {
        self.kind
    }

    /// Whether a retry may succeed ([`StorageErrorKind::Busy`] or
    /// [`StorageErrorKind::Unavailable`]): what the engine answers as
    /// `temporarily_unavailable` rather than `server_error`.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            StorageErrorKind::Busy | StorageErrorKind::Unavailable
        )
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl StdError for StorageError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}
