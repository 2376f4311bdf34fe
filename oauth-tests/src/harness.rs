//! The harness every flow test runs on: an engine over a given store, a manual clock, the
//! test clients registered, and helpers that build requests the way an adapter would.

use oauth_core::{FormRequest, JwtAccessTokens, FORM_CONTENT_TYPE};
use std::sync::Arc;

use oauth_core::testing::{assert_error_page, assert_redirect_error, assert_token_error};
use oauth_core::{
    AuthorizationRedirect, AuthorizationResponse, AuthorizeOutcome, Client, ClientStore,
    CodeChallenge, Config, Engine, ErrorCode, GrantType, IssuedTokens, ManualClock, OAuthError,
    PendingAuthorization, ScopeSet, SecretHash, Storage, TokenOutcome, TokenStore,
};
use time::macros::datetime;
use time::OffsetDateTime;

/// The issuer every test engine has.
pub const ISSUER: &str = "https://auth.example";
/// Secret of the confidential client `server`.
pub const SERVER_SECRET: &str = "server-secret-0123456789abcdef-0123456789";
/// Secret of the confidential client `other`.
pub const OTHER_SECRET: &str = "other-secret-0123456789abcdef-0123456789ab";
/// Secret of the confidential client `legacy` (PKCE opt-out).
pub const LEGACY_SECRET: &str = "legacy-secret-0123456789abcdef-0123456789a";
/// Redirect URI of `spa`.
pub const SPA_REDIRECT: &str = "https://app.example/cb";
/// Redirect URI of `server`.
pub const SERVER_REDIRECT: &str = "https://server.example/cb";
/// Where every test clock starts.
pub const START: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);
/// A valid PKCE verifier (RFC 7636 Appendix B).
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// The engine type of the harness.
pub type TestEngine<S> = Engine<Arc<S>, Arc<ManualClock>>;

/// An engine over a store, a clock to move, and the test clients:
/// - `spa`: public, `https://app.example/cb`, scopes `read:users write:users read:payments`,
///   default `read:users`;
/// - `native`: public, loopback `http://127.0.0.1/cb`;
/// - `multi`: public, two redirect URIs;
/// - `server` and `other`: confidential, code + refresh + client credentials;
/// - `legacy`: confidential, code only (no refresh), PKCE opt-out;
/// - `cc-only`: confidential, client credentials only.
pub struct Harness<S> {
    /// The engine under test.
    pub engine: TestEngine<S>,
    /// The store, shared with the engine.
    pub store: Arc<S>,
    /// The clock, shared with the engine.
    pub clock: Arc<ManualClock>,
}

fn scopes(text: &str) -> ScopeSet {
    ScopeSet::parse(text).expect("valid test scopes")
}

