//! The manifest of a key directory, `keys.json`: which file holds which key, its role in
//! the rotation, and since when it has had that role.
//!
//! ```json
//! {"version": 1, "keys": [
//!   {"kid": "…", "alg": "ES256", "file": "key-….pem", "role": "current", "since": 1893456000}
//! ]}
//! ```
//!
//! It is read strictly: unknown fields, duplicate object keys, a repeated `kid` or file,
//! anything but exactly one `current` key, and file names that could leave the directory
//! are refused, so a damaged or hand-edited manifest fails loudly instead of signing with
//! the wrong key or deleting the wrong file.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::algorithm::Algorithm;
use super::key_error::KeyError;
use super::key_set::KeySet;
use super::keys::{is_valid_kid, SigningKey, MAX_JWKS_KEYS};

/// The manifest version this code reads and writes.
pub(super) const VERSION: u64 = 1;
/// Largest manifest read, in bytes: 32 entries take under 8 KiB.
pub(super) const MAX_MANIFEST_LEN: usize = 64 * 1024;

/// A key's place in the rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum KeyRole {
    /// Signs new tokens; `since` is when it started to.
    Current,
    /// Published, not signing yet; `since` is when it was published.
    Next,
    /// Verifies tokens it signed before; `since` is when it stopped signing.
    Previous,
}

impl KeyRole {
    /// The role's name as the manifest writes it: `current`, `next` or `previous`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Next => "next",
            Self::Previous => "previous",
        }
    }
}

impl std::fmt::Display for KeyRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One key of a deployment's set, as an admin tool lists it: its id, algorithm, role in
/// the rotation, and since when it has had that role. Public data only.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyEntry {
    kid: String,
    algorithm: Algorithm,
    role: KeyRole,
    since: OffsetDateTime,
}

impl KeyEntry {
    /// The key id, as the JWKS and tokens' headers carry it.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key's role in the rotation.
    pub fn role(&self) -> KeyRole {
        self.role
    }

    /// Since when the key has had its role: for the current key, since it signs; for the
    /// next key, since it was published; for a previous key, since it stopped signing.
    pub fn since(&self) -> OffsetDateTime {
        self.since
    }
}

/// One key of the manifest, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) kid: String,
    pub(super) alg: Algorithm,
    pub(super) file: String,
    pub(super) role: KeyRole,
    pub(super) since: OffsetDateTime,
}

/// The manifest, checked: exactly one current key, at most one next key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Manifest {
    pub(super) keys: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    version: u64,
    keys: Vec<RawEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    kid: String,
    alg: String,
    file: String,
    role: KeyRole,
    since: i64,
}

/// The file name finrift gives the key `kid` (a kid from [`super::kid_for_pkcs8`] is
/// base64url, so the name is safe on every file system). The prefix keeps a name that
/// starts with `-` from reading as an option to shell tools.
pub(super) fn file_name_for(kid: &str) -> String {
    format!("key-{kid}.pem")
}

/// The algorithm named `alg` of key `kid`, or the error `malformed` makes.
pub(super) fn parse_alg(
    kid: &str,
    alg: &str,
    malformed: &dyn Fn(String) -> KeyError,
) -> Result<Algorithm, KeyError> {
    Algorithm::parse(alg).ok_or_else(|| malformed(format!("key {kid} has an unknown alg")))
}

/// The instant `since` (unix seconds) of key `kid`, or the error `malformed` makes.
pub(super) fn parse_since(
    kid: &str,
    since: i64,
    malformed: &dyn Fn(String) -> KeyError,
) -> Result<OffsetDateTime, KeyError> {
    OffsetDateTime::from_unix_timestamp(since)
        .map_err(|_| malformed(format!("key {kid} has an impossible since")))
}

