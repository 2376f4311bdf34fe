//! Pushed authorization requests (RFC 9126), without HTTP.
//!
//! A client posts its authorization request to the pushed request endpoint, authenticated
//! exactly as at the token endpoint; the engine checks it as an authorization request and
//! answers `201` with a `request_uri` that lives [`Config::pushed_request_lifetime`]
//! (a minute). The client then sends the user to the authorization endpoint with only
//! `client_id` and that `request_uri`; the engine answers from the pushed parameters
//! alone, and a `request_uri` is redeemed once, by the client that pushed it.
//!
//! The `request_uri` carries the pushed parameters sealed (see `pushed_request_seal`):
//! nothing is stored when a request is pushed, every instance sharing the sealing key can
//! redeem it, and redeeming it is marked in the store so that it works once across them.
//!
//! [`Config::pushed_request_lifetime`]: crate::Config::pushed_request_lifetime

use serde_json::json;

use crate::authorization::AuthorizeOutcome;
use crate::authorize_request::{Checked, RequestOrigin};
use crate::client::ClientId;
use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::{ErrorCode, Fault, OAuthError};
use crate::events::EventKind;
use crate::form_request::FormRequest;
use crate::pushed_request_seal::{PushedRequest, MAX_REQUEST_URI_LEN, REQUEST_URI_PREFIX};
use crate::request::Params;
use crate::response::Response;
use crate::secret::SecretHash;
use crate::storage::Storage;

/// What the pushed authorization request endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushOutcome {
    /// The request is valid and was sealed into a `request_uri`.
    Pushed(PushedAuthorization),
    /// The request was refused with this OAuth error (`400`, or `401` for the client's
    /// authentication).
    Refused(OAuthError),
}

/// A pushed request's handle: what the client sends to the authorization endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedAuthorization {
    request_uri: String,
    expires_in: i64,
}

impl PushedAuthorization {
    /// The `request_uri` (`urn:ietf:params:oauth:request_uri:` and the sealed request).
    pub fn request_uri(&self) -> &str {
        &self.request_uri
    }

    /// Seconds until the `request_uri` can no longer be redeemed.
    pub fn expires_in(&self) -> i64 {
        self.expires_in
    }
}

impl PushOutcome {
    /// As an HTTP response: `201` with `request_uri` and `expires_in` (RFC 9126 §2.2), or
    /// the error's status, JSON body and headers. Always `Cache-Control: no-store`.
    pub fn to_response(&self) -> Response {
        match self {
            PushOutcome::Pushed(pushed) => Response::json_no_store(
                201,
                &json!({
                    "request_uri": pushed.request_uri,
                    "expires_in": pushed.expires_in,
                }),
            ),
            PushOutcome::Refused(error) => Response::from_error(error),
        }
    }

    /// The pushed request, if accepted.
    pub fn pushed(&self) -> Option<&PushedAuthorization> {
        match self {
            PushOutcome::Pushed(pushed) => Some(pushed),
            PushOutcome::Refused(_) => None,
        }
    }

    /// The error, if refused.
    pub fn error(&self) -> Option<&OAuthError> {
        match self {
            PushOutcome::Pushed(_) => None,
            PushOutcome::Refused(error) => Some(error),
        }
    }
}

/// Whether `request_uri` has the form of the ones this engine hands out: the
/// authorization endpoint takes no other (a URL to fetch a request object from is
/// `request_uri_not_supported`).
pub(crate) fn is_pushed(request_uri: &str) -> bool {
    request_uri.starts_with(REQUEST_URI_PREFIX)
}

/// The parameters that authenticate the client at the endpoint: used there, never sealed
/// into the `request_uri`.
const AUTHENTICATION_PARAMS: [&str; 3] =
    ["client_secret", "client_assertion", "client_assertion_type"];

/// The parameters a pushed request seals: every one it came with but the client's
/// credentials, and the `client_id` (which a client authenticated by HTTP Basic need not
/// send) for the authorization endpoint to check again.
fn parameters_to_seal(params: &Params, client_id: &ClientId) -> Vec<(String, String)> {
    let mut sealed: Vec<(String, String)> = params
        .pairs()
        .filter(|(name, _)| !AUTHENTICATION_PARAMS.contains(name))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    if params.get("client_id").is_none() {
        sealed.push(("client_id".to_owned(), client_id.as_str().to_owned()));
    }
    sealed
}

/// Returns the refusal early from a `Result<_, OAuthError>`.
macro_rules! refuse_push {
    ($checked:expr) => {
        match $checked {
            Ok(value) => value,
            Err(error) => return Ok(PushOutcome::Refused(error)),
        }
    };
}

