//! Engine configuration: the issuer, lifetimes and limits, with secure defaults.

use time::Duration;
use url::Url;

use crate::client::ClientId;
use crate::error::Fault;
use crate::scope::ScopeSet;

/// Longest `state` accepted at the authorization endpoint, in bytes. Longer is refused
/// with `invalid_request` rather than echoed.
pub const MAX_STATE_LEN: usize = 1024;

/// How the engine is configured.
///
/// Defaults follow RFC 9700 and OAuth 2.1: codes live 60 seconds, access tokens 10
/// minutes, refresh tokens 14 days between uses and 90 days in all, and a pending
/// authorization request 10 minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    issuer: String,
    code_lifetime: Duration,
    access_token_lifetime: Duration,
    refresh_token_lifetime: Duration,
    grant_lifetime: Duration,
    pending_lifetime: Duration,
    dpop_proof_window: Duration,
    pushed_request_lifetime: Duration,
    require_pushed_requests: bool,
    fapi2: bool,
    dpop_nonces: bool,
    endpoints: Endpoints,
    scopes_supported: Vec<String>,
    introspectors: Vec<ClientId>,
    /// Set by the engine built with an OpenID provider: the UserInfo endpoint and the
    /// discovery document are then served.
    openid: bool,
}

/// Where the adapter serves each endpoint, as paths under the issuer; they appear in the
/// metadata document (RFC 8414). The defaults are `/authorize`, `/token`, `/introspect`,
/// `/revoke`, `/par`, `/jwks.json` and `/userinfo`. Introspection, revocation and pushed
/// authorization requests are optional: set one to `None` and the adapters do not mount it
/// and the metadata does not advertise it.
/// UserInfo is served only by an OpenID provider (see [`ServedPaths::userinfo`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Endpoints {
    /// The authorization endpoint path.
    pub authorization: String,
    /// The token endpoint path.
    pub token: String,
    /// The introspection endpoint path, if served.
    pub introspection: Option<String>,
    /// The revocation endpoint path, if served.
    pub revocation: Option<String>,
    /// The pushed authorization request endpoint path (RFC 9126), if served.
    pub pushed_authorization_request: Option<String>,
    /// The JWKS document path.
    pub jwks: String,
    /// The UserInfo endpoint path (OpenID Connect Core 1.0 §5.3), served by an OpenID
    /// provider only.
    pub userinfo: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            authorization: "/authorize".into(),
            token: "/token".into(),
            introspection: Some("/introspect".into()),
            revocation: Some("/revoke".into()),
            pushed_authorization_request: Some("/par".into()),
            jwks: "/jwks.json".into(),
            userinfo: "/userinfo".into(),
        }
    }
}

/// Where the metadata document lives under an issuer without a path (RFC 8414 §3).
pub const METADATA_WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";

/// Where an OpenID provider's discovery document lives: *appended* to the issuer's path
/// (OpenID Connect Discovery 1.0 §4), unlike the RFC 8414 document.
pub const OPENID_CONFIGURATION_WELL_KNOWN: &str = "/.well-known/openid-configuration";

/// The request paths an adapter mounts each endpoint at: the issuer's own path (for an
/// issuer such as `https://example.com/tenant-a`) followed by the endpoint's path, and
/// the metadata document where RFC 8414 §3 puts it: the well-known prefix *inserted*
/// before the issuer's path (`/.well-known/oauth-authorization-server/tenant-a`). An
/// OpenID provider also serves UserInfo under the issuer's path and its discovery document
/// after it (`/tenant-a/.well-known/openid-configuration`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServedPaths {
    /// The authorization endpoint.
    pub authorization: String,
    /// The token endpoint.
    pub token: String,
    /// The introspection endpoint, if served.
    pub introspection: Option<String>,
    /// The revocation endpoint, if served.
    pub revocation: Option<String>,
    /// The pushed authorization request endpoint, if served.
    pub pushed_authorization_request: Option<String>,
    /// The JWKS document.
    pub jwks: String,
    /// The metadata document.
    pub metadata: String,
    /// The UserInfo endpoint: `Some` only on the configuration of an engine built with
    /// an OpenID provider ([`EngineBuilder::openid`](crate::EngineBuilder::openid)).
    pub userinfo: Option<String>,
    /// The OpenID Connect discovery document: `Some` only on the configuration of an
    /// engine built with an OpenID provider.
    pub openid_configuration: Option<String>,
}

impl Endpoints {
    fn check(&self) -> Result<(), Fault> {
        let paths = [
            Some(&self.authorization),
            Some(&self.token),
            self.introspection.as_ref(),
            self.revocation.as_ref(),
            self.pushed_authorization_request.as_ref(),
            Some(&self.jwks),
            Some(&self.userinfo),
        ];
        if paths
            .iter()
            .flatten()
            .any(|p| !p.starts_with('/') || p.contains(['?', '#']))
        {
            return Err(Fault::Config(
                "endpoint paths must start with / and hold no query".into(),
            ));
        }
        Ok(())
    }
}

