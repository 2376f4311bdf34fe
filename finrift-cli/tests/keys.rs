//! `finrift keys`: the shared signing keys, end to end through the built binary on a
//! fresh PostgreSQL schema (and once on a SQLite file), and read back as a server's vault
//! reads them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{finrift, finrift_env, migrated_db, postgres_target, Run};
use oauth_core::jose::{KeyEncryptionKey, KeyVault};
use oauth_store_postgres::test_server::options_in;
use oauth_store_postgres::PostgresStore;

const KEY_VAR: &str = "FINRIFT_KEY_ENCRYPTION_KEY";

/// A new key-encryption key, made by the binary.
fn new_key() -> String {
    let run = finrift(&["keys", "new-encryption-key"]);
    run.ok().trim_end().to_owned()
}

/// Runs `finrift --db <url> keys args...` with the key-encryption key `key`.
fn keys(url: &str, key: &str, args: &[&str]) -> Run {
    let all = [&["--db", url, "keys"][..], args].concat();
    finrift_env(&all, &[(KEY_VAR, key)])
}

/// A migrated fresh schema: its URL and its name.
async fn migrated() -> (String, String) {
    let (url, schema) = postgres_target().await;
    finrift(&["--db", &url, "migrate"]).ok();
    (url, schema)
}

/// The `(kid, role, algorithm)` of each line of `keys list`, checking each line's shape.
fn listed(run: &Run) -> Vec<(String, String, String)> {
    run.ok()
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 4, "{line}");
            assert!(
                time::OffsetDateTime::parse(
                    fields[3],
                    &time::format_description::well_known::Rfc3339
                )
                .is_ok(),
                "{line}"
            );
            (fields[0].into(), fields[1].into(), fields[2].into())
        })
        .collect()
}

/// Rotates and answers the new kid, printed alone.
fn rotate(url: &str, key: &str) -> String {
    let run = keys(url, key, &["rotate"]);
    assert_eq!(run.ok().lines().count(), 1, "{run:?}");
    run.stdout.trim_end().to_owned()
}

#[tokio::test]
async fn rotate_twice_lists_current_and_previous_and_a_server_vault_signs_with_the_current_key() {
    let (url, schema) = migrated().await;
    let key = new_key();
    let first = rotate(&url, &key);
    assert_eq!(
        listed(&keys(&url, &key, &["list"])),
        [(first.clone(), "current".into(), "ES256".into())]
    );
    let second = rotate(&url, &key);
    assert_ne!(first, second);
    assert_eq!(
        listed(&keys(&url, &key, &["list"])),
        [
            (second.clone(), "current".into(), "ES256".into()),
            (first.clone(), "previous".into(), "ES256".into()),
        ]
    );

    // A server's vault on the same schema, with the same key, signs with the CLI's key
    // and still publishes the previous one.
    let store = PostgresStore::open_with(options_in(&schema)).await.unwrap();
    let vault = KeyVault::new(store, KeyEncryptionKey::from_base64url(&key).unwrap());
    let set = vault.load().await.unwrap().expect("the CLI's key set");
    assert_eq!(set.active().kid(), second);
    let jwks = set.jwks().to_string();
    assert!(jwks.contains(&first) && jwks.contains(&second), "{jwks}");
}

#[tokio::test]
async fn rotate_makes_keys_of_the_algorithm_asked_for() {
    let (url, _schema) = migrated().await;
    let key = new_key();
    let kid = keys(&url, &key, &["rotate", "--algorithm", "EdDSA"]);
    let kid = kid.ok().trim_end();
    assert_eq!(
        listed(&keys(&url, &key, &["list"])),
        [(kid.to_owned(), "current".into(), "EdDSA".into())]
    );
}

