//! What an authorization request needs from the user, given their current sign-in: the
//! typed pause between a validated request and its approval.
//!
//! The engine never shows a page. After [`Engine::authorize`](crate::Engine::authorize)
//! answers a pending request, the embedder hands in the user's current sign-in (from its
//! session cookie, or none) and whether it remembers this user's consent to this client
//! and scope, and [`Engine::interaction`](crate::Engine::interaction) says what to do:
//! show the login page (and why), show the consent page, approve at once, or send the
//! answer it made (a `prompt=none` request that cannot be met without a page).

use crate::authorization::AuthorizationResponse;

/// What to do next with a pending authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Interaction {
    /// Show the login page, for this reason; then ask again with the new sign-in (or
    /// approve with it, if consent needs no page).
    Login(LoginReason),
    /// The sign-in will do; show the consent page, then approve or deny.
    Consent,
    /// The sign-in will do and consent is remembered: approve now, with no page.
    Approve,
    /// Send this answer (`login_required`, `consent_required` at the client's redirect
    /// URI, for `prompt=none`): the request is spent.
    Answer(AuthorizationResponse),
}

/// Why a pending authorization needs a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginReason {
    /// Nobody is signed in.
    NotSignedIn,
    /// The client asked for a fresh login (`prompt=login`).
    PromptLogin,
    /// The user's login is older than the client's `max_age`.
    MaxAgeExceeded,
    /// The client expects another user (its `id_token_hint` names someone else).
    OtherUser,
}

mod endpoint {
    use super::*;
    use crate::authentication::Authentication;
    use crate::authorization::PendingAuthorization;
    use crate::clock::Clock;
    use crate::engine::Engine;
    use crate::error::{ErrorCode, Fault, OAuthError};
    use crate::storage::Storage;

    impl<S: Storage, C: Clock> Engine<S, C> {
        /// What `pending` needs from the user, who is signed in as `session` (or not at
        /// all), and whose consent to this client and scope the embedder `remembers` or
        /// not (consent memory is the embedder's choice; without it, pass `false`).
        ///
        /// - Without a usable sign-in: [`Interaction::Login`] with the reason (nobody is
        ///   signed in; `prompt=login` asks for a login newer than the request; the login
        ///   is older than `max_age`; the `id_token_hint` names another user).
        /// - With one, [`Interaction::Consent`] unless consent is remembered and
        ///   `prompt=consent` was not sent, then [`Interaction::Approve`].
        /// - With `prompt=none` no page may be shown: where a page would be, the answer
        ///   is [`Interaction::Answer`], a `login_required` or `consent_required` redirect
        ///   to the client, and the request is spent.
        ///
        /// A plain OAuth request (no `openid` scope) has no `prompt` or `max_age`: it
        /// needs a login without a session, and consent unless remembered.
        pub async fn interaction(
            &self,
            pending: &PendingAuthorization,
            session: Option<&Authentication>,
            remembers_consent: bool,
        ) -> Result<Interaction, Fault> {
            let now = self.clock.now();
            let openid = pending.openid();
            let login = match session {
                None => Some(LoginReason::NotSignedIn),
                Some(user) => openid.and_then(|request| {
                    let auth_time = user.auth_time().unwrap_or(now);
                    if request
                        .hinted_subject()
                        .is_some_and(|hinted| hinted != user.subject())
                    {
                        Some(LoginReason::OtherUser)
                    } else if request.prompt().login() && auth_time < request.requested_at() {
                        Some(LoginReason::PromptLogin)
                    } else if !request.accepts_login(auth_time, now) {
                        Some(LoginReason::MaxAgeExceeded)
                    } else {
                        None
                    }
                }),
            };
            let silent = openid.is_some_and(|request| request.prompt().is_none());
            if let Some(reason) = login {
                if !silent {
                    return Ok(Interaction::Login(reason));
                }
                return self
                    .refuse_silently(pending, ErrorCode::LoginRequired, "the user must log in")
                    .await
                    .map(Interaction::Answer);
            }
            let ask_consent =
                !remembers_consent || openid.is_some_and(|request| request.prompt().consent());
            if !ask_consent {
                return Ok(Interaction::Approve);
            }
            if !silent {
                return Ok(Interaction::Consent);
            }
            self.refuse_silently(pending, ErrorCode::ConsentRequired, "the user must consent")
                .await
                .map(Interaction::Answer)
        }

        /// Answers `pending` with an error redirect (spending it), for a `prompt=none`
        /// request that would need a page.
        async fn refuse_silently(
            &self,
            pending: &PendingAuthorization,
            code: ErrorCode,
            description: &'static str,
        ) -> Result<AuthorizationResponse, Fault> {
            self.answer_with_error(pending, &OAuthError::new(code, description))
                .await
        }
    }
}
