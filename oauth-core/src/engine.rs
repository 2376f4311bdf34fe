//! The engine: one value, generic over its storage and clock, that answers every endpoint.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use time::Duration;

use crate::client::{Client, ClientId, ClientKind};
use crate::clock::Clock;
use crate::config::Config;
use crate::error::Fault;
use crate::events::{DiscardEvents, Event, EventKind, EventSink};
use crate::issuer_binding::{belongs_to, issuer_tag, tagged_grant_id, IssuerTag};
use crate::jose::{KeySet, SigningKey, VerificationKey, VerificationKeys};
use crate::limits::{Limiter, NoLimits};
use crate::openid::{OpenId, OpenIdProvider};
use crate::pushed_request_seal::PushedRequestKey;
use crate::resource::TokenVerifier;
use crate::scope_resolution::{PermitAll, ScopePolicy};
use crate::secret::{Draw, RandomSource};
use crate::secret_cache::{VerifiedSecrets, DEFAULT_SECRET_MEMORY};
use crate::slow_hashing::{HashingPool, SlowHashing};
use crate::storage::{GrantId, PurgeReport, Storage};
use crate::token::{AccessTokenFormat, JwtIssuer};

/// How many records of each kind one store call of [`Engine::purge_expired`] deletes at
/// most: large enough that a purge of a busy day takes few calls, small enough that one
/// call (one SQLite transaction, one pass over a memory store's queues) holds its lock
/// for milliseconds.
pub const PURGE_BATCH: usize = 1000;

/// The authorization-server engine.
///
/// It holds no HTTP types and reads time only through its [`Clock`]. Build it with
/// [`Engine::builder`], and share it between request handlers behind an `Arc`; every
/// method takes `&self`.
pub struct Engine<S, C> {
    pub(crate) storage: S,
    pub(crate) clock: C,
    pub(crate) config: Config,
    pub(crate) random: RandomSource,
    pub(crate) scope_policy: Arc<dyn ScopePolicy>,
    pub(crate) jwt: Option<JwtIssuer>,
    /// The OpenID Connect provider: ID-token keys and the claims source.
    pub(crate) openid: Option<OpenId>,
    pub(crate) events: Arc<dyn EventSink>,
    pub(crate) limiter: Arc<dyn Limiter>,
    /// Seals pending authorizations and binds consent forms to them.
    pub(crate) sealing_key: ring::hmac::Key,
    /// Seals pushed authorization requests into their `request_uri`: derived from the
    /// sealing key, so every instance that shares one redeems the others' requests.
    pub(crate) pushed_request_key: PushedRequestKey,
    /// Where PBKDF2 client secrets (and the embedder's passwords) are derived.
    pub(crate) slow_hashing: Arc<dyn SlowHashing>,
    /// Recent successful checks of password-style client secrets.
    pub(crate) verified_secrets: VerifiedSecrets,
    /// The most PBKDF2 rounds of any client met, for the cost of an unknown id.
    pub(crate) slowest_iterations: AtomicU32,
    /// Whether the registry was read once for its slowest secret (see `client_auth`).
    pub(crate) registry_scanned: AtomicBool,
    /// The tag of the issuer every grant id of this engine begins with.
    pub(crate) issuer_tag: IssuerTag,
}

impl<S, C: fmt::Debug> fmt::Debug for Engine<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("issuer", &self.config.issuer())
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// How the engine issues JWT access tokens (RFC 9068): the keys that sign them and the
/// audience (`aud`) they are for. Give it to [`EngineBuilder::jwt_access_tokens`].
#[derive(Debug)]
#[must_use]
pub struct JwtAccessTokens {
    keys: KeySet,
    audience: String,
    include_auth_time: bool,
}

impl JwtAccessTokens {
    /// Tokens signed by the active key of `keys`, with `aud` set to `audience` (the
    /// resource servers' identifier).
    pub fn new(keys: KeySet, audience: impl Into<String>) -> Self {
        Self {
            keys,
            audience: audience.into(),
            include_auth_time: false,
        }
    }

    /// Whether tokens carry the `auth_time` claim: the time the user approved the grant
    /// (tokens from client credentials carry none). Off by default.
    pub fn include_auth_time(mut self, include: bool) -> Self {
        self.include_auth_time = include;
        self
    }
}

