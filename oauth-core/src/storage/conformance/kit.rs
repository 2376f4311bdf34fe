//! The kit's fixtures: records with random keys, whole-second times (the contract keeps
//! times to the second), and the checks every property shares.

use super::*;

/// The result of a store call that must succeed; a failure is a kit failure.
#[track_caller]
pub(super) fn ok<T>(result: Result<T, StorageError>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("storage conformance: {what} failed: {error}"),
    }
}

#[track_caller]
pub(super) fn scopes(text: &str) -> ScopeSet {
    ScopeSet::parse(text).unwrap_or_else(|e| panic!("kit scope {text:?}: {e}"))
}

#[track_caller]
pub(super) fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or_else(|e| panic!("kit time {unix}: {e}"))
}

/// A subject with characters from several scripts, an emoji, quotes and a backslash.
pub(super) const UNICODE_SUBJECT: &str = "Zoë Ångström 🦀 用户 «ユーザー» \"q\" 'x' \\ ; -- ";

/// A nonce as a client may send one: several scripts, an emoji, quotes (JSON's and
/// SQL's), a backslash and a brace, which a store keeping the sign-in as text must escape.
pub(super) const UNICODE_NONCE: &str = "n-0S6_WzA2Mj \"quoted\" 'single' \\ {}; Ünïcødé 🦀 ノンス";

/// Makes records with random keys.
pub(super) struct Kit {
    random: RandomSource,
    /// Where the times of this property's records start (whole seconds).
    base: OffsetDateTime,
}

impl Kit {
    /// Records around 2030, the region every property but the purge one uses.
    pub(super) fn new() -> Self {
        Self::at(at(1_893_456_000)) // 2030-01-01T00:00:00Z
    }

    pub(super) fn at(base: OffsetDateTime) -> Self {
        Self {
            random: RandomSource::new(),
            base,
        }
    }

    pub(super) fn t(&self, seconds: i64) -> OffsetDateTime {
        self.base + Duration::seconds(seconds)
    }

    pub(super) fn hash(&self) -> SecretHash {
        let mut bytes = [0u8; 32];
        self.random
            .fill(&mut bytes)
            .unwrap_or_else(|e| panic!("kit random: {e}"));
        SecretHash(bytes)
    }

    pub(super) fn id(&self) -> String {
        self.random
            .id()
            .unwrap_or_else(|e| panic!("kit random: {e}"))
    }

    pub(super) fn client_id(&self) -> ClientId {
        ClientId::new(format!("kit-{}", self.id())).unwrap_or_else(|e| panic!("kit client: {e}"))
    }

    /// A subject of its own (random), for the properties that select by subject.
    pub(super) fn subject(&self) -> String {
        format!("{UNICODE_SUBJECT}{}", self.id())
    }

    /// A grant of a user, ending at `t(ends)`.
    pub(super) fn grant(&self, ends: i64) -> GrantRecord {
        self.grant_of(Some(UNICODE_SUBJECT), ends)
    }

    /// A grant of `subject` (`None`: a client's own), ending at `t(ends)`, on a client
    /// of its own.
    pub(super) fn grant_of(&self, subject: Option<&str>, ends: i64) -> GrantRecord {
        GrantRecord::new(
            GrantId(format!("kit-grant-{}", self.id())),
            self.client_id(),
            subject.map(str::to_owned),
            scopes("openid read:users write:users"),
            self.t(0),
            self.t(ends),
        )
    }

    /// A token of `kind` for `grant`, expiring at `t(expires)`.
    pub(super) fn token(&self, grant: &GrantRecord, kind: TokenKind, expires: i64) -> TokenRecord {
        TokenRecord::new(
            self.hash(),
            kind,
            grant.clone(),
            grant.scope.clone(),
            self.t(0),
            self.t(expires),
        )
    }

    /// An access and a refresh token for `grant` (3600 s and the grant's end).
    pub(super) fn pair(&self, grant: &GrantRecord) -> Vec<TokenRecord> {
        let refresh_ends = (grant.expires_at - self.base).whole_seconds();
        vec![
            self.token(grant, TokenKind::Access, 3600),
            self.token(grant, TokenKind::Refresh, refresh_ends),
        ]
    }

    /// A sign-in with every field set: an `acr`, several `amr` values, a nonce
    /// ([`UNICODE_NONCE`]) and an `auth_time` a minute before `t(0)`.
    pub(super) fn sign_in(&self) -> SignIn {
        let mut sign_in = SignIn::new(self.t(-60));
        sign_in.acr = Some("urn:mace:incommon:iap:silver".to_owned());
        sign_in.amr = vec!["pwd".to_owned(), "otp".to_owned(), "hwk".to_owned()];
        sign_in.nonce = Some(UNICODE_NONCE.to_owned());
        sign_in
    }

    /// A DPoP key binding of its own (random): a SHA-256 thumbprint as RFC 7638 writes
    /// one, 43 characters of base64url.
    pub(super) fn jkt(&self) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        URL_SAFE_NO_PAD.encode(self.hash().0)
    }

    /// A code for a new grant, expiring at `t(expires)`, its grant ending at `t(grant_ends)`.
    pub(super) fn code(&self, expires: i64, grant_ends: i64) -> CodeRecord {
        let grant = GrantRecord::new(
            GrantId(format!("kit-grant-{}", self.id())),
            self.client_id(),
            Some(UNICODE_SUBJECT.to_owned()),
            scopes("openid read:users"),
            self.t(0),
            self.t(grant_ends),
        );
        let mut code = CodeRecord::new(self.hash(), grant, UNICODE_SUBJECT, self.t(expires));
        code.redirect_uri = Some("https://kit.example/cb?next=%2Fhome&x=1".to_owned());
        code.code_challenge = Some(CodeChallenge::from_verifier(&self.id().repeat(3)));
        code
    }
}