impl<S: Storage + 'static> Harness<S> {
    /// A harness over `store` (awaited if it is a future), with the test clients registered.
    pub async fn new(store: impl std::future::IntoFuture<Output = S>) -> Self {
        let store = Arc::new(store.await);
        let clock = Arc::new(ManualClock::new(START));
        let config = Config::builder(ISSUER).build().expect("valid issuer");
        let engine = Engine::builder(store.clone(), clock.clone(), config)
            .build()
            .unwrap();
        let all = scopes("openid profile email read:users write:users read:payments");
        let clients = [
            Client::public("spa")
                .and_then(|c| c.redirect_uri(SPA_REDIRECT))
                .map(|c| {
                    c.allowed_scopes(all.clone())
                        .default_scopes(scopes("read:users"))
                }),
            Client::public("native")
                .and_then(|c| c.redirect_uri("http://127.0.0.1/cb"))
                .map(|c| {
                    c.allowed_scopes(all.clone())
                        .default_scopes(scopes("read:users"))
                }),
            Client::public("multi")
                .and_then(|c| c.redirect_uri("https://multi.example/one"))
                .and_then(|c| c.redirect_uri("https://multi.example/two"))
                .map(|c| c.allowed_scopes(all.clone())),
            Client::confidential("server", SERVER_SECRET)
                .and_then(|c| c.redirect_uri(SERVER_REDIRECT))
                .map(|c| {
                    c.allowed_scopes(all.clone())
                        .default_scopes(scopes("read:users"))
                        .grant_types([
                            GrantType::AuthorizationCode,
                            GrantType::RefreshToken,
                            GrantType::ClientCredentials,
                        ])
                }),
            Client::confidential("other", OTHER_SECRET)
                .and_then(|c| c.redirect_uri("https://other.example/cb"))
                .map(|c| {
                    c.allowed_scopes(all.clone()).grant_types([
                        GrantType::AuthorizationCode,
                        GrantType::RefreshToken,
                        GrantType::ClientCredentials,
                    ])
                }),
            Client::confidential("legacy", LEGACY_SECRET)
                .and_then(|c| c.redirect_uri("https://legacy.example/cb"))
                .map(|c| {
                    c.allowed_scopes(all.clone())
                        .grant_types([GrantType::AuthorizationCode])
                        .danger_allow_missing_pkce()
                }),
            Client::confidential("cc-only", OTHER_SECRET).map(|c| {
                c.allowed_scopes(scopes("read:payments"))
                    .grant_types([GrantType::ClientCredentials])
            }),
        ];
        for client in clients {
            let client = client.and_then(|b| b.build()).expect("valid test client");
            store
                .put_client(client)
                .await
                .expect("store accepts clients");
        }
        Self {
            engine,
            store,
            clock,
        }
    }

    /// Runs the authorization endpoint on `pairs`, encoded as an adapter would.
    pub async fn authorize(&self, pairs: &[(&str, &str)]) -> AuthorizeOutcome {
        self.engine
            .authorize_query(&encode(pairs))
            .await
            .expect("no fault")
    }

    /// A valid code request for `spa` with `VERIFIER`, plus `extra` pairs (later pairs
    /// with the same name replace earlier ones; pass `("name", "")` to drop one).
    pub fn spa_request(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, String)> {
        let challenge = CodeChallenge::from_verifier(VERIFIER);
        let mut pairs: Vec<(&'static str, String)> = vec![
            ("response_type", "code".into()),
            ("client_id", "spa".into()),
            ("redirect_uri", SPA_REDIRECT.into()),
            ("scope", "read:users".into()),
            ("state", "s-123".into()),
            ("code_challenge", challenge.as_str().into()),
            ("code_challenge_method", "S256".into()),
        ];
        for (name, value) in extra {
            pairs.retain(|(n, _)| n != name);
            if !value.is_empty() {
                pairs.push((name, (*value).into()));
            }
        }
        pairs
    }

    /// Runs the authorization endpoint on owned pairs.
    pub async fn authorize_owned(&self, pairs: &[(&str, String)]) -> AuthorizeOutcome {
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.authorize(&borrowed).await
    }

    /// Authorizes with `pairs` and expects a pending request.
    pub async fn pending(&self, pairs: &[(&str, String)]) -> PendingAuthorization {
        match self.authorize_owned(pairs).await {
            AuthorizeOutcome::Pending(pending) => pending,
            other => panic!("expected a pending authorization, got {other:?}"),
        }
    }

    /// Approves `pending` as `subject` with everything asked, and returns the redirect.
    pub async fn approve(
        &self,
        pending: &PendingAuthorization,
        subject: &str,
    ) -> AuthorizationRedirect {
        match self
            .engine
            .approve(pending, subject, pending.scope())
            .await
            .expect("no fault")
        {
            AuthorizationResponse::Redirect(redirect) => redirect,
            other => panic!("expected a redirect, got {other:?}"),
        }
    }

    /// A code for `spa`, approved by `alice`, with `VERIFIER`.
    pub async fn spa_code(&self) -> String {
        self.spa_code_of("alice").await
    }

    /// A code for `spa`, approved by `subject`, with `VERIFIER`.
    pub async fn spa_code_of(&self, subject: &str) -> String {
        let pending = self.pending(&Self::spa_request(&[])).await;
        let redirect = self.approve(&pending, subject).await;
        redirect.param("code").expect("a code")
    }

    /// A code for the confidential `server` client with `VERIFIER` and `scope`, approved
    /// by `bob`.
    pub async fn server_code(&self, scope: &str) -> String {
        self.server_code_of(scope, "bob").await
    }

    /// A code for the confidential `server` client with `VERIFIER` and `scope`, approved
    /// by `subject`.
    pub async fn server_code_of(&self, scope: &str, subject: &str) -> String {
        let challenge = CodeChallenge::from_verifier(VERIFIER);
        let pairs = vec![
            ("response_type", "code".to_owned()),
            ("client_id", "server".to_owned()),
            ("redirect_uri", SERVER_REDIRECT.to_owned()),
            ("scope", scope.to_owned()),
            ("code_challenge", challenge.as_str().to_owned()),
            ("code_challenge_method", "S256".to_owned()),
        ];
        let pending = self.pending(&pairs).await;
        self.approve(&pending, subject)
            .await
            .param("code")
            .expect("a code")
    }

    /// The token endpoint on form `pairs` with an optional `Authorization` header.
    pub async fn token(&self, pairs: &[(&str, &str)], authorization: Option<&str>) -> TokenOutcome {
        self.engine
            .token(
                &FormRequest::new(Some(FORM_CONTENT_TYPE), encode(pairs).as_bytes())
                    .with_authorization(authorization),
            )
            .await
            .expect("no fault")
    }

    /// Redeems a `spa` code with `VERIFIER` and expects tokens.
    pub async fn redeem_spa(&self, code: &str) -> IssuedTokens {
        let outcome = self
            .token(
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("client_id", "spa"),
                    ("redirect_uri", SPA_REDIRECT),
                    ("code_verifier", VERIFIER),
                ],
                None,
            )
            .await;
        expect_issued(outcome)
    }

    /// Redeems a `server` code with `VERIFIER` and Basic authentication.
    pub async fn redeem_server(&self, code: &str) -> TokenOutcome {
        self.token(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", SERVER_REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some(&basic("server", SERVER_SECRET)),
        )
        .await
    }

    /// Refreshes as `spa`.
    pub async fn refresh_spa(&self, refresh_token: &str, scope: Option<&str>) -> TokenOutcome {
        let mut pairs = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", "spa"),
        ];
        if let Some(scope) = scope {
            pairs.push(("scope", scope));
        }
        self.token(&pairs, None).await
    }

    /// Whether `token` is live in storage now.
    pub async fn is_active(&self, token: &str) -> bool {
        self.store
            .get_token(&SecretHash::of(token))
            .await
            .expect("no storage fault")
            .is_some_and(|record| record.is_active(self.clock_now()))
    }

    fn clock_now(&self) -> OffsetDateTime {
        use oauth_core::Clock;
        self.clock.now()
    }
}

