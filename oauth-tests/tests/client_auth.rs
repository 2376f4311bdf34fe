//! Client authentication under attack (SECURITY.md RL-01, RL-02, RL-04, RL-05), and the
//! memory of recent successes that makes password-style secrets cheap after the first
//! check. Slow work is counted through a `SlowHashing` that records each job, never timed.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use oauth_core::limits::FailureLimiter;
use oauth_core::{
    Client, Config, Engine, ErrorCode, FormRequest, GrantType, HashingPool, InPlace, ManualClock,
    ScopeSet, SlowAnswer, SlowHashing, SlowWork, TokenOutcome, FORM_CONTENT_TYPE,
};
use oauth_store_memory::MemoryStore;
use time::macros::datetime;
use time::Duration;

const ISSUER: &str = "https://auth.example";
const PASSWORD: &str = "a-password-style-client-secret";
const CC: &[u8] = b"grant_type=client_credentials";

/// Counts the slow jobs it runs, and on which thread they ran.
#[derive(Default)]
struct Counting {
    jobs: AtomicUsize,
    inner: Option<HashingPool>,
}

impl SlowHashing for Counting {
    fn run(&self, work: SlowWork) -> SlowAnswer<'_> {
        self.jobs.fetch_add(1, Ordering::SeqCst);
        match &self.inner {
            Some(pool) => pool.run(work),
            None => InPlace.run(work),
        }
    }
}

type TestEngine = Engine<MemoryStore, Arc<ManualClock>>;

async fn engine(hashing: Arc<Counting>, budget: u32) -> TestEngine {
    engine_on(SharedHashing(hashing), budget).await
}

/// A pool that never takes the work: the server is busy.
struct Refusing;

impl SlowHashing for Refusing {
    fn run(&self, _work: SlowWork) -> SlowAnswer<'_> {
        Box::pin(std::future::ready(None))
    }
}

/// An engine with `svc` (password-style secret) and `spa` (public), its derivations on
/// `hashing`, failures limited to `budget`.
async fn engine_on(hashing: impl SlowHashing + 'static, budget: u32) -> TestEngine {
    let clock = Arc::new(ManualClock::new(datetime!(2030-01-01 00:00 UTC)));
    let engine = Engine::builder(
        MemoryStore::new(),
        clock,
        Config::builder(ISSUER).build().unwrap(),
    )
    .slow_hashing(hashing)
    .limiter(FailureLimiter::new(
        budget,
        Duration::minutes(5),
        Duration::minutes(5),
    ))
    .build()
    .unwrap();
    let scopes = ScopeSet::parse("read").unwrap();
    engine
        .register_client(
            Client::confidential_with_password("svc", PASSWORD)
                .unwrap()
                .grant_types([GrantType::ClientCredentials])
                .allowed_scopes(scopes.clone())
                .default_scopes(scopes.clone())
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    engine
        .register_client(
            Client::public("spa")
                .unwrap()
                .redirect_uri("https://app.example/cb")
                .unwrap()
                .allowed_scopes(scopes)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    engine
}

/// An `Arc<Counting>` as the engine's `SlowHashing`, so the test keeps its counter.
struct SharedHashing(Arc<Counting>);

impl SlowHashing for SharedHashing {
    fn run(&self, work: SlowWork) -> SlowAnswer<'_> {
        self.0.run(work)
    }
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

async fn token(
    engine: &TestEngine,
    body: &[u8],
    authorization: Option<&str>,
    caller: &str,
) -> TokenOutcome {
    engine
        .token(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), body)
                .with_authorization(authorization)
                .with_caller(Some(caller)),
        )
        .await
        .unwrap()
}

fn refused_with(outcome: &TokenOutcome) -> (ErrorCode, u16) {
    let error = outcome.error().expect("refused");
    (error.code(), error.status())
}

