//! The authorization endpoint as an OpenID Connect provider: OI-02 and OI-05 of
//! SECURITY.md, and the sign-in an approval keeps for the ID tokens.

use oauth_core::storage::{CodeConsumption, SignIn};
use oauth_core::{
    Authentication, AuthorizationResponse, AuthorizeOutcome, ErrorCode, Interaction, LoginReason,
    PendingAuthorization, SecretHash, Storage,
};
use time::Duration;

use crate::*;

/// An OpenID Connect code request for `spa`, plus `extra` pairs.
fn openid_request<S: Storage + 'static>(
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'static str, String)> {
    let mut pairs = vec![("scope", "openid read:users")];
    pairs.extend_from_slice(extra);
    Harness::<S>::spa_request(&pairs)
}

/// The sign-in stored with the code of `redirect` (consuming the code to read it).
async fn stored_sign_in<S: Storage>(h: &Harness<S>, location_code: &str) -> Option<SignIn> {
    match h
        .store
        .consume_code(&SecretHash::of(location_code))
        .await
        .unwrap()
    {
        CodeConsumption::Consumed(code) => code.sign_in,
        other => panic!("the code should be stored and unused: {other:?}"),
    }
}

async fn interaction<S: Storage>(
    h: &Harness<S>,
    pending: &PendingAuthorization,
    session: Option<&Authentication>,
    remembers: bool,
) -> Interaction {
    h.engine
        .interaction(pending, session, remembers)
        .await
        .expect("no fault")
}

/// The error redirect of an `Interaction::Answer`.
#[track_caller]
fn answered_error(interaction: Interaction, code: ErrorCode) {
    let Interaction::Answer(AuthorizationResponse::Redirect(redirect)) = interaction else {
        panic!("expected an answer at the redirect URI, got {interaction:?}");
    };
    assert!(redirect.location().starts_with(SPA_REDIRECT));
    assert_eq!(redirect.param("error").as_deref(), Some(code.as_str()));
    assert_eq!(redirect.param("state").as_deref(), Some("s-123"));
    assert_eq!(redirect.param("iss").as_deref(), Some(ISSUER));
    assert!(redirect.param("code").is_none());
}

/// OI-02: `prompt=none` never asks for a page: without a sign-in it answers
/// `login_required`, without remembered consent `consent_required`, both at the redirect
/// URI and once; with both it approves.
pub async fn oi02_prompt_none_answers_login_or_consent_required_without_a_page<
    S: Storage + 'static,
>(
    h: Harness<S>,
) {
    let alice = Authentication::new("alice");
    let pending = h.pending(&openid_request::<S>(&[("prompt", "none")])).await;
    answered_error(
        interaction(&h, &pending, None, true).await,
        ErrorCode::LoginRequired,
    );
    // The request is spent: it cannot be approved after its answer.
    let again = h
        .engine
        .approve(&pending, &alice, pending.scope())
        .await
        .unwrap();
    assert!(
        matches!(again, AuthorizationResponse::ErrorPage(_)),
        "{again:?}"
    );

    let pending = h.pending(&openid_request::<S>(&[("prompt", "none")])).await;
    answered_error(
        interaction(&h, &pending, Some(&alice), false).await,
        ErrorCode::ConsentRequired,
    );

    let pending = h.pending(&openid_request::<S>(&[("prompt", "none")])).await;
    assert_eq!(
        interaction(&h, &pending, Some(&alice), true).await,
        Interaction::Approve
    );
    let redirect = h.approve(&pending, "alice").await;
    assert!(redirect.param("code").is_some());
}

