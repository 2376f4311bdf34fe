//! Pushed authorization requests (RFC 9126): DP-04 of SECURITY.md, and the requirement to
//! push that the FAPI 2.0 profile builds on.

use std::sync::Arc;

use oauth_core::events::{EventKind, RecordingSink};
use oauth_core::{
    AuthorizeOutcome, Client, Config, ConfigBuilder, Engine, ErrorCode, FormRequest, PushOutcome,
    Storage, FORM_CONTENT_TYPE, REQUEST_URI_PREFIX,
};
use time::Duration;

use crate::*;

/// An engine over the harness's store and clock, configured by `config`, recording its
/// events.
fn engine_with<S: Storage + 'static>(
    h: &Harness<S>,
    config: ConfigBuilder,
) -> (TestEngine<S>, Arc<RecordingSink>) {
    let sink = Arc::new(RecordingSink::new());
    let engine = Engine::builder(h.store.clone(), h.clock.clone(), config.build().unwrap())
        .event_sink(sink.clone())
        .build()
        .unwrap();
    (engine, sink)
}

/// Pushes form `pairs` with an optional `Authorization` header.
async fn push<S: Storage + 'static>(
    engine: &TestEngine<S>,
    pairs: &[(&str, String)],
    authorization: Option<&str>,
) -> PushOutcome {
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    engine
        .push_authorization_request(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), encode(&borrowed).as_bytes())
                .with_authorization(authorization),
        )
        .await
        .expect("no fault")
}

/// The `request_uri` of an accepted push.
#[track_caller]
fn request_uri(outcome: &PushOutcome) -> String {
    match outcome {
        PushOutcome::Pushed(pushed) => pushed.request_uri().to_owned(),
        other => panic!("expected a pushed request, got {other:?}"),
    }
}

/// The error of a refused push, checked for `code` and `status`.
#[track_caller]
fn refused(outcome: &PushOutcome, code: ErrorCode, status: u16) {
    let error = outcome.error().expect("a refusal");
    assert_eq!(error.code(), code, "{}", error.description());
    assert_eq!(error.status(), status);
    assert_eq!(outcome.to_response().status, status);
}

/// The authorization endpoint given `client_id` and `request_uri`, and `extra` pairs.
async fn redeem<S: Storage + 'static>(
    engine: &TestEngine<S>,
    client_id: &str,
    request_uri: &str,
    extra: &[(&str, &str)],
) -> AuthorizeOutcome {
    let mut pairs = vec![("client_id", client_id), ("request_uri", request_uri)];
    pairs.extend_from_slice(extra);
    engine
        .authorize_query(&encode(&pairs))
        .await
        .expect("no fault")
}

/// DP-04: a pushed request answers `201` with a `request_uri` of the RFC's form that lives
/// a minute; redeemed once, it gives the pushed request; a second time, and at any later
/// moment, it is `invalid_request_uri` on an error page, with an audit event.
pub async fn dp04_a_request_uri_is_redeemed_once<S: Storage + 'static>(h: Harness<S>) {
    let (engine, sink) = engine_with(&h, Config::builder(ISSUER));
    let pushed = push(
        &engine,
        &Harness::<S>::spa_request(&[("scope", "read:users read:payments")]),
        None,
    )
    .await;
    let response = pushed.to_response();
    assert_eq!(response.status, 201);
    assert_eq!(response.header("Cache-Control"), Some("no-store"));
    let body: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["expires_in"], 60);
    let uri = request_uri(&pushed);
    assert_eq!(body["request_uri"], uri.as_str());
    assert!(uri.starts_with(REQUEST_URI_PREFIX));
    assert!(
        !uri.contains("read") && !uri.contains("s-123"),
        "the pushed parameters do not travel readably"
    );
    assert_eq!(sink.names(), ["authorization_request_pushed"]);

    let pending = match redeem(&engine, "spa", &uri, &[]).await {
        AuthorizeOutcome::Pending(pending) => pending,
        other => panic!("expected the pushed request, got {other:?}"),
    };
    assert_eq!(pending.scope().to_string(), "read:payments read:users");
    assert_eq!(pending.state(), Some("s-123"));
    assert_eq!(pending.redirect_uri(), SPA_REDIRECT);
    // The whole flow goes on from there.
    let code = h.approve(&pending, "alice").await.param("code").unwrap();
    h.redeem_spa(&code).await;

    let again = redeem(&engine, "spa", &uri, &[]).await;
    expect_page(&again, ErrorCode::InvalidRequestUri);
    assert!(sink.events().iter().any(|event| matches!(
        &event.kind,
        EventKind::RequestUriRefused { client_id: Some(id), reason }
            if id == "spa" && reason.contains("used before")
    )));
}

