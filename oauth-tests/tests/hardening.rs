//! Input hardening (SECURITY.md FZ-02, FZ-03, FZ-05), end to end through the engine's
//! endpoints. The parsers' own unit tests (`fz0*` in oauth-core) check the same limits
//! one level down; these check that every endpoint answers them cleanly.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use oauth_core::jose::{JwsError, JwtError, SigningKey, VerificationKeys, MAX_TOKEN_LEN};
use oauth_core::{
    Authorization, AuthorizationResponse, AuthorizeOutcome, BearerErrorKind, BearerRequest, Client,
    CodeChallenge, CodeStore, Config, Engine, ErrorCode, GrantType, IntrospectionOutcome,
    ManualClock, OAuthError, Params, RevocationOutcome, ScopeSet, SecretHash, TokenOutcome,
    TokenStore, TokenVerifier, MAX_AUTHORIZATION_LEN, MAX_PARAMS_BYTES, MAX_PARAM_COUNT,
    MAX_PARAM_LEN, MAX_REDIRECT_URI_LEN, MAX_SCOPE_LEN, MAX_SEALED_LEN, MAX_STATE_LEN,
};
use oauth_core::{FormRequest, FORM_CONTENT_TYPE};
use oauth_store_memory::MemoryStore;
use time::macros::datetime;

const ISSUER: &str = "https://auth.example";
const SECRET: &str = "hardening-secret-0123456789abcdef-012345";
const REDIRECT: &str = "https://app.example/cb";
const REDIRECT_ENCODED: &str = "https%3A%2F%2Fapp.example%2Fcb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

type TestEngine = Engine<MemoryStore, ManualClock>;

