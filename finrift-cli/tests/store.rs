//! Which store a command opens, and what it refuses: missing files, directories,
//! strangers' files, schemas of other versions, unknown URL schemes; `schema` and
//! `migrate`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{finrift, finrift_on, finrift_with, migrated_db};
use oauth_store_sqlite::SCHEMA_VERSION;

/// Every command that needs an existing store.
const USING_A_STORE: &[&[&str]] = &[
    &["clients", "list"],
    &["clients", "show", "x"],
    &["clients", "remove", "x"],
    &["clients", "add", "x", "--grant", "client_credentials"],
    &["purge"],
    &["schema"],
];

#[test]
fn a_missing_database_is_refused_and_not_created_except_by_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("typo.db");
    for args in USING_A_STORE {
        let run = finrift_on(&db, args);
        assert!(run.failed().contains("does not exist"), "{args:?}: {run:?}");
        assert!(run.failed().contains("typo.db"), "{run:?}");
        assert_eq!(run.stdout, "");
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "{args:?} created a file"
        );
    }

    let created = finrift_on(&db, &["migrate"]);
    assert_eq!(
        created.ok(),
        format!("created the store at schema version {SCHEMA_VERSION}\n")
    );
    let again = finrift_on(&db, &["migrate"]);
    assert_eq!(
        again.ok(),
        format!("schema version {SCHEMA_VERSION}: already current\n")
    );
    let schema = finrift_on(&db, &["schema"]);
    assert_eq!(
        schema.ok(),
        format!("schema version {SCHEMA_VERSION} (current)\n")
    );

    let nowhere = finrift_on(&dir.path().join("no/such/dir/x.db"), &["migrate"]);
    assert!(nowhere.failed().contains("its directory does not exist"));
}

#[test]
fn targets_without_a_store_are_refused_and_urls_never_printed() {
    let none = finrift(&["clients", "list"]);
    assert!(none.failed().contains("--db"), "{none:?}");
    assert!(none.failed().contains("FINRIFT_DB"));

    let cases = [
        (
            "mysql://root:hunter2@db.example/finrift",
            "unknown database scheme `mysql://`",
        ),
        // Nothing listens on port 1.
        (
            "postgres://admin:hunter2@127.0.0.1:1/finrift",
            "cannot reach the PostgreSQL server",
        ),
        (
            "postgresql://admin:hunter2@127.0.0.1:1/finrift",
            "cannot reach the PostgreSQL server",
        ),
        ("", "empty"),
        ("sqlite:", "names no file"),
        (":memory:", "in-memory"),
    ];
    for (target, reason) in cases {
        for args in [&["clients", "list"][..], &["migrate"], &["schema"]] {
            let by_flag = finrift(&[&["--db", target][..], args].concat());
            assert!(by_flag.failed().contains(reason), "{target}: {by_flag:?}");
            assert!(!by_flag.stderr.contains("hunter2"));
            let by_env = finrift_with(args, Some(target));
            assert!(by_env.failed().contains(reason), "{target}: {by_env:?}");
            assert!(!by_env.stderr.contains("hunter2"));
        }
    }
}

#[test]
fn directories_and_files_that_are_not_databases_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database, but long enough to have a header\n").unwrap();
    for args in USING_A_STORE.iter().chain([&&["migrate"][..]]) {
        let in_dir = finrift_on(dir.path(), args);
        assert!(
            in_dir.failed().contains("is a directory"),
            "{args:?}: {in_dir:?}"
        );
        let in_text = finrift_on(&text, args);
        assert!(
            in_text.failed().contains("not an SQLite database file"),
            "{args:?}: {in_text:?}"
        );
    }
    assert_eq!(
        std::fs::read(&text).unwrap(),
        b"not a database, but long enough to have a header\n"
    );
}

#[test]
fn a_newer_schema_is_refused_by_every_command_and_left_untouched() {
    let (_dir, db) = migrated_db();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    let before = std::fs::read(&db).unwrap();

    let schema = finrift_on(&db, &["schema"]);
    assert_eq!(
        schema.ok(),
        format!("schema version 99 (newer than this build's {SCHEMA_VERSION}: written by a newer finrift)\n")
    );
    for args in USING_A_STORE
        .iter()
        .filter(|a| a[0] != "schema")
        .chain([&&["migrate"][..]])
    {
        let run = finrift_on(&db, args);
        assert!(
            run.failed().contains("schema version 99, newer"),
            "{args:?}: {run:?}"
        );
    }
    assert!(
        std::fs::read(&db).unwrap() == before,
        "the file was changed"
    );
}

#[test]
fn a_database_without_the_schema_is_used_only_after_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    std::fs::write(&db, b"").unwrap();

    let schema = finrift_on(&db, &["schema"]);
    assert!(schema
        .ok()
        .starts_with("schema version 0 (no finrift schema yet"));
    for args in USING_A_STORE.iter().filter(|a| a[0] != "schema") {
        let run = finrift_on(&db, args);
        assert!(
            run.failed().contains("run `finrift migrate`"),
            "{args:?}: {run:?}"
        );
    }
    assert_eq!(std::fs::read(&db).unwrap(), b"", "refusals change nothing");

    let migrated = finrift_on(&db, &["migrate"]);
    assert_eq!(
        migrated.ok(),
        format!("migrated from schema version 0 to {SCHEMA_VERSION}\n")
    );
    finrift_on(&db, &["clients", "list"]).ok();
}
