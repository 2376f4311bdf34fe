//! SC-03 at the engine: a storage error injected at each storage call of a grant gives a
//! clean `server_error` (no panic, no detail, no success), never a half-issued grant, and
//! a retry afterwards behaves as the contract says.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oauth_core::{FormRequest, FORM_CONTENT_TYPE};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use oauth_core::storage::{
    CodeConsumption, CodeLookup, CodeRecord, GrantId, GrantRecord, Issuance, PurgeReport,
    Redemption, Rotation, TokenRecord,
};
use oauth_core::testing::{form, public_client, test_engine, PkcePair};
use oauth_core::{
    AuthorizationResponse, AuthorizeOutcome, Client, ClientId, ClientStore, Clock, CodeStore,
    Engine, Fault, ManualClock, Response, SecretHash, Storage, StorageError, StorageErrorKind,
    TokenOutcome, TokenStore,
};
use oauth_store_memory::MemoryStore;
use time::OffsetDateTime;

/// A store that fails its `fail_at`-th call (counting from 0), and only that one; and,
/// while `stale_code_reads` is set, reads every code as unused, as a request sees it that
/// read the code just before a racing redemption consumed it.
#[derive(Default)]
struct FaultyStore {
    inner: MemoryStore,
    calls: AtomicUsize,
    fail_at: AtomicUsize,
    stale_code_reads: AtomicBool,
}

impl FaultyStore {
    fn new(fail_at: usize) -> Self {
        let store = Self::default();
        store.fail_at.store(fail_at, Ordering::SeqCst);
        store
    }

