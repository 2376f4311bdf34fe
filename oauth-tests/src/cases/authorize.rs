//! The authorization endpoint: AZ-* cases of SECURITY.md.

use oauth_core::{AuthorizationResponse, AuthorizeOutcome, ErrorCode, Storage, MAX_STATE_LEN};
use time::Duration;

use crate::*;

/// AZ-01: a redirect_uri that is not exactly a registered one gets an error page, never a redirect.
pub async fn az01_redirect_uri_must_match_exactly<S: Storage + 'static>(h: Harness<S>) {
    for attack in [
        "https://app.example/cb/",
        "https://APP.example/cb",
        "https://app.example/cb?extra=1",
        "https://app.example/cb/../cb",
        "https://app.example/%63b",
        "https://app.example@evil.example/cb",
        "https://app.example.evil.example/cb",
        "https://evil.example/cb",
        "http://app.example/cb",
        "https://app.example:8443/cb",
        "javascript:alert(1)",
    ] {
        let mut request = Harness::<S>::spa_request(&[]);
        request.retain(|(n, _)| *n != "redirect_uri");
        request.push(("redirect_uri", attack.to_owned()));
        let outcome = h.authorize_owned(&request).await;
        expect_page(&outcome, ErrorCode::InvalidRequest);
    }
    // And an otherwise invalid request with a bad redirect URI still never redirects.
    let outcome = h
        .authorize(&[
            ("client_id", "spa"),
            ("redirect_uri", "https://evil.example/cb"),
            ("response_type", "token"),
        ])
        .await;
    expect_page(&outcome, ErrorCode::InvalidRequest);
}

/// AZ-02: a loopback redirect with another port is accepted; any other difference is not.
pub async fn az02_loopback_port_may_differ<S: Storage + 'static>(h: Harness<S>) {
    let request = |uri: &str| {
        let mut r = Harness::<S>::spa_request(&[("client_id", "native")]);
        r.retain(|(n, _)| *n != "redirect_uri");
        r.push(("redirect_uri", uri.to_owned()));
        r
    };
    let pending = h.pending(&request("http://127.0.0.1:53123/cb")).await;
    let redirect = h.approve(&pending, "alice").await;
    assert!(redirect
        .location()
        .starts_with("http://127.0.0.1:53123/cb?code="));
    for bad in [
        "http://127.0.0.1:53123/cb2",
        "http://localhost:53123/cb",
        "http://127.0.0.1:53123/cb?x",
        "https://127.0.0.1:53123/cb",
    ] {
        expect_page(
            &h.authorize_owned(&request(bad)).await,
            ErrorCode::InvalidRequest,
        );
    }
}

/// AZ-04: an unknown or missing client_id, or no redirect_uri when several are
/// registered: an error page.
pub async fn az04_unknown_client_or_ambiguous_redirect_is_an_error_page<S: Storage + 'static>(
    h: Harness<S>,
) {
    expect_page(
        &h.authorize_owned(&Harness::<S>::spa_request(&[("client_id", "nobody")]))
            .await,
        ErrorCode::InvalidRequest,
    );
    expect_page(
        &h.authorize_owned(&Harness::<S>::spa_request(&[("client_id", "")]))
            .await,
        ErrorCode::InvalidRequest,
    );
    let mut multi = Harness::<S>::spa_request(&[("client_id", "multi")]);
    multi.retain(|(n, _)| *n != "redirect_uri");
    expect_page(&h.authorize_owned(&multi).await, ErrorCode::InvalidRequest);

    // With one registered URI, omitting it is fine and the code goes there.
    let mut spa = Harness::<S>::spa_request(&[]);
    spa.retain(|(n, _)| *n != "redirect_uri");
    let pending = h.pending(&spa).await;
    assert_eq!(pending.redirect_uri(), SPA_REDIRECT);
}

