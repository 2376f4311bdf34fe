//! Redirect URIs: `RedirectUri::new` (registration rules) and `RedirectUri::matches`
//! (exact match, loopback port flexibility only) on arbitrary input (FZ-01, AZ-01..AZ-03).

#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_core::{RedirectUri, MAX_REDIRECT_URI_LEN};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The first line is registered, the second requested.
    let (registered, requested) = text.split_once('\n').unwrap_or((&text, ""));
    if let Ok(uri) = RedirectUri::new(registered) {
        assert_eq!(uri.as_str(), registered);
        assert!(registered.len() <= MAX_REDIRECT_URI_LEN);
        assert!(!registered.contains('#'));
        assert!(!registered
            .chars()
            .any(|c| c.is_control() || c.is_whitespace()));
        // Schemes are case-insensitive (RFC 3986 §3.1); the core checks the parsed one.
        let scheme = registered
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(
            scheme == "https" || scheme == "http" || scheme.contains('.'),
            "{registered}"
        );
        assert!(!["javascript", "data", "file", "vbscript"].contains(&scheme.as_str()));
        // A registration always matches itself.
        assert!(uri.matches(registered));
        if uri.matches(requested) && requested != registered {
            // Only a loopback registration matches anything but itself, and only a
            // loopback request with the same host and path.
            for (a, b) in [(registered, requested), (requested, registered)] {
                assert!(
                    a.starts_with("http://127.0.0.1") || a.starts_with("http://[::1]"),
                    "{a} matched {b}"
                );
            }
            assert!(!requested.contains('@'), "{requested}");
            let host = |s: &str| s.starts_with("http://127.0.0.1");
            assert_eq!(host(registered), host(requested));
            let path = |s: &str| {
                let after = s.strip_prefix("http://").unwrap_or(s);
                let after = after
                    .strip_prefix("127.0.0.1")
                    .or_else(|| after.strip_prefix("[::1]"))
                    .unwrap_or(after);
                match after.strip_prefix(':') {
                    Some(port) => port
                        .trim_start_matches(|c: char| c.is_ascii_digit())
                        .to_owned(),
                    None => after.to_owned(),
                }
            };
            assert_eq!(path(registered), path(requested));
        }
        // Matching is symmetric in what it accepts for valid registrations.
        if let Ok(other) = RedirectUri::new(requested) {
            assert_eq!(uri.matches(requested), other.matches(registered));
        }
    }
});
