//! # OpenID Connect
//!
//! finrift is an OpenID Connect provider (OpenID Connect Core 1.0) once the engine is built
//! with an [`OpenIdProvider`] ([`EngineBuilder::openid`](crate::EngineBuilder::openid)):
//!
//! - **ID tokens.** A code whose grant has the `openid` scope is answered with an
//!   `id_token` beside the access and refresh tokens (Core §3.1.3.3): `iss`, `sub`, `aud`
//!   and `azp` (the client), `exp`, `iat`, `auth_time`, `acr` and `amr` of the user's
//!   sign-in, the request's `nonce` exactly, and `at_hash`. A refresh of such a grant
//!   answers a new ID token with the same `sub`, `aud` and `auth_time`, a new `iat`, and
//!   no `nonce` (Core §12.2). [`Engine::verify_id_token`](crate::Engine::verify_id_token)
//!   checks one of this engine's ID tokens.
//! - **Keys and algorithms.** The provider holds one [`KeySet`] per algorithm. The first
//!   signs with RS256, the default for a client that registers no
//!   `id_token_signed_response_alg` ([`ClientBuilder::id_token_signed_response_alg`](crate::ClientBuilder::id_token_signed_response_alg));
//!   others (ES256, EdDSA) serve the clients that name them. HS256 never signs an ID
//!   token. [`Engine::jwks`](crate::Engine::jwks) publishes every key that signs anything.
//! - **Discovery** (OpenID Connect Discovery 1.0):
//!   [`Engine::openid_configuration`](crate::Engine::openid_configuration), served at
//!   [`ServedPaths::openid_configuration`](crate::ServedPaths::openid_configuration).
//! - **UserInfo** (Core §5.3): [`Engine::userinfo`](crate::Engine::userinfo) answers with
//!   the claims of a [`ClaimsSource`] you implement, filtered by the access token's scope,
//!   at [`ServedPaths::userinfo`](crate::ServedPaths::userinfo).
//!
//! ## Why one key set per algorithm
//!
//! A client names the one algorithm it verifies, so the engine must hold a current key
//! for each algorithm it offers; a [`KeySet`] is one algorithm's active, next and retired
//! keys, rotated as for access tokens ([`Engine::replace_id_token_keys`](crate::Engine::replace_id_token_keys)).
//! RS256 comes first because Core §15.1 asks every provider for it; `ring` cannot make
//! RSA keys, so it is always loaded from your PKCS#8 document
//! ([`SigningKey::from_pkcs8`](crate::jose::SigningKey::from_pkcs8)).
//!
//! ## Example
//!
//! ```
//! use async_trait::async_trait;
//! use oauth_core::jose::{Algorithm, KeySet, SigningKey};
//! use oauth_core::openid::{ClaimsError, ClaimsSource, OpenIdProvider};
//! use oauth_core::{
//!     AuthorizationResponse, AuthorizeOutcome, Client, ClientId, CodeChallenge, Config, Engine,
//!     FormRequest, ManualClock, ScopeSet, TokenOutcome, FORM_CONTENT_TYPE,
//! };
//! use oauth_store_memory::MemoryStore;
//! use serde_json::{json, Map, Value};
//! use time::macros::datetime;
//!
//! /// Where the users' claims live (a database, a directory): yours.
//! struct Directory;
//!
//! #[async_trait]
//! impl ClaimsSource for Directory {
//!     async fn claims(
//!         &self,
//!         subject: &str,
//!         _scope: &ScopeSet,
//!     ) -> Result<Map<String, Value>, ClaimsError> {
//!         let mut claims = Map::new();
//!         claims.insert("name".into(), json!(format!("User {subject}")));
//!         claims.insert("email".into(), json!(format!("{subject}@example.com")));
//!         Ok(claims)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let rsa_pkcs8 = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/rsa2048.pk8.der"));
//! // Your RSA key (2048 bits or more) as PKCS#8 DER; ring makes the others.
//! let rs256 = SigningKey::from_pkcs8(Algorithm::Rs256, "id-rsa-1", rsa_pkcs8)?;
//! let (es256, _pkcs8) = SigningKey::generate(Algorithm::Es256, "id-ec-1")?;
//! let provider = OpenIdProvider::new(KeySet::new(rs256), Directory)
//!     .signing_keys(KeySet::new(es256));
//!
//! let clock = ManualClock::new(datetime!(2030-01-01 00:00 UTC));
//! let config = Config::builder("https://auth.example").build()?;
//! let engine = Engine::builder(MemoryStore::new(), clock, config)
//!     .openid(provider)
//!     .build()?;
//! engine
//!     .register_client(
//!         Client::public("rp")?
//!             .redirect_uri("https://rp.example/cb")?
//!             .allowed_scopes(ScopeSet::parse("openid email")?)
//!             .id_token_signed_response_alg(Algorithm::Es256)
//!             .build()?,
//!     )
//!     .await?;
//! let discovery = engine.openid_configuration().expect("OpenID Connect is on");
//! assert_eq!(discovery.id_token_signing_alg_values_supported, ["RS256", "ES256"]);
//! assert_eq!(
//!     engine.config().served_paths().openid_configuration.as_deref(),
//!     Some("/.well-known/openid-configuration")
//! );
//!
//! // The code flow, as in the crate's quick start, with the `openid` scope.
//! let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
//! let query = format!(
//!     "response_type=code&client_id=rp&redirect_uri=https%3A%2F%2Frp.example%2Fcb\
//!      &scope=openid%20email&code_challenge={}&code_challenge_method=S256",
//!     CodeChallenge::from_verifier(verifier).as_str()
//! );
//! let AuthorizeOutcome::Pending(pending) = engine.authorize_query(&query).await? else {
//!     panic!("pending");
//! };
//! let AuthorizationResponse::Redirect(redirect) =
//!     engine.approve(&pending, "alice", pending.scope()).await?
//! else {
//!     panic!("redirect");
//! };
//! let code = redirect.param("code").expect("a code");
//! let body = format!(
//!     "grant_type=authorization_code&code={code}&client_id=rp\
//!      &redirect_uri=https%3A%2F%2Frp.example%2Fcb&code_verifier={verifier}"
//! );
//! let request = FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes());
//! let TokenOutcome::Issued(tokens) = engine.token(&request).await? else {
//!     panic!("tokens");
//! };
//! let id_token = tokens.id_token.as_deref().expect("an ID token");
//! let verified = engine.verify_id_token(id_token, &ClientId::new("rp")?)?;
//! assert_eq!(verified.subject, "alice");
//! # Ok(())
//! # }
//! ```