/// DP-04: a `request_uri` expires after the configured lifetime (a minute by default).
pub async fn dp04_a_request_uri_expires_after_about_a_minute<S: Storage + 'static>(h: Harness<S>) {
    let (engine, _) = engine_with(&h, Config::builder(ISSUER));
    let uri = request_uri(&push(&engine, &Harness::<S>::spa_request(&[]), None).await);
    let late = request_uri(&push(&engine, &Harness::<S>::spa_request(&[]), None).await);
    h.clock.advance(Duration::seconds(59));
    assert!(matches!(
        redeem(&engine, "spa", &uri, &[]).await,
        AuthorizeOutcome::Pending(_)
    ));
    h.clock.advance(Duration::seconds(1));
    expect_page(
        &redeem(&engine, "spa", &late, &[]).await,
        ErrorCode::InvalidRequestUri,
    );

    let (short, _) = engine_with(
        &h,
        Config::builder(ISSUER).pushed_request_lifetime(Duration::seconds(10)),
    );
    let pushed = push(&short, &Harness::<S>::spa_request(&[]), None).await;
    assert_eq!(pushed.pushed().unwrap().expires_in(), 10);
    h.clock.advance(Duration::seconds(10));
    expect_page(
        &redeem(&short, "spa", &request_uri(&pushed), &[]).await,
        ErrorCode::InvalidRequestUri,
    );
}

/// DP-04: a `request_uri` belongs to the client that pushed it: named with another
/// client's id it is refused (and not spent: its own client still redeems it); altered,
/// or sealed by an engine with another sealing key or issuer, it is refused.
pub async fn dp04_a_request_uri_belongs_to_one_client_and_one_engine<S: Storage + 'static>(
    h: Harness<S>,
) {
    let (engine, _) = engine_with(&h, Config::builder(ISSUER));
    let uri = request_uri(&push(&engine, &Harness::<S>::spa_request(&[]), None).await);
    for stranger in ["native", "server", "nobody"] {
        expect_page(
            &redeem(&engine, stranger, &uri, &[]).await,
            ErrorCode::InvalidRequestUri,
        );
    }
    expect_page(
        &redeem(&engine, "", &uri, &[]).await,
        ErrorCode::InvalidRequest,
    );
    let mut altered = uri.clone().into_bytes();
    let at = altered.len() - 5;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    expect_page(
        &redeem(&engine, "spa", &String::from_utf8(altered).unwrap(), &[]).await,
        ErrorCode::InvalidRequestUri,
    );
    let other = Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        Config::builder(ISSUER).build().unwrap(),
    )
    .sealing_key(&[9; 32])
    .build()
    .unwrap();
    expect_page(
        &redeem(&other, "spa", &uri, &[]).await,
        ErrorCode::InvalidRequestUri,
    );
    let tenant = Engine::builder(
        h.store.clone(),
        h.clock.clone(),
        Config::builder("https://auth.example/tenant-b")
            .build()
            .unwrap(),
    )
    .build()
    .unwrap();
    expect_page(
        &redeem(&tenant, "spa", &uri, &[]).await,
        ErrorCode::InvalidRequestUri,
    );
    assert!(matches!(
        redeem(&engine, "spa", &uri, &[]).await,
        AuthorizeOutcome::Pending(_)
    ));
}

/// DP-04: at the authorization endpoint only the pushed parameters count: a redirect URI,
/// scope or state added beside the `request_uri` is ignored.
pub async fn dp04_only_the_pushed_parameters_count<S: Storage + 'static>(h: Harness<S>) {
    let (engine, _) = engine_with(&h, Config::builder(ISSUER));
    let uri = request_uri(&push(&engine, &Harness::<S>::spa_request(&[]), None).await);
    let outcome = redeem(
        &engine,
        "spa",
        &uri,
        &[
            ("redirect_uri", "https://evil.example/cb"),
            ("scope", "write:users"),
            ("state", "forged"),
            ("code_challenge", "x"),
        ],
    )
    .await;
    let AuthorizeOutcome::Pending(pending) = outcome else {
        panic!("expected the pushed request, got {outcome:?}");
    };
    assert_eq!(pending.redirect_uri(), SPA_REDIRECT);
    assert_eq!(pending.scope().to_string(), "read:users");
    assert_eq!(pending.state(), Some("s-123"));
}

/// DP-04: the pushed request endpoint authenticates the client as the token endpoint does
/// and checks the request as the authorization endpoint does, answering every refusal as
/// an error response (never a redirect): a wrong secret is `401 invalid_client`; an
/// unregistered redirect URI, a missing PKCE challenge or an unknown scope is `400`; a
/// `request_uri` inside, or a `client_id` that is not the authenticated client, is
/// `invalid_request`. A confidential client authenticated by HTTP Basic needs no
/// `client_id` in the body.
pub async fn dp04_a_pushed_request_is_checked_like_an_authorization_request<
    S: Storage + 'static,
