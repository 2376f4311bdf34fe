//! Client authentication at the token, introspection and revocation endpoints (RFC 6749
//! §2.3.1): `client_secret_basic`, `client_secret_post`, or `none` for public clients.
//! Exactly one method per request.
//!
//! Guessing is limited per caller and per pair of client and caller (see
//! [`crate::limits`]), reserved before the secret is looked at. A generated secret is
//! checked with one SHA-256; a password-style secret's PBKDF2 runs on the engine's
//! [`SlowHashing`](crate::SlowHashing), and a success is remembered briefly (see
//! `secret_cache`). An unknown client id costs what a wrong secret for the slowest
//! registration this engine has met costs, so timing does not tell which ids exist.
//!
//! A confidential client registered with public keys authenticates with signed
//! assertions instead (`private_key_jwt`, see `assertion`).

mod assertion;

use std::borrow::Cow;
use std::sync::atomic::Ordering;

use time::{Duration, OffsetDateTime};

use crate::client::{Client, ClientId, ClientKind};
use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::{ErrorCode, Fault, OAuthError};
use crate::events::EventKind;
use crate::request::{Authorization, Params};
use crate::secret::SecretHash;
use crate::storage::{Storage, MAX_CLIENT_PAGE};

/// The limiter keys of one authentication, and when it happens.
struct Limits<'a> {
    keys: &'a [&'a str],
    pair_key: Option<&'a str>,
    caller_key: Option<&'a str>,
    now: OffsetDateTime,
}

