//! Introspection, revocation and metadata: IR-* cases of SECURITY.md.

use oauth_core::jose::{Algorithm, SigningKey};
use oauth_core::{
    BearerRequest, ErrorCode, IntrospectionOutcome, RevocationOutcome, ScopeSet, Storage,
};
use oauth_core::{FormRequest, FORM_CONTENT_TYPE};
use serde_json::{json, Value};
use time::Duration;

use crate::*;

fn body(outcome: &IntrospectionOutcome) -> Value {
    let response = outcome.to_response();
    assert_eq!(response.header("Cache-Control"), Some("no-store"));
    serde_json::from_str(&response.body).unwrap()
}

#[track_caller]
fn assert_inactive(outcome: &IntrospectionOutcome) {
    assert_eq!(body(outcome), json!({"active": false}), "{outcome:?}");
    assert_eq!(outcome.to_response().status, 200);
}

/// IR-01: introspection without client authentication is 401 invalid_client; no token is
/// invalid_request.
pub async fn ir01_introspection_requires_client_authentication<S: Storage + 'static>(
    h: Harness<S>,
) {
    let tokens = expect_issued(h.redeem_server(&h.server_code("read:users").await).await);
    let token = tokens.access_token.as_str();
    let outcomes = [
        h.engine
            .introspect(&FormRequest::new(
                Some(FORM_CONTENT_TYPE),
                encode(&[("token", token)]).as_bytes(),
            ))
            .await
            .unwrap(),
        h.engine
            .introspect(&FormRequest::new(
                Some(FORM_CONTENT_TYPE),
                encode(&[("token", token), ("client_id", "spa")]).as_bytes(),
            ))
            .await
            .unwrap(),
        h.engine
            .introspect(&FormRequest::new(
                Some(FORM_CONTENT_TYPE),
                encode(&[("token", token), ("client_id", "server")]).as_bytes(),
            ))
            .await
            .unwrap(),
        h.introspect_as(
            "server",
            "wrong-secret-wrong-secret-wrong-secret",
            token,
            &[],
        )
        .await,
    ];
    for outcome in outcomes {
        let IntrospectionOutcome::Refused(error) = &outcome else {
            panic!("expected a refusal, got {outcome:?}");
        };
        assert_eq!(error.code(), ErrorCode::InvalidClient);
        assert_eq!(outcome.to_response().status, 401);
        assert!(outcome.to_response().header("WWW-Authenticate").is_some());
    }
    let missing = h
        .engine
        .introspect(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), b"")
                .with_authorization(Some(&basic("server", SERVER_SECRET))),
        )
        .await
        .unwrap();
    assert!(
        matches!(&missing, IntrospectionOutcome::Refused(e) if e.code() == ErrorCode::InvalidRequest),
        "{missing:?}"
    );

    let active = h.introspect_as("server", SERVER_SECRET, token, &[]).await;
    let active = body(&active);
    assert_eq!(active["active"], true);
    assert_eq!(active["client_id"], "server");
    assert_eq!(active["sub"], "bob");
    assert_eq!(active["scope"], "read:users");
    assert_eq!(active["token_type"], "Bearer");
    assert_eq!(active["iss"], ISSUER);
}

/// IR-02: garbage, expired, revoked or rotated tokens are `{"active": false}` and nothing else.
pub async fn ir02_inactive_tokens_say_only_active_false<S: Storage + 'static>(h: Harness<S>) {
    for garbage in [
        "garbage",
        "a.b.c",
        &"x".repeat(4000),
        "eyJhbGciOiJub25lIn0.e30.",
        "%00",
    ] {
        assert_inactive(&h.introspect_as("server", SERVER_SECRET, garbage, &[]).await);
    }
    let first = expect_issued(h.redeem_server(&h.server_code("read:users").await).await);
    let auth = basic("server", SERVER_SECRET);
    // Rotated away.
    let old_refresh = first.refresh_token.clone().unwrap();
    let second = expect_issued(
        h.token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &old_refresh),
            ],
            Some(&auth),
        )
        .await,
    );
    assert_inactive(
        &h.introspect_as("server", SERVER_SECRET, &old_refresh, &[])
            .await,
    );
    // Revoked.
    assert_eq!(
        h.revoke(&[("token", &second.access_token)], Some(&auth))
            .await,
        RevocationOutcome::Done
    );
    assert_inactive(
        &h.introspect_as("server", SERVER_SECRET, &second.access_token, &[])
            .await,
    );
    // Expired.
    h.clock.advance(Duration::minutes(10));
    assert_inactive(
        &h.introspect_as("server", SERVER_SECRET, &first.access_token, &[])
            .await,
    );
    // The live refresh token still introspects.
    let live = second.refresh_token.unwrap();
    assert!(h
        .introspect_as("server", SERVER_SECRET, &live, &[])
        .await
        .is_active());
    // Another client's token is inactive to a client that is not an introspector.
    assert_inactive(&h.introspect_as("other", OTHER_SECRET, &live, &[]).await);
}

