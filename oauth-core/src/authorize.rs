//! The authorization endpoint (RFC 6749 §4.1.1), without HTTP.
//!
//! [`Engine::authorize`](crate::Engine::authorize) validates a request and answers one of
//! three things ([`AuthorizeOutcome`]): an error page (when the client or redirect URI
//! cannot be trusted, nothing is ever sent to that URI), an error redirect, or a
//! [`PendingAuthorization`] that the embedder keeps while it logs the user in and asks
//! for consent, then passes to `approve` or `deny`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::Url;

use crate::authorize_oidc::OpenIdRequest;
use crate::client::{Client, ClientId};
use crate::error::{ErrorCode, OAuthError};
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

/// `at`, without its fraction of a second (stores keep instants to the second).
fn whole_seconds(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(0).unwrap_or(at)
}

mod endpoint {
    use super::*;
    use crate::authentication::Authentication;
    use crate::authorize_request::RequestOrigin;
    use crate::clock::Clock;
    use crate::engine::Engine;
    use crate::error::Fault;
    use crate::events::EventKind;
    use crate::pushed_request::is_pushed;
    use crate::request::Params;
    use crate::secret::SecretHash;
    use crate::storage::{CodeRecord, GrantRecord, SignIn, Storage};

    impl<S: Storage, C: Clock> Engine<S, C> {
        /// Validates an authorization request given as its raw query string.
        pub async fn authorize_query(&self, query: &str) -> Result<AuthorizeOutcome, Fault> {
            match Params::parse(query) {
                Ok(params) => self.authorize(&params).await,
                // Nothing in an unparseable request can be trusted, the redirect URI least.
                Err(error) => Ok(AuthorizeOutcome::ErrorPage(error)),
            }
        }

        /// Validates an authorization request (RFC 6749 §4.1.1 with PKCE, RFC 7636).
        ///
        /// The client and redirect URI are checked first; until both are verified every
        /// error is an [`AuthorizeOutcome::ErrorPage`]. After that, errors redirect to the
        /// client with `error`, `state` and `iss`.
        ///
        /// A request with the `request_uri` of a pushed request (RFC 9126) is answered
        /// from the pushed parameters alone: see [`Engine::push_authorization_request`].
        pub async fn authorize(&self, params: &Params) -> Result<AuthorizeOutcome, Fault> {
            if let Some(request_uri) = params.get("request_uri").filter(|uri| is_pushed(uri)) {
                return self.authorize_pushed(params, request_uri).await;
            }
            Ok(self
                .check_authorization_request(params, RequestOrigin::Direct)
                .await?
                .into_outcome(self.config.issuer()))
        }

        /// The user approved `pending`, granting `granted` (a subset of what was asked;
        /// the scope policy may narrow it further). Issues a code and answers the redirect
        /// that carries it.
        ///
        /// `user` is the signed-in user: a subject (`"alice"`, signed in as of now) or an
        /// [`Authentication`] with the time and manner of the login, which an OpenID
        /// Connect request's ID tokens report (`auth_time`, `acr`, `amr`). For such a
        /// request the login must satisfy it (newer than the request for `prompt=login`,
        /// within `max_age`; [`Engine::interaction`] says so beforehand): if it does not,
        /// the answer is a `login_required` redirect.
        pub async fn approve(
            &self,
            pending: &PendingAuthorization,
            user: impl Into<Authentication>,
            granted: &ScopeSet,
        ) -> Result<AuthorizationResponse, Fault> {
            let user = user.into();
            let subject = user.subject();
            let client = match self.recheck(pending).await? {
                Ok(client) => client,
                Err(error) => return Ok(AuthorizationResponse::ErrorPage(error)),
            };
            let target = pending.target(self.config.issuer());
            if subject.is_empty() {
                return Err(Fault::Config("approve needs a non-empty subject".into()));
            }
            if !granted.is_subset(&pending.scope) {
                // An answer all the same: the request is spent, so the same form cannot
                // be approved afterwards with another subject or scope.
                if !self.answer_once(pending).await? {
                    return Ok(AuthorizationResponse::ErrorPage(already_answered()));
                }
                return Ok(redirect_error(
                    &target,
                    &OAuthError::invalid_scope(
                        "the granted scope is wider than the requested scope",
                    ),
                ));
            }
            let scope = self
                .scope_policy
                .permitted(&client, Some(subject), granted)
                .await
                .intersection(granted);
            if scope.is_empty() {
                if !self.answer_once(pending).await? {
                    return Ok(AuthorizationResponse::ErrorPage(already_answered()));
                }
                return Ok(redirect_error(
                    &target,
                    &OAuthError::new(
                        ErrorCode::AccessDenied,
                        "none of the requested scopes may be granted to this user",
                    ),
                ));
            }
            let now = self.clock.now();
            let sign_in = match pending.openid().filter(|_| scope.contains(OPENID)) {
                Some(request) => {
                    // A login "in the future" is the embedder's clock ahead of ours: now.
                    let auth_time = user.auth_time().map_or(now, |at| at.min(now));
                    if !request.accepts_login(auth_time, now) {
                        return self
                            .answer_with_error(
                                pending,
                                &OAuthError::new(
                                    ErrorCode::LoginRequired,
                                    "the login is older than the request allows",
                                ),
                            )
                            .await;
                    }
                    let mut sign_in = SignIn::new(whole_seconds(auth_time));
                    sign_in.acr = user.acr_value().map(str::to_owned);
                    sign_in.amr = user.amr_values().to_vec();
                    sign_in.nonce = request.nonce().map(str::to_owned);
                    Some(sign_in)
                }
                None => None,
            };
            // The code and the grant id in one draw: one call to the generator. The draw
            // ends here, so its bytes are not kept in this future across the awaits below.
            let (code, grant_id) = {
                let mut draw = self.random.draw(1, 1)?;
                (draw.secret()?, self.new_grant_id(&mut draw)?)
            };
            let grant = GrantRecord::new(
                grant_id,
                client.id().clone(),
                None,
                scope,
                now,
                now + self.config.grant_lifetime(),
            );
            let mut record = CodeRecord::new(
                SecretHash::of(&code),
                grant,
                subject,
                now + self.config.code_lifetime(),
            );
            record.redirect_uri = pending
                .redirect_uri_sent
                .then(|| pending.redirect_uri.clone());
            record.code_challenge = pending.code_challenge.clone();
            record.sign_in = sign_in;
            record.dpop_jkt = pending.dpop_jkt.clone();
            // Built now, while the record is at hand, if anyone listens.
            let approved = self
                .events
                .is_enabled()
                .then(|| EventKind::AuthorizationApproved {
                    client_id: record.client_id.as_str().to_owned(),
                    subject: record.subject.clone(),
                    scope: record.scope.clone(),
                    grant_id: record.grant_id.as_str().to_owned(),
                });
            // The answer's single-use mark and the code are stored together: a replayed
            // approval stores nothing.
            let once = answer_key(pending);
            if !self
                .storage
                .use_once_and_insert_code(&once, pending.expires_at, record)
                .await?
            {
                return Ok(AuthorizationResponse::ErrorPage(already_answered()));
            }
            if let Some(approved) = approved {
                self.emit(|| approved);
            }
            Ok(match target.code(&code) {
                Ok(redirect) => AuthorizationResponse::Redirect(redirect),
                Err(error) => AuthorizationResponse::ErrorPage(error),
            })
        }

