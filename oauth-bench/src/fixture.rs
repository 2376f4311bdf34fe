//! Engines, clients and the requests of each flow, as a client and an adapter would send
//! them. Everything a client would compute on its side (its PKCE pair, the fixed parts of
//! its requests) is made once, outside the timed loops.

use oauth_core::{FormRequest, JwtAccessTokens, FORM_CONTENT_TYPE};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use oauth_core::jose::{Algorithm, KeySet, SigningKey};
use oauth_core::storage::{CodeRecord, GrantId, GrantRecord, SignIn};
use oauth_core::{
    AuthorizationResponse, AuthorizeOutcome, BearerRequest, Client, ClientId, Clock, CodeChallenge,
    Config, Engine, GrantType, IntrospectionOutcome, IssuedTokens, RandomSource, RevocationOutcome,
    ScopeSet, SecretHash, Storage, TokenOutcome, TokenVerifier,
};
use time::{Duration, OffsetDateTime};

/// The issuer of every bench engine.
pub const ISSUER: &str = "https://auth.example";
/// The audience of JWT access tokens.
pub const AUDIENCE: &str = "https://api.example";
/// The public client (authorization code + refresh).
pub const PUBLIC_ID: &str = "web-app";
/// The public client's redirect URI.
pub const REDIRECT_URI: &str = "https://app.example/callback";
/// The confidential client (client credentials, introspection, revocation).
pub const SERVICE_ID: &str = "service";
/// The confidential client's secret (a generated one, kept as its SHA-256).
pub const SERVICE_SECRET: &str = "9pJr2bE3kTq7vW1xYz4aB6cD8eF0gH2iJ4kL6mN8oP0";
/// The scopes asked for and granted.
pub const SCOPE: &str = "read:users write:users";
/// Where every bench clock starts.
pub const START: OffsetDateTime = time::macros::datetime!(2030-01-01 0:00 UTC);
/// The RFC 7636 Appendix B verifier: the client's PKCE verifier in every flow.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// The RSA key of the core's tests (2048 bits, PKCS#8).
pub const RSA_PKCS8: &[u8] = include_bytes!("../../oauth-core/testdata/rsa2048.pk8.der");

/// A bench engine: any store, on a [`BenchClock`].
pub type BenchEngine<S> = Engine<S, Arc<BenchClock>>;

/// A clock the benchmarks move by hand, like the test kit's `ManualClock`, but read
/// without a lock: `ManualClock` keeps its instant behind a mutex, which threads running
/// flows side by side would contend for, and a production clock does not.
#[derive(Debug)]
pub struct BenchClock {
    unix_seconds: AtomicI64,
}

impl BenchClock {
    /// A clock standing at `start` (whole seconds).
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            unix_seconds: AtomicI64::new(start.unix_timestamp()),
        }
    }

    /// Moves the clock forward by `by` (whole seconds).
    pub fn advance(&self, by: Duration) {
        self.unix_seconds
            .fetch_add(by.whole_seconds(), Ordering::Relaxed);
    }
}

impl Clock for BenchClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.unix_seconds.load(Ordering::Relaxed))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// How access tokens are issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tokens {
    /// Opaque, stored by hash.
    Opaque,
    /// JWTs signed with this algorithm.
    Jwt(Algorithm),
}

/// The four JWS algorithms, in table order.
pub const ALGORITHMS: [Algorithm; 4] = [
    Algorithm::Es256,
    Algorithm::EdDsa,
    Algorithm::Rs256,
    Algorithm::Hs256,
];

/// The private key bytes for `alg`: PKCS#8 (ES256, EdDSA, RS256) or the HMAC secret.
/// The engine and the bare floor are built from the same bytes.
pub fn key_bytes(alg: Algorithm) -> Vec<u8> {
    match alg {
        Algorithm::Rs256 => RSA_PKCS8.to_vec(),
        _ => SigningKey::generate(alg, "k1").expect("generate a key").1,
    }
}

/// The engine's signing key for `alg` from `bytes` (see [`key_bytes`]).
pub fn signing_key(alg: Algorithm, bytes: &[u8]) -> SigningKey {
    match alg {
        Algorithm::Hs256 => SigningKey::hmac("k1", bytes),
        _ => SigningKey::from_pkcs8(alg, "k1", bytes),
    }
    .expect("load the signing key")
}