impl<S: Storage, C: Clock> Engine<S, C> {
    /// Authenticates a client under the engine's limiter: a caller, or a pair of client
    /// and caller, that failed too often is refused (`429`, `Retry-After`) before any
    /// secret is checked. Failures and limits are reported as events.
    pub(crate) async fn authenticate(
        &self,
        params: &Params,
        authorization: Option<&str>,
        caller: Option<&str>,
    ) -> Result<Result<Client, OAuthError>, Fault> {
        let now = self.clock.now();
        let claimed = claimed_client_id(params, authorization);
        // Charged to what the caller controls: itself, and its attempts at this client.
        let caller_key = caller.map(|c| format!("caller:{c}"));
        let pair_key = caller.map(|c| format!("pair:{}|{c}", claimed.as_deref().unwrap_or("-")));
        let keys: Vec<&str> = [caller_key.as_deref(), pair_key.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let limits = Limits {
            keys: &keys,
            pair_key: pair_key.as_deref(),
            caller_key: caller_key.as_deref(),
            now,
        };
        // A blocked caller is refused before anything else, even without a secret.
        if let Some(wait) = keys
            .iter()
            .filter_map(|key| self.limiter.blocked_for(key, now))
            .max()
        {
            return Ok(Err(self.rate_limited(&keys, wait, now)));
        }
        let result = match assertion::presented_assertion(params, authorization) {
            Err(error) => Err((error, None)),
            Ok(Some(presented)) => self.authenticate_assertion(presented, &limits).await?,
            // The FAPI 2.0 profile takes signed assertions only (its §5.3.2.1): nothing
            // else is looked at, so the answer says nothing of whether a secret was right
            // or which clients are public.
            Ok(None) if self.config.is_fapi2() => Err((
                OAuthError::invalid_client("client authentication failed"),
                Some("a FAPI 2.0 request without a client assertion"),
            )),
            Ok(None) => self
                .authenticate_client(params, authorization, &limits)
                .await?
                .map_err(|error| (error, None)),
        };
        Ok(result.map_err(|(error, detail)| {
            if error.code() == ErrorCode::InvalidClient {
                self.emit(|| EventKind::ClientAuthenticationFailed {
                    client_id: claimed.map(Cow::into_owned),
                    detail,
                });
            }
            error
        }))
    }

    /// The `429` for an attempt refused by the limiter, reported as an event naming the
    /// keys that are blocked.
    fn rate_limited(&self, keys: &[&str], wait: Duration, now: OffsetDateTime) -> OAuthError {
        let seconds = wait.whole_seconds() + i64::from(wait.subsec_nanoseconds() > 0);
        let seconds = u64::try_from(seconds).unwrap_or(1).max(1);
        self.emit(|| EventKind::RateLimited {
            key: keys
                .iter()
                .copied()
                .filter(|key| self.limiter.blocked_for(key, now).is_some())
                .collect::<Vec<_>>()
                .join(" "),
            retry_after: seconds,
        });
        OAuthError::rate_limited(seconds)
    }

    /// Authenticates the client of a token, introspection or revocation request.
    ///
    /// Answers the client, or an `invalid_request` (malformed or ambiguous credentials),
    /// `invalid_client` (401, with a `Basic` challenge) or limiter (`429`) refusal.
    async fn authenticate_client(
        &self,
        params: &Params,
        authorization: Option<&str>,
        limits: &Limits<'_>,
    ) -> Result<Result<Client, OAuthError>, Fault> {
        let (client_id, secret) = match presented_credentials(params, authorization) {
            Ok(credentials) => credentials,
            Err(error) => return Ok(Err(error)),
        };
        let (client_id, secret) = (client_id.as_ref(), secret.as_deref());
        let client = match ClientId::new(client_id) {
            Ok(id) => self.storage.get_client(&id).await?,
            Err(_) => None,
        };
        let failed = || OAuthError::invalid_client("client authentication failed");
        let Some(secret) = secret else {
            // Nothing to guess: a public client's request, or a confidential one that
            // forgot its secret. No budget is spent.
            return Ok(match client {
                Some(client) if !client.is_confidential() => Ok(client),
                _ => Err(failed()),
            });
        };
        // A secret is evaluated: one attempt is reserved for it, just around the check,
        // so that concurrent guesses never evaluate more than the budget while valid
        // requests hold their place only for the check itself.
        if let Err(wait) = self.limiter.reserve(limits.keys, limits.now) {
            return Ok(Err(self.rate_limited(limits.keys, wait, limits.now)));
        }
        let checked = match &client {
            // Same work as a wrong secret, so timing does not reveal which ids exist.
            None => self.decoy_check(secret).await.map(|()| false),
            Some(client) if client.is_confidential() => {
                self.check_secret(client, secret, limits.now).await
            }
            // A public client has no secret; one that sends one is misconfigured or an
            // impostor. Refused like any wrong secret, and charged to the sender alone
            // (its address and its pair with this client, never the client): a free
            // answer would tell strangers which ids are public clients.
            Some(_) => Ok(false),
        };
        match checked {
            Err(fault) => {
                // Nothing was evaluated (the hashing pool was full): the reservation is
                // released, so a flood cannot make victims pay for it.
                self.limiter_release(limits);
                Err(fault)
            }
            Ok(true) => {
                self.limiter_success(limits);
                Ok(client.ok_or_else(failed))
            }
            Ok(false) => {
                limits
                    .keys
                    .iter()
                    .for_each(|key| self.limiter.failed(key, limits.now));
                Ok(Err(failed()))
            }
        }
    }

    fn limiter_release(&self, limits: &Limits<'_>) {
        limits
            .keys
            .iter()
            .for_each(|key| self.limiter.succeeded(key, false, limits.now));
    }

    /// The success proves the pair's owner: its failures are forgiven. The caller's are
    /// not: one valid credential must not reset a caller's budget for guessing other
    /// clients' secrets.
    fn limiter_success(&self, limits: &Limits<'_>) {
        if let Some(pair) = limits.pair_key {
            self.limiter.succeeded(pair, true, limits.now);
        }
        if let Some(caller) = limits.caller_key {
            self.limiter.succeeded(caller, false, limits.now);
        }
    }

    /// Checks `secret` against `client`'s registration: a generated secret in place (one
    /// SHA-256), a password-style one from the memory of recent successes or else on the
    /// slow-hashing pool.
    async fn check_secret(
        &self,
        client: &Client,
        secret: &str,
        now: time::OffsetDateTime,
    ) -> Result<bool, Fault> {
        let ClientKind::ConfidentialPassword { iterations, .. } = client.kind() else {
            let matched = client.verify_secret(secret);
            if !matched {
                // Every failure costs what the slowest registration's costs, so timing
                // tells neither which ids exist nor how their secrets are kept.
                self.decoy_check(secret).await?;
            }
            return Ok(matched);
        };
        self.slowest_iterations
            .fetch_max(*iterations, Ordering::Relaxed);
        if self
            .verified_secrets
            .recalls(client.id(), client.kind(), secret, now)
        {
            return Ok(true);
        }
        let checked = client.clone();
        let presented = secret.to_owned();
        let matched = self
            .slow_hashing
            .run(Box::new(move || checked.verify_secret(&presented)))
            .await
            .ok_or(Fault::Busy)?;
        if matched {
            self.verified_secrets
                .remember(client.id(), client.kind(), secret, now);
        }
        Ok(matched)
    }

    /// The work a wrong secret costs for the slowest registration met so far.
    async fn decoy_check(&self, secret: &str) -> Result<(), Fault> {
        self.learn_slowest_registration().await?;
        let iterations = self.slowest_iterations.load(Ordering::Relaxed);
        if iterations == 0 {
            let _ = SecretHash::of(secret).ct_eq(&UNKNOWN_CLIENT_HASH);
            return Ok(());
        }
        let presented = secret.to_owned();
        self.slow_hashing
            .run(Box::new(move || decoy_derivation(iterations, &presented)))
            .await
            .ok_or(Fault::Busy)?;
        Ok(())
    }
}

impl<S: Storage, C: Clock> Engine<S, C> {
    /// Once per engine, before the first decoy: reads the registry for its slowest secret,
    /// so that an engine just started (which has met no client yet) already answers an
    /// unknown id as slowly as a wrong secret of its slowest client. At most
    /// [`DECOY_SCAN_LIMIT`] clients are read; clients met later still raise the cost.
    async fn learn_slowest_registration(&self) -> Result<(), Fault> {
        if self.registry_scanned.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let mut after: Option<ClientId> = None;
        let mut read = 0;
        while read < DECOY_SCAN_LIMIT {
            let page = match self
                .storage
                .list_clients(after.as_ref(), MAX_CLIENT_PAGE)
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    // Try again on the next unknown id.
                    self.registry_scanned.store(false, Ordering::Release);
                    return Err(error.into());
                }
            };
            read += page.len();
            for client in &page {
                if let ClientKind::ConfidentialPassword { iterations, .. } = client.kind() {
                    self.slowest_iterations
                        .fetch_max(*iterations, Ordering::Relaxed);
                }
            }
            match page.last() {
                Some(last) if page.len() == MAX_CLIENT_PAGE => after = Some(last.id().clone()),
                _ => break,
            }
        }
        Ok(())
    }
}

