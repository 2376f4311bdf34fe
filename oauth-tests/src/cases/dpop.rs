//! DPoP (RFC 9449) through the engine: JWT access tokens bound at the token endpoint
//! (DP-01) and checked with their proof at the resource server (DP-02). The client's
//! proofs are built by `oauth_core::testing::DpopKey`, on `ring` directly, not with
//! finrift's own JWS code.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use oauth_core::jose::{Algorithm, SigningKey};
use oauth_core::testing::DpopKey;
use oauth_core::{
    AccessTokenType, BearerErrorKind, BearerOutcome, BearerRequest, Clock, ErrorCode, FormRequest,
    ScopeSet, Storage, TokenOutcome, FORM_CONTENT_TYPE,
};
use serde_json::{json, Value};

use crate::*;

/// A protected resource.
const API_URL: &str = "https://api.example/users";

pub(crate) fn now<S: Storage + 'static>(h: &Harness<S>) -> i64 {
    h.clock.now().unix_timestamp()
}

pub(crate) fn proof<S: Storage + 'static>(
    h: &Harness<S>,
    key: &DpopKey,
    method: &str,
    url: &str,
) -> String {
    key.next_proof(method, url, None, now(h))
}

/// A client-credentials request as `server`, with the given `DPoP` header values.
pub(crate) async fn token_with<S: Storage + 'static>(
    h: &Harness<S>,
    proofs: &[&str],
    method: &str,
    url: &str,
) -> TokenOutcome {
    let body = encode(&[
        ("grant_type", "client_credentials"),
        ("scope", "read:users"),
    ]);
    let authorization = basic("server", SERVER_SECRET);
    let request = FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes())
        .with_authorization(Some(&authorization))
        .with_dpop(proofs.iter().copied(), method, url);
    h.engine.token(&request).await.expect("no fault")
}

fn claims_of(token: &str) -> Value {
    let segment = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

#[track_caller]
fn expect_bad_proof(outcome: &TokenOutcome, what: &str) {
    let error = outcome
        .error()
        .unwrap_or_else(|| panic!("{what}: tokens were issued"));
    assert_eq!(
        (error.code(), error.status()),
        (ErrorCode::InvalidDpopProof, 400),
        "{what}: {error}"
    );
}

/// DP-01 at the token endpoint: a valid proof binds the JWT access token to its key
/// (`cnf.jkt`, `token_type: DPoP`); a replayed proof, one for another method or URL, and
/// two proofs are refused; URLs compare normalised; without a proof nothing changes; an
/// engine of opaque tokens refuses a proof rather than issue an unbound token.
pub async fn dp01_token_endpoint_binds_jwt_access_tokens_to_the_proof_key<S: Storage + 'static>(
    h: Harness<S>,
) {
    let engine = h.jwt_engine(SigningKey::generate(Algorithm::Es256, "k1").unwrap().0);
    let h = h.with_engine(engine);
    let key = DpopKey::new();

    let first = proof(&h, &key, "POST", TOKEN_URL);
    let issued = expect_issued(token_with(&h, &[&first], "POST", TOKEN_URL).await);
    assert_eq!(issued.token_type, AccessTokenType::DPoP);
    assert_eq!(issued.to_json()["token_type"], "DPoP");
    assert_eq!(
        claims_of(&issued.access_token)["cnf"],
        json!({"jkt": key.thumbprint()})
    );

    let replay = token_with(&h, &[&first], "POST", TOKEN_URL).await;
    expect_bad_proof(&replay, "a replayed proof");
    assert!(replay
        .error()
        .unwrap()
        .description()
        .contains("used before"));

    let get = proof(&h, &key, "GET", TOKEN_URL);
    expect_bad_proof(
        &token_with(&h, &[&get], "POST", TOKEN_URL).await,
        "another method",
    );
    let elsewhere = proof(&h, &key, "POST", "https://auth.example/other");
    expect_bad_proof(
        &token_with(&h, &[&elsewhere], "POST", TOKEN_URL).await,
        "another URL",
    );
    let other_host = proof(&h, &key, "POST", "https://evil.example/token");
    expect_bad_proof(
        &token_with(&h, &[&other_host], "POST", TOKEN_URL).await,
        "another host",
    );
    for (htu, url) in [
        ("HTTPS://Auth.Example/token", TOKEN_URL),
        ("https://auth.example:443/token", TOKEN_URL),
        (
            "https://auth.example/token",
            "https://auth.example/token?x=1",
        ),
        ("https://auth.example/token?y=2#f", TOKEN_URL),
    ] {
        let normalised = proof(&h, &key, "POST", htu);
        expect_issued(token_with(&h, &[&normalised], "POST", url).await);
    }

    let (a, b) = (
        proof(&h, &key, "POST", TOKEN_URL),
        proof(&h, &key, "POST", TOKEN_URL),
    );
    expect_bad_proof(
        &token_with(&h, &[&a, &b], "POST", TOKEN_URL).await,
        "two proofs",
    );
    let folded = format!("{a}, {b}");
    expect_bad_proof(
        &token_with(&h, &[&folded], "POST", TOKEN_URL).await,
        "two proofs folded into one header",
    );

    let old = key.next_proof("POST", TOKEN_URL, None, now(&h) - 61);
    expect_bad_proof(
        &token_with(&h, &[&old], "POST", TOKEN_URL).await,
        "an old iat",
    );
    let ahead = key.next_proof("POST", TOKEN_URL, None, now(&h) + 61);
    expect_bad_proof(
        &token_with(&h, &[&ahead], "POST", TOKEN_URL).await,
        "a future iat",
    );

    let bearer = expect_issued(token_with(&h, &[], "POST", TOKEN_URL).await);
    assert_eq!(bearer.token_type, AccessTokenType::Bearer);
    assert_eq!(bearer.to_json()["token_type"], "Bearer");
    assert!(claims_of(&bearer.access_token).get("cnf").is_none());

    assert_eq!(
        h.engine.metadata().dpop_signing_alg_values_supported,
        ["ES256", "EdDSA", "PS256", "RS256"]
    );
}

