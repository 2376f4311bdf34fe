//! Durability and locking of the SQLite store: SC-03 (state survives a restart; the
//! SIGKILL under load is `killed_writer.rs`), SC-04 (concurrent writers, busy reported as busy) and SC-05 and SC-09
//! (nothing secret at rest, no private signing key either), named after SECURITY.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use oauth_core::{FormRequest, FORM_CONTENT_TYPE};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::records::{approve, code, grant, pair, START};
use common::{db_path, temp_store, temp_store_with, TempStore};
use oauth_core::jose::{
    pkcs8_from_pem, Algorithm, KeyDirectory, KeyEncryptionKey, KeyVault, RotationSchedule,
};
use oauth_core::storage::{CodeConsumption, GrantId, Issuance, Rotation};
use oauth_core::KeySetStore;
use oauth_core::{
    AuthorizationResponse, AuthorizeOutcome, Client, CodeChallenge, CodeStore, Config, Engine,
    ErrorCode, GrantType, ManualClock, RandomSource, Response, ScopeSet, SecretHash,
    StorageErrorKind, TokenOutcome, TokenStore,
};
use oauth_store_sqlite::SqliteStore;
use time::Duration;

// ---------------------------------------------------------------------------------------
// SC-03: what was consumed, rotated or revoked stays so.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn sc03_consumed_rotated_and_revoked_stay_so_after_reopen() {
    let random = RandomSource::new();
    let temp = temp_store().await;
    let path = db_path(&temp.guard);
    let store = &temp.store;

    let g = grant(&random);
    let tokens = pair(&random, &g);
    assert_eq!(store.issue(&g, &tokens).await.unwrap(), Issuance::Issued);
    let c = code(&random, &g.id);
    approve(store, c.clone()).await.unwrap();
    assert!(matches!(
        store.consume_code(&c.hash).await.unwrap(),
        CodeConsumption::Consumed(_)
    ));
    let next = pair(&random, &g);
    assert_eq!(
        store.rotate_refresh(&tokens[1].hash, &next).await.unwrap(),
        Rotation::Rotated
    );
    assert!(store.revoke_token(&next[0].hash).await.unwrap());
    let revoked_grant = grant(&random);
    store.revoke_grant(&revoked_grant.id).await.unwrap();

    // Close every connection, then open the file again.
    let TempStore { store, guard: dir } = temp;
    drop(store);
    let store = SqliteStore::open(&path).await.unwrap();

    assert_eq!(
        store.consume_code(&c.hash).await.unwrap(),
        CodeConsumption::AlreadyConsumed(c),
        "a consumed code stays consumed"
    );
    assert_eq!(
        store
            .rotate_refresh(&tokens[1].hash, &pair(&random, &g))
            .await
            .unwrap(),
        Rotation::AlreadyRotated,
        "a rotated refresh token stays rotated"
    );
    assert!(
        store
            .get_token(&next[0].hash)
            .await
            .unwrap()
            .unwrap()
            .revoked,
        "a revoked token stays revoked"
    );
    assert!(store.get_token(&next[1].hash).await.unwrap().is_some());
    assert_eq!(
        store
            .issue(&revoked_grant, &pair(&random, &revoked_grant))
            .await
            .unwrap(),
        Issuance::GrantRevoked,
        "a grant's revocation mark stays"
    );
    drop(store);
    drop(dir);
}

// ---------------------------------------------------------------------------------------
// SC-04: concurrent writers.
// ---------------------------------------------------------------------------------------

