//! What scope a request gets: the scopes a client asked for, checked against those it
//! may have, or its defaults when it asked for none; and the embedder's policy, which can
//! only narrow what a subject holds.

use async_trait::async_trait;

use crate::client::Client;
use crate::error::OAuthError;
use crate::scope::ScopeSet;

/// Resolves the scope of a request for a client: the scopes it asked for when it asked
/// (each must be allowed for the client, or the whole request is `invalid_scope`), or the
/// client's default scopes when it asked for none.
pub fn resolve_requested(client: &Client, requested: Option<&str>) -> Result<ScopeSet, OAuthError> {
    let Some(text) = requested else {
        if client.default_scopes().is_empty() {
            return Err(OAuthError::invalid_scope(
                "no scope was requested and the client has no default scope",
            ));
        }
        return Ok(client.default_scopes().clone());
    };
    let requested = ScopeSet::parse(text).map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
    if !requested.is_subset(client.allowed_scopes()) {
        return Err(OAuthError::invalid_scope(
            "the client may not request one of the scopes",
        ));
    }
    Ok(requested)
}

/// The embedder's say on which scopes a subject may hold, for example by role.
///
/// The engine asks it when a user approves a request (with the user's subject) and when a
/// client asks for a token for itself (`subject` is `None`). The result is intersected with
/// what was asked, so a policy can only narrow, never widen.
///
/// ```
/// use async_trait::async_trait;
/// use oauth_core::{Client, ScopePolicy, ScopeSet};
///
/// /// Only admins may write.
/// struct Roles;
///
/// #[async_trait]
/// impl ScopePolicy for Roles {
///     async fn permitted(&self, _client: &Client, subject: Option<&str>, asked: &ScopeSet) -> ScopeSet {
///         asked
///             .iter()
///             .filter(|s| !s.as_str().starts_with("write:") || subject == Some("admin"))
///             .cloned()
///             .collect()
///     }
/// }
/// ```
#[async_trait]
pub trait ScopePolicy: Send + Sync {
    /// The subset of `asked` that `subject` may hold through `client`.
    async fn permitted(&self, client: &Client, subject: Option<&str>, asked: &ScopeSet)
        -> ScopeSet;
}

/// The default policy: a subject may hold every scope the client may.
#[derive(Debug, Default, Clone, Copy)]
pub struct PermitAll;

#[async_trait]
impl ScopePolicy for PermitAll {
    async fn permitted(
        &self,
        _client: &Client,
        _subject: Option<&str>,
        asked: &ScopeSet,
    ) -> ScopeSet {
        asked.clone()
    }
}