/// DP-01: opaque access tokens are bound as JWTs are: `token_type` DPoP, and
/// introspection says so with the key's thumbprint (`cnf.jkt`, RFC 9449 §6.2); an unbound
/// token introspects as Bearer without `cnf`.
pub async fn dp01_opaque_access_tokens_are_bound_and_introspect_with_cnf<S: Storage + 'static>(
    h: Harness<S>,
) {
    let key = DpopKey::new();
    let bound = expect_issued(
        token_with(
            &h,
            &[&proof(&h, &key, "POST", TOKEN_URL)],
            "POST",
            TOKEN_URL,
        )
        .await,
    );
    assert_eq!(bound.token_type, AccessTokenType::DPoP);
    assert!(!bound.access_token.contains('.'), "opaque");
    let oauth_core::IntrospectionOutcome::Active(body) = h
        .introspect_as("server", SERVER_SECRET, &bound.access_token, &[])
        .await
    else {
        panic!("the bound token is active");
    };
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(body["cnf"], json!({"jkt": key.thumbprint()}));

    let unbound = expect_issued(token_with(&h, &[], "POST", TOKEN_URL).await);
    assert_eq!(unbound.token_type, AccessTokenType::Bearer);
    let oauth_core::IntrospectionOutcome::Active(body) = h
        .introspect_as("server", SERVER_SECRET, &unbound.access_token, &[])
        .await
    else {
        panic!("the unbound token is active");
    };
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("cnf").is_none());
    assert_eq!(
        h.engine.metadata().dpop_signing_alg_values_supported,
        ["ES256", "EdDSA", "PS256", "RS256"]
    );
}

/// DP-02 at the resource server: a bound JWT is accepted as `DPoP` with a fresh proof
/// of its key for this request and token, and refused as `Bearer`, with a replayed
/// proof, with a proof of another key, for another token (`ath`), method or URL, or
/// with none.
pub async fn dp02_resource_server_requires_the_proof_of_the_bound_key<S: Storage + 'static>(
    h: Harness<S>,
) {
    let engine = h.jwt_engine(SigningKey::generate(Algorithm::EdDsa, "k1").unwrap().0);
    bound_token_needs_its_proof(&h.with_engine(engine)).await;
}

/// DP-02 for opaque access tokens: the same checks as for a bound JWT.
pub async fn dp02_an_opaque_bound_token_requires_the_proof_of_its_key<S: Storage + 'static>(
    h: Harness<S>,
) {
    bound_token_needs_its_proof(&h).await;
}

