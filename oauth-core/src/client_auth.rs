//! Client authentication at the token endpoint (RFC 6749 §2.3.1): `client_secret_basic`,
//! `client_secret_post`, or `none` for public clients. Exactly one method per request.

use crate::client::{Client, ClientId};
use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::{ErrorCode, Fault, OAuthError};
use crate::events::EventKind;
use crate::request::{Authorization, Params};
use crate::secret::SecretHash;
use crate::storage::{ClientStore, Storage};

impl<S: Storage, C: Clock> Engine<S, C> {
    /// Authenticates a client under the engine's limiter: a client id or caller key that
    /// failed too often is refused (`429`, `Retry-After`) before any secret is checked;
    /// every failure spends budget, a success forgives. Failures and limits are reported
    /// as events.
    pub(crate) async fn authenticate(
        &self,
        params: &Params,
        authorization: Option<&str>,
        caller: Option<&str>,
    ) -> Result<Result<Client, OAuthError>, Fault> {
        let now = self.clock.now();
        let claimed = claimed_client_id(params, authorization);
        let keys: Vec<String> = [
            claimed.as_ref().map(|id| format!("client:{id}")),
            caller.map(|c| format!("caller:{c}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        for key in &keys {
            if let Err(wait) = self.limiter.check(key, now) {
                let seconds = u64::try_from(wait.whole_seconds()).unwrap_or(1).max(1);
                self.emit(|| EventKind::RateLimited {
                    key: key.clone(),
                    retry_after: seconds,
                });
                return Ok(Err(OAuthError::rate_limited(seconds)));
            }
        }
        let result = authenticate_client(&self.storage, params, authorization).await?;
        match &result {
            // A success forgives the client's failures, not the caller's: one valid
            // credential must not reset a caller's budget for guessing other clients'.
            Ok(_) => keys
                .iter()
                .filter(|key| key.starts_with("client:"))
                .for_each(|key| self.limiter.record_success(key, now)),
            Err(error) => {
                keys.iter()
                    .for_each(|key| self.limiter.record_failure(key, now));
                if error.code() == ErrorCode::InvalidClient {
                    self.emit(|| EventKind::ClientAuthenticationFailed { client_id: claimed });
                }
            }
        }
        Ok(result)
    }
}

/// The client id a request claims, before it is authenticated (for limits and events).
fn claimed_client_id(params: &Params, authorization: Option<&str>) -> Option<String> {
    match authorization.map(Authorization::parse) {
        Some(Ok(Authorization::Basic(credentials))) => Some(credentials.client_id),
        _ => params.get("client_id").map(str::to_owned),
    }
    .filter(|id| ClientId::new(id.as_str()).is_ok())
}

/// A dummy hash compared against when the client is unknown, so that an unknown client
/// costs the same as a wrong secret.
const UNKNOWN_CLIENT_HASH: SecretHash = SecretHash([0u8; 32]);

/// Authenticates the client of a token, introspection or revocation request.
///
/// Answers the client, or an `invalid_request` (malformed or ambiguous credentials) or
/// `invalid_client` (401, with a `Basic` challenge) error.
pub(crate) async fn authenticate_client<S: ClientStore + ?Sized>(
    storage: &S,
    params: &Params,
    authorization: Option<&str>,
) -> Result<Result<Client, OAuthError>, Fault> {
    let basic = match authorization.map(Authorization::parse) {
        None | Some(Ok(Authorization::Other)) => None,
        Some(Ok(Authorization::Basic(credentials))) => Some(credentials),
        Some(Err(error)) => return Ok(Err(error)),
    };
    let body_id = match params.single("client_id") {
        Ok(id) => id,
        Err(error) => return Ok(Err(error)),
    };
    let body_secret = match params.single("client_secret") {
        Ok(secret) => secret,
        Err(error) => return Ok(Err(error)),
    };

    let (client_id, secret) = match (&basic, body_id, body_secret) {
        (Some(_), _, Some(_)) => {
            return Ok(Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            )))
        }
        (Some(basic), Some(body_id), None) if body_id != basic.client_id => {
            return Ok(Err(OAuthError::invalid_request(
                "the client_id does not match the authenticated client",
            )))
        }
        (Some(basic), _, None) => (basic.client_id.as_str(), Some(basic.client_secret.as_str())),
        (None, Some(id), secret) => (id, secret),
        (None, None, Some(_)) => {
            return Ok(Err(OAuthError::invalid_request(
                "the client_id parameter is missing",
            )))
        }
        (None, None, None) => {
            return Ok(Err(OAuthError::invalid_client(
                "client authentication is required",
            )))
        }
    };

    let failed = || OAuthError::invalid_client("client authentication failed");
    let client = match ClientId::new(client_id) {
        Ok(id) => storage.get_client(&id).await?,
        Err(_) => None,
    };
    let Some(client) = client else {
        if let Some(secret) = secret {
            // Same work as a wrong secret, so timing does not reveal which ids exist.
            let _ = SecretHash::of(secret).ct_eq(&UNKNOWN_CLIENT_HASH);
        }
        return Ok(Err(failed()));
    };
    match (client.is_confidential(), secret) {
        (true, Some(secret)) if client.verify_secret(secret) => Ok(Ok(client)),
        (true, _) => Ok(Err(failed())),
        // A public client has no secret; one that sends one is misconfigured or an impostor.
        (false, Some(_)) => Ok(Err(failed())),
        (false, None) => Ok(Ok(client)),
    }
}