/// SC-04: two stores on one file (as two processes would be), eight writer tasks each,
/// every kind of write at once: not one call fails, and every single-use operation still
/// has exactly one winner.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sc04_concurrent_writers_have_no_spurious_failures() {
    let temp = temp_store().await;
    let second = Arc::new(SqliteStore::open(db_path(&temp.guard)).await.unwrap());
    let first = Arc::new(temp.store.clone());
    let mut tasks = Vec::new();
    for task in 0..16 {
        let (mine, theirs) = if task % 2 == 0 {
            (first.clone(), second.clone())
        } else {
            (second.clone(), first.clone())
        };
        tasks.push(tokio::spawn(async move {
            let random = RandomSource::new();
            for _ in 0..25 {
                let g = grant(&random);
                let tokens = pair(&random, &g);
                assert_eq!(mine.issue(&g, &tokens).await.unwrap(), Issuance::Issued);
                let c = code(&random, &g.id);
                approve(&mine, c.clone()).await.unwrap();
                // The same code consumed through both stores: one wins.
                let (a, b) = tokio::join!(mine.consume_code(&c.hash), theirs.consume_code(&c.hash));
                let wins = [a.unwrap(), b.unwrap()]
                    .iter()
                    .filter(|r| matches!(r, CodeConsumption::Consumed(_)))
                    .count();
                assert_eq!(wins, 1);
                let (next_a, next_b) = (pair(&random, &g), pair(&random, &g));
                let (a, b) = tokio::join!(
                    mine.rotate_refresh(&tokens[1].hash, &next_a),
                    theirs.rotate_refresh(&tokens[1].hash, &next_b)
                );
                let wins = [a.unwrap(), b.unwrap()]
                    .iter()
                    .filter(|r| **r == Rotation::Rotated)
                    .count();
                assert_eq!(wins, 1);
                assert!(theirs.revoke_token(&tokens[0].hash).await.unwrap());
                mine.revoke_grant(&g.id).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.expect("no write failed");
    }
}

/// SC-04: a write that cannot get the lock within the busy timeout fails with kind Busy,
/// which the engine answers as 503 `temporarily_unavailable` with `Retry-After`; once the
/// lock is free, the same write succeeds.
#[tokio::test]
async fn sc04_lock_held_past_busy_timeout_is_busy_then_temporarily_unavailable() {
    let temp = temp_store_with(|o| o.busy_timeout(std::time::Duration::from_millis(200))).await;
    let store = temp.store.clone();
    let engine = Engine::builder(
        store.clone(),
        ManualClock::new(START),
        Config::builder("https://auth.example").build().unwrap(),
    )
    .build()
    .unwrap();
    let secret = "machine-secret-0123456789abcdef-0123456789";
    engine
        .register_client(
            Client::confidential("machine", secret)
                .unwrap()
                .grant_types([GrantType::ClientCredentials])
                .allowed_scopes(ScopeSet::parse("read:users").unwrap())
                .build()
                .unwrap(),
        )
        .await
        .unwrap();

    // Another connection (another process, say) holds the write lock.
    let blocker = rusqlite::Connection::open(db_path(&temp.guard)).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();

    let random = RandomSource::new();
    let c = code(&random, &GrantId("g".into()));
    let error = approve(&store, c.clone()).await.unwrap_err();
    assert_eq!(error.kind(), StorageErrorKind::Busy);
    assert!(error.is_transient());

    let body = format!(
        "grant_type=client_credentials&client_id=machine&client_secret={secret}&scope=read%3Ausers"
    );
    let fault = engine
        .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
        .await
        .unwrap_err();
    assert_eq!(
        fault.to_oauth_error().code(),
        ErrorCode::TemporarilyUnavailable
    );
    let response = Response::from_fault(&fault);
    assert_eq!(response.status, 503);
    assert_eq!(response.header("Retry-After"), Some("1"));

    blocker.execute_batch("ROLLBACK").unwrap();
    approve(&store, c).await.unwrap();
    assert!(matches!(
        engine
            .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
            .await
            .unwrap(),
        TokenOutcome::Issued(_)
    ));
}

// ---------------------------------------------------------------------------------------
// SC-05: nothing secret at rest.
// ---------------------------------------------------------------------------------------

/// Every byte of every value of every table, and the raw database and WAL files.
fn dump(path: &std::path::Path) -> (Vec<Vec<u8>>, Vec<u8>) {
    let connection = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = connection
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(tables.len() >= 4, "tables: {tables:?}");
    let mut values = Vec::new();
    for table in &tables {
        let mut statement = connection
            .prepare(&format!("SELECT * FROM \"{table}\""))
            .unwrap();
        let columns = statement.column_count();
        let mut rows = statement.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                values.push(match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Null => Vec::new(),
                    rusqlite::types::ValueRef::Integer(n) => n.to_string().into_bytes(),
                    rusqlite::types::ValueRef::Real(x) => x.to_string().into_bytes(),
                    rusqlite::types::ValueRef::Text(bytes)
                    | rusqlite::types::ValueRef::Blob(bytes) => bytes.to_vec(),
                });
            }
        }
    }
    drop(connection);
    let mut files = Vec::new();
    for suffix in ["", "-wal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        if let Ok(bytes) = std::fs::read(&name) {
            files.extend(bytes);
        }
    }
    (values, files)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// SC-05: after a whole session through the engine (a code redeemed, a refresh, client
