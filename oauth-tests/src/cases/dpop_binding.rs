//! DPoP bindings beyond the access token: codes bound by `dpop_jkt` or a pushed request's
//! proof (DP-03), public clients' refresh tokens bound to their key (DP-02), and server
//! nonces (DP-01). Proofs are built by `oauth_core::testing::DpopKey`.

use oauth_core::testing::DpopKey;
use oauth_core::{
    AccessTokenType, ErrorCode, FormRequest, Storage, TokenOutcome, FORM_CONTENT_TYPE,
};
use serde_json::json;

use super::dpop::{now, proof, token_with};
use crate::*;

/// Redeems a `spa` code with `VERIFIER`, with a proof by `key` when given.
async fn redeem_spa_with<S: Storage + 'static>(
    h: &Harness<S>,
    code: &str,
    key: Option<&DpopKey>,
) -> TokenOutcome {
    let proof = key.map(|key| proof(h, key, "POST", TOKEN_URL));
    token_proved(
        &h.engine,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", "spa"),
            ("redirect_uri", SPA_REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        None,
        proof.as_deref(),
    )
    .await
}

/// A `spa` code approved by alice, from a request with `extra` pairs.
async fn spa_code_with<S: Storage + 'static>(
    h: &Harness<S>,
    extra: &[(&'static str, &str)],
) -> String {
    let mut pairs = Harness::<S>::spa_request(&[]);
    for (name, value) in extra {
        pairs.push((name, (*value).to_owned()));
    }
    let pending = h.pending(&pairs).await;
    h.approve(&pending, "alice").await.param("code").unwrap()
}

/// DP-03: `dpop_jkt` at the authorization endpoint binds the code: redeemed without a
/// proof, or with a proof of another key, it is refused (`invalid_dpop_proof`) and
/// nothing is issued; with the named key it gives a bound token. A replay of a spent code
/// by someone without the key revokes nothing. A malformed `dpop_jkt` is refused.
pub async fn dp03_dpop_jkt_at_authorization_binds_the_code<S: Storage + 'static>(h: Harness<S>) {
    let key = DpopKey::new();
    let jkt = key.thumbprint();
    let stranger = DpopKey::new();
    for attempt in [None, Some(&stranger)] {
        let code = spa_code_with(&h, &[("dpop_jkt", &jkt)]).await;
        let refused = redeem_spa_with(&h, &code, attempt).await;
        expect_refused(&refused, ErrorCode::InvalidDpopProof, 400);
    }
    let code = spa_code_with(&h, &[("dpop_jkt", &jkt)]).await;
    let issued = expect_issued(redeem_spa_with(&h, &code, Some(&key)).await);
    assert_eq!(issued.token_type, AccessTokenType::DPoP);
    assert!(h.is_active(&issued.access_token).await);
    // The thief replays the spent code with its own key: refused, and the grant lives.
    let replayed = redeem_spa_with(&h, &code, Some(&stranger)).await;
    assert!(replayed.issued().is_none());
    assert!(h.is_active(&issued.access_token).await);

    for bad in ["short", &format!("{jkt}x"), &"*".repeat(43)] {
        let mut pairs = Harness::<S>::spa_request(&[]);
        pairs.push(("dpop_jkt", bad.to_owned()));
        let outcome = h.authorize_owned(&pairs).await;
        expect_error_redirect(&outcome, SPA_REDIRECT, ErrorCode::InvalidRequest);
    }
}

/// DP-03: a pushed request binds its code too, by `dpop_jkt` or by the proof it was
/// pushed with (RFC 9449 §10.1); both at once must name the same key.
pub async fn dp03_a_pushed_request_binds_the_code_to_its_proof<S: Storage + 'static>(
    h: Harness<S>,
) {
    const PAR_URL: &str = "https://auth.example/par";
    let key = DpopKey::new();
    let push = |proof: Option<String>, extra: Vec<(&'static str, String)>| {
        let h = &h;
        async move {
            let mut pairs = Harness::<S>::spa_request(&[]);
            pairs.extend(extra);
            let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let body = encode(&borrowed);
            let mut request = FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes());
            if let Some(proof) = &proof {
                request = request.with_dpop([proof.as_str()], "POST", PAR_URL);
            }
            h.engine.push_authorization_request(&request).await.unwrap()
        }
    };
    let code_of = |outcome: oauth_core::PushOutcome| {
        let h = &h;
        async move {
            let uri = outcome.pushed().expect("pushed").request_uri().to_owned();
            let pending = h
                .pending(&[("client_id", "spa".to_owned()), ("request_uri", uri)])
                .await;
            h.approve(&pending, "alice").await.param("code").unwrap()
        }
    };
    let pushed = push(Some(proof(&h, &key, "POST", PAR_URL)), vec![]).await;
    let code = code_of(pushed).await;
    let stolen = redeem_spa_with(&h, &code, Some(&DpopKey::new())).await;
    expect_refused(&stolen, ErrorCode::InvalidDpopProof, 400);

    let pushed = push(Some(proof(&h, &key, "POST", PAR_URL)), vec![]).await;
    let code = code_of(pushed).await;
    let issued = expect_issued(redeem_spa_with(&h, &code, Some(&key)).await);
    assert_eq!(issued.token_type, AccessTokenType::DPoP);

    let mismatch = push(
        Some(proof(&h, &key, "POST", PAR_URL)),
        vec![("dpop_jkt", DpopKey::new().thumbprint())],
    )
    .await;
    assert_eq!(
        mismatch.error().map(|e| e.code()),
        Some(ErrorCode::InvalidDpopProof)
    );
    let named = push(None, vec![("dpop_jkt", key.thumbprint())]).await;
    let code = code_of(named).await;
    expect_refused(
        &redeem_spa_with(&h, &code, None).await,
        ErrorCode::InvalidDpopProof,
        400,
    );
    // A proof for another URL than the pushed request endpoint's is refused there.
    let elsewhere = push(Some(proof(&h, &key, "POST", TOKEN_URL)), vec![]).await;
    assert_eq!(
        elsewhere.error().map(|e| e.code()),
        Some(ErrorCode::InvalidDpopProof)
    );
}

