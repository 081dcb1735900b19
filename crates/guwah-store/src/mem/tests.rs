use super::*;
use crate::contract::{KeyedStore, WriterLock};
use crate::index::{EntryKind, IndexBatch, IndexStore};

fn put_blob(store: &MemStore, name: &str, data: &[u8]) -> Result<(), StoreError> {
    let mut staged = store.create()?;
    staged.write_all(data).unwrap();
    staged.commit(name)
}

fn batch(leaf: u64, id: &str) -> IndexBatch {
    IndexBatch {
        entries: vec![EntryRow {
            leaf_index: leaf,
            record_id: id.into(),
            kind: EntryKind::Item,
            item_id: id.into(),
            sealed: vec![1, 2, 3],
        }],
        content: vec![(format!("b{id}"), leaf)],
        pdq: vec![(leaf, vec![9])],
        ..Default::default()
    }
}

#[test]
fn crash_keeps_only_durable_state() {
    let store = MemStore::new();
    LogStore::write(&store, "tile/0/000.p/1", b"a").unwrap();
    store.sync_log().unwrap();
    LogStore::write(&store, "tile/0/000.p/2", b"b").unwrap();
    put_blob(&store, "ab", b"unsynced").unwrap();
    store.insert(&batch(0, "aa")).unwrap();
    store.put("tsa.json", b"{}").unwrap();
    store.crash();
    assert!(LogStore::read(&store, "tile/0/000.p/1").unwrap().is_some());
    assert!(LogStore::read(&store, "tile/0/000.p/2").unwrap().is_none());
    assert!(!store.exists("ab").unwrap(), "blob not synced");
    assert_eq!(
        store.entries(u64::MAX).unwrap().len(),
        1,
        "index is durable"
    );
    assert_eq!(store.get("tsa.json").unwrap().unwrap(), b"{}");
}

#[test]
fn log_objects_are_written_once_and_swap_needs_sync() {
    let store = MemStore::new();
    LogStore::write(&store, "tile/0/000.p/1", b"a").unwrap();
    assert!(matches!(
        store.swap(None, b"cp1"),
        Err(StoreError::Contract(_))
    ));
    store.sync_log().unwrap();
    store.swap(None, b"cp1").unwrap();
    assert!(matches!(
        LogStore::write(&store, "tile/0/000.p/1", b"other"),
        Err(StoreError::Conflict { .. })
    ));
    LogStore::write(&store, "tile/0/000.p/1", b"a").unwrap();
    assert!(matches!(
        LogStore::remove(&store, "tile/0/000.p/1"),
        Err(StoreError::Contract(_))
    ));
}

#[test]
fn leftovers_of_an_uncommitted_writer_may_be_removed() {
    let store = MemStore::new();
    let g = store.try_lock().unwrap();
    LogStore::write(&store, "tile/0/000.p/1", b"uncommitted").unwrap();
    store.sync_log().unwrap();
    drop(g);
    // The next writer commits something else; the leftover stays removable.
    let _g = store.try_lock().unwrap();
    LogStore::write(&store, "tile/0/000.p/2", b"x").unwrap();
    store.sync_log().unwrap();
    store.swap(None, b"cp").unwrap();
    LogStore::remove(&store, "tile/0/000.p/1").unwrap();
    assert!(matches!(
        LogStore::remove(&store, "tile/0/000.p/2"),
        Err(StoreError::Contract(_))
    ));
}

#[test]
fn swap_needs_blobs_synced() {
    let store = MemStore::new();
    put_blob(&store, "ab", b"x").unwrap();
    assert!(matches!(
        store.swap(None, b"cp"),
        Err(StoreError::Contract(_))
    ));
    store.sync_blobs().unwrap();
    store.swap(None, b"cp").unwrap();
}