/// IR-03: a wrong or unknown token_type_hint does not hide the token.
pub async fn ir03_token_type_hint_is_only_a_hint<S: Storage + 'static>(h: Harness<S>) {
    let tokens = expect_issued(h.redeem_server(&h.server_code("read:users").await).await);
    let refresh = tokens.refresh_token.unwrap();
    for hint in ["refresh_token", "access_token", "bogus", "id_token"] {
        assert!(h
            .introspect_as(
                "server",
                SERVER_SECRET,
                &tokens.access_token,
                &[("token_type_hint", hint)]
            )
            .await
            .is_active());
        assert!(h
            .introspect_as(
                "server",
                SERVER_SECRET,
                &refresh,
                &[("token_type_hint", hint)]
            )
            .await
            .is_active());
    }
    let auth = basic("server", SERVER_SECRET);
    assert_eq!(
        h.revoke(
            &[
                ("token", &tokens.access_token),
                ("token_type_hint", "refresh_token")
            ],
            Some(&auth)
        )
        .await,
        RevocationOutcome::Done
    );
    assert!(!h.is_active(&tokens.access_token).await);
}

/// IR-04: revoking garbage is 200 and empty; revoking another client's token leaves it valid.
pub async fn ir04_revoking_garbage_or_another_clients_token<S: Storage + 'static>(h: Harness<S>) {
    let auth = basic("server", SERVER_SECRET);
    let outcome = h.revoke(&[("token", "garbage")], Some(&auth)).await;
    assert_eq!(outcome, RevocationOutcome::Done);
    let response = outcome.to_response();
    assert_eq!((response.status, response.body.as_str()), (200, ""));

    let spa = h.redeem_spa(&h.spa_code().await).await;
    assert_eq!(
        h.revoke(&[("token", &spa.access_token)], Some(&auth)).await,
        RevocationOutcome::Done
    );
    assert_eq!(
        h.revoke(
            &[("token", spa.refresh_token.as_ref().unwrap())],
            Some(&auth)
        )
        .await,
        RevocationOutcome::Done
    );
    assert!(h.is_active(&spa.access_token).await);
    assert!(h.is_active(spa.refresh_token.as_ref().unwrap()).await);

    // The owner (a public client, by client_id) can revoke it.
    assert_eq!(
        h.revoke(&[("token", &spa.access_token), ("client_id", "spa")], None)
            .await,
        RevocationOutcome::Done
    );
    assert!(!h.is_active(&spa.access_token).await);

    // Without any client identification, or without a token: refused.
    let RevocationOutcome::Refused(error) = h.revoke(&[("token", "x")], None).await else {
        panic!("refused")
    };
    assert_eq!(error.code(), ErrorCode::InvalidClient);
    let RevocationOutcome::Refused(error) = h.revoke(&[], Some(&auth)).await else {
        panic!("refused")
    };
    assert_eq!(error.code(), ErrorCode::InvalidRequest);
}

/// IR-05: revoking a refresh token makes the access tokens of its grant inactive too.
pub async fn ir05_revoking_refresh_token_ends_its_access_tokens<S: Storage + 'static>(
    h: Harness<S>,
) {
    let spa = h.redeem_spa(&h.spa_code().await).await;
    let next = expect_issued(
        h.refresh_spa(spa.refresh_token.as_ref().unwrap(), None)
            .await,
    );
    let other_grant = h.redeem_spa(&h.spa_code().await).await;
    let refresh = next.refresh_token.clone().unwrap();
    assert_eq!(
        h.revoke(&[("token", &refresh), ("client_id", "spa")], None)
            .await,
        RevocationOutcome::Done
    );
    assert!(!h.is_active(&refresh).await);
    assert!(!h.is_active(&next.access_token).await);
    assert!(!h.is_active(&spa.access_token).await);
    assert!(
        h.is_active(&other_grant.access_token).await,
        "other grants are untouched"
    );
    expect_refused(
        &h.refresh_spa(&refresh, None).await,
        ErrorCode::InvalidGrant,
        400,
    );
}