/// An engine over `store` issuing `tokens`, with [`PUBLIC_ID`] and [`SERVICE_ID`]
/// registered. For JWTs, `key` is the key bytes of [`key_bytes`].
pub async fn engine<S: Storage>(store: S, tokens: Tokens, key: &[u8]) -> BenchEngine<S> {
    let config = Config::builder(ISSUER)
        .build()
        .expect("the issuer is valid");
    let mut builder = Engine::builder(store, Arc::new(BenchClock::new(START)), config);
    if let Tokens::Jwt(alg) = tokens {
        builder = builder.jwt_access_tokens(JwtAccessTokens::new(
            KeySet::new(signing_key(alg, key)),
            AUDIENCE,
        ));
    }
    let engine = builder.build().expect("the engine is valid");
    let scopes = ScopeSet::parse(SCOPE).expect("valid scopes");
    let public = Client::public(PUBLIC_ID)
        .and_then(|c| c.redirect_uri(REDIRECT_URI))
        .and_then(|c| c.allowed_scopes(scopes.clone()).build())
        .expect("a valid public client");
    let service = Client::confidential(SERVICE_ID, SERVICE_SECRET)
        .and_then(|c| c.redirect_uri(REDIRECT_URI))
        .and_then(|c| {
            c.allowed_scopes(scopes)
                .grant_types([GrantType::ClientCredentials, GrantType::RefreshToken])
                .build()
        })
        .expect("a valid confidential client");
    engine.register_client(public).await.expect("register");
    engine.register_client(service).await.expect("register");
    engine
}

/// Moves the clock past the life of everything issued so far and purges it, so that a
/// long measurement does not fill the store. Untimed.
pub async fn recycle<S: Storage>(engine: &BenchEngine<S>) {
    engine
        .clock()
        .advance(engine.config().grant_lifetime() + Duration::days(1));
    engine.purge_expired().await.expect("purge");
}

/// Recycles an engine when more than this many grants were issued since the last time,
/// so that a long measurement does not grow the store without end.
pub const RECYCLE_AFTER: u64 = 20_000;

/// [`recycle`]s `engine` when `issued` plus the `next` grants about to be issued would
/// pass [`RECYCLE_AFTER`] (counting from zero again), then counts the `next` ones.
/// Whether it recycled.
pub async fn maybe_recycle<S: Storage>(
    engine: &BenchEngine<S>,
    issued: &std::cell::Cell<u64>,
    next: u64,
) -> bool {
    let recycled = issued.get() + next > RECYCLE_AFTER;
    if recycled {
        recycle(engine).await;
        issued.set(0);
    }
    issued.set(issued.get() + next);
    recycled
}

/// The fixed parts of the public client's requests: its authorization request (the
/// query string, with the PKCE challenge) and the start of its token request body.
#[derive(Debug, Clone)]
pub struct FlowRequests {
    /// The authorization request's query string.
    pub query: String,
    /// The code exchange body up to `code=`.
    pub exchange_prefix: String,
    /// The `Authorization` header value of the confidential client.
    pub service_basic: String,
}

impl Default for FlowRequests {
    fn default() -> Self {
        Self::new()
    }
}

impl FlowRequests {
    /// The requests of the public client, with the RFC 7636 verifier.
    pub fn new() -> Self {
        let challenge = CodeChallenge::from_verifier(VERIFIER);
        let redirect = "https%3A%2F%2Fapp.example%2Fcallback";
        let query = format!(
            "response_type=code&client_id={PUBLIC_ID}&redirect_uri={redirect}\
             &scope=read%3Ausers+write%3Ausers&state=af0ifjsldkj\
             &code_challenge={}&code_challenge_method=S256",
            challenge.as_str()
        );
        let exchange_prefix = format!(
            "grant_type=authorization_code&client_id={PUBLIC_ID}&redirect_uri={redirect}\
             &code_verifier={VERIFIER}&code="
        );
        use base64::Engine as _;
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{SERVICE_ID}:{SERVICE_SECRET}"));
        Self {
            query,
            exchange_prefix,
            service_basic: format!("Basic {basic}"),
        }
    }

    /// The code exchange body for `code`.
    pub fn exchange_body(&self, code: &str) -> String {
        let mut body = String::with_capacity(self.exchange_prefix.len() + code.len());
        body.push_str(&self.exchange_prefix);
        body.push_str(code);
        body
    }
}

/// The value of `code` in a redirect location (base64url: never percent-encoded).
fn code_of(location: &str) -> &str {
    let start = location.find("code=").expect("the redirect carries a code") + 5;
    let rest = &location[start..];
    &rest[..rest.find('&').unwrap_or(rest.len())]
}

/// The authorization endpoint and the user's approval: returns the code.
pub async fn authorize_and_approve<S: Storage>(
    engine: &BenchEngine<S>,
    requests: &FlowRequests,
) -> String {
    let AuthorizeOutcome::Pending(pending) = engine
        .authorize_query(&requests.query)
        .await
        .expect("authorize")
    else {
        panic!("the authorization request is valid");
    };
    let AuthorizationResponse::Redirect(redirect) = engine
        .approve(&pending, "alice", pending.scope())
        .await
        .expect("approve")
    else {
        panic!("the approval redirects");
    };
    code_of(redirect.location()).to_owned()
}

/// The code exchange: returns the tokens.
pub async fn exchange<S: Storage>(
    engine: &BenchEngine<S>,
    requests: &FlowRequests,
    code: &str,
) -> IssuedTokens {
    let body = requests.exchange_body(code);
    issued(
        engine
            .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
            .await
            .expect("token"),
    )
}

