//! Failure budgets, slow hashing and idle connections under attack.

use super::*;

/// A client whose connections come from `ip`, a loopback address other than 127.0.0.1
/// (Linux routes all of 127.0.0.0/8 to the loopback interface): another peer.
pub(super) fn http_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// A client-credentials request for `demo-service` with `secret`, from `client`.
pub(super) async fn service_token_with(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    secret: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
}

/// Checks a `429` with a `Retry-After` of at most the cool-down, and returns its body.
pub(super) async fn assert_limited(response: reqwest::Response, what: &str) -> String {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{what}");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let cool_down = FAILURE_COOL_DOWN.whole_seconds().unsigned_abs();
    assert!(
        (1..=cool_down).contains(&retry_after),
        "{what}: {retry_after}"
    );
    response.text().await.unwrap()
}

pub async fn rl01_wrong_client_secrets_get_429_and_then_even_the_right_one_does(base: &str) {
    for _ in 0..FAILURE_BUDGET {
        let wrong = service_token_with(&http(), base, "demo-service", "not-the-secret").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    // Over budget: refused before the secret is looked at, from this caller.
    let right = service_token_with(&http(), base, "demo-service", "demo-service-secret").await;
    let body: Value = serde_json::from_str(&assert_limited(right, "token").await).unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(body.get("access_token").is_none());
    let introspection = http()
        .post(format!("{base}/introspect"))
        .basic_auth("demo-service", Some("demo-service-secret"))
        .form(&[("token", "anything")])
        .send()
        .await
        .unwrap();
    assert_limited(introspection, "introspection").await;
    // The failures are charged to the caller and its attempts at the client, never to
    // the client alone: another caller of demo-service gets its token.
    let elsewhere = service_token_with(
        &http_from("127.0.0.2"),
        base,
        "demo-service",
        "demo-service-secret",
    )
    .await;
    assert_eq!(elsewhere.status(), StatusCode::OK);
    // Nor is another client held back there.
    let spa_refresh = http_from("127.0.0.2")
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "demo-spa"),
            ("refresh_token", "unknown"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(spa_refresh.status(), StatusCode::BAD_REQUEST);
    let metrics = metrics_text(base).await;
    assert_eq!(
        metric(&metrics, "finrift_refusals_total{error=\"invalid_client\"}"),
        f64::from(FAILURE_BUDGET)
    );
    assert_eq!(
        metric(&metrics, "finrift_rate_limited_total{key=\"caller\"}"),
        2.0
    );
}

pub async fn rl01_failed_client_authentications_are_counted_per_peer_address(base: &str) {
    // Each failure names another (unknown) client: only this peer's budget adds up.
    for i in 0..FAILURE_BUDGET {
        let guess = service_token_with(&http(), base, &format!("intruder-{i}"), "guess").await;
        assert_eq!(guess.status(), StatusCode::UNAUTHORIZED);
    }
    let right = service_token_with(&http(), base, "demo-service", "demo-service-secret").await;
    assert_limited(right, "token from the blocked peer").await;
    for (path, fields) in [
        ("/introspect", [("token", "anything")]),
        ("/revoke", [("token", "anything")]),
    ] {
        let response = http()
            .post(format!("{base}{path}"))
            .basic_auth("demo-service", Some("demo-service-secret"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_limited(response, path).await;
    }
    // Another peer is not held back.
    let other = service_token_with(
        &http_from("127.0.0.2"),
        base,
        "demo-service",
        "demo-service-secret",
    )
    .await;
    assert_eq!(other.status(), StatusCode::OK);
    let metrics = metrics_text(base).await;
    assert_eq!(
        metric(&metrics, "finrift_rate_limited_total{key=\"caller\"}"),
        3.0
    );
}

/// Submits the login form of a fresh page as `user`, from `client`.
pub(super) async fn login_from(
    client: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> reqwest::Response {
    let page = open_login(base, "read:users").await;
    client
        .post(format!("{base}/authorize"))
        .header(COOKIE, &page.cookie)
        .form(&[
            ("pending", page.pending.as_str()),
            ("csrf", page.csrf.as_str()),
            ("username", user),
            ("password", password),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap()
}

pub(super) async fn assert_login_limited(response: reqwest::Response, what: &str) {
    assert!(response.headers().get(LOCATION).is_none(), "{what}");
    assert_eq!(response.headers()["x-frame-options"], "DENY", "{what}");
    assert!(response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = assert_limited(response, what).await;
    assert!(html.contains("Too many failed sign-in attempts"), "{what}");
}

pub async fn rl01_failed_logins_are_limited_per_account_and_caller(base: &str) {
    let page = open_login(base, "read:users").await;
    for _ in 0..FAILURE_BUDGET {
        let wrong = approve(base, &page, "alice", "wrong").await;
        assert_eq!(wrong.status(), StatusCode::OK);
        assert!(wrong
            .text()
            .await
            .unwrap()
            .contains("Wrong username or password"));
    }
    // Blocked: the right password is refused too, from this caller.
    let right = approve(base, &page, "alice", "alice-password").await;
    assert_login_limited(right, "alice, same peer").await;
    // Never the account alone: alice and bob, from another address, are not held back.
    let alice = login_from(&http_from("127.0.0.2"), base, "alice", "alice-password").await;
    assert_eq!(alice.status(), StatusCode::SEE_OTHER);
    let bob = login_from(&http_from("127.0.0.2"), base, "bob", "bob-password").await;
    assert_eq!(bob.status(), StatusCode::SEE_OTHER);
    let metrics = metrics_text(base).await;
    assert_eq!(
        metric(&metrics, "finrift_rate_limited_total{key=\"login\"}"),
        1.0
    );
}

pub async fn rl01_failed_logins_are_limited_per_peer_address(base: &str) {
    // Each failure names another user: only this peer's budget adds up.
    for i in 0..FAILURE_BUDGET {
        let wrong = login_from(&http(), base, &format!("user-{i}"), "guess").await;
        assert_eq!(wrong.status(), StatusCode::OK);
    }
    let blocked = login_from(&http(), base, "alice", "alice-password").await;
    assert_login_limited(blocked, "alice from the blocked peer").await;
    let other = login_from(&http_from("127.0.0.2"), base, "alice", "alice-password").await;
    assert_eq!(other.status(), StatusCode::SEE_OTHER);
    let metrics = metrics_text(base).await;
    assert_eq!(
        metric(&metrics, "finrift_rate_limited_total{key=\"login_ip\"}"),
        1.0
    );
}

// ---- Metrics (issue 7): GET /metrics in the Prometheus text format. ----

/// A token request for `client_id` with `fields`, from `client`.
pub(super) async fn token_form(
    client: &reqwest::Client,
    base: &str,
    fields: &[(&str, &str)],
) -> StatusCode {
    client
        .post(format!("{base}/token"))
        .form(fields)
        .send()
        .await
        .unwrap()
        .status()
}

pub async fn rl01_a_strangers_failures_do_not_lock_out_a_public_or_confidential_client(base: &str) {
    let stranger = http_from("127.0.0.2");
    let mut last = StatusCode::OK;
    for _ in 0..20 {
        // A secret for a public client: refused, and charged to the stranger.
        let status = token_form(
            &stranger,
            base,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "stolen"),
                ("client_id", "demo-spa"),
                ("client_secret", "x"),
            ],
        )
        .await;
        assert!(status.is_client_error(), "{status}");
        let wrong = service_token_with(&stranger, base, "demo-service", "not-the-secret").await;
        last = wrong.status();
        assert!(
            matches!(
                last,
                StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
            ),
            "{last}"
        );
    }
    assert_eq!(
        last,
        StatusCode::TOO_MANY_REQUESTS,
        "the stranger is held back"
    );
    // The clients' own callers are not: demo-spa gets its normal answer (an unknown
    // refresh token is invalid_grant, not 429), and a whole code exchange works.
    let refresh = http()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "unknown"),
            ("client_id", "demo-spa"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_str(&refresh.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_grant");
    let tokens = alice_tokens(base, "read:users").await;
    assert!(refresh_works(base, &tokens).await);
    let right = service_token_with(&http(), base, "demo-service", "demo-service-secret").await;
    assert_eq!(right.status(), StatusCode::OK);
}

pub(super) async fn refresh_works(base: &str, tokens: &Tokens) -> bool {
    refresh(base, tokens.refresh_token().unwrap()).await.is_ok()
}

/// How many idle connections rl06 opens.
pub(super) const IDLE_CONNECTIONS: usize = 2_000;

pub async fn rl06_idle_connections_do_not_stop_a_real_request(base: &str) {
    use std::time::Duration;
    let addr = base.trim_start_matches("http://").to_owned();
    // Connect in batches, each bounded; the sockets send nothing and are dropped at the end.
    let mut idle = Vec::with_capacity(IDLE_CONNECTIONS);
    let opening = tokio::time::timeout(Duration::from_secs(60), async {
        while idle.len() < IDLE_CONNECTIONS {
            let mut batch = tokio::task::JoinSet::new();
            for _ in 0..100 {
                batch.spawn(tokio::net::TcpStream::connect(addr.clone()));
            }
            for stream in batch.join_all().await {
                idle.push(stream.expect("a loopback connection"));
            }
        }
    })
    .await;
    assert!(opening.is_ok(), "only {} connections opened", idle.len());
    #[allow(clippy::disallowed_methods)] // a liveness bound, not protocol time
    let started = std::time::Instant::now();
    let real = async {
        let jwks = http()
            .get(format!("{base}/jwks.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(jwks.status(), StatusCode::OK);
        let token = service_token_with(&http(), base, "demo-service", "demo-service-secret").await;
        assert_eq!(token.status(), StatusCode::OK);
    };
    let answered = tokio::time::timeout(Duration::from_secs(5), real).await;
    assert!(
        answered.is_ok(),
        "no answer within 5 s beside {} idle connections",
        idle.len()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(idle);
}

/// How many callers rl04 has submit logins at once, and how many each submits in turn.
pub(super) const LOGIN_FLOOD: u8 = 40;
pub(super) const LOGIN_ROUNDS: usize = 5;

pub async fn rl04_a_flood_of_logins_does_not_stall_other_endpoints(base: &str) {
    use std::time::Duration;
    // Each caller from its own loopback address, so the limiter lets every attempt reach
    // PBKDF2; the pages are opened first, so that the submissions start together.
    let mut pages = Vec::new();
    for i in 0..LOGIN_FLOOD {
        let client = http_from(&format!("127.0.1.{}", i + 1));
        pages.push((client, open_login(base, "read:users").await));
    }
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(pages.len() + 1));
    let mut submissions = tokio::task::JoinSet::new();
    for (client, page) in pages {
        let (base, start) = (base.to_owned(), start.clone());
        submissions.spawn(async move {
            start.wait().await;
            let mut statuses = Vec::new();
            for _ in 0..LOGIN_ROUNDS {
                let response = client
                    .post(format!("{base}/authorize"))
                    .header(COOKIE, &page.cookie)
                    .form(&[
                        ("pending", page.pending.as_str()),
                        ("csrf", page.csrf.as_str()),
                        ("username", "alice"),
                        ("password", "wrong"),
                        ("decision", "approve"),
                    ])
                    .send()
                    .await
                    .unwrap();
                statuses.push(response.status());
            }
            statuses
        });
    }
    start.wait().await;
    let flood = tokio::spawn(submissions.join_all());
    // While they run, the JWKS answers promptly, again and again.
    let mut slowest = Duration::ZERO;
    while !flood.is_finished() {
        #[allow(clippy::disallowed_methods)] // a liveness bound, not protocol time
        let asked = std::time::Instant::now();
        let jwks = tokio::time::timeout(
            Duration::from_secs(10),
            http().get(format!("{base}/jwks.json")).send(),
        )
        .await
        .expect("GET /jwks.json answered during the login flood")
        .unwrap();
        assert_eq!(jwks.status(), StatusCode::OK);
        slowest = slowest.max(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        slowest < Duration::from_secs(1),
        "GET /jwks.json took {slowest:?} during the login flood"
    );
    let answers = tokio::time::timeout(Duration::from_secs(120), flood)
        .await
        .expect("every login answered")
        .unwrap();
    for status in answers.into_iter().flatten() {
        // The wrong-password page, or refused for load or limits: never a hang.
        assert!(
            matches!(
                status,
                StatusCode::OK | StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            ),
            "{status}"
        );
    }
}

pub async fn rl01_login_failures_at_one_account_do_not_lock_it_for_others(base: &str) {
    let stranger = http_from("127.0.0.2");
    for _ in 0..15 {
        let wrong = login_from(&stranger, base, "alice", "wrong").await;
        assert!(
            matches!(
                wrong.status(),
                StatusCode::OK | StatusCode::TOO_MANY_REQUESTS
            ),
            "{}",
            wrong.status()
        );
    }
    let alice = login_from(&http(), base, "alice", "alice-password").await;
    assert_eq!(alice.status(), StatusCode::SEE_OTHER);
}
