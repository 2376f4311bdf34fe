//! DPoP at the engine's edges (RFC 9449): the proof a request carries with the method
//! and URL it was sent to, and the check of it that needs the store, the replay mark.
//!
//! A request reaches the engine with its `DPoP` headers through
//! [`FormRequest::with_dpop`](crate::FormRequest::with_dpop) at the token endpoint and
//! [`BearerRequest::with_dpop`](crate::BearerRequest::with_dpop) at a resource server; both
//! take the same three things, so that a proof is checked the same way wherever it comes.

use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::error::Fault;
use crate::jose::{self, DpopError, ProofExpectations, VerifiedProof};
use crate::secret::SecretHash;
use crate::storage::CodeStore;

/// How far a proof's `iat` may be from the engine's clock, either way, unless configured
/// otherwise.
pub const DEFAULT_DPOP_PROOF_WINDOW: Duration = Duration::seconds(60);

/// The DPoP headers of a request and what they must be for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct DpopContext<'a> {
    proof: Proof<'a>,
    method: &'a str,
    url: &'a str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Proof<'a> {
    One(&'a str),
    /// Two headers or more, or one that a proxy folded from several: refused whole.
    Several,
}

impl fmt::Debug for DpopContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proofs = match self.proof {
            Proof::One(_) => "one",
            Proof::Several => "several",
        };
        f.debug_struct("DpopContext")
            .field("proofs", &proofs)
            .field("method", &self.method)
            .field("url", &self.url)
            .finish()
    }
}

impl<'a> DpopContext<'a> {
    /// The context of a request with these `DPoP` header values, or `None` when it has none.
    pub(crate) fn new(
        headers: impl IntoIterator<Item = &'a str>,
        method: &'a str,
        url: &'a str,
    ) -> Option<Self> {
        let mut headers = headers.into_iter();
        let first = headers.next()?;
        // A compact JWS has no comma; one in the value is several headers folded into one
        // (RFC 9110 §5.3).
        let proof = if headers.next().is_some() || first.contains(',') {
            Proof::Several
        } else {
            Proof::One(first.trim_matches(' '))
        };
        Some(Self { proof, method, url })
    }

    /// Checks the proof, and marks its `jti` used through `store`, so that the mark holds
    /// across every instance sharing it. At a resource server the proof comes with the
    /// `access_token` it must hash (`ath`) and the thumbprint `bound_to` of the key that
    /// token is bound to; at the token endpoint with neither. `nonces` are the server
    /// nonces the proof may carry, when the server requires one (none: no nonce is
    /// required). `Err` only for a fault of the store.
    pub(crate) async fn check<S: CodeStore + ?Sized>(
        &self,
        store: &S,
        presented: Option<(&str, &str)>,
        nonces: &[&str],
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<Result<VerifiedProof, DpopError>, Fault> {
        let proof = match self.verify(presented.map(|(token, _)| token), nonces, now, window) {
            Ok(proof) => proof,
            Err(error) => return Ok(Err(error)),
        };
        // Before the mark: a proof refused for its key is not spent.
        if presented.is_some_and(|(_, bound_to)| bound_to != proof.jkt) {
            return Ok(Err(DpopError::KeyMismatch));
        }
        let key = SecretHash::of(&format!("dpop-jti:{}:{}", proof.jkt, proof.jti));
        // Past `iat + window` the proof is refused by its time, so the mark may go then.
        if !store.use_once(&key, proof.issued_at + window).await? {
            return Ok(Err(DpopError::Replayed));
        }
        Ok(Ok(proof))
    }

    /// The checks of the proof that need no store (every one but the replay mark).
    fn verify(
        &self,
        access_token: Option<&str>,
        nonces: &[&str],
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<VerifiedProof, DpopError> {
        let Proof::One(proof) = self.proof else {
            return Err(DpopError::SeveralProofs);
        };
        jose::verify_proof(
            proof,
            &ProofExpectations {
                method: self.method,
                url: self.url,
                access_token,
                nonces,
                now,
                window,
            },
        )
    }
}