        /// The user denied `pending`: answers the `access_denied` redirect.
        pub async fn deny(
            &self,
            pending: &PendingAuthorization,
        ) -> Result<AuthorizationResponse, Fault> {
            let answer = self
                .answer_with_error(
                    pending,
                    &OAuthError::new(ErrorCode::AccessDenied, "the user denied the request"),
                )
                .await?;
            if matches!(answer, AuthorizationResponse::Redirect(_)) {
                self.emit(|| EventKind::AuthorizationDenied {
                    client_id: pending.client_id.as_str().to_owned(),
                });
            }
            Ok(answer)
        }

        /// Answers `pending` with `error` at the client's redirect URI, once: checks it
        /// again, spends it, and redirects (or shows a page, if it is no longer valid or
        /// was answered before).
        pub(crate) async fn answer_with_error(
            &self,
            pending: &PendingAuthorization,
            error: &OAuthError,
        ) -> Result<AuthorizationResponse, Fault> {
            if let Err(error) = self.recheck(pending).await? {
                return Ok(AuthorizationResponse::ErrorPage(error));
            }
            if !self.answer_once(pending).await? {
                return Ok(AuthorizationResponse::ErrorPage(already_answered()));
            }
            Ok(redirect_error(&pending.target(self.config.issuer()), error))
        }

        /// Checks a pending request again: not expired, client still registered, redirect
        /// URI still registered for it.
        async fn recheck(
            &self,
            pending: &PendingAuthorization,
        ) -> Result<Result<Client, OAuthError>, Fault> {
            if self.clock.now() >= pending.expires_at {
                return Ok(Err(OAuthError::invalid_request(
                    "the authorization request expired",
                )));
            }
            let Some(client) = self.storage.get_client(&pending.client_id).await? else {
                return Ok(Err(OAuthError::invalid_request("unknown client")));
            };
            let sent = pending
                .redirect_uri_sent
                .then_some(pending.redirect_uri.as_str());
            match resolve_redirect_uri(&client, sent) {
                Ok(uri) if uri == pending.redirect_uri => Ok(Ok(client)),
                _ => Ok(Err(OAuthError::invalid_request(
                    "the redirect_uri is not registered for this client",
                ))),
            }
        }
    }

    impl<S: Storage, C: Clock> Engine<S, C> {
        /// Marks `pending` answered; `false` if it was answered before. A pending request
        /// gets one approval or one denial, even if its sealed form is replayed.
        async fn answer_once(&self, pending: &PendingAuthorization) -> Result<bool, Fault> {
            Ok(self
                .storage
                .use_once(&answer_key(pending), pending.expires_at)
                .await?)
        }
    }

    /// The single-use key of the answer to `pending`.
    fn answer_key(pending: &PendingAuthorization) -> SecretHash {
        SecretHash::of(&format!("pending-authorization:{}", pending.id))
    }

    fn already_answered() -> OAuthError {
        OAuthError::invalid_request("the authorization request was already answered")
    }

    impl PendingAuthorization {
        fn target<'a>(&'a self, issuer: &'a str) -> VerifiedTarget<'a> {
            VerifiedTarget {
                redirect_uri: &self.redirect_uri,
                state: self.state.as_deref(),
                issuer,
            }
        }
    }

    fn redirect_error(target: &VerifiedTarget<'_>, error: &OAuthError) -> AuthorizationResponse {
        match target.error(error) {
            AuthorizeOutcome::Redirect(redirect) => AuthorizationResponse::Redirect(redirect),
            AuthorizeOutcome::ErrorPage(error) => AuthorizationResponse::ErrorPage(error),
            AuthorizeOutcome::Pending(_) => AuthorizationResponse::ErrorPage(error.clone()),
        }
    }
}
