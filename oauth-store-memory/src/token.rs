//! Stored tokens.

use std::sync::Arc;

use oauth_core::storage::{GrantRecord, TokenKind, TokenRecord};
use oauth_core::{SecretHash, StorageError};

use crate::grant::Grant;
use crate::moment::Moment;

const ACCESS: u8 = 0;
const REFRESH: u8 = 1;
const JWT_ACCESS: u8 = 2;
const KIND: u8 = 0b11;
/// Revoked alone (a token also reads back revoked when its grant is).
const REVOKED: u8 = 1 << 2;
const ROTATED: u8 = 1 << 3;
/// It has a sign-in: its grant's, or its own identity's ([`Grant::token_sign_in`]). A
/// bit rather than a field, so that a token pays nothing for it.
const SIGN_IN: u8 = 1 << 4;
/// It is bound to a DPoP key: its grant's, or its own identity's
/// ([`Grant::token_dpop_jkt`]). A bit, as `SIGN_IN` is.
const DPOP_JKT: u8 = 1 << 5;

/// A token as the tokens map holds it, beside its 32-byte hash: a pointer to its grant's
/// data (or to its own identity, for a token that differs from its grant), its two own
/// instants, and its kind and state in one byte. 32 bytes, where a `TokenRecord` is 280
/// plus four heap blocks or more.
#[derive(Debug)]
pub(crate) struct TokenEntry {
    grant: Arc<Grant>,
    issued_at: Moment,
    expires_at: Moment,
    flags: u8,
}

impl TokenEntry {
    /// `record`, pointing at `grant` (which carries its identity, sign-in and DPoP key
    /// included: see [`Grant::identifies`]).
    pub(crate) fn new(record: &TokenRecord, grant: Arc<Grant>) -> Result<Self, StorageError> {
        let kind = match record.kind {
            TokenKind::Access => ACCESS,
            TokenKind::Refresh => REFRESH,
            TokenKind::JwtAccess => JWT_ACCESS,
        };
        let revoked = if record.revoked { REVOKED } else { 0 };
        let rotated = if record.rotated { ROTATED } else { 0 };
        let sign_in = if record.sign_in.is_some() { SIGN_IN } else { 0 };
        let dpop_jkt = if record.dpop_jkt.is_some() {
            DPOP_JKT
        } else {
            0
        };
        Ok(Self {
            grant,
            issued_at: Moment::new(record.issued_at)?,
            expires_at: Moment::new(record.expires_at)?,
            flags: kind | revoked | rotated | sign_in | dpop_jkt,
        })
    }

    pub(crate) fn kind(&self) -> TokenKind {
        match self.flags & KIND {
            ACCESS => TokenKind::Access,
            REFRESH => TokenKind::Refresh,
            _ => TokenKind::JwtAccess,
        }
    }

    /// Its grant's data, or its own identity.
    pub(crate) fn grant(&self) -> &Arc<Grant> {
        &self.grant
    }

    /// Revoked alone or with its grant.
    pub(crate) fn is_revoked(&self) -> bool {
        self.flags & REVOKED != 0 || self.grant.is_revoked()
    }

    pub(crate) fn is_rotated(&self) -> bool {
        self.flags & ROTATED != 0
    }

    /// Whether its grant counts it live (it was not revoked alone).
    pub(crate) fn counted_live(&self) -> bool {
        self.flags & REVOKED == 0
    }

    /// Revokes this token alone.
    pub(crate) fn revoke(&mut self) {
        if self.counted_live() {
            self.flags |= REVOKED;
            self.grant.token_gone();
        }
    }

    pub(crate) fn rotate(&mut self) {
        self.flags |= ROTATED;
    }

    /// Called as the entry leaves the map (purged or replaced): its grant stops counting it.
    pub(crate) fn forget(&self) {
        if self.counted_live() {
            self.grant.token_gone();
        }
    }

    /// When it can be purged: an access token (or JWT record) at its expiry; a refresh
    /// token at its grant's end, as a rotated-away one is what detects reuse.
    pub(crate) fn kept_until(&self) -> Moment {
        match self.kind() {
            TokenKind::Access | TokenKind::JwtAccess => self.expires_at,
            TokenKind::Refresh => self.grant.expires_at(),
        }
    }

    /// The record, rebuilt.
    pub(crate) fn record(&self, hash: SecretHash) -> Result<TokenRecord, StorageError> {
        // The grant as far as a token knows it: its start is not part of a token, and
        // `TokenRecord::new` reads only the grant's id, client, subject and end.
        let issued_at = self.issued_at.get()?;
        let grant = GrantRecord::new(
            self.grant.grant_id()?,
            self.grant.client_id().clone(),
            self.grant.subject()?,
            self.grant.scope().clone(),
            issued_at,
            self.grant.expires_at().get()?,
        );
        let mut record = TokenRecord::new(
            hash,
            self.kind(),
            grant,
            self.grant.scope().clone(),
            issued_at,
            self.expires_at.get()?,
        );
        record.revoked = self.is_revoked();
        record.rotated = self.is_rotated();
        if self.flags & SIGN_IN != 0 {
            record.sign_in = Some(self.grant.token_sign_in()?);
        }
        if self.flags & DPOP_JKT != 0 {
            record.dpop_jkt = Some(self.grant.token_dpop_jkt()?);
        }
        Ok(record)
    }
}
