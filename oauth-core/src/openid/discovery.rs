//! OpenID Provider metadata (OpenID Connect Discovery 1.0 §3), served at the issuer
//! followed by `/.well-known/openid-configuration` (§4). The RFC 8414 document stays
//! where it is; this one repeats the endpoints and adds what OpenID Connect asks.

use serde::Serialize;

use super::issue::OPENID_SCOPE;
use super::userinfo::SCOPE_CLAIMS;
use crate::clock::Clock;
use crate::engine::Engine;
use crate::metadata::{origin_of, public_json};
use crate::response::Response;
use crate::storage::Storage;

/// The claims an ID token may carry, before those of the scopes.
const ID_TOKEN_CLAIMS: [&str; 11] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
];

/// The discovery document of an OpenID provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// The issuer identifier, exactly as configured.
    pub issuer: String,
    /// The authorization endpoint.
    pub authorization_endpoint: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The UserInfo endpoint.
    pub userinfo_endpoint: String,
    /// The JWKS document: every key that signs ID tokens and JWT access tokens.
    pub jwks_uri: String,
    /// `openid`, then the configured scopes.
    pub scopes_supported: Vec<String>,
    /// `["code"]`.
    pub response_types_supported: Vec<&'static str>,
    /// `["public"]`: `sub` is the same for every client.
    pub subject_types_supported: Vec<&'static str>,
    /// The algorithms of the ID-token keys, `RS256` first.
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    /// The claims of ID tokens and of the UserInfo scopes.
    pub claims_supported: Vec<&'static str>,
    /// The grant types.
    pub grant_types_supported: Vec<&'static str>,
    /// Client authentication at the token endpoint.
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// The algorithms of `private_key_jwt` client assertions.
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// `["S256"]`.
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// `false`: request objects are refused.
    pub request_parameter_supported: bool,
    /// `false`: request objects by reference are refused.
    pub request_uri_parameter_supported: bool,
    /// `false`: the `claims` request parameter is not supported.
    pub claims_parameter_supported: bool,
}

impl ProviderMetadata {
    /// As a `200` JSON response, cacheable like the RFC 8414 document.
    pub fn to_response(&self) -> Response {
        public_json(serde_json::to_value(self).unwrap_or_default())
    }
}

impl<S: Storage, C: Clock> Engine<S, C> {
    /// The OpenID Connect discovery document, or `None` for an engine that is no OpenID
    /// provider. Endpoints and methods are the ones of [`Engine::metadata`], so the two
    /// documents never disagree.
    pub fn openid_configuration(&self) -> Option<ProviderMetadata> {
        let openid = self.openid.as_ref()?;
        let oauth = self.metadata();
        let paths = self.config.served_paths();
        let userinfo = paths.userinfo?;
        let mut scopes = vec![OPENID_SCOPE.to_owned()];
        scopes.extend(
            oauth
                .scopes_supported
                .into_iter()
                .filter(|s| s != OPENID_SCOPE),
        );
        let mut claims: Vec<&'static str> = ID_TOKEN_CLAIMS.to_vec();
        claims.extend(SCOPE_CLAIMS.iter().flat_map(|(_, names)| names.iter()));
        Some(ProviderMetadata {
            issuer: oauth.issuer,
            authorization_endpoint: oauth.authorization_endpoint,
            token_endpoint: oauth.token_endpoint,
            userinfo_endpoint: format!("{}{userinfo}", origin_of(self.config.issuer())),
            jwks_uri: oauth.jwks_uri,
            scopes_supported: scopes,
            response_types_supported: oauth.response_types_supported,
            subject_types_supported: vec!["public"],
            id_token_signing_alg_values_supported: openid
                .keys
                .algorithms()
                .into_iter()
                .map(|alg| alg.as_str())
                .collect(),
            claims_supported: claims,
            grant_types_supported: oauth.grant_types_supported,
            token_endpoint_auth_methods_supported: oauth.token_endpoint_auth_methods_supported,
            token_endpoint_auth_signing_alg_values_supported: oauth
                .token_endpoint_auth_signing_alg_values_supported,
            code_challenge_methods_supported: oauth.code_challenge_methods_supported,
            request_parameter_supported: false,
            request_uri_parameter_supported: false,
            claims_parameter_supported: false,
        })
    }
}