/// Builds an [`Engine`]: every setter is infallible, and [`EngineBuilder::build`] checks
/// the whole configuration once.
#[must_use = "a builder does nothing until build() is called"]
pub struct EngineBuilder<S, C> {
    storage: S,
    clock: C,
    config: Config,
    scope_policy: Arc<dyn ScopePolicy>,
    events: Arc<dyn EventSink>,
    limiter: Arc<dyn Limiter>,
    sealing_key: Option<Vec<u8>>,
    jwt: Option<JwtAccessTokens>,
    openid: Option<OpenIdProvider>,
    slow_hashing: Arc<dyn SlowHashing>,
    secret_memory: Duration,
}

impl<S, C: fmt::Debug> fmt::Debug for EngineBuilder<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineBuilder")
            .field("issuer", &self.config.issuer())
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl<S: Storage, C: Clock> EngineBuilder<S, C> {
    /// Sends audit events to `sink` (see [`crate::events`]); by default they are dropped.
    pub fn event_sink(mut self, sink: impl EventSink + 'static) -> Self {
        self.events = Arc::new(sink);
        self
    }

    /// Limits failed client authentications with `limiter` (see [`crate::limits`]); by
    /// default nothing is limited.
    pub fn limiter(mut self, limiter: impl Limiter + 'static) -> Self {
        self.limiter = Arc::new(limiter);
        self
    }

    /// The policy that narrows scopes per subject (for example by role); by default every
    /// subject may hold every scope its client may.
    pub fn scope_policy(mut self, policy: impl ScopePolicy + 'static) -> Self {
        self.scope_policy = Arc::new(policy);
        self
    }

    /// The secret (at least 32 bytes) that seals pending authorizations and binds consent
    /// forms to them, so that every instance of a deployment can open what another sealed.
    /// By default each engine draws its own at random.
    pub fn sealing_key(mut self, secret: &[u8]) -> Self {
        self.sealing_key = Some(secret.to_vec());
        self
    }

    /// Issues access tokens as JWTs (RFC 9068). Refresh tokens and codes stay opaque. Each
    /// JWT is also recorded by the hash of its `jti`, so that introspection sees it and
    /// revocation reaches it (see [`Engine::revoke`]). By default access tokens are opaque.
    pub fn jwt_access_tokens(mut self, jwt: JwtAccessTokens) -> Self {
        self.jwt = Some(jwt);
        self
    }

    /// Makes the engine an OpenID Connect provider (see [`crate::openid`]): ID tokens for
    /// grants with the `openid` scope, the discovery document, and the UserInfo endpoint,
    /// which [`Config::served_paths`] then lists. By default the engine is a plain OAuth
    /// server, and `openid` is a scope like any other.
    pub fn openid(mut self, provider: OpenIdProvider) -> Self {
        self.openid = Some(provider);
        self
    }

    /// Where slow derivations run: PBKDF2 client secrets, and the embedder's password
    /// checks through [`Engine::slow_hashing`]. By default they run on the process-wide
    /// [`HashingPool::shared`] (two threads), never on an async worker; give a pool of
    /// another size, or [`InPlace`](crate::InPlace) for no threads at all.
    pub fn slow_hashing(mut self, hashing: impl SlowHashing + 'static) -> Self {
        self.slow_hashing = Arc::new(hashing);
        self
    }

    /// How long a successful check of a password-style client secret is remembered, so
    /// that the same secret presented again costs one HMAC instead of a PBKDF2
    /// derivation (default [`DEFAULT_SECRET_MEMORY`](crate::DEFAULT_SECRET_MEMORY); zero
    /// remembers nothing). Failures are never remembered.
    pub fn secret_memory(mut self, lifetime: Duration) -> Self {
        self.secret_memory = lifetime;
        self
    }

    /// The engine, or [`Fault::Config`] for a sealing key under 32 bytes or an
    /// [`OpenIdProvider`] that does not hold (no RS256 set first, an algorithm twice, an
    /// HS256 set, a lifetime out of range, a `kid` naming two keys), or [`Fault::Random`]
    /// when the system generator cannot draw one.
    pub fn build(mut self) -> Result<Engine<S, C>, Fault> {
        let random = RandomSource::new();
        let sealing_key = match self.sealing_key {
            Some(secret) if secret.len() < 32 => {
                return Err(Fault::Config(
                    "the sealing key must be at least 32 bytes".into(),
                ))
            }
            Some(secret) => secret,
            None => {
                let mut secret = vec![0u8; 32];
                random.fill(&mut secret)?;
                secret
            }
        };
        let verified_secrets = VerifiedSecrets::new(&random, self.secret_memory)?;
        let jwt = self
            .jwt
            .map(|jwt| JwtIssuer::new(jwt.keys, jwt.audience, jwt.include_auth_time));
        let openid = match self.openid {
            Some(provider) => {
                let access_keys = jwt.as_ref().map(JwtIssuer::verification_keys);
                self.config.enable_openid();
                Some(provider.into_engine_part(access_keys.as_ref())?)
            }
            None => None,
        };
        Ok(Engine {
            slow_hashing: self.slow_hashing,
            verified_secrets,
            slowest_iterations: AtomicU32::new(0),
            registry_scanned: AtomicBool::new(false),
            issuer_tag: issuer_tag(self.config.issuer()),
            storage: self.storage,
            clock: self.clock,
            config: self.config,
            random,
            scope_policy: self.scope_policy,
            jwt,
            openid,
            events: self.events,
            limiter: self.limiter,
            pushed_request_key: PushedRequestKey::derive(&sealing_key)?,
            sealing_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &sealing_key),
        })
    }
}

