//! Token minting. Refresh tokens, and access tokens by default, are opaque: 256 random
//! bits, base64url, stored only as their SHA-256. Access tokens may instead be signed JWTs
//! (RFC 9068) that resource servers verify on their own.

mod issued;
mod jwt_access;

pub(crate) use jwt_access::JwtIssuer;

pub use issued::{AccessTokenType, IssuedTokens};

use time::OffsetDateTime;

use crate::error::Fault;
use crate::scope::ScopeSet;
use crate::secret::{Draw, SecretHash};
use crate::storage::{GrantRecord, TokenKind, TokenRecord};

/// The format of access tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessTokenFormat {
    /// Random, meaningless to the bearer; checked through storage.
    #[default]
    Opaque,
    /// A signed JWT (RFC 9068) that resource servers verify with the issuer's public keys.
    Jwt,
}

/// A freshly minted token: the value for the client, the record for storage.
pub(crate) struct Minted {
    pub value: String,
    pub record: TokenRecord,
    /// The `jti` of a JWT access token.
    pub token_id: Option<String>,
}

/// Mints one opaque token of `kind` for `grant`, its value taken from the request's `draw`.
pub(crate) fn mint(
    draw: &mut Draw,
    kind: TokenKind,
    grant: &GrantRecord,
    scope: ScopeSet,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<Minted, Fault> {
    let value = draw.secret()?;
    let record = TokenRecord::new(
        SecretHash::of(&value),
        kind,
        grant.clone(),
        scope,
        issued_at,
        expires_at,
    );
    Ok(Minted {
        value,
        record,
        token_id: None,
    })
}