/// An engine with a public client `app` and a confidential client `svc`.
async fn engine() -> TestEngine {
    let clock = ManualClock::new(datetime!(2030-01-01 00:00 UTC));
    let engine = Engine::builder(
        MemoryStore::new(),
        clock,
        Config::builder(ISSUER).build().unwrap(),
    )
    .build()
    .unwrap();
    let scopes = ScopeSet::parse("read write").unwrap();
    engine
        .register_client(
            Client::public("app")
                .unwrap()
                .redirect_uri(REDIRECT)
                .unwrap()
                .allowed_scopes(scopes.clone())
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    engine
        .register_client(
            Client::confidential("svc", SECRET)
                .unwrap()
                .grant_types([GrantType::ClientCredentials])
                .allowed_scopes(scopes)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    engine
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// A valid authorization query for `app`, with `extra` appended.
fn authorize_query(extra: &str) -> String {
    format!(
        "response_type=code&client_id=app&redirect_uri={REDIRECT_ENCODED}&scope=read\
         &code_challenge={}&code_challenge_method=S256{extra}",
        CodeChallenge::from_verifier(VERIFIER).as_str()
    )
}

fn refused(outcome: &TokenOutcome) -> &OAuthError {
    outcome.error().expect("the request is refused")
}

/// Every form endpoint refuses `body` with `invalid_request` (and the authorization
/// endpoint with an error page, not a redirect).
async fn every_endpoint_refuses(engine: &TestEngine, body: &str) -> Vec<OAuthError> {
    let auth = basic("svc", SECRET);
    let token = engine
        .token(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
                .with_authorization(Some(&auth)),
        )
        .await
        .unwrap();
    let token = refused(&token).clone();
    let AuthorizeOutcome::ErrorPage(page) = engine.authorize_query(body).await.unwrap() else {
        panic!("an unparseable authorization request gets an error page, never a redirect");
    };
    let IntrospectionOutcome::Refused(introspection) = engine
        .introspect(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
                .with_authorization(Some(&auth)),
        )
        .await
        .unwrap()
    else {
        panic!("introspection refuses");
    };
    let RevocationOutcome::Refused(revocation) = engine
        .revoke(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
                .with_authorization(Some(&auth)),
        )
        .await
        .unwrap()
    else {
        panic!("revocation refuses");
    };
    let errors = vec![token, page, introspection, revocation];
    for error in &errors {
        assert_eq!(error.code(), ErrorCode::InvalidRequest, "{error}");
        assert_eq!(error.status(), 400);
    }
    errors
}

// ---------------------------------------------------------------------------------------
// FZ-02: documented limits, checked before decoding.

#[tokio::test]
async fn fz02_params_bytes_over_limit_is_invalid_request_before_decoding() {
    let engine = engine().await;
    // Malformed percent-encoding past the limit: refused for its size, so the size check
    // came first and nothing was decoded.
    let body = format!(
        "grant_type=client_credentials&x=%zz{}",
        "a".repeat(MAX_PARAMS_BYTES)
    );
    for error in every_endpoint_refuses(&engine, &body).await {
        assert!(error.description().contains("too large"), "{error}");
    }
    // At the limit, a body is parsed (here it fails later, for its malformed encoding).
    let at_limit = format!("x=%zz{}", "a".repeat(MAX_PARAMS_BYTES - 5));
    assert_eq!(at_limit.len(), MAX_PARAMS_BYTES);
    let error = Params::parse(&at_limit).unwrap_err();
    assert!(error.description().contains("percent"), "{error}");
}

#[tokio::test]
async fn fz02_param_count_over_limit_is_invalid_request() {
    let engine = engine().await;
    let mut pairs: Vec<String> = vec!["grant_type=client_credentials&scope=read".into()];
    pairs.extend((2..MAX_PARAM_COUNT).map(|i| format!("p{i}=1")));
    let at_limit = pairs.join("&");
    let outcome = engine
        .token(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), at_limit.as_bytes())
                .with_authorization(Some(&basic("svc", SECRET))),
        )
        .await
        .unwrap();
    assert!(outcome.issued().is_some(), "{outcome:?}");
    let over = format!("{at_limit}&one=more");
    for error in every_endpoint_refuses(&engine, &over).await {
        assert!(error.description().contains("too many"), "{error}");
    }
    // The same limit holds for pairs a framework decoded itself.
    let decoded = (0..=MAX_PARAM_COUNT).map(|i| (format!("p{i}"), "1"));
    assert_eq!(
        Params::from_pairs(decoded).unwrap_err().code(),
        ErrorCode::InvalidRequest
    );
}

#[tokio::test]
async fn fz02_param_len_over_limit_is_invalid_request() {
    let engine = engine().await;
    let long = "a".repeat(MAX_PARAM_LEN + 1);
    for body in [
        format!("grant_type=client_credentials&scope={long}"),
        format!("grant_type=client_credentials&{long}=1"),
    ] {
        for error in every_endpoint_refuses(&engine, &body).await {
            assert!(error.description().contains("too long"), "{error}");
        }
    }
    // The limit applies after decoding: `%61` is one byte.
    let encoded = format!("x={}", "%61".repeat(MAX_PARAM_LEN));
    assert_eq!(
        Params::parse(&encoded).unwrap().get("x").unwrap().len(),
        MAX_PARAM_LEN
    );
}

#[tokio::test]
async fn fz02_authorization_header_over_limit_is_invalid_request() {
    let engine = engine().await;
    let body = "grant_type=client_credentials";
    let header = format!("Basic {}", "A".repeat(MAX_AUTHORIZATION_LEN));
    let outcome = engine
        .token(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
                .with_authorization(Some(&header)),
        )
        .await
        .unwrap();
    let error = refused(&outcome);
    assert_eq!(error.code(), ErrorCode::InvalidRequest);
    assert!(error.description().contains("too long"), "{error}");
    // Even a header of another scheme is refused before anything reads it.
    let other = format!("Bearer {}", "A".repeat(MAX_AUTHORIZATION_LEN));
    let outcome = engine
        .token(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
                .with_authorization(Some(&other)),
        )
        .await
        .unwrap();
    assert_eq!(refused(&outcome).code(), ErrorCode::InvalidRequest);
    let IntrospectionOutcome::Refused(error) = engine
        .introspect(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), b"token=x")
                .with_authorization(Some(&header)),
        )
        .await
        .unwrap()
    else {
        panic!("refused");
    };
    assert_eq!(error.code(), ErrorCode::InvalidRequest);
    let RevocationOutcome::Refused(error) = engine
        .revoke(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), b"token=x")
                .with_authorization(Some(&header)),
        )
        .await
        .unwrap()
    else {
        panic!("refused");
    };
    assert_eq!(error.code(), ErrorCode::InvalidRequest);
}

