//! Checking an authorization request (RFC 6749 §4.1.1, PKCE, the OpenID Connect
//! parameters), wherever it came from: the authorization endpoint, or the pushed request
//! endpoint (RFC 9126), which answers every refusal as an error response instead of a
//! redirect.

use crate::authorization::{
    resolve_redirect_uri, AuthorizeOutcome, PendingAuthorization, VerifiedTarget, OPENID,
};
use crate::authorize_oidc::{OpenIdRequest, MAX_ID_TOKEN_HINT_LEN};
use crate::client::{ClientId, GrantType};
use crate::clock::Clock;
use crate::config::MAX_STATE_LEN;
use crate::engine::Engine;
use crate::error::{ErrorCode, Fault, OAuthError};
use crate::jose;
use crate::pkce::CodeChallenge;
use crate::request::Params;
use crate::scope_resolution::resolve_requested;
use crate::storage::Storage;

/// Where an authorization request came from: the endpoints check it alike, except that
/// only a request sent straight to the authorization endpoint can break a requirement to
/// push it first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestOrigin {
    /// Sent to the authorization endpoint with its parameters.
    Direct,
    /// Pushed (RFC 9126), checked at the pushed request endpoint or redeemed with its
    /// `request_uri`.
    Pushed,
}

/// What checking an authorization request found.
pub(crate) enum Checked<'p> {
    /// Valid.
    Pending(PendingAuthorization),
    /// Refused before the client and redirect URI were verified: nothing may go there.
    Page(OAuthError),
    /// Refused after: the error may go to the verified redirect URI.
    Redirect {
        error: OAuthError,
        redirect_uri: String,
        state: Option<&'p str>,
    },
}

impl Checked<'_> {
    fn page(description: &'static str) -> Self {
        Checked::Page(OAuthError::new(ErrorCode::InvalidRequest, description))
    }

    /// The authorization endpoint's answer.
    pub(crate) fn into_outcome(self, issuer: &str) -> AuthorizeOutcome {
        match self {
            Checked::Pending(pending) => AuthorizeOutcome::Pending(pending),
            Checked::Page(error) => AuthorizeOutcome::ErrorPage(error),
            Checked::Redirect {
                error,
                redirect_uri,
                state,
            } => VerifiedTarget {
                redirect_uri: &redirect_uri,
                state,
                issuer,
            }
            .error(&error),
        }
    }
}

/// Checks a `dpop_jkt` parameter: a SHA-256 JWK thumbprint, 43 base64url characters.
fn check_thumbprint(jkt: &str) -> Result<String, OAuthError> {
    let well_formed = jkt.len() == 43
        && jkt
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(OAuthError::invalid_request(
            "dpop_jkt is not a SHA-256 JWK thumbprint",
        ));
    }
    Ok(jkt.to_owned())
}

/// Parameters whose feature this server does not offer, refused by name (OpenID Connect
/// Core 1.0 §6 and §7.2.1; RFC 9101): better than ignoring what the client relies on.
const UNSUPPORTED: [(&str, ErrorCode, &str); 3] = [
    (
        "request",
        ErrorCode::RequestNotSupported,
        "request objects are not supported",
    ),
    (
        "request_uri",
        ErrorCode::RequestUriNotSupported,
        "only the request_uri of a pushed authorization request is taken",
    ),
    (
        "registration",
        ErrorCode::RegistrationNotSupported,
        "the registration parameter is not supported",
    ),
];

