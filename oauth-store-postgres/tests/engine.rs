//! The engine on PostgreSQL: a session leaves nothing usable in the database (SC-09),
//! and a database that stops answering mid-request is `temporarily_unavailable` with
//! nothing half written (SC-09).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration as StdDuration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use oauth_core::jose::{Algorithm, KeyDirectory, KeyEncryptionKey, KeyVault, SigningKey};
use oauth_core::{
    AuthorizationResponse, AuthorizeOutcome, Client, CodeChallenge, Config, Engine, ErrorCode,
    FormRequest, GrantType, ManualClock, RandomSource, ScopeSet, SecretHash, FORM_CONTENT_TYPE,
};
use oauth_store_postgres::test_server as common;
use oauth_store_postgres::{PostgresOptions, PostgresStore};
use time::macros::datetime;

type TestEngine = Engine<PostgresStore, Arc<ManualClock>>;

/// An engine on a store in a fresh schema (statements time out after `timeout`), a
/// confidential client `server` with a random secret, and that secret.
async fn engine(timeout: StdDuration) -> (TestEngine, String, String) {
    let schema = common::fresh_schema().await;
    let options: PostgresOptions = common::options_in(&schema).statement_timeout(timeout);
    let store = PostgresStore::open_with(options).await.unwrap();
    let clock = Arc::new(ManualClock::new(datetime!(2030-01-01 0:00 UTC)));
    let engine = Engine::builder(
        store,
        clock,
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
    (engine, secret, schema)
}

/// Approves a code request as alice: the code and the PKCE verifier.
async fn code(engine: &TestEngine) -> (String, String) {
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
    (redirect.param("code").unwrap(), verifier)
}

fn form(body: &str) -> FormRequest<'_> {
    FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
}

fn redeem_body(code: &str, verifier: &str, secret: &str) -> String {
    format!(
        "grant_type=authorization_code&code={code}&client_id=server&client_secret={secret}\
         &redirect_uri=https%3A%2F%2Fserver.example%2Fcb&code_verifier={verifier}"
    )
}

