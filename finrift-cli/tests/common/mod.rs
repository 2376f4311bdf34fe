//! Running the built `finrift` binary, and the stores the tests prepare for it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use oauth_store_sqlite::SqliteStore;

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts that the command succeeded, and answers its standard output.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "the command failed: {self:?}");
        &self.stdout
    }

    /// Asserts that the command failed with one line on standard error (exit code 1, no
    /// panic), and answers that line.
    #[track_caller]
    pub fn failed(&self) -> &str {
        assert_eq!(
            self.code,
            Some(1),
            "the command did not fail cleanly: {self:?}"
        );
        assert!(!self.stderr.contains("panicked"), "{self:?}");
        assert_eq!(self.stderr.lines().count(), 1, "one line: {self:?}");
        self.stderr.trim_end()
    }
}

/// Runs `finrift` with `args`, FINRIFT_DB unset.
pub fn finrift(args: &[&str]) -> Run {
    finrift_with(args, None)
}

/// Runs `finrift --db <db> args...`.
pub fn finrift_on(db: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--db", db.to_str().unwrap()];
    all.extend_from_slice(args);
    finrift(&all)
}

/// Runs `finrift` with `args`, and FINRIFT_DB set to `env_db` when it is given.
pub fn finrift_with(args: &[&str], env_db: Option<&str>) -> Run {
    match env_db {
        Some(db) => finrift_env(args, &[("FINRIFT_DB", db)]),
        None => finrift_env(args, &[]),
    }
}

/// Runs `finrift` with `args` and only the finrift variables of `env` set.
pub fn finrift_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_finrift"));
    command
        .args(args)
        .env_remove("FINRIFT_DB")
        .env_remove("FINRIFT_KEY_ENCRYPTION_KEY");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run finrift");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// A temporary directory with a database file created by `finrift migrate`.
pub fn migrated_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("finrift.db");
    finrift_on(&db, &["migrate"]).ok();
    (dir, db)
}

/// Opens the test's own store on `db`, as a server would.
pub async fn open(db: &Path) -> SqliteStore {
    SqliteStore::open(db).await.unwrap()
}

/// The bytes of the database file and of its write-ahead log and index, if present.
pub fn database_bytes(db: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        if let Ok(more) = std::fs::read(&path) {
            bytes.extend(more);
        }
    }
    bytes
}

/// A URL the binary can take for a new, empty schema on the test PostgreSQL server, and
/// the schema's name (for the test's own queries).
pub async fn postgres_target() -> (String, String) {
    let schema = oauth_store_postgres::test_server::fresh_schema().await;
    (oauth_store_postgres::test_server::url_in(&schema), schema)
}

/// Runs `finrift --db <url> args...`.
pub fn finrift_at(url: &str, args: &[&str]) -> Run {
    let mut all = vec!["--db", url];
    all.extend_from_slice(args);
    finrift(&all)
}
