//! The public base URL of a protected API, which DPoP proofs at its routes are made for.

use oauth_core::Fault;

/// The URL a protected API is reached at from outside (scheme, host, port, and the path
/// prefix a proxy strips, if any), such as `https://api.example`. A DPoP proof (RFC 9449
/// §4.3) names the URL it was made for; [`Bearer`](crate::Bearer) and
/// [`RequireScope`](crate::RequireScope) compare it with this base followed by the
/// request's path (the path as the router sees it, without the query). The request's
/// own `Host` header is never used: whoever sends the request chooses it.
///
/// Put it in the request extensions of the guarded routes, with
/// `.layer(Extension(base))` around them. Without it no proof is checked, so a token
/// bound to a DPoP key is refused with `invalid_dpop_proof` and bearer tokens work as
/// before. Under [`Router::nest`](axum::Router::nest) the path is the nested one: give
/// the prefix in the base.
///
/// ```
/// # fn routes(guard: std::sync::Arc<dyn oauth_core::BearerGuard>) -> Result<axum::Router, oauth_core::Fault> {
/// use axum::{routing::get, Extension, Router};
/// use oauth_axum::{PublicBase, RequireScope};
///
/// let api = Router::new()
///     .route("/users", get(|| async { "hello" }))
///     .route_layer(RequireScope::new(guard, "read:users")?)
///     .layer(Extension(PublicBase::new("https://api.example")?));
/// # Ok(api)
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicBase(String);

impl PublicBase {
    /// `url` as a base: an `http` or `https` URL with a host and no query or fragment;
    /// a trailing `/` is dropped. Anything else is [`Fault::Config`].
    pub fn new(url: &str) -> Result<Self, Fault> {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let well_formed = rest.is_some_and(|rest| {
            !rest.is_empty() && !rest.starts_with('/') && !rest.contains(['?', '#', ' '])
        });
        if !well_formed {
            return Err(Fault::Config(format!(
                "the public base URL {url:?} is not an http(s) URL with a host and without a query"
            )));
        }
        Ok(Self(url.trim_end_matches('/').to_owned()))
    }

    /// The base, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL a request to `path` was sent to.
    pub(crate) fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}