/// Form-urlencodes pairs the way a browser or HTTP client does (the test kit's `form`).
pub use oauth_core::testing::form as encode;

/// An `Authorization: Basic` value, form-urlencoded first (the test kit's `basic_auth`).
pub use oauth_core::testing::basic_auth as basic;

/// The tokens of an outcome that must be `Issued` (the test kit's `expect_tokens`).
pub use oauth_core::testing::expect_tokens as expect_issued;

/// Asserts that a token outcome is the error `code` with `status`, and returns it.
#[track_caller]
pub fn expect_refused(outcome: &TokenOutcome, code: ErrorCode, status: u16) -> OAuthError {
    let error = assert_token_error(outcome, code);
    assert_eq!(
        error.status(),
        status,
        "expected status {status} for {error}"
    );
    error.clone()
}

/// Asserts that an authorization outcome is an error page (400, no redirect) with `code`.
#[track_caller]
pub fn expect_page(outcome: &AuthorizeOutcome, code: ErrorCode) {
    assert_eq!(assert_error_page(outcome, code).status(), 400);
}

/// Asserts that an authorization outcome redirects to `redirect_uri` with `error=code`
/// and `iss` equal to the issuer, and returns the redirect.
#[track_caller]
pub fn expect_error_redirect(
    outcome: &AuthorizeOutcome,
    redirect_uri: &str,
    code: ErrorCode,
) -> AuthorizationRedirect {
    assert_redirect_error(outcome, code);
    let AuthorizeOutcome::Redirect(redirect) = outcome else {
        unreachable!("assert_redirect_error checked it is a redirect");
    };
    assert!(
        redirect.location().starts_with(redirect_uri),
        "redirect to {} is not to {redirect_uri}",
        redirect.location()
    );
    assert_eq!(redirect.param("iss").as_deref(), Some(ISSUER));
    redirect.clone()
}
/// The audience of the JWT access tokens of [`Harness::jwt_engine`].
pub const API_AUDIENCE: &str = "https://api.example";