impl Config {
    /// A builder for the server whose issuer identifier is `issuer` (RFC 8414 §2): an
    /// `https` URL without query or fragment (`http` only on a loopback address, for
    /// development). It is sent as `iss` in every authorization response (RFC 9207).
    /// Everything is checked once, in [`ConfigBuilder::build`].
    pub fn builder(issuer: impl Into<String>) -> ConfigBuilder {
        ConfigBuilder {
            config: Config {
                issuer: issuer.into(),
                code_lifetime: Duration::seconds(60),
                access_token_lifetime: Duration::minutes(10),
                refresh_token_lifetime: Duration::days(14),
                grant_lifetime: Duration::days(90),
                pending_lifetime: Duration::minutes(10),
                dpop_proof_window: crate::dpop::DEFAULT_DPOP_PROOF_WINDOW,
                pushed_request_lifetime: Duration::seconds(60),
                require_pushed_requests: false,
                fapi2: false,
                dpop_nonces: false,
                endpoints: Endpoints::default(),
                scopes_supported: Vec::new(),
                introspectors: Vec::new(),
                openid: false,
            },
        }
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// How long an authorization code lives.
    pub fn code_lifetime(&self) -> Duration {
        self.code_lifetime
    }

    /// How long an access token lives.
    pub fn access_token_lifetime(&self) -> Duration {
        self.access_token_lifetime
    }

    /// How long a refresh token lives between uses.
    pub fn refresh_token_lifetime(&self) -> Duration {
        self.refresh_token_lifetime
    }

    /// The absolute lifetime of a grant: no refresh extends it.
    pub fn grant_lifetime(&self) -> Duration {
        self.grant_lifetime
    }

    /// How long a pending authorization waits for the user's decision.
    pub fn pending_lifetime(&self) -> Duration {
        self.pending_lifetime
    }

    /// How far a DPoP proof's `iat` may be from the engine's clock, either way.
    pub fn dpop_proof_window(&self) -> Duration {
        self.dpop_proof_window
    }

    /// How long a pushed authorization request's `request_uri` may be used (RFC 9126
    /// §2.2): a minute by default.
    pub fn pushed_request_lifetime(&self) -> Duration {
        self.pushed_request_lifetime
    }

    /// Whether every client must push its authorization requests (RFC 9126 §5): the
    /// authorization endpoint then takes only a `request_uri`. A client can require it for
    /// itself alone ([`ClientBuilder::require_pushed_authorization_requests`](crate::ClientBuilder::require_pushed_authorization_requests)).
    pub fn requires_pushed_authorization_requests(&self) -> bool {
        self.require_pushed_requests
    }

    /// Whether DPoP proofs at the token and pushed request endpoints must carry a nonce of
    /// the engine's (see [`ConfigBuilder::require_dpop_nonces`]).
    pub fn requires_dpop_nonce(&self) -> bool {
        self.dpop_nonces
    }

    /// Whether the engine enforces the FAPI 2.0 Security Profile (see
    /// [`ConfigBuilder::fapi2_security_profile`]).
    pub fn is_fapi2(&self) -> bool {
        self.fapi2
    }

    /// The endpoint paths advertised in the metadata.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The request paths to mount every endpoint at (see [`ServedPaths`]): what the
    /// adapters serve, and what the metadata advertises.
    pub fn served_paths(&self) -> ServedPaths {
        let base = self.issuer_path();
        let under = |path: &str| format!("{base}{path}");
        ServedPaths {
            authorization: under(&self.endpoints.authorization),
            token: under(&self.endpoints.token),
            introspection: self.endpoints.introspection.as_deref().map(under),
            revocation: self.endpoints.revocation.as_deref().map(under),
            pushed_authorization_request: self
                .endpoints
                .pushed_authorization_request
                .as_deref()
                .map(under),
            jwks: under(&self.endpoints.jwks),
            metadata: format!("{METADATA_WELL_KNOWN}{base}"),
            userinfo: self.openid.then(|| under(&self.endpoints.userinfo)),
            openid_configuration: self.openid.then(|| under(OPENID_CONFIGURATION_WELL_KNOWN)),
        }
    }

    /// Marks the configuration as an OpenID provider's (the engine's builder does it).
    pub(crate) fn enable_openid(&mut self) {
        self.openid = true;
    }

    /// The issuer's path without a trailing `/`: empty for `https://auth.example`.
    fn issuer_path(&self) -> &str {
        let after_scheme = self
            .issuer
            .split_once("://")
            .map_or(self.issuer.as_str(), |(_, rest)| rest);
        match after_scheme.find('/') {
            Some(slash) => after_scheme[slash..].trim_end_matches('/'),
            None => "",
        }
    }

    /// The scopes advertised in the metadata (`scopes_supported`).
    pub fn scopes_supported(&self) -> &[String] {
        &self.scopes_supported
    }

    /// Whether `client` may introspect every token.
    pub fn is_introspector(&self, client: &ClientId) -> bool {
        self.introspectors.contains(client)
    }
}

/// Builds a [`Config`]; every setter is infallible and [`ConfigBuilder::build`] checks
/// the whole configuration at once.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until build() is called"]
pub struct ConfigBuilder {
    config: Config,
}

impl ConfigBuilder {
    /// The code lifetime (1 second to 10 minutes, RFC 6749 §4.1.2; default 60 seconds).
    pub fn code_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.code_lifetime = lifetime;
        self
    }

