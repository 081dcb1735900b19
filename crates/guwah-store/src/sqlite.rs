//! The index in one SQLite database (`index.sqlite`, schema version 1; see
//! `docs/format.md` §6), the local backend's [`IndexStore`].
//!
//! WAL mode with `synchronous=FULL`: a transaction is durable when its
//! commit returns, and readers (each call takes the connection in turn)
//! see every transaction whole or not at all.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use crate::contract::StoreError;
use crate::index::{EntryKind, EntryRow, IndexBatch, IndexStore};

const SCHEMA_VERSION: i64 = 1;

/// The index database of a local vault.
pub(crate) struct SqliteIndex {
    conn: Mutex<Connection>,
    path: PathBuf,
}

/// SQLite integers are signed: sizes past `i64::MAX` mean "everything".
fn clamp(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

impl SqliteIndex {
    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        |e| db_err(&self.path, e)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Open (and with `create`, make) the index at `path`. Without
    /// `create`, a missing file is an error and nothing is made.
    pub(crate) fn open(path: &Path, create: bool) -> Result<SqliteIndex, StoreError> {
        let err = |e| db_err(path, e);
        if !create && !path.is_file() {
            return Err(StoreError::Backend {
                object: path.display().to_string(),
                message: "index database is missing".into(),
            });
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
        )
        .map_err(err)?;
        if create {
            conn.execute_batch(
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
            .map_err(err)?;
            conn.execute(
                "INSERT INTO schema(version) SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM schema)",
                [SCHEMA_VERSION],
            )
            .map_err(err)?;
        }
        let version: Option<i64> = conn
            .query_row("SELECT version FROM schema", [], |r| r.get(0))
            .optional()
            .map_err(err)?;
        if version != Some(SCHEMA_VERSION) {
            return Err(StoreError::Backend {
                object: path.display().to_string(),
                message: format!(
                    "index schema version {version:?}, this guwah reads {SCHEMA_VERSION}"
                ),
            });
        }
        // Perceptual hashes: derived data, sealed, added to older vaults on
        // open. A read-only index just goes without.
        let _ = conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS pdq(leaf_index INTEGER PRIMARY KEY, sealed BLOB NOT NULL);",
        );
        Ok(SqliteIndex {
            conn: Mutex::new(conn),
            path: path.to_owned(),
        })
    }

    fn rows(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<EntryRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(sql).map_err(self.err())?;
        let rows = stmt
            .query_map(args, |r| {
                let kind: String = r.get(2)?;
                Ok(EntryRow {
                    leaf_index: r.get::<_, i64>(0)? as u64,
                    record_id: r.get(1)?,
                    // The CHECK constraint admits only these two.
                    kind: EntryKind::parse(&kind).unwrap_or(EntryKind::Event),
                    item_id: r.get(3)?,
                    sealed: r.get(4)?,
                })
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }
}

/// A database error naming the database; a constraint violation (a row
/// that exists already) is a [`StoreError::Conflict`].
fn db_err(path: &Path, e: rusqlite::Error) -> StoreError {
    let object = format!("index database {}", path.display());
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation => {
            StoreError::Conflict {
                object,
                why: format!("a row of this append is there already ({e})"),
            }
        }
        _ => StoreError::Backend {
            object,
            message: e.to_string(),
        },
    }
}

impl IndexStore for SqliteIndex {
    fn insert(&self, batch: &IndexBatch) -> Result<(), StoreError> {
        batch.check()?;
        let mut conn = self.conn();
        let err = |e| db_err(&self.path, e);
        let tx = conn.transaction().map_err(err)?;
        {
            let mut put = tx
                .prepare("INSERT INTO entries(leaf_index, record_id, kind, item_id, sealed) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(err)?;
            for r in &batch.entries {
                put.execute(params![
                    clamp(r.leaf_index),
                    r.record_id,
                    r.kind.as_str(),
                    r.item_id,
                    r.sealed
                ])
                .map_err(err)?;
            }
            let mut put = tx
                .prepare("INSERT INTO content(blob, leaf_index) VALUES (?1, ?2)")
                .map_err(err)?;
            for (blob, leaf) in &batch.content {
                put.execute(params![blob, clamp(*leaf)]).map_err(err)?;
            }
            let mut put = tx
                .prepare("INSERT INTO pdq(leaf_index, sealed) VALUES (?1, ?2)")
                .map_err(err)?;
            for (leaf, sealed) in &batch.pdq {
                put.execute(params![clamp(*leaf), sealed]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    fn roll_back_past(&self, committed_size: u64) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        let err = |e| db_err(&self.path, e);
        let at = clamp(committed_size);
        let tx = conn.transaction().map_err(err)?;
        let n = tx
            .execute("DELETE FROM entries WHERE leaf_index >= ?1", [at])
            .map_err(err)?;
        tx.execute("DELETE FROM content WHERE leaf_index >= ?1", [at])
            .map_err(err)?;
        tx.execute("DELETE FROM pdq WHERE leaf_index >= ?1", [at])
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(n as u64)
    }

    fn entries(&self, size: u64) -> Result<Vec<EntryRow>, StoreError> {
        self.rows(
            "SELECT leaf_index, record_id, kind, item_id, sealed FROM entries WHERE leaf_index < ?1 ORDER BY leaf_index",
            [clamp(size)],
        )
    }

    fn items_by_prefix(
        &self,
        prefix: &str,
        size: u64,
        limit: usize,
    ) -> Result<Vec<EntryRow>, StoreError> {
        // Ids are lowercase hex: every id with the prefix sorts below prefix + "g".
        let upper = format!("{prefix}g");
        self.rows(
            "SELECT leaf_index, record_id, kind, item_id, sealed FROM entries
             WHERE kind = 'item' AND record_id >= ?1 AND record_id < ?2 AND leaf_index < ?3 ORDER BY leaf_index LIMIT ?4",
            params![prefix, upper, clamp(size), clamp(limit as u64)],
        )
    }

    fn history(&self, item_id: &str, size: u64) -> Result<Vec<EntryRow>, StoreError> {
        self.rows(
            "SELECT leaf_index, record_id, kind, item_id, sealed FROM entries WHERE item_id = ?1 AND leaf_index < ?2 ORDER BY leaf_index",
            params![item_id, clamp(size)],
        )
    }

    fn item_for_blob(&self, blob: &str, size: u64) -> Result<Option<u64>, StoreError> {
        self.conn()
            .query_row(
                "SELECT leaf_index FROM content WHERE blob = ?1 AND leaf_index < ?2",
                params![blob, clamp(size)],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|o| o.map(|v| v as u64))
            .map_err(self.err())
    }

    fn content(&self, size: u64) -> Result<Vec<(String, u64)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
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

    fn pdq_rows(&self, size: u64) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
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

    fn pdq_row(&self, leaf_index: u64, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if leaf_index >= size {
            return Ok(None);
        }
        self.conn()
            .query_row(
                "SELECT sealed FROM pdq WHERE leaf_index = ?1",
                [clamp(leaf_index)],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
    }

    /// SQLite's own check of the database file: tables against their
    /// indexes, page structure. Lookups by item go through an index, so a
    /// damaged one would hide custody events without it.
    fn integrity_problems(&self) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(self.err())?;
        let lines = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        // Named as the vault's other files are: relative to its folder.
        let object = self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(lines
            .into_iter()
            .filter(|l| l != "ok")
            .map(|l| (object.clone(), format!("SQLite integrity check: {l}")))
            .collect())
    }
}
