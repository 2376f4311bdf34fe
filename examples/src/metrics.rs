//! The demo's Prometheus metrics, fed by the engine's audit events.
//!
//! [`Metrics`] is an [`EventSink`]: installed with `Engine::with_event_sink` (next to the
//! core's `TracingSink`, through [`Tee`]), it counts what the engine reports. The one
//! figure events do not carry, how long a bearer check takes, is measured by
//! [`TimedGuard`] around the resource-server guard. `GET /metrics` answers
//! [`Metrics::render`] in the Prometheus text format.
//!
//! Every label value comes from a fixed set (grant types, RFC error codes, kinds of
//! limited key): never a client id, a subject, a token or anything a caller typed, so the
//! number of series stays bounded and nothing secret reaches a scrape.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use oauth_core::events::{Event, EventKind, EventSink};
use oauth_core::{BearerGuard, BearerOutcome, BearerRequest, Fault, Response, ScopeSet};
use prometheus::{
    Histogram, HistogramOpts, IntCounterVec, Opts, Registry, TextEncoder, TEXT_FORMAT,
};

use crate::demo::fault_response;

/// The grant types the token endpoint reports, each a `grant_type` label value.
const GRANT_TYPES: [&str; 3] = ["authorization_code", "client_credentials", "refresh_token"];

/// The `error` label values of `finrift_refusals_total`: the token endpoint's refusals
/// the engine reports, the bearer refusals (`missing` is a request without a token), and
/// rate limits.
const REFUSALS: [&str; 7] = [
    "invalid_client",
    "invalid_grant",
    "invalid_request",
    "invalid_token",
    "insufficient_scope",
    "missing",
    "rate_limited",
];

/// The `key` label values of `finrift_rate_limited_total`: what kind of key was limited.
/// No key is a client id alone: the engine charges the caller and the pair of client and
/// caller, and reports both (`caller`).
const LIMITED_KEYS: [&str; 4] = ["caller", "login", "login_ip", "other"];

/// Upper bounds of the verification-latency buckets, in seconds: a JWT check takes tens
/// of microseconds in a release build, a store lookup up to milliseconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5,
];

/// The demo's metrics: counters of tokens issued, refusals, replays and rate limits, and
/// a histogram of bearer verification latency.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    tokens_issued: IntCounterVec,
    refusals: IntCounterVec,
    replays: IntCounterVec,
    rate_limited: IntCounterVec,
    bearer_verification: Histogram,
}

impl Metrics {
    /// A fresh set of metrics, every series at zero (so a dashboard sees each from the
    /// first scrape).
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let tokens_issued = IntCounterVec::new(
            Opts::new(
                "finrift_tokens_issued_total",
                "Successful token responses, by grant type.",
            ),
            &["grant_type"],
        )?;
        let refusals = IntCounterVec::new(
            Opts::new(
                "finrift_refusals_total",
                "Refused requests, by error code: failed client authentication \
                 (invalid_client), refused grants (invalid_grant), bearer tokens refused \
                 by the API (invalid_request, invalid_token, insufficient_scope, missing) \
                 and rate limits (rate_limited).",
            ),
            &["error"],
        )?;
        let replays = IntCounterVec::new(
            Opts::new(
                "finrift_replays_detected_total",
                "Replays that revoked a grant: an authorization code redeemed twice (code) \
                 or a rotated-away refresh token presented again (refresh).",
            ),
            &["kind"],
        )?;
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "finrift_rate_limited_total",
                "Attempts refused because their key failed too often, by kind of key: \
                 the caller, or the caller's attempts at one client, at the token \
                 endpoints (caller); the caller's attempts at one account (login) and the \
                 caller (login_ip) at the login form.",
            ),
            &["key"],
        )?;
        let bearer_verification = Histogram::with_opts(
            HistogramOpts::new(
                "finrift_bearer_verification_seconds",
                "Time to verify a bearer token at the API, refusals included.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )?;
        registry.register(Box::new(tokens_issued.clone()))?;
        registry.register(Box::new(refusals.clone()))?;
        registry.register(Box::new(replays.clone()))?;
        registry.register(Box::new(rate_limited.clone()))?;
        registry.register(Box::new(bearer_verification.clone()))?;
        for grant_type in GRANT_TYPES {
            tokens_issued.with_label_values(&[grant_type]);
        }
        for error in REFUSALS {
            refusals.with_label_values(&[error]);
        }
        for kind in ["code", "refresh"] {
            replays.with_label_values(&[kind]);
        }
        for key in LIMITED_KEYS {
            rate_limited.with_label_values(&[key]);
        }
        Ok(Self {
            registry,
            tokens_issued,
            refusals,
            replays,
            rate_limited,
            bearer_verification,
        })
    }

    /// Records one bearer verification that took `elapsed`.
    pub fn observe_bearer_verification(&self, elapsed: Duration) {
        self.bearer_verification.observe(elapsed.as_secs_f64());
    }

    /// The metrics in the Prometheus text format (`text/plain; version=0.0.4`), never
    /// cached.
    pub fn render(&self) -> Response {
        match TextEncoder::new().encode_to_string(&self.registry.gather()) {
            Ok(body) => Response {
                status: 200,
                headers: vec![
                    ("Content-Type", TEXT_FORMAT.to_owned()),
                    ("Cache-Control", "no-store".to_owned()),
                ],
                body,
            },
            Err(error) => fault_response(&Fault::Encoding(error.to_string())),
        }
    }
}

/// The `key` label of a limited key (the first, when the event names several): its
/// prefix (`caller:`, `login:`, `login-ip:`), never the key itself.
fn key_kind(key: &str) -> &'static str {
    match key.split_once(':').map(|(kind, _)| kind) {
        Some("caller") => "caller",
        Some("login") => "login",
        Some("login-ip") => "login_ip",
        _ => "other",
    }
}

