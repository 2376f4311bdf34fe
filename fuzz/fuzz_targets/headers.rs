//! The `Authorization` header: `Authorization::parse` (Basic client credentials, RFC 6749
//! §2.3.1) and `BearerRequest::token` (RFC 6750 §2.1), on arbitrary input, plus the Basic
//! round trip: credentials form-urlencoded, then base64, then parsed, give back id and
//! secret (FZ-01, TK-08, JW-11).

#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use finrift_fuzz::check_error;
use libfuzzer_sys::fuzz_target;
use oauth_core::jose::MAX_TOKEN_LEN;
use oauth_core::{Authorization, BearerRequest, ErrorCode, MAX_AUTHORIZATION_LEN};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match mode % 3 {
        0 => basic(&text),
        1 => bearer(&text),
        _ => basic_round_trip(&text),
    }
});

fn basic(header: &str) {
    match Authorization::parse(header) {
        Ok(Authorization::Basic(credentials)) => {
            assert!(header.len() <= MAX_AUTHORIZATION_LEN);
            assert!(!credentials.client_id.is_empty());
            assert!(!credentials
                .client_id
                .chars()
                .chain(credentials.client_secret.chars())
                .any(char::is_control));
            // The secret never shows in debug output.
            assert_eq!(
                format!("{credentials:?}"),
                format!(
                    "BasicCredentials {{ client_id: {:?}, client_secret: \"<redacted>\" }}",
                    credentials.client_id
                )
            );
        }
        Ok(_) => {}
        Err(error) => {
            check_error(&error);
            assert_eq!(error.code(), ErrorCode::InvalidRequest);
        }
    }
}

fn bearer(text: &str) {
    // The first line is the header value, the rest (if any) the form token.
    let (header, form) = match text.split_once('\n') {
        Some((header, form)) => (Some(header), Some(form).filter(|f| !f.is_empty())),
        None => (Some(text).filter(|t| !t.is_empty()), None),
    };
    match BearerRequest::new(header, form).token() {
        Ok(token) => {
            assert!(!token.is_empty() && token.len() <= MAX_TOKEN_LEN);
            assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()
                || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')));
        }
        Err(error) => {
            let challenge = error.www_authenticate();
            assert!(!challenge.chars().any(char::is_control), "{challenge:?}");
            assert!(challenge.starts_with("Bearer"));
            assert!(matches!(error.status(), 400 | 401 | 403));
        }
    }
}

fn basic_round_trip(text: &str) {
    let (id, secret) = text.split_once('\n').unwrap_or((text, ""));
    let encode =
        |part: &str| url::form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>();
    let header = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(id), encode(secret)))
    );
    let valid = !id.is_empty()
        && header.len() <= MAX_AUTHORIZATION_LEN
        && !id.chars().chain(secret.chars()).any(char::is_control);
    match Authorization::parse(&header) {
        Ok(Authorization::Basic(credentials)) => {
            assert_eq!(credentials.client_id, id);
            assert_eq!(credentials.client_secret, secret);
        }
        Ok(Authorization::Other) => panic!("a Basic header read as another scheme"),
        Err(error) => assert!(!valid, "refused valid Basic credentials {id:?}: {error}"),
    }
}
