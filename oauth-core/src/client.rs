//! Client registrations and client authentication.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::jose::{Algorithm, ClientJwks, KeyError};
use crate::redirect_uri::{RedirectUri, RedirectUriError};
use crate::scope::ScopeSet;
use crate::secret::SecretHash;

/// Shortest client secret accepted at registration, in bytes.
///
/// Client secrets are stored as a single SHA-256, which is only safe for high-entropy
/// values: use [`crate::RandomSource::secret`] (256 bits) to make them.
pub const MIN_CLIENT_SECRET_LEN: usize = 32;
/// Shortest human-chosen client secret accepted (see [`Client::confidential_with_password`]).
pub const MIN_CLIENT_PASSWORD_LEN: usize = 12;
/// PBKDF2-HMAC-SHA256 iterations for human-chosen client secrets.
pub const CLIENT_PASSWORD_ITERATIONS: u32 = 100_000;
/// Longest client identifier accepted, in bytes.
pub const MAX_CLIENT_ID_LEN: usize = 255;

/// A client identifier: 1 to 255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    /// Checks an identifier: 1 to 255 characters of `%x20-7E` (RFC 6749 Appendix A.1).
    pub fn new(id: impl Into<String>) -> Result<Self, ClientError> {
        let id = id.into();
        if !Self::is_valid(&id) {
            return Err(ClientError::InvalidClientId);
        }
        Ok(Self(id))
    }

    /// Whether `id` passes [`ClientId::new`]'s check, without making a copy to keep.
    pub(crate) fn is_valid(id: &str) -> bool {
        !id.is_empty()
            && id.len() <= MAX_CLIENT_ID_LEN
            && id.bytes().all(|b| (0x20..=0x7e).contains(&b))
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClientId {
    type Error = ClientError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<ClientId> for String {
    fn from(id: ClientId) -> Self {
        id.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The grant types a client may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GrantType {
    /// `authorization_code` (with PKCE).
    AuthorizationCode,
    /// `client_credentials` (confidential clients only).
    ClientCredentials,
    /// `refresh_token`; a client with it receives refresh tokens from the code grant.
    RefreshToken,
}

impl GrantType {
    /// The grant type as it appears in `grant_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::ClientCredentials => "client_credentials",
            Self::RefreshToken => "refresh_token",
        }
    }

    /// Parses a `grant_type` value this engine supports.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "authorization_code" => Some(Self::AuthorizationCode),
            "client_credentials" => Some(Self::ClientCredentials),
            "refresh_token" => Some(Self::RefreshToken),
            _ => None,
        }
    }
}

/// Whether a client can keep a secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ClientKind {
    /// A server-side client that authenticates with a secret (kept here as its hash).
    Confidential {
        /// SHA-256 of the client secret.
        secret_hash: SecretHash,
    },
    /// A server-side client whose secret is human-chosen, kept as a salted PBKDF2-HMAC-SHA256
    /// derivation so that a stolen registry does not give it away to a dictionary.
    ConfidentialPassword {
        /// Random salt.
        salt: [u8; 16],
        /// PBKDF2 iterations.
        iterations: u32,
        /// The derived key.
        derived: [u8; 32],
    },
    /// A server-side client that authenticates with assertions signed by its own private
    /// keys (`private_key_jwt`, RFC 7523 §2.2); only the public keys are registered, so
    /// this server holds nothing that would let anyone act as the client.
    PrivateKeyJwt {
        /// The client's public keys.
        jwks: ClientJwks,
    },
    /// A browser or native app: no secret; PKCE protects its codes.
    Public,
}

impl fmt::Debug for ClientKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Confidential { .. } => f.write_str("Confidential"),
            Self::ConfidentialPassword { .. } => f.write_str("ConfidentialPassword"),
            Self::PrivateKeyJwt { jwks } => f.debug_tuple("PrivateKeyJwt").field(jwks).finish(),
            Self::Public => f.write_str("Public"),
        }
    }
}