impl<S: Storage, C: Clock> Engine<S, C> {
    /// Answers a pushed authorization request (RFC 9126 §2): the client authenticated as
    /// at the token endpoint (a public client names itself with `client_id`), the request
    /// checked as an authorization request (every refusal is an error response here, never
    /// a redirect), and a `request_uri` for it.
    pub async fn push_authorization_request(
        &self,
        request: &FormRequest<'_>,
    ) -> Result<PushOutcome, Fault> {
        if self
            .config
            .endpoints()
            .pushed_authorization_request
            .is_none()
        {
            return Ok(PushOutcome::Refused(OAuthError::invalid_request(
                "pushed authorization requests are not served",
            )));
        }
        let params = refuse_push!(request.params());
        let params = &*params;
        if !params.repeated().is_empty() {
            return Ok(PushOutcome::Refused(OAuthError::invalid_request(
                "a parameter is repeated",
            )));
        }
        let client = refuse_push!(
            self.authenticate(params, request.authorization(), request.caller())
                .await?
        );
        // RFC 9126 §2.1: a pushed request cannot itself point at another.
        if params.get("request_uri").is_some() {
            return Ok(PushOutcome::Refused(OAuthError::invalid_request(
                "a pushed request may not carry a request_uri",
            )));
        }
        if params
            .get("client_id")
            .is_some_and(|named| named != client.id().as_str())
        {
            return Ok(PushOutcome::Refused(OAuthError::invalid_request(
                "the client_id is not the authenticated client",
            )));
        }
        let mut pushed = parameters_to_seal(params, client.id());
        // RFC 9449 §10.1: a proof sent with the pushed request binds the code to its key,
        // as `dpop_jkt` does; when both come they must name the same key.
        if let Some(dpop) = request.dpop() {
            let proof = refuse_push!(self.check_request_proof(dpop).await?);
            match params.get("dpop_jkt") {
                Some(named) if named != proof.jkt => {
                    return Ok(PushOutcome::Refused(OAuthError::new(
                        ErrorCode::InvalidDpopProof,
                        "dpop_jkt is not the thumbprint of the proof's key",
                    )))
                }
                Some(_) => {}
                None => pushed.push(("dpop_jkt".to_owned(), proof.jkt)),
            }
        }
        let checked_params = refuse_push!(Params::from_pairs(pushed.iter().cloned()));
        match self
            .check_authorization_request(&checked_params, RequestOrigin::Pushed)
            .await?
        {
            Checked::Pending(_) => {}
            Checked::Page(error) | Checked::Redirect { error, .. } => {
                return Ok(PushOutcome::Refused(error))
            }
        }
        let lifetime = self.config.pushed_request_lifetime();
        let sealed = PushedRequest {
            client_id: client.id().as_str().to_owned(),
            expires_at: self.clock.now() + lifetime,
            params: pushed,
        };
        let request_uri =
            self.pushed_request_key
                .seal(&self.random, self.config.issuer(), &sealed)?;
        if request_uri.len() > MAX_REQUEST_URI_LEN {
            return Ok(PushOutcome::Refused(OAuthError::invalid_request(
                "the pushed request is too large",
            )));
        }
        self.emit(|| EventKind::AuthorizationRequestPushed {
            client_id: client.id().as_str().to_owned(),
        });
        Ok(PushOutcome::Pushed(PushedAuthorization {
            request_uri,
            expires_in: lifetime.whole_seconds(),
        }))
    }

    /// Answers an authorization request that names a pushed request: `client_id` must be
    /// the client that pushed it, the `request_uri` unexpired and not redeemed before; the
    /// pushed parameters alone are then checked as the request. Every refusal of the
    /// `request_uri` is an error page (`invalid_request_uri`): the redirect URI is inside
    /// what could not be trusted.
    pub(crate) async fn authorize_pushed(
        &self,
        params: &Params,
        request_uri: &str,
    ) -> Result<AuthorizeOutcome, Fault> {
        let claimed = params.get("client_id");
        let refused = |reason: &'static str| {
            self.emit(|| EventKind::RequestUriRefused {
                client_id: claimed.map(str::to_owned),
                reason,
            });
            AuthorizeOutcome::ErrorPage(OAuthError::new(ErrorCode::InvalidRequestUri, reason))
        };
        if params.is_repeated("client_id") || params.is_repeated("request_uri") {
            return Ok(AuthorizeOutcome::ErrorPage(OAuthError::invalid_request(
                "the client_id or request_uri parameter is repeated",
            )));
        }
        let Some(claimed_id) = claimed.and_then(|id| ClientId::new(id).ok()) else {
            return Ok(AuthorizeOutcome::ErrorPage(OAuthError::invalid_request(
                "the client_id parameter is missing",
            )));
        };
        let Some(pushed) = self
            .pushed_request_key
            .open(self.config.issuer(), request_uri)
        else {
            return Ok(refused("the request_uri is unknown or was altered"));
        };
        if pushed.client_id != claimed_id.as_str() {
            return Ok(refused("the request_uri belongs to another client"));
        }
        if self.clock.now() >= pushed.expires_at {
            return Ok(refused("the request_uri expired"));
        }
        let once = SecretHash::of(&format!("pushed-request:{request_uri}"));
        if !self.storage.use_once(&once, pushed.expires_at).await? {
            return Ok(refused("the request_uri was used before"));
        }
        let pushed_params = match Params::from_pairs(pushed.params) {
            Ok(pushed_params) => pushed_params,
            Err(error) => return Ok(AuthorizeOutcome::ErrorPage(error)),
        };
        Ok(self
            .check_authorization_request(&pushed_params, RequestOrigin::Pushed)
            .await?
            .into_outcome(self.config.issuer()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dp04_client_credentials_are_never_sealed_and_the_client_id_always_is() {
        let server = ClientId::new("server").unwrap();
        let posted = Params::parse(
            "response_type=code&client_id=server&client_secret=s3cret&scope=read%3Ausers\
             &client_assertion_type=t&client_assertion=a.b.c",
        )
        .unwrap();
        let sealed = parameters_to_seal(&posted, &server);
        let names: Vec<&str> = sealed.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["response_type", "client_id", "scope"]);
        assert!(!sealed.iter().any(|(_, value)| value.contains("s3cret")));

        let basic = Params::parse("response_type=code&scope=read%3Ausers").unwrap();
        let sealed = parameters_to_seal(&basic, &server);
        assert_eq!(
            sealed.last(),
            Some(&("client_id".to_owned(), "server".to_owned()))
        );
    }
}
