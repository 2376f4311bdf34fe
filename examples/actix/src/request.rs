//! What the adapter reads from an actix-web request: header text, and who the caller is.

use actix_web::http::header::HeaderName;
use actix_web::HttpRequest;
use oauth_core::{CallerKey, TrustedProxies};

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The request header carrying a DPoP proof (RFC 9449 §4.1).
pub(crate) const DPOP: HeaderName = HeaderName::from_static("dpop");

/// A header as text for the engine: repeated field lines joined with `", "` (their meaning
/// in HTTP), so the engine sees and refuses a doubled credential instead of the first one
/// alone. Bytes that are not UTF-8 become U+FFFD: a malformed value is refused, not lost.
pub(crate) fn header_text(request: &HttpRequest, name: &HeaderName) -> Option<String> {
    let mut values = request.headers().get_all(name);
    let mut text = String::from_utf8_lossy(values.next()?.as_bytes()).into_owned();
    for value in values {
        text.push_str(", ");
        text.push_str(&String::from_utf8_lossy(value.as_bytes()));
    }
    Some(text)
}

/// Every value of the `name` header, each as text and apart: a DPoP proof is one value,
/// and the engine refuses two rather than pick one.
pub(crate) fn header_values(request: &HttpRequest, name: &HeaderName) -> Vec<String> {
    request
        .headers()
        .get_all(name)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect()
}

/// The key the engine's limiter counts this caller's failures under: the peer address of
/// the connection ([`HttpRequest::peer_addr`]), or, only when that peer is one of
/// `proxies`, the address its `X-Forwarded-For` header names
/// ([`TrustedProxies::caller_key`]). `None` when actix-web does not know the peer.
///
/// It never reads `connection_info().realip_remote_addr()`: that believes a forwarded
/// header from anyone, so a caller could pick a fresh key for every attempt.
pub fn caller_key(request: &HttpRequest, proxies: &TrustedProxies) -> Option<CallerKey> {
    let peer = request.peer_addr()?.ip();
    let forwarded = if proxies.contains(peer) {
        header_text(request, &X_FORWARDED_FOR)
    } else {
        None
    };
    Some(proxies.caller_key(peer, forwarded.as_deref()))
}
