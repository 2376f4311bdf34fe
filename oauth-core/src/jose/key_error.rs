//! Why a key, a key set or a key file was refused.

use super::algorithm::Algorithm;

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key bytes are not a valid key for the algorithm.
    #[error("the key is not a valid {0} key")]
    Invalid(Algorithm),
    /// An RSA key under 2048 bits, or an HMAC secret under 32 bytes.
    #[error("the key is too short for {0}")]
    TooShort(Algorithm),
    /// This algorithm's keys cannot be generated here (RSA: load one from PKCS#8).
    #[error("{0} keys cannot be generated; load one from PKCS#8")]
    CannotGenerate(Algorithm),
    /// The `kid` is empty, too long, or not printable ASCII.
    #[error("the key id must be 1 to 128 printable ASCII characters")]
    InvalidKid,
    /// A JWK could not be read.
    #[error("the JWK is malformed: {0}")]
    MalformedJwk(&'static str),
    /// The system random generator failed.
    #[error("the random generator failed")]
    Random,
    /// PEM text that is not exactly one well-formed block (the reason is a fixed phrase;
    /// no part of the text is repeated, so no key material reaches a log).
    #[error("the PEM text is malformed: {0}")]
    MalformedPem(&'static str),
    /// A PEM block of another kind than an unencrypted PKCS#8 key.
    #[error(
        "the PEM block is labelled `{0}`; an unencrypted PKCS#8 key (`-----BEGIN PRIVATE \
         KEY-----`) is needed, such as `openssl pkcs8 -topk8 -nocrypt` writes"
    )]
    UnsupportedPem(String),
    /// A file or directory could not be read or written. The `io::Error` itself is not
    /// kept, so that this type stays `Clone` and `PartialEq`; its kind is.
    #[error("could not {action} {path}: {kind}")]
    Io {
        /// What was being done, such as `read` or `create`.
        action: &'static str,
        /// The path, as text.
        path: String,
        /// The kind of the I/O error.
        kind: std::io::ErrorKind,
    },
    /// A key directory's manifest, or the contents of a stored key set, could not be
    /// read as one.
    #[error("the key manifest {path} is malformed: {reason}")]
    MalformedManifest {
        /// The manifest's path, or `the stored key set`.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A key directory's manifest from a newer finrift; it is left as it is.
    #[error(
        "the key manifest {path} has version {version}, and this finrift reads version 1 \
         only; it was left unchanged"
    )]
    ManifestVersion {
        /// The manifest's path.
        path: String,
        /// The version it declares.
        version: u64,
    },
    /// A key directory's manifest names a key file that is not there.
    #[error("the key manifest names key {kid} in {path}, which does not exist")]
    MissingKeyFile {
        /// The missing file's path.
        path: String,
        /// The key id the manifest gives it.
        kid: String,
    },
    /// A key file holds another key than the manifest says (its `kid` is derived from
    /// its contents, see [`super::kid_for_pkcs8`]).
    #[error("the key file {path} does not hold key {kid}")]
    KeyFileMismatch {
        /// The key file's path.
        path: String,
        /// The key id the manifest gives it.
        kid: String,
    },
    /// A key file that cannot be used: not PKCS#8, or not a key for its algorithm.
    #[error("the key file {path} is unusable: {reason}")]
    KeyFile {
        /// The key file's path.
        path: String,
        /// Why it was refused.
        reason: Box<KeyError>,
    },
    /// A key directory keeps asymmetric keys only; an HMAC secret is not a signing key
    /// one may publish, and is refused.
    #[error("{0} keys cannot be kept in a key directory, which holds asymmetric keys only")]
    NotStorable(Algorithm),
    /// A key was to be imported into a key directory that already holds keys.
    #[error("the key directory {path} already holds keys; import only into an empty one")]
    DirectoryInUse {
        /// The directory's path.
        path: String,
    },
    /// A rotation schedule that cannot work.
    #[error("the rotation schedule is invalid: {0}")]
    InvalidSchedule(&'static str),
    /// A key-encryption key that cannot be used: not 32 bytes, not base64url, or one
    /// that is no random key (the reason is a fixed phrase; none of the text is repeated).
    #[error("the key-encryption key is unusable: {0}")]
    InvalidEncryptionKey(&'static str),
    /// The stored key set was sealed under another key-encryption key than the one
    /// given: the instances of a deployment must all be given the same one.
    #[error(
        "the stored key set was sealed under another key-encryption key; every instance \
         must be configured with the same one"
    )]
    WrongEncryptionKey,
    /// The stored key set cannot be opened: truncated, too large, of an unknown format,
    /// or altered (its authentication tag does not match). The reason is a fixed phrase.
    #[error("the stored key set cannot be opened: {0}")]
    UnreadableKeySet(&'static str),
    /// The store of the key set failed (see
    /// [`KeySetStore`](crate::storage::KeySetStore)); the storage error's kind and
    /// message are kept, its source is not, so that this type stays `Clone`.
    #[error("the key set store failed ({kind:?}): {message}")]
    Store {
        /// The kind of storage failure; [`StorageErrorKind::Busy`] may succeed if retried.
        ///
        /// [`StorageErrorKind::Busy`]: crate::StorageErrorKind::Busy
        kind: crate::StorageErrorKind,
        /// The storage error as text (storage errors hold no secret).
        message: String,
    },
    /// Keys were to be imported into a store that already holds a key set.
    #[error("the store already holds a key set; import only into an empty one")]
    StoreInUse,
    /// No key of the set has this id.
    #[error("the key set has no key {kid}")]
    UnknownKey {
        /// The key id asked for.
        kid: String,
    },
    /// Only a previous key can be retired: the current key signs, and the next one is
    /// about to.
    #[error("key {kid} is the {role} key; only a previous key can be retired")]
    NotRetirable {
        /// The key id asked for.
        kid: String,
        /// Its role.
        role: super::KeyRole,
    },
    /// The stored key set changed under every attempt of this update (other instances
    /// changed it meanwhile); this call wrote nothing. Load the set and try again.
    #[error("the stored key set kept changing during the update; nothing was written")]
    Contended,
}

impl From<crate::StorageError> for KeyError {
    fn from(error: crate::StorageError) -> Self {
        Self::Store {
            kind: error.kind(),
            message: error.to_string(),
        }
    }
}