/// IR-06: revoking a JWT access token puts its `jti` on the deny-list until it expires:
/// introspection and store-backed verification refuse it at once; a verifier that checks
/// only signatures accepts it until `exp` (documented in `revoke.rs`).
pub async fn ir06_revoking_jwt_access_token_denies_its_jti<S: Storage + 'static>(h: Harness<S>) {
    let key = SigningKey::generate(Algorithm::Es256, "k1").unwrap().0;
    let h = {
        let engine = h.jwt_engine(key);
        h.with_engine(engine)
    };
    let tokens = expect_issued(h.redeem_server(&h.server_code("read:users").await).await);
    let jwt = tokens.access_token.clone();
    assert_eq!(jwt.split('.').count(), 3);
    let required = ScopeSet::parse("read:users").unwrap();
    let bearer = format!("Bearer {jwt}");
    let request = BearerRequest::new(Some(&bearer), None);
    let verifier = h.engine.token_verifier();
    assert!(verifier
        .verify_with_store(&*h.store, &request, &required)
        .await
        .unwrap()
        .into_result()
        .is_ok());
    assert!(h
        .introspect_as("server", SERVER_SECRET, &jwt, &[])
        .await
        .is_active());
    // The jti (visible to anyone holding the JWT) is no bearer credential of its own.
    let jti = verifier.verify_jwt(&jwt).unwrap().token_id.unwrap();
    let as_opaque = format!("Bearer {jti}");
    let jti_request = BearerRequest::new(Some(&as_opaque), None);
    assert!(verifier
        .verify_with_store(&*h.store, &jti_request, &required)
        .await
        .unwrap()
        .into_result()
        .is_err());
    assert_inactive(&h.introspect_as("server", SERVER_SECRET, &jti, &[]).await);

    let auth = basic("server", SERVER_SECRET);
    assert_eq!(
        h.revoke(&[("token", &jwt)], Some(&auth)).await,
        RevocationOutcome::Done
    );
    assert_inactive(&h.introspect_as("server", SERVER_SECRET, &jwt, &[]).await);
    let refused = verifier
        .verify_with_store(&*h.store, &request, &required)
        .await
        .unwrap()
        .into_result()
        .unwrap_err();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.code(), Some(ErrorCode::InvalidToken));
    // Signature-only verification cannot know, until the token expires.
    assert!(verifier.verify(&request, &required).is_ok());
    h.clock.advance(Duration::minutes(10));
    assert_eq!(
        verifier.verify(&request, &required).unwrap_err().status(),
        401
    );
    // The refresh token of the grant is untouched by revoking one access token.
    assert!(h.is_active(tokens.refresh_token.as_ref().unwrap()).await);
}

/// IR-07: metadata: issuer exact, S256 only, `iss` parameter supported, endpoints from
/// the configuration.
pub async fn ir07_metadata_document<S: Storage + 'static>(h: Harness<S>) {
    let metadata = serde_json::to_value(h.engine.metadata()).unwrap();
    assert_eq!(metadata["issuer"], ISSUER);
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
    assert_eq!(
        metadata["authorization_endpoint"],
        format!("{ISSUER}/authorize")
    );
    assert_eq!(metadata["token_endpoint"], format!("{ISSUER}/token"));
    assert_eq!(
        metadata["introspection_endpoint"],
        format!("{ISSUER}/introspect")
    );
    assert_eq!(metadata["revocation_endpoint"], format!("{ISSUER}/revoke"));
    assert_eq!(metadata["jwks_uri"], format!("{ISSUER}/jwks.json"));
    assert_eq!(metadata["response_types_supported"], json!(["code"]));
    assert_eq!(
        metadata["grant_types_supported"],
        json!(["authorization_code", "client_credentials", "refresh_token"])
    );
    // Nothing advertised that the engine refuses: every grant type works.
    for grant in metadata["grant_types_supported"].as_array().unwrap() {
        let outcome = h
            .token(
                &[("grant_type", grant.as_str().unwrap())],
                Some(&basic("server", SERVER_SECRET)),
            )
            .await;
        if let Some(error) = outcome.error() {
            assert_ne!(error.code(), ErrorCode::UnsupportedGrantType);
        }
    }
}

/// JW-12: a revoked JWT is never accepted again after a purge. Past `exp`, within a
/// verifier's leeway, a JWT is accepted only while its record still shows it live; once a
/// purge removed the record (and with it the revocation), it is refused.
pub async fn jw12_a_revoked_jwt_stays_refused_after_a_purge<S: Storage + 'static>(h: Harness<S>) {
    let key = SigningKey::generate(Algorithm::Es256, "k1").unwrap().0;
    let h = {
        let engine = h.jwt_engine(key);
        h.with_engine(engine)
    };
    let tokens = expect_issued(h.redeem_server(&h.server_code("read:users").await).await);
    let bearer = format!("Bearer {}", tokens.access_token);
    let request = BearerRequest::new(Some(&bearer), None);
    let required = ScopeSet::parse("read:users").unwrap();
    let verifier = h.engine.token_verifier().with_leeway(Duration::minutes(5));
    let auth = basic("server", SERVER_SECRET);
    assert_eq!(
        h.revoke(&[("token", &tokens.access_token)], Some(&auth))
            .await,
        RevocationOutcome::Done
    );
    // Just past exp (10 minutes), inside the 5-minute leeway, after a purge.
    h.clock
        .advance(Duration::minutes(10) + Duration::seconds(30));
    h.engine.purge_expired().await.unwrap();
    let outcome = verifier
        .verify_with_store(&*h.store, &request, &required)
        .await
        .unwrap();
    assert_eq!(
        outcome.refusal().map(|refusal| refusal.status()),
        Some(401),
        "{outcome:?}"
    );
}
