//! Audit events: what happened, for logs, metrics and alerts.
//!
//! The engine reports every security-relevant outcome to an [`EventSink`]: grants
//! approved or denied, tokens issued, client authentication failures, refused grants,
//! code replays and refresh-token reuse (each of which revoked a grant), revocations,
//! introspections, refused bearer tokens and rate limits. Events carry identifiers
//! (client, subject, grant, `jti`) and never a secret, code or token. Each carries the
//! time from the engine's [`Clock`](crate::Clock), so tests see exact instants.
//!
//! The default sink drops events. With the `tracing` feature, `TracingSink` emits each as
//! a `tracing` event under the target `finrift::audit`; [`RecordingSink`] keeps them in
//! memory for tests.

use std::sync::Mutex;

use time::OffsetDateTime;

use crate::scope::ScopeSet;

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When it happened, by the engine's clock.
    pub at: OffsetDateTime,
    /// What happened.
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// A user approved an authorization request; a code was issued.
    AuthorizationApproved {
        /// The client.
        client_id: String,
        /// The user.
        subject: String,
        /// The scope granted.
        scope: ScopeSet,
        /// The grant the code starts.
        grant_id: String,
    },
    /// A client pushed an authorization request (RFC 9126) and was given a `request_uri`.
    AuthorizationRequestPushed {
        /// The client.
        client_id: String,
    },
    /// The authorization endpoint refused a pushed request's `request_uri`: altered,
    /// expired, used before, or named with another client's id.
    RequestUriRefused {
        /// The `client_id` the request named, if any.
        client_id: Option<String>,
        /// Why, for logs.
        reason: &'static str,
    },
    /// A user denied an authorization request.
    AuthorizationDenied {
        /// The client.
        client_id: String,
    },
    /// The token endpoint issued tokens.
    TokenIssued {
        /// `authorization_code`, `client_credentials` or `refresh_token`.
        grant_type: &'static str,
        /// The client.
        client_id: String,
        /// The user, or `None` for a client acting for itself.
        subject: Option<String>,
        /// The access token's scope.
        scope: ScopeSet,
        /// The grant the tokens belong to.
        grant_id: String,
        /// The access token's `jti`, for JWT access tokens.
        token_id: Option<String>,
        /// Whether a refresh token was issued.
        refresh_token: bool,
    },
    /// Client authentication failed (wrong secret, unknown client, ...).
    ClientAuthenticationFailed {
        /// The client id presented, if any.
        client_id: Option<String>,
        /// Which check failed, for logs, where the engine tells: a refused client
        /// assertion names it (the client itself is only told `invalid_client`).
        detail: Option<&'static str>,
    },
    /// A grant request was refused with `invalid_grant`.
    InvalidGrant {
        /// The grant type.
        grant_type: &'static str,
        /// The authenticated client.
        client_id: String,
        /// Why, for logs.
        reason: String,
    },
    /// A code was redeemed again with a valid proof: the grant it started was revoked.
    CodeReplayDetected {
        /// The client.
        client_id: String,
        /// The revoked grant.
        grant_id: String,
        /// How many of its tokens were newly marked revoked.
        revoked_tokens: u64,
    },
    /// A rotated-away refresh token came back: the grant was revoked.
    RefreshReuseDetected {
        /// The client.
        client_id: String,
        /// The revoked grant.
        grant_id: String,
        /// How many of its tokens were newly marked revoked.
        revoked_tokens: u64,
    },
    /// A client revoked one of its tokens (a refresh token revokes its grant).
    TokenRevoked {
        /// The client.
        client_id: String,
        /// The grant of the token.
        grant_id: String,
        /// Whether the whole grant was revoked (a refresh token).
        whole_grant: bool,
    },
    /// Every grant of a user was revoked ([`Engine::revoke_subject`](crate::Engine::revoke_subject)).
    SubjectRevoked {
        /// The user.
        subject: String,
        /// How many tokens were newly marked revoked.
        revoked_tokens: u64,
    },
    /// A client introspected a token.
    Introspection {
        /// The caller.
        client_id: String,
        /// Whether the answer was active.
        active: bool,
    },
    /// A resource server refused a bearer token.
    BearerRefused {
        /// `invalid_request`, `invalid_token`, `insufficient_scope`, or `missing`.
        error: &'static str,
        /// Why, for logs.
        reason: String,
    },
    /// A caller was refused because it failed too often.
    RateLimited {
        /// The limited key (a client id, or the caller key the embedder passed).
        key: String,
        /// Seconds until it may try again.
        retry_after: u64,
    },
}

