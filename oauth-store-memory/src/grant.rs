//! What the records of one grant have in common, stored once.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use oauth_core::storage::{CodeRecord, GrantId, GrantRecord, SignIn, TokenRecord};
use oauth_core::{ClientId, ScopeSet, SecretHash, StorageError, StorageErrorKind};

use crate::bound_key::BoundKey;
use crate::challenge::PackedChallenge;
use crate::moment::Moment;
use crate::profile::Profile;
use crate::text::Text;

/// The grant was revoked: its tokens read back revoked, and nothing more is issued for it.
const REVOKED: u64 = 1 << 63;
/// A grant record was stored for it (by `issue`); until then it is only its code's data.
const ISSUED: u64 = 1 << 62;
/// Its code was consumed.
const CONSUMED: u64 = 1 << 61;
/// How many of its tokens are in the store and were not revoked one by one: what
/// revoking the grant answers, kept as a count instead of a list of token hashes.
const LIVE: u64 = (1 << 48) - 1;

/// One grant's identity, scope and lifetime, and its code's PKCE challenge and expiry:
/// shared through `Arc` by its code, its grant record (the key in the grants map) and
/// its tokens, which thus hold one pointer each instead of copies. Records are rebuilt
/// from it on read.
///
/// A code's data is made by `insert_code`, and becomes the grant record's when `issue`
/// stores a record it describes (the engine builds the record from the code, so it
/// does). A record, or a token, that differs gets data of its own; a token's then names
/// the grant it belongs to as its `owner`, whose revocation and live count it shares.
/// Data is shared by at most one code, so the `CONSUMED` bit is that code's.
///
/// A code's data keeps the code's sign-in, nonce included; a token that points at it
/// reads that sign-in less its nonce (what the engine gives a grant's refresh tokens)
/// when its entry says it has one (see [`Grant::carries`]). A token's own identity keeps
/// the token's sign-in as it is. The DPoP key binding is kept the same way, but read
/// back as it is from either: a token that points at a code's data reads the code's key
/// when its entry says it is bound (the engine binds a bound code's tokens to its key).
#[derive(Debug)]
pub(crate) struct Grant {
    id: Text,
    subject: Option<Text>,
    profile: Arc<Profile>,
    created_at: Moment,
    expires_at: Moment,
    code: Option<CodeFacts>,
    /// What few grants have (a token's own identity's owner, an OpenID Connect sign-in,
    /// a DPoP key binding), behind one pointer: the plain OAuth grant, most of them,
    /// pays 8 null bytes for all three, which keeps its data in the allocator's smaller
    /// size class.
    extras: Option<Box<Extras>>,
    /// `REVOKED`, `ISSUED`, `CONSUMED` and the `LIVE` count. Atomic so that a token can
    /// read its grant's revocation, and a token revoked or purged alone can update the
    /// count, without the grant's shard lock; the changes that must be atomic with
    /// storing tokens (issue, rotation, revoking the grant) also hold that lock.
    state: AtomicU64,
}

/// The rarer parts of a grant's data.
#[derive(Debug)]
struct Extras {
    /// For a token's own identity: the grant it belongs to.
    owner: Option<Arc<Grant>>,
    /// The sign-in, kept whole, so that fields a later `SignIn` gains are kept too.
    sign_in: Option<SignIn>,
    /// The DPoP key bound to, behind a pointer of its own: in 8 bytes, the extras of an
    /// OpenID Connect grant stay in their size class (see the size test below).
    dpop_jkt: Option<Box<BoundKey>>,
}

impl Extras {
    /// `None` when there is nothing to keep.
    fn of(
        owner: Option<Arc<Grant>>,
        sign_in: Option<SignIn>,
        dpop_jkt: Option<&str>,
    ) -> Option<Box<Self>> {
        (owner.is_some() || sign_in.is_some() || dpop_jkt.is_some()).then(|| {
            Box::new(Self {
                owner,
                sign_in,
                dpop_jkt: dpop_jkt.map(BoundKey::new),
            })
        })
    }
}

/// What only a code has.
#[derive(Debug, Clone, Copy)]
struct CodeFacts {
    challenge: Option<PackedChallenge>,
    expires_at: Moment,
}