/// OI-02: `prompt=login` asks for a login newer than the request, and `max_age` for one
/// no older than it allows; an approval with an older login is `login_required`.
pub async fn oi02_prompt_login_and_max_age_force_a_fresh_login<S: Storage + 'static>(
    h: Harness<S>,
) {
    let old = Authentication::new("alice").authenticated_at(START - Duration::hours(1));
    let pending = h
        .pending(&openid_request::<S>(&[("prompt", "login")]))
        .await;
    assert_eq!(
        interaction(&h, &pending, Some(&old), true).await,
        Interaction::Login(LoginReason::PromptLogin)
    );
    let refused = h
        .engine
        .approve(&pending, &old, pending.scope())
        .await
        .unwrap();
    let AuthorizationResponse::Redirect(refused) = refused else {
        panic!("a login_required redirect, got {refused:?}");
    };
    assert_eq!(refused.param("error").as_deref(), Some("login_required"));

    h.clock.advance(Duration::seconds(5));
    let pending = h
        .pending(&openid_request::<S>(&[("prompt", "login")]))
        .await;
    let fresh = Authentication::new("alice").authenticated_at(START + Duration::seconds(5));
    assert_eq!(
        interaction(&h, &pending, Some(&fresh), false).await,
        Interaction::Consent
    );
    let redirect = h.approve(&pending, "alice").await;
    assert!(redirect.param("code").is_some());

    let pending = h.pending(&openid_request::<S>(&[("max_age", "60")])).await;
    let now = START + Duration::seconds(5);
    let recent = Authentication::new("alice").authenticated_at(now - Duration::seconds(60));
    let stale = Authentication::new("alice").authenticated_at(now - Duration::seconds(61));
    assert_eq!(
        interaction(&h, &pending, Some(&stale), true).await,
        Interaction::Login(LoginReason::MaxAgeExceeded)
    );
    assert_eq!(
        interaction(&h, &pending, Some(&recent), true).await,
        Interaction::Approve
    );
    let AuthorizationResponse::Redirect(redirect) = h
        .engine
        .approve(&pending, &recent, pending.scope())
        .await
        .unwrap()
    else {
        panic!("approval redirects");
    };
    let code = redirect.param("code").expect("a code");
    let sign_in = stored_sign_in(&h, &code)
        .await
        .expect("an OpenID grant's sign-in");
    assert_eq!(sign_in.auth_time, now - Duration::seconds(60));

    // Nobody signed in: a login, whatever else was asked.
    let pending = h.pending(&openid_request::<S>(&[])).await;
    assert_eq!(
        interaction(&h, &pending, None, true).await,
        Interaction::Login(LoginReason::NotSignedIn)
    );
}

/// The nonce, the login's time and manner, are kept with the code for the ID token; a
/// request without a nonce succeeds; a plain OAuth request keeps no sign-in.
pub async fn openid_approval_keeps_the_nonce_and_the_sign_in<S: Storage + 'static>(h: Harness<S>) {
    let pending = h
        .pending(&openid_request::<S>(&[("nonce", "n-0S6_WzA2Mj \"q\" é")]))
        .await;
    assert_eq!(
        pending.openid().and_then(|request| request.nonce()),
        Some("n-0S6_WzA2Mj \"q\" é")
    );
    let alice = Authentication::new("alice")
        .authenticated_at(START - Duration::minutes(3))
        .acr("urn:example:mfa")
        .amr(["pwd", "otp"]);
    let AuthorizationResponse::Redirect(redirect) = h
        .engine
        .approve(&pending, &alice, pending.scope())
        .await
        .unwrap()
    else {
        panic!("approval redirects");
    };
    let sign_in = stored_sign_in(&h, &redirect.param("code").unwrap())
        .await
        .expect("a sign-in");
    assert_eq!(sign_in.nonce.as_deref(), Some("n-0S6_WzA2Mj \"q\" é"));
    assert_eq!(sign_in.auth_time, START - Duration::minutes(3));
    assert_eq!(sign_in.acr.as_deref(), Some("urn:example:mfa"));
    assert_eq!(sign_in.amr, ["pwd", "otp"]);

    // Without a nonce, and with a subject alone: signed in at the approval.
    let pending = h.pending(&openid_request::<S>(&[])).await;
    let redirect = h.approve(&pending, "alice").await;
    let sign_in = stored_sign_in(&h, &redirect.param("code").unwrap())
        .await
        .expect("a sign-in");
    assert_eq!(sign_in.nonce, None);
    assert_eq!(sign_in.auth_time, START);

    // Plain OAuth: no openid scope, no OpenID parameters read, nothing kept.
    let pending = h
        .pending(&Harness::<S>::spa_request(&[
            ("prompt", "none"),
            ("nonce", "x"),
        ]))
        .await;
    assert!(pending.openid().is_none());
    let redirect = h.approve(&pending, "alice").await;
    assert_eq!(
        stored_sign_in(&h, &redirect.param("code").unwrap()).await,
        None
    );
}

