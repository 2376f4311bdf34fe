//! The form/query parser: `Params::parse`, `form_decode` and `Params::parse_form_body`
//! on arbitrary input, and the round trip from pairs encoded with `url::form_urlencoded` back through `Params::parse`
//! (FZ-01, FZ-03, FZ-04).

#![no_main]

use finrift_fuzz::check_error;
use libfuzzer_sys::fuzz_target;
use oauth_core::{
    form_decode, ErrorCode, Params, MAX_PARAMS_BYTES, MAX_PARAM_COUNT, MAX_PARAM_LEN,
};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 3 == 2 {
        form_body(rest);
        return;
    }
    let text = String::from_utf8_lossy(rest);
    if mode % 3 == 0 {
        raw(&text);
    } else {
        round_trip(&text);
    }
});

/// `Params::parse_form_body`: the first line is the `Content-Type`, the rest the raw body
/// bytes. Only a form media type and a UTF-8 body within the limit parse, and then exactly
/// as `Params::parse` does.
fn form_body(data: &[u8]) {
    let split = data.iter().position(|b| *b == b'\n');
    let (content_type, body) = match split {
        Some(i) => (
            String::from_utf8_lossy(&data[..i]).into_owned(),
            &data[i + 1..],
        ),
        None => (String::from_utf8_lossy(data).into_owned(), &data[..0]),
    };
    let content_type = Some(content_type.as_str()).filter(|c| !c.is_empty());
    match Params::parse_form_body(content_type, body) {
        Ok(params) => {
            let media = content_type.and_then(|c| c.split(';').next()).unwrap_or("");
            assert!(media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded"));
            let text = std::str::from_utf8(body).expect("an accepted body is UTF-8");
            assert_eq!(Params::parse(text).expect("parses alone too"), params);
        }
        Err(error) => {
            check_error(&error);
            assert_eq!(error.code(), ErrorCode::InvalidRequest);
        }
    }
}

/// Arbitrary text: never a panic; refusals are `invalid_request`; whatever is accepted
/// holds no control character and respects the limits.
fn raw(text: &str) {
    match Params::parse(text) {
        Ok(params) => {
            assert!(text.len() <= MAX_PARAMS_BYTES);
            for name in ["client_id", "redirect_uri", "state", "scope", "code"] {
                if let Some(value) = params.get(name) {
                    assert!(!value.is_empty());
                    assert!(value.len() <= MAX_PARAM_LEN);
                    assert!(!value.chars().any(char::is_control));
                }
                if params.is_repeated(name) {
                    assert!(params.single(name).is_err());
                }
            }
        }
        Err(error) => {
            check_error(&error);
            assert_eq!(error.code(), ErrorCode::InvalidRequest);
        }
    }
    match form_decode(text) {
        // Decoding once: without `%` and `+` the text comes back unchanged.
        Ok(decoded) if !text.contains(['%', '+']) => assert_eq!(decoded, text),
        Ok(_) => {}
        Err(error) => assert_eq!(error.code(), ErrorCode::InvalidRequest),
    }
}

/// Pairs separated by `\n`, name and value by `\t`, encoded with `form_urlencoded`: the
/// parser gives every first non-empty value back byte for byte.
fn round_trip(text: &str) {
    let pairs: Vec<(&str, &str)> = text
        .split('\n')
        .map(|pair| pair.split_once('\t').unwrap_or((pair, "")))
        .collect();
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().copied())
        .finish();
    let well_formed = pairs.len() <= MAX_PARAM_COUNT
        && encoded.len() <= MAX_PARAMS_BYTES
        && pairs.iter().all(|(name, value)| {
            !name.is_empty()
                && name.len() <= MAX_PARAM_LEN
                && value.len() <= MAX_PARAM_LEN
                && !name.chars().chain(value.chars()).any(char::is_control)
        });
    match Params::parse(&encoded) {
        Ok(params) => {
            for (name, _) in &pairs {
                let first = pairs
                    .iter()
                    .find(|(n, v)| n == name && !v.is_empty())
                    .map(|(_, v)| *v);
                assert_eq!(params.get(name), first, "{encoded}");
            }
        }
        Err(error) => {
            assert_eq!(error.code(), ErrorCode::InvalidRequest);
            assert!(
                !well_formed,
                "refused a well-formed body: {encoded} ({error})"
            );
        }
    }
}