impl<S: Storage, C: Clock> Engine<S, C> {
    /// A builder for an engine over `storage`, reading time from `clock`, configured by
    /// `config`; see [`EngineBuilder`] for what can be set.
    pub fn builder(storage: S, clock: C, config: Config) -> EngineBuilder<S, C> {
        EngineBuilder {
            storage,
            clock,
            config,
            scope_policy: Arc::new(PermitAll),
            events: Arc::new(DiscardEvents),
            limiter: Arc::new(NoLimits),
            sealing_key: None,
            jwt: None,
            openid: None,
            slow_hashing: Arc::new(HashingPool::shared()),
            secret_memory: DEFAULT_SECRET_MEMORY,
        }
    }

    /// A new grant id from the request's `draw`, tagged with this engine's issuer.
    pub(crate) fn new_grant_id(&self, draw: &mut Draw) -> Result<GrantId, Fault> {
        Ok(tagged_grant_id(&self.issuer_tag, draw.id()?))
    }

    /// Whether `grant` is this engine's (made under its issuer).
    pub(crate) fn owns_grant(&self, grant: &GrantId) -> bool {
        belongs_to(&self.issuer_tag, grant)
    }

    /// The limiter, for the embedder's own credential steps (the login form): check a key
    /// before verifying a password, and record the outcome after.
    pub fn limiter(&self) -> &dyn Limiter {
        &*self.limiter
    }

    /// The event sink, for the embedder's own events or a verifier it builds itself.
    pub fn event_sink(&self) -> Arc<dyn EventSink> {
        self.events.clone()
    }

    /// Reports the event `kind` builds, stamped with the engine's clock; builds nothing
    /// when the sink records nothing.
    pub(crate) fn emit(&self, kind: impl FnOnce() -> EventKind) {
        if self.events.is_enabled() {
            self.events.emit(&Event {
                at: self.clock.now(),
                kind: kind(),
            });
        }
    }

    /// The format access tokens are issued in.
    pub fn access_token_format(&self) -> AccessTokenFormat {
        match self.jwt {
            None => AccessTokenFormat::Opaque,
            Some(_) => AccessTokenFormat::Jwt,
        }
    }

    /// Replaces the whole signing key set at once (for example after loading the next
    /// state of a [`KeyDirectory`](crate::jose::KeyDirectory) rotation, or a set that
    /// [`KeyVault::refresh`](crate::jose::KeyVault::refresh) found changed in the store
    /// every instance shares). Does nothing for an engine that issues opaque access
    /// tokens.
    pub fn replace_signing_keys(&self, keys: KeySet) {
        if let Some(jwt) = &self.jwt {
            jwt.replace(keys);
        }
    }

    /// Makes `next` the signing key; the previous key keeps verifying until retired.
    /// Does nothing for an engine that issues opaque access tokens.
    pub fn rotate_signing_key(&self, next: SigningKey) {
        if let Some(jwt) = &self.jwt {
            jwt.rotate(next);
        }
    }

    /// Stops trusting the retired key `kid` (once no token it signed can still be live).
    pub fn retire_signing_key(&self, kid: &str) {
        if let Some(jwt) = &self.jwt {
            jwt.retire(kid);
        }
    }