/// Why a client registration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The identifier is empty, too long, or not printable ASCII.
    #[error("the client id must be 1 to 255 printable ASCII characters")]
    InvalidClientId,
    /// The secret is shorter than [`MIN_CLIENT_SECRET_LEN`].
    #[error("the client secret must be at least {MIN_CLIENT_SECRET_LEN} bytes of random data")]
    WeakSecret,
    /// A redirect URI cannot be registered.
    #[error("redirect URI refused: {0}")]
    RedirectUri(#[from] RedirectUriError),
    /// A public client was given the client credentials grant.
    #[error("a public client cannot use the client_credentials grant")]
    PublicClientCredentials,
    /// The code grant needs at least one redirect URI.
    #[error("the authorization_code grant needs at least one redirect URI")]
    NoRedirectUri,
    /// Default scopes must be allowed scopes.
    #[error("the default scopes must be a subset of the allowed scopes")]
    DefaultScopeNotAllowed,
    /// HS256 was named as the ID-token algorithm: finrift signs ID tokens only with
    /// asymmetric keys.
    #[error("ID tokens are not signed with HS256")]
    IdTokenAlgorithm,
    /// The JWKS of a `private_key_jwt` client cannot be registered (see
    /// [`ClientJwks::parse`]).
    #[error("the client's JWKS is refused: {0}")]
    InvalidJwks(#[from] KeyError),
}

/// A registered client.
///
/// ```
/// use oauth_core::{Client, GrantType, ScopeSet};
///
/// let client = Client::public("spa")?
///     .redirect_uri("https://app.example/callback")?
///     .allowed_scopes(ScopeSet::parse("read:users write:users")?)
///     .default_scopes(ScopeSet::parse("read:users")?)
///     .build()?;
/// assert!(client.allows_grant(GrantType::AuthorizationCode));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ClientData", into = "ClientData")]
pub struct Client {
    // Shared: the engine reads a client on every request, and a clone is then a
    // reference count, not a copy of its URIs and scope sets.
    data: Arc<ClientData>,
}

/// A client's registration, as stored and serialized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ClientData {
    id: ClientId,
    kind: ClientKind,
    redirect_uris: Vec<RedirectUri>,
    grant_types: Vec<GrantType>,
    allowed_scopes: ScopeSet,
    default_scopes: ScopeSet,
    danger_pkce_optional: bool,
    /// OpenID Connect Registration §2; absent in registrations stored before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token_signed_response_alg: Option<Algorithm>,
    /// RFC 9126 §6; absent (false) in registrations stored before it existed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    require_pushed_authorization_requests: bool,
}

impl Client {
    /// Starts a public client (no secret), allowed the code and refresh grants.
    pub fn public(id: impl Into<String>) -> Result<ClientBuilder, ClientError> {
        ClientBuilder::new(id, ClientKind::Public)
    }

    /// Starts a confidential client whose secret is `secret` (at least
    /// [`MIN_CLIENT_SECRET_LEN`] bytes; only its hash is kept), allowed the code and
    /// refresh grants.
    pub fn confidential(id: impl Into<String>, secret: &str) -> Result<ClientBuilder, ClientError> {
        if secret.len() < MIN_CLIENT_SECRET_LEN {
            return Err(ClientError::WeakSecret);
        }
        ClientBuilder::new(
            id,
            ClientKind::Confidential {
                secret_hash: SecretHash::of(secret),
            },
        )
    }

