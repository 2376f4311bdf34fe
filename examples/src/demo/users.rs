//! The demo's users and what each may grant.

use super::*;

/// The demo's users, with their passwords kept as salted PBKDF2-HMAC-SHA256 derivations.
pub(super) struct Users {
    users: BTreeMap<&'static str, PasswordHash>,
    /// Checked for unknown names, so that they take as long as known ones.
    decoy: PasswordHash,
}

pub(super) struct PasswordHash {
    salt: [u8; 16],
    derived: [u8; 32],
}

pub(super) const PASSWORD_ITERATIONS: NonZeroU32 = match NonZeroU32::new(100_000) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

impl PasswordHash {
    pub(super) fn new(password: &str, random: &RandomSource) -> Result<Self, StartError> {
        let mut salt = [0u8; 16];
        random.fill(&mut salt)?;
        let mut derived = [0u8; 32];
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            PASSWORD_ITERATIONS,
            &salt,
            password.as_bytes(),
            &mut derived,
        );
        Ok(Self { salt, derived })
    }

    /// ring's `verify` compares in constant time.
    fn verify(&self, password: &str) -> bool {
        ring::pbkdf2::verify(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            PASSWORD_ITERATIONS,
            &self.salt,
            password.as_bytes(),
            &self.derived,
        )
        .is_ok()
    }
}

impl Users {
    pub(super) fn new() -> Result<Self, StartError> {
        let random = RandomSource::new();
        let mut users = BTreeMap::new();
        for (name, password, _) in USERS {
            users.insert(name, PasswordHash::new(password, &random)?);
        }
        let decoy = PasswordHash::new(&random.secret()?, &random)?;
        Ok(Self { users, decoy })
    }

    /// The limiter's key for attempts at `username`: the name itself for a demo user; for
    /// any other name (which may be long, or a password typed in the wrong field, and is
    /// logged when limited) a digest of it, so keys stay short and say nothing typed.
    pub(super) fn limit_key(&self, username: &str) -> String {
        if self.users.contains_key(username) {
            format!("login:{username}")
        } else {
            let digest = ring::digest::digest(&ring::digest::SHA256, username.as_bytes());
            format!("login:#{}", URL_SAFE_NO_PAD.encode(&digest.as_ref()[..12]))
        }
    }

    pub(super) fn check(&self, username: &str, password: &str) -> bool {
        match self.users.get(username) {
            Some(hash) => hash.verify(password),
            None => {
                let _ = self.decoy.verify(password);
                false
            }
        }
    }
}

/// What each user may grant: alice everything, bob `read:users` only, and both the
/// OpenID Connect scopes. A client acting
/// for itself (client credentials) keeps what its registration allows.
#[derive(Debug)]
pub struct DemoScopes {
    by_user: BTreeMap<&'static str, ScopeSet>,
}

impl DemoScopes {
    /// The demo users' scopes.
    pub fn new() -> Result<Self, StartError> {
        let mut by_user = BTreeMap::new();
        for (name, _, scopes) in USERS {
            by_user.insert(name, ScopeSet::parse(&format!("{OPENID_SCOPES} {scopes}"))?);
        }
        Ok(Self { by_user })
    }
}

#[async_trait]
impl ScopePolicy for DemoScopes {
    async fn permitted(
        &self,
        _client: &Client,
        subject: Option<&str>,
        asked: &ScopeSet,
    ) -> ScopeSet {
        match subject {
            None => asked.clone(),
            Some(user) => match self.by_user.get(user) {
                Some(allowed) => asked.intersection(allowed),
                None => ScopeSet::default(),
            },
        }
    }
}