#[tokio::test]
async fn rl01_a_strangers_failures_never_lock_out_a_legitimate_caller() {
    let hashing = Arc::new(Counting::default());
    let engine = engine(hashing, 10).await;
    // Far more failures than the budget, from one stranger, against the public client and
    // against the confidential one.
    for _ in 0..50 {
        let public_with_secret = token(
            &engine,
            b"grant_type=refresh_token&refresh_token=x&client_id=spa&client_secret=x",
            None,
            "198.51.100.66",
        )
        .await;
        // Refused, and once the stranger spent its own budget, limited: its own doing.
        assert!(matches!(refused_with(&public_with_secret).1, 401 | 429));
        let _ = token(
            &engine,
            CC,
            Some(&basic("svc", "wrong-guess")),
            "198.51.100.66",
        )
        .await;
    }
    // The legitimate callers of both clients still get their answers.
    let refresh = token(
        &engine,
        b"grant_type=refresh_token&refresh_token=unknown&client_id=spa",
        None,
        "203.0.113.5",
    )
    .await;
    assert_eq!(refused_with(&refresh).0, ErrorCode::InvalidGrant, "not 429");
    let issued = token(&engine, CC, Some(&basic("svc", PASSWORD)), "203.0.113.5").await;
    assert!(matches!(issued, TokenOutcome::Issued(_)), "{issued:?}");
}

#[tokio::test]
async fn rl01_a_public_client_sending_a_secret_is_refused_and_charges_only_the_sender() {
    let engine = engine(Arc::new(Counting::default()), 3).await;
    let public_with_secret =
        b"grant_type=refresh_token&refresh_token=x&client_id=spa&client_secret=x";
    for _ in 0..3 {
        let outcome = token(&engine, public_with_secret, None, "198.51.100.66").await;
        // The same answer as any wrong secret: it tells no stranger that spa is public.
        assert_eq!(refused_with(&outcome), (ErrorCode::InvalidClient, 401));
        assert_eq!(
            outcome.error().unwrap().description(),
            "client authentication failed"
        );
    }
    // The sender spent its own budget, and only its own.
    let again = token(&engine, public_with_secret, None, "198.51.100.66").await;
    assert_eq!(refused_with(&again).1, 429);
    let other_caller = token(
        &engine,
        b"grant_type=refresh_token&refresh_token=unknown&client_id=spa",
        None,
        "203.0.113.5",
    )
    .await;
    assert_eq!(
        refused_with(&other_caller).0,
        ErrorCode::InvalidGrant,
        "not 429"
    );
}

#[tokio::test]
async fn a_fault_is_not_charged_as_a_failure() {
    let busy = engine_on(Refusing, 2).await;
    for _ in 0..5 {
        let fault = busy
            .token(
                &FormRequest::new(Some(FORM_CONTENT_TYPE), CC)
                    .with_authorization(Some(&basic("svc", PASSWORD)))
                    .with_caller(Some("203.0.113.5")),
            )
            .await
            .unwrap_err();
        // 503 every time, never a 429: a busy server charges its callers nothing.
        assert_eq!(fault.to_oauth_error().status(), 503);
    }
}

#[tokio::test]
async fn rl02_concurrent_guesses_evaluate_at_most_the_budget() {
    let hashing = Arc::new(Counting {
        inner: Some(HashingPool::new(2, 256)),
        ..Counting::default()
    });
    let engine = Arc::new(engine(hashing.clone(), 10).await);
    let mut racers = Vec::new();
    for i in 0..200 {
        let engine = engine.clone();
        racers.push(tokio::spawn(async move {
            let guess = basic("svc", &format!("guess-number-{i}"));
            token(&engine, CC, Some(&guess), "198.51.100.66").await
        }));
    }
    let mut limited = 0;
    for racer in racers {
        if refused_with(&racer.await.unwrap()).1 == 429 {
            limited += 1;
        }
    }
    assert_eq!(
        hashing.jobs.load(Ordering::SeqCst),
        10,
        "derivations evaluated"
    );
    assert_eq!(limited, 190);
}

#[tokio::test]
async fn rl04_pbkdf2_runs_on_the_hashing_pool_not_the_caller() {
    let hashing = Arc::new(Counting {
        inner: Some(HashingPool::new(1, 8)),
        ..Counting::default()
    });
    let engine = engine(hashing.clone(), 10).await;
    let issued = token(&engine, CC, Some(&basic("svc", PASSWORD)), "203.0.113.5").await;
    assert!(matches!(issued, TokenOutcome::Issued(_)));
    assert_eq!(hashing.jobs.load(Ordering::SeqCst), 1);
    // A pool that cannot take the work answers temporarily_unavailable, never blocks.
    let busy = engine_on(Refusing, 10).await;
    let fault = busy
        .token(
            &FormRequest::new(Some(FORM_CONTENT_TYPE), CC)
                .with_authorization(Some(&basic("svc", PASSWORD))),
        )
        .await
        .unwrap_err();
    assert_eq!(fault.to_oauth_error().status(), 503);
}

