//! The plain request values an adapter builds, and reading a redirect.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use url::Url;

/// Encodes pairs as `application/x-www-form-urlencoded` (a form body or a query string).
pub fn form<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name.as_ref(), value.as_ref());
    }
    serializer.finish()
}

/// An `Authorization: Basic` header value, with both parts form-urlencoded first as RFC
/// 6749 §2.3.1 requires.
pub fn basic_auth(client_id: &str, secret: &str) -> String {
    let encode =
        |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)))
    )
}

/// The decoded query parameters of a redirect `Location`.
pub fn redirect_params(location: &str) -> Vec<(String, String)> {
    match Url::parse(location) {
        Ok(url) => url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        Err(error) => panic!("the redirect location {location:?} is not a URL: {error}"),
    }
}