pub(super) async fn issue_ok<S: TokenStore + ?Sized>(
    store: &S,
    grant: &GrantRecord,
    tokens: &[TokenRecord],
) {
    let issued = ok(store.issue(grant, tokens).await, "issue");
    assert_eq!(
        issued,
        Issuance::Issued,
        "storage conformance: issue for a grant never revoked must store the tokens"
    );
}

/// `issue` for a revoked grant: `GrantRevoked` (`why` says which revocation the
/// property made), and none of `tokens` stored.
pub(super) async fn issue_refused<S: TokenStore + ?Sized>(
    store: &S,
    grant: &GrantRecord,
    tokens: &[TokenRecord],
    why: &str,
) {
    assert_eq!(
        ok(store.issue(grant, tokens).await, "issue"),
        Issuance::GrantRevoked,
        "storage conformance: {why}"
    );
    for token in tokens {
        assert_eq!(
            token_of(store, &token.hash).await,
            None,
            "storage conformance: GrantRevoked must store nothing"
        );
    }
}

/// Stores `code` as an approval does, under a one-time key of its own.
pub(super) async fn insert_code<S: CodeStore + ?Sized>(store: &S, kit: &Kit, code: CodeRecord) {
    let expires_at = code.expires_at;
    assert!(
        ok(
            store
                .use_once_and_insert_code(&kit.hash(), expires_at, code)
                .await,
            "use_once_and_insert_code"
        ),
        "storage conformance: use_once_and_insert_code with a fresh key must store the code"
    );
}

pub(super) async fn token_of<S: TokenStore + ?Sized>(
    store: &S,
    hash: &SecretHash,
) -> Option<TokenRecord> {
    ok(store.get_token(hash).await, "get_token")
}

#[track_caller]
pub(super) fn expect_conflict<T: std::fmt::Debug>(result: Result<T, StorageError>, what: &str) {
    match result {
        Err(error) => assert_eq!(
            error.kind(),
            StorageErrorKind::Conflict,
            "storage conformance: {what} must fail with kind Conflict, got {error}"
        ),
        Ok(value) => {
            panic!("storage conformance: {what} must be refused (Conflict), got {value:?}")
        }
    }
}

/// How many calls [`purge_all`] makes at most before it calls the store's `more` stuck.
const MAX_PURGE_STEPS: usize = 10_000;

/// Purges what can go at `before` as the engine does, in calls of at most `limit` records
/// of each kind until one answers `more == false`, checking every call against the limit;
/// answers the totals.
pub(super) async fn purge_all<S: TokenStore + ?Sized>(
    store: &S,
    before: OffsetDateTime,
    limit: usize,
) -> PurgeReport {
    let mut total = PurgeReport::default();
    for _ in 0..MAX_PURGE_STEPS {
        let step = ok(
            store.purge_expired_batch(before, limit).await,
            "purge_expired_batch",
        );
        let bound = limit.max(1) as u64;
        assert!(
            step.codes <= bound
                && step.tokens <= bound
                && step.grants <= bound
                && step.uses <= bound,
            "storage conformance: purge_expired_batch with limit {limit} must remove at most \
             {limit} records of each kind, removed {step:?}"
        );
        total = total + step;
        if !step.more {
            // The purge as a whole is over: nothing is left.
            total.more = false;
            return total;
        }
    }
    panic!(
        "storage conformance: purge_expired_batch still answered `more` after \
         {MAX_PURGE_STEPS} calls"
    );
}

/// Runs [`RACERS`] futures made by `make` as tasks that all start together (each waits
/// at one barrier first), and answers their outputs in the order they were made.
pub(super) async fn race<F, Fut>(mut make: F) -> Vec<Fut::Output>
where
    F: FnMut() -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let (barrier, racer) = (barrier.clone(), make());
            tokio::spawn(async move {
                barrier.wait().await;
                racer.await
            })
        })
        .collect();
    let mut outputs = Vec::with_capacity(RACERS);
    for task in tasks {
        outputs.push(task.await.unwrap_or_else(|e| task_failed(&e)));
    }
    outputs
}

/// Runs `first` and `second` as two tasks that start together (each waits at one barrier
/// first), and answers both outputs: a revocation racing the write it must not miss.
pub(super) async fn race_pair<A, B>(first: A, second: B) -> (A::Output, B::Output)
where
    A: Future + Send + 'static,
    A::Output: Send + 'static,
    B: Future + Send + 'static,
    B::Output: Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let first = {
        let barrier = barrier.clone();
        tokio::spawn(async move {
            barrier.wait().await;
            first.await
        })
    };
    let second = tokio::spawn(async move {
        barrier.wait().await;
        second.await
    });
    (
        first.await.unwrap_or_else(|e| task_failed(&e)),
        second.await.unwrap_or_else(|e| task_failed(&e)),
    )
}

fn task_failed(error: &tokio::task::JoinError) -> ! {
    panic!("storage conformance: a racing task failed: {error}")
}
