//! The local backend's [`AccountStore`]: tables `accounts` and
//! `credentials` of the index database, on its connection.
//!
//! Each check-then-write runs in an immediate transaction, so that another
//! process writing the same database (the server and the command line)
//! cannot slip a row in between the check and the write.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use super::SqliteIndex;
use crate::accounts::{AccountRow, AccountStore, CredentialKind, CredentialRow};
use crate::contract::StoreError;

const CREDENTIAL_COLUMNS: &str = "hash, kind, account, created_at, expires_at, sealed";

fn account_row(r: &Row<'_>) -> rusqlite::Result<AccountRow> {
    Ok(AccountRow {
        key: r.get(0)?,
        role: r.get(1)?,
        disabled: r.get(2)?,
        sealed: r.get(3)?,
        updated_at: r.get(4)?,
    })
}

fn credential_row(r: &Row<'_>) -> rusqlite::Result<CredentialRow> {
    let kind: String = r.get(1)?;
    Ok(CredentialRow {
        hash: r.get(0)?,
        // The CHECK constraint admits only the two kinds.
        kind: CredentialKind::parse(&kind).unwrap_or(CredentialKind::Session),
        account: r.get(2)?,
        created_at: r.get(3)?,
        expires_at: r.get(4)?,
        sealed: r.get(5)?,
    })
}

impl SqliteIndex {
    /// A refusal of a write that would break the account contract.
    fn refuse(&self, why: String) -> StoreError {
        StoreError::Conflict {
            object: format!("index database {}", self.path.display()),
            why,
        }
    }

    /// Run `f` in one immediate transaction, committed only if it succeeds.
    fn write_tx<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.err())?;
        let out = f(&tx)?;
        tx.commit().map_err(self.err())?;
        Ok(out)
    }
}

fn exists(tx: &rusqlite::Transaction<'_>, sql: &str, key: &str) -> rusqlite::Result<bool> {
    tx.query_row(sql, [key], |_| Ok(()))
        .optional()
        .map(|o| o.is_some())
}

impl AccountStore for SqliteIndex {
    fn create_account(&self, row: &AccountRow) -> Result<(), StoreError> {
        self.write_tx(|tx| {
            if exists(tx, "SELECT 1 FROM accounts WHERE key = ?1", &row.key).map_err(self.err())? {
                return Err(self.refuse(format!("account {} exists", row.key)));
            }
            tx.execute(
                "INSERT INTO accounts(key, role, disabled, sealed, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![row.key, row.role, row.disabled, row.sealed, row.updated_at],
            )
            .map_err(self.err())?;
            Ok(())
        })
    }

    fn update_account(&self, row: &AccountRow) -> Result<(), StoreError> {
        self.write_tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE accounts SET role = ?2, disabled = ?3, sealed = ?4, updated_at = ?5 WHERE key = ?1",
                    params![row.key, row.role, row.disabled, row.sealed, row.updated_at],
                )
                .map_err(self.err())?;
            if n == 0 {
                return Err(self.refuse(format!("no account {}", row.key)));
            }
            Ok(())
        })
    }

    fn account(&self, key: &str) -> Result<Option<AccountRow>, StoreError> {
        self.conn()
            .query_row(
                "SELECT key, role, disabled, sealed, updated_at FROM accounts WHERE key = ?1",
                [key],
                account_row,
            )
            .optional()
            .map_err(self.err())
    }

    fn accounts(&self) -> Result<Vec<AccountRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT key, role, disabled, sealed, updated_at FROM accounts ORDER BY key",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], account_row)
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    fn put_credential(&self, row: &CredentialRow) -> Result<(), StoreError> {
        self.write_tx(|tx| {
            // The hash is not named: it stands for a live secret.
            if exists(tx, "SELECT 1 FROM credentials WHERE hash = ?1", &row.hash)
                .map_err(self.err())?
            {
                return Err(self.refuse("credential exists already".into()));
            }
            if !exists(tx, "SELECT 1 FROM accounts WHERE key = ?1", &row.account)
                .map_err(self.err())?
            {
                return Err(self.refuse(format!("no account {}", row.account)));
            }
            tx.execute(
                &format!(
                    "INSERT INTO credentials({CREDENTIAL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                ),
                params![
                    row.hash,
                    row.kind.as_str(),
                    row.account,
                    row.created_at,
                    row.expires_at,
                    row.sealed
                ],
            )
            .map_err(self.err())?;
            Ok(())
        })
    }

    fn credential(&self, hash: &str, now: i64) -> Result<Option<CredentialRow>, StoreError> {
        self.conn()
            .query_row(
                &format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credentials
                     WHERE hash = ?1 AND (expires_at IS NULL OR expires_at > ?2)"
                ),
                params![hash, now],
                credential_row,
            )
            .optional()
            .map_err(self.err())
    }

    fn credentials_of(&self, account: &str, now: i64) -> Result<Vec<CredentialRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {CREDENTIAL_COLUMNS} FROM credentials
                 WHERE account = ?1 AND (expires_at IS NULL OR expires_at > ?2)
                 ORDER BY created_at, hash"
            ))
            .map_err(self.err())?;
        let rows = stmt
            .query_map(params![account, now], credential_row)
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    fn delete_credential(&self, hash: &str) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute("DELETE FROM credentials WHERE hash = ?1", [hash])
            .map_err(self.err())?;
        Ok(n > 0)
    }

    fn delete_credentials_of(
        &self,
        account: &str,
        kind: Option<CredentialKind>,
    ) -> Result<u64, StoreError> {
        let n = self
            .conn()
            .execute(
                "DELETE FROM credentials WHERE account = ?1 AND (?2 IS NULL OR kind = ?2)",
                params![account, kind.map(CredentialKind::as_str)],
            )
            .map_err(self.err())?;
        Ok(n as u64)
    }

    fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let n = self
            .conn()
            .execute(
                "DELETE FROM credentials WHERE expires_at IS NOT NULL AND expires_at <= ?1",
                [now],
            )
            .map_err(self.err())?;
        Ok(n as u64)
    }
}
