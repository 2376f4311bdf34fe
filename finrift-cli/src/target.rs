//! Which store a command works on: the text of `--db` (or `FINRIFT_DB`) read as a target.
//!
//! A text with a `scheme://` prefix is a URL and its scheme picks the backend; any other
//! text is a SQLite file path, optionally prefixed with `sqlite:`. A PostgreSQL URL may
//! hold a password, so neither it nor any other URL is ever repeated in an error or a
//! debug print: errors name only the scheme.

use std::ffi::OsStr;
use std::fmt;
use std::path::PathBuf;

/// A store the command can open.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`), kept whole for the
    /// backend to parse.
    Postgres(String),
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            // The URL may carry a password.
            Self::Postgres(_) => f.write_str("Postgres(<url>)"),
        }
    }
}

/// Why a text names no store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Nothing was given.
    #[error(
        "the database target is empty: give a SQLite file path (or sqlite:PATH) or a \
         postgres:// URL"
    )]
    Empty,
    /// `sqlite:` with no path after it.
    #[error("the sqlite: target names no file: give a path after it, as in sqlite:finrift.db")]
    EmptySqlitePath,
    /// A URL whose scheme names no backend. Only the scheme is kept: the rest of the URL
    /// may hold credentials.
    #[error(
        "unknown database scheme `{0}://`: give a SQLite file path (or sqlite:PATH) or a \
         postgres:// or postgresql:// URL"
    )]
    UnknownScheme(String),
    /// SQLite's in-memory database, which would vanish when the command ends.
    #[error(
        "`:memory:` is an in-memory database that is gone when the command ends: give a \
         database file"
    )]
    InMemory,
}

impl Target {
    /// Reads a target from the text of `--db` or `FINRIFT_DB`. A text that is not UTF-8
    /// cannot be a URL, so it is a file path.
    pub fn parse(text: &OsStr) -> Result<Self, TargetError> {
        match text.to_str() {
            Some(text) => Self::parse_str(text),
            None if text.is_empty() => Err(TargetError::Empty),
            None => Ok(Self::Sqlite(PathBuf::from(text))),
        }
    }

    fn parse_str(text: &str) -> Result<Self, TargetError> {
        if text.trim().is_empty() {
            return Err(TargetError::Empty);
        }
        let path = match url_scheme(text) {
            Some(scheme) if scheme.eq_ignore_ascii_case("postgres") => {
                return Ok(Self::Postgres(text.to_owned()))
            }
            Some(scheme) if scheme.eq_ignore_ascii_case("postgresql") => {
                return Ok(Self::Postgres(text.to_owned()))
            }
            // `sqlite://rel.db` and `sqlite:///abs/path.db`, as other tools write them.
            Some(scheme) if scheme.eq_ignore_ascii_case("sqlite") => &text["sqlite://".len()..],
            Some(scheme) => return Err(TargetError::UnknownScheme(scheme.to_owned())),
            None => match text.get(..7) {
                Some(prefix) if prefix.eq_ignore_ascii_case("sqlite:") => &text[7..],
                _ => text,
            },
        };
        if path.is_empty() {
            return Err(TargetError::EmptySqlitePath);
        }
        // SQLite itself reads these names as a fresh in-memory database.
        if path == ":memory:" || path.starts_with("file::memory:") {
            return Err(TargetError::InMemory);
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }
}

/// The scheme of `text` if it starts like a URL, `scheme://` (RFC 3986 §3.1: a letter,
/// then letters, digits, `+`, `-` and `.`). A path such as `./data://x` has none.
fn url_scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_is_scheme = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (starts_with_letter && rest_is_scheme).then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Target, TargetError> {
        Target::parse(OsStr::new(text))
    }

    fn sqlite(path: &str) -> Result<Target, TargetError> {
        Ok(Target::Sqlite(PathBuf::from(path)))
    }

    #[test]
    fn paths_and_sqlite_prefixes_are_sqlite_files() {
        assert_eq!(parse("finrift.db"), sqlite("finrift.db"));
        assert_eq!(
            parse("/var/lib/finrift/a.db"),
            sqlite("/var/lib/finrift/a.db")
        );
        assert_eq!(parse("sqlite:finrift.db"), sqlite("finrift.db"));
        assert_eq!(parse("SQLite:/abs/a.db"), sqlite("/abs/a.db"));
        assert_eq!(parse("sqlite://rel.db"), sqlite("rel.db"));
        assert_eq!(parse("sqlite:///abs/a.db"), sqlite("/abs/a.db"));
        assert_eq!(parse("./data://x"), sqlite("./data://x"));
        assert_eq!(parse("C:\\finrift\\a.db"), sqlite("C:\\finrift\\a.db"));
    }

    #[test]
    fn postgres_urls_are_postgres_and_never_printed() {
        let url = "postgres://admin:hunter2@db.example/finrift";
        assert_eq!(parse(url), Ok(Target::Postgres(url.to_owned())));
        let url = "PostgreSQL://admin:hunter2@db.example/finrift";
        let target = parse(url).unwrap();
        assert_eq!(target, Target::Postgres(url.to_owned()));
        assert!(!format!("{target:?}").contains("hunter2"));
    }

    #[test]
    fn empty_unknown_and_in_memory_targets_are_refused() {
        assert_eq!(parse(""), Err(TargetError::Empty));
        assert_eq!(parse("  "), Err(TargetError::Empty));
        assert_eq!(parse("sqlite:"), Err(TargetError::EmptySqlitePath));
        assert_eq!(parse("sqlite://"), Err(TargetError::EmptySqlitePath));
        assert_eq!(parse(":memory:"), Err(TargetError::InMemory));
        assert_eq!(parse("sqlite::memory:"), Err(TargetError::InMemory));
        let refused = parse("mysql://root:hunter2@db.example/finrift").unwrap_err();
        assert_eq!(refused, TargetError::UnknownScheme("mysql".to_owned()));
        assert!(!refused.to_string().contains("hunter2"));
    }
}