impl EventKind {
    /// A short stable name, for metrics labels and log messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::AuthorizationApproved { .. } => "authorization_approved",
            Self::AuthorizationDenied { .. } => "authorization_denied",
            Self::AuthorizationRequestPushed { .. } => "authorization_request_pushed",
            Self::RequestUriRefused { .. } => "request_uri_refused",
            Self::TokenIssued { .. } => "token_issued",
            Self::ClientAuthenticationFailed { .. } => "client_authentication_failed",
            Self::InvalidGrant { .. } => "invalid_grant",
            Self::CodeReplayDetected { .. } => "code_replay_detected",
            Self::RefreshReuseDetected { .. } => "refresh_reuse_detected",
            Self::TokenRevoked { .. } => "token_revoked",
            Self::SubjectRevoked { .. } => "subject_revoked",
            Self::Introspection { .. } => "introspection",
            Self::BearerRefused { .. } => "bearer_refused",
            Self::RateLimited { .. } => "rate_limited",
        }
    }
}

/// Receives audit events. Called inline on the request path: keep it fast and
/// non-blocking (hand off to a channel for slow work).
pub trait EventSink: Send + Sync {
    /// Records `event`.
    fn emit(&self, event: &Event);

    /// Whether this sink records anything. The engine builds an event (copying the ids
    /// and scope it names) only for a sink that answers `true`, which every sink does
    /// unless it says otherwise.
    fn is_enabled(&self) -> bool {
        true
    }
}

/// Drops every event: the default.
#[derive(Debug, Default, Clone, Copy)]
pub struct DiscardEvents;

impl EventSink for DiscardEvents {
    fn emit(&self, _event: &Event) {}

    fn is_enabled(&self) -> bool {
        false
    }
}

/// Keeps every event in memory, for tests.
#[derive(Debug, Default)]
pub struct RecordingSink {
    events: Mutex<Vec<Event>>,
}

impl RecordingSink {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events so far, oldest first.
    pub fn events(&self) -> Vec<Event> {
        self.lock().clone()
    }

    /// The names of the events so far, oldest first.
    pub fn names(&self) -> Vec<&'static str> {
        self.lock().iter().map(|e| e.kind.name()).collect()
    }

    /// Forgets the events so far.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Event>> {
        // Pushing an event cannot leave the vector half-written.
        self.events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl EventSink for RecordingSink {
    fn emit(&self, event: &Event) {
        self.lock().push(event.clone());
    }
}

impl<T: EventSink + ?Sized> EventSink for std::sync::Arc<T> {
    fn emit(&self, event: &Event) {
        (**self).emit(event);
    }

    fn is_enabled(&self) -> bool {
        (**self).is_enabled()
    }
}

/// Emits each event as a `tracing` event (target `finrift::audit`): warnings for replays,
/// reuse, authentication failures and rate limits, info for the rest.
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
#[derive(Debug, Default, Clone, Copy)]
pub struct TracingSink;

#[cfg(feature = "tracing")]
impl EventSink for TracingSink {
    fn emit(&self, event: &Event) {
        let at = event.at.unix_timestamp();
        let name = event.kind.name();
        match &event.kind {
            EventKind::CodeReplayDetected { .. }
            | EventKind::RefreshReuseDetected { .. }
            | EventKind::ClientAuthenticationFailed { .. }
            | EventKind::RequestUriRefused { .. }
            | EventKind::RateLimited { .. } => {
                tracing::warn!(target: "finrift::audit", event = name, at, detail = ?event.kind)
            }
            _ => tracing::info!(target: "finrift::audit", event = name, at, detail = ?event.kind),
        }
    }
}