#[tokio::test]
async fn fz02_state_over_limit_is_invalid_request_and_not_echoed() {
    let engine = engine().await;
    let at_limit = "s".repeat(MAX_STATE_LEN);
    let AuthorizeOutcome::Pending(pending) = engine
        .authorize_query(&authorize_query(&format!("&state={at_limit}")))
        .await
        .unwrap()
    else {
        panic!("a state at the limit is accepted");
    };
    assert_eq!(pending.state(), Some(at_limit.as_str()));

    let over = "s".repeat(MAX_STATE_LEN + 1);
    let AuthorizeOutcome::Redirect(redirect) = engine
        .authorize_query(&authorize_query(&format!("&state={over}")))
        .await
        .unwrap()
    else {
        panic!("the redirect URI is verified, so the error is redirected");
    };
    assert_eq!(redirect.param("error").as_deref(), Some("invalid_request"));
    assert_eq!(
        redirect.param("state"),
        None,
        "an over-long state is not echoed"
    );
    assert!(redirect.location().len() < MAX_STATE_LEN);
}

#[tokio::test]
async fn fz02_scope_over_limit_is_refused() {
    // An over-long scope is a malformed scope: `invalid_scope` (RFC 6749 §4.1.2.1, §5.2),
    // refused by length before any token is read.
    let engine = engine().await;
    let long_scope = vec!["read"; MAX_SCOPE_LEN / 5 + 1].join("+");
    assert!(long_scope.len() > MAX_SCOPE_LEN && long_scope.len() <= MAX_PARAM_LEN);
    let outcome = engine
        .token(
            &FormRequest::new(
                Some(FORM_CONTENT_TYPE),
                format!("grant_type=client_credentials&scope={long_scope}").as_bytes(),
            )
            .with_authorization(Some(&basic("svc", SECRET))),
        )
        .await
        .unwrap();
    let error = refused(&outcome);
    assert_eq!(error.code(), ErrorCode::InvalidScope);
    assert_eq!(error.status(), 400);
    let AuthorizeOutcome::Redirect(redirect) = engine
        .authorize_query(&authorize_query("").replace("scope=read", &format!("scope={long_scope}")))
        .await
        .unwrap()
    else {
        panic!("an error redirect");
    };
    assert_eq!(redirect.param("error").as_deref(), Some("invalid_scope"));
    assert!(ScopeSet::parse(&vec!["a"; MAX_SCOPE_LEN / 2 + 1].join(" ")).is_err());
}

#[tokio::test]
async fn fz02_redirect_uri_over_limit_is_refused() {
    let engine = engine().await;
    let long = format!("{REDIRECT}?{}", "x".repeat(MAX_REDIRECT_URI_LEN));
    assert!(Client::public("long")
        .unwrap()
        .redirect_uri(long.clone())
        .is_err());
    let encoded: String = url::form_urlencoded::byte_serialize(long.as_bytes()).collect();
    let query = authorize_query("").replace(REDIRECT_ENCODED, &encoded);
    let AuthorizeOutcome::ErrorPage(error) = engine.authorize_query(&query).await.unwrap() else {
        panic!("an unmatched redirect URI gets an error page, never a redirect");
    };
    assert_eq!(error.code(), ErrorCode::InvalidRequest);
}

#[test]
fn fz02_token_over_limit_is_invalid_token() {
    let (key, _) = SigningKey::generate(oauth_core::jose::Algorithm::EdDsa, "k1").unwrap();
    let verifier = TokenVerifier::new(
        ISSUER,
        "https://api.example",
        VerificationKeys::new([key.verification_key().clone()]),
        ManualClock::new(datetime!(2030-01-01 00:00 UTC)),
    );
    // Garbage past the limit: refused for its length, before any base64 is decoded.
    let long = format!("!{}", "a".repeat(MAX_TOKEN_LEN));
    assert_eq!(
        verifier.verify_jwt(&long).unwrap_err(),
        JwtError::Malformed(JwsError::TooLong)
    );
    // As a bearer credential it never reaches the verifier: `invalid_request` (400).
    let valid_chars = "a".repeat(MAX_TOKEN_LEN + 1);
    let header = format!("Bearer {valid_chars}");
    let error = BearerRequest::new(Some(&header), None).token().unwrap_err();
    assert_eq!(error.kind(), BearerErrorKind::InvalidRequest);
    assert_eq!(error.status(), 400);
    // A token at the limit is read (and refused for what it is, `invalid_token`).
    let at_limit = "a".repeat(MAX_TOKEN_LEN);
    let request = BearerRequest::new(None, Some(&at_limit));
    assert_eq!(request.token().unwrap(), at_limit);
    let error = verifier
        .verify(&request, &ScopeSet::parse("read").unwrap())
        .unwrap_err();
    assert_eq!(error.kind(), BearerErrorKind::InvalidToken);
    assert_eq!(error.status(), 401);
}

