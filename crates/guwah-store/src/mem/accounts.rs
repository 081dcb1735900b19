//! The in-memory [`AccountStore`]: every write is durable on return, as
//! the contract promises, and counted like every other call.

use super::{Kind, MemStore};
use crate::accounts::{AccountRow, AccountStore, CredentialKind, CredentialRow};
use crate::contract::StoreError;

fn refuse(why: String) -> StoreError {
    StoreError::Conflict {
        object: "memory accounts".into(),
        why,
    }
}

/// Whether `row` still opens something at `now`.
fn live(row: &CredentialRow, now: i64) -> bool {
    row.expires_at.is_none_or(|at| at > now)
}

impl AccountStore for MemStore {
    fn create_account(&self, row: &AccountRow) -> Result<(), StoreError> {
        self.call(
            Kind::Write,
            || format!("accounts create {}", row.key),
            |inner| {
                if inner.live.accounts.contains_key(&row.key) {
                    return Err(refuse(format!("account {} exists", row.key)));
                }
                inner.both(|s| {
                    s.accounts.insert(row.key.clone(), row.clone());
                });
                Ok(())
            },
        )
    }

    fn update_account(&self, row: &AccountRow) -> Result<(), StoreError> {
        self.call(
            Kind::Write,
            || format!("accounts update {}", row.key),
            |inner| {
                if !inner.live.accounts.contains_key(&row.key) {
                    return Err(refuse(format!("no account {}", row.key)));
                }
                inner.both(|s| {
                    s.accounts.insert(row.key.clone(), row.clone());
                });
                Ok(())
            },
        )
    }

    fn account(&self, key: &str) -> Result<Option<AccountRow>, StoreError> {
        self.call(
            Kind::Read,
            || format!("accounts get {key}"),
            |inner| Ok(inner.live.accounts.get(key).cloned()),
        )
    }

    fn accounts(&self) -> Result<Vec<AccountRow>, StoreError> {
        self.call(
            Kind::Read,
            || "accounts list".into(),
            |inner| Ok(inner.live.accounts.values().cloned().collect()),
        )
    }

    fn put_credential(&self, row: &CredentialRow) -> Result<(), StoreError> {
        self.call(
            Kind::Write,
            || format!("accounts put_credential for {}", row.account),
            |inner| {
                if inner.live.credentials.contains_key(&row.hash) {
                    return Err(refuse("credential exists already".into()));
                }
                if !inner.live.accounts.contains_key(&row.account) {
                    return Err(refuse(format!("no account {}", row.account)));
                }
                inner.both(|s| {
                    s.credentials.insert(row.hash.clone(), row.clone());
                });
                Ok(())
            },
        )
    }

    fn credential(&self, hash: &str, now: i64) -> Result<Option<CredentialRow>, StoreError> {
        self.call(
            Kind::Read,
            || "accounts credential".into(),
            |inner| {
                Ok(inner
                    .live
                    .credentials
                    .get(hash)
                    .filter(|r| live(r, now))
                    .cloned())
            },
        )
    }

    fn credentials_of(&self, account: &str, now: i64) -> Result<Vec<CredentialRow>, StoreError> {
        self.call(
            Kind::Read,
            || format!("accounts credentials_of {account}"),
            |inner| {
                // By hash already; a stable sort keeps it among equal times.
                let mut rows: Vec<CredentialRow> = inner
                    .live
                    .credentials
                    .values()
                    .filter(|r| r.account == account && live(r, now))
                    .cloned()
                    .collect();
                rows.sort_by_key(|r| r.created_at);
                Ok(rows)
            },
        )
    }

    fn delete_credential(&self, hash: &str) -> Result<bool, StoreError> {
        self.call(
            Kind::Write,
            || "accounts delete_credential".into(),
            |inner| {
                let there = inner.live.credentials.contains_key(hash);
                inner.both(|s| {
                    s.credentials.remove(hash);
                });
                Ok(there)
            },
        )
    }

    fn delete_credentials_of(
        &self,
        account: &str,
        kind: Option<CredentialKind>,
    ) -> Result<u64, StoreError> {
        let goes = |r: &CredentialRow| r.account == account && kind.is_none_or(|k| r.kind == k);
        self.call(
            Kind::Write,
            || format!("accounts delete_credentials_of {account}"),
            |inner| {
                let n = inner.live.credentials.values().filter(|r| goes(r)).count();
                inner.both(|s| s.credentials.retain(|_, r| !goes(r)));
                Ok(n as u64)
            },
        )
    }

    fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        self.call(
            Kind::Write,
            || format!("accounts purge_expired {now}"),
            |inner| {
                let n = inner
                    .live
                    .credentials
                    .values()
                    .filter(|r| !live(r, now))
                    .count();
                inner.both(|s| s.credentials.retain(|_, r| live(r, now)));
                Ok(n as u64)
            },
        )
    }
}