impl Grant {
    /// The data of a new code.
    pub(crate) fn of_code(code: &CodeRecord, profile: Arc<Profile>) -> Result<Self, StorageError> {
        let challenge = code
            .code_challenge
            .as_ref()
            .map(PackedChallenge::new)
            .transpose()?;
        Ok(Self {
            id: Text::new(code.grant_id.as_str()),
            subject: Some(Text::new(&code.subject)),
            profile,
            created_at: Moment::new(code.issued_at)?,
            expires_at: Moment::new(code.grant_expires_at)?,
            code: Some(CodeFacts {
                challenge,
                expires_at: Moment::new(code.expires_at)?,
            }),
            extras: Extras::of(None, code.sign_in.clone(), code.dpop_jkt.as_deref()),
            state: AtomicU64::new(0),
        })
    }

    /// The data of a grant record that no code's data describes (`profile` has its client
    /// and scope), already issued.
    pub(crate) fn of_grant(
        grant: &GrantRecord,
        created_at: Moment,
        expires_at: Moment,
        profile: Arc<Profile>,
    ) -> Self {
        Self {
            id: Text::new(grant.id.as_str()),
            subject: grant.subject.as_deref().map(Text::new),
            profile,
            created_at,
            expires_at,
            code: None,
            // No owner, no sign-in and no DPoP key (a grant record has none of them:
            // tokens with one get their own identity).
            extras: None,
            state: AtomicU64::new(ISSUED),
        }
    }

    /// The identity of a token that differs from its grant's (`profile` has the token's
    /// client and scope), belonging to `owner`.
    pub(crate) fn of_token(
        token: &TokenRecord,
        grant_expires_at: Moment,
        profile: Arc<Profile>,
        owner: Arc<Grant>,
    ) -> Self {
        Self {
            id: Text::new(token.grant_id.as_str()),
            subject: token.subject.as_deref().map(Text::new),
            profile,
            // A token record has no grant creation time; this is never read.
            created_at: owner.created_at,
            expires_at: grant_expires_at,
            code: None,
            extras: Extras::of(
                Some(owner),
                token.sign_in.clone(),
                token.dpop_jkt.as_deref(),
            ),
            state: AtomicU64::new(0),
        }
    }

    /// Whether this is the data of `grant` (a code's redirect URI, code facts, sign-in
    /// and DPoP key aside, which a grant record does not have).
    pub(crate) fn describes(
        &self,
        grant: &GrantRecord,
        created_at: Moment,
        expires_at: Moment,
    ) -> bool {
        self.owner().is_none()
            && self.id.is(grant.id.as_str())
            && self.profile.client_id == grant.client_id
            && self.profile.scope == grant.scope
            && same_subject(self.subject.as_ref(), grant.subject.as_deref())
            && self.created_at == created_at
            && self.expires_at == expires_at
    }

    /// Whether `token` carries exactly this identity, so that it can point here.
    pub(crate) fn identifies(&self, token: &TokenRecord, grant_expires_at: Moment) -> bool {
        self.id.is(token.grant_id.as_str())
            && self.profile.client_id == token.client_id
            && self.profile.scope == token.scope
            && same_subject(self.subject.as_ref(), token.subject.as_deref())
            && self.expires_at == grant_expires_at
            && token
                .sign_in
                .as_ref()
                .is_none_or(|sign_in| self.carries(sign_in))
            && token
                .dpop_jkt
                .as_deref()
                .is_none_or(|jkt| self.dpop_jkt().is_some_and(|own| own.is(jkt)))
    }

    /// Whether `sign_in` is what a token pointing here reads back as its own: see
    /// [`Grant::token_sign_in`]. A token without one needs no check (its entry says so).
    fn carries(&self, sign_in: &SignIn) -> bool {
        match (&self.code, self.sign_in()) {
            // Only a grant's refresh tokens carry its sign-in, and rarely: the copy
            // made to compare costs an OpenID Connect issuance, not every read.
            (Some(_), Some(own)) => sign_in.nonce.is_none() && own.without_nonce() == *sign_in,
            (None, Some(own)) => own == sign_in,
            (_, None) => false,
        }
    }