/// Most clients read to learn the slowest registration (see `learn_slowest_registration`).
const DECOY_SCAN_LIMIT: usize = 100_000;

/// One PBKDF2 derivation of `presented` with `iterations` rounds against a fixed salt:
/// the cost of checking a password-style secret, for an id that has none.
fn decoy_derivation(iterations: u32, presented: &str) -> bool {
    let Some(rounds) = std::num::NonZeroU32::new(iterations) else {
        return false;
    };
    ring::pbkdf2::verify(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        &[0u8; 16],
        presented.as_bytes(),
        &[0u8; 32],
    )
    .is_ok()
}

/// The client id a request claims, before it is authenticated (for limits and events).
/// Borrowed from the body when it is there: most requests use it for nothing.
fn claimed_client_id<'a>(params: &'a Params, authorization: Option<&str>) -> Option<Cow<'a, str>> {
    match authorization.map(Authorization::parse) {
        Some(Ok(Authorization::Basic(credentials))) => Some(Cow::Owned(credentials.client_id)),
        _ => params
            .get("client_id")
            .map(Cow::Borrowed)
            .or_else(|| assertion::claimed_by_assertion(params).map(Cow::Owned)),
    }
    .filter(|id| ClientId::is_valid(id))
}

/// A dummy hash compared against when the client is unknown and no registration this
/// engine met is slower than one SHA-256.
const UNKNOWN_CLIENT_HASH: SecretHash = SecretHash([0u8; 32]);

/// The client id and secret a request presents, by exactly one method.
fn presented_credentials<'a>(
    params: &'a Params,
    authorization: Option<&str>,
) -> Result<(Cow<'a, str>, Option<Cow<'a, str>>), OAuthError> {
    let basic = match authorization.map(Authorization::parse) {
        None | Some(Ok(Authorization::Other)) => None,
        Some(Ok(Authorization::Basic(credentials))) => Some(credentials),
        Some(Err(error)) => return Err(error),
    };
    let body_id = params.single("client_id")?;
    let body_secret = params.single("client_secret")?;
    match (basic, body_id, body_secret) {
        (Some(_), _, Some(_)) => Err(OAuthError::invalid_request(
            "use one client authentication method, not two",
        )),
        (Some(basic), Some(body_id), None) if body_id != basic.client_id => Err(
            OAuthError::invalid_request("the client_id does not match the authenticated client"),
        ),
        (Some(basic), _, None) => Ok((
            Cow::Owned(basic.client_id),
            Some(Cow::Owned(basic.client_secret)),
        )),
        (None, Some(id), secret) => Ok((Cow::Borrowed(id), secret.map(Cow::Borrowed))),
        (None, None, Some(_)) => Err(OAuthError::invalid_request(
            "the client_id parameter is missing",
        )),
        (None, None, None) => Err(OAuthError::invalid_client(
            "client authentication is required",
        )),
    }
}
