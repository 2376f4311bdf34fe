//! A flow driver: one client walking an engine through every step of OAuth.

use super::assertions::expect_tokens;
use super::pkce_pair::{random_state, PkcePair};
use super::requests::{basic_auth, form};
use crate::authorization::{
    AuthorizationRedirect, AuthorizationResponse, AuthorizeOutcome, PendingAuthorization,
};
use crate::clock::Clock;
use crate::engine::Engine;
use crate::form_request::{FormRequest, FORM_CONTENT_TYPE};
use crate::grant::TokenOutcome;
use crate::introspect::IntrospectionOutcome;
use crate::revoke::RevocationOutcome;
use crate::scope::ScopeSet;
use crate::storage::Storage;
use crate::token::IssuedTokens;

/// The client a [`Flow`] plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowClient {
    /// Its `client_id`.
    pub client_id: String,
    /// The redirect URI it sends.
    pub redirect_uri: String,
    /// Its secret (sent with HTTP Basic), or `None` for a public client.
    pub secret: Option<String>,
}

impl FlowClient {
    /// A public client (it identifies itself with `client_id` in the body).
    pub fn public(client_id: &str, redirect_uri: &str) -> Self {
        Self {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            secret: None,
        }
    }

    /// A confidential client (it authenticates with HTTP Basic).
    pub fn confidential(client_id: &str, redirect_uri: &str, secret: &str) -> Self {
        Self {
            secret: Some(secret.to_owned()),
            ..Self::public(client_id, redirect_uri)
        }
    }
}

/// Drives `engine` as `client` would, step by step. Each step returns the engine's typed
/// answer; the `*_form` methods give the exact pairs a step would send, so a test can
/// change them and send them with [`Flow::authorize_with`] or [`Flow::token_with`].
///
/// ```
/// # use oauth_core::{Client, Config, Engine, ScopeSet};
/// # use oauth_core::testing::{Flow, FlowClient, ManualClock, expect_tokens};
/// # use oauth_store_memory::MemoryStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let engine = Engine::builder(
///     MemoryStore::new(),
///     ManualClock::new(time::OffsetDateTime::UNIX_EPOCH),
///     Config::builder("https://auth.example").build().unwrap(),
/// ).build().unwrap();
/// engine
///     .register_client(
///         Client::public("app").unwrap()
///             .redirect_uri("https://app.example/cb").unwrap()
///             .allowed_scopes(ScopeSet::parse("read:users").unwrap())
///             .build().unwrap(),
///     )
///     .await
///     .unwrap();
/// let flow = Flow::new(&engine, FlowClient::public("app", "https://app.example/cb"));
/// let tokens = flow.login("alice", "read:users").await;
/// let refreshed = expect_tokens(flow.refresh(tokens.refresh_token.as_deref().unwrap(), None).await);
/// assert!(flow.introspect_active(&refreshed.access_token).await.is_none(), "public clients cannot introspect");
/// # }
/// ```
#[derive(Debug)]
pub struct Flow<'e, S, C> {
    engine: &'e Engine<S, C>,
    client: FlowClient,
    pkce: PkcePair,
    state: String,
}

impl<'e, S: Storage, C: Clock> Flow<'e, S, C> {
    /// A flow for `client` on `engine`, with a fresh PKCE pair and state.
    pub fn new(engine: &'e Engine<S, C>, client: FlowClient) -> Self {
        Self {
            engine,
            client,
            pkce: PkcePair::new(),
            state: random_state(),
        }
    }

    /// The PKCE pair this flow uses.
    pub fn pkce(&self) -> &PkcePair {
        &self.pkce
    }

    /// The `state` this flow sends.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The client.
    pub fn client(&self) -> &FlowClient {
        &self.client
    }

    /// The pairs of the authorization request for `scope` (or the client's default).
    pub fn authorize_form(&self, scope: Option<&str>) -> Vec<(String, String)> {
        let mut pairs = vec![
            ("response_type".to_owned(), "code".to_owned()),
            ("client_id".to_owned(), self.client.client_id.clone()),
            ("redirect_uri".to_owned(), self.client.redirect_uri.clone()),
            ("state".to_owned(), self.state.clone()),
            ("code_challenge".to_owned(), self.pkce.challenge.clone()),
            ("code_challenge_method".to_owned(), "S256".to_owned()),
        ];
        if let Some(scope) = scope {
            pairs.push(("scope".to_owned(), scope.to_owned()));
        }
        pairs
    }

    /// Sends an authorization request.
    pub async fn authorize(&self, scope: Option<&str>) -> AuthorizeOutcome {
        self.authorize_with(&self.authorize_form(scope)).await
    }

    /// Sends an authorization request made of `pairs` (for tampered requests).
    pub async fn authorize_with(&self, pairs: &[(String, String)]) -> AuthorizeOutcome {
        match self.engine.authorize_query(&form(pairs)).await {
            Ok(outcome) => outcome,
            Err(fault) => panic!("the engine faulted at the authorization endpoint: {fault}"),
        }
    }

    /// Sends an authorization request that must be valid, and returns it pending.
    pub async fn authorize_pending(&self, scope: Option<&str>) -> PendingAuthorization {
        match self.authorize(scope).await {
            AuthorizeOutcome::Pending(pending) => pending,
            AuthorizeOutcome::Redirect(redirect) => {
                panic!(
                    "expected a pending authorization, got the redirect {}",
                    redirect.location()
                )
            }
            AuthorizeOutcome::ErrorPage(error) => {
                panic!("expected a pending authorization, got an error page: {error}")
            }
        }
    }

