//! The records the engine hands to storage and reads back.
//!
//! Every secret value appears here only as its [`SecretHash`]. Times are UTC instants
//! computed by the engine from its clock; a store compares them, it never reads a clock.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::client::ClientId;
use crate::pkce::CodeChallenge;
use crate::scope::ScopeSet;
use crate::secret::SecretHash;

/// Identifies one grant: everything issued from one authorization (one code, or one
/// client-credentials request) and every refresh that follows from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GrantId(pub String);

impl GrantId {
    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An authorization code, as stored.
///
/// Built with [`CodeRecord::new`]; fields may be added in later versions, so a store
/// reads and writes the fields it knows and builds records only through the constructor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CodeRecord {
    /// SHA-256 of the code: the lookup key.
    pub hash: SecretHash,
    /// The grant that the code's tokens will belong to.
    pub grant_id: GrantId,
    /// The client the code was issued to.
    pub client_id: ClientId,
    /// The user who approved.
    pub subject: String,
    /// The `redirect_uri` parameter of the authorization request, when it was sent; the
    /// token request must then repeat it exactly.
    pub redirect_uri: Option<String>,
    /// The scope granted.
    pub scope: ScopeSet,
    /// The PKCE challenge (absent only for clients that opted out).
    pub code_challenge: Option<CodeChallenge>,
    /// When the code was issued.
    pub issued_at: OffsetDateTime,
    /// When the code stops being redeemable.
    pub expires_at: OffsetDateTime,
    /// When the grant it starts ends at the latest: until then a consumed code is kept
    /// so that a replay can still revoke what was issued from it.
    pub grant_expires_at: OffsetDateTime,
    /// The user's sign-in behind an OpenID Connect request (the grant's scope has
    /// `openid`): what its ID tokens say of it, and the request's `nonce`. `None` for a
    /// plain OAuth request.
    pub sign_in: Option<SignIn>,
    /// The RFC 7638 SHA-256 thumbprint (base64url, unpadded) of the DPoP public key the
    /// code is bound to (the authorization request's `dpop_jkt`, RFC 9449 §10): the
    /// token request must prove possession of that key. `None` when unbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
}

/// What an OpenID Connect grant's ID tokens say of the user's sign-in (OpenID Connect
/// Core 1.0 §2): when the user authenticated, how, and the `nonce` of the request that
/// started the grant. Kept with the code, and with the grant's refresh tokens (without
/// the nonce, which a refreshed ID token does not carry, §12.2).
///
/// Built with [`SignIn::new`]; fields may be added in later versions. A store keeps it
/// whole (as JSON, say) and gives it back exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SignIn {
    /// When the user last authenticated (`auth_time`), to the second.
    #[serde(with = "time::serde::timestamp")]
    pub auth_time: OffsetDateTime,
    /// The authentication context class reference (`acr`), when the embedder gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// The authentication methods (`amr`), when the embedder gave them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The authorization request's `nonce`, echoed in the first ID token exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

impl SignIn {
    /// A sign-in at `auth_time`, with no `acr`, `amr` or `nonce` until they are set.
    pub fn new(auth_time: OffsetDateTime) -> Self {
        Self {
            auth_time,
            acr: None,
            amr: Vec::new(),
            nonce: None,
        }
    }

    /// The same sign-in without its nonce: what a grant's refresh tokens keep.
    pub fn without_nonce(&self) -> Self {
        // Field by field: a whole clone would copy the nonce only to drop it.
        Self {
            auth_time: self.auth_time,
            acr: self.acr.clone(),
            amr: self.amr.clone(),
            nonce: None,
        }
    }
}

impl CodeRecord {
    /// The code with `hash` that starts `grant`, for the user `subject`, redeemable until
    /// `expires_at`: its grant id, client and scope are the grant's, it is issued at the
    /// grant's `created_at`, and `grant_expires_at` is the grant's `expires_at` (the
    /// grant's own subject is not read: a code's subject is never absent). It has no
    /// `redirect_uri`, `code_challenge`, `sign_in` or `dpop_jkt` until they are set.
    ///
    /// Taking the grant, rather than its fields one by one, keeps the instants apart:
    /// three times passed in a row are easily swapped. It is taken whole, and its strings
    /// move into the code: a store builds a record for every code it answers.
    pub fn new(
        hash: SecretHash,
        grant: GrantRecord,
        subject: impl Into<String>,
        expires_at: OffsetDateTime,
    ) -> Self {
        Self {
            hash,
            grant_id: grant.id,
            client_id: grant.client_id,
            subject: subject.into(),
            redirect_uri: None,
            scope: grant.scope,
            code_challenge: None,
            issued_at: grant.created_at,
            expires_at,
            grant_expires_at: grant.expires_at,
            sign_in: None,
            dpop_jkt: None,
        }
    }

