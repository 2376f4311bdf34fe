//! The engine: one value, generic over its storage and clock, that answers every endpoint.

use std::fmt;
use std::sync::Arc;

use crate::client::Client;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::Fault;
use crate::events::{DiscardEvents, Event, EventKind, EventSink};
use crate::jose::{KeySet, SigningKey, VerificationKeys};
use crate::limits::{Limiter, NoLimits};
use crate::resource::TokenVerifier;
use crate::scope::{PermitAll, ScopePolicy};
use crate::secret::RandomSource;
use crate::storage::{PurgeReport, Storage};
use crate::token::{AccessTokenFormat, JwtIssuer};

/// The authorization-server engine.
///
/// It holds no HTTP types and reads time only through its [`Clock`]. Share it between
/// request handlers behind an `Arc`; every method takes `&self`.
pub struct Engine<S, C> {
    pub(crate) storage: S,
    pub(crate) clock: C,
    pub(crate) config: Config,
    pub(crate) random: RandomSource,
    pub(crate) scope_policy: Arc<dyn ScopePolicy>,
    pub(crate) jwt: Option<JwtIssuer>,
    pub(crate) events: Arc<dyn EventSink>,
    pub(crate) limiter: Arc<dyn Limiter>,
    /// `None` only if the system generator failed at construction: sealing then faults.
    pub(crate) sealing_key: Option<ring::hmac::Key>,
}

impl<S, C: fmt::Debug> fmt::Debug for Engine<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("issuer", &self.config.issuer())
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl<S: Storage, C: Clock> Engine<S, C> {
    /// An engine over `storage`, reading time from `clock`, configured by `config`. Every
    /// subject may hold every scope its client may; see [`Engine::with_scope_policy`].
    ///
    /// The key that seals pending authorizations ([`Engine::seal_pending`]) is random per
    /// engine; engines behind one load balancer share one with [`Engine::with_sealing_key`].
    pub fn new(storage: S, clock: C, config: Config) -> Self {
        let random = RandomSource::new();
        let mut key = [0u8; 32];
        let sealing_key = random
            .fill(&mut key)
            .ok()
            .map(|()| ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key));
        Self {
            storage,
            clock,
            config,
            random,
            scope_policy: Arc::new(PermitAll),
            jwt: None,
            events: Arc::new(DiscardEvents),
            limiter: Arc::new(NoLimits),
            sealing_key,
        }
    }

    /// Sends audit events to `sink` (see [`crate::events`]).
    pub fn with_event_sink(mut self, sink: impl EventSink + 'static) -> Self {
        self.events = Arc::new(sink);
        self
    }

    /// Limits failed client authentications with `limiter` (see [`crate::limits`]).
    pub fn with_limiter(mut self, limiter: impl Limiter + 'static) -> Self {
        self.limiter = Arc::new(limiter);
        self
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

    /// Sets the secret that seals pending authorizations (at least 32 bytes), so that
    /// every instance of a deployment can open what another sealed.
    pub fn with_sealing_key(mut self, secret: &[u8]) -> Result<Self, Fault> {
        if secret.len() < 32 {
            return Err(Fault::Config(
                "the sealing key must be at least 32 bytes".into(),
            ));
        }
        self.sealing_key = Some(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret));
        Ok(self)
    }

    /// Issues access tokens as JWTs (RFC 9068) signed by the active key of `keys`, with
    /// `aud` set to `audience` (the resource servers' identifier). Refresh tokens and
    /// codes stay opaque. Each JWT is also recorded by the hash of its `jti`, so that
    /// introspection sees it and revocation reaches it (see [`Engine::revoke`]).
    pub fn with_jwt_access_tokens(mut self, keys: KeySet, audience: impl Into<String>) -> Self {
        self.jwt = Some(JwtIssuer::new(keys, audience.into(), false));
        self
    }

    /// Like [`Engine::with_jwt_access_tokens`], adding the `auth_time` claim: the time the
    /// user approved the grant (tokens from client credentials carry none).
    pub fn with_jwt_access_tokens_and_auth_time(
        mut self,
        keys: KeySet,
        audience: impl Into<String>,
    ) -> Self {
        self.jwt = Some(JwtIssuer::new(keys, audience.into(), true));
        self
    }

    /// The format access tokens are issued in.
    pub fn access_token_format(&self) -> AccessTokenFormat {
        match self.jwt {
            None => AccessTokenFormat::Opaque,
            Some(_) => AccessTokenFormat::Jwt,
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

    /// The JWKS document to serve at `jwks_uri`: the public keys, never an HMAC secret.
    /// Empty (`{"keys": []}`) for an engine that issues opaque access tokens.
    pub fn jwks(&self) -> serde_json::Value {
        match &self.jwt {
            Some(jwt) => jwt.jwks(),
            None => serde_json::json!({"keys": []}),
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
        TokenVerifier::new(self.config.issuer(), audience, keys, &self.clock)
            .with_event_sink(self.events.clone())
    }

    /// Sets the policy that narrows scopes per subject (for example by role).
    pub fn with_scope_policy(mut self, policy: impl ScopePolicy + 'static) -> Self {
        self.scope_policy = Arc::new(policy);
        self
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

    /// Registers `client`, or replaces its registration.
    pub async fn register_client(&self, client: Client) -> Result<(), Fault> {
        self.storage.put_client(client).await?;
        Ok(())
    }

    /// Deletes what expired (see [`TokenStore::purge_expired`](crate::TokenStore::purge_expired)).
    /// Call it now and then, for example from a background task.
    pub async fn purge_expired(&self) -> Result<PurgeReport, Fault> {
        Ok(self.storage.purge_expired(self.clock.now()).await?)
    }
}
