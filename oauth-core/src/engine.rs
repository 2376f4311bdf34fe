//! The engine: one value, generic over its storage and clock, that answers every endpoint.

use std::fmt;
use std::sync::Arc;

use crate::client::Client;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::Fault;
use crate::scope::{PermitAll, ScopePolicy};
use crate::secret::RandomSource;
use crate::storage::{PurgeReport, Storage};

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
    pub fn new(storage: S, clock: C, config: Config) -> Self {
        Self {
            storage,
            clock,
            config,
            random: RandomSource::new(),
            scope_policy: Arc::new(PermitAll),
        }
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
