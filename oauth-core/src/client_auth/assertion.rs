//! `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, OpenID Connect Core §9):
//! `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and a
//! `client_assertion` signed with one of the client's registered keys.
//!
//! An assertion is evaluated like a secret: one attempt is reserved on the limiter for it,
//! and every failure, whatever check it fails, is the same `invalid_client` as a wrong
//! secret, charged the same way and costing the same decoy work; only the audit event
//! says which check failed. The assertion's `aud` must contain the issuer identifier or
//! the token endpoint's URL, at every endpoint that authenticates clients: one audience
//! for a client to use everywhere, as RFC 7523 §3 and OpenID Connect Core §9 allow.
//! Each `jti` is used once, across every instance sharing the store
//! ([`CodeStore::use_once`](crate::storage::CodeStore::use_once)), for as long as the
//! assertion would be accepted.

use std::borrow::Cow;

use time::OffsetDateTime;

use super::Limits;
use crate::client::{Client, ClientId, ClientKind};
use crate::clock::Clock;
use crate::engine::Engine;
use crate::error::{Fault, OAuthError};
use crate::jose::client_assertion::{
    claimed_subject, verify_assertion, AssertionExpectations, CLIENT_ASSERTION_TYPE,
};
use crate::jose::{Algorithm, ClientJwks};
use crate::metadata::origin_of;
use crate::request::{Authorization, Params};
use crate::secret::SecretHash;
use crate::storage::Storage;

/// A refusal, and for the audit event which check failed.
pub(super) type Refusal = (OAuthError, Option<&'static str>);

/// A client assertion as a request presents it.
pub(super) struct PresentedAssertion<'a> {
    /// `client_id`, if the request names the client too.
    client_id: Option<&'a str>,
    /// `client_assertion`.
    assertion: &'a str,
}

/// The client assertion of a request, if it sends one, as its only authentication method.
pub(super) fn presented_assertion<'a>(
    params: &'a Params,
    authorization: Option<&str>,
) -> Result<Option<PresentedAssertion<'a>>, OAuthError> {
    let assertion = match (
        params.single("client_assertion")?,
        params.single("client_assertion_type")?,
    ) {
        (None, None) => return Ok(None),
        (Some(assertion), Some(kind)) if kind == CLIENT_ASSERTION_TYPE => assertion,
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_client(
                "the client_assertion_type is not supported",
            ))
        }
        _ => {
            return Err(OAuthError::invalid_request(
                "client_assertion and client_assertion_type go together",
            ))
        }
    };
    let basic = match authorization.map(Authorization::parse) {
        None | Some(Ok(Authorization::Other)) => false,
        Some(Ok(Authorization::Basic(_))) => true,
        Some(Err(error)) => return Err(error),
    };
    if basic || params.single("client_secret")?.is_some() {
        return Err(OAuthError::invalid_request(
            "use one client authentication method, not two",
        ));
    }
    Ok(Some(PresentedAssertion {
        client_id: params.single("client_id")?,
        assertion,
    }))
}

/// The client an assertion claims to come from, unverified (for limits and events).
pub(super) fn claimed_by_assertion(params: &Params) -> Option<String> {
    params.get("client_assertion").and_then(claimed_subject)
}

/// The one-time mark of a client's assertion `jti`. The client id's length comes first,
/// so that no pair of client id and `jti` gives another pair's mark.
fn jti_mark(client: &ClientId, jti: &str) -> SecretHash {
    let id = client.as_str();
    SecretHash::of(&format!("client-assertion:{}:{id}:{jti}", id.len()))
}

impl<S: Storage, C: Clock> Engine<S, C> {
    /// Authenticates the client of a request that presents an assertion.
    pub(super) async fn authenticate_assertion(
        &self,
        presented: PresentedAssertion<'_>,
        limits: &Limits<'_>,
    ) -> Result<Result<Client, Refusal>, Fault> {
        let claimed = presented
            .client_id
            .map(Cow::Borrowed)
            .or_else(|| claimed_subject(presented.assertion).map(Cow::Owned));
        let client = match claimed.as_deref().map(ClientId::new) {
            Some(Ok(id)) => self.storage.get_client(&id).await?,
            _ => None,
        };
        if let Err(wait) = self.limiter.reserve(limits.keys, limits.now) {
            return Ok(Err((
                self.rate_limited(limits.keys, wait, limits.now),
                None,
            )));
        }
        let checked = match &client {
            None => Ok(Err("no such client")),
            Some(client) => match client.kind() {
                ClientKind::PrivateKeyJwt { jwks } => {
                    self.check_assertion(client, jwks, presented.assertion, limits.now)
                        .await
                }
                _ => Ok(Err("the client does not authenticate with private_key_jwt")),
            },
        };
        let failure = match checked {
            Err(fault) => {
                self.limiter_release(limits);
                return Err(fault);
            }
            Ok(Ok(())) => {
                self.limiter_success(limits);
                return Ok(client.ok_or((
                    OAuthError::invalid_client("client authentication failed"),
                    None,
                )));
            }
            Ok(Err(reason)) => reason,
        };
        // The work a wrong secret costs, so that timing tells neither which ids exist
        // nor how they authenticate.
        if let Err(fault) = self.decoy_check(presented.assertion).await {
            self.limiter_release(limits);
            return Err(fault);
        }
        limits
            .keys
            .iter()
            .for_each(|key| self.limiter.failed(key, limits.now));
        Ok(Err((
            OAuthError::invalid_client("client authentication failed"),
            Some(failure),
        )))
    }

    /// Verifies `assertion` for `client`, then uses its `jti`. Answers why it was refused.
    async fn check_assertion(
        &self,
        client: &Client,
        jwks: &ClientJwks,
        assertion: &str,
        now: OffsetDateTime,
    ) -> Result<Result<(), &'static str>, Fault> {
        let issuer = self.config.issuer();
        let paths = self.config.served_paths();
        let origin = origin_of(issuer);
        let token_endpoint = format!("{origin}{}", paths.token);
        // RFC 9126 §2: the pushed request endpoint's URL is an audience too.
        let pushed_endpoint = paths
            .pushed_authorization_request
            .map(|path| format!("{origin}{path}"))
            .unwrap_or_else(|| token_endpoint.clone());
        let fapi2 = self.config.is_fapi2();
        let expect = AssertionExpectations {
            keys: jwks.keys(),
            client_id: client.id().as_str(),
            // FAPI 2.0 §5.3.2.1: the issuer identifier, as one string, is the only
            // audience accepted.
            audiences: if fapi2 {
                &[issuer]
            } else {
                &[issuer, &token_endpoint, &pushed_endpoint]
            },
            single_audience: fapi2,
            now,
        };
        let verified = match verify_assertion(assertion, &expect) {
            Ok(verified) => verified,
            Err(error) => return Ok(Err(error.reason())),
        };
        // Before the mark: FAPI 2.0 §5.4.1 allows PS256, ES256 and EdDSA, not RS256.
        if self.config.is_fapi2() && verified.alg == Algorithm::Rs256 {
            return Ok(Err("the FAPI 2.0 profile does not allow RS256 assertions"));
        }
        let mark = jti_mark(client.id(), &verified.jti);
        if !self
            .storage
            .use_once(&mark, verified.remember_until)
            .await?
        {
            return Ok(Err("the client assertion was used before"));
        }
        Ok(Ok(()))
    }
}