pub(crate) mod claims_error;
mod discovery;
mod issue;
mod keys;
mod userinfo;

use std::fmt;
use std::sync::Arc;

use time::Duration;

pub use claims_error::ClaimsError;
pub use discovery::ProviderMetadata;
pub use userinfo::{ClaimsSource, UserInfoRequest, SCOPE_CLAIMS};

pub(crate) use issue::OPENID_SCOPE;
pub(crate) use keys::IdTokenKeys;

use crate::error::Fault;
use crate::jose::{KeySet, VerificationKeys};

/// How long an ID token is valid by default: five minutes, long enough for a relying
/// party to check it right after the token response.
pub const DEFAULT_ID_TOKEN_LIFETIME: Duration = Duration::minutes(5);

/// What makes the engine an OpenID Connect provider: the ID-token keys, the source of the
/// users' claims, and the ID-token lifetime. Give it to
/// [`EngineBuilder::openid`](crate::EngineBuilder::openid); the engine checks it when it
/// is built.
#[must_use]
pub struct OpenIdProvider {
    key_sets: Vec<KeySet>,
    claims: Arc<dyn ClaimsSource>,
    id_token_lifetime: Duration,
}

impl fmt::Debug for OpenIdProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenIdProvider")
            .field("key_sets", &self.key_sets)
            .field("id_token_lifetime", &self.id_token_lifetime)
            .finish_non_exhaustive()
    }
}

impl OpenIdProvider {
    /// A provider whose ID tokens are signed by the RS256 set `rs256` (the default
    /// algorithm: the engine refuses to build if its active key is not RS256), and whose
    /// UserInfo endpoint answers with the claims of `claims`.
    pub fn new(rs256: KeySet, claims: impl ClaimsSource + 'static) -> Self {
        Self {
            key_sets: vec![rs256],
            claims: Arc::new(claims),
            id_token_lifetime: DEFAULT_ID_TOKEN_LIFETIME,
        }
    }

    /// Adds the key set of another algorithm (ES256 or EdDSA), for the clients that
    /// register it as their `id_token_signed_response_alg`. A second set of one
    /// algorithm, or an HS256 set, makes the engine refuse to build.
    pub fn signing_keys(mut self, keys: KeySet) -> Self {
        self.key_sets.push(keys);
        self
    }

    /// How long ID tokens are valid (10 seconds to 1 day; default
    /// [`DEFAULT_ID_TOKEN_LIFETIME`]).
    pub fn id_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.id_token_lifetime = lifetime;
        self
    }

    /// Checks the provider against the access-token keys `access_keys` it will be
    /// published beside, and makes the engine's part of it.
    pub(crate) fn into_engine_part(
        self,
        access_keys: Option<&VerificationKeys>,
    ) -> Result<OpenId, Fault> {
        if self.id_token_lifetime < Duration::seconds(10)
            || self.id_token_lifetime > Duration::days(1)
        {
            return Err(Fault::Config(
                "the ID token lifetime must be between 10 seconds and 1 day".into(),
            ));
        }
        let keys = IdTokenKeys::new(self.key_sets)?;
        // One JWKS holds both: a `kid` must name one key, or a verifier could pick the
        // wrong one. The same key loaded for both uses is fine.
        if let Some(access_keys) = access_keys {
            for key in keys.verification_keys().iter() {
                if let Some(other) = access_keys.get(key.kid()) {
                    if other.to_jwk().is_none() || other.to_jwk() != key.to_jwk() {
                        return Err(Fault::Config(format!(
                            "the kid {} names two different keys",
                            key.kid()
                        )));
                    }
                }
            }
        }
        Ok(OpenId {
            keys,
            claims: self.claims,
            id_token_lifetime: self.id_token_lifetime,
        })
    }
}

/// The engine's OpenID Connect provider, checked.
pub(crate) struct OpenId {
    pub(crate) keys: IdTokenKeys,
    pub(crate) claims: Arc<dyn ClaimsSource>,
    pub(crate) id_token_lifetime: Duration,
}

impl fmt::Debug for OpenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenId")
            .field("keys", &self.keys)
            .field("id_token_lifetime", &self.id_token_lifetime)
            .finish_non_exhaustive()
    }
}