impl<S: Storage, C: Clock> Engine<S, C> {
    /// Checks an authorization request, from wherever it came.
    pub(crate) async fn check_authorization_request<'p>(
        &self,
        params: &'p Params,
        origin: RequestOrigin,
    ) -> Result<Checked<'p>, Fault> {
        for name in ["client_id", "redirect_uri"] {
            if params.is_repeated(name) {
                return Ok(Checked::page(
                    "the client_id or redirect_uri parameter is repeated",
                ));
            }
        }
        let Some(client_id) = params.get("client_id") else {
            return Ok(Checked::page("the client_id parameter is missing"));
        };
        let Ok(client_id) = ClientId::new(client_id) else {
            return Ok(Checked::page("unknown client"));
        };
        let Some(client) = self.storage.get_client(&client_id).await? else {
            return Ok(Checked::page("unknown client"));
        };
        let sent_redirect = params.get("redirect_uri");
        let redirect_uri = match resolve_redirect_uri(&client, sent_redirect) {
            Ok(uri) => uri,
            Err(error) => return Ok(Checked::Page(error)),
        };

        // The redirect URI is verified: from here on, errors go back to the client.
        // A state that is repeated or too long is not echoed.
        let state = params
            .single("state")
            .ok()
            .flatten()
            .filter(|state| state.len() <= MAX_STATE_LEN);
        let refuse = |error: OAuthError| Checked::Redirect {
            error,
            redirect_uri: redirect_uri.clone(),
            state,
        };
        if !params.repeated().is_empty() {
            return Ok(refuse(OAuthError::invalid_request(
                "a parameter is repeated",
            )));
        }
        if params.get("state").is_some_and(|s| s.len() > MAX_STATE_LEN) {
            return Ok(refuse(OAuthError::invalid_request("the state is too long")));
        }
        match params.get("response_type") {
            None => {
                return Ok(refuse(OAuthError::invalid_request(
                    "the response_type parameter is missing",
                )))
            }
            Some("code") => {}
            Some(_) => {
                return Ok(refuse(OAuthError::new(
                    ErrorCode::UnsupportedResponseType,
                    "only the code response type is supported",
                )))
            }
        }
        for (name, code, description) in UNSUPPORTED {
            if params.get(name).is_some() {
                return Ok(refuse(OAuthError::new(code, description)));
            }
        }
        if origin == RequestOrigin::Direct
            && (self.config.requires_pushed_authorization_requests()
                || client.requires_pushed_authorization_requests())
        {
            return Ok(refuse(OAuthError::invalid_request(
                "authorization requests must be pushed first (RFC 9126)",
            )));
        }
        if self.config.is_fapi2() && !client.is_confidential() {
            return Ok(refuse(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "the FAPI 2.0 profile serves confidential clients only",
            )));
        }
        // FAPI 2.0 §5.3.2.2: the pushed request names its redirect URI, even when the
        // client registered one only.
        if self.config.is_fapi2() && sent_redirect.is_none() {
            return Ok(refuse(OAuthError::invalid_request(
                "the FAPI 2.0 profile requires the redirect_uri parameter",
            )));
        }
        if params
            .get("response_mode")
            .is_some_and(|mode| mode != "query")
        {
            return Ok(refuse(OAuthError::invalid_request(
                "only response_mode=query is supported",
            )));
        }
        if !client.allows_grant(GrantType::AuthorizationCode) {
            return Ok(refuse(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "the client may not use the authorization code grant",
            )));
        }
        let code_challenge = match (
            params.get("code_challenge"),
            params.get("code_challenge_method"),
        ) {
            (None, None) if client.danger_pkce_optional() && !self.config.is_fapi2() => None,
            (None, _) => {
                return Ok(refuse(OAuthError::invalid_request(
                    "code_challenge is required (PKCE with S256)",
                )))
            }
            (Some(challenge), method) => match CodeChallenge::s256(challenge, method) {
                Ok(challenge) => Some(challenge),
                Err(e) => return Ok(refuse(OAuthError::invalid_request(e.to_string()))),
            },
        };
        let dpop_jkt = match params.get("dpop_jkt").map(check_thumbprint).transpose() {
            Ok(jkt) => jkt,
            Err(error) => return Ok(refuse(error)),
        };
        let scope = match resolve_requested(&client, params.get("scope")) {
            Ok(scope) => scope,
            Err(error) => return Ok(refuse(error)),
        };
        let now = self.clock.now();
        let openid = if scope.contains(OPENID) {
            let hinted = match params.get("id_token_hint") {
                Some(hint) => match self.hinted_subject(hint, &client_id) {
                    Some(subject) => Some(subject),
                    None => {
                        return Ok(refuse(OAuthError::invalid_request(
                            "the id_token_hint is not an ID token of this issuer for \
                             this client",
                        )))
                    }
                },
                None => None,
            };
            match OpenIdRequest::read(params, hinted, now) {
                Ok(request) => Some(Box::new(request)),
                Err(error) => return Ok(refuse(error)),
            }
        } else {
            None
        };
        Ok(Checked::Pending(PendingAuthorization {
            id: self.random.id()?,
            client_id,
            redirect_uri: redirect_uri.clone(),
            redirect_uri_sent: sent_redirect.is_some(),
            scope,
            state: state.map(str::to_owned),
            code_challenge,
            expires_at: now + self.config.pending_lifetime(),
            openid,
            dpop_jkt,
        }))
    }

    /// The `sub` of an `id_token_hint` that verifies against this engine's ID-token
    /// keys, for `client_id`; `None` if it does not.
    fn hinted_subject(&self, hint: &str, client_id: &ClientId) -> Option<String> {
        if hint.len() > MAX_ID_TOKEN_HINT_LEN {
            return None;
        }
        let keys = self.id_token_verification_keys();
        jose::id_token_hint::hinted_subject(hint, &keys, self.config.issuer(), client_id.as_str())
    }
}
