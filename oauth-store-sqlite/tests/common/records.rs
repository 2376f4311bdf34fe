//! Records for the store's tests: grants, token pairs and codes with random hashes, as
//! the engine would make them, and the hex form a child process prints them in.

use oauth_core::storage::{CodeRecord, GrantId, GrantRecord, TokenKind, TokenRecord};
use oauth_core::{ClientId, CodeChallenge, RandomSource, ScopeSet, SecretHash};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The instant every record here starts at.
pub const START: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

/// A random 32-byte hash.
pub fn random_hash(random: &RandomSource) -> SecretHash {
    let mut bytes = [0u8; 32];
    random.fill(&mut bytes).unwrap();
    SecretHash(bytes)
}

/// A grant of `alice` to `app` for 90 days.
pub fn grant(random: &RandomSource) -> GrantRecord {
    GrantRecord::new(
        GrantId(format!("grant-{}", random.id().unwrap())),
        ClientId::new("app").unwrap(),
        Some("alice".to_owned()),
        ScopeSet::parse("read:users").unwrap(),
        START,
        START + Duration::days(90),
    )
}

/// A token of `kind` of `grant`, for an hour.
pub fn token(random: &RandomSource, grant: &GrantRecord, kind: TokenKind) -> TokenRecord {
    TokenRecord::new(
        random_hash(random),
        kind,
        grant.clone(),
        grant.scope.clone(),
        START,
        START + Duration::hours(1),
    )
}

/// An access and a refresh token of `grant`.
pub fn pair(random: &RandomSource, grant: &GrantRecord) -> Vec<TokenRecord> {
    vec![
        token(random, grant, TokenKind::Access),
        token(random, grant, TokenKind::Refresh),
    ]
}

/// A code of the grant `grant_id`, for a minute, with PKCE.
pub fn code(random: &RandomSource, grant_id: &GrantId) -> CodeRecord {
    let grant = GrantRecord::new(
        grant_id.clone(),
        ClientId::new("app").unwrap(),
        Some("alice".to_owned()),
        ScopeSet::parse("read:users").unwrap(),
        START,
        START + Duration::days(90),
    );
    let mut code = CodeRecord::new(
        random_hash(random),
        grant.clone(),
        "alice",
        START + Duration::seconds(60),
    );
    code.redirect_uri = Some("https://app.example/cb".to_owned());
    code.code_challenge = Some(CodeChallenge::from_verifier(&"v".repeat(43)));
    code
}

/// The hash in hex.
pub fn hex(hash: &SecretHash) -> String {
    hash.to_hex()
}

/// The hash of [`hex`]'s text.
pub fn from_hex(text: &str) -> SecretHash {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap();
    }
    SecretHash(out)
}

/// Stores `code` as approving a pending authorization does, under a one-time key of its
/// own (the only way a code enters a store).
pub async fn approve<S: oauth_core::CodeStore>(
    store: &S,
    code: oauth_core::storage::CodeRecord,
) -> Result<(), oauth_core::StorageError> {
    let mut key = [0u8; 32];
    RandomSource::new().fill(&mut key).unwrap();
    let expires_at = code.expires_at;
    assert!(
        store
            .use_once_and_insert_code(&oauth_core::SecretHash(key), expires_at, code)
            .await?
    );
    Ok(())
}
