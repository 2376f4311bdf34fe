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
    endpoints: Endpoints,
    scopes_supported: Vec<String>,
    introspectors: Vec<ClientId>,
}

/// Where the adapter serves each endpoint, as paths under the issuer; they appear in the
/// metadata document (RFC 8414). The defaults are `/authorize`, `/token`, `/introspect`,
/// `/revoke` and `/jwks.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The authorization endpoint path.
    pub authorization: String,
    /// The token endpoint path.
    pub token: String,
    /// The introspection endpoint path.
    pub introspection: String,
    /// The revocation endpoint path.
    pub revocation: String,
    /// The JWKS document path.
    pub jwks: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            authorization: "/authorize".into(),
            token: "/token".into(),
            introspection: "/introspect".into(),
            revocation: "/revoke".into(),
            jwks: "/jwks.json".into(),
        }
    }
}

impl Config {
    /// A configuration for the server whose issuer identifier is `issuer` (RFC 8414 §2):
    /// an `https` URL without query or fragment (`http` only on a loopback IP, for
    /// development). It is sent as `iss` in every authorization response (RFC 9207).
    pub fn new(issuer: &str) -> Result<Self, Fault> {
        let parsed =
            Url::parse(issuer).map_err(|_| Fault::Config("the issuer is not a URL".into()))?;
        let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
        let scheme_ok = parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback);
        if !scheme_ok
            || parsed.query().is_some()
            || parsed.fragment().is_some()
            || issuer.contains('#')
        {
            return Err(Fault::Config(
                "the issuer must be an https URL without query or fragment".into(),
            ));
        }
        Ok(Self {
            issuer: issuer.to_owned(),
            code_lifetime: Duration::seconds(60),
            access_token_lifetime: Duration::minutes(10),
            refresh_token_lifetime: Duration::days(14),
            grant_lifetime: Duration::days(90),
            pending_lifetime: Duration::minutes(10),
            endpoints: Endpoints::default(),
            scopes_supported: Vec::new(),
            introspectors: Vec::new(),
        })
    }

    /// The issuer identifier, exactly as configured.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// How long an authorization code can be redeemed (default 60 s).
    pub fn code_lifetime(&self) -> Duration {
        self.code_lifetime
    }

    /// How long an access token lives (default 10 min).
    pub fn access_token_lifetime(&self) -> Duration {
        self.access_token_lifetime
    }

    /// How long a refresh token lives if unused (default 14 days).
    pub fn refresh_token_lifetime(&self) -> Duration {
        self.refresh_token_lifetime
    }

    /// How long a grant lives in all, however often it is refreshed (default 90 days).
    pub fn grant_lifetime(&self) -> Duration {
        self.grant_lifetime
    }

    /// How long a pending authorization waits for the user (default 10 min).
    pub fn pending_lifetime(&self) -> Duration {
        self.pending_lifetime
    }

    /// The endpoint paths advertised in the metadata.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Sets the endpoint paths advertised in the metadata; each must start with `/`.
    pub fn with_endpoints(mut self, endpoints: Endpoints) -> Result<Self, Fault> {
        let paths = [
            &endpoints.authorization,
            &endpoints.token,
            &endpoints.introspection,
            &endpoints.revocation,
            &endpoints.jwks,
        ];
        if paths
            .iter()
            .any(|p| !p.starts_with('/') || p.contains(['?', '#']))
        {
            return Err(Fault::Config(
                "endpoint paths must start with / and hold no query".into(),
            ));
        }
        self.endpoints = endpoints;
        Ok(self)
    }

    /// The scopes advertised in the metadata (`scopes_supported`).
    pub fn scopes_supported(&self) -> &[String] {
        &self.scopes_supported
    }

    /// Sets the scopes advertised in the metadata.
    pub fn with_scopes_supported(mut self, scopes: &ScopeSet) -> Self {
        self.scopes_supported = scopes.iter().map(|s| s.as_str().to_owned()).collect();
        self
    }

    /// Lets `client` (a resource server, authenticated as a confidential client) introspect
    /// every token; other clients see only their own.
    pub fn with_introspector(mut self, client: ClientId) -> Self {
        if !self.introspectors.contains(&client) {
            self.introspectors.push(client);
        }
        self
    }

    /// Whether `client` may introspect every token.
    pub fn is_introspector(&self, client: &ClientId) -> bool {
        self.introspectors.contains(client)
    }

    /// Sets the code lifetime (1 second to 10 minutes, RFC 6749 §4.1.2).
    pub fn with_code_lifetime(mut self, lifetime: Duration) -> Result<Self, Fault> {
        self.code_lifetime = in_range(
            "code lifetime",
            lifetime,
            Duration::seconds(1),
            Duration::minutes(10),
        )?;
        Ok(self)
    }

    /// Sets the access token lifetime (1 second to 1 day).
    pub fn with_access_token_lifetime(mut self, lifetime: Duration) -> Result<Self, Fault> {
        self.access_token_lifetime = in_range(
            "access token lifetime",
            lifetime,
            Duration::seconds(1),
            Duration::days(1),
        )?;
        Ok(self)
    }

    /// Sets the refresh token lifetime between uses (1 minute to 1 year).
    pub fn with_refresh_token_lifetime(mut self, lifetime: Duration) -> Result<Self, Fault> {
        self.refresh_token_lifetime = in_range(
            "refresh token lifetime",
            lifetime,
            Duration::minutes(1),
            Duration::days(366),
        )?;
        Ok(self)
    }

    /// Sets the absolute grant lifetime (1 minute to 2 years).
    pub fn with_grant_lifetime(mut self, lifetime: Duration) -> Result<Self, Fault> {
        self.grant_lifetime = in_range(
            "grant lifetime",
            lifetime,
            Duration::minutes(1),
            Duration::days(731),
        )?;
        Ok(self)
    }

    /// Sets how long a pending authorization waits (10 seconds to 1 hour).
    pub fn with_pending_lifetime(mut self, lifetime: Duration) -> Result<Self, Fault> {
        self.pending_lifetime = in_range(
            "pending lifetime",
            lifetime,
            Duration::seconds(10),
            Duration::hours(1),
        )?;
        Ok(self)
    }
}

fn in_range(what: &str, value: Duration, min: Duration, max: Duration) -> Result<Duration, Fault> {
    if value < min || value > max {
        return Err(Fault::Config(format!(
            "the {what} must be between {min} and {max}"
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_must_be_https_without_query_or_fragment() {
        assert!(Config::new("https://auth.example").is_ok());
        assert!(Config::new("http://127.0.0.1:8080").is_ok());
        for bad in [
            "http://auth.example",
            "https://auth.example?x=1",
            "https://auth.example#f",
            "auth",
        ] {
            assert!(Config::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lifetimes_are_bounded() {
        let config = Config::new("https://auth.example").unwrap();
        assert!(config
            .clone()
            .with_code_lifetime(Duration::hours(1))
            .is_err());
        assert!(config.with_code_lifetime(Duration::seconds(30)).is_ok());
    }
}
