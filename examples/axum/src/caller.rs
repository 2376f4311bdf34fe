//! Who the caller is, for the engine's failure limiter.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Once;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use oauth_core::{CallerKey, TrustedProxies};

/// The caller's key: the peer address the server recorded as
/// [`ConnectInfo<SocketAddr>`], or, only when that peer is one of the state's
/// [`TrustedProxies`], the address its `X-Forwarded-For` header names.
///
/// The router must be served with connect info: [`serve`](crate::serve) records it, and
/// so does axum's `into_make_service_with_connect_info::<SocketAddr>()`. Without it the
/// key is `None` (and a warning is logged once): the engine's limiter then counts
/// failures only per client, not per caller.
///
/// The proxies come from the router's state through [`FromRef`], so the state says
/// which peers may speak for others; nobody may by default ([`TrustedProxies::none`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub Option<CallerKey>);

impl<St> FromRequestParts<St> for Caller
where
    St: Send + Sync,
    TrustedProxies: FromRef<St>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            static WARNED: Once = Once::new();
            WARNED.call_once(|| {
                tracing::warn!(
                    "no peer address: serve the router with oauth_axum::serve (or with \
                     connect info) so that failed authentications are limited per caller"
                );
            });
            return Ok(Self(None));
        };
        let proxies = TrustedProxies::from_ref(state);
        // Several X-Forwarded-For lines are one list (RFC 9110 §5.3); a line that is not
        // text stops the walk at the last good hop, as a malformed entry does.
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|value| value.to_str().unwrap_or("?"))
            .collect();
        let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
        Ok(Self(Some(
            proxies.caller_key(peer.ip(), forwarded.as_deref()),
        )))
    }
}
