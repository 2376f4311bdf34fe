//! The demo as an OpenID Connect provider: its users' claims, and the key that signs
//! their ID tokens.
//!
//! ID tokens are signed with RS256 (what a relying party expects unless it registered
//! another algorithm). `ring` cannot make RSA keys, so the key comes from a PKCS#8 file:
//! `FINRIFT_RS256_KEY` names one (`openssl genpkey -algorithm RSA -pkeyopt
//! rsa_keygen_bits:2048 -out key.pem`); without it the demo uses the key published in
//! this repository (`examples/keys/demo-rs256.pem`), like its published passwords: anyone
//! can sign an ID token with it, so it serves the demo on loopback only.

use std::path::Path;

use oauth_core::jose::{kid_for_pkcs8, pkcs8_from_file_bytes, Algorithm, KeySet, SigningKey};
use oauth_core::openid::{ClaimsError, ClaimsSource, OpenIdProvider};
use serde_json::{json, Map, Value};

use super::*;

/// The published demo RSA key (PKCS#8 PEM).
const DEMO_RS256_KEY: &[u8] = include_bytes!("../../keys/demo-rs256.pem");

/// The demo users' claims: name and email (`profile`, `email`).
const PROFILES: [(&str, &str, &str, &str); 2] = [
    ("alice", "Alice Example", "Alice", "alice@example.com"),
    ("bob", "Bob Example", "Bob", "bob@example.com"),
];

/// The provider: RS256 ID tokens with the key at `rsa_key` (or the published demo key),
/// and the demo users' claims.
pub(super) fn provider(rsa_key: Option<&Path>) -> Result<OpenIdProvider, StartError> {
    let bytes = match rsa_key {
        Some(path) => std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
        None => {
            tracing::warn!(
                "ID tokens are signed with the demo RSA key published in the repository; \
                 set FINRIFT_RS256_KEY to a key of your own"
            );
            DEMO_RS256_KEY.to_vec()
        }
    };
    let pkcs8 = pkcs8_from_file_bytes(&bytes)?;
    let key = SigningKey::from_pkcs8(Algorithm::Rs256, &kid_for_pkcs8(&pkcs8), &pkcs8)?;
    Ok(OpenIdProvider::new(KeySet::new(key), DemoDirectory))
}

/// Where the demo users' claims come from.
#[derive(Debug)]
struct DemoDirectory;

#[async_trait]
impl ClaimsSource for DemoDirectory {
    async fn claims(
        &self,
        subject: &str,
        _scope: &ScopeSet,
    ) -> Result<Map<String, Value>, ClaimsError> {
        let mut claims = Map::new();
        // The engine releases only what the token's scopes allow (name for `profile`,
        // email for `email`).
        if let Some((_, name, given, email)) = PROFILES.iter().find(|p| p.0 == subject) {
            claims.insert("name".into(), json!(name));
            claims.insert("given_name".into(), json!(given));
            claims.insert("family_name".into(), json!("Example"));
            claims.insert("email".into(), json!(email));
            claims.insert("email_verified".into(), json!(true));
        }
        Ok(claims)
    }
}