    /// The access token lifetime (1 second to 1 day; default 10 minutes).
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.access_token_lifetime = lifetime;
        self
    }

    /// The refresh token lifetime between uses (1 minute to 1 year; default 14 days).
    pub fn refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.refresh_token_lifetime = lifetime;
        self
    }

    /// The absolute grant lifetime (1 minute to 2 years; default 90 days).
    pub fn grant_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.grant_lifetime = lifetime;
        self
    }

    /// How long a pending authorization waits (10 seconds to 1 hour; default 10 minutes).
    pub fn pending_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.pending_lifetime = lifetime;
        self
    }

    /// How far a DPoP proof's `iat` may be from the engine's clock, either way (5 seconds
    /// to 5 minutes; default 60 seconds). A proof's replay mark is kept as long.
    pub fn dpop_proof_window(mut self, window: Duration) -> Self {
        self.config.dpop_proof_window = window;
        self
    }

    /// The endpoint paths advertised in the metadata; each must start with `/`.
    pub fn endpoints(mut self, endpoints: Endpoints) -> Self {
        self.config.endpoints = endpoints;
        self
    }

    /// The scopes advertised in the metadata.
    pub fn scopes_supported(mut self, scopes: &ScopeSet) -> Self {
        self.config.scopes_supported = scopes.iter().map(|s| s.as_str().to_owned()).collect();
        self
    }

    /// Lets `client` (a resource server, authenticated as a confidential client) introspect
    /// every token; other clients see only their own.
    pub fn introspector(mut self, client: ClientId) -> Self {
        if !self.config.introspectors.contains(&client) {
            self.config.introspectors.push(client);
        }
        self
    }

    /// How long a pushed request's `request_uri` may be used (between 5 seconds and 10
    /// minutes; a minute by default). Short: it stands for a whole authorization request.
    pub fn pushed_request_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.pushed_request_lifetime = lifetime;
        self
    }

    /// Requires every client to push its authorization requests (RFC 9126 §5): a request
    /// at the authorization endpoint without a `request_uri` is refused, and the metadata
    /// says so (`require_pushed_authorization_requests`). Needs the pushed authorization
    /// request endpoint to be served.
    pub fn require_pushed_authorization_requests(mut self) -> Self {
        self.config.require_pushed_requests = true;
        self
    }

    /// Requires a server nonce in every DPoP proof at the token and pushed request
    /// endpoints (RFC 9449 §8), so that a proof cannot be made ahead of time: a proof
    /// without one, or with a stale one, is answered `400 use_dpop_nonce` with the nonce
    /// to use in a `DPoP-Nonce` header, and the client retries. A nonce is no stored
    /// state: it is the current time window (the DPoP proof window) authenticated under
    /// the sealing key, so every instance sharing that key accepts the others'; the
    /// nonce of the window before is accepted too.
    pub fn require_dpop_nonces(mut self) -> Self {
        self.config.dpop_nonces = true;
        self
    }

    /// Enforces the baseline of the FAPI 2.0 Security Profile (OpenID Foundation, final),
    /// for APIs such as payments where a stolen token hurts most:
    ///
    /// - every authorization request is pushed (RFC 9126; this sets
    ///   [`require_pushed_authorization_requests`](Self::require_pushed_authorization_requests));
    /// - PKCE with `S256` for every client (a client registered with
    ///   [`danger_allow_missing_pkce`](crate::ClientBuilder::danger_allow_missing_pkce)
    ///   is refused);
    /// - confidential clients only, authenticated with `private_key_jwt`: public clients
    ///   and client secrets are refused as `invalid_client`;
    /// - every access token sender-constrained with DPoP (RFC 9449): a token request
    ///   without a proof is refused with `invalid_dpop_proof`;
    /// - proofs and client assertions signed with `ES256`, `EdDSA` or `PS256` only
    ///   (`RS256` is not among the algorithms the profile allows);
    /// - codes live at most 60 seconds (checked by [`build`](Self::build));
    /// - `iss` in every authorization response (always the case).
    ///
    /// JWT and opaque access tokens can both be bound; a resource server checks the proof
    /// with [`TokenVerifier::verify_with_store`](crate::TokenVerifier::verify_with_store).
    pub fn fapi2_security_profile(mut self) -> Self {
        self.config.fapi2 = true;
        self.config.require_pushed_requests = true;
        self
    }

    /// The configuration, or the first thing wrong with it as [`Fault::Config`].
    pub fn build(self) -> Result<Config, Fault> {
        let config = self.config;
        check_issuer(&config.issuer)?;
        config.endpoints.check()?;
        in_range(
            "code lifetime",
            config.code_lifetime,
            Duration::seconds(1),
            Duration::minutes(10),
        )?;
        in_range(
            "access token lifetime",
            config.access_token_lifetime,
            Duration::seconds(1),
            Duration::days(1),
        )?;
        in_range(
            "refresh token lifetime",
            config.refresh_token_lifetime,
            Duration::minutes(1),
            Duration::days(366),
        )?;
        in_range(
            "grant lifetime",
            config.grant_lifetime,
            Duration::minutes(1),
            Duration::days(731),
        )?;
        in_range(
            "pending lifetime",
            config.pending_lifetime,
            Duration::seconds(10),
            Duration::hours(1),
        )?;
        in_range(
            "DPoP proof window",
            config.dpop_proof_window,
            Duration::seconds(5),
            Duration::minutes(5),
        )?;
        in_range(
            "pushed request lifetime",
            config.pushed_request_lifetime,
            Duration::seconds(5),
            Duration::minutes(10),
        )?;
        if config.fapi2 && config.code_lifetime > Duration::seconds(60) {
            return Err(Fault::Config(
                "the FAPI 2.0 profile allows codes of at most 60 seconds".into(),
            ));
        }
        if config.require_pushed_requests && config.endpoints.pushed_authorization_request.is_none()
        {
            return Err(Fault::Config(
                "pushed authorization requests are required but their endpoint is not served"
                    .into(),
            ));
        }
        Ok(config)
    }
}