async fn bound_token_needs_its_proof<S: Storage + 'static>(h: &Harness<S>) {
    let key = DpopKey::new();
    let issued = expect_issued(
        token_with(h, &[&proof(h, &key, "POST", TOKEN_URL)], "POST", TOKEN_URL).await,
    );
    let token = issued.access_token.as_str();
    let read = ScopeSet::parse("read:users").unwrap();
    let dpop_auth = format!("DPoP {token}");
    let check = |authorization: String, proofs: Vec<String>, method: &'static str| {
        let read = &read;
        async move {
            let request = BearerRequest::new(Some(&authorization), None).with_dpop(
                proofs.iter().map(String::as_str),
                method,
                API_URL,
            );
            h.engine
                .verify_bearer(&request, read)
                .await
                .expect("no fault")
        }
    };
    let fresh = || key.next_proof("GET", API_URL, Some(token), now(h));

    let accepted = fresh();
    let admitted = check(dpop_auth.clone(), vec![accepted.clone()], "GET").await;
    let principal = admitted.principal().expect("admitted with a fresh proof");
    assert_eq!(principal.jkt.as_deref(), Some(key.thumbprint().as_str()));
    assert_eq!(principal.client_id, "server");
    let again = fresh();
    assert!(check(dpop_auth.clone(), vec![again], "GET")
        .await
        .principal()
        .is_some());

    #[track_caller]
    fn expect_refused_at_api(outcome: &BearerOutcome, kind: BearerErrorKind, what: &str) {
        let error = outcome
            .refusal()
            .unwrap_or_else(|| panic!("{what}: admitted"));
        assert_eq!(
            (error.kind(), error.status()),
            (kind, 401),
            "{what}: {error}"
        );
        if kind == BearerErrorKind::InvalidDpopProof {
            assert_eq!(
                error.www_authenticate(),
                "DPoP error=\"invalid_dpop_proof\", error_description=\"the DPoP proof is \
                 missing or invalid\", algs=\"ES256 EdDSA PS256 RS256\"",
                "{what}"
            );
        }
    }

    let replayed = check(dpop_auth.clone(), vec![accepted], "GET").await;
    expect_refused_at_api(
        &replayed,
        BearerErrorKind::InvalidDpopProof,
        "a replayed proof",
    );

    let as_bearer = check(format!("Bearer {token}"), vec![fresh()], "GET").await;
    expect_refused_at_api(
        &as_bearer,
        BearerErrorKind::InvalidToken,
        "a bound token as Bearer",
    );
    let as_bearer = check(format!("Bearer {token}"), vec![], "GET").await;
    expect_refused_at_api(
        &as_bearer,
        BearerErrorKind::InvalidToken,
        "as Bearer, no proof",
    );

    let stranger = DpopKey::new();
    let foreign = stranger.next_proof("GET", API_URL, Some(token), now(h));
    let other_key = check(dpop_auth.clone(), vec![foreign], "GET").await;
    expect_refused_at_api(&other_key, BearerErrorKind::InvalidDpopProof, "another key");
    assert!(other_key
        .refusal()
        .unwrap()
        .reason()
        .unwrap()
        .contains("bound to"));

    let other_token = key.next_proof("GET", API_URL, Some("another-token"), now(h));
    let wrong_ath = check(dpop_auth.clone(), vec![other_token], "GET").await;
    expect_refused_at_api(
        &wrong_ath,
        BearerErrorKind::InvalidDpopProof,
        "ath for another token",
    );
    let no_ath = key.next_proof("GET", API_URL, None, now(h));
    let no_ath = check(dpop_auth.clone(), vec![no_ath], "GET").await;
    expect_refused_at_api(&no_ath, BearerErrorKind::InvalidDpopProof, "no ath");

    let for_post = check(dpop_auth.clone(), vec![fresh()], "POST").await;
    expect_refused_at_api(
        &for_post,
        BearerErrorKind::InvalidDpopProof,
        "another method",
    );
    let elsewhere = key.next_proof("GET", "https://api.example/admin", Some(token), now(h));
    let elsewhere = check(dpop_auth.clone(), vec![elsewhere], "GET").await;
    expect_refused_at_api(&elsewhere, BearerErrorKind::InvalidDpopProof, "another URL");

    let none = check(dpop_auth.clone(), vec![], "GET").await;
    expect_refused_at_api(&none, BearerErrorKind::InvalidDpopProof, "no proof");
    let two = check(dpop_auth.clone(), vec![fresh(), fresh()], "GET").await;
    expect_refused_at_api(&two, BearerErrorKind::InvalidDpopProof, "two proofs");

    // An unbound token is no DPoP token, and a bound one is refused by a verifier that
    // has no store for the replay mark.
    let bearer = expect_issued(token_with(h, &[], "POST", TOKEN_URL).await);
    let unbound = check(
        format!("DPoP {}", bearer.access_token),
        vec![fresh()],
        "GET",
    )
    .await;
    expect_refused_at_api(
        &unbound,
        BearerErrorKind::InvalidToken,
        "an unbound token as DPoP",
    );
    let last = fresh();
    let request =
        BearerRequest::new(Some(&dpop_auth), None).with_dpop([last.as_str()], "GET", API_URL);
    let storeless = h
        .engine
        .token_verifier()
        .verify(&request, &read)
        .unwrap_err();
    // Without a store an opaque token cannot be looked up at all.
    let expected = match token.contains('.') {
        true => BearerErrorKind::InvalidDpopProof,
        false => BearerErrorKind::InvalidToken,
    };
    assert_eq!(storeless.kind(), expected);
}