    /// The sign-in of a token that points here and has one: for a code's data, the
    /// code's less its nonce; for a token's own identity, the token's.
    pub(crate) fn token_sign_in(&self) -> Result<SignIn, StorageError> {
        let Some(own) = self.sign_in() else {
            return Err(StorageError::new(
                StorageErrorKind::Corrupt,
                "a token with a sign-in points at data with none",
            ));
        };
        Ok(match self.code {
            Some(_) => own.without_nonce(),
            None => own.clone(),
        })
    }

    /// The DPoP key binding of a token that points here and has one: what is kept here,
    /// the code's or the token's own identity's (see [`Grant::identifies`]).
    pub(crate) fn token_dpop_jkt(&self) -> Result<String, StorageError> {
        self.dpop_jkt().map(BoundKey::to_text).ok_or_else(|| {
            StorageError::new(
                StorageErrorKind::Corrupt,
                "a token bound to a DPoP key points at data with none",
            )
        })
    }

    /// The code record this data was made from, with its `hash`.
    pub(crate) fn code_record(&self, hash: SecretHash) -> Result<CodeRecord, StorageError> {
        let (Some(code), Some(subject)) = (self.code, &self.subject) else {
            return Err(StorageError::new(
                StorageErrorKind::Corrupt,
                "a code whose data was not made from a code",
            ));
        };
        // The code's subject is its own field; the grant it is built from leaves it out.
        let grant = GrantRecord::new(
            self.grant_id()?,
            self.profile.client_id.clone(),
            None,
            self.profile.scope.clone(),
            self.created_at.get()?,
            self.expires_at.get()?,
        );
        let mut record = CodeRecord::new(hash, grant, subject.to_text()?, code.expires_at.get()?);
        record.redirect_uri = self.profile.redirect_uri.as_deref().map(str::to_owned);
        record.code_challenge = code
            .challenge
            .as_ref()
            .map(PackedChallenge::get)
            .transpose()?;
        record.sign_in = self.sign_in().cloned();
        record.dpop_jkt = self.dpop_jkt().map(BoundKey::to_text);
        Ok(record)
    }

    /// Whether this is the data of a grant of the user `subject`.
    pub(crate) fn is_of_subject(&self, subject: &str) -> bool {
        self.subject.as_ref().is_some_and(|own| own.is(subject))
    }

    pub(crate) fn id_bytes(&self) -> &[u8] {
        self.id.as_bytes()
    }

    pub(crate) fn grant_id(&self) -> Result<GrantId, StorageError> {
        Ok(GrantId(self.id.to_text()?))
    }

    pub(crate) fn client_id(&self) -> &ClientId {
        &self.profile.client_id
    }

    pub(crate) fn subject(&self) -> Result<Option<String>, StorageError> {
        self.subject.as_ref().map(Text::to_text).transpose()
    }

    pub(crate) fn scope(&self) -> &ScopeSet {
        &self.profile.scope
    }

    /// When the grant ends (for a token's identity: the token's `grant_expires_at`).
    pub(crate) fn expires_at(&self) -> Moment {
        self.expires_at
    }

    /// Until when a code with this data must be kept: its own expiry while unused, the
    /// grant's once consumed (replay detection needs it until then).
    pub(crate) fn code_kept_until(&self) -> Moment {
        match self.code {
            Some(code) if !self.is_consumed() => code.expires_at,
            _ => self.expires_at,
        }
    }

    /// The grant whose revocation and live count apply: the owner of a token's own
    /// identity, or this.
    fn root(&self) -> &Grant {
        self.owner().map_or(self, |owner| owner)
    }

    /// For a token's own identity: the grant it belongs to.
    fn owner(&self) -> Option<&Grant> {
        self.extras
            .as_ref()
            .and_then(|extras| extras.owner.as_deref())
    }

    /// The sign-in kept here, if any.
    fn sign_in(&self) -> Option<&SignIn> {
        self.extras
            .as_ref()
            .and_then(|extras| extras.sign_in.as_ref())
    }

    /// The DPoP key binding kept here, if any.
    fn dpop_jkt(&self) -> Option<&BoundKey> {
        self.extras
            .as_ref()
            .and_then(|extras| extras.dpop_jkt.as_deref())
    }