impl EventSink for Metrics {
    fn emit(&self, event: &Event) {
        match &event.kind {
            EventKind::TokenIssued { grant_type, .. } => {
                self.tokens_issued.with_label_values(&[grant_type]).inc();
            }
            EventKind::ClientAuthenticationFailed { .. } => {
                self.refusals.with_label_values(&["invalid_client"]).inc();
            }
            EventKind::InvalidGrant { .. } => {
                self.refusals.with_label_values(&["invalid_grant"]).inc();
            }
            EventKind::BearerRefused { error, .. } => {
                self.refusals.with_label_values(&[error]).inc();
            }
            EventKind::RateLimited { key, .. } => {
                self.refusals.with_label_values(&["rate_limited"]).inc();
                self.rate_limited.with_label_values(&[key_kind(key)]).inc();
            }
            EventKind::CodeReplayDetected { .. } => {
                self.replays.with_label_values(&["code"]).inc();
            }
            EventKind::RefreshReuseDetected { .. } => {
                self.replays.with_label_values(&["refresh"]).inc();
            }
            _ => {}
        }
    }
}

/// Sends every event to two sinks, `.0` first: for example the core's `TracingSink` for
/// the logs and [`Metrics`] for the counters.
#[derive(Debug, Clone)]
pub struct Tee<A, B>(pub A, pub B);

impl<A: EventSink, B: EventSink> EventSink for Tee<A, B> {
    fn emit(&self, event: &Event) {
        self.0.emit(event);
        self.1.emit(event);
    }

    fn is_enabled(&self) -> bool {
        self.0.is_enabled() || self.1.is_enabled()
    }
}

/// A resource-server guard that times each verification of the guard it wraps into
/// `finrift_bearer_verification_seconds`.
pub struct TimedGuard {
    inner: Arc<dyn BearerGuard>,
    metrics: Arc<Metrics>,
}

impl TimedGuard {
    /// Times `inner` into `metrics`.
    pub fn new(inner: Arc<dyn BearerGuard>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }
}

impl std::fmt::Debug for TimedGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimedGuard").finish_non_exhaustive()
    }
}

#[async_trait]
impl BearerGuard for TimedGuard {
    async fn check(
        &self,
        request: &BearerRequest<'_>,
        required: &ScopeSet,
    ) -> Result<BearerOutcome, Fault> {
        // Measurement, not protocol time: the monotonic clock only times the check for the
        // latency histogram; every decision about a token still reads the engine's Clock.
        #[allow(clippy::disallowed_methods)]
        let started = std::time::Instant::now();
        let result = self.inner.check(request, required).await;
        self.metrics.observe_bearer_verification(started.elapsed());
        result
    }
}

#[cfg(test)]
mod tests {
    // Tests: a failed step should stop the test with its message.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn event(kind: EventKind) -> Event {
        Event {
            at: time::OffsetDateTime::UNIX_EPOCH,
            kind,
        }
    }

    fn line<'a>(text: &'a str, series: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(series))
    }

    #[test]
    fn every_series_is_exported_at_zero_before_any_event() {
        let metrics = Metrics::new().unwrap();
        let response = metrics.render();
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("Content-Type"),
            Some("text/plain; version=0.0.4")
        );
        for series in [
            "finrift_tokens_issued_total{grant_type=\"client_credentials\"} 0",
            "finrift_refusals_total{error=\"invalid_grant\"} 0",
            "finrift_replays_detected_total{kind=\"refresh\"} 0",
            "finrift_rate_limited_total{key=\"caller\"} 0",
            "finrift_bearer_verification_seconds_count 0",
        ] {
            assert!(response.body.contains(series), "{series}");
        }
    }

    #[test]
    fn events_move_their_counters_and_labels_stay_bounded() {
        let metrics = Metrics::new().unwrap();
        metrics.emit(&event(EventKind::RateLimited {
            key: "caller:127.0.0.1".into(),
            retry_after: 300,
        }));
        metrics.emit(&event(EventKind::RateLimited {
            key: "something-else".into(),
            retry_after: 1,
        }));
        metrics.emit(&event(EventKind::ClientAuthenticationFailed {
            client_id: Some("demo-service".into()),
            detail: None,
        }));
        metrics.emit(&event(EventKind::BearerRefused {
            error: "invalid_token",
            reason: "expired".into(),
        }));
        metrics.emit(&event(EventKind::CodeReplayDetected {
            client_id: "demo-spa".into(),
            grant_id: "g".into(),
            revoked_tokens: 2,
        }));
        metrics.observe_bearer_verification(Duration::from_micros(300));
        let text = metrics.render().body;
        let expect = |series: &str, value: &str| {
            let found = line(&text, series).unwrap_or_else(|| panic!("no {series}"));
            assert_eq!(found, format!("{series} {value}"));
        };
        expect("finrift_rate_limited_total{key=\"caller\"}", "1");
        expect("finrift_rate_limited_total{key=\"other\"}", "1");
        expect("finrift_refusals_total{error=\"rate_limited\"}", "2");
        expect("finrift_refusals_total{error=\"invalid_client\"}", "1");
        expect("finrift_refusals_total{error=\"invalid_token\"}", "1");
        expect("finrift_replays_detected_total{kind=\"code\"}", "1");
        expect("finrift_bearer_verification_seconds_count", "1");
        expect(
            "finrift_bearer_verification_seconds_bucket{le=\"0.0005\"}",
            "1",
        );
        // No client id, key or reason reaches the scrape.
        for leak in ["demo-service", "demo-spa", "127.0.0.1", "expired"] {
            assert!(!text.contains(leak), "{leak}");
        }
    }
}
