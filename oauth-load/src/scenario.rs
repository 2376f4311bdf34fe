//! The scenarios and how one is driven: `connections` workers, each with its own
//! keep-alive [`Session`], take operations from a shared budget until it is spent or the
//! time is up, whichever comes first, and time each one.
//!
//! Each worker connects from a loopback address of its own ([`crate::callers`]), so the
//! demo sees as many callers as connections.
//!
//! Before the clock starts every worker opens its connection (a `GET /jwks.json`), and
//! the scenario's inputs are prepared, unmeasured: one token for the API calls, one
//! operation of its kind for the others (so the first `demo-service` authentication, a
//! PBKDF2 derivation the engine then remembers, is not among the samples), and for the
//! revocations the tokens to revoke, minted under the same bounds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::sync::Barrier;

use crate::callers::source_address;
use crate::flows::Session;
use crate::stats::Latency;
use crate::Error;

/// What a scenario does, once per operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// `POST /token` with `grant_type=client_credentials` for `demo-service` (HTTP Basic):
    /// `200` with an `access_token`.
    ClientCredentials,
    /// `GET /api/payments` with a JWT access token got once beforehand: `200`.
    ApiCall,
    /// `POST /revoke` of a distinct live access token each time, as `demo-service`: `200`.
    /// Afterwards one of the revoked tokens must be refused by the API.
    Revocation,
    /// A whole authorization-code flow with PKCE through the login form: three requests
    /// (`GET /authorize`, `POST /authorize`, `POST /token`) counted as one operation.
    CodeFlow,
}

impl Scenario {
    /// Every scenario, in the order the report lists them.
    pub const ALL: [Scenario; 4] = [
        Scenario::ClientCredentials,
        Scenario::ApiCall,
        Scenario::Revocation,
        Scenario::CodeFlow,
    ];

    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::ClientCredentials => "client credentials",
            Scenario::ApiCall => "API call (JWT)",
            Scenario::Revocation => "revocation",
            Scenario::CodeFlow => "code flow (3 requests each)",
        }
    }

    /// What one operation is called, in the report's chart.
    pub fn unit(self) -> &'static str {
        match self {
            Scenario::ClientCredentials => "token",
            Scenario::ApiCall => "call",
            Scenario::Revocation => "revocation",
            Scenario::CodeFlow => "flow",
        }
    }
}

/// How long a scenario runs: at most `max_requests` operations or `max_duration`,
/// whichever comes first (an operation under way when the time is up is finished).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The most operations, over all connections.
    pub max_requests: u64,
    /// The longest time.
    pub max_duration: Duration,
}

/// What one scenario measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The scenario.
    pub scenario: Scenario,
    /// Concurrent connections (one worker each).
    pub connections: usize,
    /// Operations done, failed ones included.
    pub completed: u64,
    /// Operations that failed a check (and failed checks after the run).
    pub errors: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// From the start of the clock until the last worker finished.
    pub elapsed: Duration,
    /// Per-operation latency.
    pub latency: Latency,
}

impl Outcome {
    /// Successful operations per second.
    pub fn per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.completed.saturating_sub(self.errors) as f64 / secs
        } else {
            0.0
        }
    }
}

/// What the workers of a scenario share.
enum Job {
    ClientCredentials,
    ApiCall(Arc<str>),
    Revocation(Mutex<Vec<String>>),
    CodeFlow,
}

/// What one worker brought back.
#[derive(Default)]
struct Samples {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
    /// Tokens minted (only when the worker was asked to keep them).
    minted: Vec<String>,
    /// A token this worker revoked.
    revoked: Option<String>,
}

