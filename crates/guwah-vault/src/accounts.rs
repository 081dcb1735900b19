//! A team's accounts: roles, passwords, sessions, API tokens, and the audit
//! record every change and every sign-in leaves in the log.
//!
//! What is stored ([`guwah_store::AccountStore`]): each account under a
//! keyed hash of its name (so the database names nobody), with its role
//! and disabled flag in the clear (the server authorises on them) and its
//! name and Argon2id password hash sealed with a key derived from the
//! vault's master key. Sessions and tokens are stored by the SHA-256 of
//! their 256-bit secret, never the secret.
//!
//! What is recorded: an audit record (`guwah/audit/v1`, docs/format.md) in
//! the vault's own log for every account added, role changed, account
//! disabled, password changed, token issued, sign-in and refused sign-in —
//! sealed *before* the change it records, like an `exported` event before
//! the bytes, so nothing happens without its record.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use guwah_core::record::{AuditAction, Record, hex32};

mod totp;
use guwah_store::{AccountRow, CredentialKind, CredentialRow, EntryKind};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
pub use totp::TotpEnrollment;
use zeroize::Zeroizing;

use crate::crypto;
use crate::error::VaultError;
use crate::index::Private;
use crate::vault::{Vault, timestamp_now};

/// How long a browser session lasts: a working day.
pub const SESSION_SECONDS: i64 = 12 * 3600;
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
const MAX_PASSWORD_BYTES: usize = 1024;
const MAX_NAME_CHARS: usize = 64;
/// Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane):
/// about 50 ms a guess on a laptop core.
const ARGON2_M_KIB: u32 = 19 * 1024;
const ARGON2_T: u32 = 2;
const ARGON2_P: u32 = 1;
const TOKEN_PREFIX: &str = "gwt_";
const SESSION_PREFIX: &str = "gws_";

/// What a member of the team may do; the server maps each to its routes
/// (docs/server.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Accounts and settings, and the audit trail; no evidence.
    Admin,
    /// Everything a reviewer does, plus exports and submissions.
    Coordinator,
    /// Read, search, annotate, download originals.
    Reviewer,
    /// Submit; sees only their own submissions.
    Collector,
    /// Read-only, never a sensitive field, never an original.
    Viewer,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Coordinator,
        Role::Reviewer,
        Role::Collector,
        Role::Viewer,
    ];

    /// The spelling used on the command line and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Reviewer => "reviewer",
            Role::Collector => "collector",
            Role::Viewer => "viewer",
        }
    }

    /// The role spelled `s`.
    pub fn parse(s: &str) -> Result<Role, VaultError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| VaultError::BadArgument {
                what: format!("role {s:?}"),
                why: "is not one of admin, coordinator, reviewer, collector, viewer".into(),
            })
    }
}

/// One account, as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// The sign-in name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Disabled accounts sign in no more.
    pub disabled: bool,
    /// Unix seconds it was made.
    pub created_at: i64,
}

/// Who a request is from: what a session or token authenticates as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The sign-in name.
    pub name: String,
    /// The opaque account key (how records and submissions name it).
    pub key: String,
    /// Its role.
    pub role: Role,
    /// A browser session (which needs the CSRF token on every write) or
    /// an API token.
    pub via: CredentialKind,
    /// The hash of the credential used (to sign this session out).
    pub credential: String,
    /// The language chosen for the account's pages (a code such as `ug`),
    /// if one was.
    pub language: Option<String>,
}

/// A new browser session: the secret goes in the cookie, once.
#[derive(Debug)]
pub struct NewSession {
    /// The cookie value.
    pub secret: Zeroizing<String>,
    /// The CSRF token the page sends back with every write.
    pub csrf: String,
    /// Unix seconds it ends.
    pub expires_at: i64,
    /// Who it is.
    pub principal: Principal,
}

/// Why a sign-in was refused. One message for all of them goes to the
/// client, so that it learns nothing about which names exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    /// No such account, or the wrong password.
    BadCredentials,
    /// The account is disabled.
    Disabled,
    /// The password is right; the account's second factor is needed.
    SecondFactorRequired,
    /// The second factor is wrong, used already, or out of time.
    BadSecondFactor,
}

