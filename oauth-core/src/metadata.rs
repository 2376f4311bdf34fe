//! Authorization server metadata (RFC 8414).

use serde::Serialize;

use crate::clock::Clock;
use crate::engine::Engine;
use crate::jose::DPOP_ALGORITHMS;
use crate::response::Response;
use crate::storage::Storage;

/// The metadata document served at `/.well-known/oauth-authorization-server`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Metadata {
    /// The issuer identifier, exactly as configured.
    pub issuer: String,
    /// The authorization endpoint.
    pub authorization_endpoint: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The JWKS document (public keys).
    pub jwks_uri: String,
    /// The introspection endpoint (RFC 7662), when served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<String>,
    /// The revocation endpoint (RFC 7009), when served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// The pushed authorization request endpoint (RFC 9126 §5), when served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// Whether every authorization request must be pushed first (RFC 9126 §5).
    pub require_pushed_authorization_requests: bool,
    /// Scopes clients may ask for, when configured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// `["code"]`.
    pub response_types_supported: Vec<&'static str>,
    /// `["query"]`.
    pub response_modes_supported: Vec<&'static str>,
    /// The grant types.
    pub grant_types_supported: Vec<&'static str>,
    /// Client authentication at the token endpoint.
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// The algorithms of `private_key_jwt` client assertions, at every endpoint that
    /// authenticates clients: `ES256`, `EdDSA`, `PS256`, `RS256`.
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// Client authentication at the introspection endpoint (confidential clients only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    /// Client authentication at the revocation endpoint.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    /// `["S256"]`: `plain` is not offered.
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// `true`: every authorization response carries `iss` (RFC 9207).
    pub authorization_response_iss_parameter_supported: bool,
    /// The algorithms a DPoP proof may be signed with (RFC 9449 §5.1): a proof binds JWT
    /// and opaque access tokens alike.
    pub dpop_signing_alg_values_supported: Vec<&'static str>,
}

impl Metadata {
    /// As a `200` JSON response (cacheable: the document changes only with the
    /// configuration).
    pub fn to_response(&self) -> Response {
        public_json(serde_json::to_value(self).unwrap_or_default())
    }
}

/// A `200` JSON response of a public document, cacheable for five minutes (a verifier that
/// meets an unknown `kid` fetches the JWKS again anyway).
pub(crate) fn public_json(body: serde_json::Value) -> Response {
    Response {
        status: 200,
        headers: vec![
            ("Content-Type", "application/json".to_owned()),
            ("Cache-Control", "public, max-age=300".to_owned()),
        ],
        body: body.to_string(),
    }
}

impl<S: Storage, C: Clock> Engine<S, C> {
    /// The JWKS document as a `200` JSON response (see [`Engine::jwks`]).
    pub fn jwks_response(&self) -> Response {
        public_json(self.jwks())
    }

    /// The metadata document of this engine, built from its configuration.
    pub fn metadata(&self) -> Metadata {
        let config = &self.config;
        // The issuer's origin, and every endpoint where the adapters serve it.
        let origin = origin_of(config.issuer());
        let url = |path: &str| format!("{origin}{path}");
        let endpoints = config.served_paths();
        let fapi2 = config.is_fapi2();
        Metadata {
            issuer: config.issuer().to_owned(),
            authorization_endpoint: url(&endpoints.authorization),
            token_endpoint: url(&endpoints.token),
            jwks_uri: url(&endpoints.jwks),
            introspection_endpoint: endpoints.introspection.as_deref().map(url),
            revocation_endpoint: endpoints.revocation.as_deref().map(url),
            pushed_authorization_request_endpoint: endpoints
                .pushed_authorization_request
                .as_deref()
                .map(url),
            require_pushed_authorization_requests: config.requires_pushed_authorization_requests(),
            scopes_supported: config.scopes_supported().to_vec(),
            response_types_supported: vec!["code"],
            response_modes_supported: vec!["query"],
            grant_types_supported: vec![
                "authorization_code",
                "client_credentials",
                "refresh_token",
            ],
            token_endpoint_auth_methods_supported: if fapi2 {
                vec!["private_key_jwt"]
            } else {
                vec![
                    "client_secret_basic",
                    "client_secret_post",
                    "private_key_jwt",
                    "none",
                ]
            },
            token_endpoint_auth_signing_alg_values_supported: if fapi2 {
                FAPI2_ALGORITHMS.to_vec()
            } else {
                ASSERTION_ALGORITHMS.to_vec()
            },
            introspection_endpoint_auth_methods_supported: match endpoints.introspection {
                Some(_) if fapi2 => vec!["private_key_jwt"],
                Some(_) => vec![
                    "client_secret_basic",
                    "client_secret_post",
                    "private_key_jwt",
                ],
                None => Vec::new(),
            },
            revocation_endpoint_auth_methods_supported: match endpoints.revocation {
                Some(_) if fapi2 => vec!["private_key_jwt"],
                Some(_) => vec![
                    "client_secret_basic",
                    "client_secret_post",
                    "private_key_jwt",
                    "none",
                ],
                None => Vec::new(),
            },
            code_challenge_methods_supported: vec!["S256"],
            authorization_response_iss_parameter_supported: true,
            dpop_signing_alg_values_supported: if fapi2 {
                FAPI2_ALGORITHMS.to_vec()
            } else {
                DPOP_ALGORITHMS.iter().map(|alg| alg.as_str()).collect()
            },
        }
    }
}

/// The algorithms a client's registered keys may have (HS256 is never one: a client
/// registers public keys only).
pub(crate) const ASSERTION_ALGORITHMS: [&str; 4] = ["ES256", "EdDSA", "PS256", "RS256"];

/// The algorithms the FAPI 2.0 profile lets proofs and assertions use (§5.4.1).
pub(crate) const FAPI2_ALGORITHMS: [&str; 3] = ["ES256", "EdDSA", "PS256"];

/// `scheme://authority` of a URL, without its path.
pub(crate) fn origin_of(issuer: &str) -> &str {
    match issuer.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.find('/').map_or(rest.len(), |slash| slash);
            &issuer[..scheme.len() + 3 + authority]
        }
        None => issuer,
    }
}