/// Whether `name` may name a key file: a plain name inside the directory, never a path,
/// never hidden, never the manifest or a temporary file.
fn is_safe_file_name(name: &str) -> bool {
    name.len() <= 200
        && name.ends_with(".pem")
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl Manifest {
    /// Reads the manifest at `path` from `bytes`.
    pub(super) fn parse(bytes: &[u8], path: &Path) -> Result<Self, KeyError> {
        let malformed = |reason: String| KeyError::MalformedManifest {
            path: path.display().to_string(),
            reason,
        };
        if bytes.len() > MAX_MANIFEST_LEN {
            return Err(malformed("larger than 64 KiB".into()));
        }
        let value = super::strict_json::parse(bytes).map_err(|e| malformed(e.to_string()))?;
        // The version is read first and alone: a newer manifest may differ in any other
        // way, and must be refused as newer rather than as malformed.
        match value.get("version").and_then(Value::as_u64) {
            Some(VERSION) => {}
            Some(version) if version > VERSION => {
                return Err(KeyError::ManifestVersion {
                    path: path.display().to_string(),
                    version,
                })
            }
            _ => return Err(malformed("no valid \"version\"".into())),
        }
        let raw: RawManifest =
            serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
        if raw.keys.len() > MAX_JWKS_KEYS {
            return Err(malformed(format!("more than {MAX_JWKS_KEYS} keys")));
        }
        let mut keys: Vec<Entry> = Vec::with_capacity(raw.keys.len());
        for entry in raw.keys {
            keys.push(Entry {
                alg: parse_alg(&entry.kid, &entry.alg, &malformed)?,
                since: parse_since(&entry.kid, entry.since, &malformed)?,
                kid: entry.kid,
                file: entry.file,
                role: entry.role,
            });
        }
        Self::checked(keys, &malformed)
    }

    /// The manifest of `keys`, checked as a manifest read from a file is: valid key ids,
    /// no HS256 key, plain file names, no repeated kid or file, at most
    /// [`MAX_JWKS_KEYS`] keys, exactly one current key and at most one next key.
    /// `malformed` makes the error for a reason.
    pub(super) fn checked(
        keys: Vec<Entry>,
        malformed: &dyn Fn(String) -> KeyError,
    ) -> Result<Self, KeyError> {
        if keys.len() > MAX_JWKS_KEYS {
            return Err(malformed(format!("more than {MAX_JWKS_KEYS} keys")));
        }
        for (i, entry) in keys.iter().enumerate() {
            if !is_valid_kid(&entry.kid) {
                return Err(malformed(
                    "a key id is not 1 to 128 printable characters".into(),
                ));
            }
            if entry.alg == Algorithm::Hs256 {
                return Err(KeyError::NotStorable(entry.alg));
            }
            if !is_safe_file_name(&entry.file) {
                return Err(malformed(format!(
                    "key {} names a file that is not a plain .pem name in the directory",
                    entry.kid
                )));
            }
            if keys[..i]
                .iter()
                .any(|k| k.kid == entry.kid || k.file == entry.file)
            {
                return Err(malformed(format!(
                    "key {} or its file is repeated",
                    entry.kid
                )));
            }
        }
        let count = |role| keys.iter().filter(|k| k.role == role).count();
        if count(KeyRole::Current) != 1 {
            return Err(malformed("there must be exactly one current key".into()));
        }
        if count(KeyRole::Next) > 1 {
            return Err(malformed("there may be at most one next key".into()));
        }
        Ok(Self { keys })
    }

    /// The manifest as JSON text, ending in a newline.
    pub(super) fn to_bytes(&self) -> Result<Vec<u8>, KeyError> {
        let raw = RawManifest {
            version: VERSION,
            keys: self
                .keys
                .iter()
                .map(|k| RawEntry {
                    kid: k.kid.clone(),
                    alg: k.alg.as_str().to_owned(),
                    file: k.file.clone(),
                    role: k.role,
                    since: k.since.unix_timestamp(),
                })
                .collect(),
        };
        let mut bytes =
            serde_json::to_vec_pretty(&raw).map_err(|e| KeyError::MalformedManifest {
                path: "keys.json".into(),
                reason: e.to_string(),
            })?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// The entry with `role` (for `Current`, always there).
    pub(super) fn with_role(&self, role: KeyRole) -> Option<&Entry> {
        self.keys.iter().find(|k| k.role == role)
    }

    /// The entry of key `kid`.
    pub(super) fn get(&self, kid: &str) -> Option<&Entry> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// Makes the next key current and the current key previous, both since `now`.
    /// Answers the kid that now signs, or `None` (nothing changed) without a next key.
    pub(super) fn activate_next(&mut self, now: OffsetDateTime) -> Option<String> {
        let kid = self.with_role(KeyRole::Next)?.kid.clone();
        for entry in &mut self.keys {
            let role = match entry.role {
                KeyRole::Current => KeyRole::Previous,
                KeyRole::Next => KeyRole::Current,
                KeyRole::Previous => continue,
            };
            entry.role = role;
            entry.since = now;
        }
        Some(kid)
    }

    /// Drops the entry of key `kid`, answering it.
    pub(super) fn remove(&mut self, kid: &str) -> Option<Entry> {
        let at = self.keys.iter().position(|k| k.kid == kid)?;
        Some(self.keys.remove(at))
    }

    /// The entries as the public [`KeyEntry`] list, in the manifest's order.
    pub(super) fn entries(&self) -> Vec<KeyEntry> {
        self.keys
            .iter()
            .map(|k| KeyEntry {
                kid: k.kid.clone(),
                algorithm: k.alg,
                role: k.role,
                since: k.since,
            })
            .collect()
    }

    /// The key set these entries describe, each key loaded by `load`. `source` names
    /// where the manifest came from, for the error when it has no current key.
    pub(super) fn key_set(
        &self,
        source: &str,
        mut load: impl FnMut(&Entry) -> Result<SigningKey, KeyError>,
    ) -> Result<KeySet, KeyError> {
        let current =
            self.with_role(KeyRole::Current)
                .ok_or_else(|| KeyError::MalformedManifest {
                    path: source.to_owned(),
                    reason: "there must be exactly one current key".into(),
                })?;
        let mut set = KeySet::new(load(current)?);
        if let Some(next) = self.with_role(KeyRole::Next) {
            set.publish_next(load(next)?);
        }
        // Newest first, the order `KeySet::rotate` keeps, so a restart serves the same JWKS.
        let mut previous: Vec<&Entry> = self
            .keys
            .iter()
            .filter(|k| k.role == KeyRole::Previous)
            .collect();
        previous.sort_by_key(|k| std::cmp::Reverse(k.since));
        for entry in previous {
            set.keep_for_verification(load(entry)?.verification_key().clone());
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn entry(kid: &str, role: KeyRole) -> Entry {
        Entry {
            kid: kid.into(),
            alg: Algorithm::Es256,
            file: file_name_for(kid),
            role,
            since: datetime!(2030-01-01 00:00 UTC),
        }
    }

    fn parse(text: &str) -> Result<Manifest, KeyError> {
        Manifest::parse(text.as_bytes(), Path::new("keys.json"))
    }

    #[test]
    fn manifest_round_trips() {
        let manifest = Manifest {
            keys: vec![
                entry("a", KeyRole::Current),
                entry("b", KeyRole::Next),
                entry("c", KeyRole::Previous),
            ],
        };
        let bytes = manifest.to_bytes().unwrap();
        assert_eq!(
            Manifest::parse(&bytes, Path::new("keys.json")).unwrap(),
            manifest
        );
    }

    #[test]
    fn manifest_refuses_unsafe_file_names() {
        for file in [
            "../key.pem",
            "/etc/key.pem",
            "sub/key.pem",
            ".hidden.pem",
            "keys.json",
            "a\\b.pem",
        ] {
            let text = format!(
                r#"{{"version":1,"keys":[{{"kid":"a","alg":"ES256","file":{},"role":"current","since":0}}]}}"#,
                serde_json::to_string(file).unwrap()
            );
            assert!(
                matches!(parse(&text), Err(KeyError::MalformedManifest { .. })),
                "{file}"
            );
        }
    }

    #[test]
    fn manifest_refuses_inconsistent_roles_and_fields() {
        let key = |kid: &str, role: &str| {
            format!(
                r#"{{"kid":"{kid}","alg":"ES256","file":"key-{kid}.pem","role":"{role}","since":0}}"#
            )
        };
        let cases = [
            r#"{"version":1,"keys":[]}"#.to_owned(),
            format!(
                r#"{{"version":1,"keys":[{},{}]}}"#,
                key("a", "current"),
                key("b", "current")
            ),
            format!(
                r#"{{"version":1,"keys":[{},{},{}]}}"#,
                key("a", "current"),
                key("b", "next"),
                key("c", "next")
            ),
            format!(
                r#"{{"version":1,"keys":[{},{}]}}"#,
                key("a", "current"),
                key("a", "previous")
            ),
            format!(
                r#"{{"version":1,"keys":[{}],"extra":1}}"#,
                key("a", "current")
            ),
            format!(
                r#"{{"version":1,"version":1,"keys":[{}]}}"#,
                key("a", "current")
            ),
            format!(r#"{{"version":0,"keys":[{}]}}"#, key("a", "current")),
            format!(r#"{{"keys":[{}]}}"#, key("a", "current")),
            key("a", "current").replace("ES256", "none"),
            "not json".to_owned(),
        ];
        for case in cases {
            assert!(parse(&case).is_err(), "accepted: {case}");
        }
        let hs = format!(
            r#"{{"version":1,"keys":[{}]}}"#,
            key("a", "current").replace("ES256", "HS256")
        );
        assert_eq!(
            parse(&hs).unwrap_err(),
            KeyError::NotStorable(Algorithm::Hs256)
        );
    }
}
