//! Property tests of every parser (FZ-01, FZ-04): arbitrary input never panics, refusals
//! are clean OAuth errors, and round trips hold. The fuzz targets in `fuzz/` explore the
//! same parsers for much longer; these run in CI on every change.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use oauth_core::jose::{Algorithm, SigningKey, VerificationKeys};
use oauth_core::{
    form_decode, Authorization, BearerRequest, Config, Engine, ErrorCode, ManualClock, Params,
    RedirectUri, ScopeSet, TokenVerifier, MAX_PARAM_COUNT,
};
use oauth_store_memory::MemoryStore;
use proptest::prelude::*;
use time::OffsetDateTime;

/// Modest case counts keep CI fast; the fuzzers run the long searches.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

/// Text biased towards what the parsers treat specially.
fn tricky_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("%".to_owned()),
        Just("%2".to_owned()),
        Just("%25".to_owned()),
        Just("%00".to_owned()),
        Just("%0D%0A".to_owned()),
        Just("%FF".to_owned()),
        Just("%E2%82".to_owned()),
        Just("+".to_owned()),
        Just("&".to_owned()),
        Just("=".to_owned()),
        Just(":".to_owned()),
        Just(" ".to_owned()),
        Just(".".to_owned()),
        Just("/".to_owned()),
        Just("#".to_owned()),
        Just("@".to_owned()),
        Just("http://127.0.0.1".to_owned()),
        Just("https://app.example/cb".to_owned()),
        Just("Basic ".to_owned()),
        Just("Bearer ".to_owned()),
        "[a-z0-9]{1,4}",
        any::<String>(),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

/// Pairs of names and values, including spaces, `+`, `%`, `&`, `=` and non-ASCII text.
fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    let text = "[a-z_+%&= ]{1,6}|[\\PC]{1,6}|\u{e9}|\u{1F600}|%41";
    proptest::collection::vec(
        (
            text,
            prop_oneof![Just(String::new()), text.prop_map(String::from)],
        ),
        0..MAX_PARAM_COUNT,
    )
}