/// AZ-05: no code_challenge, method `plain`, method omitted, or a malformed challenge:
/// redirect with invalid_request.
pub async fn az05_pkce_challenge_required_and_s256_only<S: Storage + 'static>(h: Harness<S>) {
    let cases: [&[(&'static str, &'static str)]; 6] = [
        &[("code_challenge", ""), ("code_challenge_method", "")],
        &[("code_challenge", "")],
        &[("code_challenge_method", "plain")],
        &[("code_challenge_method", "")],
        &[("code_challenge", "too-short")],
        &[(
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM",
        )],
    ];
    for extra in cases {
        let outcome = h.authorize_owned(&Harness::<S>::spa_request(extra)).await;
        let redirect = expect_error_redirect(&outcome, SPA_REDIRECT, ErrorCode::InvalidRequest);
        assert_eq!(
            redirect.param("state").as_deref(),
            Some("s-123"),
            "{extra:?}"
        );
    }
}

/// AZ-06: response_type `token`, unknown, or missing.
pub async fn az06_unsupported_or_missing_response_type<S: Storage + 'static>(h: Harness<S>) {
    for response_type in ["token", "code token", "id_token", "CODE"] {
        let mut request = Harness::<S>::spa_request(&[]);
        request.retain(|(n, _)| *n != "response_type");
        request.push(("response_type", response_type.to_owned()));
        let outcome = h.authorize_owned(&request).await;
        expect_error_redirect(&outcome, SPA_REDIRECT, ErrorCode::UnsupportedResponseType);
    }
    let outcome = h
        .authorize_owned(&Harness::<S>::spa_request(&[("response_type", "")]))
        .await;
    expect_error_redirect(&outcome, SPA_REDIRECT, ErrorCode::InvalidRequest);
}

/// AZ-07: every authorization response, success and errors, carries `iss`.
pub async fn az07_every_authorization_response_carries_iss<S: Storage + 'static>(h: Harness<S>) {
    let pending = h.pending(&Harness::<S>::spa_request(&[])).await;
    assert_eq!(
        h.approve(&pending, "alice").await.param("iss").as_deref(),
        Some(ISSUER)
    );
    let pending = h.pending(&Harness::<S>::spa_request(&[])).await;
    let AuthorizationResponse::Redirect(denied) = h.engine.deny(&pending).await.unwrap() else {
        panic!("deny redirects");
    };
    assert_eq!(denied.param("iss").as_deref(), Some(ISSUER));
    let outcome = h
        .authorize_owned(&Harness::<S>::spa_request(&[("scope", "admin")]))
        .await;
    expect_error_redirect(&outcome, SPA_REDIRECT, ErrorCode::InvalidScope);
}

/// AZ-08: a repeated parameter is invalid_request (an error page for client_id and
/// redirect_uri); unknown parameters are ignored; empty values are absent.
pub async fn az08_repeated_parameters<S: Storage + 'static>(h: Harness<S>) {
    for name in ["client_id", "redirect_uri"] {
        let mut request = Harness::<S>::spa_request(&[]);
        let value = request.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        request.push((name, value));
        expect_page(
            &h.authorize_owned(&request).await,
            ErrorCode::InvalidRequest,
        );
    }
    for name in ["scope", "code_challenge", "response_type", "state"] {
        let mut request = Harness::<S>::spa_request(&[]);
        let value = request.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        request.push((name, value));
        expect_error_redirect(
            &h.authorize_owned(&request).await,
            SPA_REDIRECT,
            ErrorCode::InvalidRequest,
        );
    }
    let pending = h
        .pending(&Harness::<S>::spa_request(&[
            ("unknown_param", "x"),
            ("nonce", "n"),
        ]))
        .await;
    assert_eq!(pending.client_id().as_str(), "spa");
    // An empty scope is absent: the default scope applies.
    let pending = h
        .pending(&Harness::<S>::spa_request(&[("scope", "")]))
        .await;
    assert_eq!(pending.scope().to_string(), "read:users");
}