    /// The grant that redeeming this code issues: its id, client, subject and scope, from
    /// the code's issue to the code's `grant_expires_at`.
    pub fn grant(&self) -> GrantRecord {
        GrantRecord::new(
            self.grant_id.clone(),
            self.client_id.clone(),
            Some(self.subject.clone()),
            self.scope.clone(),
            self.issued_at,
            self.grant_expires_at,
        )
    }

    /// The grant, as [`CodeRecord::grant`], from a record the caller owns (a consumed
    /// code): its strings move into the grant instead of being copied.
    pub(crate) fn into_grant(self) -> GrantRecord {
        GrantRecord::new(
            self.grant_id,
            self.client_id,
            Some(self.subject),
            self.scope,
            self.issued_at,
            self.grant_expires_at,
        )
    }
}

/// The kind of a stored token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// An opaque access token.
    Access,
    /// A refresh token.
    Refresh,
    /// The record of a self-contained (JWT) access token, keyed by the SHA-256 of its
    /// `jti`. It lets introspection and revocation reach a JWT; it is never accepted as a
    /// bearer value itself. Purged like an access token.
    JwtAccess,
}

/// An access or refresh token, as stored.
///
/// Built with [`TokenRecord::new`]; fields may be added in later versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenRecord {
    /// SHA-256 of the token: the lookup key.
    pub hash: SecretHash,
    /// Access or refresh.
    pub kind: TokenKind,
    /// The grant the token belongs to.
    pub grant_id: GrantId,
    /// The client the token was issued to.
    pub client_id: ClientId,
    /// The user, or `None` for a client acting for itself.
    pub subject: Option<String>,
    /// The token's scope.
    pub scope: ScopeSet,
    /// When it was issued.
    pub issued_at: OffsetDateTime,
    /// When it expires.
    pub expires_at: OffsetDateTime,
    /// When its grant ends at the latest (the absolute lifetime).
    pub grant_expires_at: OffsetDateTime,
    /// Revoked, alone or with its grant.
    pub revoked: bool,
    /// For a refresh token: rotated away (used once already).
    pub rotated: bool,
    /// For a refresh token of an OpenID Connect grant: the user's sign-in, without the
    /// nonce, for the ID tokens its refreshes issue. `None` otherwise.
    pub sign_in: Option<SignIn>,
    /// The RFC 7638 SHA-256 thumbprint (base64url, unpadded) of the DPoP public key the
    /// token is bound to (RFC 9449): the request presenting the token must prove
    /// possession of that key. `None` when unbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
}

impl TokenRecord {
    /// A live token (neither revoked nor rotated) of `kind`, stored under `hash`, that
    /// belongs to `grant`: its grant id, client, subject and `grant_expires_at` are the
    /// grant's; its `scope` (the grant's, or narrower after a refresh) and its times are
    /// its own. It has no `sign_in` and no `dpop_jkt` until they are set. A store
    /// rebuilding a revoked or rotated token sets those flags after.
    /// The grant is taken by value, so that a store rebuilding a row moves its strings in
    /// instead of copying them twice.
    pub fn new(
        hash: SecretHash,
        kind: TokenKind,
        grant: GrantRecord,
        scope: ScopeSet,
        issued_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Self {
        Self {
            hash,
            kind,
            grant_id: grant.id,
            client_id: grant.client_id,
            subject: grant.subject,
            scope,
            issued_at,
            expires_at,
            grant_expires_at: grant.expires_at,
            revoked: false,
            rotated: false,
            sign_in: None,
            dpop_jkt: None,
        }
    }

    /// Whether the token may be used at `now`: not revoked, not rotated, not expired.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        !self.revoked && !self.rotated && now < self.expires_at
    }
}

/// A grant, as stored when its first tokens are issued.
///
/// Built with [`GrantRecord::new`]; fields may be added in later versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GrantRecord {
    /// The identifier.
    pub id: GrantId,
    /// The client.
    pub client_id: ClientId,
    /// The user, or `None` for client credentials.
    pub subject: Option<String>,
    /// The scope granted.
    pub scope: ScopeSet,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it ends, whatever refreshes happen (the absolute lifetime).
    pub expires_at: OffsetDateTime,
}

