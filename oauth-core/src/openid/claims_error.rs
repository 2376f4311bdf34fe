//! The error a claims source answers with: a file of its own, so the crate's error types
//! can wrap it without depending on the UserInfo endpoint.

use std::fmt;

/// Why a [`ClaimsSource`](super::ClaimsSource) could not answer: the cause, for logs (the client is told only
/// `server_error`).
#[derive(Debug)]
pub struct ClaimsError {
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl ClaimsError {
    /// An error caused by `source`.
    pub fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            source: source.into(),
        }
    }
}

impl fmt::Display for ClaimsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the claims source failed: {}", self.source)
    }
}

impl std::error::Error for ClaimsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}
