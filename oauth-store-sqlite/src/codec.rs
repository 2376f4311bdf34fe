//! Between records and rows: column lists, decoding, and SQLite errors as storage errors.

use oauth_core::storage::{CodeRecord, GrantId, GrantRecord, SignIn, TokenKind, TokenRecord};
use oauth_core::{ClientId, CodeChallenge, ScopeSet, SecretHash, StorageError, StorageErrorKind};
use rusqlite::ffi::{ErrorCode, SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE};
use rusqlite::Row;
use time::OffsetDateTime;

/// Maps a SQLite error to a storage error that says what was being done. SQLite's own
/// messages name tables and columns, never bound values, so no secret reaches a log.
pub(crate) fn sql_error(what: &'static str) -> impl Fn(rusqlite::Error) -> StorageError {
    move |error| {
        StorageError::with_source(
            error_kind(&error),
            format!("SQLite could not {what}"),
            error,
        )
    }
}

/// What kind of storage error a SQLite error is.
pub(crate) fn error_kind(error: &rusqlite::Error) -> StorageErrorKind {
    match error {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            // Another connection held the lock past the busy timeout.
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StorageErrorKind::Busy,
            ErrorCode::ConstraintViolation
                if failure.extended_code == SQLITE_CONSTRAINT_PRIMARYKEY
                    || failure.extended_code == SQLITE_CONSTRAINT_UNIQUE =>
            {
                StorageErrorKind::Conflict
            }
            _ => StorageErrorKind::Backend,
        },
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::Utf8Error(..) => StorageErrorKind::Corrupt,
        _ => StorageErrorKind::Backend,
    }
}

fn corrupt(what: &str) -> StorageError {
    StorageError::new(
        StorageErrorKind::Corrupt,
        format!("a stored {what} is invalid"),
    )
}

/// Unix seconds: the stored form of every instant (the contract keeps them to the second).
pub(crate) fn seconds(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

fn instant(seconds: i64) -> Result<OffsetDateTime, StorageError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| corrupt("instant"))
}

fn hash(bytes: Vec<u8>) -> Result<SecretHash, StorageError> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(SecretHash)
        .map_err(|_| corrupt("hash"))
}

fn scope(text: String) -> Result<ScopeSet, StorageError> {
    ScopeSet::try_from(text).map_err(|_| corrupt("scope"))
}

fn client_id(text: String) -> Result<ClientId, StorageError> {
    ClientId::new(text).map_err(|_| corrupt("client id"))
}

/// The stored name of a token kind.
pub(crate) fn kind_name(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Access => "access",
        TokenKind::Refresh => "refresh",
        TokenKind::JwtAccess => "jwt_access",
    }
}

fn kind(name: &str) -> Result<TokenKind, StorageError> {
    match name {
        "access" => Ok(TokenKind::Access),
        "refresh" => Ok(TokenKind::Refresh),
        "jwt_access" => Ok(TokenKind::JwtAccess),
        _ => Err(corrupt("token kind")),
    }
}

/// The stored form of a record's sign-in: its JSON, or NULL for none.
pub(crate) fn sign_in_json(sign_in: Option<&SignIn>) -> Result<Option<String>, StorageError> {
    sign_in
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StorageError::with_source(StorageErrorKind::Backend, "encode a sign-in", e))
}

/// A record's sign-in from its stored form.
fn sign_in(json: Option<String>) -> Result<Option<SignIn>, StorageError> {
    json.map(|json| serde_json::from_str(&json))
        .transpose()
        .map_err(|e| {
            StorageError::with_source(StorageErrorKind::Corrupt, "a stored sign-in is invalid", e)
        })
}

/// The columns [`code_from_row`] reads, in its order.
pub(crate) const CODE_COLUMNS: &str = "hash, grant_id, client_id, subject, redirect_uri, \
     scope, code_challenge, issued_at, expires_at, grant_expires_at, sign_in, dpop_jkt";

/// How many columns [`CODE_COLUMNS`] names: the index of a column selected after them,
/// counted from the list itself so the two cannot drift apart.
pub(crate) const CODE_COLUMN_COUNT: usize = {
    let list = CODE_COLUMNS.as_bytes();
    let (mut commas, mut at) = (0, 0);
    while at < list.len() {
        if list[at] == b',' {
            commas += 1;
        }
        at += 1;
    }
    commas + 1
};

/// A code record from a row of [`CODE_COLUMNS`].
pub(crate) fn code_from_row(row: &Row<'_>) -> Result<CodeRecord, StorageError> {
    let read = sql_error("read a stored code");
    let challenge: Option<String> = row.get(6).map_err(&read)?;
    let subject: String = row.get(3).map_err(&read)?;
    let grant = GrantRecord::new(
        GrantId(row.get(1).map_err(&read)?),
        client_id(row.get(2).map_err(&read)?)?,
        None,
        scope(row.get(5).map_err(&read)?)?,
        instant(row.get(7).map_err(&read)?)?,
        instant(row.get(9).map_err(&read)?)?,
    );
    let mut code = CodeRecord::new(
        hash(row.get(0).map_err(&read)?)?,
        grant,
        subject,
        instant(row.get(8).map_err(&read)?)?,
    );
    code.redirect_uri = row.get(4).map_err(&read)?;
    code.code_challenge = challenge
        .map(|c| CodeChallenge::try_from(c).map_err(|_| corrupt("code challenge")))
        .transpose()?;
    code.sign_in = sign_in(row.get(10).map_err(&read)?)?;
    code.dpop_jkt = row.get(11).map_err(&read)?;
    Ok(code)
}

/// The columns [`token_from_row`] reads, in its order.
pub(crate) const TOKEN_COLUMNS: &str = "hash, kind, grant_id, client_id, subject, scope, \
     issued_at, expires_at, grant_expires_at, revoked, rotated, sign_in, dpop_jkt";

/// A token record from a row of [`TOKEN_COLUMNS`].
pub(crate) fn token_from_row(row: &Row<'_>) -> Result<TokenRecord, StorageError> {
    let read = sql_error("read a stored token");
    let kind_text: String = row.get(1).map_err(&read)?;
    let scope = scope(row.get(5).map_err(&read)?)?;
    let issued_at = instant(row.get(6).map_err(&read)?)?;
    // The grant as far as a token row knows it: its start is not part of a token, and
    // `TokenRecord::new` reads only the grant's id, client, subject and end.
    let grant = GrantRecord::new(
        GrantId(row.get(2).map_err(&read)?),
        client_id(row.get(3).map_err(&read)?)?,
        row.get(4).map_err(&read)?,
        scope.clone(),
        issued_at,
        instant(row.get(8).map_err(&read)?)?,
    );
    let mut token = TokenRecord::new(
        hash(row.get(0).map_err(&read)?)?,
        kind(&kind_text)?,
        grant,
        scope,
        issued_at,
        instant(row.get(7).map_err(&read)?)?,
    );
    token.revoked = row.get(9).map_err(&read)?;
    token.rotated = row.get(10).map_err(&read)?;
    token.sign_in = sign_in(row.get(11).map_err(&read)?)?;
    token.dpop_jkt = row.get(12).map_err(&read)?;
    Ok(token)
}