impl GrantRecord {
    /// The grant `id` of `client_id` for `subject` (`None`: the client acting for
    /// itself), with `scope`, from `created_at` to `expires_at`.
    pub fn new(
        id: GrantId,
        client_id: ClientId,
        subject: Option<String>,
        scope: ScopeSet,
        created_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            client_id,
            subject,
            scope,
            created_at,
            expires_at,
        }
    }
}

/// The answer to [`CodeStore::consume_code`](super::CodeStore::consume_code).
///
/// Answers may be added in later versions: a match outside this crate needs a wildcard
/// arm, which should refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeConsumption {
    /// This call consumed the code; no other call ever will.
    Consumed(CodeRecord),
    /// The code had been consumed before: a replay. The record lets the engine check the
    /// replayer's proof before it revokes the grant.
    AlreadyConsumed(CodeRecord),
    /// No such code (never issued, or purged).
    NotFound,
}

/// The answer to [`CodeStore::get_code`](super::CodeStore::get_code): the code's record and
/// whether it has been consumed, read without changing anything.
///
/// Answers may be added in later versions: a match outside this crate needs a wildcard
/// arm, which should refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeLookup {
    /// The code is stored and not consumed.
    Unused(CodeRecord),
    /// The code is stored and was consumed: presenting it again is a replay.
    Consumed(CodeRecord),
    /// No such code (never issued, or purged).
    NotFound,
}

/// The answer to [`TokenStore::issue`](super::TokenStore::issue).
///
/// Answers may be added in later versions: a match outside this crate needs a wildcard
/// arm, which should refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Issuance {
    /// The tokens are stored and live.
    Issued,
    /// The grant was revoked (a replay raced this issuance): nothing was stored.
    GrantRevoked,
}

/// The answer to [`TokenStore::redeem_code`](super::TokenStore::redeem_code).
///
/// Only `Issued` changes anything. Answers may be added in later versions: a match outside
/// this crate needs a wildcard arm, which should refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Redemption {
    /// This call consumed the code and stored the tokens; no other call ever will.
    Issued,
    /// The code had been consumed before (a racing redemption won, or a refused one
    /// burned it). Nothing was stored.
    AlreadyConsumed,
    /// The grant was revoked (a replay raced this redemption). Nothing was stored and the
    /// code was not consumed.
    GrantRevoked,
    /// No such code (never issued, or purged). Nothing was stored.
    NotFound,
}

/// The answer to [`TokenStore::rotate_refresh`](super::TokenStore::rotate_refresh).
///
/// Answers may be added in later versions: a match outside this crate needs a wildcard
/// arm, which should refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rotation {
    /// This call rotated the token: it is now marked rotated and the new tokens are stored.
    Rotated,
    /// The token had been rotated already: a reuse. Nothing was stored.
    AlreadyRotated,
    /// The token, or its grant, is revoked. Nothing was stored.
    Revoked,
    /// No such refresh token. Nothing was stored.
    NotFound,
}

/// How many records one [`TokenStore::purge_expired_batch`](super::TokenStore::purge_expired_batch)
/// call removed, and whether there may be more.
///
/// A store starts from [`PurgeReport::default`] (all zero) and adds to the fields; counts
/// may be added in later versions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PurgeReport {
    /// Codes removed.
    pub codes: u64,
    /// Access and refresh tokens removed.
    pub tokens: u64,
    /// Grants removed.
    pub grants: u64,
    /// One-time-use marks removed.
    pub uses: u64,
    /// Records looked at and kept, by a store that sweeps its records in steps rather
    /// than finding the expired ones through an index (0 from one that does not count
    /// them): a step of a sweep may look at many records and remove none.
    pub kept: u64,
    /// There may be more to purge: the call stopped at its limit for some kind, or
    /// before it had looked at everything. `false` only when nothing that could go at
    /// `before` is left of what was stored when the purge began.
    pub more: bool,
}

impl PurgeReport {
    /// Whether the call did anything: removed a record or, sweeping, looked at one. A
    /// purge calls again while `more` is set and the last call did something; a call
    /// that did nothing yet says `more` would have the caller spin.
    pub fn did_work(&self) -> bool {
        self.codes + self.tokens + self.grants + self.uses + self.kept > 0
    }
}

/// The counts of both added, and `more` if either has it: the report of two calls, or of
/// a whole purge.
impl std::ops::Add for PurgeReport {
    type Output = PurgeReport;

    fn add(self, other: PurgeReport) -> PurgeReport {
        PurgeReport {
            codes: self.codes + other.codes,
            tokens: self.tokens + other.tokens,
            grants: self.grants + other.grants,
            uses: self.uses + other.uses,
            kept: self.kept + other.kept,
            more: self.more || other.more,
        }
    }
}
