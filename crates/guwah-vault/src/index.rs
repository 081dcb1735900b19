//! The metadata index: one SQLite database beside the log.
//!
//! The log is public; the index holds what is not: each entry's metadata
//! values and their salts, sealed with the index key (AES-256-GCM, with the
//! entry's leaf index and record id as associated data, so a row cannot be
//! moved to another entry unnoticed). Only ids, kinds and leaf indices are in
//! the clear, and those are in the log anyway.
//!
//! The index is written in one transaction per append, *before* the
//! checkpoint swap. Rows at or past the committed tree size belong to an
//! interrupted append: readers ignore them and writers delete them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto;
use crate::error::VaultError;

const SCHEMA_VERSION: i64 = 1;

/// One row of the index's `entries` table.
#[derive(Debug, Clone)]
pub(crate) struct EntryRow {
    pub leaf_index: u64,
    /// Hex leaf hash of this entry's record.
    pub record_id: String,
    /// `item` or `event`.
    pub kind: String,
    /// Hex id of the item (for an item, its own record id).
    pub item_id: String,
    /// `Private`, sealed.
    pub sealed: Vec<u8>,
}

/// A metadata value and the salt of its commitment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SaltedValue {
    pub value: String,
    /// Standard base64 of the 32-byte salt.
    pub salt: String,
}

/// What an index row keeps secret.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Private {
    pub fields: BTreeMap<String, SaltedValue>,
}

fn aad(leaf_index: u64, record_id: &str) -> Vec<u8> {
    let mut a = b"guwah/index-entry/v1\n".to_vec();
    a.extend_from_slice(&leaf_index.to_be_bytes());
    a.extend_from_slice(record_id.as_bytes());
    a
}

impl Private {
    pub fn seal(
        &self,
        key: &[u8; 32],
        leaf_index: u64,
        record_id: &str,
    ) -> Result<Vec<u8>, VaultError> {
        let json = Zeroizing::new(
            serde_json::to_vec(self)
                .map_err(|e| VaultError::damaged("index row", e.to_string()))?,
        );
        crypto::seal(key, &aad(leaf_index, record_id), &json)
            .map_err(|e| VaultError::damaged("index row", e.to_string()))
    }

    pub fn open(key: &[u8; 32], row: &EntryRow) -> Result<Private, VaultError> {
        let thing = || format!("index row for log entry {}", row.leaf_index);
        let json =
            crypto::open(key, &aad(row.leaf_index, &row.record_id), &row.sealed).map_err(|_| {
                VaultError::damaged(
                    thing(),
                    "does not decrypt: altered, moved, or from another vault",
                )
            })?;
        serde_json::from_slice(&json)
            .map_err(|e| VaultError::damaged(thing(), format!("unreadable: {e}")))
    }
}

/// The index database.
pub(crate) struct Index {
    conn: Connection,
    path: PathBuf,
}