/// OI-05: `request`, `request_uri` and `registration` are refused with their own error
/// codes; a malformed `max_age` or `prompt`, or an `id_token_hint` that is no ID token of
/// this issuer, is `invalid_request` at the redirect URI; with an unregistered redirect
/// URI, an error page and never a redirect.
pub async fn oi05_unsupported_and_malformed_openid_parameters<S: Storage + 'static>(h: Harness<S>) {
    for (name, code) in [
        ("request", ErrorCode::RequestNotSupported),
        ("request_uri", ErrorCode::RequestUriNotSupported),
        ("registration", ErrorCode::RegistrationNotSupported),
    ] {
        let outcome = h
            .authorize_owned(&openid_request::<S>(&[(name, "x")]))
            .await;
        expect_error_redirect(&outcome, SPA_REDIRECT, code);
    }
    for bad in [
        ("max_age", "-1"),
        ("max_age", "ten"),
        ("prompt", "none login"),
        ("prompt", "always"),
        ("id_token_hint", "not.a.token"),
        ("response_mode", "fragment"),
    ] {
        let outcome = h.authorize_owned(&openid_request::<S>(&[bad])).await;
        expect_error_redirect(&outcome, SPA_REDIRECT, ErrorCode::InvalidRequest);
        let outcome = h
            .authorize_owned(&openid_request::<S>(&[
                bad,
                ("redirect_uri", "https://evil.example/cb"),
            ]))
            .await;
        expect_page(&outcome, ErrorCode::InvalidRequest);
    }
    // A valid request still gets through.
    assert!(matches!(
        h.authorize_owned(&openid_request::<S>(&[
            ("max_age", "0"),
            ("prompt", "login consent")
        ]))
        .await,
        AuthorizeOutcome::Pending(_)
    ));
}

/// OI-05: an `id_token_hint` is read only if it is an ID token of this issuer for this
/// client (expired is fine: it names a user, it authenticates nobody); it then names the
/// user the client expects, and another user signed in must log in again.
pub async fn oi05_id_token_hint_names_the_expected_user<S: Storage + 'static>(h: Harness<S>) {
    use crate::openid_harness::{test_provider, RP_REDIRECT};

    let h = h.with_openid(test_provider()).await;
    let code = h.openid_code("rp", "openid", "alice", None).await;
    let id_token = h
        .redeem_openid("rp", &code)
        .await
        .id_token
        .expect("an ID token");
    let es_code = h.openid_code("rp-es", "openid", "alice", None).await;
    let es_id_token = h
        .redeem_openid("rp-es", &es_code)
        .await
        .id_token
        .expect("an ID token");
    // Long past the ID token's five minutes.
    h.clock.advance(Duration::hours(1));

    let challenge = oauth_core::CodeChallenge::from_verifier(VERIFIER);
    let request = |hint: &str| {
        vec![
            ("response_type", "code".to_owned()),
            ("client_id", "rp".to_owned()),
            ("redirect_uri", RP_REDIRECT.to_owned()),
            ("scope", "openid".to_owned()),
            ("state", "s-123".to_owned()),
            ("code_challenge", challenge.as_str().to_owned()),
            ("code_challenge_method", "S256".to_owned()),
            ("id_token_hint", hint.to_owned()),
        ]
    };
    let pending = h.pending(&request(&id_token)).await;
    assert_eq!(
        pending
            .openid()
            .and_then(|request| request.hinted_subject()),
        Some("alice")
    );
    let bob = Authentication::new("bob");
    let alice = Authentication::new("alice");
    assert_eq!(
        interaction(&h, &pending, Some(&bob), true).await,
        Interaction::Login(LoginReason::OtherUser)
    );
    assert_eq!(
        interaction(&h, &pending, Some(&alice), true).await,
        Interaction::Approve
    );

    // Another client's ID token, an altered one, a stranger's JWT: refused at the
    // client's redirect URI.
    let mut altered = id_token.clone();
    altered.pop();
    altered.push(if id_token.ends_with('A') { 'B' } else { 'A' });
    for hint in [es_id_token.as_str(), altered.as_str(), "e30.e30.c2ln"] {
        let outcome = h.authorize_owned(&request(hint)).await;
        expect_error_redirect(&outcome, RP_REDIRECT, ErrorCode::InvalidRequest);
    }
}
