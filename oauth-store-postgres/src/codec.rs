//! Between records and rows: column lists and decoding.

use oauth_core::storage::{CodeRecord, GrantId, GrantRecord, SignIn, TokenKind, TokenRecord};
use oauth_core::{Client, ClientId, CodeChallenge, ScopeSet, SecretHash, StorageError};
use time::OffsetDateTime;
use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

use crate::error::{corrupt, undecodable};

/// Unix seconds: the stored form of every instant (the contract keeps them to the second).
pub(crate) fn seconds(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

fn instant(seconds: i64) -> Result<OffsetDateTime, StorageError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| corrupt("instant"))
}

fn hash(bytes: &[u8]) -> Result<SecretHash, StorageError> {
    <[u8; 32]>::try_from(bytes)
        .map(SecretHash)
        .map_err(|_| corrupt("hash"))
}

fn scope(text: String) -> Result<ScopeSet, StorageError> {
    ScopeSet::try_from(text).map_err(|_| corrupt("scope"))
}

fn client_id(text: String) -> Result<ClientId, StorageError> {
    ClientId::new(text).map_err(|_| corrupt("client id"))
}

/// Column `index` of `row`, or a storage error saying which record did not decode.
pub(crate) fn get<'a, T: FromSql<'a>>(
    row: &'a Row,
    index: usize,
    what: &'static str,
) -> Result<T, StorageError> {
    row.try_get(index).map_err(undecodable(what))
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

/// A client registration as stored: its JSON.
pub(crate) fn client_json(client: &Client) -> Result<String, StorageError> {
    serde_json::to_string(client).map_err(|e| {
        StorageError::with_source(oauth_core::StorageErrorKind::Backend, "encode a client", e)
    })
}

/// A client registration from a row whose first column is its stored JSON.
pub(crate) fn client_from_row(row: &Row) -> Result<Client, StorageError> {
    let json: &str = get(row, 0, "read a stored client")?;
    serde_json::from_str(json).map_err(|e| {
        StorageError::with_source(
            oauth_core::StorageErrorKind::Corrupt,
            "a stored client is invalid",
            e,
        )
    })
}

/// The stored form of a record's sign-in: its JSON, or NULL for none.
pub(crate) fn sign_in_json(sign_in: Option<&SignIn>) -> Result<Option<String>, StorageError> {
    sign_in.map(serde_json::to_string).transpose().map_err(|e| {
        StorageError::with_source(oauth_core::StorageErrorKind::Backend, "encode a sign-in", e)
    })
}

/// A record's sign-in from its stored form.
fn sign_in(json: Option<&str>) -> Result<Option<SignIn>, StorageError> {
    json.map(serde_json::from_str).transpose().map_err(|e| {
        StorageError::with_source(
            oauth_core::StorageErrorKind::Corrupt,
            "a stored sign-in is invalid",
            e,
        )
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
pub(crate) fn code_from_row(row: &Row) -> Result<CodeRecord, StorageError> {
    const WHAT: &str = "read a stored code";
    let challenge: Option<String> = get(row, 6, WHAT)?;
    let subject: String = get(row, 3, WHAT)?;
    let grant = GrantRecord::new(
        GrantId(get(row, 1, WHAT)?),
        client_id(get(row, 2, WHAT)?)?,
        None,
        scope(get(row, 5, WHAT)?)?,
        instant(get(row, 7, WHAT)?)?,
        instant(get(row, 9, WHAT)?)?,
    );
    let mut code = CodeRecord::new(
        hash(get(row, 0, WHAT)?)?,
        grant,
        subject,
        instant(get(row, 8, WHAT)?)?,
    );
    code.redirect_uri = get(row, 4, WHAT)?;
    code.code_challenge = challenge
        .map(|c| CodeChallenge::try_from(c).map_err(|_| corrupt("code challenge")))
        .transpose()?;
    code.sign_in = sign_in(get(row, 10, WHAT)?)?;
    code.dpop_jkt = get(row, 11, WHAT)?;
    Ok(code)
}

/// The columns [`token_from_row`] reads, in its order.
pub(crate) const TOKEN_COLUMNS: &str = "hash, kind, grant_id, client_id, subject, scope, \
     issued_at, expires_at, grant_expires_at, revoked, rotated, sign_in, dpop_jkt";

/// A token record from a row of [`TOKEN_COLUMNS`].
pub(crate) fn token_from_row(row: &Row) -> Result<TokenRecord, StorageError> {
    const WHAT: &str = "read a stored token";
    let kind_text: &str = get(row, 1, WHAT)?;
    let scope = scope(get(row, 5, WHAT)?)?;
    let issued_at = instant(get(row, 6, WHAT)?)?;
    // The grant as far as a token row knows it: its start is not part of a token, and
    // `TokenRecord::new` reads only the grant's id, client, subject and end.
    let grant = GrantRecord::new(
        GrantId(get(row, 2, WHAT)?),
        client_id(get(row, 3, WHAT)?)?,
        get(row, 4, WHAT)?,
        scope.clone(),
        issued_at,
        instant(get(row, 8, WHAT)?)?,
    );
    let mut token = TokenRecord::new(
        hash(get(row, 0, WHAT)?)?,
        kind(kind_text)?,
        grant,
        scope,
        issued_at,
        instant(get(row, 7, WHAT)?)?,
    );
    token.revoked = get(row, 9, WHAT)?;
    token.rotated = get(row, 10, WHAT)?;
    token.sign_in = sign_in(get(row, 11, WHAT)?)?;
    token.dpop_jkt = get(row, 12, WHAT)?;
    Ok(token)
}