/// One audit record, opened.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// Its position in the log.
    pub leaf_index: u64,
    /// Its record id.
    pub id: String,
    /// What happened (`login`, `role-changed`, ...).
    pub action: String,
    /// When.
    pub at: String,
    /// The item, for a custody event.
    pub item: Option<String>,
    /// Its committed details (`account`, `address`, `by`, ...).
    pub fields: Vec<(String, String)>,
}

/// What is sealed in an account row.
#[derive(Serialize, Deserialize)]
struct Sealed {
    name: String,
    created_at: i64,
    password: PasswordHash,
    /// The second factor, when one is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    totp: Option<totp::TotpSealed>,
    /// The language the account's pages are shown in, when chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct PasswordHash {
    /// Standard base64 of the 16-byte salt.
    salt: String,
    m: u32,
    t: u32,
    p: u32,
    /// Standard base64 of the 32-byte Argon2id output.
    hash: String,
}

impl Drop for Sealed {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.password.hash.zeroize();
    }
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, VaultError> {
    let mut b = Zeroizing::new([0u8; N]);
    getrandom::fill(b.as_mut()).map_err(|e| VaultError::Io {
        path: "operating system random generator".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(b)
}

/// Check a sign-in name: 1 to 64 of `a-z 0-9 . _ -`, starting with a letter
/// or digit. Names are identifiers, not personal data: a display name can
/// be anything, but the name typed at sign-in must be unambiguous.
pub fn check_name(name: &str) -> Result<(), VaultError> {
    let bad = |why: &str| VaultError::BadArgument {
        what: format!("account name {name:?}"),
        why: why.into(),
    };
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(bad("must be 1 to 64 characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    {
        return Err(bad("may hold only lowercase letters a-z, digits and . _ -"));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(bad("must start with a letter or a digit"));
    }
    Ok(())
}

fn check_password(password: &[u8]) -> Result<(), VaultError> {
    let bad = |why: String| VaultError::BadArgument {
        what: "password".into(),
        why,
    };
    let text = std::str::from_utf8(password).map_err(|_| bad("is not UTF-8 text".into()))?;
    if text.chars().count() < MIN_PASSWORD_CHARS {
        return Err(bad(format!(
            "is shorter than {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(bad(format!("is longer than {MAX_PASSWORD_BYTES} bytes")));
    }
    Ok(())
}

fn argon2(
    password: &[u8],
    salt: &[u8],
    m: u32,
    t: u32,
    p: u32,
) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let params = argon2::Params::new(m, t, p, Some(32)).map_err(|e| VaultError::BadArgument {
        what: "password hash parameters".into(),
        why: e.to_string(),
    })?;
    let mut out = Zeroizing::new([0u8; 32]);
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(password, salt, out.as_mut())
        .map_err(|e| VaultError::BadArgument {
            what: "password".into(),
            why: e.to_string(),
        })?;
    Ok(out)
}

fn hash_password(password: &[u8]) -> Result<PasswordHash, VaultError> {
    let salt = random::<16>()?;
    let hash = argon2(password, salt.as_ref(), ARGON2_M_KIB, ARGON2_T, ARGON2_P)?;
    Ok(PasswordHash {
        salt: B64.encode(salt.as_ref()),
        m: ARGON2_M_KIB,
        t: ARGON2_T,
        p: ARGON2_P,
        hash: B64.encode(hash.as_ref()),
    })
}

fn password_matches(stored: &PasswordHash, password: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    let (Ok(salt), Ok(want)) = (B64.decode(&stored.salt), B64.decode(&stored.hash)) else {
        return false;
    };
    // Stored parameters are bounded so a damaged row cannot ask for 4 GiB.
    if stored.m > 1 << 20 || stored.t > 16 || stored.p > 8 {
        return false;
    }
    match argon2(password, &salt, stored.m, stored.t, stored.p) {
        Ok(got) => bool::from(got.as_ref().ct_eq(&want)),
        Err(_) => false,
    }
}

/// Hex SHA-256 of a credential's secret: how it is stored and looked up.
/// The secret has 256 bits of entropy, so a fast hash is enough.
fn credential_hash(secret: &str) -> String {
    hex32(&Sha256::digest(secret.as_bytes()).into())
}

fn account_aad(key: &str) -> Vec<u8> {
    format!("guwah/account/v1\n{key}").into_bytes()
}

impl Vault {
    /// The account key of `name`: a keyed hash, so the store names nobody.
    fn account_key(&self, name: &str) -> Result<String, VaultError> {
        let keys = self.keys()?;
        Ok(hex32(&crypto::keyed_id(
            &keys.account_id_key,
            name.as_bytes(),
        )))
    }

    fn open_account(&self, row: &AccountRow) -> Result<Sealed, VaultError> {
        let keys = self.keys()?;
        let thing = || format!("account row {}", &row.key[..row.key.len().min(16)]);
        let json =
            crypto::open(&keys.account_key, &account_aad(&row.key), &row.sealed).map_err(|_| {
                VaultError::damaged(
                    thing(),
                    "does not decrypt: altered, moved, or from another vault",
                )
            })?;
        serde_json::from_slice(&json).map_err(|e| VaultError::damaged(thing(), e.to_string()))
    }

    fn seal_account(&self, key: &str, sealed: &Sealed) -> Result<Vec<u8>, VaultError> {
        let keys = self.keys()?;
        let json = Zeroizing::new(
            serde_json::to_vec(sealed)
                .map_err(|e| VaultError::damaged("account", e.to_string()))?,
        );
        crypto::seal(&keys.account_key, &account_aad(key), &json)
            .map_err(|e| VaultError::damaged("account", e.to_string()))
    }

    fn row_of(&self, name: &str) -> Result<AccountRow, VaultError> {
        check_name(name)?;
        self.accounts
            .account(&self.account_key(name)?)?
            .ok_or_else(|| VaultError::BadArgument {
                what: format!("account {name:?}"),
                why: "does not exist (see `guwah user list`)".into(),
            })
    }

    /// Seal an audit record with `values` as its fields, under one new
    /// checkpoint. It goes in before what it records.
    pub(crate) fn seal_audit(
        &self,
        action: AuditAction,
        values: Vec<(String, String)>,
    ) -> Result<u64, VaultError> {
        let mut w = self.writer()?;
        let mut a = w.append()?;
        let (leaf, _) = a.push_audit(action, &values, &timestamp_now())?;
        a.commit()?;
        Ok(leaf)
    }

    /// Add an account. `by` names who did it (an admin's account, or
    /// `command line`).
    pub fn add_account(
        &self,
        name: &str,
        role: Role,
        password: &[u8],
        by: &str,
    ) -> Result<Account, VaultError> {
        check_name(name)?;
        check_password(password)?;
        let key = self.account_key(name)?;
        if self.accounts.account(&key)?.is_some() {
            return Err(VaultError::BadArgument {
                what: format!("account {name:?}"),
                why: "exists already".into(),
            });
        }
        let now = unix_now();
        let sealed = Sealed {
            name: name.to_owned(),
            created_at: now,
            password: hash_password(password)?,
            totp: None,
            language: None,
        };
        let row = AccountRow {
            sealed: self.seal_account(&key, &sealed)?,
            key,
            role: role.as_str().into(),
            disabled: false,
            updated_at: now,
        };
        self.seal_audit(
            AuditAction::AccountAdded,
            vec![
                ("account".into(), name.into()),
                ("role".into(), role.as_str().into()),
                ("by".into(), by.into()),
            ],
        )?;
        self.accounts.create_account(&row)?;
        Ok(Account {
            name: name.into(),
            role,
            disabled: false,
            created_at: now,
        })
    }

    /// Every account, by name.
    pub fn accounts(&self) -> Result<Vec<Account>, VaultError> {
        let mut out = Vec::new();
        for row in self.accounts.accounts()? {
            let sealed = self.open_account(&row)?;
            out.push(Account {
                name: sealed.name.clone(),
                role: Role::parse(&row.role)
                    .map_err(|e| VaultError::damaged("account row", e.to_string()))?,
                disabled: row.disabled,
                created_at: sealed.created_at,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The account `name`.
    pub fn account(&self, name: &str) -> Result<Account, VaultError> {
        let row = self.row_of(name)?;
        let sealed = self.open_account(&row)?;
        Ok(Account {
            name: sealed.name.clone(),
            role: Role::parse(&row.role)?,
            disabled: row.disabled,
            created_at: sealed.created_at,
        })
    }

    /// Give `name` another role.
    pub fn set_role(&self, name: &str, role: Role, by: &str) -> Result<(), VaultError> {
        let mut row = self.row_of(name)?;
        self.seal_audit(
            AuditAction::RoleChanged,
            vec![
                ("account".into(), name.into()),
                ("role".into(), role.as_str().into()),
                ("by".into(), by.into()),
            ],
        )?;
        row.role = role.as_str().into();
        row.updated_at = unix_now();
        Ok(self.accounts.update_account(&row)?)
    }

    /// Disable `name`: every session and token of it ends now. The account
    /// is kept, so the records that name it keep their meaning.
    pub fn disable_account(&self, name: &str, by: &str) -> Result<(), VaultError> {
        let mut row = self.row_of(name)?;
        self.seal_audit(
            AuditAction::AccountDisabled,
            vec![("account".into(), name.into()), ("by".into(), by.into())],
        )?;
        row.disabled = true;
        row.updated_at = unix_now();
        self.accounts.update_account(&row)?;
        self.accounts.delete_credentials_of(&row.key, None)?;
        Ok(())
    }

    /// Set a new password for `name`; its sessions end (its tokens stay).
    pub fn set_password(&self, name: &str, password: &[u8], by: &str) -> Result<(), VaultError> {
        check_password(password)?;
        let mut row = self.row_of(name)?;
        let mut sealed = self.open_account(&row)?;
        sealed.password = hash_password(password)?;
        self.seal_audit(
            AuditAction::CredentialsChanged,
            vec![("account".into(), name.into()), ("by".into(), by.into())],
        )?;
        row.sealed = self.seal_account(&row.key, &sealed)?;
        row.updated_at = unix_now();
        self.accounts.update_account(&row)?;
        self.accounts
            .delete_credentials_of(&row.key, Some(CredentialKind::Session))?;
        Ok(())
    }

    /// Choose the language of `name`'s pages (`None`: the browser's).
    /// A display preference, kept sealed in the account row; unlike a
    /// change of role or credentials it is not an audit record.
    pub fn set_language(&self, name: &str, language: Option<&str>) -> Result<(), VaultError> {
        if let Some(code) = language
            && (code.is_empty()
                || code.len() > 16
                || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            return Err(VaultError::BadArgument {
                what: format!("language {code:?}"),
                why: "must be a language code such as ug, zh-Hans, fr or en".into(),
            });
        }
        let mut row = self.row_of(name)?;
        let mut sealed = self.open_account(&row)?;
        sealed.language = language.map(str::to_owned);
        row.sealed = self.seal_account(&row.key, &sealed)?;
        row.updated_at = unix_now();
        self.accounts.update_account(&row)?;
        Ok(())
    }

    /// Issue an API token for `name`. The token is returned once; only its
    /// hash is kept, and the audit record holds its first 8 hex digits (to
    /// tell tokens apart, never to use one).
    pub fn issue_token(&self, name: &str, by: &str) -> Result<Zeroizing<String>, VaultError> {
        let row = self.row_of(name)?;
        if row.disabled {
            return Err(VaultError::BadArgument {
                what: format!("account {name:?}"),
                why: "is disabled".into(),
            });
        }
        let secret = Zeroizing::new(format!(
            "{TOKEN_PREFIX}{}",
            B64URL.encode(random::<32>()?.as_ref())
        ));
        let hash = credential_hash(&secret);
        self.seal_audit(
            AuditAction::TokenIssued,
            vec![
                ("account".into(), name.into()),
                ("by".into(), by.into()),
                ("token".into(), hash[..8].into()),
            ],
        )?;
        self.accounts.put_credential(&CredentialRow {
            hash,
            kind: CredentialKind::Token,
            account: row.key,
            created_at: unix_now(),
            expires_at: None,
            sealed: Vec::new(),
        })?;
        Ok(secret)
    }

    /// Sign in: check the password (the same Argon2id work whether or not
    /// the account exists, so timing tells nothing), seal a `login` or
    /// `login-failed` audit record naming the account and `address`, and
    /// on success open a session. An account with a second factor also
    /// needs `code` (a TOTP code or a recovery code).
    pub fn login(
        &self,
        name: &str,
        password: &[u8],
        code: Option<&str>,
        address: &str,
    ) -> Result<Result<NewSession, LoginRefusal>, VaultError> {
        let row = match check_name(name) {
            Ok(()) => self.accounts.account(&self.account_key(name)?)?,
            Err(_) => None,
        };
        let sealed = row.as_ref().map(|r| self.open_account(r)).transpose()?;
        let matches = match &sealed {
            Some(s) => password_matches(&s.password, password),
            None => {
                // Spend the same time on a name that does not exist.
                let _ = argon2(password, &[0u8; 16], ARGON2_M_KIB, ARGON2_T, ARGON2_P);
                false
            }
        };
        // What was typed as a name is kept, bounded, in the sealed record.
        let typed: String = name.chars().take(MAX_NAME_CHARS).collect();
        let mut sealed = sealed;
        let factor = match sealed.as_mut().and_then(|s| s.totp.as_mut()) {
            Some(t) if matches => t.check(code, unix_now().max(0) as u64)?,
            _ => totp::Factor::NotSet,
        };
        let refusal = match &row {
            _ if !matches => Some(LoginRefusal::BadCredentials),
            Some(r) if r.disabled => Some(LoginRefusal::Disabled),
            _ if factor == totp::Factor::Missing => Some(LoginRefusal::SecondFactorRequired),
            _ if factor == totp::Factor::Wrong => Some(LoginRefusal::BadSecondFactor),
            _ => None,
        };
        let (Some(row), None) = (row, refusal) else {
            let reason = match refusal {
                Some(LoginRefusal::Disabled) => "account disabled",
                Some(LoginRefusal::SecondFactorRequired) => "second factor needed",
                Some(LoginRefusal::BadSecondFactor) => "wrong second factor",
                _ => "wrong name or password",
            };
            self.seal_audit(
                AuditAction::LoginFailed,
                vec![
                    ("account".into(), typed),
                    ("address".into(), address.into()),
                    ("reason".into(), reason.into()),
                ],
            )?;
            return Ok(Err(refusal.unwrap_or(LoginRefusal::BadCredentials)));
        };
        self.seal_audit(
            AuditAction::Login,
            vec![
                ("account".into(), name.into()),
                ("address".into(), address.into()),
            ],
        )?;
        if factor == totp::Factor::Accepted
            && let Some(s) = &sealed
        {
            // The code's step, or the recovery code, is used up.
            let mut row = row.clone();
            row.sealed = self.seal_account(&row.key, s)?;
            row.updated_at = unix_now();
            self.accounts.update_account(&row)?;
        }
        let secret = Zeroizing::new(format!(
            "{SESSION_PREFIX}{}",
            B64URL.encode(random::<32>()?.as_ref())
        ));
        let hash = credential_hash(&secret);
        let now = unix_now();
        let expires_at = now + SESSION_SECONDS;
        self.accounts.put_credential(&CredentialRow {
            hash: hash.clone(),
            kind: CredentialKind::Session,
            account: row.key.clone(),
            created_at: now,
            expires_at: Some(expires_at),
            sealed: Vec::new(),
        })?;
        let principal = Principal {
            name: name.into(),
            key: row.key,
            role: Role::parse(&row.role)?,
            via: CredentialKind::Session,
            credential: hash,
            language: sealed.as_ref().and_then(|s| s.language.clone()),
        };
        Ok(Ok(NewSession {
            csrf: self.csrf_token(&principal.credential)?,
            secret,
            expires_at,
            principal,
        }))
    }

    /// The CSRF token of the session whose credential hash is `credential`:
    /// a keyed hash of it, so nothing more is stored and it cannot be
    /// guessed from the cookie's hash.
    pub fn csrf_token(&self, credential: &str) -> Result<String, VaultError> {
        let keys = self.keys()?;
        Ok(hex32(&crypto::keyed_id(
            &keys.csrf_key,
            credential.as_bytes(),
        )))
    }

    /// Who `secret` (a session cookie or an API token) is, if it is a live
    /// credential of an enabled account.
    pub fn authenticate(&self, secret: &str) -> Result<Option<Principal>, VaultError> {
        if !(secret.starts_with(TOKEN_PREFIX) || secret.starts_with(SESSION_PREFIX))
            || secret.len() > 64
        {
            return Ok(None);
        }
        let hash = credential_hash(secret);
        let Some(cred) = self.accounts.credential(&hash, unix_now())? else {
            return Ok(None);
        };
        let Some(row) = self.accounts.account(&cred.account)? else {
            return Ok(None);
        };
        if row.disabled {
            return Ok(None);
        }
        let sealed = self.open_account(&row)?;
        Ok(Some(Principal {
            name: sealed.name.clone(),
            key: row.key,
            role: Role::parse(&row.role)?,
            via: cred.kind,
            credential: hash,
            language: sealed.language.clone(),
        }))
    }

    /// End the session or revoke the token with this credential hash.
    pub fn logout(&self, credential: &str) -> Result<bool, VaultError> {
        Ok(self.accounts.delete_credential(credential)?)
    }

    /// Forget expired sessions; how many went.
    pub fn purge_sessions(&self) -> Result<u64, VaultError> {
        Ok(self.accounts.purge_expired(unix_now())?)
    }

    /// The audit trail, oldest first: every audit record (sign-ins,
    /// account changes, tokens) and every custody event done through an
    /// account (reads of originals, exports, submissions, notes).
    pub fn audit_trail(&self) -> Result<Vec<AuditEntry>, VaultError> {
        let keys = self.keys()?;
        let size = self.size()?;
        let mut out = Vec::new();
        for row in self
            .index()
            .entries(size)?
            .into_iter()
            .filter(|r| matches!(r.kind, EntryKind::Audit | EntryKind::Event))
        {
            let private = Private::open(&keys.index_key, &row)?;
            let (action, at, item) = match self.record_of(&row, size)?.1 {
                Record::Audit(audit) => (audit.action.as_str(), audit.at, None),
                // Events an account did name it; the CLI's own do not.
                Record::Event(ev) if private.fields.contains_key("account") => {
                    (ev.action.as_str(), ev.at, Some(row.item_id.clone()))
                }
                Record::Event(_) => continue,
                Record::Item(_) => {
                    return Err(VaultError::damaged(
                        format!("log entry {}", row.leaf_index),
                        "indexed as an audit record or event but is an item",
                    ));
                }
            };
            out.push(AuditEntry {
                leaf_index: row.leaf_index,
                id: row.record_id.clone(),
                action: action.into(),
                at,
                item,
                fields: private
                    .fields
                    .into_iter()
                    .map(|(k, v)| (k, v.value))
                    .collect(),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for ok in ["amina", "a", "field-team.2", "x_y"] {
            check_name(ok).unwrap();
        }
        for bad in ["", "Amina", "-x", "a b", "../x", "ئامىنە", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_hash_and_check() {
        let h = hash_password(b"correct horse battery").unwrap();
        assert!(password_matches(&h, b"correct horse battery"));
        assert!(!password_matches(&h, b"correct horse batterx"));
        assert!(check_password(b"short").is_err());
        assert!(check_password(&[0xff; 20]).is_err());
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
        assert!(Role::parse("root").is_err());
    }
}
