//! The Prometheus metrics the engine's events feed.

use super::*;

pub(super) async fn metrics_text(base: &str) -> String {
    let response = http().get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// The value of one series (name and labels exactly as exported) in a scrape.
pub(super) fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
        .parse()
        .unwrap()
}

pub async fn metrics_are_served_in_the_prometheus_text_format(base: &str) {
    let response = http().get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    for name in [
        "finrift_tokens_issued_total",
        "finrift_refusals_total",
        "finrift_replays_detected_total",
        "finrift_rate_limited_total",
        "finrift_bearer_verification_seconds",
    ] {
        assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
    }
    // A fresh demo: every series there, at zero.
    assert_eq!(
        metric(
            &text,
            "finrift_tokens_issued_total{grant_type=\"authorization_code\"}"
        ),
        0.0
    );
    assert_eq!(
        metric(&text, "finrift_bearer_verification_seconds_count"),
        0.0
    );
}

pub async fn metrics_follow_a_flow_and_its_attacks(base: &str) {
    let before = metrics_text(base).await;
    let delta = |after: &str, series: &str| metric(after, series) - metric(&before, series);

    // Tokens by grant type: a code exchange, a refresh, client credentials.
    let (code, page) = authorize(base, "alice", "alice-password", "read:users").await;
    let tokens = redeem(base, &code, &page.verifier).await;
    let rotated = refresh(base, tokens.refresh_token().unwrap())
        .await
        .unwrap();
    service_tokens(base).await;
    // Four bearer checks: one admitted, one without a token, one garbage, one short of scope.
    let access = rotated.access_token().secret();
    assert_eq!(get_api(base, "/api/users", access).await, StatusCode::OK);
    let none = api(base, reqwest::Method::GET, "/api/users", None).await;
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        get_api(base, "/api/users", "not.a.jwt").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_api(base, "/api/payments", access).await,
        StatusCode::FORBIDDEN
    );
    let after = metrics_text(base).await;
    for grant_type in ["authorization_code", "refresh_token", "client_credentials"] {
        let series = format!("finrift_tokens_issued_total{{grant_type=\"{grant_type}\"}}");
        assert_eq!(delta(&after, &series), 1.0, "{series}");
    }
    for (error, count) in [
        ("missing", 1.0),
        ("invalid_token", 1.0),
        ("insufficient_scope", 1.0),
        ("invalid_grant", 0.0),
    ] {
        let series = format!("finrift_refusals_total{{error=\"{error}\"}}");
        assert_eq!(delta(&after, &series), count, "{series}");
    }
    assert_eq!(
        delta(&after, "finrift_bearer_verification_seconds_count"),
        4.0
    );
    assert!(delta(&after, "finrift_bearer_verification_seconds_sum") > 0.0);
    assert_eq!(
        delta(
            &after,
            "finrift_bearer_verification_seconds_bucket{le=\"+Inf\"}"
        ),
        4.0
    );

    // Attacks: the code replayed, the rotated-away refresh token reused, a wrong secret.
    let replay = spa(base)
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(PkceCodeVerifier::new(page.verifier.secret().clone()))
        .request_async(&http())
        .await;
    assert!(replay.is_err());
    let (code, page) = authorize(base, "alice", "alice-password", "read:users").await;
    let second = redeem(base, &code, &page.verifier).await;
    let old = second.refresh_token().unwrap();
    refresh(base, old).await.unwrap();
    assert_eq!(
        refresh(base, old).await.unwrap_err(),
        BasicErrorResponseType::InvalidGrant
    );
    let wrong = service_token_with(&http(), base, "demo-service", "not-the-secret").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let attacked = metrics_text(base).await;
    assert_eq!(
        delta(&attacked, "finrift_replays_detected_total{kind=\"code\"}"),
        1.0
    );
    assert_eq!(
        delta(
            &attacked,
            "finrift_replays_detected_total{kind=\"refresh\"}"
        ),
        1.0
    );
    assert_eq!(
        delta(&attacked, "finrift_refusals_total{error=\"invalid_grant\"}"),
        2.0
    );
    assert_eq!(
        delta(
            &attacked,
            "finrift_refusals_total{error=\"invalid_client\"}"
        ),
        1.0
    );
    // Nothing secret in a scrape: no token, code or client secret.
    for secret in [
        access.as_str(),
        code.as_str(),
        old.secret().as_str(),
        "demo-service-secret",
        "alice-password",
    ] {
        assert!(!attacked.contains(secret));
    }
}

// ---- Hardening: limits that a stranger cannot turn against others, and a server that
// ---- stays responsive under idle connections and slow hashing.
