//! Many live grants, fast: each one the records a finished authorization code flow leaves
//! behind (its pending request's single-use mark, the consumed code, the grant, an
//! access token and a refresh token), with the engine's record shapes and sizes.
//!
//! Hashes and ids come from SHA-256 of a counter, so they spread like real ones (random
//! keys, not sequential ones that a B-tree would favour). Every record expires long after
//! the benchmarks' clock moves, so purges between measurements leave them alone.

use oauth_core::storage::{
    CodeConsumption, CodeRecord, GrantId, GrantRecord, TokenKind, TokenRecord,
};
use oauth_core::{ClientId, CodeChallenge, ScopeSet, SecretHash, Storage};
use rusqlite::{params, Connection};
use std::path::Path;
use time::{Duration, OffsetDateTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::fixture::{PUBLIC_ID, REDIRECT_URI, SCOPE, START, VERIFIER};
use crate::floor::hash;

/// How long the populated records live: longer than any measurement moves the clock.
pub const POPULATED_LIFETIME: Duration = Duration::days(36_525);

/// The records of live grant number `i`.
#[derive(Debug, Clone)]
pub struct GrantShape {
    /// The pending request's single-use mark.
    pub mark: SecretHash,
    /// The code, consumed.
    pub code: CodeRecord,
    /// The grant.
    pub grant: GrantRecord,
    /// The access and refresh tokens.
    pub tokens: [TokenRecord; 2],
}

fn derived(tag: u8, i: u64) -> [u8; 32] {
    let mut input = [0u8; 9];
    input[0] = tag;
    input[1..].copy_from_slice(&i.to_le_bytes());
    hash(&input)
}

impl GrantShape {
    /// The records of grant number `i`.
    pub fn new(i: u64, scope: &ScopeSet) -> Self {
        let until = START + POPULATED_LIFETIME;
        let grant_id = GrantId(URL_SAFE_NO_PAD.encode(&derived(0, i)[..16]));
        let client_id = ClientId::new(PUBLIC_ID).expect("valid id");
        let subject = format!("user-{i}");
        let grant = GrantRecord::new(
            grant_id,
            client_id,
            Some(subject.clone()),
            scope.clone(),
            START,
            until,
        );
        let token = |tag: u8, kind: TokenKind| {
            TokenRecord::new(
                SecretHash(derived(tag, i)),
                kind,
                grant.clone(),
                scope.clone(),
                START,
                until,
            )
        };
        let mut code = CodeRecord::new(SecretHash(derived(2, i)), grant.clone(), subject, until);
        code.redirect_uri = Some(REDIRECT_URI.to_owned());
        code.code_challenge = Some(CodeChallenge::from_verifier(VERIFIER));
        Self {
            mark: SecretHash(derived(1, i)),
            code,
            tokens: [token(3, TokenKind::Access), token(4, TokenKind::Refresh)],
            grant,
        }
    }
}

/// Stores grants `from..to` through the storage traits, as the engine would: the mark,
/// the code (then consumed), and the grant's tokens.
pub async fn through_traits<S: Storage>(store: &S, from: u64, to: u64) {
    let scope = ScopeSet::parse(SCOPE).expect("valid scopes");
    for i in from..to {
        let shape = GrantShape::new(i, &scope);
        let code_hash = shape.code.hash;
        assert!(store
            .use_once_and_insert_code(&shape.mark, START + POPULATED_LIFETIME, shape.code)
            .await
            .expect("approve"));
        assert!(matches!(
            store.consume_code(&code_hash).await.expect("consume"),
            CodeConsumption::Consumed(_)
        ));
        store
            .issue(&shape.grant, &shape.tokens)
            .await
            .expect("issue");
    }
}

/// Stores grants `from..to` straight into the SQLite database at `path` (already created
/// by `SqliteStore::open`, which may stay open), in one transaction per call, with the
/// rows `oauth-store-sqlite` writes for the same records. Through the traits each record
/// would be its own durable transaction (an fsync each), which makes a million grants
/// take hours; this takes the same rows in bulk.
pub fn sqlite_bulk(path: &Path, from: u64, to: u64) {
    let scope = ScopeSet::parse(SCOPE).expect("valid scopes");
    let scope_text = scope.to_string();
    let mut connection = Connection::open(path).expect("open the database");
    connection
        .execute_batch("PRAGMA synchronous = OFF; PRAGMA cache_size = -200000;")
        .expect("pragmas");
    let tx = connection.transaction().expect("begin");
    {
        let mut uses = tx
            .prepare("INSERT INTO uses (key, expires_at) VALUES (?1, ?2)")
            .expect("prepare");
        let mut codes = tx
            .prepare(
                "INSERT INTO codes (hash, grant_id, client_id, subject, redirect_uri, scope, \
                 code_challenge, issued_at, expires_at, grant_expires_at, consumed) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1)",
            )
            .expect("prepare");
        let mut grants = tx
            .prepare(
                "INSERT INTO grants (id, client_id, subject, scope, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .expect("prepare");
        let mut tokens = tx
            .prepare(
                "INSERT INTO tokens (hash, kind, grant_id, client_id, subject, scope, \
                 issued_at, expires_at, grant_expires_at, revoked, rotated) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, 0)",
            )
            .expect("prepare");
        let secs = OffsetDateTime::unix_timestamp;
        for i in from..to {
            let shape = GrantShape::new(i, &scope);
            let code = &shape.code;
            uses.execute(params![&shape.mark.0[..], secs(code.expires_at)])
                .expect("insert a mark");
            codes
                .execute(params![
                    &code.hash.0[..],
                    code.grant_id.as_str(),
                    code.client_id.as_str(),
                    code.subject,
                    code.redirect_uri,
                    scope_text,
                    code.code_challenge.as_ref().map(|c| c.as_str()),
                    secs(code.issued_at),
                    secs(code.expires_at),
                    secs(code.grant_expires_at),
                ])
                .expect("insert a code");
            let grant = &shape.grant;
            grants
                .execute(params![
                    grant.id.as_str(),
                    grant.client_id.as_str(),
                    grant.subject,
                    scope_text,
                    secs(grant.created_at),
                    secs(grant.expires_at),
                ])
                .expect("insert a grant");
            for token in &shape.tokens {
                tokens
                    .execute(params![
                        &token.hash.0[..],
                        match token.kind {
                            TokenKind::Access => "access",
                            TokenKind::Refresh => "refresh",
                            TokenKind::JwtAccess => "jwt_access",
                        },
                        token.grant_id.as_str(),
                        token.client_id.as_str(),
                        token.subject,
                        scope_text,
                        secs(token.issued_at),
                        secs(token.expires_at),
                        secs(token.grant_expires_at),
                    ])
                    .expect("insert a token");
            }
        }
    }
    tx.commit().expect("commit");
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::{CodeStore, TokenStore};
    use oauth_store_memory::MemoryStore;
    use oauth_store_sqlite::SqliteStore;

    #[tokio::test]
    async fn bulk_rows_read_back_as_the_records_the_traits_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.db");
        let sqlite = SqliteStore::open(&path).await.unwrap();
        sqlite_bulk(&path, 0, 3);
        let memory = MemoryStore::new();
        through_traits(&memory, 0, 3).await;
        let scope = ScopeSet::parse(SCOPE).unwrap();
        for i in 0..3 {
            let shape = GrantShape::new(i, &scope);
            for token in &shape.tokens {
                let from_sqlite = sqlite.get_token(&token.hash).await.unwrap();
                let from_memory = memory.get_token(&token.hash).await.unwrap();
                assert_eq!(from_sqlite.as_ref(), Some(token));
                assert_eq!(from_memory.as_ref(), Some(token));
            }
            assert!(!sqlite.use_once(&shape.mark, START).await.unwrap());
            assert!(matches!(
                sqlite.consume_code(&shape.code.hash).await.unwrap(),
                CodeConsumption::AlreadyConsumed(record) if record == shape.code
            ));
        }
    }
}