/// DP-02 for refresh tokens: a public client's refresh token is bound to the key of the
/// proof it was issued with; a refresh without a proof, or with another key, is refused
/// and revokes nothing (not even a rotated-away token replayed by a thief); with the key,
/// the new refresh token stays bound. A confidential client's refresh token is unbound:
/// it authenticates at every refresh.
pub async fn dp02_a_public_clients_refresh_token_is_bound_to_its_key<S: Storage + 'static>(
    h: Harness<S>,
) {
    let key = DpopKey::new();
    let stranger = DpopKey::new();
    let code = h.spa_code().await;
    let issued = expect_issued(redeem_spa_with(&h, &code, Some(&key)).await);
    let first = issued.refresh_token.clone().unwrap();
    let refresh = |token: String, by: Option<&'static str>| {
        let h = &h;
        let key = &key;
        let stranger = &stranger;
        async move {
            let proof = match by {
                Some("owner") => Some(proof(h, key, "POST", TOKEN_URL)),
                Some(_) => Some(proof(h, stranger, "POST", TOKEN_URL)),
                None => None,
            };
            token_proved(
                &h.engine,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &token),
                    ("client_id", "spa"),
                ],
                None,
                proof.as_deref(),
            )
            .await
        }
    };
    for by in [None, Some("stranger")] {
        expect_refused(
            &refresh(first.clone(), by).await,
            ErrorCode::InvalidDpopProof,
            400,
        );
    }
    let rotated = expect_issued(refresh(first.clone(), Some("owner")).await);
    assert_eq!(rotated.token_type, AccessTokenType::DPoP);
    let second = rotated.refresh_token.clone().unwrap();
    // The thief replays the rotated-away token without the key: no reuse detection
    // fires, so the owner's grant lives on.
    expect_refused(
        &refresh(first.clone(), Some("stranger")).await,
        ErrorCode::InvalidDpopProof,
        400,
    );
    assert!(h.is_active(&rotated.access_token).await);
    expect_refused(
        &refresh(second.clone(), Some("stranger")).await,
        ErrorCode::InvalidDpopProof,
        400,
    );
    let latest = expect_issued(refresh(second, Some("owner")).await);

    // Revoking the bound refresh token takes a proof of its key: without one, or with
    // another key's, the answer is the same 200 and the grant lives on.
    const REVOKE_URL: &str = "https://auth.example/revoke";
    let latest_refresh = latest.refresh_token.clone().unwrap();
    let revoke = |proof: Option<String>| {
        let h = &h;
        let token = latest_refresh.clone();
        async move {
            let body = encode(&[("token", token.as_str()), ("client_id", "spa")]);
            let mut request = FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes());
            if let Some(proof) = &proof {
                request = request.with_dpop([proof.as_str()], "POST", REVOKE_URL);
            }
            h.engine.revoke(&request).await.unwrap()
        }
    };
    for proof in [None, Some(proof(&h, &stranger, "POST", REVOKE_URL))] {
        let outcome = revoke(proof).await;
        assert!(matches!(outcome, oauth_core::RevocationOutcome::Done));
        assert!(
            h.is_active(&latest_refresh).await,
            "revoked without the key"
        );
    }
    let outcome = revoke(Some(proof(&h, &key, "POST", REVOKE_URL))).await;
    assert!(matches!(outcome, oauth_core::RevocationOutcome::Done));
    assert!(!h.is_active(&latest_refresh).await, "revoked with the key");
    assert!(!h.is_active(&latest.access_token).await);

    // A confidential client's refresh token is not bound.
    let code = h.server_code("read:users").await;
    let server = basic("server", SERVER_SECRET);
    let issued = expect_issued(
        token_proved(
            &h.engine,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", SERVER_REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some(&server),
            Some(&proof(&h, &key, "POST", TOKEN_URL)),
        )
        .await,
    );
    assert_eq!(issued.token_type, AccessTokenType::DPoP);
    let refreshed = expect_issued(
        token_proved(
            &h.engine,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", issued.refresh_token.as_deref().unwrap()),
            ],
            Some(&server),
            None,
        )
        .await,
    );
    assert_eq!(refreshed.token_type, AccessTokenType::Bearer);
}