/// credentials, a revocation by reuse), no table value and no byte of the database or
/// its WAL holds a code, a token or a client secret, as text or as its raw random bytes.
/// Their SHA-256 hashes are there: the scan does read the data. SC-09: nor does any of
/// it hold a private signing key, after a key set was stored and rotated through a
/// `KeyVault`.
#[tokio::test]
async fn sc05_database_dump_holds_no_code_token_or_secret() {
    let temp = temp_store().await;
    let clock = Arc::new(ManualClock::new(START));
    let engine = Engine::builder(
        temp.store.clone(),
        clock.clone(),
        Config::builder("https://auth.example").build().unwrap(),
    )
    .build()
    .unwrap();
    let secret = RandomSource::new().secret().unwrap();
    engine
        .register_client(
            Client::confidential("server", &secret)
                .unwrap()
                .redirect_uri("https://server.example/cb")
                .unwrap()
                .grant_types([
                    GrantType::AuthorizationCode,
                    GrantType::RefreshToken,
                    GrantType::ClientCredentials,
                ])
                .allowed_scopes(ScopeSet::parse("read:users write:users").unwrap())
                .build()
                .unwrap(),
        )
        .await
        .unwrap();

    let verifier = RandomSource::new().secret().unwrap();
    let challenge = CodeChallenge::from_verifier(&verifier);
    let query = format!(
        "response_type=code&client_id=server&redirect_uri=https%3A%2F%2Fserver.example%2Fcb\
         &scope=read%3Ausers&state=s&code_challenge={}&code_challenge_method=S256",
        challenge.as_str()
    );
    let AuthorizeOutcome::Pending(pending) = engine.authorize_query(&query).await.unwrap() else {
        panic!("pending");
    };
    let AuthorizationResponse::Redirect(redirect) = engine
        .approve(&pending, "alice", pending.scope())
        .await
        .unwrap()
    else {
        panic!("redirect");
    };
    let code = redirect.param("code").unwrap();
    let redeem = format!(
        "grant_type=authorization_code&code={code}&client_id=server&client_secret={secret}\
         &redirect_uri=https%3A%2F%2Fserver.example%2Fcb&code_verifier={verifier}"
    );
    let first = engine
        .token(&FormRequest::new(
            Some(FORM_CONTENT_TYPE),
            redeem.as_bytes(),
        ))
        .await
        .unwrap();
    let first = first.issued().unwrap().clone();
    let refresh = first.refresh_token.clone().unwrap();
    clock.advance(Duration::minutes(5));
    let body = format!(
        "grant_type=refresh_token&refresh_token={refresh}&client_id=server&client_secret={secret}"
    );
    let second = engine
        .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
        .await
        .unwrap();
    let second = second.issued().unwrap().clone();
    // Reuse of the rotated-away token: the grant is revoked.
    assert!(engine
        .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
        .await
        .unwrap()
        .error()
        .is_some());
    let cc = format!(
        "grant_type=client_credentials&client_id=server&client_secret={secret}&scope=read%3Ausers"
    );
    let third = engine
        .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), cc.as_bytes()))
        .await
        .unwrap();
    let third = third.issued().unwrap().clone();

    let mut secrets = vec![
        secret.clone(),
        code.clone(),
        verifier.clone(),
        first.access_token.clone(),
        refresh.clone(),
        second.access_token.clone(),
        second.refresh_token.clone().unwrap(),
        third.access_token.clone(),
    ];
    secrets.retain(|s| !s.is_empty());

    // The signing keys, shared through the store: three keys (previous, current, next),
    // made in a key directory so that the test knows their private keys, then imported.
    let keys = tempfile::tempdir().unwrap();
    let directory = KeyDirectory::open(keys.path().join("keys")).unwrap();
    let day = Duration::days(1);
    let schedule = RotationSchedule::new(day, day, Duration::days(10)).unwrap();
    for days in 0..4 {
        directory
            .advance(Algorithm::Es256, &schedule, START + day * days)
            .unwrap();
    }
    let private_keys: Vec<(String, Vec<u8>)> = std::fs::read_dir(directory.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "pem"))
        .map(|path| {
            let pem = std::fs::read_to_string(path).unwrap();
            let der = pkcs8_from_pem(&pem).unwrap();
            (pem, der)
        })
        .collect();
    assert_eq!(private_keys.len(), 3);
    let vault = KeyVault::new(
        temp.store.clone(),
        KeyEncryptionKey::from_base64url(&KeyEncryptionKey::generate_text().unwrap()).unwrap(),
    );
    let imported = vault.import_directory(&directory).await.unwrap().unwrap();
    assert_eq!(imported.jwks(), directory.load().unwrap().unwrap().jwks());
    vault
        .advance(Algorithm::Es256, &schedule, START + day * 5)
        .await
        .unwrap();
    let sealed = temp.store.load_key_set().await.unwrap().unwrap();

    // While the store is open (data in the WAL), and after it closed (folded into the file).
    let path = db_path(&temp.guard);
    let TempStore { store, guard: dir } = temp;
    scan_for_secrets(&path, &secrets, &verifier);
    scan_for_private_keys(&path, &private_keys, sealed.sealed());
    drop(engine);
    drop(vault);
    drop(store);
    assert!(!std::path::Path::new(&format!("{}-wal", path.display())).exists());
    scan_for_secrets(&path, &secrets, &verifier);
    scan_for_private_keys(&path, &private_keys, sealed.sealed());
    drop(dir);
}