impl Index {
    fn err(&self) -> impl Fn(rusqlite::Error) -> VaultError + '_ {
        |source| VaultError::Index {
            path: self.path.clone(),
            source,
        }
    }

    /// Open (and with `create`, make) the index at `path`.
    pub fn open(path: &Path, create: bool) -> Result<Index, VaultError> {
        let err = |source| VaultError::Index {
            path: path.to_owned(),
            source,
        };
        if !create && !path.is_file() {
            return Err(VaultError::damaged(
                path.display().to_string(),
                "index database is missing",
            ));
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
        )
        .map_err(err)?;
        let index = Index {
            conn,
            path: path.to_owned(),
        };
        if create {
            index
                .conn
                .execute_batch(
                    "BEGIN;
                     CREATE TABLE IF NOT EXISTS schema(version INTEGER NOT NULL);
                     CREATE TABLE IF NOT EXISTS entries(
                        leaf_index INTEGER PRIMARY KEY,
                        record_id TEXT NOT NULL UNIQUE,
                        kind TEXT NOT NULL CHECK (kind IN ('item', 'event')),
                        item_id TEXT NOT NULL,
                        sealed BLOB NOT NULL);
                     CREATE INDEX IF NOT EXISTS entries_item ON entries(item_id);
                     CREATE TABLE IF NOT EXISTS content(
                        blob TEXT PRIMARY KEY,
                        leaf_index INTEGER NOT NULL);
                     COMMIT;",
                )
                .map_err(index.err())?;
            index
                .conn
                .execute(
                    "INSERT INTO schema(version) SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM schema)",
                    [SCHEMA_VERSION],
                )
                .map_err(index.err())?;
        }
        let version: Option<i64> = index
            .conn
            .query_row("SELECT version FROM schema", [], |r| r.get(0))
            .optional()
            .map_err(index.err())?;
        if version != Some(SCHEMA_VERSION) {
            return Err(VaultError::damaged(
                path.display().to_string(),
                format!("index schema version {version:?}, this guwah reads {SCHEMA_VERSION}"),
            ));
        }
        // Perceptual hashes (see `similar.rs`): derived data, sealed, added
        // to older vaults on open. A read-only index just goes without.
        let _ = index.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS pdq(leaf_index INTEGER PRIMARY KEY, sealed BLOB NOT NULL);",
        );
        Ok(index)
    }

    /// Delete rows an interrupted append left at or past `committed_size`.
    pub fn roll_back_past(&mut self, committed_size: u64) -> Result<usize, VaultError> {
        let tx = self
            .conn
            .transaction()
            .map_err(|source| VaultError::Index {
                path: self.path.clone(),
                source,
            })?;
        let n = tx
            .execute(
                "DELETE FROM entries WHERE leaf_index >= ?1",
                [clamp(committed_size)],
            )
            .and_then(|n| {
                tx.execute(
                    "DELETE FROM content WHERE leaf_index >= ?1",
                    [clamp(committed_size)],
                )?;
                tx.execute(
                    "DELETE FROM pdq WHERE leaf_index >= ?1",
                    [clamp(committed_size)],
                )?;
                Ok(n)
            })
            .map_err(|source| VaultError::Index {
                path: self.path.clone(),
                source,
            })?;
        tx.commit().map_err(|source| VaultError::Index {
            path: self.path.clone(),
            source,
        })?;
        Ok(n)
    }

    /// Insert an append's rows in one durable transaction.
    pub fn insert(
        &mut self,
        rows: &[EntryRow],
        content: &[(String, u64)],
    ) -> Result<(), VaultError> {
        let path = self.path.clone();
        let err = |source| VaultError::Index {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut put = tx
                .prepare("INSERT INTO entries(leaf_index, record_id, kind, item_id, sealed) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(err)?;
            for r in rows {
                put.execute(params![
                    r.leaf_index as i64,
                    r.record_id,
                    r.kind,
                    r.item_id,
                    r.sealed
                ])
                .map_err(err)?;
            }
            let mut put = tx
                .prepare("INSERT OR REPLACE INTO content(blob, leaf_index) VALUES (?1, ?2)")
                .map_err(err)?;
            for (blob, leaf) in content {
                put.execute(params![blob, *leaf as i64]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    fn rows(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<EntryRow>, VaultError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(self.err())?;
        let rows = stmt
            .query_map(args, |r| {
                Ok(EntryRow {
                    leaf_index: r.get::<_, i64>(0)? as u64,
                    record_id: r.get(1)?,
                    kind: r.get(2)?,
                    item_id: r.get(3)?,
                    sealed: r.get(4)?,
                })
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// SQLite's own consistency check of the database file: tables against
    /// their indexes, page structure. Lookups by item go through an index,
    /// so a damaged index would hide custody events without it.
    pub fn integrity_problems(&self) -> Result<Vec<String>, VaultError> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(self.err())?;
        let lines = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(lines.into_iter().filter(|l| l != "ok").collect())
    }

    /// Every committed row, in log order.
    pub fn all(&self, size: u64) -> Result<Vec<EntryRow>, VaultError> {
        self.rows(
            "SELECT leaf_index, record_id, kind, item_id, sealed FROM entries WHERE leaf_index < ?1 ORDER BY leaf_index",
            [clamp(size)],
        )
    }

    /// Committed items whose id starts with `prefix`.
    pub fn items_by_prefix(&self, prefix: &str, size: u64) -> Result<Vec<EntryRow>, VaultError> {
        let upper = format!("{prefix}g");
        self.rows(
            "SELECT leaf_index, record_id, kind, item_id, sealed FROM entries
             WHERE kind = 'item' AND record_id >= ?1 AND record_id < ?2 AND leaf_index < ?3 ORDER BY leaf_index LIMIT 2",
            params![prefix, upper, clamp(size)],
        )
    }

    /// Every committed row about one item (its own and its events).
    pub fn history(&self, item_id: &str, size: u64) -> Result<Vec<EntryRow>, VaultError> {
        self.rows(
            "SELECT leaf_index, record_id, kind, item_id, sealed FROM entries WHERE item_id = ?1 AND leaf_index < ?2 ORDER BY leaf_index",
            params![item_id, clamp(size)],
        )
    }

    /// The committed item already holding this blob, if any.
    pub fn item_for_blob(&self, blob: &str, size: u64) -> Result<Option<u64>, VaultError> {
        self.conn
            .query_row(
                "SELECT leaf_index FROM content WHERE blob = ?1 AND leaf_index < ?2",
                params![blob, clamp(size)],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|o| o.map(|v| v as u64))
            .map_err(self.err())
    }

    /// Every committed `(blob, leaf_index)` row.
    pub fn content(&self, size: u64) -> Result<Vec<(String, u64)>, VaultError> {
        let mut stmt = self
            .conn
            .prepare("SELECT blob, leaf_index FROM content WHERE leaf_index < ?1")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([clamp(size)], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }
}

impl Index {
    /// Store (or replace) one entry's sealed perceptual hashes.
    pub fn put_pdq(&mut self, leaf_index: u64, sealed: &[u8]) -> Result<(), VaultError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO pdq(leaf_index, sealed) VALUES (?1, ?2)",
                params![clamp(leaf_index), sealed],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// Every committed `(leaf_index, sealed)` perceptual-hash row.
    pub fn pdq_rows(&self, size: u64) -> Result<Vec<(u64, Vec<u8>)>, VaultError> {
        let mut stmt = self
            .conn
            .prepare("SELECT leaf_index, sealed FROM pdq WHERE leaf_index < ?1 ORDER BY leaf_index")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([clamp(size)], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }
}

/// SQLite integers are signed: sizes past `i64::MAX` mean "everything".
fn clamp(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}