    /// Approves `pending` as `subject`, granting `granted` (or everything asked), and
    /// returns the answer.
    pub async fn approve(
        &self,
        pending: &PendingAuthorization,
        subject: &str,
        granted: Option<&ScopeSet>,
    ) -> AuthorizationResponse {
        let granted = granted.unwrap_or(pending.scope());
        match self.engine.approve(pending, subject, granted).await {
            Ok(response) => response,
            Err(fault) => panic!("the engine faulted on approval: {fault}"),
        }
    }

    /// Authorizes `scope` and approves it as `subject`; returns the success redirect,
    /// checking that it carries this flow's `state` and the issuer.
    pub async fn approved_redirect(&self, subject: &str, scope: &str) -> AuthorizationRedirect {
        let pending = self.authorize_pending(Some(scope)).await;
        match self.approve(&pending, subject, None).await {
            AuthorizationResponse::Redirect(redirect) => {
                assert!(
                    redirect.param("state").as_deref() == Some(self.state.as_str()),
                    "the redirect does not carry the request's state: {}",
                    redirect.location()
                );
                assert!(
                    redirect.param("iss").as_deref() == Some(self.engine.config().issuer()),
                    "the redirect does not carry iss: {}",
                    redirect.location()
                );
                redirect
            }
            AuthorizationResponse::ErrorPage(error) => {
                panic!("approval answered an error page: {error}")
            }
        }
    }

    /// Authorizes and approves, and returns the code.
    pub async fn code(&self, subject: &str, scope: &str) -> String {
        let redirect = self.approved_redirect(subject, scope).await;
        match redirect.param("code") {
            Some(code) => code,
            None => panic!("the approval redirect has no code: {}", redirect.location()),
        }
    }

    /// The pairs of the code exchange for `code`.
    pub fn exchange_form(&self, code: &str) -> Vec<(String, String)> {
        vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code.to_owned()),
            ("redirect_uri".to_owned(), self.client.redirect_uri.clone()),
            ("code_verifier".to_owned(), self.pkce.verifier.clone()),
        ]
    }

    /// Redeems `code`.
    pub async fn exchange(&self, code: &str) -> TokenOutcome {
        self.token_with(&self.exchange_form(code)).await
    }

    /// The pairs of a refresh with `refresh_token`, optionally narrowing to `scope`.
    pub fn refresh_form(&self, refresh_token: &str, scope: Option<&str>) -> Vec<(String, String)> {
        let mut pairs = vec![
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("refresh_token".to_owned(), refresh_token.to_owned()),
        ];
        if let Some(scope) = scope {
            pairs.push(("scope".to_owned(), scope.to_owned()));
        }
        pairs
    }

    /// Refreshes with `refresh_token`.
    pub async fn refresh(&self, refresh_token: &str, scope: Option<&str>) -> TokenOutcome {
        self.token_with(&self.refresh_form(refresh_token, scope))
            .await
    }

    /// Asks for a token for the client itself (client credentials).
    pub async fn client_credentials(&self, scope: Option<&str>) -> TokenOutcome {
        let mut pairs = vec![("grant_type".to_owned(), "client_credentials".to_owned())];
        if let Some(scope) = scope {
            pairs.push(("scope".to_owned(), scope.to_owned()));
        }
        self.token_with(&pairs).await
    }

    /// Sends `pairs` to the token endpoint, authenticated as this client.
    pub async fn token_with(&self, pairs: &[(String, String)]) -> TokenOutcome {
        let (body, authorization) = self.authenticated(pairs);
        match self
            .engine
            .token(
                &FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
                    .with_authorization(authorization.as_deref()),
            )
            .await
        {
            Ok(outcome) => outcome,
            Err(fault) => panic!("the engine faulted at the token endpoint: {fault}"),
        }
    }

    /// Authorizes, approves as `subject` and redeems the code: the whole login, which
    /// must succeed.
    pub async fn login(&self, subject: &str, scope: &str) -> IssuedTokens {
        let code = self.code(subject, scope).await;
        expect_tokens(self.exchange(&code).await)
    }

    /// Introspects `token` as this client.
    pub async fn introspect(&self, token: &str) -> IntrospectionOutcome {
        let (body, authorization) = self.authenticated(&[("token".to_owned(), token.to_owned())]);
        match self
            .engine
            .introspect(
                &FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
                    .with_authorization(authorization.as_deref()),
            )
            .await
        {
            Ok(outcome) => outcome,
            Err(fault) => panic!("the engine faulted at the introspection endpoint: {fault}"),
        }
    }

    /// The introspection document of `token` if it is active (and this client may see
    /// it), `None` otherwise.
    pub async fn introspect_active(&self, token: &str) -> Option<serde_json::Value> {
        match self.introspect(token).await {
            IntrospectionOutcome::Active(document) => Some(document),
            _ => None,
        }
    }

    /// Revokes `token` as this client.
    pub async fn revoke(&self, token: &str) -> RevocationOutcome {
        let (body, authorization) = self.authenticated(&[("token".to_owned(), token.to_owned())]);
        match self
            .engine
            .revoke(
                &FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
                    .with_authorization(authorization.as_deref()),
            )
            .await
        {
            Ok(outcome) => outcome,
            Err(fault) => panic!("the engine faulted at the revocation endpoint: {fault}"),
        }
    }

    /// The body and `Authorization` header of a request from this client.
    fn authenticated(&self, pairs: &[(String, String)]) -> (String, Option<String>) {
        match &self.client.secret {
            Some(secret) => (
                form(pairs),
                Some(basic_auth(&self.client.client_id, secret)),
            ),
            None => {
                let mut pairs = pairs.to_vec();
                // A test that sends its own client_id (say, another client's) keeps it.
                if !pairs.iter().any(|(name, _)| name == "client_id") {
                    pairs.push(("client_id".to_owned(), self.client.client_id.clone()));
                }
                (form(&pairs), None)
            }
        }
    }
}
