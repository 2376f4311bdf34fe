//! The authorization endpoint (RFC 6749 §4.1.1), without HTTP.
//!
//! [`Engine::authorize`](crate::Engine::authorize) validates a request and answers one of
//! three things ([`AuthorizeOutcome`]): an error page (when the client or redirect URI
//! cannot be trusted, nothing is ever sent to that URI), an error redirect, or a
//! [`PendingAuthorization`] that the embedder keeps while it logs the user in and asks
//! for consent, then passes to `approve` or `deny`.

use time::OffsetDateTime;

use crate::authorization::{
    resolve_redirect_uri, AuthorizationResponse, AuthorizeOutcome, PendingAuthorization,
    VerifiedTarget, OPENID,
};
use crate::client::Client;
use crate::error::{ErrorCode, OAuthError};
use crate::scope::ScopeSet;

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