    pub(crate) fn is_revoked(&self) -> bool {
        self.root().state.load(Ordering::Acquire) & REVOKED != 0
    }

    pub(crate) fn is_issued(&self) -> bool {
        self.state.load(Ordering::Acquire) & ISSUED != 0
    }

    /// Marks that a grant record is stored for this data (the caller holds its shard).
    pub(crate) fn mark_issued(&self) {
        self.state.fetch_or(ISSUED, Ordering::AcqRel);
    }

    /// Consumes the code; `true` for the one call that did.
    pub(crate) fn consume(&self) -> bool {
        self.state.fetch_or(CONSUMED, Ordering::AcqRel) & CONSUMED == 0
    }

    /// Whether the code was consumed.
    pub(crate) fn is_consumed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CONSUMED != 0
    }

    /// Counts `tokens` more live tokens (the caller holds the grant's shard).
    pub(crate) fn add_live(&self, tokens: u64) {
        self.root().state.fetch_add(tokens, Ordering::AcqRel);
    }

    /// One live token of the grant was revoked alone or removed. Once the grant is
    /// revoked the count is what revoking it answered, and stays.
    pub(crate) fn token_gone(&self) {
        // `None` (nothing to change) is not a failure: the update is skipped on purpose.
        let _ = self
            .root()
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                (state & REVOKED == 0 && state & LIVE != 0).then(|| state - 1)
            });
    }

    /// Revokes the grant; answers how many of its tokens this revoked (zero the second
    /// time). The caller holds the grant's shard, so no issue or rotation interleaves.
    pub(crate) fn revoke(&self) -> u64 {
        let before = self.root().state.fetch_or(REVOKED, Ordering::AcqRel);
        if before & REVOKED == 0 {
            before & LIVE
        } else {
            0
        }
    }

    /// The live count.
    #[cfg(test)]
    pub(crate) fn live(&self) -> u64 {
        self.root().state.load(Ordering::Acquire) & LIVE
    }

    /// Whether this data is `other`'s (the same allocation).
    #[cfg(test)]
    pub(crate) fn owner_is(&self, other: &Arc<Grant>) -> bool {
        self.owner()
            .is_some_and(|owner| std::ptr::eq(owner, Arc::as_ptr(other)))
    }
}

fn same_subject(stored: Option<&Text>, subject: Option<&str>) -> bool {
    match (stored, subject) {
        (Some(stored), Some(subject)) => stored.is(subject),
        (None, None) => true,
        _ => false,
    }
}

/// A grant in the grants map: its data, found by the bytes of its id (the id is stored
/// once, in the data).
#[derive(Debug)]
pub(crate) struct GrantKey(pub(crate) Arc<Grant>);

impl PartialEq for GrantKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.id_bytes() == other.0.id_bytes()
    }
}

impl Eq for GrantKey {}

impl Hash for GrantKey {
    // As `[u8]` hashes, which `Borrow<[u8]>` requires.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.id_bytes().hash(state);
    }
}

impl Borrow<[u8]> for GrantKey {
    fn borrow(&self) -> &[u8] {
        self.0.id_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grant's data is what every live grant pays; a plain OAuth grant pays one null
    /// pointer of it for the owner, the sign-in and the DPoP key it does not have. 136
    /// bytes and the `Arc`'s 16 fit glibc's 160-byte chunk; 8 more would take the
    /// 176-byte one.
    #[test]
    fn grant_data_is_136_bytes_with_one_pointer_for_owner_sign_in_and_dpop_key() {
        assert_eq!(std::mem::size_of::<Option<Box<Extras>>>(), 8);
        assert_eq!(std::mem::size_of::<Grant>(), 136);
    }

    /// The extras of an OpenID Connect grant, bound or not, take a 112-byte chunk of
    /// glibc's (104 bytes and its 8-byte header); a DPoP key kept in two words rather
    /// than one would take them to the 128-byte one.
    #[test]
    fn extras_are_104_bytes_with_one_pointer_for_the_dpop_key() {
        assert_eq!(std::mem::size_of::<Extras>(), 104);
    }
}