    /// Starts a confidential client whose secret was chosen by a person (at least
    /// [`MIN_CLIENT_PASSWORD_LEN`] bytes). It is kept as a salted PBKDF2-HMAC-SHA256
    /// derivation ([`CLIENT_PASSWORD_ITERATIONS`] rounds), which makes each authentication
    /// of this client deliberately slow; prefer [`Client::confidential`] with a generated
    /// secret.
    pub fn confidential_with_password(
        id: impl Into<String>,
        secret: &str,
    ) -> Result<ClientBuilder, ClientError> {
        if secret.len() < MIN_CLIENT_PASSWORD_LEN {
            return Err(ClientError::WeakSecret);
        }
        let mut salt = [0u8; 16];
        crate::secret::RandomSource::new()
            .fill(&mut salt)
            .map_err(|_| ClientError::WeakSecret)?;
        let mut derived = [0u8; 32];
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            // 1 + (ITERATIONS - 1): a non-zero count built without a fallible conversion.
            std::num::NonZeroU32::MIN.saturating_add(CLIENT_PASSWORD_ITERATIONS - 1),
            &salt,
            secret.as_bytes(),
            &mut derived,
        );
        ClientBuilder::new(
            id,
            ClientKind::ConfidentialPassword {
                salt,
                iterations: CLIENT_PASSWORD_ITERATIONS,
                derived,
            },
        )
    }

    /// Starts a confidential client that authenticates with `private_key_jwt`: assertions
    /// signed by one of the keys of `jwks`, a JWKS document of public keys (see
    /// [`ClientJwks::parse`] for what it may hold). It has no secret, and cannot
    /// authenticate with one. Allowed the code and refresh grants.
    pub fn private_key_jwt(
        id: impl Into<String>,
        jwks: &str,
    ) -> Result<ClientBuilder, ClientError> {
        let jwks = ClientJwks::parse(jwks)?;
        ClientBuilder::new(id, ClientKind::PrivateKeyJwt { jwks })
    }

    /// Starts a confidential client from a secret hash kept elsewhere.
    pub fn confidential_with_hash(
        id: impl Into<String>,
        secret_hash: SecretHash,
    ) -> Result<ClientBuilder, ClientError> {
        ClientBuilder::new(id, ClientKind::Confidential { secret_hash })
    }

    /// The identifier.
    pub fn id(&self) -> &ClientId {
        &self.data.id
    }

    /// Confidential or public.
    pub fn kind(&self) -> &ClientKind {
        &self.data.kind
    }

    /// Whether the client authenticates: with a secret, or with signed assertions.
    pub fn is_confidential(&self) -> bool {
        !matches!(self.data.kind, ClientKind::Public)
    }

    /// How the client authenticates, as its `token_endpoint_auth_method` (RFC 7591 §2):
    /// `private_key_jwt`, `none` for a public client, and `client_secret_basic` for a
    /// secret, which may also be sent as `client_secret_post`.
    pub fn token_endpoint_auth_method(&self) -> &'static str {
        match self.data.kind {
            ClientKind::Confidential { .. } | ClientKind::ConfidentialPassword { .. } => {
                "client_secret_basic"
            }
            ClientKind::PrivateKeyJwt { .. } => "private_key_jwt",
            ClientKind::Public => "none",
        }
    }

    /// The registered redirect URIs.
    pub fn redirect_uris(&self) -> &[RedirectUri] {
        &self.data.redirect_uris
    }

    /// The grant types the client may use.
    pub fn grant_types(&self) -> &[GrantType] {
        &self.data.grant_types
    }

    /// Whether the client may use `grant`.
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.data.grant_types.contains(&grant)
    }

    /// The scopes the client may ask for.
    pub fn allowed_scopes(&self) -> &ScopeSet {
        &self.data.allowed_scopes
    }

    /// The scopes it gets when it asks for none.
    pub fn default_scopes(&self) -> &ScopeSet {
        &self.data.default_scopes
    }

    /// Whether this client may send authorization requests without PKCE (an opt-out).
    pub fn danger_pkce_optional(&self) -> bool {
        self.data.danger_pkce_optional
    }

    /// The algorithm of the client's ID tokens: the one it registered, or RS256 (the
    /// default of OpenID Connect Registration §2).
    pub fn id_token_signed_response_alg(&self) -> Algorithm {
        self.data
            .id_token_signed_response_alg
            .unwrap_or(Algorithm::Rs256)
    }

    /// Whether this client's authorization requests must be pushed (RFC 9126 §6): the
    /// authorization endpoint refuses one of its requests that comes without a
    /// `request_uri`. The engine's configuration can require it of every client.
    pub fn requires_pushed_authorization_requests(&self) -> bool {
        self.data.require_pushed_authorization_requests
    }

    /// The ID-token algorithm the client registered, if it named one.
    pub(crate) fn registered_id_token_alg(&self) -> Option<Algorithm> {
        self.data.id_token_signed_response_alg
    }

    /// Checks a presented secret against the stored hash, in constant time. A public or
    /// `private_key_jwt` client has no secret, so this is always `false` for it.
    pub fn verify_secret(&self, presented: &str) -> bool {
        match &self.data.kind {
            ClientKind::Confidential { secret_hash } => {
                SecretHash::of(presented).ct_eq(secret_hash)
            }
            ClientKind::ConfidentialPassword {
                salt,
                iterations,
                derived,
            } => match std::num::NonZeroU32::new(*iterations) {
                // ring's verify compares in constant time.
                Some(rounds) => ring::pbkdf2::verify(
                    ring::pbkdf2::PBKDF2_HMAC_SHA256,
                    rounds,
                    salt,
                    presented.as_bytes(),
                    derived,
                )
                .is_ok(),
                None => false,
            },
            ClientKind::PrivateKeyJwt { .. } | ClientKind::Public => false,
        }
    }

    /// A copy that shares nothing with `self`: its own reference counts, so that threads
    /// reading different copies never write to the same memory. For stores that keep one
    /// copy of a registration per thread or per shard; everything else clones.
    pub fn detached(&self) -> Client {
        let data = ClientData {
            allowed_scopes: self.data.allowed_scopes.iter().cloned().collect(),
            default_scopes: self.data.default_scopes.iter().cloned().collect(),
            ..(*self.data).clone()
        };
        Client::from(data)
    }

    /// The registered redirect URI that `requested` matches, if any.
    pub fn match_redirect_uri(&self, requested: &str) -> Option<&RedirectUri> {
        self.data
            .redirect_uris
            .iter()
            .find(|r| r.matches(requested))
    }
}