/// AZ-09: malformed scope, empty token, or a scope the client may not have: invalid_scope.
pub async fn az09_invalid_or_unauthorized_scope<S: Storage + 'static>(h: Harness<S>) {
    for scope in [
        "read:users  write:users",
        "read\"users",
        "read\\users",
        "caf\u{e9}",
        " read:users",
        "admin",
        "read:users admin",
    ] {
        let mut request = Harness::<S>::spa_request(&[]);
        request.retain(|(n, _)| *n != "scope");
        request.push(("scope", scope.to_owned()));
        expect_error_redirect(
            &h.authorize_owned(&request).await,
            SPA_REDIRECT,
            ErrorCode::InvalidScope,
        );
    }
    // Order does not matter.
    let a = h
        .pending(&Harness::<S>::spa_request(&[(
            "scope",
            "write:users read:users",
        )]))
        .await;
    let b = h
        .pending(&Harness::<S>::spa_request(&[(
            "scope",
            "read:users write:users",
        )]))
        .await;
    assert_eq!(a.scope(), b.scope());
    // A control character is refused as a malformed request before scope parsing.
    let mut request = Harness::<S>::spa_request(&[]);
    request.retain(|(n, _)| *n != "scope");
    request.push(("scope", "read:users\u{1}".to_owned()));
    expect_page(
        &h.authorize_owned(&request).await,
        ErrorCode::InvalidRequest,
    );
}

/// AZ-10: state comes back byte for byte, or is refused past MAX_STATE_LEN.
pub async fn az10_state_round_trips_or_is_refused_past_limit<S: Storage + 'static>(h: Harness<S>) {
    let tricky = format!(
        "a b+c%20&d=e/f?g#h'i\"<j>\u{e9}\u{1F600}{}",
        "x".repeat(200)
    );
    let mut request = Harness::<S>::spa_request(&[]);
    request.retain(|(n, _)| *n != "state");
    request.push(("state", tricky.clone()));
    let pending = h.pending(&request).await;
    assert_eq!(
        h.approve(&pending, "alice").await.param("state"),
        Some(tricky)
    );

    let exact = "s".repeat(MAX_STATE_LEN);
    let mut request = Harness::<S>::spa_request(&[]);
    request.retain(|(n, _)| *n != "state");
    request.push(("state", exact.clone()));
    assert_eq!(h.pending(&request).await.state(), Some(exact.as_str()));

    let mut request = Harness::<S>::spa_request(&[]);
    request.retain(|(n, _)| *n != "state");
    request.push(("state", "s".repeat(MAX_STATE_LEN + 1)));
    let redirect = expect_error_redirect(
        &h.authorize_owned(&request).await,
        SPA_REDIRECT,
        ErrorCode::InvalidRequest,
    );
    assert_eq!(
        redirect.param("state"),
        None,
        "an overlong state is not echoed"
    );
}

/// AZ-11: denial redirects to the registered URI with access_denied, state and iss.
pub async fn az11_denied_consent_redirects_with_access_denied<S: Storage + 'static>(h: Harness<S>) {
    let pending = h.pending(&Harness::<S>::spa_request(&[])).await;
    let AuthorizationResponse::Redirect(redirect) = h.engine.deny(&pending).await.unwrap() else {
        panic!("deny redirects");
    };
    assert!(redirect.location().starts_with(SPA_REDIRECT));
    assert_eq!(redirect.param("error").as_deref(), Some("access_denied"));
    assert_eq!(redirect.param("state").as_deref(), Some("s-123"));
    assert_eq!(redirect.param("iss").as_deref(), Some(ISSUER));
    assert_eq!(redirect.param("code"), None);
}