/// DP-01 with server nonces (RFC 9449 §8): an engine that requires them answers a proof
/// without one, or with one it did not issue, `400 use_dpop_nonce` with the nonce to use
/// in `DPoP-Nonce`; the retry with it gets tokens. A nonce stays good through the next
/// window and not after; another issuer's nonce is refused. Nothing is issued or spent by
/// a refused proof.
pub async fn dp01_a_required_server_nonce_is_asked_for_and_checked<S: Storage + 'static>(
    h: Harness<S>,
) {
    let engine = oauth_core::Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        oauth_core::Config::builder(ISSUER)
            .require_dpop_nonces()
            .build()
            .unwrap(),
    )
    .build()
    .unwrap();
    let h = h.with_engine(engine);
    let key = DpopKey::new();
    let with_nonce = |nonce: Option<&str>| {
        let mut claims = json!({
            "htm": "POST", "htu": TOKEN_URL, "iat": now(&h),
            "jti": format!("n-{}-{}", now(&h), nonce.unwrap_or("none")),
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = nonce.into();
        }
        key.sign(
            &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.jwk()}),
            &claims,
        )
    };
    let asked = token_with(&h, &[&with_nonce(None)], "POST", TOKEN_URL).await;
    let error = expect_refused(&asked, ErrorCode::UseDpopNonce, 400);
    let nonce = error.dpop_nonce().expect("a nonce to use").to_owned();
    assert_eq!(
        asked.to_response().header("DPoP-Nonce"),
        Some(nonce.as_str())
    );
    let made_up = token_with(&h, &[&with_nonce(Some("made-up"))], "POST", TOKEN_URL).await;
    expect_refused(&made_up, ErrorCode::UseDpopNonce, 400);

    let issued =
        expect_issued(token_with(&h, &[&with_nonce(Some(&nonce))], "POST", TOKEN_URL).await);
    assert_eq!(issued.token_type, AccessTokenType::DPoP);
    // Still good in the next window, not in the one after.
    h.clock.advance(time::Duration::seconds(60));
    expect_issued(token_with(&h, &[&with_nonce(Some(&nonce))], "POST", TOKEN_URL).await);
    h.clock.advance(time::Duration::seconds(60));
    let stale = token_with(&h, &[&with_nonce(Some(&nonce))], "POST", TOKEN_URL).await;
    let fresh = expect_refused(&stale, ErrorCode::UseDpopNonce, 400)
        .dpop_nonce()
        .unwrap()
        .to_owned();
    assert_ne!(fresh, nonce);

    // Another tenant's nonce (same sealing key, another issuer) is not this engine's.
    let tenant = oauth_core::Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        oauth_core::Config::builder("https://auth.example/tenant-b")
            .require_dpop_nonces()
            .build()
            .unwrap(),
    )
    .build()
    .unwrap();
    let theirs =
        tenant
            .token(
                &FormRequest::new(Some(FORM_CONTENT_TYPE), b"grant_type=client_credentials")
                    .with_authorization(Some(&basic("server", SERVER_SECRET)))
                    .with_dpop(
                        [key.next_proof(
                            "POST",
                            "https://auth.example/tenant-b/token",
                            None,
                            now(&h),
                        )
                        .as_str()],
                        "POST",
                        "https://auth.example/tenant-b/token",
                    ),
            )
            .await
            .unwrap();
    let their_nonce = theirs.error().unwrap().dpop_nonce().unwrap().to_owned();
    assert_ne!(their_nonce, fresh);
    let crossed = token_with(&h, &[&with_nonce(Some(&their_nonce))], "POST", TOKEN_URL).await;
    expect_refused(&crossed, ErrorCode::UseDpopNonce, 400);
}