impl From<ClientData> for Client {
    fn from(data: ClientData) -> Self {
        Self {
            data: Arc::new(data),
        }
    }
}

impl From<Client> for ClientData {
    fn from(client: Client) -> Self {
        Arc::unwrap_or_clone(client.data)
    }
}

/// Builds a [`Client`], checking each part.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    client: ClientData,
}

impl ClientBuilder {
    fn new(id: impl Into<String>, kind: ClientKind) -> Result<Self, ClientError> {
        Ok(Self {
            client: ClientData {
                id: ClientId::new(id)?,
                kind,
                redirect_uris: Vec::new(),
                grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
                allowed_scopes: ScopeSet::empty(),
                default_scopes: ScopeSet::empty(),
                danger_pkce_optional: false,
                id_token_signed_response_alg: None,
                require_pushed_authorization_requests: false,
            },
        })
    }

    /// Adds a redirect URI (validated: see [`RedirectUri::new`]).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Result<Self, ClientError> {
        let uri = RedirectUri::new(uri)?;
        if !self.client.redirect_uris.contains(&uri) {
            self.client.redirect_uris.push(uri);
        }
        Ok(self)
    }

    /// Replaces the allowed grant types.
    pub fn grant_types(mut self, grants: impl IntoIterator<Item = GrantType>) -> Self {
        let mut grants: Vec<GrantType> = grants.into_iter().collect();
        grants.sort();
        grants.dedup();
        self.client.grant_types = grants;
        self
    }

    /// Sets the scopes the client may ask for.
    pub fn allowed_scopes(mut self, scopes: ScopeSet) -> Self {
        self.client.allowed_scopes = scopes;
        self
    }

    /// Sets the scopes given when a request names none (a subset of the allowed ones).
    pub fn default_scopes(mut self, scopes: ScopeSet) -> Self {
        self.client.default_scopes = scopes;
        self
    }

    /// Lets this client send authorization requests without PKCE. This weakens the code
    /// grant against code injection and interception (RFC 9700 §2.1.1); it exists only
    /// for legacy confidential clients that cannot be changed.
    pub fn danger_allow_missing_pkce(mut self) -> Self {
        self.client.danger_pkce_optional = true;
        self
    }

    /// The algorithm the client's ID tokens are signed with (`RS256` when none is named;
    /// `ES256` and `EdDSA` when the engine holds a key for them, checked when the client
    /// is registered). HS256 is refused by [`ClientBuilder::build`].
    pub fn id_token_signed_response_alg(mut self, alg: Algorithm) -> Self {
        self.client.id_token_signed_response_alg = Some(alg);
        self
    }

    /// Requires this client to push its authorization requests (RFC 9126 §6): one sent
    /// straight to the authorization endpoint is refused, so its parameters never travel
    /// through the browser.
    pub fn require_pushed_authorization_requests(mut self) -> Self {
        self.client.require_pushed_authorization_requests = true;
        self
    }

    /// Checks the registration as a whole.
    pub fn build(self) -> Result<Client, ClientError> {
        let client = Client::from(self.client);
        if client.allows_grant(GrantType::ClientCredentials) && !client.is_confidential() {
            return Err(ClientError::PublicClientCredentials);
        }
        if client.allows_grant(GrantType::AuthorizationCode) && client.redirect_uris().is_empty() {
            return Err(ClientError::NoRedirectUri);
        }
        if !client.default_scopes().is_subset(client.allowed_scopes()) {
            return Err(ClientError::DefaultScopeNotAllowed);
        }
        if client.registered_id_token_alg() == Some(Algorithm::Hs256) {
            return Err(ClientError::IdTokenAlgorithm);
        }
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn secret_is_stored_hashed_and_checked() {
        let client = Client::confidential("c", SECRET)
            .unwrap()
            .grant_types([GrantType::ClientCredentials])
            .build()
            .unwrap();
        assert!(client.verify_secret(SECRET));
        assert!(!client.verify_secret("0123456789abcdef0123456789abcdeF"));
        assert!(!format!("{client:?}").contains(SECRET));
        assert!(!serde_json::to_string(&client).unwrap().contains(SECRET));
    }

    #[test]
    fn a_detached_copy_is_an_equal_registration() {
        let client = Client::confidential("c", SECRET)
            .unwrap()
            .redirect_uri("https://app.example/cb")
            .unwrap()
            .allowed_scopes(ScopeSet::parse("read write").unwrap())
            .default_scopes(ScopeSet::parse("read").unwrap())
            .build()
            .unwrap();
        let copy = client.detached();
        assert_eq!(copy, client);
        assert!(copy.verify_secret(SECRET));
        assert!(!Arc::ptr_eq(&copy.data, &client.data));
    }

    #[test]
    fn human_chosen_secrets_are_kept_as_pbkdf2() {
        let client = Client::confidential_with_password("svc", "demo-service-secret")
            .unwrap()
            .grant_types([GrantType::ClientCredentials])
            .build()
            .unwrap();
        assert!(client.is_confidential());
        assert!(client.verify_secret("demo-service-secret"));
        assert!(!client.verify_secret("demo-service-secreT"));
        let json = serde_json::to_string(&client).unwrap();
        assert!(!json.contains("demo-service-secret"));
        let back: Client = serde_json::from_str(&json).unwrap();
        assert!(back.verify_secret("demo-service-secret"));
        assert!(Client::confidential_with_password("svc", "short").is_err());
    }

    #[test]
    fn weak_secrets_and_public_client_credentials_are_refused() {
        assert_eq!(
            Client::confidential("c", "short").unwrap_err(),
            ClientError::WeakSecret
        );
        let public = Client::public("p")
            .unwrap()
            .grant_types([GrantType::ClientCredentials])
            .build();
        assert_eq!(public.unwrap_err(), ClientError::PublicClientCredentials);
    }

    #[test]
    fn id_token_algorithm_defaults_to_rs256_and_old_rows_still_load() {
        let client = Client::public("rp")
            .unwrap()
            .redirect_uri("https://rp.example/cb")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(client.id_token_signed_response_alg(), Algorithm::Rs256);
        let json = serde_json::to_value(&client).unwrap();
        // A row written before the field existed has no such member, and loads.
        assert!(json.get("id_token_signed_response_alg").is_none());
        let back: Client = serde_json::from_value(json).unwrap();
        assert_eq!(back, client);

        let es = Client::public("rp")
            .unwrap()
            .redirect_uri("https://rp.example/cb")
            .unwrap()
            .id_token_signed_response_alg(Algorithm::Es256)
            .build()
            .unwrap();
        let json = serde_json::to_value(&es).unwrap();
        assert_eq!(json["id_token_signed_response_alg"], "ES256");
        let back: Client = serde_json::from_value(json).unwrap();
        assert_eq!(back.id_token_signed_response_alg(), Algorithm::Es256);

        let hs = Client::public("rp")
            .unwrap()
            .redirect_uri("https://rp.example/cb")
            .unwrap()
            .id_token_signed_response_alg(Algorithm::Hs256)
            .build();
        assert_eq!(hs.unwrap_err(), ClientError::IdTokenAlgorithm);
    }

    #[test]
    fn az03_client_registration_refuses_bad_redirect_uris() {
        for bad in [
            "javascript:alert(1)",
            "http://app.example/cb",
            "https://a.example/#x",
        ] {
            assert!(
                Client::public("p").unwrap().redirect_uri(bad).is_err(),
                "{bad}"
            );
        }
    }
}
