//! What the authorization endpoint answers, and the validated request it hands the
//! embedder to keep while the user decides: the types the endpoint, the request checks
//! and the pushed request endpoint share, below all three.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::Url;

use crate::authorize_oidc::OpenIdRequest;
use crate::client::{Client, ClientId};
use crate::error::OAuthError;
use crate::pkce::CodeChallenge;
use crate::redirect_location;
use crate::response::Response;
use crate::scope::ScopeSet;

/// What the authorization endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorizeOutcome {
    /// The request is valid: log the user in, ask consent, then call
    /// [`Engine::approve`](crate::Engine::approve) or [`Engine::deny`](crate::Engine::deny).
    Pending(PendingAuthorization),
    /// Answer with this redirect (an error for the client, sent to its verified URI).
    Redirect(AuthorizationRedirect),
    /// Show this error to the user as a page (HTTP 400). The client or redirect URI could
    /// not be verified, so nothing may be sent to it.
    ErrorPage(OAuthError),
}

/// The answer to an approval or denial.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorizationResponse {
    /// Send the user agent here (303).
    Redirect(AuthorizationRedirect),
    /// Show this error as a page: the pending request is no longer valid.
    ErrorPage(OAuthError),
}

/// A redirect back to the client's verified redirect URI, carrying `code` or `error`,
/// `state` and `iss`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRedirect {
    location: String,
}

impl AuthorizationRedirect {
    fn new(redirect_uri: &str, params: &[(&str, &str)]) -> Result<Self, OAuthError> {
        let location = redirect_location::with_query(redirect_uri, params)
            .ok_or_else(|| OAuthError::invalid_request("the redirect URI cannot be parsed"))?;
        Ok(Self { location })
    }

    /// The URL to redirect to.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The parameters the redirect carries (decoded), for tests and logs.
    pub fn params(&self) -> Vec<(String, String)> {
        Url::parse(&self.location)
            .map(|u| {
                u.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The value of one redirect parameter.
    pub fn param(&self, name: &str) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// As a `303 See Other` response.
    pub fn to_response(&self) -> Response {
        Response::redirect(&self.location)
    }
}

/// A validated authorization request waiting for the user's decision.
///
/// It is serializable so the embedder can keep it in its server-side session. If it must
/// travel through the browser, protect it from tampering (sign or encrypt it, or keep it
/// server-side behind an opaque handle). Approval checks it again: the client and its
/// redirect URI must still be registered and match, and it expires after
/// [`Config::pending_lifetime`](crate::Config::pending_lifetime).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    /// Random: what makes approval and denial single-use.
    pub(crate) id: String,
    pub(crate) client_id: ClientId,
    pub(crate) redirect_uri: String,
    pub(crate) redirect_uri_sent: bool,
    pub(crate) scope: ScopeSet,
    pub(crate) state: Option<String>,
    pub(crate) code_challenge: Option<CodeChallenge>,
    #[serde(with = "time::serde::timestamp")]
    pub(crate) expires_at: OffsetDateTime,
    /// An OpenID Connect request's own parameters (the scope has `openid`), boxed: a
    /// plain OAuth request should not carry their size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) openid: Option<Box<OpenIdRequest>>,
    /// The thumbprint of the DPoP key the code must be redeemed with (`dpop_jkt`, RFC
    /// 9449 §10), when the request named one or was pushed with a proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dpop_jkt: Option<String>,
}

impl PendingAuthorization {
    /// The client asking.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The scopes asked for (to show on the consent page).
    pub fn scope(&self) -> &ScopeSet {
        &self.scope
    }

    /// The redirect URI the answer will go to.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The client's `state`, echoed in the answer.
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }

    /// When the request expires.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// The OpenID Connect parameters, when this is an OpenID Connect request (its scope
    /// has `openid`): the nonce, `prompt`, `max_age`, and the hints for the login page.
    pub fn openid(&self) -> Option<&OpenIdRequest> {
        self.openid.as_deref()
    }
}

/// Where an authorization error goes once the client and redirect URI are verified.
pub(crate) struct VerifiedTarget<'a> {
    pub redirect_uri: &'a str,
    pub state: Option<&'a str>,
    pub issuer: &'a str,
}

impl VerifiedTarget<'_> {
    /// An error redirect carrying `error`, `error_description`, `state` and `iss`.
    pub fn error(&self, error: &OAuthError) -> AuthorizeOutcome {
        let mut params = vec![
            ("error", error.code().as_str()),
            ("error_description", error.description()),
        ];
        if let Some(state) = self.state {
            params.push(("state", state));
        }
        params.push(("iss", self.issuer));
        match AuthorizationRedirect::new(self.redirect_uri, &params) {
            Ok(redirect) => AuthorizeOutcome::Redirect(redirect),
            Err(page) => AuthorizeOutcome::ErrorPage(page),
        }
    }

    /// The success redirect carrying `code`, `state` and `iss`.
    pub fn code(&self, code: &str) -> Result<AuthorizationRedirect, OAuthError> {
        // Arrays, not a vector grown twice: every approval answers this.
        match self.state {
            Some(state) => AuthorizationRedirect::new(
                self.redirect_uri,
                &[("code", code), ("state", state), ("iss", self.issuer)],
            ),
            None => AuthorizationRedirect::new(
                self.redirect_uri,
                &[("code", code), ("iss", self.issuer)],
            ),
        }
    }
}

/// The redirect URI a request resolves to: the sent one if it matches a registration, the
/// only registered one if none was sent, otherwise an error page.
pub(crate) fn resolve_redirect_uri(
    client: &Client,
    sent: Option<&str>,
) -> Result<String, OAuthError> {
    match sent {
        Some(uri) => match client.match_redirect_uri(uri) {
            Some(_) => Ok(uri.to_owned()),
            None => Err(OAuthError::invalid_request(
                "the redirect_uri is not registered for this client",
            )),
        },
        None => match client.redirect_uris() {
            [only] => Ok(only.as_str().to_owned()),
            _ => Err(OAuthError::invalid_request(
                "the redirect_uri parameter is required for this client",
            )),
        },
    }
}

/// The scope that makes a request an OpenID Connect one.
pub(crate) const OPENID: &str = "openid";
