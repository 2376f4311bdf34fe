//! Every command on PostgreSQL, end to end through the built binary: each test gets a
//! fresh schema on the test server, reached through a URL as an admin would give it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{finrift_at, postgres_target, Run};
use oauth_core::{ClientId, ClientStore};
use oauth_store_postgres::test_server::{admin_connection, options_in, server_url};
use oauth_store_postgres::{PostgresStore, SCHEMA_VERSION};

/// A URL with a password, to a port where nothing listens.
const NO_SERVER: &str = "postgres://admin:hunter2@127.0.0.1:1/finrift";

/// A migrated fresh schema: its URL and its name.
async fn migrated() -> (String, String) {
    let (url, schema) = postgres_target().await;
    let run = finrift_at(&url, &["migrate"]);
    assert_eq!(
        run.ok(),
        format!("created the store at schema version {SCHEMA_VERSION}\n")
    );
    (url, schema)
}

fn add_billing(url: &str) -> Run {
    finrift_at(
        url,
        &[
            "clients",
            "add",
            "billing",
            "--grant",
            "client_credentials",
            "--scope",
            "read:payments",
        ],
    )
}

/// The test server's URL with its database name replaced by `database`.
fn url_of_database(database: &str) -> String {
    let url = server_url();
    let authority_start = url.find("://").unwrap() + 3;
    let path_start = authority_start + url[authority_start..].find('/').unwrap();
    let path_end = url[path_start..]
        .find('?')
        .map_or(url.len(), |i| path_start + i);
    format!("{}/{database}{}", &url[..path_start], &url[path_end..])
}

#[tokio::test]
async fn clients_are_added_listed_shown_and_removed_on_postgres() {
    let (url, schema) = migrated().await;
    let run = add_billing(&url);
    let secret = run.ok().trim_end().to_owned();
    assert_eq!(secret.len(), 43, "{run:?}");

    let listed = finrift_at(&url, &["clients", "list"]);
    assert_eq!(
        listed.ok(),
        "billing\tconfidential\tclient_credentials\tread:payments\n"
    );
    let shown = finrift_at(&url, &["clients", "show", "billing"]);
    assert!(shown.ok().contains("secret: set (hashed)\n"), "{shown:?}");
    assert!(!shown.stdout.contains(&secret));

    // Every column of every row, as text: the secret is not among them.
    let admin = admin_connection().await;
    let rows = admin
        .query(
            &format!("SELECT c::text FROM {schema}.finrift_clients c"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let stored: String = rows[0].get(0);
    assert!(stored.contains("billing"), "{stored}");
    assert!(!stored.contains(&secret), "the secret is stored in clear");

    // A server on the same schema authenticates the printed secret.
    let store = PostgresStore::open_with(options_in(&schema)).await.unwrap();
    let client = store
        .get_client(&ClientId::new("billing").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(client.verify_secret(&secret));

    assert_eq!(
        finrift_at(&url, &["clients", "remove", "billing"]).ok(),
        "client `billing` removed\n"
    );
    assert_eq!(finrift_at(&url, &["clients", "list"]).ok(), "");
    let refused = finrift_at(&url, &["clients", "show", "billing"]);
    assert!(
        refused.failed().contains("no client `billing`"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_duplicate_client_is_refused_on_postgres() {
    let (url, _schema) = migrated().await;
    add_billing(&url).ok();
    let refused = add_billing(&url);
    assert!(
        refused.failed().contains("already registered"),
        "{refused:?}"
    );
    assert_eq!(refused.stdout, "", "no new secret");
}

#[tokio::test]
async fn schema_and_migrate_on_postgres() {
    let (url, schema) = postgres_target().await;
    assert_eq!(
        finrift_at(&url, &["schema"]).ok(),
        "schema version 0 (no finrift schema yet: `finrift migrate` creates it)\n"
    );
    let refused = finrift_at(&url, &["clients", "list"]);
    assert!(
        refused.failed().contains("run `finrift migrate`"),
        "{refused:?}"
    );

    assert_eq!(
        finrift_at(&url, &["migrate"]).ok(),
        format!("created the store at schema version {SCHEMA_VERSION}\n")
    );
    assert_eq!(
        finrift_at(&url, &["migrate"]).ok(),
        format!("schema version {SCHEMA_VERSION}: already current\n")
    );
    assert_eq!(
        finrift_at(&url, &["schema"]).ok(),
        format!("schema version {SCHEMA_VERSION} (current)\n")
    );
    assert_eq!(finrift_at(&url, &["purge"]).code, Some(0));

    // As a newer finrift would leave it.
    let newer = SCHEMA_VERSION + 1;
    admin_connection()
        .await
        .execute(
            &format!("UPDATE {schema}.finrift_schema SET version = $1"),
            &[&newer],
        )
        .await
        .unwrap();
    let state = finrift_at(&url, &["schema"]);
    assert!(state.ok().contains("newer than this build's"), "{state:?}");
    for command in [&["clients", "list"][..], &["migrate"], &["purge"]] {
        let refused = finrift_at(&url, command);
        assert!(
            refused.failed().contains("newer than this build's")
                && refused.stderr.contains("left untouched"),
            "{command:?}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn a_database_that_does_not_exist_is_refused() {
    let url = url_of_database("finrift_no_such_database");
    for command in [&["schema"][..], &["migrate"], &["clients", "list"]] {
        let refused = finrift_at(&url, command);
        let line = refused.failed();
        assert!(
            line.contains("the database does not exist"),
            "{command:?}: {refused:?}"
        );
        assert!(!line.contains("finrift_no_such_database"), "{line}");
    }
}

#[test]
fn a_server_that_is_not_there_is_refused_on_one_line() {
    for command in [&["schema"][..], &["migrate"], &["clients", "list"]] {
        let refused = finrift_at(NO_SERVER, command);
        let line = refused.failed();
        assert!(
            line.contains("cannot reach the PostgreSQL server"),
            "{command:?}: {refused:?}"
        );
        for part in ["hunter2", "admin", "127.0.0.1"] {
            assert!(!line.contains(part), "{line}");
        }
    }
}

#[test]
fn a_url_that_does_not_parse_is_refused_without_repeating_it() {
    let refused = finrift_at(
        "postgres://admin:hunter2@127.0.0.1:notaport/finrift",
        &["schema"],
    );
    let line = refused.failed();
    assert!(line.contains("does not parse"), "{refused:?}");
    assert!(!line.contains("hunter2"), "{line}");
}
