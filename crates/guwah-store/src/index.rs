//! The index contract: the private rows kept beside the public log.
//!
//! One row per log entry (its sealed metadata), one content row per item
//! (which blob holds its original), one derived row per hashed image or
//! video (its sealed perceptual hashes) and one submission row per item a
//! team account submitted (which account, recorded by which entry). The
//! store sees ids, kinds, leaf indices and opaque account keys, and opaque
//! sealed bytes.

use crate::contract::StoreError;

/// What a log entry is: an item, a custody event about one, or an audit
/// record about accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// An item: an original and its record.
    Item,
    /// A custody event about an item.
    Event,
    /// An audit record: what a server did to and through its accounts. It
    /// is about no item; its `item_id` is its own record id, as an item's.
    Audit,
}

impl EntryKind {
    /// `item`, `event` or `audit`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Item => "item",
            EntryKind::Event => "event",
            EntryKind::Audit => "audit",
        }
    }

    /// The kind stored as `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "item" => Some(EntryKind::Item),
            "event" => Some(EntryKind::Event),
            "audit" => Some(EntryKind::Audit),
            _ => None,
        }
    }
}

/// The index row of one log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRow {
    /// Its position in the log.
    pub leaf_index: u64,
    /// Hex leaf hash of the entry's record.
    pub record_id: String,
    /// Item, event or audit record.
    pub kind: EntryKind,
    /// Hex id of the item it is about (for an item or an audit record, its
    /// own record id).
    pub item_id: String,
    /// What the entry keeps private, sealed by the caller; opaque here.
    pub sealed: Vec<u8>,
}

/// That a team account submitted an item: who gave the vault what.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Submission {
    /// Hex id of the item submitted.
    pub item_id: String,
    /// The key of the account that submitted it (see
    /// [`crate::AccountStore`]); opaque here.
    pub account: String,
    /// The log entry that recorded the submission (an entry of the same
    /// batch, of any kind): the row is as committed as that entry.
    pub leaf_index: u64,
}

/// Everything one append adds to the index, inserted in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexBatch {
    /// One row per new log entry, in log order.
    pub entries: Vec<EntryRow>,
    /// `(blob name, leaf index of the item whose original it holds)`.
    pub content: Vec<(String, u64)>,
    /// `(leaf index of an item, its sealed perceptual hashes)`.
    pub pdq: Vec<(u64, Vec<u8>)>,
    /// Which account submitted which item.
    pub submissions: Vec<Submission>,
}

impl IndexBatch {
    /// Whether the batch adds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
            && self.content.is_empty()
            && self.pdq.is_empty()
            && self.submissions.is_empty()
    }

    /// The batch's own consistency, checked by every backend before it
    /// writes anything: entries in ascending leaf order with distinct
    /// record ids, every content and PDQ row about an item entry of the
    /// same batch (so no such row can exist for an entry the index does not
    /// hold), each blob and item at most once, and every submission
    /// recorded by an entry of the same batch, each `(item, account)` pair
    /// at most once.
    pub fn check(&self) -> Result<(), StoreError> {
        let refuse = |why: String| {
            Err(StoreError::Conflict {
                object: "index batch".into(),
                why,
            })
        };
        let mut ids = std::collections::HashSet::new();
        for pair in self.entries.windows(2) {
            if pair[0].leaf_index >= pair[1].leaf_index {
                return refuse(format!(
                    "entries are not in ascending leaf order ({} then {})",
                    pair[0].leaf_index, pair[1].leaf_index
                ));
            }
        }
        for e in &self.entries {
            if !ids.insert(e.record_id.as_str()) {
                return refuse(format!("record {} appears twice", e.record_id));
            }
        }
        let is_item = |leaf: u64| {
            self.entries
                .binary_search_by_key(&leaf, |e| e.leaf_index)
                .is_ok_and(|i| self.entries[i].kind == EntryKind::Item)
        };
        let mut blobs = std::collections::HashSet::new();
        for (blob, leaf) in &self.content {
            if !is_item(*leaf) {
                return refuse(format!(
                    "content row of blob {blob} names leaf {leaf}, not an item of this batch"
                ));
            }
            if !blobs.insert(blob.as_str()) {
                return refuse(format!("blob {blob} has two content rows"));
            }
        }
        let mut hashed = std::collections::HashSet::new();
        for (leaf, _) in &self.pdq {
            if !is_item(*leaf) {
                return refuse(format!(
                    "PDQ row names leaf {leaf}, not an item of this batch"
                ));
            }
            if !hashed.insert(*leaf) {
                return refuse(format!("leaf {leaf} has two PDQ rows"));
            }
        }
        let mut submitted = std::collections::HashSet::new();
        for s in &self.submissions {
            let leaf = s.leaf_index;
            if self
                .entries
                .binary_search_by_key(&leaf, |e| e.leaf_index)
                .is_err()
            {
                return refuse(format!(
                    "submission of item {} names leaf {leaf}, not an entry of this batch",
                    s.item_id
                ));
            }
            if !submitted.insert((s.item_id.as_str(), s.account.as_str())) {
                return refuse(format!(
                    "item {} is submitted twice by account {}",
                    s.item_id, s.account
                ));
            }
        }
        Ok(())
    }
}