impl<S: Storage + 'static> Harness<S> {
    /// A second engine over the same store and clock that issues JWT access tokens signed
    /// by `key` (with `aud` [`API_AUDIENCE`]).
    pub fn jwt_engine(&self, key: oauth_core::jose::SigningKey) -> TestEngine<S> {
        Engine::builder(
            self.store.clone(),
            self.clock.clone(),
            Config::builder(ISSUER).build().expect("valid issuer"),
        )
        .jwt_access_tokens(JwtAccessTokens::new(
            oauth_core::jose::KeySet::new(key),
            API_AUDIENCE,
        ))
        .build()
        .unwrap()
    }

    /// This harness, with its engine replaced by `engine` (same store and clock).
    pub fn with_engine(self, engine: TestEngine<S>) -> Self {
        Self {
            engine,
            store: self.store,
            clock: self.clock,
        }
    }

    /// Introspects `token` as `server` (Basic auth), with optional extra pairs.
    pub async fn introspect_as(
        &self,
        id: &str,
        secret: &str,
        token: &str,
        extra: &[(&str, &str)],
    ) -> oauth_core::IntrospectionOutcome {
        let mut pairs = vec![("token", token)];
        pairs.extend_from_slice(extra);
        self.engine
            .introspect(
                &FormRequest::new(Some(FORM_CONTENT_TYPE), encode(&pairs).as_bytes())
                    .with_authorization(Some(&basic(id, secret))),
            )
            .await
            .expect("no fault")
    }

    /// Revokes `token` with form `pairs` added and an optional `Authorization` header.
    pub async fn revoke(
        &self,
        pairs: &[(&str, &str)],
        authorization: Option<&str>,
    ) -> oauth_core::RevocationOutcome {
        self.engine
            .revoke(
                &FormRequest::new(Some(FORM_CONTENT_TYPE), encode(pairs).as_bytes())
                    .with_authorization(authorization),
            )
            .await
            .expect("no fault")
    }
}

/// The token endpoint's URL on every test engine: what a DPoP proof for it names.
pub const TOKEN_URL: &str = "https://auth.example/token";

/// The token endpoint of `engine` on form `pairs`, with an optional `Authorization`
/// header and, when given, one DPoP proof (made for `POST` [`TOKEN_URL`]).
pub async fn token_proved<S: Storage + 'static>(
    engine: &TestEngine<S>,
    pairs: &[(&str, &str)],
    authorization: Option<&str>,
    proof: Option<&str>,
) -> TokenOutcome {
    let body = encode(pairs);
    let mut request = FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
        .with_authorization(authorization);
    if let Some(proof) = proof {
        request = request.with_dpop([proof], "POST", TOKEN_URL);
    }
    engine.token(&request).await.expect("no fault")
}
