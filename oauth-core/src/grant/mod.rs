//! The token endpoint (RFC 6749 §3.2), without HTTP, and one file per grant type.

mod authorization_code;
mod client_credentials;
mod refresh_token;

use time::OffsetDateTime;

use crate::client::{Client, GrantType};
use crate::clock::Clock;
use crate::dpop::DpopContext;
use crate::engine::Engine;
use crate::error::{ErrorCode, Fault, OAuthError};
use crate::events::EventKind;
use crate::form_request::FormRequest;
use crate::jose::{Algorithm, DpopError, VerifiedProof};
use crate::response::Response;
use crate::scope::ScopeSet;
use crate::secret::Draw;
use crate::storage::{GrantRecord, SignIn, Storage, TokenKind, TokenRecord};
use crate::token::{mint, AccessTokenType, IssuedTokens};

/// What the token endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenOutcome {
    /// Tokens were issued.
    Issued(IssuedTokens),
    /// The request was refused with this OAuth error.
    Refused(OAuthError),
}

impl TokenOutcome {
    /// As an HTTP response: 200 with the tokens, or the error's status, JSON body and
    /// headers. Always `Cache-Control: no-store`.
    pub fn to_response(&self) -> Response {
        match self {
            TokenOutcome::Issued(tokens) => tokens.to_response(),
            TokenOutcome::Refused(error) => Response::from_error(error),
        }
    }

    /// The issued tokens, if any.
    pub fn issued(&self) -> Option<&IssuedTokens> {
        match self {
            TokenOutcome::Issued(tokens) => Some(tokens),
            TokenOutcome::Refused(_) => None,
        }
    }

    /// The error, if refused.
    pub fn error(&self) -> Option<&OAuthError> {
        match self {
            TokenOutcome::Issued(_) => None,
            TokenOutcome::Refused(error) => Some(error),
        }
    }
}

impl From<OAuthError> for TokenOutcome {
    fn from(error: OAuthError) -> Self {
        TokenOutcome::Refused(error)
    }
}

/// What [`Engine::mint_tokens`] made: the response, the records to store, and the
/// access token's `jti` when it is a JWT.
pub(crate) struct MintedTokens {
    pub issued: IssuedTokens,
    pub records: Vec<TokenRecord>,
    pub token_id: Option<String>,
}

/// The DPoP key the tokens of one token request are bound to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Binding<'a> {
    /// The thumbprint of the request's proof key: the access token is bound to it.
    access: Option<&'a str>,
    /// The same, for the refresh token: a public client's only. A confidential client
    /// proves itself at every refresh, so its refresh token stays unbound and each access
    /// token is bound to the proof it was asked with (RFC 9449 §5).
    refresh: Option<&'a str>,
}

impl<'a> Binding<'a> {
    /// The binding of tokens issued to `client` for a request proved with `jkt`.
    pub(crate) fn for_client(client: &Client, jkt: Option<&'a str>) -> Self {
        Self {
            access: jkt,
            refresh: jkt.filter(|_| !client.is_confidential()),
        }
    }
}

/// Returns the OAuth error early from a `Result<_, OAuthError>` inside a grant handler.
macro_rules! refuse_on_error {
    ($checked:expr) => {
        match $checked {
            Ok(value) => value,
            Err(error) => return Ok(TokenOutcome::Refused(error)),
        }
    };
}
pub(crate) use refuse_on_error;