fn check_issuer(issuer: &str) -> Result<(), Fault> {
    let parsed = Url::parse(issuer).map_err(|_| Fault::Config("the issuer is not a URL".into()))?;
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    let scheme_ok = parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback);
    if !scheme_ok || parsed.query().is_some() || parsed.fragment().is_some() || issuer.contains('#')
    {
        return Err(Fault::Config(
            "the issuer must be an https URL without query or fragment".into(),
        ));
    }
    Ok(())
}

fn in_range(what: &str, value: Duration, min: Duration, max: Duration) -> Result<(), Fault> {
    if value < min || value > max {
        return Err(Fault::Config(format!(
            "the {what} must be between {min} and {max}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_must_be_https_without_query_or_fragment() {
        assert!(Config::builder("https://auth.example").build().is_ok());
        assert!(Config::builder("http://127.0.0.1:8080").build().is_ok());
        for bad in [
            "http://auth.example",
            "https://auth.example?x=1",
            "https://auth.example#f",
            "auth",
        ] {
            assert!(Config::builder(bad).build().is_err(), "{bad}");
        }
    }

    #[test]
    fn ir08_an_issuer_with_a_path_serves_under_it_and_its_metadata_per_rfc8414() {
        let plain = Config::builder("https://auth.example").build().unwrap();
        let paths = plain.served_paths();
        assert_eq!(paths.token, "/token");
        assert_eq!(paths.metadata, "/.well-known/oauth-authorization-server");
        for issuer in [
            "https://example.com/tenant-a",
            "https://example.com/tenant-a/",
        ] {
            let tenant = Config::builder(issuer).build().unwrap();
            let paths = tenant.served_paths();
            assert_eq!(paths.token, "/tenant-a/token");
            assert_eq!(paths.revocation.as_deref(), Some("/tenant-a/revoke"));
            assert_eq!(
                paths.metadata,
                "/.well-known/oauth-authorization-server/tenant-a"
            );
        }
    }

    #[test]
    fn lifetimes_and_paths_are_checked_at_build() {
        let builder = Config::builder("https://auth.example");
        assert!(builder
            .clone()
            .code_lifetime(Duration::hours(1))
            .build()
            .is_err());
        assert!(builder
            .clone()
            .code_lifetime(Duration::seconds(30))
            .build()
            .is_ok());
        let endpoints = Endpoints {
            revocation: Some("revoke".into()),
            ..Endpoints::default()
        };
        assert!(builder.clone().endpoints(endpoints).build().is_err());
        let without = Endpoints {
            introspection: None,
            ..Endpoints::default()
        };
        assert!(builder.endpoints(without).build().is_ok());
    }
}