/// The index: rows about log entries, written by appends, read by size.
///
/// Contract:
/// - **Readers see only committed rows.** Every query takes the committed
///   tree size (from the latest checkpoint, read first) and returns only
///   rows whose leaf index is below it; rows at or past it belong to an
///   append that has not committed, or never will. `u64::MAX` asks for
///   every row (the fsck uses it to find leftovers). Each call sees every
///   `insert` and `roll_back_past` whole or not at all.
/// - **`insert` is atomic**: every row of the batch becomes visible, or
///   none. It is **durable when it returns** — or, in a deployment that keeps
///   the checkpoint in the same database, it may be staged and committed
///   with the checkpoint swap in one transaction; either way, durable no
///   later than the swap. It refuses, with [`StoreError::Conflict`] and no
///   change, a batch that fails [`IndexBatch::check`] or whose leaf index,
///   record id or content blob is stored already. A submission of an
///   `(item, account)` pair stored already (by an earlier batch) is not a
///   clash: the same person submitted the same content again.
/// - **`roll_back_past(n)`** deletes every entry, content, PDQ and
///   submission row at or past leaf `n` in one transaction, durably on return, and says how
///   many entry rows went. The writer holding the lock calls it with the
///   committed size before it inserts anything: it is how an interrupted
///   append's rows go.
/// - Rows are opaque: `sealed` bytes are never interpreted, ids are
///   compared as strings, [`IndexStore::items_by_prefix`] matches a string
///   prefix. Writes are made only by the writer holding the lock.
pub trait IndexStore: Send + Sync {
    /// Insert one append's rows in one transaction.
    fn insert(&self, batch: &IndexBatch) -> Result<(), StoreError>;
    /// Delete every row at or past `committed_size`; returns how many
    /// entry rows were deleted.
    fn roll_back_past(&self, committed_size: u64) -> Result<u64, StoreError>;
    /// Every entry row below `size`, in log order.
    fn entries(&self, size: u64) -> Result<Vec<EntryRow>, StoreError>;
    /// Item rows below `size` whose record id starts with `prefix`, in log
    /// order, at most `limit` of them.
    fn items_by_prefix(
        &self,
        prefix: &str,
        size: u64,
        limit: usize,
    ) -> Result<Vec<EntryRow>, StoreError>;
    /// Every entry row below `size` about item `item_id` (its own and its
    /// events'), in log order.
    fn history(&self, item_id: &str, size: u64) -> Result<Vec<EntryRow>, StoreError>;
    /// The leaf index of the item below `size` whose original is `blob`.
    fn item_for_blob(&self, blob: &str, size: u64) -> Result<Option<u64>, StoreError>;
    /// Every `(blob, leaf index)` content row below `size`.
    fn content(&self, size: u64) -> Result<Vec<(String, u64)>, StoreError>;
    /// Every `(leaf index, sealed)` PDQ row below `size`, in log order.
    fn pdq_rows(&self, size: u64) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;
    /// The sealed PDQ row of entry `leaf_index`, if it has one (and is below
    /// `size`). A database backend answers from its key, not by scanning.
    fn pdq_row(&self, leaf_index: u64, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .pdq_rows(size)?
            .into_iter()
            .find_map(|(leaf, sealed)| (leaf == leaf_index).then_some(sealed)))
    }
    /// The items account `account` submitted by an entry below `size`:
    /// distinct item ids, in the leaf order of each one's first submission.
    fn submissions_of(&self, account: &str, size: u64) -> Result<Vec<String>, StoreError>;
    /// The accounts that submitted item `item_id` by an entry below `size`:
    /// distinct account keys, in the leaf order of each one's first
    /// submission.
    fn submitters(&self, item_id: &str, size: u64) -> Result<Vec<String>, StoreError>;
    /// The backend's own consistency check of its storage (SQLite:
    /// `PRAGMA integrity_check`), as `(object, problem)`; empty when all is
    /// well or the backend has no such check.
    fn integrity_problems(&self) -> Result<Vec<(String, String)>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(leaf: u64, id: &str, kind: EntryKind) -> EntryRow {
        EntryRow {
            leaf_index: leaf,
            record_id: id.into(),
            kind,
            item_id: id.into(),
            sealed: vec![leaf as u8],
        }
    }

    fn sub(item: &str, account: &str, leaf: u64) -> Submission {
        Submission {
            item_id: item.into(),
            account: account.into(),
            leaf_index: leaf,
        }
    }

    #[test]
    fn kinds_round_trip() {
        for k in [EntryKind::Item, EntryKind::Event, EntryKind::Audit] {
            assert_eq!(EntryKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EntryKind::parse("other"), None);
    }

    #[test]
    fn batches_are_checked() {
        let mut b = IndexBatch {
            entries: vec![
                row(4, "aa", EntryKind::Item),
                row(5, "bb", EntryKind::Event),
            ],
            content: vec![("b1".into(), 4)],
            pdq: vec![(4, vec![1])],
            submissions: vec![sub("aa", "k1", 5)],
        };
        b.check().unwrap();
        b.submissions.push(sub("aa", "k2", 4));
        b.check().unwrap();
        b.submissions.push(sub("aa", "k1", 4));
        assert!(b.check().is_err(), "the same pair twice");
        b.submissions.pop();
        b.submissions.push(sub("bb", "k1", 6));
        assert!(b.check().is_err(), "submission by no entry of the batch");
        b.submissions.pop();
        b.pdq.push((5, vec![2]));
        assert!(b.check().is_err(), "PDQ row for an event");
        b.pdq.pop();
        b.content.push(("b2".into(), 6));
        assert!(b.check().is_err(), "content row for no entry of the batch");
        b.content.pop();
        b.entries.push(row(5, "cc", EntryKind::Item));
        assert!(b.check().is_err(), "leaf order");
    }
}