impl<S: Storage, C: Clock> Engine<S, C> {
    /// Answers a token request (RFC 6749 §3.2): the body's framing checked, the client
    /// authenticated under the failure limiter, the grant carried out.
    pub async fn token(&self, request: &FormRequest<'_>) -> Result<TokenOutcome, Fault> {
        let params = refuse_on_error!(request.params());
        let params = &*params;
        let (authorization, caller) = (request.authorization(), request.caller());
        if !params.repeated().is_empty() {
            return Ok(OAuthError::invalid_request("a parameter is repeated").into());
        }
        let Some(grant_type) = params.get("grant_type") else {
            return Ok(OAuthError::invalid_request("the grant_type parameter is missing").into());
        };
        let Some(grant_type) = GrantType::parse(grant_type) else {
            return Ok(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                "the grant type is not supported",
            )
            .into());
        };
        let client = refuse_on_error!(self.authenticate(params, authorization, caller).await?);
        if !client.allows_grant(grant_type) {
            return Ok(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "the client may not use this grant type",
            )
            .into());
        }
        // Before the grant is carried out, so that a bad proof spends no code or
        // refresh token.
        let proof = match request.dpop() {
            None if self.config.is_fapi2() => {
                return Ok(OAuthError::new(
                    ErrorCode::InvalidDpopProof,
                    "the FAPI 2.0 profile requires a DPoP proof for every token",
                )
                .into())
            }
            None => None,
            Some(dpop) => Some(refuse_on_error!(self.check_request_proof(dpop).await?)),
        };
        let jkt = proof.as_ref().map(|proof| proof.jkt.as_str());
        let outcome = match grant_type {
            GrantType::AuthorizationCode => self.exchange_code(&client, params, jkt).await?,
            GrantType::ClientCredentials => self.client_credentials(&client, params, jkt).await?,
            GrantType::RefreshToken => self.refresh(&client, params, jkt).await?,
        };
        if let TokenOutcome::Refused(error) = &outcome {
            if error.code() == ErrorCode::InvalidGrant {
                self.emit(|| EventKind::InvalidGrant {
                    grant_type: grant_type.as_str(),
                    client_id: client.id().as_str().to_owned(),
                    reason: error.description().to_owned(),
                });
            }
        }
        Ok(outcome)
    }

    /// Checks the DPoP proof of a request to one of the engine's own endpoints (token,
    /// pushed request), and marks it used: `use_dpop_nonce` (with the nonce to use, in
    /// `DPoP-Nonce`) for a missing or wrong nonce where the engine requires one,
    /// `invalid_dpop_proof` for anything else wrong with it.
    pub(crate) async fn check_request_proof(
        &self,
        dpop: &DpopContext<'_>,
    ) -> Result<Result<VerifiedProof, OAuthError>, Fault> {
        let now = self.clock.now();
        let accepted = self
            .config
            .requires_dpop_nonce()
            .then(|| self.accepted_dpop_nonces(now));
        let nonces: Vec<&str> = accepted.iter().flatten().map(String::as_str).collect();
        let checked = dpop
            .check(
                &self.storage,
                None,
                &nonces,
                now,
                self.config.dpop_proof_window(),
            )
            .await?;
        Ok(match checked {
            // FAPI 2.0 §5.4.1 allows PS256, ES256 and EdDSA, not RS256.
            Ok(proof) if self.config.is_fapi2() && proof.alg == Algorithm::Rs256 => {
                Err(OAuthError::new(
                    ErrorCode::InvalidDpopProof,
                    "the FAPI 2.0 profile does not allow RS256 proofs",
                ))
            }
            Ok(proof) => Ok(proof),
            Err(DpopError::WrongNonce) => Err(OAuthError::new(
                ErrorCode::UseDpopNonce,
                DpopError::WrongNonce.to_string(),
            )
            .with_dpop_nonce(self.dpop_nonce(now))),
            Err(error) => Err(OAuthError::new(
                ErrorCode::InvalidDpopProof,
                error.to_string(),
            )),
        })
    }

    /// Reports tokens issued for `grant`.
    pub(crate) fn report_issued(
        &self,
        grant_type: GrantType,
        grant: &GrantRecord,
        issued: &IssuedTokens,
        token_id: Option<String>,
    ) {
        self.emit(|| EventKind::TokenIssued {
            grant_type: grant_type.as_str(),
            client_id: grant.client_id.as_str().to_owned(),
            subject: grant.subject.clone(),
            scope: issued.scope.clone(),
            grant_id: grant.id.as_str().to_owned(),
            token_id,
            refresh_token: issued.refresh_token.is_some(),
        });
    }

    /// Mints an access token for `grant` with `access_scope`, bound to the DPoP key `jkt`
    /// when given, and a refresh token with the grant's scope when `with_refresh`. Answers the response and the records to store.
    /// The refresh token of an OpenID Connect grant keeps `sign_in` without its nonce, for
    /// the ID tokens its refreshes issue (Core §12.2). The values are taken from `draw`,
    /// which holds at least [`token_secrets`]`(with_refresh)` secrets.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn mint_tokens(
        &self,
        draw: &mut Draw,
        grant: &GrantRecord,
        access_scope: ScopeSet,
        with_refresh: bool,
        sign_in: Option<&SignIn>,
        binding: Binding<'_>,
        now: OffsetDateTime,
    ) -> Result<MintedTokens, Fault> {
        let jkt = binding.access;
        let access_expires = (now + self.config.access_token_lifetime()).min(grant.expires_at);
        let access = match &self.jwt {
            None => mint(
                draw,
                TokenKind::Access,
                grant,
                access_scope.clone(),
                now,
                access_expires,
            )?,
            Some(jwt) => jwt.mint(
                draw,
                self.config.issuer(),
                grant,
                access_scope.clone(),
                now,
                access_expires,
                self.config.grant_lifetime(),
                jkt,
            )?,
        };
        let mut access_record = access.record;
        access_record.dpop_jkt = jkt.map(str::to_owned);
        // Room for the refresh token's record too, so that adding it moves nothing.
        let mut records = Vec::with_capacity(1 + usize::from(with_refresh));
        records.push(access_record);
        let mut refresh_token = None;
        if with_refresh {
            let refresh_expires =
                (now + self.config.refresh_token_lifetime()).min(grant.expires_at);
            let refresh = mint(
                draw,
                TokenKind::Refresh,
                grant,
                grant.scope.clone(),
                now,
                refresh_expires,
            )?;
            let mut record = refresh.record;
            record.sign_in = sign_in
                .filter(|_| grant.scope.contains(crate::openid::OPENID_SCOPE))
                .map(SignIn::without_nonce);
            record.dpop_jkt = binding.refresh.map(str::to_owned);
            records.push(record);
            refresh_token = Some(refresh.value);
        }
        let token_type = match jkt {
            Some(_) => AccessTokenType::DPoP,
            None => AccessTokenType::Bearer,
        };
        let issued = IssuedTokens {
            access_token: access.value,
            token_type,
            expires_in: (access_expires - now).whole_seconds(),
            refresh_token,
            scope: access_scope,
            id_token: None,
        };
        Ok(MintedTokens {
            issued,
            records,
            token_id: access.token_id,
        })
    }
}

/// How many secrets [`Engine::mint_tokens`] takes from its draw: the access token (or its
/// `jti`), and the refresh token when `with_refresh`.
pub(crate) fn token_secrets(with_refresh: bool) -> usize {
    1 + usize::from(with_refresh)
}