/// SC-09: asserts that no private signing key is in the tables or the files: no 16 bytes
/// in a row of its PKCS#8 DER, and no line of its PEM text (nor its DER as one line of
/// base64, standard or URL-safe). The sealed key set is there: the scan reads the data.
fn scan_for_private_keys(path: &std::path::Path, keys: &[(String, Vec<u8>)], sealed: &[u8]) {
    let (values, files) = dump(path);
    assert!(
        values.iter().any(|v| v.as_slice() == sealed),
        "the sealed key set is not stored: the scan sees nothing"
    );
    for (i, (pem, der)) in keys.iter().enumerate() {
        let mut texts: Vec<Vec<u8>> = pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .map(|line| line.as_bytes().to_vec())
            .collect();
        texts.push(
            base64::engine::general_purpose::STANDARD
                .encode(der)
                .into_bytes(),
        );
        texts.push(URL_SAFE_NO_PAD.encode(der).into_bytes());
        let pieces = der.windows(16).map(<[u8]>::to_vec).chain(texts);
        for piece in pieces {
            for value in &values {
                assert!(
                    !contains(value, &piece),
                    "private key #{i} is in a table value"
                );
            }
            assert!(
                !contains(&files, &piece),
                "private key #{i} is in the database files"
            );
        }
    }
}

/// Asserts that no secret is in the tables or files in clear or as its raw bytes, and
/// that every secret but the PKCE verifier (never sent to storage) is there as a hash.
fn scan_for_secrets(path: &std::path::Path, secrets: &[String], verifier: &str) {
    let (values, files) = dump(path);
    for (i, secret) in secrets.iter().enumerate() {
        let raw = URL_SAFE_NO_PAD.decode(secret).ok();
        for value in &values {
            assert!(
                !contains(value, secret.as_bytes()),
                "secret #{i} is in a table value in clear"
            );
            if let Some(raw) = &raw {
                assert!(
                    !contains(value, raw),
                    "secret #{i}'s random bytes are in a table"
                );
            }
        }
        assert!(
            !contains(&files, secret.as_bytes()),
            "secret #{i} is in the database files in clear"
        );
        if let Some(raw) = &raw {
            assert!(
                !contains(&files, raw),
                "secret #{i}'s random bytes are in the files"
            );
        }
        if secret == verifier {
            continue;
        }
        let hash = SecretHash::of(secret);
        let stored = values
            .iter()
            .any(|v| contains(v, hash.as_bytes()) || contains(v, hash_as_json(&hash).as_bytes()));
        assert!(
            stored,
            "secret #{i}'s hash is not stored: the scan sees nothing"
        );
    }
}

/// How a client secret's hash appears in the client's JSON: an array of byte values.
fn hash_as_json(hash: &SecretHash) -> String {
    serde_json_array(hash.as_bytes())
}

fn serde_json_array(bytes: &[u8]) -> String {
    let items: Vec<String> = bytes.iter().map(u8::to_string).collect();
    format!("[{}]", items.join(","))
}