#[tokio::test]
async fn retire_drops_a_previous_key_and_refuses_the_current_and_unknown_ones() {
    let (url, _schema) = migrated().await;
    let key = new_key();
    let first = rotate(&url, &key);
    let second = rotate(&url, &key);

    let refused = keys(&url, &key, &["retire", &second]);
    assert!(
        refused.failed().contains("is the current key"),
        "{refused:?}"
    );
    let refused = keys(&url, &key, &["retire", "no-such-kid"]);
    assert!(
        refused.failed().contains("has no key no-such-kid"),
        "{refused:?}"
    );

    assert_eq!(
        keys(&url, &key, &["retire", &first]).ok(),
        format!("key {first} retired\n")
    );
    assert_eq!(
        listed(&keys(&url, &key, &["list"])),
        [(second, "current".into(), "ES256".into())]
    );
    let refused = keys(&url, &key, &["retire", &first]);
    assert!(refused.failed().contains("has no key"), "{refused:?}");
}

#[tokio::test]
async fn a_wrong_missing_or_malformed_encryption_key_is_refused() {
    let (url, _schema) = migrated().await;
    let key = new_key();
    rotate(&url, &key);

    let refused = keys(&url, &new_key(), &["list"]);
    assert!(
        refused
            .failed()
            .contains("sealed under another key-encryption key"),
        "{refused:?}"
    );
    let refused = keys(&url, &new_key(), &["rotate"]);
    assert!(
        refused
            .failed()
            .contains("sealed under another key-encryption key"),
        "{refused:?}"
    );

    let refused = finrift(&["--db", &url, "keys", "list"]);
    assert!(
        refused.failed().contains("no key-encryption key") && refused.stderr.contains(KEY_VAR),
        "{refused:?}"
    );

    let malformed = "not*base64url*text";
    let refused = keys(&url, malformed, &["list"]);
    let line = refused.failed();
    assert!(line.contains("is not base64url"), "{refused:?}");
    assert!(!line.contains(malformed), "{line}");
    // Nothing was changed by the refusals.
    assert_eq!(listed(&keys(&url, &key, &["list"])).len(), 1);
}

#[tokio::test]
async fn the_key_file_is_read_instead_of_the_environment() {
    let (url, _schema) = migrated().await;
    let key = new_key();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kek");
    std::fs::write(&file, format!("{key}\n")).unwrap();
    let file = file.to_str().unwrap();

    let kid = rotate(&url, &key);
    let run = keys(
        &url,
        &new_key(),
        &["list", "--key-encryption-key-file", file],
    );
    assert_eq!(listed(&run), [(kid, "current".into(), "ES256".into())]);

    let missing = dir.path().join("missing");
    let refused = keys(
        &url,
        &key,
        &[
            "list",
            "--key-encryption-key-file",
            missing.to_str().unwrap(),
        ],
    );
    assert!(
        refused
            .failed()
            .contains("cannot read the key-encryption key file"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn list_says_so_when_the_store_holds_no_keys() {
    let (url, _schema) = migrated().await;
    let run = keys(&url, &new_key(), &["list"]);
    assert_eq!(run.ok(), "");
    assert!(run.stderr.contains("no signing keys yet"), "{run:?}");
}

#[test]
fn new_encryption_key_needs_no_store_and_makes_a_usable_key() {
    let run = finrift(&["keys", "new-encryption-key"]);
    let key = run.ok().trim_end();
    assert_eq!(run.stdout.lines().count(), 1);
    assert!(run.stderr.contains(KEY_VAR), "{run:?}");
    assert!(KeyEncryptionKey::from_base64url(key).is_ok());
    assert_ne!(key, new_key());
}

#[tokio::test]
async fn rotate_and_list_on_sqlite_and_a_server_vault_on_the_file_signs_with_the_current_key() {
    let (_dir, db) = migrated_db();
    let url = db.to_str().unwrap();
    let key = new_key();
    let first = rotate(url, &key);
    let second = rotate(url, &key);
    assert_ne!(first, second);
    assert_eq!(
        listed(&keys(url, &key, &["list"])),
        [
            (second.clone(), "current".into(), "ES256".into()),
            (first.clone(), "previous".into(), "ES256".into()),
        ]
    );
    keys(url, &key, &["retire", &first]).ok();

    let vault = KeyVault::new(
        common::open(&db).await,
        KeyEncryptionKey::from_base64url(&key).unwrap(),
    );
    let set = vault.load().await.unwrap().expect("the CLI's key set");
    assert_eq!(set.active().kid(), second);
    assert!(!set.jwks().to_string().contains(&first));
}
