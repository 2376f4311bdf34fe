//! The user's sign-in, as the embedder knows it: who, since when, and how.

use time::OffsetDateTime;

/// A signed-in user, handed to the engine by the embedder: to decide whether an
/// authorization request needs a login ([`Engine::interaction`](crate::Engine::interaction)),
/// and to approve one ([`Engine::approve`](crate::Engine::approve)), whose OpenID Connect
/// ID tokens then say when and how the user authenticated.
///
/// ```
/// use oauth_core::Authentication;
/// use time::macros::datetime;
///
/// let alice = Authentication::new("alice")
///     .authenticated_at(datetime!(2030-01-01 09:00 UTC))
///     .acr("urn:example:password")
///     .amr(["pwd"]);
/// assert_eq!(alice.subject(), "alice");
/// // A subject alone: signed in at the moment of approval.
/// let bob: Authentication = "bob".into();
/// assert_eq!(bob.auth_time(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authentication {
    subject: String,
    auth_time: Option<OffsetDateTime>,
    acr: Option<String>,
    amr: Vec<String>,
}

impl Authentication {
    /// The user `subject`, signed in just now: when it approves a request, its
    /// `auth_time` is the engine's clock at that moment.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            auth_time: None,
            acr: None,
            amr: Vec::new(),
        }
    }

    /// When the user last authenticated (their session's login), to the second.
    pub fn authenticated_at(mut self, at: OffsetDateTime) -> Self {
        self.auth_time = Some(at);
        self
    }

    /// The authentication context class the login met (`acr`).
    pub fn acr(mut self, acr: impl Into<String>) -> Self {
        self.acr = Some(acr.into());
        self
    }

    /// The authentication methods the login used (`amr`: `pwd`, `otp`, `hwk`, …).
    pub fn amr<I, T>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.amr = methods.into_iter().map(Into::into).collect();
        self
    }

    /// The user's identifier.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// When the user last authenticated, if the embedder said.
    pub fn auth_time(&self) -> Option<OffsetDateTime> {
        self.auth_time
    }

    /// The authentication context class, if any.
    pub fn acr_value(&self) -> Option<&str> {
        self.acr.as_deref()
    }

    /// The authentication methods, if any.
    pub fn amr_values(&self) -> &[String] {
        &self.amr
    }
}

impl From<&str> for Authentication {
    fn from(subject: &str) -> Self {
        Self::new(subject)
    }
}

impl From<String> for Authentication {
    fn from(subject: String) -> Self {
        Self::new(subject)
    }
}

impl From<&String> for Authentication {
    fn from(subject: &String) -> Self {
        Self::new(subject.as_str())
    }
}

impl From<&Authentication> for Authentication {
    fn from(user: &Authentication) -> Self {
        user.clone()
    }
}
