//! Client authentication at the token endpoint (RFC 6749 §2.3.1): `client_secret_basic`,
//! `client_secret_post`, or `none` for public clients. Exactly one method per request.

use crate::client::{Client, ClientId};
use crate::error::{Fault, OAuthError};
use crate::request::{Authorization, Params};
use crate::secret::SecretHash;
use crate::storage::ClientStore;

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
