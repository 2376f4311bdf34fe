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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}

impl TokenRecord {
    /// Whether the token may be used at `now`: not revoked, not rotated, not expired.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        !self.revoked && !self.rotated && now < self.expires_at
    }
}

/// A grant, as stored when its first tokens are issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// The answer to [`CodeStore::consume_code`](super::CodeStore::consume_code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeConsumption {
    /// This call consumed the code; no other call ever will.
    Consumed(CodeRecord),
    /// The code had been consumed before: a replay. The record lets the engine check the
    /// replayer's proof before it revokes the grant.
    AlreadyConsumed(CodeRecord),
    /// No such code (never issued, or purged).
    NotFound,
}

/// The answer to [`TokenStore::issue`](super::TokenStore::issue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issuance {
    /// The tokens are stored and live.
    Issued,
    /// The grant was revoked (a replay raced this issuance): nothing was stored.
    GrantRevoked,
}

/// The answer to [`TokenStore::rotate_refresh`](super::TokenStore::rotate_refresh).
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// How many records [`TokenStore::purge_expired`](super::TokenStore::purge_expired) removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Codes removed.
    pub codes: u64,
    /// Access and refresh tokens removed.
    pub tokens: u64,
    /// Grants removed.
    pub grants: u64,
    /// One-time-use marks removed.
    pub uses: u64,
}