/// Runs `scenario` against the server at `base` with `connections` concurrent
/// keep-alive connections within `bounds`. A failed operation is counted in
/// [`Outcome::errors`]; `Err` means the scenario could not be run at all (no
/// connection, or its preparation failed).
pub async fn run(
    base: &str,
    scenario: Scenario,
    connections: usize,
    bounds: Bounds,
) -> Result<Outcome, Error> {
    let connections = connections.max(1);
    let setup = Session::new(base, None)?;
    let job = match scenario {
        Scenario::ClientCredentials => {
            setup.client_credentials().await?;
            Job::ClientCredentials
        }
        Scenario::ApiCall => Job::ApiCall(setup.client_credentials().await?.into()),
        Scenario::Revocation => {
            setup.client_credentials().await?;
            let (minting, _) = drive(
                base,
                Arc::new(Job::ClientCredentials),
                connections,
                bounds,
                true,
            )
            .await?;
            if minting.errors > 0 {
                return Err(format!(
                    "minting the tokens to revoke failed: {}",
                    minting.first_error.unwrap_or_default()
                )
                .into());
            }
            Job::Revocation(Mutex::new(minting.minted))
        }
        Scenario::CodeFlow => {
            setup.code_flow().await?;
            Job::CodeFlow
        }
    };
    let (mut samples, elapsed) = drive(base, Arc::new(job), connections, bounds, false).await?;
    if let Some(token) = samples.revoked.take() {
        let status = setup.status_of("/api/payments", Some(&token)).await?;
        if status != StatusCode::UNAUTHORIZED {
            samples.errors += 1;
            samples.first_error.get_or_insert_with(|| {
                format!("a revoked token still reaches the API: status {status}")
            });
        }
    }
    Ok(Outcome {
        scenario,
        connections,
        completed: samples.latencies.len() as u64,
        errors: samples.errors,
        first_error: samples.first_error,
        elapsed,
        latency: Latency::of(samples.latencies),
    })
}

/// Runs `job` on `connections` workers within `bounds` and merges what they brought
/// back, with the time from the start of the clock until the last one finished.
async fn drive(
    base: &str,
    job: Arc<Job>,
    connections: usize,
    bounds: Bounds,
    keep_tokens: bool,
) -> Result<(Samples, Duration), Error> {
    let claims = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(connections + 1));
    let mut workers = Vec::with_capacity(connections);
    for index in 0..connections {
        let session = Session::new(base, source_address(base, index))?;
        let (job, claims, barrier) = (job.clone(), claims.clone(), barrier.clone());
        workers.push(tokio::spawn(async move {
            // Open the connection before the clock starts; wait at the barrier even if
            // that failed, so the others are not left waiting.
            let opened = session.status_of("/jwks.json", None).await;
            barrier.wait().await;
            match opened {
                Ok(StatusCode::OK) => {}
                Ok(status) => return Err(format!("GET /jwks.json: status {status}").into()),
                Err(error) => return Err(error),
            }
            work(&session, &job, &claims, bounds, keep_tokens).await
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut merged = Samples::default();
    let mut failure = None;
    for worker in workers {
        match worker.await {
            Ok(Ok(samples)) => {
                merged.latencies.extend(samples.latencies);
                merged.errors += samples.errors;
                if merged.first_error.is_none() {
                    merged.first_error = samples.first_error;
                }
                merged.minted.extend(samples.minted);
                merged.revoked = merged.revoked.or(samples.revoked);
            }
            Ok(Err(error)) => failure = failure.or(Some(error)),
            Err(joined) => failure = failure.or(Some(joined.into())),
        }
    }
    let elapsed = started.elapsed();
    match failure {
        Some(error) => Err(error),
        None => Ok((merged, elapsed)),
    }
}

/// One worker's loop: operations until the budget is spent, the time is up, or (for
/// revocations) no token is left.
async fn work(
    session: &Session,
    job: &Job,
    claims: &AtomicU64,
    bounds: Bounds,
    keep_tokens: bool,
) -> Result<Samples, Error> {
    let deadline = Instant::now() + bounds.max_duration;
    let mut samples = Samples::default();
    while Instant::now() < deadline && claims.fetch_add(1, Ordering::Relaxed) < bounds.max_requests
    {
        let began;
        let result = match job {
            Job::ClientCredentials => {
                began = Instant::now();
                session.client_credentials().await.map(Some)
            }
            Job::ApiCall(token) => {
                began = Instant::now();
                session.api_call(token).await.map(|()| None)
            }
            Job::Revocation(tokens) => {
                let next = tokens
                    .lock()
                    .map_err(|_| "a worker panicked holding the tokens")?
                    .pop();
                let Some(token) = next else { break };
                began = Instant::now();
                let revoked = session.revoke(&token).await;
                if revoked.is_ok() && samples.revoked.is_none() {
                    samples.revoked = Some(token);
                }
                revoked.map(|()| None)
            }
            Job::CodeFlow => {
                began = Instant::now();
                session.code_flow().await.map(|_| None)
            }
        };
        samples.latencies.push(began.elapsed());
        match result {
            Ok(Some(token)) if keep_tokens => samples.minted.push(token),
            Ok(_) => {}
            Err(error) => {
                samples.errors += 1;
                samples.first_error.get_or_insert_with(|| error.to_string());
            }
        }
    }
    Ok(samples)
}