#[tokio::test]
async fn rl05_an_unknown_client_id_costs_what_a_wrong_password_style_secret_costs() {
    let hashing = Arc::new(Counting::default());
    let engine = engine(hashing.clone(), 100).await;
    let wrong = token(
        &engine,
        CC,
        Some(&basic("svc", "wrong-guess")),
        "203.0.113.5",
    )
    .await;
    assert_eq!(refused_with(&wrong).0, ErrorCode::InvalidClient);
    assert_eq!(
        hashing.jobs.load(Ordering::SeqCst),
        1,
        "a wrong secret: one derivation"
    );
    let unknown = token(
        &engine,
        CC,
        Some(&basic("nobody", "wrong-guess")),
        "203.0.113.5",
    )
    .await;
    assert_eq!(
        refused_with(&unknown),
        refused_with(&wrong),
        "the same answer"
    );
    assert_eq!(
        hashing.jobs.load(Ordering::SeqCst),
        2,
        "an unknown id: one derivation too"
    );
}

#[tokio::test]
async fn a_right_password_style_secret_is_remembered_a_wrong_one_never() {
    let hashing = Arc::new(Counting::default());
    let engine = engine(hashing.clone(), 100).await;
    let jobs = || hashing.jobs.load(Ordering::SeqCst);
    for _ in 0..5 {
        let issued = token(&engine, CC, Some(&basic("svc", PASSWORD)), "203.0.113.5").await;
        assert!(matches!(issued, TokenOutcome::Issued(_)));
    }
    assert_eq!(jobs(), 1, "derived once, then remembered");
    for _ in 0..3 {
        let _ = token(
            &engine,
            CC,
            Some(&basic("svc", "wrong-guess")),
            "203.0.113.6",
        )
        .await;
    }
    assert_eq!(jobs(), 4, "every wrong guess pays the derivation");
    // A changed registration drops what was remembered at once.
    engine
        .register_client(
            Client::confidential_with_password("svc", "another-password-style-secret")
                .unwrap()
                .grant_types([GrantType::ClientCredentials])
                .allowed_scopes(ScopeSet::parse("read").unwrap())
                .default_scopes(ScopeSet::parse("read").unwrap())
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let old = token(&engine, CC, Some(&basic("svc", PASSWORD)), "203.0.113.5").await;
    assert_eq!(refused_with(&old).0, ErrorCode::InvalidClient);
    assert_eq!(jobs(), 5);
    // The memory expires with time.
    let fresh = token(
        &engine,
        CC,
        Some(&basic("svc", "another-password-style-secret")),
        "203.0.113.5",
    )
    .await;
    assert!(matches!(fresh, TokenOutcome::Issued(_)));
    engine.clock().advance(Duration::minutes(6));
    let later = token(
        &engine,
        CC,
        Some(&basic("svc", "another-password-style-secret")),
        "203.0.113.5",
    )
    .await;
    assert!(matches!(later, TokenOutcome::Issued(_)));
    assert_eq!(jobs(), 7);
}

#[tokio::test]
async fn rl05_a_freshly_started_engine_already_answers_unknown_ids_slowly() {
    use oauth_core::ClientStore as _;
    // The registration was made by an earlier process: this engine has met no client.
    let store = MemoryStore::new();
    store
        .put_client(
            Client::confidential_with_password("svc", PASSWORD)
                .unwrap()
                .grant_types([GrantType::ClientCredentials])
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let hashing = Arc::new(Counting::default());
    let clock = Arc::new(ManualClock::new(datetime!(2030-01-01 00:00 UTC)));
    let engine = Engine::builder(store, clock, Config::builder(ISSUER).build().unwrap())
        .slow_hashing(SharedHashing(hashing.clone()))
        .build()
        .unwrap();
    let unknown = token(
        &engine,
        CC,
        Some(&basic("nobody", "a-guess")),
        "203.0.113.5",
    )
    .await;
    assert_eq!(refused_with(&unknown).0, ErrorCode::InvalidClient);
    assert_eq!(
        hashing.jobs.load(Ordering::SeqCst),
        1,
        "a derivation, as for svc"
    );
}