>(
    h: Harness<S>,
) {
    let (engine, _) = engine_with(&h, Config::builder(ISSUER));
    let server_request = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = Harness::<S>::spa_request(&[("redirect_uri", SERVER_REDIRECT)]);
        pairs.retain(|(name, _)| *name != "client_id");
        for (name, value) in extra {
            pairs.retain(|(n, _)| n != name);
            pairs.push((name, (*value).to_owned()));
        }
        pairs
    };
    let good = basic("server", SERVER_SECRET);
    let uri = request_uri(&push(&engine, &server_request(&[]), Some(&good)).await);
    assert!(matches!(
        redeem(&engine, "server", &uri, &[]).await,
        AuthorizeOutcome::Pending(_)
    ));
    refused(
        &push(
            &engine,
            &server_request(&[]),
            Some(&basic("server", OTHER_SECRET)),
        )
        .await,
        ErrorCode::InvalidClient,
        401,
    );
    refused(
        &push(&engine, &server_request(&[]), None).await,
        ErrorCode::InvalidClient,
        401,
    );
    for (extra, code) in [
        (
            ("redirect_uri", "https://evil.example/cb"),
            ErrorCode::InvalidRequest,
        ),
        (("code_challenge", ""), ErrorCode::InvalidRequest),
        (("scope", "admin:everything"), ErrorCode::InvalidScope),
        (
            ("response_type", "token"),
            ErrorCode::UnsupportedResponseType,
        ),
        (
            ("request_uri", "urn:ietf:params:oauth:request_uri:x"),
            ErrorCode::InvalidRequest,
        ),
        (("client_id", "other"), ErrorCode::InvalidRequest),
        (
            ("request", "eyJhbGciOiJub25lIn0.e30."),
            ErrorCode::RequestNotSupported,
        ),
    ] {
        let mut pairs = server_request(&[]);
        pairs.retain(|(name, _)| *name != extra.0);
        if !extra.1.is_empty() {
            pairs.push((extra.0, extra.1.to_owned()));
        }
        let outcome = push(&engine, &pairs, Some(&good)).await;
        refused(&outcome, code, 400);
        assert!(outcome.to_response().header("Location").is_none());
    }
    // client_secret_post works as at the token endpoint.
    let mut posted = server_request(&[]);
    posted.push(("client_id", "server".to_owned()));
    posted.push(("client_secret", SERVER_SECRET.to_owned()));
    let uri = request_uri(&push(&engine, &posted, None).await);
    assert!(matches!(
        redeem(&engine, "server", &uri, &[]).await,
        AuthorizeOutcome::Pending(_)
    ));
}

/// DP-04 with RFC 9126 §5 and §6: when the configuration, or one client's registration,
/// requires pushed requests, a request sent straight to the authorization endpoint is
/// refused (`invalid_request` at the verified redirect URI), a pushed one works, and the
/// metadata says which.
pub async fn dp04_requiring_pushed_requests_refuses_direct_ones<S: Storage + 'static>(
    h: Harness<S>,
) {
    let (plain, _) = engine_with(&h, Config::builder(ISSUER));
    let metadata = plain.metadata();
    assert_eq!(
        metadata.pushed_authorization_request_endpoint.as_deref(),
        Some("https://auth.example/par")
    );
    assert!(!metadata.require_pushed_authorization_requests);

    let (strict, _) = engine_with(
        &h,
        Config::builder(ISSUER).require_pushed_authorization_requests(),
    );
    assert!(strict.metadata().require_pushed_authorization_requests);
    let direct = strict
        .authorize_query(&encode(
            &Harness::<S>::spa_request(&[])
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        ))
        .await
        .unwrap();
    expect_error_redirect(&direct, SPA_REDIRECT, ErrorCode::InvalidRequest);
    let uri = request_uri(&push(&strict, &Harness::<S>::spa_request(&[]), None).await);
    assert!(matches!(
        redeem(&strict, "spa", &uri, &[]).await,
        AuthorizeOutcome::Pending(_)
    ));

    // One client alone.
    let pushing = Client::public("pushing")
        .unwrap()
        .redirect_uri(SPA_REDIRECT)
        .unwrap()
        .allowed_scopes(oauth_core::ScopeSet::parse("read:users").unwrap())
        .require_pushed_authorization_requests()
        .build()
        .unwrap();
    assert!(pushing.requires_pushed_authorization_requests());
    plain.register_client(pushing).await.unwrap();
    let direct = plain
        .authorize_query(&encode(
            &Harness::<S>::spa_request(&[("client_id", "pushing")])
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        ))
        .await
        .unwrap();
    expect_error_redirect(&direct, SPA_REDIRECT, ErrorCode::InvalidRequest);
    assert!(matches!(
        plain
            .authorize_query(&encode(
                &Harness::<S>::spa_request(&[])
                    .iter()
                    .map(|(k, v)| (*k, v.as_str()))
                    .collect::<Vec<_>>(),
            ))
            .await
            .unwrap(),
        AuthorizeOutcome::Pending(_)
    ));
    let uri = request_uri(
        &push(
            &plain,
            &Harness::<S>::spa_request(&[("client_id", "pushing")]),
            None,
        )
        .await,
    );
    assert!(matches!(
        redeem(&plain, "pushing", &uri, &[]).await,
        AuthorizeOutcome::Pending(_)
    ));

    // Required, but not served: a configuration error, not a silent lock-out.
    let mut unserved = oauth_core::Endpoints::default();
    unserved.pushed_authorization_request = None;
    assert!(Config::builder(ISSUER)
        .endpoints(unserved)
        .require_pushed_authorization_requests()
        .build()
        .is_err());
}
