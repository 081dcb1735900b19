//! The index in one SQLite database (`index.sqlite`, schema version 2; see
//! `docs/format.md` §6), the local backend's [`IndexStore`] and, in the
//! same database, its [`crate::AccountStore`] (in `accounts`).
//!
//! WAL mode with `synchronous=FULL`: a transaction is durable when its
//! commit returns, and readers (each call takes the connection in turn)
//! see every transaction whole or not at all.

mod accounts;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, ErrorCode, MAIN_DB, OptionalExtension, TransactionBehavior, params};

use crate::contract::StoreError;
use crate::index::{EntryKind, EntryRow, IndexBatch, IndexStore};

const SCHEMA_VERSION: i64 = 2;

/// Every table and index of schema version 2, each made only if missing:
/// a new database runs it whole, a migrated one gets what version 1 lacked.
const TABLES: &str = "CREATE TABLE IF NOT EXISTS schema(version INTEGER NOT NULL);
     CREATE TABLE IF NOT EXISTS entries(
        leaf_index INTEGER PRIMARY KEY,
        record_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('item', 'event', 'audit')),
        item_id TEXT NOT NULL,
        sealed BLOB NOT NULL);
     CREATE INDEX IF NOT EXISTS entries_item ON entries(item_id);
     CREATE TABLE IF NOT EXISTS content(
        blob TEXT PRIMARY KEY,
        leaf_index INTEGER NOT NULL);
     CREATE TABLE IF NOT EXISTS pdq(leaf_index INTEGER PRIMARY KEY, sealed BLOB NOT NULL);
     CREATE TABLE IF NOT EXISTS submissions(
        item_id TEXT NOT NULL,
        account TEXT NOT NULL,
        leaf_index INTEGER NOT NULL);
     CREATE INDEX IF NOT EXISTS submissions_account ON submissions(account);
     CREATE INDEX IF NOT EXISTS submissions_item ON submissions(item_id);
     CREATE TABLE IF NOT EXISTS accounts(
        key TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        disabled INTEGER NOT NULL,
        sealed BLOB NOT NULL,
        updated_at INTEGER NOT NULL);
     CREATE TABLE IF NOT EXISTS credentials(
        hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('session', 'token')),
        account TEXT NOT NULL REFERENCES accounts(key),
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        sealed BLOB NOT NULL);
     CREATE INDEX IF NOT EXISTS credentials_account ON credentials(account);";

/// Version 1 to 2, in one transaction: SQLite cannot alter a CHECK, so
/// `entries` is rebuilt to admit audit records (dropping it drops its
/// index, which `TABLES` then makes again with the new tables). The
/// columns are `TABLES`' own; a test checks the two agree.
const MIGRATE_1_TO_2: &str = "CREATE TABLE entries_new(
        leaf_index INTEGER PRIMARY KEY,
        record_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('item', 'event', 'audit')),
        item_id TEXT NOT NULL,
        sealed BLOB NOT NULL);
     INSERT INTO entries_new(leaf_index, record_id, kind, item_id, sealed)
        SELECT leaf_index, record_id, kind, item_id, sealed FROM entries;
     DROP TABLE entries;
     ALTER TABLE entries_new RENAME TO entries;";

/// The index database of a local vault. Clones share the connection, so
/// that the index and the account store are one database.
#[derive(Clone)]
pub(crate) struct SqliteIndex {
    conn: Arc<Mutex<Connection>>,
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
        let mut conn = Connection::open(path).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
        )
        .map_err(err)?;
        if create {
            let tx = conn.transaction().map_err(err)?;
            tx.execute_batch(TABLES).map_err(err)?;
            tx.execute(
                "INSERT INTO schema(version) SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM schema)",
                [SCHEMA_VERSION],
            )
            .map_err(err)?;
            tx.commit().map_err(err)?;
        }
        let mut version = schema_version(&conn).map_err(err)?;
        if version == Some(1) {
            if conn.is_readonly(MAIN_DB).map_err(err)? {
                return Err(StoreError::Backend {
                    object: path.display().to_string(),
                    message: format!(
                        "index schema version 1 is read-only here; this guwah reads \
                         {SCHEMA_VERSION} and migrates an index it may write"
                    ),
                });
            }
            migrate(&mut conn).map_err(err)?;
            version = schema_version(&conn).map_err(err)?;
        }
        if version != Some(SCHEMA_VERSION) {
            return Err(StoreError::Backend {
                object: path.display().to_string(),
                message: format!(
                    "index schema version {version:?}, this guwah reads {SCHEMA_VERSION}"
                ),
            });
        }
        Ok(SqliteIndex {
            conn: Arc::new(Mutex::new(conn)),
            path: path.to_owned(),
        })
    }

    /// The first column of every row `sql` answers, as strings.
    fn strings(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(sql).map_err(self.err())?;
        let rows = stmt
            .query_map(args, |r| r.get(0))
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows)
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
                    // The CHECK constraint admits only the three kinds.
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

/// The schema version the database says it has, if it says one.
fn schema_version(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT version FROM schema", [], |r| r.get(0))
        .optional()
}