/// A pending request expires, and approval re-checks the client and redirect URI.
pub async fn pending_authorization_expires_and_is_rechecked<S: Storage + 'static>(h: Harness<S>) {
    let pending = h.pending(&Harness::<S>::spa_request(&[])).await;
    h.clock.advance(Duration::minutes(10));
    let outcome = h
        .engine
        .approve(&pending, "alice", pending.scope())
        .await
        .unwrap();
    assert!(
        matches!(outcome, AuthorizationResponse::ErrorPage(_)),
        "{outcome:?}"
    );

    // A pending value edited to point elsewhere is refused on approval.
    let pending = h.pending(&Harness::<S>::spa_request(&[])).await;
    let mut json = serde_json::to_value(&pending).unwrap();
    json["redirect_uri"] = "https://evil.example/cb".into();
    let tampered: oauth_core::PendingAuthorization = serde_json::from_value(json).unwrap();
    let outcome = h
        .engine
        .approve(&tampered, "alice", tampered.scope())
        .await
        .unwrap();
    assert!(
        matches!(outcome, AuthorizationResponse::ErrorPage(_)),
        "{outcome:?}"
    );

    // Granting more than was asked is refused.
    let wider = oauth_core::ScopeSet::parse("read:users write:users").unwrap();
    let AuthorizationResponse::Redirect(redirect) =
        h.engine.approve(&pending, "alice", &wider).await.unwrap()
    else {
        panic!("expected a redirect");
    };
    assert_eq!(redirect.param("error").as_deref(), Some("invalid_scope"));
    let _ = AuthorizeOutcome::Pending(pending);
}

/// A sealed pending authorization survives the round trip; any change to it, or another
/// engine's seal, is refused.
pub async fn pending_authorization_seal_is_tamper_proof<S: Storage + 'static>(h: Harness<S>) {
    let pending = h.pending(&Harness::<S>::spa_request(&[])).await;
    let sealed = h.engine.seal_pending(&pending).unwrap();
    assert_eq!(h.engine.open_pending(&sealed).unwrap(), pending);

    let (body, tag) = sealed.split_once('.').unwrap();
    let mut json: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, body).unwrap(),
    )
    .unwrap();
    json["redirect_uri"] = "https://evil.example/cb".into();
    let forged_body = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        json.to_string(),
    );
    for forged in [
        format!("{forged_body}.{tag}"),
        format!("{body}.{}", &tag[1..]),
        format!("{body}x.{tag}"),
        body.to_owned(),
        String::new(),
        "a".repeat(10_000),
    ] {
        let error = h.engine.open_pending(&forged).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidRequest);
    }
    // Another engine (another sealing key) cannot open it; a shared key can.
    let other = oauth_core::Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        oauth_core::Config::builder(ISSUER).build().unwrap(),
    )
    .build()
    .unwrap();
    assert!(other.open_pending(&sealed).is_err());
    let shared = [9u8; 32];
    let a = oauth_core::Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        oauth_core::Config::builder(ISSUER).build().unwrap(),
    )
    .sealing_key(&shared)
    .build()
    .unwrap();
    let b = oauth_core::Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        oauth_core::Config::builder(ISSUER).build().unwrap(),
    )
    .sealing_key(&shared)
    .build()
    .unwrap();
    assert_eq!(
        b.open_pending(&a.seal_pending(&pending).unwrap()).unwrap(),
        pending
    );
}

/// A pending authorization is answered once: a second approval, or a denial after an
/// approval (say, a replayed consent form), is an error page and issues nothing.
pub async fn pending_authorization_is_answered_once<S: Storage + 'static>(h: Harness<S>) {
    let pending = h.pending(&Harness::<S>::spa_request(&[])).await;
    let sealed = h.engine.seal_pending(&pending).unwrap();
    h.approve(&pending, "alice").await;
    let replayed = h.engine.open_pending(&sealed).unwrap();
    let again = h
        .engine
        .approve(&replayed, "mallory", replayed.scope())
        .await
        .unwrap();
    assert!(
        matches!(&again, AuthorizationResponse::ErrorPage(e) if e.code() == ErrorCode::InvalidRequest),
        "{again:?}"
    );
    let denied = h.engine.deny(&replayed).await.unwrap();
    assert!(
        matches!(denied, AuthorizationResponse::ErrorPage(_)),
        "{denied:?}"
    );

    let pending = h.pending(&Harness::<S>::spa_request(&[])).await;
    assert!(matches!(
        h.engine.deny(&pending).await.unwrap(),
        AuthorizationResponse::Redirect(_)
    ));
    let after_deny = h
        .engine
        .approve(&pending, "alice", pending.scope())
        .await
        .unwrap();
    assert!(
        matches!(after_deny, AuthorizationResponse::ErrorPage(_)),
        "{after_deny:?}"
    );
}