#[tokio::test]
async fn fz02_sealed_over_limit_is_invalid_request() {
    let engine = engine().await;
    let AuthorizeOutcome::Pending(pending) =
        engine.authorize_query(&authorize_query("")).await.unwrap()
    else {
        panic!("pending");
    };
    let sealed = engine.seal_pending(&pending).unwrap();
    assert_eq!(engine.open_pending(&sealed).unwrap(), pending);
    // A valid seal padded past the limit is refused by length alone.
    let padded = format!("{sealed}{}", "A".repeat(MAX_SEALED_LEN));
    let error = engine.open_pending(&padded).unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidRequest);
}

// ---------------------------------------------------------------------------------------
// FZ-03: NUL, CR/LF and invalid UTF-8 are `invalid_request`; CR/LF never reaches Location.

const BAD_BYTES: [&str; 6] = ["%00", "%0D%0A", "%0A", "%FF", "%C0%AF", "%E2%82"];

#[tokio::test]
async fn fz03_bad_bytes_in_state_redirect_uri_client_id_get_an_error_page() {
    let engine = engine().await;
    for bad in BAD_BYTES {
        for query in [
            authorize_query(&format!("&state=ab{bad}cd")),
            authorize_query("").replace(REDIRECT_ENCODED, &format!("{REDIRECT_ENCODED}{bad}")),
            authorize_query("").replace("client_id=app", &format!("client_id=app{bad}")),
        ] {
            match engine.authorize_query(&query).await.unwrap() {
                // Nothing of the request is trusted: no redirect at all.
                AuthorizeOutcome::ErrorPage(error) => {
                    assert_eq!(error.code(), ErrorCode::InvalidRequest, "{query}")
                }
                other => panic!("{query}: {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn fz03_bad_bytes_in_client_id_at_the_token_endpoint_are_invalid_request() {
    let engine = engine().await;
    for bad in BAD_BYTES {
        let body =
            format!("grant_type=client_credentials&client_id=svc{bad}&client_secret={SECRET}");
        let outcome = engine
            .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
            .await
            .unwrap();
        assert_eq!(refused(&outcome).code(), ErrorCode::InvalidRequest, "{bad}");
        // In Basic credentials (form-urlencoded inside the base64): the same.
        let header = basic(&format!("svc{bad}"), SECRET);
        let outcome = engine
            .token(
                &FormRequest::new(Some(FORM_CONTENT_TYPE), b"grant_type=client_credentials")
                    .with_authorization(Some(&header)),
            )
            .await
            .unwrap();
        assert_eq!(refused(&outcome).code(), ErrorCode::InvalidRequest, "{bad}");
    }
    // Raw control characters and invalid UTF-8 inside the base64.
    for raw in [&b"svc\r\n:x"[..], b"svc\0:x", b"sv\xff:x"] {
        let header = format!("Basic {}", STANDARD.encode(raw));
        let outcome = engine
            .token(
                &FormRequest::new(Some(FORM_CONTENT_TYPE), b"grant_type=client_credentials")
                    .with_authorization(Some(&header)),
            )
            .await
            .unwrap();
        assert_eq!(refused(&outcome).code(), ErrorCode::InvalidRequest);
    }
}

#[tokio::test]
async fn fz03_crlf_never_reaches_location() {
    let engine = engine().await;
    // Decoded once: double-encoded CR/LF stays the text `%0D%0A`, echoed byte for byte
    // and encoded again in the Location. Non-ASCII line separators are percent-encoded.
    for (state_sent, state_decoded) in [
        ("a%250D%250Ab", "a%0D%0Ab"),
        ("%E2%80%A8x%E2%80%A9", "\u{2028}x\u{2029}"),
        ("%22%3E%3Cscript%3E", "\"><script>"),
        ("a+b%20c%2Bd", "a b c+d"),
    ] {
        let AuthorizeOutcome::Pending(pending) = engine
            .authorize_query(&authorize_query(&format!("&state={state_sent}")))
            .await
            .unwrap()
        else {
            panic!("pending");
        };
        assert_eq!(pending.state(), Some(state_decoded));
        // A pending request is answered once: a second one for the denial.
        let AuthorizeOutcome::Pending(to_deny) = engine
            .authorize_query(&authorize_query(&format!("&state={state_sent}")))
            .await
            .unwrap()
        else {
            panic!("pending");
        };
        for response in [
            engine
                .approve(&pending, "alice", pending.scope())
                .await
                .unwrap(),
            engine.deny(&to_deny).await.unwrap(),
        ] {
            let AuthorizationResponse::Redirect(redirect) = response else {
                panic!("redirect");
            };
            let location = redirect.location();
            assert!(
                !location
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace()),
                "{location}"
            );
            assert!(!location.contains('\u{2028}'));
            assert!(location.starts_with(&format!("{REDIRECT}?")));
            assert_eq!(redirect.param("state").as_deref(), Some(state_decoded));
            let response = redirect.to_response();
            assert!(response
                .headers
                .iter()
                .all(|(_, v)| !v.chars().any(char::is_control)));
        }
    }
    // Pairs a framework decoded itself go through the same checks.
    for raw in ["a\r\nLocation: https://evil.example", "a\0b", "a\nb"] {
        let error = Params::from_pairs([("client_id", "app"), ("state", raw)]).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidRequest);
    }
}

// ---------------------------------------------------------------------------------------
// FZ-05: constant-time comparisons; lookups by hash.
//
// Review (oauth-core, at the time of writing): client secrets are compared as SHA-256
// hashes with `subtle` (`SecretHash::ct_eq`, client.rs `verify_secret`), human-chosen
// secrets with `ring::pbkdf2::verify`; an unknown client costs the same hash and
// comparison (client_auth.rs); PKCE compares S256(verifier) with `subtle` (pkce.rs
// `verify`); the pending seal and HS256 JWTs use `ring::hmac::verify` (pending_seal.rs,
// jose/keys.rs); asymmetric signatures use ring's verifiers. Codes and opaque tokens are
// stored and found by their SHA-256 (`CodeStore::get_code`, `TokenStore::redeem_code`,
// `TokenStore::get_token`), never by value. The tests below hold the sources to this and check it in behaviour.

#[test]
fn fz05_secret_mac_and_pkce_comparisons_use_constant_time_primitives() {
    let sources = [
        (
            "secret.rs",
            include_str!("../../oauth-core/src/secret.rs"),
            &["use subtle::ConstantTimeEq", "self.0.ct_eq(&other.0)"][..],
        ),
        (
            "client.rs",
            include_str!("../../oauth-core/src/client.rs"),
            &[
                "SecretHash::of(presented).ct_eq(secret_hash)",
                "ring::pbkdf2::verify(",
            ][..],
        ),
        (
            "pkce.rs",
            include_str!("../../oauth-core/src/pkce.rs"),
            &["ct_eq(&s256(verifier), self.0.as_bytes())"][..],
        ),
        (
            "pending_seal.rs",
            include_str!("../../oauth-core/src/pending_seal.rs"),
            &["expected.as_ref().ct_eq(tag.as_slice())"][..],
        ),
        (
            "consent.rs",
            include_str!("../../oauth-core/src/consent.rs"),
            &["sent.as_bytes().ct_eq(expected.as_bytes())"][..],
        ),
        (
            "jose/keys.rs",
            include_str!("../../oauth-core/src/jose/keys.rs"),
            &["PublicMaterial::Hs256(key) => hmac::verify(key, message, signature_bytes)"][..],
        ),
    ];
    for (file, source, needles) in sources {
        for needle in needles {
            assert!(source.contains(needle), "{file} no longer uses `{needle}`");
        }
        // ring's `constant_time` module is deprecated (SECURITY.md FZ-05).
        assert!(!source.contains("constant_time::"), "{file}");
    }
}

#[tokio::test]
async fn fz05_tokens_and_codes_are_stored_and_found_by_hash() {
    let engine = engine().await;
    // Opaque tokens: the store answers to the hash of the value, and holds no value.
    let outcome = engine
        .token(
            &FormRequest::new(
                Some(FORM_CONTENT_TYPE),
                b"grant_type=client_credentials&scope=read",
            )
            .with_authorization(Some(&basic("svc", SECRET))),
        )
        .await
        .unwrap();
    let token = outcome.issued().unwrap().access_token.clone();
    let record = engine
        .storage()
        .get_token(&SecretHash::of(&token))
        .await
        .unwrap()
        .expect("found by the hash of its value");
    assert!(!format!("{record:?}").contains(&token));
    assert!(engine
        .storage()
        .get_token(&SecretHash::of(&format!("{token}x")))
        .await
        .unwrap()
        .is_none());

    // Codes: consumed by hash; once consumed by the hash, the code itself is spent.
    let AuthorizeOutcome::Pending(pending) =
        engine.authorize_query(&authorize_query("")).await.unwrap()
    else {
        panic!("pending");
    };
    let AuthorizationResponse::Redirect(redirect) = engine
        .approve(&pending, "alice", pending.scope())
        .await
        .unwrap()
    else {
        panic!("redirect");
    };
    let code = redirect.param("code").unwrap();
    engine
        .storage()
        .consume_code(&SecretHash::of(&code))
        .await
        .unwrap();
    let body = format!(
        "grant_type=authorization_code&code={code}&client_id=app\
         &redirect_uri={REDIRECT_ENCODED}&code_verifier={VERIFIER}"
    );
    let outcome = engine
        .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
        .await
        .unwrap();
    assert_eq!(refused(&outcome).code(), ErrorCode::InvalidGrant);
}

#[tokio::test]
async fn fz05_wrong_secrets_and_verifiers_of_every_length_are_refused() {
    let engine = engine().await;
    // Same length, one byte off at the start, middle and end; shorter; longer.
    let mut wrong = Vec::new();
    for position in [0, SECRET.len() / 2, SECRET.len() - 1] {
        let mut bytes = SECRET.as_bytes().to_vec();
        bytes[position] ^= 1;
        wrong.push(String::from_utf8(bytes).unwrap());
    }
    wrong.push(SECRET[..SECRET.len() - 1].to_owned());
    wrong.push(format!("{SECRET}x"));
    for secret in &wrong {
        let outcome = engine
            .token(
                &FormRequest::new(Some(FORM_CONTENT_TYPE), b"grant_type=client_credentials")
                    .with_authorization(Some(&basic("svc", secret))),
            )
            .await
            .unwrap();
        assert_eq!(refused(&outcome).code(), ErrorCode::InvalidClient);
    }
    let challenge = CodeChallenge::from_verifier(VERIFIER);
    let mut off = VERIFIER.as_bytes().to_vec();
    off[42] = if off[42] == b'k' { b'j' } else { b'k' };
    assert!(challenge
        .verify(std::str::from_utf8(&off).unwrap())
        .is_err());
    assert!(challenge.verify(VERIFIER).is_ok());
}

// ---------------------------------------------------------------------------------------
// FZ-01: cases the fuzzers turned up (in the harness's assumptions, not in the engine);
// kept so the behaviour they pinned down stays as it is.

/// fuzz `redirect_uri`: `hTtps://…` registers. Schemes are case-insensitive (RFC 3986
/// §3.1) and registration checks the parsed, lower-cased scheme, so dangerous schemes are
/// refused in any case; matching stays byte for byte with the registered text.
#[test]
fn fz01_redirect_uri_scheme_is_checked_in_any_case() {
    use oauth_core::{RedirectUri, RedirectUriError};
    for (uri, expected) in [
        ("JavaScript:alert(1)", RedirectUriError::ForbiddenScheme),
        ("DATA:text/html,hi", RedirectUriError::ForbiddenScheme),
        ("FILE:///etc/passwd", RedirectUriError::ForbiddenScheme),
        ("HTTP://app.example/cb", RedirectUriError::InsecureHttp),
        ("HTTP://127.0.0.1/cb", RedirectUriError::InsecureHttp),
    ] {
        assert_eq!(RedirectUri::new(uri), Err(expected), "{uri}");
    }
    let mixed = RedirectUri::new("hTtps://app.example/cb").unwrap();
    assert!(mixed.matches("hTtps://app.example/cb"));
    assert!(!mixed.matches("https://app.example/cb"));
    let canonical = RedirectUri::new("https://app.example/cb").unwrap();
    assert!(!canonical.matches("HTTPS://app.example/cb"));
}

/// fuzz `headers`: a secret that is also part of the client id. `Debug` of Basic
/// credentials shows the id and never the secret, whatever the two hold.
#[test]
fn fz01_basic_credentials_debug_shows_only_the_id() {
    for (id, secret) in [
        ("VVVVVVVV", "VVVV"),
        ("a", "<redacted>"),
        ("x", "client_id"),
    ] {
        let Authorization::Basic(credentials) = Authorization::parse(&basic(id, secret)).unwrap()
        else {
            panic!("Basic");
        };
        assert_eq!(
            format!("{credentials:?}"),
            format!("BasicCredentials {{ client_id: {id:?}, client_secret: \"<redacted>\" }}")
        );
    }
}
