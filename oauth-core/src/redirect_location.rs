//! The `Location` of a redirect back to the client: its redirect URI with parameters
//! added to the query.

use url::{form_urlencoded, Url};

/// `uri` with `params` appended to its query, form-urlencoded, exactly as
/// `Url::query_pairs_mut` appends them; `None` if `uri` does not parse.
///
/// Almost every redirect URI is a plain `https://host/path`, which the URL parser would
/// serialize unchanged: for those the parameters are appended to the text directly, and
/// the parse (the dearest step of building the redirect) is skipped. Anything less plain
/// goes through the parser.
pub(crate) fn with_query(uri: &str, params: &[(&str, &str)]) -> Option<String> {
    if is_plain_https(uri) {
        let mut location = String::with_capacity(uri.len() + 128);
        location.push_str(uri);
        location.push('?');
        for (i, (name, value)) in params.iter().enumerate() {
            if i > 0 {
                location.push('&');
            }
            append_encoded(&mut location, name);
            location.push('=');
            append_encoded(&mut location, value);
        }
        return Some(location);
    }
    let mut url = Url::parse(uri).ok()?;
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
    }
    Some(url.into())
}

/// Appends `text` form-urlencoded, byte for byte as `form_urlencoded::byte_serialize`
/// does; text that needs no encoding (codes and most `state` values) is copied whole.
fn append_encoded(out: &mut String, text: &str) {
    let unchanged = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_'));
    if unchanged {
        out.push_str(text);
    } else {
        out.extend(form_urlencoded::byte_serialize(text.as_bytes()));
    }
}

/// Whether `uri` is `https://` + a lowercase DNS name + a path of unreserved characters,
/// with no port, query, fragment, user information, dot segments or empty segments: a
/// form the URL parser leaves exactly as it is. Deliberately narrow: whatever it refuses
/// is still handled, by the parser.
fn is_plain_https(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("https://") else {
        return false;
    };
    let Some(slash) = rest.find('/') else {
        return false;
    };
    let (host, path) = rest.split_at(slash);
    is_plain_host(host) && is_plain_path(path)
}

/// Dot-separated labels of `a-z`, `0-9` and inner hyphens; the last label starts with a
/// letter (so the parser never reads the host as an IPv4 address), and no label is an
/// IDNA one (`xn--`), whose validity only the parser can judge.
fn is_plain_host(host: &str) -> bool {
    let plain_label = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with("xn--")
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(plain_label)
        && host
            .rsplit('.')
            .next()
            .and_then(|last| last.bytes().next())
            .is_some_and(|b| b.is_ascii_lowercase())
}

/// `/`-separated segments of unreserved characters (RFC 3986 §2.3), none empty (but the
/// last) and none `.` or `..`.
fn is_plain_path(path: &str) -> bool {
    let Some(segments) = path.strip_prefix('/') else {
        return false;
    };
    let mut segments = segments.split('/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        if (segment.is_empty() && !last) || segment == "." || segment == ".." {
            return false;
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the URL parser makes of `uri` with `params`: the reference.
    fn parsed(uri: &str, params: &[(&str, &str)]) -> Option<String> {
        let mut url = Url::parse(uri).ok()?;
        url.query_pairs_mut().extend_pairs(params);
        Some(url.into())
    }

    #[test]
    fn the_plain_path_gives_what_the_parser_gives() {
        let params = [
            ("code", "Zm9v-YmFy_YmF6"),
            ("state", "a b&c=d/é?#%"),
            ("iss", "https://auth.example"),
        ];
        let plain = [
            "https://app.example/callback",
            "https://app.example/",
            "https://a.b.c.example/x/y/z",
            "https://app-1.example/cb/",
            "https://1password.example/cb",
            "https://app.example/a.b/c~d/e_f-g",
            "https://app.example/.well",
        ];
        for uri in plain {
            assert!(is_plain_https(uri), "{uri}");
            assert_eq!(with_query(uri, &params), parsed(uri, &params), "{uri}");
        }
        let not_plain = [
            "https://APP.example/cb",
            "https://app.example",
            "https://app.example:443/cb",
            "https://app.example:8443/cb",
            "https://app.example/cb?x=1",
            "https://app.example/cb?",
            "https://127.0.0.1/cb",
            "https://app.1/cb",
            "https://0x7f.1/cb",
            "https://xn--nxasmq6b.example/cb",
            "https://-app.example/cb",
            "https://app..example/cb",
            "https://app.example./cb",
            "https://app.example/a/../b",
            "https://app.example/a/./b",
            "https://app.example/a//b",
            "https://app.example/%7Euser",
            "https://app.example/a b",
            "https://app.example/caf\u{e9}",
            "https://user@app.example/cb",
            "http://127.0.0.1:8080/cb",
            "com.example.app:/callback",
            "https://[::1]/cb",
        ];
        for uri in not_plain {
            assert!(!is_plain_https(uri), "{uri}");
            assert_eq!(with_query(uri, &params), parsed(uri, &params), "{uri}");
        }
    }

    #[test]
    fn every_combination_of_tricky_parts_agrees_with_the_parser() {
        let hosts = [
            "app.example",
            "APP.example",
            "a-b.example",
            "a--b.example",
            "1.example",
            "example.1",
            "example.0x1",
            "xn--a.example",
            "a.example.",
            "ex%41mple.com",
            "localhost",
            "127.0.0.1",
            "[::1]",
            "app.example:443",
            "app.example:0443",
        ];
        let paths = [
            "", "/", "/cb", "/a/b/", "/a//b", "/./a", "/a/..", "/%2e/a", "/a%2Fb", "/~u", "/a;b",
            "/a:b", "/a@b", "/a!b", "/é", "/a\\b", "/a|b", "/cb?", "/cb?x=1",
        ];
        for host in hosts {
            for path in paths {
                let uri = format!("https://{host}{path}");
                let params = [("code", "c"), ("state", "s t")];
                assert_eq!(with_query(&uri, &params), parsed(&uri, &params), "{uri}");
            }
        }
    }

    #[test]
    fn every_byte_is_encoded_as_the_serializer_encodes_it() {
        for b in 0..=255u8 {
            let text = String::from_utf8_lossy(&[b'a', b, b'z']).into_owned();
            let mut ours = String::new();
            append_encoded(&mut ours, &text);
            let theirs: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
            assert_eq!(ours, theirs, "byte {b:#04x}");
        }
    }

    #[test]
    fn no_parameters_still_add_the_question_mark_as_the_parser_does() {
        let uri = "https://app.example/callback";
        assert_eq!(with_query(uri, &[]), parsed(uri, &[]));
    }

    #[test]
    fn an_unparseable_uri_is_none() {
        assert_eq!(with_query("not a uri", &[("a", "b")]), None);
    }
}