/// Every value of every finrift table of `schema`, as PostgreSQL prints a row (bytea
/// as `\x` and hex).
async fn dump(schema: &str) -> String {
    let admin = common::admin_connection().await;
    let tables = admin
        .query(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1",
            &[&schema],
        )
        .await
        .unwrap();
    let mut text = String::new();
    for table in tables {
        let name: &str = table.get(0);
        let rows = admin
            .query(&format!("SELECT t::text FROM {schema}.{name} t"), &[])
            .await
            .unwrap();
        for row in rows {
            text.push_str(row.get::<_, &str>(0));
            text.push('\n');
        }
    }
    text
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn sc09_database_dump_holds_no_code_token_secret_or_private_key() {
    let (engine, secret, schema) = engine(StdDuration::from_secs(5)).await;
    let (code, verifier) = code(&engine).await;
    let first = engine
        .token(&form(&redeem_body(&code, &verifier, &secret)))
        .await
        .unwrap();
    let first = first.issued().unwrap().clone();
    let refresh = first.refresh_token.clone().unwrap();
    let body = format!(
        "grant_type=refresh_token&refresh_token={refresh}&client_id=server&client_secret={secret}"
    );
    let second = engine.token(&form(&body)).await.unwrap();
    let second = second.issued().unwrap().clone();
    let cc = format!(
        "grant_type=client_credentials&client_id=server&client_secret={secret}&scope=read%3Ausers"
    );
    let third = engine.token(&form(&cc)).await.unwrap();
    let third = third.issued().unwrap().clone();

    // A signing key moved into the database, whose private part the test knows.
    let (_, pkcs8) = SigningKey::generate(Algorithm::Es256, "k").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let directory = KeyDirectory::open(dir.path().join("keys")).unwrap();
    directory
        .import_current(Algorithm::Es256, &pkcs8, datetime!(2030-01-01 0:00 UTC))
        .unwrap();
    let vault = KeyVault::new(
        engine.storage().clone(),
        KeyEncryptionKey::from_base64url(&KeyEncryptionKey::generate_text().unwrap()).unwrap(),
    );
    assert!(vault.import_directory(&directory).await.unwrap().is_some());

    let dump = dump(&schema).await;
    let secrets = [
        &secret,
        &code,
        &verifier,
        &first.access_token,
        &refresh,
        &second.access_token,
        second.refresh_token.as_ref().unwrap(),
        &third.access_token,
    ];
    for (i, value) in secrets.iter().enumerate() {
        assert!(!dump.contains(value.as_str()), "secret #{i} is in the dump");
        if let Ok(raw) = URL_SAFE_NO_PAD.decode(value.as_str()) {
            assert!(
                !dump.contains(&hex(&raw)),
                "secret #{i}'s bytes are in the dump"
            );
        }
    }
    // The key's private bytes, in any of the forms a dump could show them.
    let der = hex(&pkcs8);
    assert!(
        !dump.contains(&der[der.len() - 64..]),
        "a private key's DER"
    );
    assert!(
        !dump.contains(&STANDARD.encode(&pkcs8)[40..]),
        "a private key's base64"
    );
    assert!(!dump.contains("PRIVATE KEY"), "a private key's PEM");
    // The scan reads the data: the refresh token's hash is there.
    assert!(dump.contains(&hex(SecretHash::of(&refresh).as_bytes())));
    let admin = common::admin_connection().await;
    let sealed = admin
        .query_one(
            &format!("SELECT length(sealed) FROM {schema}.finrift_key_set"),
            &[],
        )
        .await
        .unwrap();
    assert!(
        sealed.get::<_, i32>(0) > pkcs8.len() as i32,
        "the key set is stored"
    );
}

#[tokio::test]
async fn sc09_a_redemption_the_database_cannot_finish_is_temporarily_unavailable_and_undone() {
    let (engine, secret, schema) = engine(StdDuration::from_millis(300)).await;
    let (code, verifier) = code(&engine).await;
    let body = redeem_body(&code, &verifier, &secret);

    let holder = common::hold_rows(&schema, "finrift_codes").await;
    let fault = engine.token(&form(&body)).await.unwrap_err();
    let error = fault.to_oauth_error();
    assert_eq!(error.code(), ErrorCode::TemporarilyUnavailable);
    assert_eq!(error.status(), 503);
    holder.release().await;

    // Nothing was half done: the code was not spent, and redeems now, once.
    let tokens = engine.token(&form(&body)).await.unwrap();
    assert!(tokens.issued().is_some(), "{tokens:?}");
    let again = engine.token(&form(&body)).await.unwrap();
    assert_eq!(again.error().unwrap().code(), ErrorCode::InvalidGrant);
}

#[tokio::test]
async fn sc09_a_rotation_the_database_cannot_finish_is_temporarily_unavailable_and_undone() {
    let (engine, secret, schema) = engine(StdDuration::from_millis(300)).await;
    let (code, verifier) = code(&engine).await;
    let issued = engine
        .token(&form(&redeem_body(&code, &verifier, &secret)))
        .await
        .unwrap();
    let refresh = issued.issued().unwrap().refresh_token.clone().unwrap();
    let body = format!(
        "grant_type=refresh_token&refresh_token={refresh}&client_id=server&client_secret={secret}"
    );

    let holder = common::hold_rows(&schema, "finrift_tokens").await;
    let fault = engine.token(&form(&body)).await.unwrap_err();
    assert_eq!(
        fault.to_oauth_error().code(),
        ErrorCode::TemporarilyUnavailable
    );
    holder.release().await;

    // The refresh token was not rotated by the failed attempt: it rotates now, once, and
    // its grant lives (a half-done rotation would read as a reuse and revoke it).
    let rotated = engine.token(&form(&body)).await.unwrap();
    let rotated = rotated.issued().unwrap().clone();
    let next = format!(
        "grant_type=refresh_token&refresh_token={}&client_id=server&client_secret={secret}",
        rotated.refresh_token.unwrap()
    );
    assert!(engine.token(&form(&next)).await.unwrap().issued().is_some());
}
