//! The one error a command fails with: a sentence for the admin, printed on one line.

use std::error::Error as StdError;
use std::fmt;
use std::io;

use oauth_core::jose::KeyError;
use oauth_core::{ClientError, StorageError};

use crate::target::TargetError;

/// Why a command failed, as one line of text. It never holds a secret: a client secret
/// is only ever written to standard output, and a database URL only by its scheme.
#[derive(Debug)]
pub struct CliError(String);

impl CliError {
    /// An error that says `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// A storage failure while doing `what`, with the causes it keeps (the store's own
    /// messages hold no secret).
    pub fn storage(what: &str, error: &StorageError) -> Self {
        Self(format!("cannot {what}: {}", chain(error)))
    }

    /// A client registration the core refused.
    pub fn client(id: &str, error: &ClientError) -> Self {
        Self(format!("cannot register client `{id}`: {error}"))
    }

    /// A signing-key operation the key vault refused or could not do while doing
    /// `what`. Its messages repeat no key material.
    pub fn keys(what: &str, error: &KeyError) -> Self {
        Self(format!("cannot {what}: {error}"))
    }

    /// A failed write of the command's output.
    pub fn output(error: &io::Error) -> Self {
        Self(format!("cannot write to standard output: {error}"))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line whatever a cause said: a multi-line message would break the contract
        // that the error is the last line on standard error.
        let mut first = true;
        for line in self.0.lines() {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(line.trim())?;
            first = false;
        }
        Ok(())
    }
}

impl From<TargetError> for CliError {
    fn from(error: TargetError) -> Self {
        Self(error.to_string())
    }
}

/// `error` and each of its sources, joined by `: `.
pub(crate) fn chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_prints_on_one_line_with_its_causes() {
        let cause = io::Error::other("disk on fire\nsecond line");
        let error = StorageError::with_source(
            oauth_core::StorageErrorKind::Backend,
            "read a client",
            cause,
        );
        let text = CliError::storage("list the clients", &error).to_string();
        assert_eq!(
            text,
            "cannot list the clients: Backend: read a client: disk on fire second line"
        );
    }
}
