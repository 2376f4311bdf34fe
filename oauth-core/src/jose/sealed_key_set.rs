//! What a sealed key set holds, before sealing and after opening: the manifest's entries
//! (the same model a key directory's `keys.json` has) and each key's PKCS#8 DER.
//!
//! ```json
//! {"format": 1, "keys": [
//!   {"kid": "…", "alg": "ES256", "role": "current", "since": 1893456000, "pkcs8": "MIGHAgEA…"}
//! ]}
//! ```
//!
//! `pkcs8` is base64url without padding. It is read as strictly as a manifest: unknown
//! fields, duplicate object keys and every inconsistency a manifest may not have are
//! refused, and each key's DER must give its `kid` ([`kid_for_pkcs8`]).

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::algorithm::Algorithm;
use super::key_error::KeyError;
use super::key_manifest::{file_name_for, parse_alg, parse_since, Entry, KeyRole, Manifest};
use super::key_set::KeySet;
use super::keys::SigningKey;
use super::pem::kid_for_pkcs8;

/// The format of the contents this code writes and reads.
const FORMAT: u64 = 1;
/// How errors name where the contents came from.
pub(super) const SOURCE: &str = "the stored key set";

/// A key set's contents: the entries, and the DER of every key they name.
#[derive(Clone)]
pub(super) struct Contents {
    pub(super) manifest: Manifest,
    /// Each key's PKCS#8 DER, by kid: exactly the kids of `manifest`.
    der: HashMap<String, Vec<u8>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContents {
    format: u64,
    keys: Vec<RawKey>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    kid: String,
    alg: String,
    role: KeyRole,
    since: i64,
    pkcs8: String,
}

fn malformed(reason: String) -> KeyError {
    KeyError::MalformedManifest {
        path: SOURCE.into(),
        reason,
    }
}

impl Contents {
    /// A set of one key, `der`, current since `now`.
    pub(super) fn first(alg: Algorithm, der: Vec<u8>, now: OffsetDateTime) -> Self {
        let mut contents = Self {
            manifest: Manifest { keys: Vec::new() },
            der: HashMap::new(),
        };
        contents.add(alg, der, KeyRole::Current, now);
        contents
    }

    /// The contents of `manifest` and its keys' DER, in its order (a key directory's
    /// export), checked as contents read from the store are.
    pub(super) fn from_parts(manifest: Manifest, ders: Vec<Vec<u8>>) -> Result<Self, KeyError> {
        if manifest.keys.len() != ders.len() {
            return Err(malformed("a key has no DER".into()));
        }
        let mut entries = Vec::with_capacity(ders.len());
        let mut der = HashMap::with_capacity(ders.len());
        for (mut entry, key) in manifest.keys.into_iter().zip(ders) {
            // A store has no files; the name is the one a directory would give the key.
            entry.file = file_name_for(&entry.kid);
            der.insert(entry.kid.clone(), key);
            entries.push(entry);
        }
        let contents = Self {
            manifest: Manifest::checked(entries, &malformed)?,
            der,
        };
        contents.check_ders()?;
        Ok(contents)
    }

    /// Adds the key `der` with `role` since `since`, answering its kid.
    pub(super) fn add(
        &mut self,
        alg: Algorithm,
        der: Vec<u8>,
        role: KeyRole,
        since: OffsetDateTime,
    ) -> String {
        let kid = kid_for_pkcs8(&der);
        self.manifest.keys.push(Entry {
            file: file_name_for(&kid),
            kid: kid.clone(),
            alg,
            role,
            since,
        });
        self.der.insert(kid.clone(), der);
        kid
    }

    /// Drops the key `kid`, answering whether it was there.
    pub(super) fn remove(&mut self, kid: &str) -> bool {
        self.der.remove(kid);
        self.manifest.remove(kid).is_some()
    }

    /// The key set, every key loaded from its DER.
    pub(super) fn key_set(&self) -> Result<KeySet, KeyError> {
        self.manifest.key_set(SOURCE, |entry| {
            let der = self
                .der
                .get(&entry.kid)
                .ok_or_else(|| malformed(format!("key {} has no DER", entry.kid)))?;
            SigningKey::from_pkcs8(entry.alg, &entry.kid, der).map_err(|reason| KeyError::KeyFile {
                path: format!("{SOURCE}, key {}", entry.kid),
                reason: Box::new(reason),
            })
        })
    }

    /// The contents as JSON bytes, to be sealed.
    pub(super) fn to_bytes(&self) -> Result<Vec<u8>, KeyError> {
        let raw = RawContents {
            format: FORMAT,
            keys: self
                .manifest
                .keys
                .iter()
                .map(|k| {
                    let der = self
                        .der
                        .get(&k.kid)
                        .ok_or_else(|| malformed(format!("key {} has no DER", k.kid)))?;
                    Ok(RawKey {
                        kid: k.kid.clone(),
                        alg: k.alg.as_str().to_owned(),
                        role: k.role,
                        since: k.since.unix_timestamp(),
                        pkcs8: URL_SAFE_NO_PAD.encode(der),
                    })
                })
                .collect::<Result<_, KeyError>>()?,
        };
        serde_json::to_vec(&raw).map_err(|e| malformed(e.to_string()))
    }

    /// The contents in `bytes` (opened from the store).
    pub(super) fn parse(bytes: &[u8]) -> Result<Self, KeyError> {
        let value = super::strict_json::parse(bytes).map_err(|e| malformed(e.to_string()))?;
        // The format is read first and alone, as a manifest's version is: newer contents
        // may differ in any other way.
        match value.get("format").and_then(Value::as_u64) {
            Some(FORMAT) => {}
            Some(format) if format > FORMAT => {
                return Err(KeyError::ManifestVersion {
                    path: SOURCE.into(),
                    version: format,
                })
            }
            _ => return Err(malformed("no valid \"format\"".into())),
        }
        let raw: RawContents =
            serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
        let mut entries = Vec::with_capacity(raw.keys.len());
        let mut der = HashMap::with_capacity(raw.keys.len());
        for key in raw.keys {
            let bytes = URL_SAFE_NO_PAD
                .decode(&key.pkcs8)
                .map_err(|_| malformed(format!("key {} has no valid pkcs8", key.kid)))?;
            entries.push(Entry {
                alg: parse_alg(&key.kid, &key.alg, &malformed)?,
                since: parse_since(&key.kid, key.since, &malformed)?,
                file: file_name_for(&key.kid),
                role: key.role,
                kid: key.kid.clone(),
            });
            // A repeated kid is refused by the manifest's check below.
            der.insert(key.kid, bytes);
        }
        let contents = Self {
            manifest: Manifest::checked(entries, &malformed)?,
            der,
        };
        contents.check_ders()?;
        Ok(contents)
    }

    /// Every key's DER gives its kid, so no key is published under another's id.
    fn check_ders(&self) -> Result<(), KeyError> {
        for entry in &self.manifest.keys {
            match self.der.get(&entry.kid) {
                Some(der) if kid_for_pkcs8(der) == entry.kid => {}
                _ => {
                    return Err(malformed(format!(
                        "key {} does not hold the key its id names",
                        entry.kid
                    )))
                }
            }
        }
        Ok(())
    }

    /// Every key's DER, for tests that look for them where they must not be.
    #[cfg(test)]
    pub(super) fn ders(&self) -> Vec<Vec<u8>> {
        self.der.values().cloned().collect()
    }
}
