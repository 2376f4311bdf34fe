//! Ending every grant of one user: an account closed or suspended, a password reset, a
//! "sign out everywhere".

use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::Fault;
use crate::events::EventKind;
use crate::storage::Storage;

impl<S: Storage, C: Clock> Engine<S, C> {
    /// Revokes every grant of the user `subject`, with every access and refresh token of
    /// them, across all clients (see
    /// [`TokenStore::revoke_subject`](crate::TokenStore::revoke_subject)). A code approved
    /// by the user and not redeemed yet is refused when it is. Answers how many tokens
    /// were newly revoked, and reports [`EventKind::SubjectRevoked`].
    ///
    /// Grants are found by subject in the store itself, so on a store shared by several
    /// issuers this ends the user's grants of all of them. JWT access tokens already
    /// handed out stay valid to a verifier that does not ask the store until they expire
    /// (see [`RevocationOutcome`](crate::RevocationOutcome)'s module).
    ///
    /// A storage failure is a [`Fault`]; revocation is idempotent, so the caller retries.
    pub async fn revoke_subject(&self, subject: &str) -> Result<u64, Fault> {
        let revoked_tokens = self.storage.revoke_subject(subject).await?;
        self.emit(|| EventKind::SubjectRevoked {
            subject: subject.to_owned(),
            revoked_tokens,
        });
        Ok(revoked_tokens)
    }
}