    /// The JWKS document to serve at `jwks_uri`: the public keys of every key that signs
    /// (JWT access tokens, then ID tokens), each `kid` once, never an HMAC secret. Empty
    /// (`{"keys": []}`) for an engine that issues opaque access tokens and no ID tokens.
    pub fn jwks(&self) -> serde_json::Value {
        self.published_verification_keys().to_jwks()
    }

    /// Every key this engine publishes in its JWKS: the access-token keys, then the
    /// ID-token keys, each `kid` once.
    pub(crate) fn published_verification_keys(&self) -> VerificationKeys {
        let mut keys: Vec<VerificationKey> = match &self.jwt {
            Some(jwt) => jwt.verification_keys().iter().cloned().collect(),
            None => Vec::new(),
        };
        for key in self.id_token_verification_keys().iter() {
            if keys.iter().all(|k| k.kid() != key.kid()) {
                keys.push(key.clone());
            }
        }
        VerificationKeys::new(keys)
    }

    /// The keys of the ID tokens this engine signs (none without OpenID Connect): what
    /// an `id_token_hint` must verify against.
    pub(crate) fn id_token_verification_keys(&self) -> VerificationKeys {
        match &self.openid {
            Some(openid) => openid.keys.verification_keys(),
            None => VerificationKeys::default(),
        }
    }

    /// A verifier of this engine's access tokens, for a resource server in the same
    /// process: JWTs against the current keys with `aud` the engine's audience, and
    /// (through [`TokenVerifier::verify_with_store`]) opaque tokens and revocations.
    pub fn token_verifier(&self) -> TokenVerifier<&C> {
        let (keys, audience) = match &self.jwt {
            Some(jwt) => (jwt.verification_keys(), jwt.audience().to_owned()),
            None => (VerificationKeys::default(), String::new()),
        };
        TokenVerifier::tagged(
            self.config.issuer().to_owned(),
            audience,
            keys,
            &self.clock,
            self.issuer_tag,
        )
        .with_dpop_proof_window(self.config.dpop_proof_window())
        .with_event_sink(self.events.clone())
    }

    /// The storage.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where slow derivations run, for the embedder's own password checks (the login
    /// form): hand the derivation to it instead of running it on an async worker.
    pub fn slow_hashing(&self) -> &dyn SlowHashing {
        &*self.slow_hashing
    }

    /// Registers `client`, or replaces its registration. [`Fault::Config`] for a client
    /// whose registered `id_token_signed_response_alg` no ID-token key of this engine
    /// signs with (RS256, the default, always has one on an OpenID provider).
    pub async fn register_client(&self, client: Client) -> Result<(), Fault> {
        if let Some(alg) = client.registered_id_token_alg() {
            if !self.openid.as_ref().is_some_and(|o| o.keys.has(alg)) {
                return Err(Fault::Config(format!(
                    "no ID-token key signs with {alg}, which the client {} asks for",
                    client.id()
                )));
            }
        }
        if let ClientKind::ConfidentialPassword { iterations, .. } = client.kind() {
            self.slowest_iterations
                .fetch_max(*iterations, Ordering::Relaxed);
        }
        self.storage.put_client(client).await?;
        Ok(())
    }

    /// Removes the client `id` from the registry; answers whether it was registered.
    /// From then on every request naming it is refused (`invalid_client` at the token
    /// endpoint, an error page at the authorization endpoint), its refresh tokens
    /// included; its stored grants and tokens go at their expiry.
    pub async fn remove_client(&self, id: &ClientId) -> Result<bool, Fault> {
        Ok(self.storage.remove_client(id).await?)
    }

    /// Deletes everything that expired (see
    /// [`TokenStore::purge_expired_batch`](crate::TokenStore::purge_expired_batch)), in
    /// calls of at most [`PURGE_BATCH`] records of each kind until the store has no more,
    /// and answers the totals (`more` is then `false`). Between two calls other requests
    /// run, so a large purge never stalls them. Call it now and then, for example from a
    /// background task.
    pub async fn purge_expired(&self) -> Result<PurgeReport, Fault> {
        // One instant for the whole purge: what expires while it runs waits for the next.
        let before = self.clock.now();
        let mut total = PurgeReport::default();
        loop {
            let step = self
                .storage
                .purge_expired_batch(before, PURGE_BATCH)
                .await?;
            total = total + step;
            // A step that did nothing yet says there is more breaks the contract: stop
            // rather than spin. (A sweeping store's step may remove nothing and still
            // have looked at records: that is progress.)
            if !step.more || !step.did_work() {
                total.more = false;
                return Ok(total);
            }
        }
    }
}