    fn call(&self, what: &str) -> Result<(), StorageError> {
        let index = self.calls.fetch_add(1, Ordering::SeqCst);
        if index == self.fail_at.load(Ordering::SeqCst) {
            return Err(StorageError::new(
                StorageErrorKind::Backend,
                format!("injected failure at {what}"),
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl ClientStore for FaultyStore {
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StorageError> {
        self.call("get_client")?;
        self.inner.get_client(id).await
    }
    async fn put_client(&self, client: Client) -> Result<(), StorageError> {
        self.inner.put_client(client).await
    }
    async fn list_clients(
        &self,
        after: Option<&ClientId>,
        limit: usize,
    ) -> Result<Vec<Client>, StorageError> {
        self.call("list_clients")?;
        self.inner.list_clients(after, limit).await
    }
    async fn remove_client(&self, id: &ClientId) -> Result<bool, StorageError> {
        self.call("remove_client")?;
        self.inner.remove_client(id).await
    }
}

#[async_trait]
impl CodeStore for FaultyStore {
    async fn use_once_and_insert_code(
        &self,
        key: &SecretHash,
        expires_at: OffsetDateTime,
        code: CodeRecord,
    ) -> Result<bool, StorageError> {
        self.call("use_once_and_insert_code")?;
        self.inner
            .use_once_and_insert_code(key, expires_at, code)
            .await
    }
    async fn consume_code(&self, hash: &SecretHash) -> Result<CodeConsumption, StorageError> {
        self.call("consume_code")?;
        self.inner.consume_code(hash).await
    }
    async fn get_code(&self, hash: &SecretHash) -> Result<CodeLookup, StorageError> {
        self.call("get_code")?;
        match self.inner.get_code(hash).await? {
            CodeLookup::Consumed(record) if self.stale_code_reads.load(Ordering::SeqCst) => {
                Ok(CodeLookup::Unused(record))
            }
            lookup => Ok(lookup),
        }
    }
    async fn use_once(
        &self,
        key: &SecretHash,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StorageError> {
        self.call("use_once")?;
        self.inner.use_once(key, expires_at).await
    }
}

#[async_trait]
impl TokenStore for FaultyStore {
    async fn issue(
        &self,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Issuance, StorageError> {
        self.call("issue")?;
        self.inner.issue(grant, tokens).await
    }
    async fn redeem_code(
        &self,
        code: &SecretHash,
        grant: &GrantRecord,
        tokens: &[TokenRecord],
    ) -> Result<Redemption, StorageError> {
        self.call("redeem_code")?;
        self.inner.redeem_code(code, grant, tokens).await
    }
    async fn get_token(&self, hash: &SecretHash) -> Result<Option<TokenRecord>, StorageError> {
        self.call("get_token")?;
        self.inner.get_token(hash).await
    }
    async fn rotate_refresh(
        &self,
        old: &SecretHash,
        new: &[TokenRecord],
    ) -> Result<Rotation, StorageError> {
        self.call("rotate_refresh")?;
        self.inner.rotate_refresh(old, new).await
    }
    async fn revoke_token(&self, hash: &SecretHash) -> Result<bool, StorageError> {
        self.call("revoke_token")?;
        self.inner.revoke_token(hash).await
    }
    async fn revoke_grant(&self, id: &GrantId) -> Result<u64, StorageError> {
        self.call("revoke_grant")?;
        self.inner.revoke_grant(id).await
    }
    async fn revoke_subject(&self, subject: &str) -> Result<u64, StorageError> {
        self.call("revoke_subject")?;
        self.inner.revoke_subject(subject).await
    }
    async fn purge_expired_batch(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<PurgeReport, StorageError> {
        self.call("purge_expired_batch")?;
        self.inner.purge_expired_batch(before, limit).await
    }
}

const REDIRECT: &str = "https://app.example/cb";

/// A fault's response: 500 `server_error`, `no-store`, and nothing of the cause.
fn assert_clean(fault: &Fault) {
    let response = Response::from_fault(fault);
    assert_eq!(response.status, 500);
    assert_eq!(response.header("Cache-Control"), Some("no-store"));
    let body: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["error"], "server_error");
    assert!(
        !response.body.contains("injected"),
        "the cause stays in logs"
    );
}

/// What a run of the flow did before the fault.
#[derive(Debug, PartialEq)]
enum Reached {
    Authorize,
    Approve,
    Exchange,
    Refresh,
    Done,
}

/// A store that fails nothing yet, and an engine on it with the public client `app`.
async fn engine_with_app() -> (Arc<FaultyStore>, Engine<Arc<FaultyStore>, Arc<ManualClock>>) {
    let store = Arc::new(FaultyStore::new(usize::MAX));
    let engine = test_engine(store.clone());
    engine
        .register_client(public_client("app", REDIRECT, "read:users"))
        .await
        .unwrap();
    (store, engine)
}

/// Runs authorize → approve → exchange → refresh on a store failing its `fail_at`-th call.
async fn run(fail_at: usize) -> (Reached, Arc<FaultyStore>) {
    let (store, engine) = engine_with_app().await;
    store.fail_at.store(fail_at, Ordering::SeqCst);
    store.calls.store(0, Ordering::SeqCst);
    let pkce = PkcePair::new();
    let query = form(&[
        ("response_type", "code"),
        ("client_id", "app"),
        ("redirect_uri", REDIRECT),
        ("scope", "read:users"),
        ("code_challenge", &pkce.challenge),
        ("code_challenge_method", "S256"),
    ]);
    let pending = match engine.authorize_query(&query).await {
        Ok(AuthorizeOutcome::Pending(pending)) => pending,
        Ok(other) => panic!("{other:?}"),
        Err(fault) => return (assert_fault(&fault, Reached::Authorize), store),
    };
    let code = match engine.approve(&pending, "alice", pending.scope()).await {
        Ok(AuthorizationResponse::Redirect(redirect)) => redirect.param("code").unwrap(),
        Ok(other) => panic!("{other:?}"),
        Err(fault) => {
            // The request may be approved again only if the fault came before it was marked.
            return (assert_fault(&fault, Reached::Approve), store);
        }
    };
    let exchange = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("client_id", "app"),
        ("redirect_uri", REDIRECT),
        ("code_verifier", &pkce.verifier),
    ]);
    let tokens = match post_token(&engine, &exchange).await {
        Ok(TokenOutcome::Issued(tokens)) => tokens,
        Ok(other) => panic!("{other:?}"),
        Err(fault) => {
            assert_fault(&fault, Reached::Exchange);
            // Whatever the failed call was, it changed nothing: the code was read, or
            // redeemed (consumed and issued in one step), or neither. So the retry redeems
            // the code, once, and a second retry is a replay that revokes what it got.
            store.fail_at.store(usize::MAX, Ordering::SeqCst);
            let retry = post_token(&engine, &exchange).await.unwrap();
            let Some(tokens) = retry.issued() else {
                panic!("a failed exchange burned its code: {retry:?}");
            };
            let again = post_token(&engine, &exchange).await.unwrap();
            assert!(again.issued().is_none(), "a code redeems once");
            assert!(
                !is_live(&store, &tokens.access_token).await,
                "the replay revoked it"
            );
            return (Reached::Exchange, store);
        }
    };
    let refresh_token = tokens.refresh_token.clone().unwrap();
    let refresh = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &refresh_token),
        ("client_id", "app"),
    ]);
    match post_token(&engine, &refresh).await {
        Ok(TokenOutcome::Issued(_)) => (Reached::Done, store),
        Ok(other) => panic!("{other:?}"),
        Err(fault) => {
            assert_fault(&fault, Reached::Refresh);
            // No half-rotation: the refresh token still works, once.
            store.fail_at.store(usize::MAX, Ordering::SeqCst);
            assert!(
                is_live(&store, &refresh_token).await,
                "a failed refresh left the token rotated away"
            );
            let retry = post_token(&engine, &refresh).await.unwrap();
            assert!(
                retry.issued().is_some(),
                "the retry of a failed refresh succeeds: {retry:?}"
            );
            (Reached::Refresh, store)
        }
    }
}

/// Posts `body` to the token endpoint as a form.
async fn post_token<S: Storage, C: Clock>(
    engine: &Engine<S, C>,
    body: &str,
) -> Result<TokenOutcome, Fault> {
    engine
        .token(&FormRequest::new(Some(FORM_CONTENT_TYPE), body.as_bytes()))
        .await
}

fn assert_fault(fault: &Fault, at: Reached) -> Reached {
    assert!(matches!(fault, Fault::Storage(_)), "{fault:?}");
    assert_clean(fault);
    at
}

async fn is_live(store: &FaultyStore, token: &str) -> bool {
    let now = time::macros::datetime!(2030-01-01 0:00 UTC);
    store
        .inner
        .get_token(&SecretHash::of(token))
        .await
        .unwrap()
        .is_some_and(|record| record.is_active(now))
}

#[tokio::test]
async fn sc03_storage_error_at_each_step_is_a_clean_server_error() {
    let mut reached = Vec::new();
    for fail_at in 0.. {
        let (at, _) = run(fail_at).await;
        if at == Reached::Done {
            break;
        }
        reached.push(at);
        assert!(
            fail_at < 50,
            "the flow makes a bounded number of storage calls"
        );
    }
    // Every step met at least one injected failure.
    for step in [
        Reached::Authorize,
        Reached::Approve,
        Reached::Exchange,
        Reached::Refresh,
    ] {
        assert!(
            reached.contains(&step),
            "no failure was injected at {step:?}: {reached:?}"
        );
    }
}

/// A storage error while revoking a user is a clean fault that revokes nothing, and a
/// retry then revokes every grant of the user.
#[tokio::test]
async fn revoking_a_subject_on_a_failing_store_is_a_clean_fault_and_a_retry_revokes() {
    use oauth_core::testing::{Flow, FlowClient};

    let (store, engine) = engine_with_app().await;
    let tokens = Flow::new(&engine, FlowClient::public("app", REDIRECT))
        .login("alice", "read:users")
        .await;
    let refresh_token = tokens.refresh_token.clone().unwrap();

    store
        .fail_at
        .store(store.calls.load(Ordering::SeqCst), Ordering::SeqCst);
    let fault = engine.revoke_subject("alice").await.unwrap_err();
    assert_fault(&fault, Reached::Done);
    assert!(is_live(&store, &tokens.access_token).await);
    assert!(is_live(&store, &refresh_token).await);

    assert_eq!(engine.revoke_subject("alice").await.unwrap(), 2);
    assert!(!is_live(&store, &tokens.access_token).await);
    assert!(!is_live(&store, &refresh_token).await);
}

/// A storage error while removing a client is a clean fault that leaves it registered;
/// a retry removes it.
#[tokio::test]
async fn removing_a_client_on_a_failing_store_is_a_clean_fault_and_a_retry_removes() {
    let (store, engine) = engine_with_app().await;
    let id = ClientId::new("app").unwrap();
    store
        .fail_at
        .store(store.calls.load(Ordering::SeqCst), Ordering::SeqCst);
    let fault = engine.remove_client(&id).await.unwrap_err();
    assert_fault(&fault, Reached::Done);
    assert!(store.inner.get_client(&id).await.unwrap().is_some());
    assert!(engine.remove_client(&id).await.unwrap());
    assert!(store.inner.get_client(&id).await.unwrap().is_none());
}

/// TK-01 when the replay races the first redemption: a request that read the code before
/// the first redemption consumed it, and then passes every check, is a replay all the
/// same. It revokes the first redemption's tokens, whether it finds the code consumed at
/// its own redemption or, the code having expired meanwhile, at the burn of its refusal.
/// The same request with a wrong verifier revokes nothing.
#[tokio::test]
async fn tk01_a_redemption_that_lost_the_race_is_a_replay_and_revokes_the_winner() {
    use oauth_core::testing::{Flow, FlowClient};

    for (expired_meanwhile, right_proof) in [(false, true), (true, true), (false, false)] {
        let (store, engine) = engine_with_app().await;
        let flow = Flow::new(&engine, FlowClient::public("app", REDIRECT));
        let code = flow.code("alice", "read:users").await;
        let first = flow.exchange(&code).await;
        let first = first.issued().expect("the first redemption issues");

        store.stale_code_reads.store(true, Ordering::SeqCst);
        if expired_meanwhile {
            engine.clock().advance(time::Duration::minutes(5));
        }
        let mut late = flow.exchange_form(&code);
        if !right_proof {
            late.retain(|(name, _)| name != "code_verifier");
            late.push(("code_verifier".to_owned(), "w".repeat(43)));
        }
        let late = flow.token_with(&late).await;
        assert!(late.issued().is_none(), "a code redeems once: {late:?}");
        assert_eq!(
            is_live(&store, &first.access_token).await,
            !right_proof,
            "expired meanwhile: {expired_meanwhile}, right proof: {right_proof}"
        );
    }
}