/// One whole flow: authorize, approve, exchange the code with PKCE.
pub async fn full_flow<S: Storage>(
    engine: &BenchEngine<S>,
    requests: &FlowRequests,
) -> IssuedTokens {
    let code = authorize_and_approve(engine, requests).await;
    exchange(engine, requests, &code).await
}

/// A code for the public client stored directly, as `approve` stores it (untimed set-up
/// of the code exchange benchmarks). Returns the code.
pub async fn seed_code<S: Storage>(engine: &BenchEngine<S>, random: &RandomSource) -> String {
    seed_code_with(engine, random, SCOPE, None).await
}

/// A code for the public client granting `scope`, with the user's `sign_in` when it
/// stands for an OpenID Connect request, stored as `approve` stores it. Returns the code.
pub async fn seed_code_with<S: Storage>(
    engine: &BenchEngine<S>,
    random: &RandomSource,
    scope: &str,
    sign_in: Option<SignIn>,
) -> String {
    let code = random.secret().expect("random");
    let now = engine.clock().now();
    let grant = GrantRecord::new(
        GrantId(random.id().expect("random")),
        ClientId::new(PUBLIC_ID).expect("valid id"),
        Some("alice".to_owned()),
        ScopeSet::parse(scope).expect("valid scopes"),
        now,
        now + engine.config().grant_lifetime(),
    );
    let mut record = CodeRecord::new(
        SecretHash::of(&code),
        grant,
        "alice",
        now + engine.config().code_lifetime(),
    );
    record.redirect_uri = Some(REDIRECT_URI.to_owned());
    record.code_challenge = Some(CodeChallenge::from_verifier(VERIFIER));
    record.sign_in = sign_in;
    // Under a one-time key of its own, as approving a pending authorization marks one.
    let key = SecretHash::of(&random.secret().expect("random"));
    let expires_at = record.expires_at;
    assert!(engine
        .storage()
        .use_once_and_insert_code(&key, expires_at, record)
        .await
        .expect("store a code"));
    code
}

/// The refresh grant (public client): returns the new tokens.
pub async fn refresh<S: Storage>(engine: &BenchEngine<S>, refresh_token: &str) -> IssuedTokens {
    let body =
        format!("grant_type=refresh_token&client_id={PUBLIC_ID}&refresh_token={refresh_token}");
    issued(
        engine
            .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
            .await
            .expect("token"),
    )
}

/// The client credentials grant (confidential client, HTTP Basic).
pub async fn client_credentials<S: Storage>(
    engine: &BenchEngine<S>,
    requests: &FlowRequests,
) -> IssuedTokens {
    issued(
        engine
            .token(
                &FormRequest::new(
                    Some(FORM_CONTENT_TYPE),
                    b"grant_type=client_credentials&scope=read%3Ausers",
                )
                .with_authorization(Some(&requests.service_basic)),
            )
            .await
            .expect("token"),
    )
}

/// Introspection of `token` by the confidential client: whether it is active.
pub async fn introspect<S: Storage>(
    engine: &BenchEngine<S>,
    requests: &FlowRequests,
    token: &str,
) -> bool {
    let body = format!("token={token}");
    match engine
        .introspect(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
                .with_authorization(Some(&requests.service_basic)),
        )
        .await
        .expect("introspect")
    {
        IntrospectionOutcome::Active(_) => true,
        IntrospectionOutcome::Inactive => false,
        IntrospectionOutcome::Refused(error) => panic!("introspection refused: {error:?}"),
        other => panic!("an unknown introspection answer: {other:?}"),
    }
}

/// Revocation of `token` by the confidential client.
pub async fn revoke<S: Storage>(engine: &BenchEngine<S>, requests: &FlowRequests, token: &str) {
    let body = format!("token={token}&token_type_hint=access_token");
    match engine
        .revoke(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
                .with_authorization(Some(&requests.service_basic)),
        )
        .await
        .expect("revoke")
    {
        RevocationOutcome::Done => {}
        RevocationOutcome::Refused(error) => panic!("revocation refused: {error:?}"),
        other => panic!("an unknown revocation answer: {other:?}"),
    }
}

/// A resource server's check of an access token through the store (opaque or JWT), with
/// the verifier it built once at start-up.
pub async fn verify_with_store<S: Storage>(
    verifier: &TokenVerifier<&Arc<BenchClock>>,
    store: &S,
    header: &str,
    required: &ScopeSet,
) {
    verifier
        .verify_with_store(store, &BearerRequest::new(Some(header), None), required)
        .await
        .expect("verify")
        .into_result()
        .expect("the token is valid");
}

fn issued(outcome: TokenOutcome) -> IssuedTokens {
    match outcome {
        TokenOutcome::Issued(tokens) => tokens,
        TokenOutcome::Refused(error) => panic!("the token request was refused: {error:?}"),
        other => panic!("an unknown token answer: {other:?}"),
    }
}
