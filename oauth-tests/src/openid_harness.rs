//! The harness of the OpenID Connect cases: an engine that is an OpenID provider over the
//! harness's store and clock, relying parties registered, a claims directory, and codes
//! that carry a sign-in.

use async_trait::async_trait;
use oauth_core::jose::{Algorithm, KeySet, SigningKey};
use oauth_core::openid::{ClaimsError, ClaimsSource, OpenIdProvider, UserInfoRequest};
use oauth_core::storage::{CodeConsumption, SignIn};
use oauth_core::{
    AuthorizationResponse, Client, CodeChallenge, CodeStore, Engine, IssuedTokens, RandomSource,
    Response, ScopeSet, SecretHash, Storage,
};
use serde_json::{json, Map, Value};

use crate::{encode, expect_issued, Harness, ISSUER, VERIFIER};

/// Redirect URI of `rp` (ID tokens in RS256, the default).
pub const RP_REDIRECT: &str = "https://rp.example/cb";
/// Redirect URI of `rp-es` (ID tokens in ES256).
pub const RP_ES_REDIRECT: &str = "https://rp-es.example/cb";
/// `kid` of the RS256 ID-token key.
pub const ID_RSA_KID: &str = "id-rs-1";
/// `kid` of the ES256 ID-token key.
pub const ID_EC_KID: &str = "id-es-1";
/// The subject whose claims the directory cannot read.
pub const BROKEN_SUBJECT: &str = "broken";
/// Every scope the relying parties may ask for.
pub const RP_SCOPES: &str = "openid profile email address phone read:users";

/// The test RSA key (2048 bits) with `kid`.
pub fn rsa_key(kid: &str) -> SigningKey {
    SigningKey::from_pkcs8(
        Algorithm::Rs256,
        kid,
        include_bytes!("../../oauth-core/testdata/rsa2048.pk8.der"),
    )
    .unwrap()
}

/// A claims directory: every user has every standard claim, plus one no scope releases
/// (`ssn`) and a `sub` that is not theirs; [`BROKEN_SUBJECT`] fails.
#[derive(Debug)]
pub struct TestDirectory;

#[async_trait]
impl ClaimsSource for TestDirectory {
    async fn claims(
        &self,
        subject: &str,
        _scope: &ScopeSet,
    ) -> Result<Map<String, Value>, ClaimsError> {
        if subject == BROKEN_SUBJECT {
            return Err(ClaimsError::new("the directory is down"));
        }
        let Value::Object(claims) = json!({
            "sub": "mallory",
            "name": format!("User {subject}"),
            "given_name": "User",
            "family_name": subject,
            "email": format!("{subject}@example.com"),
            "email_verified": true,
            "address": {"country": "FR"},
            "phone_number": "+33 1 23 45 67 89",
            "phone_number_verified": false,
            "ssn": "000-00-0000",
        }) else {
            unreachable!("an object literal");
        };
        Ok(claims)
    }
}

/// The provider the cases use: RS256 and ES256 ID-token keys, [`TestDirectory`].
pub fn test_provider() -> OpenIdProvider {
    let (es256, _) = SigningKey::generate(Algorithm::Es256, ID_EC_KID).unwrap();
    OpenIdProvider::new(KeySet::new(rsa_key(ID_RSA_KID)), TestDirectory)
        .signing_keys(KeySet::new(es256))
}

impl<S: Storage + 'static> Harness<S> {
    /// This harness with its engine an OpenID provider built from `provider` (same store
    /// and clock), and the relying parties registered through it: `rp` (public, RS256 by
    /// default) and `rp-es` (public, ES256), both allowed [`RP_SCOPES`].
    pub async fn with_openid(self, provider: OpenIdProvider) -> Self {
        let engine = Engine::builder(
            self.store.clone(),
            self.clock.clone(),
            oauth_core::Config::builder(ISSUER).build().unwrap(),
        )
        .openid(provider)
        .build()
        .unwrap();
        let scopes = ScopeSet::parse(RP_SCOPES).unwrap();
        let rp = Client::public("rp")
            .unwrap()
            .redirect_uri(RP_REDIRECT)
            .unwrap()
            .allowed_scopes(scopes.clone())
            .build()
            .unwrap();
        engine.register_client(rp).await.unwrap();
        let rp_es = Client::public("rp-es")
            .unwrap()
            .redirect_uri(RP_ES_REDIRECT)
            .unwrap()
            .allowed_scopes(scopes)
            .id_token_signed_response_alg(Algorithm::Es256)
            .build()
            .unwrap();
        if engine.register_client(rp_es).await.is_err() {
            // A provider without an ES256 key: the cases that need `rp-es` say so.
        }
        self.with_engine(engine)
    }

    /// A code for `client` (`rp` or `rp-es`) with `scope`, approved by `subject`, whose
    /// stored record carries `sign_in`, as the approval of an OpenID Connect request
    /// records it.
    pub async fn openid_code(
        &self,
        client: &str,
        scope: &str,
        subject: &str,
        sign_in: Option<SignIn>,
    ) -> String {
        let redirect_uri = redirect_of(client);
        let query = encode(&[
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", redirect_uri),
            ("scope", scope),
            (
                "code_challenge",
                CodeChallenge::from_verifier(VERIFIER).as_str(),
            ),
            ("code_challenge_method", "S256"),
        ]);
        let oauth_core::AuthorizeOutcome::Pending(pending) =
            self.engine.authorize_query(&query).await.unwrap()
        else {
            panic!("a pending authorization");
        };
        let AuthorizationResponse::Redirect(redirect) = self
            .engine
            .approve(&pending, subject, pending.scope())
            .await
            .unwrap()
        else {
            panic!("a redirect");
        };
        let code = redirect.param("code").unwrap();
        // The code is stored again under a new value with exactly `sign_in` (approval
        // records the sign-in of its own login; these cases pick theirs, none included):
        // the same grant, client, scope and challenge.
        let CodeConsumption::Consumed(mut record) = self
            .store
            .consume_code(&SecretHash::of(&code))
            .await
            .unwrap()
        else {
            panic!("a fresh code");
        };
        let fresh = RandomSource::new().secret().unwrap();
        record.hash = SecretHash::of(&fresh);
        record.sign_in = sign_in;
        let mark = SecretHash::of(&format!("sign-in {fresh}"));
        assert!(self
            .store
            .use_once_and_insert_code(&mark, record.expires_at, record)
            .await
            .unwrap());
        fresh
    }

    /// Redeems a code of `client` with `VERIFIER`.
    pub async fn redeem_openid(&self, client: &str, code: &str) -> IssuedTokens {
        expect_issued(
            self.token(
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("client_id", client),
                    ("redirect_uri", redirect_of(client)),
                    ("code_verifier", VERIFIER),
                ],
                None,
            )
            .await,
        )
    }

    /// The UserInfo endpoint with `method`, an `Authorization` header and a body.
    pub async fn userinfo(
        &self,
        method: &str,
        authorization: Option<&str>,
        body: Option<(&str, &str)>,
    ) -> Result<Response, oauth_core::Fault> {
        let mut request = UserInfoRequest::new(method, authorization);
        if let Some((content_type, body)) = body {
            request = request.with_body(Some(content_type), body.as_bytes());
        }
        self.engine.userinfo(&request).await
    }
}

/// The registered redirect URI of a relying party.
pub fn redirect_of(client: &str) -> &'static str {
    match client {
        "rp-es" => RP_ES_REDIRECT,
        _ => RP_REDIRECT,
    }
}
