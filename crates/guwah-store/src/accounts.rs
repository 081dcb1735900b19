//! The account contract: a team server's members and their credentials.
//!
//! The store sees an opaque account key (the vault derives it from the
//! name with a keyed hash, so the name itself is never stored in the
//! clear), the role and disabled flag (which the server must read to
//! authorise, and which hold nothing personal), and sealed bytes it never
//! interprets (the name, the password hash, the second factor). A
//! credential — a session or an API token — is stored only as a hash of
//! its secret, so a copy of the database opens no session.
//!
//! What happened to accounts is not kept here: every login, role change
//! and token issued is an audit record in the log, which lasts as long as
//! the evidence. These tables hold only the current state.

use crate::contract::StoreError;

/// One member of the vault's team, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    /// The account's key: opaque, unique, at most 128 bytes.
    pub key: String,
    /// The role, as the server spells it (`admin`, `reviewer`, ...).
    pub role: String,
    /// A disabled account authenticates no more; it is never deleted, so
    /// that the records naming it keep their meaning.
    pub disabled: bool,
    /// The account's private data, sealed by the caller; opaque here.
    pub sealed: Vec<u8>,
    /// Unix seconds of the last change.
    pub updated_at: i64,
}

/// What a credential opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// A browser session (a cookie), short-lived.
    Session,
    /// An API token for scripts, until revoked.
    Token,
}

impl CredentialKind {
    /// `session` or `token`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::Token => "token",
        }
    }

    /// The kind stored as `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "session" => Some(CredentialKind::Session),
            "token" => Some(CredentialKind::Token),
            _ => None,
        }
    }
}

/// One credential, stored by the hash of its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRow {
    /// Hex hash of the secret (the secret itself is never stored): unique.
    pub hash: String,
    /// Session or token.
    pub kind: CredentialKind,
    /// The key of the account it opens.
    pub account: String,
    /// Unix seconds when it was made.
    pub created_at: i64,
    /// Unix seconds after which it opens nothing; `None` for no expiry.
    pub expires_at: Option<i64>,
    /// Caller's sealed bytes (for a session, its CSRF secret); opaque here.
    pub sealed: Vec<u8>,
}

/// The accounts of a vault served to a team.
///
/// Contract:
/// - Every method is **atomic and durable when it returns**; readers see
///   each write whole or not at all.
/// - `create_account` refuses a key that exists, `update_account` a key
///   that does not, `put_credential` a hash that exists or an account that
///   does not: each with [`StoreError::Conflict`] and no change. Accounts
///   are never deleted.
/// - `credential(hash, now)` answers only a credential that has not
///   expired at `now` (`expires_at > now`) — an expired one is as good as
///   absent, whether or not it has been purged yet.
/// - Keys and hashes are compared as exact strings; `sealed` bytes are
///   never interpreted.
pub trait AccountStore: Send + Sync {
    /// Add a new account.
    fn create_account(&self, row: &AccountRow) -> Result<(), StoreError>;
    /// Replace the stored row of `row.key` (role, flag, sealed data).
    fn update_account(&self, row: &AccountRow) -> Result<(), StoreError>;
    /// The account with `key`.
    fn account(&self, key: &str) -> Result<Option<AccountRow>, StoreError>;
    /// Every account, ordered by key.
    fn accounts(&self) -> Result<Vec<AccountRow>, StoreError>;
    /// Store a new credential.
    fn put_credential(&self, row: &CredentialRow) -> Result<(), StoreError>;
    /// The credential with `hash`, if it exists and has not expired at `now`.
    fn credential(&self, hash: &str, now: i64) -> Result<Option<CredentialRow>, StoreError>;
    /// Every unexpired credential of `account` at `now`, oldest first.
    fn credentials_of(&self, account: &str, now: i64) -> Result<Vec<CredentialRow>, StoreError>;
    /// Delete the credential with `hash`; whether it existed.
    fn delete_credential(&self, hash: &str) -> Result<bool, StoreError>;
    /// Delete every credential of `account` (only of `kind` when given);
    /// how many went.
    fn delete_credentials_of(
        &self,
        account: &str,
        kind: Option<CredentialKind>,
    ) -> Result<u64, StoreError>;
    /// Delete every credential expired at `now`; how many went.
    fn purge_expired(&self, now: i64) -> Result<u64, StoreError>;
}