#[test]
fn blobs_are_written_once() {
    let store = MemStore::new();
    put_blob(&store, "ab", b"one").unwrap();
    assert!(matches!(
        put_blob(&store, "ab", b"two"),
        Err(StoreError::Conflict { .. })
    ));
    BlobStore::remove(&store, "ab").unwrap();
    put_blob(&store, "ab", b"two").unwrap();
}

#[test]
fn index_rows_go_in_once_and_roll_back() {
    let store = MemStore::new();
    store.insert(&batch(0, "aa")).unwrap();
    assert!(matches!(
        store.insert(&batch(0, "bb")),
        Err(StoreError::Conflict { .. })
    ));
    store.insert(&batch(1, "bb")).unwrap();
    assert_eq!(store.entries(1).unwrap().len(), 1, "readers see below size");
    assert_eq!(store.items_by_prefix("b", 5, 2).unwrap().len(), 1);
    assert_eq!(store.item_for_blob("bbb", 1).unwrap(), None);
    assert_eq!(store.item_for_blob("bbb", 2).unwrap(), Some(1));
    assert_eq!(store.roll_back_past(1).unwrap(), 1);
    assert!(store.pdq_rows(u64::MAX).unwrap().len() == 1);
    assert!(store.content(u64::MAX).unwrap().len() == 1);
}

#[test]
fn one_writer_and_crash_releases_the_lock() {
    let store = MemStore::new();
    store.enforce_writer_lock(true);
    assert!(matches!(store.put("k", b"v"), Err(StoreError::Contract(_))));
    let g = store.try_lock().unwrap();
    assert!(matches!(store.try_lock(), Err(StoreError::Locked(_))));
    store.put("k", b"v").unwrap();
    store.crash();
    let g2 = store.try_lock().unwrap();
    drop(g); // stale: must not release the new holder's lock
    assert!(matches!(store.try_lock(), Err(StoreError::Locked(_))));
    drop(g2);
    store.try_lock().unwrap();
}

#[test]
fn faults_fail_lose_replies_or_stop() {
    let store = MemStore::new();
    store.inject(1, Fault::Fail);
    store.put("a", b"1").unwrap();
    assert!(store.put("b", b"2").is_err());
    store.put("c", b"3").unwrap();
    assert_eq!(store.get("b").unwrap(), None, "a failed call has no effect");

    store.inject(0, Fault::LostReply);
    assert!(store.put("d", b"4").is_err());
    assert_eq!(
        store.get("d").unwrap().unwrap(),
        b"4",
        "a lost reply took effect"
    );

    store.inject(0, Fault::Crash);
    assert!(store.put("e", b"5").is_err());
    assert!(store.get("a").is_err(), "a stopped process makes no call");
    store.crash();
    assert_eq!(store.get("e").unwrap(), None);
    assert_eq!(store.call_name(0).as_deref(), Some("keyed put a"));
}

#[test]
fn staged_blobs_a_crash_left_are_leftovers_until_cleared() {
    let store = MemStore::new();
    let mut staged = store.create().unwrap();
    staged.write_all(b"half").unwrap();
    store.crash();
    drop(staged);
    assert_eq!(store.staged_leftovers(), 1);
    store.clear_staged().unwrap();
    assert_eq!(store.staged_leftovers(), 0);
}

#[test]
fn injected_faults_reach_ranged_reads() {
    let store = MemStore::new();
    put_blob(&store, "ab", b"0123456789").unwrap();
    let mut blob = store.open_ranged("ab").unwrap();
    store.fail_after(1);
    let mut buf = [0u8; 4];
    blob.read_exact_at(2, &mut buf).unwrap();
    assert_eq!(&buf, b"2345");
    assert!(matches!(
        blob.read_exact_at(0, &mut buf),
        Err(StoreError::Io { .. })
    ));
}

#[test]
fn forks_are_independent() {
    let store = MemStore::new();
    store.put("a", b"1").unwrap();
    let fork = store.fork();
    fork.put("a", b"2").unwrap();
    assert_eq!(store.get("a").unwrap().unwrap(), b"1");
    assert_eq!(fork.calls(), 1);
}