fn engine() -> Engine<MemoryStore, ManualClock> {
    let clock = ManualClock::new(OffsetDateTime::UNIX_EPOCH);
    Engine::builder(
        MemoryStore::new(),
        clock,
        Config::builder("https://auth.example").build().unwrap(),
    )
    .build()
    .unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fz01_params_parse_never_panics(text in tricky_text()) {
        match Params::parse(&text) {
            Ok(params) => {
                for name in ["state", "client_id", "redirect_uri"] {
                    if let Some(value) = params.get(name) {
                        prop_assert!(!value.is_empty());
                        prop_assert!(!value.chars().any(char::is_control));
                    }
                }
            }
            Err(error) => prop_assert_eq!(error.code(), ErrorCode::InvalidRequest),
        }
        if let Err(error) = form_decode(&text) {
            prop_assert_eq!(error.code(), ErrorCode::InvalidRequest);
        }
    }

    /// TK-10: only a form media type and UTF-8 bytes parse, and then as `Params::parse`.
    #[test]
    fn fz01_form_body_parse_never_panics(
        content_type in proptest::option::of(prop_oneof![
            Just("application/x-www-form-urlencoded".to_owned()),
            Just("Application/X-WWW-Form-Urlencoded ; charset=UTF-8".to_owned()),
            Just("application/json".to_owned()),
            tricky_text(),
        ]),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        text in tricky_text(),
    ) {
        for bytes in [&body[..], text.as_bytes()] {
            match Params::parse_form_body(content_type.as_deref(), bytes) {
                Ok(params) => {
                    let text = std::str::from_utf8(bytes).unwrap();
                    prop_assert_eq!(Params::parse(text).unwrap(), params);
                }
                Err(error) => prop_assert_eq!(error.code(), ErrorCode::InvalidRequest),
            }
        }
    }

    /// FZ-04: pairs encoded by `url::form_urlencoded` come back exactly, decoded once.
    #[test]
    fn fz04_form_encoding_round_trips(pairs in pairs()) {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let params = Params::parse(&encoded).unwrap();
        for (name, _) in &pairs {
            let first = pairs
                .iter()
                .find(|(n, v)| n == name && !v.is_empty())
                .map(|(_, v)| v.as_str());
            prop_assert_eq!(params.get(name), first, "{}", encoded);
        }
    }

    #[test]
    fn fz04_form_decode_inverts_byte_serialize(text in "\\PC*") {
        let encoded: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
        prop_assert_eq!(form_decode(&encoded).unwrap(), text.clone());
        // Encoded twice, decoded once: the once-encoded text, never the original.
        let twice: String = url::form_urlencoded::byte_serialize(encoded.as_bytes()).collect();
        prop_assert_eq!(form_decode(&twice).unwrap(), encoded);
    }

    #[test]
    fn fz01_authorization_parse_never_panics(text in tricky_text()) {
        if let Err(error) = Authorization::parse(&text) {
            prop_assert_eq!(error.code(), ErrorCode::InvalidRequest);
        }
        let encoded = format!("Basic {}", STANDARD.encode(text.as_bytes()));
        if let Err(error) = Authorization::parse(&encoded) {
            prop_assert_eq!(error.code(), ErrorCode::InvalidRequest);
        }
    }

    /// TK-08: RFC 6749 §2.3.1 — form-urlencode id and secret, join with `:`, base64.
    #[test]
    fn tk08_basic_credentials_round_trip(id in "[^\\p{Cc}]{1,40}", secret in "[^\\p{Cc}]{0,40}") {
        let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let header = format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(&id), encode(&secret))));
        let Authorization::Basic(credentials) = Authorization::parse(&header).unwrap() else {
            panic!("a Basic header");
        };
        prop_assert_eq!(credentials.client_id, id);
        prop_assert_eq!(credentials.client_secret, secret);
    }

    #[test]
    fn fz01_bearer_extraction_never_panics(header in proptest::option::of(tricky_text()), form in proptest::option::of(tricky_text())) {
        let request = BearerRequest::new(header.as_deref(), form.as_deref());
        match request.token() {
            Ok(token) => {
                prop_assert!(!token.is_empty());
                prop_assert!(token.bytes().all(|b| b.is_ascii_graphic()));
            }
            Err(error) => prop_assert!(!error.www_authenticate().chars().any(char::is_control)),
        }
    }

    #[test]
    fn fz01_redirect_uri_validation_never_panics(registered in tricky_text(), requested in tricky_text()) {
        if let Ok(uri) = RedirectUri::new(registered.clone()) {
            prop_assert!(uri.matches(&registered));
            if uri.matches(&requested) && requested != registered {
                prop_assert!(requested.starts_with("http://127.0.0.1") || requested.starts_with("http://[::1]"));
            }
        }
    }

    /// AZ-01: a registered URI matches itself, and one byte more or less does not match.
    #[test]
    fn az01_redirect_uri_matches_itself_only(path in "[a-zA-Z0-9/_.~-]{0,30}", query in proptest::option::of("[a-z0-9=&]{1,20}"), extra in "[a-zA-Z0-9/]") {
        let mut uri = format!("https://app.example/{path}");
        if let Some(query) = &query {
            uri.push('?');
            uri.push_str(query);
        }
        let registered = RedirectUri::new(uri.clone()).unwrap();
        let longer = format!("{uri}{extra}");
        let shorter = &uri[..uri.len() - 1];
        let upper = uri.to_uppercase();
        prop_assert!(registered.matches(&uri));
        prop_assert!(!registered.matches(&longer));
        prop_assert!(!registered.matches(shorter));
        prop_assert!(!registered.matches(&upper));
    }

    /// AZ-02: a loopback registration matches itself on every port, and nothing else.
    #[test]
    fn az02_loopback_redirect_matches_any_port(path in "/[a-z0-9]{0,10}", port in 1u16.., other in "/[a-z0-9]{1,10}") {
        let plain = format!("http://127.0.0.1{path}");
        let with_port = format!("http://127.0.0.1:{port}{path}");
        let other_path = format!("http://127.0.0.1:{port}{other}");
        let other_host = format!("http://[::1]:{port}{path}");
        let registered = RedirectUri::new(plain.clone()).unwrap();
        prop_assert!(registered.matches(&plain));
        prop_assert!(registered.matches(&with_port));
        prop_assume!(other != path);
        prop_assert!(!registered.matches(&other_path));
        prop_assert!(!registered.matches(&other_host));
    }

    #[test]
    fn fz01_scope_parse_never_panics(text in tricky_text()) {
        if let Ok(set) = ScopeSet::parse(&text) {
            prop_assert!(!set.is_empty());
        }
    }

    /// AZ-09: a scope set displays as a string that parses back to the same set, in any order.
    #[test]
    fn az09_scope_set_round_trips(tokens in proptest::collection::vec("[!#-\\[\\]-~]{1,12}", 1..10)) {
        let text = tokens.join(" ");
        let set = ScopeSet::parse(&text).unwrap();
        let shown = set.to_string();
        prop_assert_eq!(&ScopeSet::parse(&shown).unwrap(), &set);
        let mut reversed = tokens.clone();
        reversed.reverse();
        prop_assert_eq!(ScopeSet::parse(&reversed.join(" ")).unwrap(), set);
    }

    #[test]
    fn fz01_jwt_verification_never_panics(text in tricky_text(), header in "\\PC{0,60}", claims in "\\PC{0,80}") {
        let verifier = verifier();
        prop_assert!(verifier.verify_jwt(&text).is_err());
        // Well-formed base64url segments around arbitrary JSON-ish text.
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let token = format!("{}.{}.{}", b64(&header), b64(&claims), b64("signature"));
        prop_assert!(verifier.verify_jwt(&token).is_err());
    }

    #[test]
    fn fz01_jwks_parse_never_panics(text in tricky_text(), kid in "\\PC{0,20}", x in "[A-Za-z0-9_-]{0,50}") {
        let _ = VerificationKeys::from_jwks(&text);
        let document = format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":{},"x":"{x}"}}]}}"#,
            serde_json::Value::from(kid)
        );
        let _ = VerificationKeys::from_jwks(&document);
    }

    #[test]
    fn fz01_open_pending_refuses_what_it_did_not_seal(text in tricky_text()) {
        let error = engine().open_pending(&text).unwrap_err();
        prop_assert_eq!(error.code(), ErrorCode::InvalidRequest);
    }
}

fn verifier() -> TokenVerifier<ManualClock> {
    let (key, _) = SigningKey::generate(Algorithm::EdDsa, "k1").unwrap();
    TokenVerifier::new(
        "https://auth.example",
        "https://api.example",
        VerificationKeys::new([key.verification_key().clone()]),
        ManualClock::new(OffsetDateTime::UNIX_EPOCH),
    )
}