/// AZ-13: the consent form's CSRF token is bound to its sealed request and to the browser.
/// A token made for another pending request, a bare cookie and field that merely hold the
/// same value, a missing cookie or field: each is refused and approves nothing. A form
/// replayed after its answer is refused too.
pub async fn az13_consent_csrf_is_bound_to_its_sealed_request<S: Storage + 'static>(h: Harness<S>) {
    use oauth_core::{ConsentRefusal, Params, CSRF_FIELD, SEALED_REQUEST_FIELD};

    let submit = |sealed: &str, csrf: Option<&str>| {
        let mut pairs = vec![(SEALED_REQUEST_FIELD, sealed.to_owned())];
        if let Some(csrf) = csrf {
            pairs.push((CSRF_FIELD, csrf.to_owned()));
        }
        Params::from_pairs(pairs).unwrap()
    };
    let cookie_of = |set_cookie: &str| set_cookie.split(';').next().unwrap().to_owned();

    let first = h.pending(&Harness::<S>::spa_request(&[])).await;
    let form = h.engine.consent_form(&first, None).unwrap();
    let cookie = cookie_of(&form.set_cookie);
    assert!(form.set_cookie.contains("HttpOnly") && form.set_cookie.contains("SameSite=Lax"));
    // The same browser opens a second request (another tab): it keeps its binding.
    let second = h.pending(&Harness::<S>::spa_request(&[])).await;
    let other = h.engine.consent_form(&second, Some(&cookie)).unwrap();
    assert_eq!(cookie_of(&other.set_cookie), cookie);
    assert_ne!(other.csrf_token, form.csrf_token);

    let binding = cookie.split_once('=').unwrap().1.to_owned();
    let forged_cookie = format!("{}={}", h.engine.consent_cookie_name(), "A".repeat(43));
    let refused = [
        // The CSRF token of the other pending request, from this very browser.
        (
            submit(&form.sealed_request, Some(&other.csrf_token)),
            Some(cookie.clone()),
        ),
        // A bare double submit: any equal cookie and field pair.
        (
            submit(&form.sealed_request, Some(&"A".repeat(43))),
            Some(forged_cookie.clone()),
        ),
        (
            submit(&form.sealed_request, Some(&binding)),
            Some(cookie.clone()),
        ),
        // The right token from another browser (its cookie is not this one's).
        (
            submit(&form.sealed_request, Some(&form.csrf_token)),
            Some(forged_cookie),
        ),
        // No cookie (a cross-site POST: SameSite keeps it back), or no field.
        (submit(&form.sealed_request, Some(&form.csrf_token)), None),
        (submit(&form.sealed_request, None), Some(cookie.clone())),
    ];
    for (fields, cookie) in refused {
        assert_eq!(
            h.engine.open_consent(&fields, cookie.as_deref()),
            Err(ConsentRefusal::Forged)
        );
    }
    // An altered sealed request is refused whatever the token.
    let mut altered = form.sealed_request.clone();
    altered.insert(3, 'x');
    let refusal = h
        .engine
        .open_consent(&submit(&altered, Some(&form.csrf_token)), Some(&cookie))
        .unwrap_err();
    assert_eq!(refusal.status(), 400);

    // The genuine form opens, is approved once, and its replay issues nothing.
    let genuine = submit(&form.sealed_request, Some(&form.csrf_token));
    let pending = h.engine.open_consent(&genuine, Some(&cookie)).unwrap();
    assert_eq!(pending, first);
    let answer = h
        .engine
        .approve(&pending, "alice", pending.scope())
        .await
        .unwrap();
    assert!(
        matches!(answer, AuthorizationResponse::Redirect(_)),
        "{answer:?}"
    );
    let replayed = h.engine.open_consent(&genuine, Some(&cookie)).unwrap();
    let again = h
        .engine
        .approve(&replayed, "alice", replayed.scope())
        .await
        .unwrap();
    assert!(
        matches!(again, AuthorizationResponse::ErrorPage(_)),
        "{again:?}"
    );
}