/// Bring a version-1 database to version 2 in one transaction. It is taken
/// for writing first and the version read again inside it, so that two
/// processes opening the same old index migrate it once.
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if schema_version(&tx)? != Some(1) {
        return Ok(());
    }
    tx.execute_batch(MIGRATE_1_TO_2)?;
    tx.execute_batch(TABLES)?;
    tx.execute("UPDATE schema SET version = ?1", [SCHEMA_VERSION])?;
    tx.commit()
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
            let mut put = tx
                .prepare(
                    "INSERT INTO submissions(item_id, account, leaf_index) VALUES (?1, ?2, ?3)",
                )
                .map_err(err)?;
            for s in &batch.submissions {
                put.execute(params![s.item_id, s.account, clamp(s.leaf_index)])
                    .map_err(err)?;
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
        tx.execute("DELETE FROM submissions WHERE leaf_index >= ?1", [at])
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

    fn submissions_of(&self, account: &str, size: u64) -> Result<Vec<String>, StoreError> {
        self.strings(
            "SELECT item_id FROM submissions WHERE account = ?1 AND leaf_index < ?2
             GROUP BY item_id ORDER BY MIN(leaf_index), item_id",
            params![account, clamp(size)],
        )
    }

    fn submitters(&self, item_id: &str, size: u64) -> Result<Vec<String>, StoreError> {
        self.strings(
            "SELECT account FROM submissions WHERE item_id = ?1 AND leaf_index < ?2
             GROUP BY account ORDER BY MIN(leaf_index), account",
            params![item_id, clamp(size)],
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Submission;

    /// Schema version 1 as guwah 0.1 made it (before the `pdq` table).
    const V1: &str = "CREATE TABLE schema(version INTEGER NOT NULL);
        CREATE TABLE entries(
           leaf_index INTEGER PRIMARY KEY,
           record_id TEXT NOT NULL UNIQUE,
           kind TEXT NOT NULL CHECK (kind IN ('item', 'event')),
           item_id TEXT NOT NULL,
           sealed BLOB NOT NULL);
        CREATE INDEX entries_item ON entries(item_id);
        CREATE TABLE content(blob TEXT PRIMARY KEY, leaf_index INTEGER NOT NULL);
        INSERT INTO schema(version) VALUES (1);";

    fn row(leaf: u64, id: &str, kind: EntryKind) -> EntryRow {
        EntryRow {
            leaf_index: leaf,
            record_id: id.into(),
            kind,
            item_id: id.into(),
            sealed: vec![leaf as u8],
        }
    }

    #[test]
    fn the_migration_makes_the_same_entries_table() {
        let columns = |sql: &str, table: &str| {
            let start = sql.find(&format!("{table}(")).unwrap() + table.len() + 1;
            sql[start..start + sql[start..].find(");").unwrap()].to_owned()
        };
        assert_eq!(
            columns(TABLES, "IF NOT EXISTS entries"),
            columns(MIGRATE_1_TO_2, "entries_new")
        );
    }

    #[test]
    fn a_version_1_index_is_migrated_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(V1).unwrap();
            conn.execute(
                "INSERT INTO entries VALUES (0, 'aa', 'item', 'aa', x'00')",
                [],
            )
            .unwrap();
            conn.execute("INSERT INTO content VALUES ('baa', 0)", [])
                .unwrap();
            assert!(
                conn.execute(
                    "INSERT INTO entries VALUES (1, 'bb', 'audit', 'bb', x'01')",
                    []
                )
                .is_err(),
                "version 1 admits no audit record"
            );
        }
        let ix = SqliteIndex::open(&path, false).unwrap();
        assert_eq!(
            ix.entries(u64::MAX).unwrap(),
            [row(0, "aa", EntryKind::Item)]
        );
        assert_eq!(ix.history("aa", 1).unwrap().len(), 1);
        assert_eq!(ix.item_for_blob("baa", 1).unwrap(), Some(0));
        ix.insert(&IndexBatch {
            entries: vec![row(1, "bb", EntryKind::Audit)],
            submissions: vec![Submission {
                item_id: "aa".into(),
                account: "k1".into(),
                leaf_index: 1,
            }],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            ix.entries(u64::MAX).unwrap(),
            [
                row(0, "aa", EntryKind::Item),
                row(1, "bb", EntryKind::Audit)
            ]
        );
        assert_eq!(ix.submitters("aa", 2).unwrap(), ["k1"]);
        assert!(ix.pdq_rows(u64::MAX).unwrap().is_empty(), "pdq made too");
        {
            let conn = ix.conn();
            assert_eq!(schema_version(&conn).unwrap(), Some(2));
            let indexed: bool = conn
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'entries_item')",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert!(indexed, "the item index is made again");
        }
        assert!(ix.integrity_problems().unwrap().is_empty());
        drop(ix);
        // Migrated once: it opens as version 2 from now on.
        let ix = SqliteIndex::open(&path, false).unwrap();
        assert_eq!(ix.entries(u64::MAX).unwrap().len(), 2);
    }

    #[test]
    fn an_unknown_schema_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        drop(SqliteIndex::open(&path, true).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute("UPDATE schema SET version = 3", [])
            .unwrap();
        let Err(e) = SqliteIndex::open(&path, false) else {
            panic!("version 3 opened");
        };
        assert!(e.to_string().contains("version Some(3)"), "{e}");
    }
}
