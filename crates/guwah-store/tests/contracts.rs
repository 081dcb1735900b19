//! The contracts of the log, checkpoint, index, lock and keyed stores,
//! checked on every backend alike (the blob store's are in
//! `blob_contract.rs`). A new backend adds itself to `on_every_backend`.

use guwah_store::mem::MemStore;
use guwah_store::{Backend, EntryKind, EntryRow, IndexBatch, StoreError, Submission};

/// Runs `check` against a fresh backend of each kind.
fn on_every_backend(check: impl Fn(&Backend)) {
    check(&MemStore::new().backend());
    let dir = tempfile::tempdir().unwrap();
    check(&Backend::create_local(dir.path()).unwrap());
}

fn row(leaf: u64, id: &str, kind: EntryKind, item: &str) -> EntryRow {
    EntryRow {
        leaf_index: leaf,
        record_id: id.into(),
        kind,
        item_id: item.into(),
        sealed: format!("sealed {leaf}").into_bytes(),
    }
}

/// Two items and an event about the first, at leaves `at..at + 3`.
fn batch(at: u64, tag: &str) -> IndexBatch {
    let a = format!("a{tag}");
    let b = format!("b{tag}");
    IndexBatch {
        entries: vec![
            row(at, &a, EntryKind::Item, &a),
            row(at + 1, &b, EntryKind::Item, &b),
            row(at + 2, &format!("e{tag}"), EntryKind::Event, &a),
        ],
        content: vec![(format!("c{tag}0"), at), (format!("c{tag}1"), at + 1)],
        pdq: vec![(at + 1, b"hashes".to_vec())],
        ..Default::default()
    }
}

#[test]
fn log_objects_are_written_once() {
    on_every_backend(|s| {
        s.log.write("tile/0/000.p/2", b"ab").unwrap();
        s.log.write("tile/0/000.p/2", b"ab").unwrap();
        let err = s.log.write("tile/0/000.p/2", b"xy").unwrap_err();
        assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
        assert!(err.to_string().contains("tile/0/000.p/2"), "{err}");
        assert_eq!(s.log.read("tile/0/000.p/2").unwrap().unwrap(), b"ab");
        s.log.remove("tile/0/000.p/2").unwrap();
        s.log.remove("tile/0/000.p/2").unwrap();
        s.log.write("tile/0/000.p/2", b"xy").unwrap();
        s.log.sync_log().unwrap();
        assert_eq!(s.log.read("tile/0/000.p/2").unwrap().unwrap(), b"xy");
        assert!(s.log.write("tile/../x", b"x").is_err());
    });
}

#[test]
fn the_checkpoint_moves_only_by_compare_and_swap() {
    on_every_backend(|s| {
        let c = &s.checkpoints;
        assert_eq!(c.latest().unwrap(), None);
        c.swap(None, b"one").unwrap();
        for wrong in [None, Some(&b"zero"[..])] {
            assert!(matches!(
                c.swap(wrong, b"two"),
                Err(StoreError::CheckpointConflict)
            ));
        }
        c.swap(Some(b"one"), b"two").unwrap();
        assert_eq!(c.latest().unwrap().unwrap(), b"two");
        c.put_history(9, b"nine").unwrap();
        c.put_history(2, b"two").unwrap();
        c.put_history(9, b"nine, cosigned").unwrap();
        assert_eq!(c.history_sizes().unwrap(), [2, 9]);
        assert_eq!(c.history(9).unwrap().unwrap(), b"nine, cosigned");
        assert_eq!(c.history(3).unwrap(), None);
    });
}

#[test]
fn index_readers_see_only_below_the_size_they_give() {
    on_every_backend(|s| {
        let ix = &s.index;
        ix.insert(&batch(0, "0")).unwrap();
        ix.insert(&batch(3, "1")).unwrap();
        assert_eq!(ix.entries(u64::MAX).unwrap().len(), 6);
        let committed = ix.entries(3).unwrap();
        assert_eq!(committed, batch(0, "0").entries, "in log order, whole");
        assert_eq!(
            ix.history("a0", 3).unwrap().len(),
            2,
            "the item and its event"
        );
        assert_eq!(ix.history("a1", 3).unwrap().len(), 0);
        assert_eq!(ix.items_by_prefix("a", 6, 5).unwrap().len(), 2);
        assert_eq!(ix.items_by_prefix("a", 6, 1).unwrap().len(), 1);
        assert_eq!(
            ix.items_by_prefix("e", 6, 5).unwrap().len(),
            0,
            "items only"
        );
        assert_eq!(ix.item_for_blob("c10", 3).unwrap(), None);
        assert_eq!(ix.item_for_blob("c10", 4).unwrap(), Some(3));
        assert_eq!(ix.content(3).unwrap().len(), 2);
        assert_eq!(
            ix.pdq_rows(u64::MAX).unwrap(),
            [(1, b"hashes".to_vec()), (4, b"hashes".to_vec())]
        );
        assert_eq!(ix.pdq_row(4, u64::MAX).unwrap(), Some(b"hashes".to_vec()));
        assert_eq!(ix.pdq_row(4, 4).unwrap(), None, "past the size");
        assert_eq!(ix.pdq_row(2, u64::MAX).unwrap(), None, "no row");
        assert!(ix.integrity_problems().unwrap().is_empty());
    });
}

#[test]
fn an_index_batch_goes_in_whole_or_not_at_all() {
    on_every_backend(|s| {
        let ix = &s.index;
        ix.insert(&batch(0, "0")).unwrap();
        // Each clash refuses the whole batch: nothing of it is stored.
        let mut clashes = Vec::new();
        let mut b = batch(3, "1");
        b.entries[2].leaf_index = 2; // a leaf that is taken
        b.entries.sort_by_key(|e| e.leaf_index);
        clashes.push(b);
        let mut b = batch(3, "1");
        b.entries[1].record_id = "a0".into(); // a record that is stored
        clashes.push(b);
        let mut b = batch(3, "1");
        b.content[1].0 = "c00".into(); // a blob that has its row
        clashes.push(b);
        let mut b = batch(3, "1");
        b.pdq.push((5, vec![1])); // a PDQ row for an event
        clashes.push(b);
        for b in clashes {
            let err = ix.insert(&b).unwrap_err();
            assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
            assert_eq!(ix.entries(u64::MAX).unwrap().len(), 3, "{err}");
            assert_eq!(ix.content(u64::MAX).unwrap().len(), 2, "{err}");
            assert_eq!(ix.pdq_rows(u64::MAX).unwrap().len(), 1, "{err}");
        }
        ix.insert(&batch(3, "1")).unwrap();
    });
}

#[test]
fn roll_back_removes_every_row_past_the_size() {
    on_every_backend(|s| {
        let ix = &s.index;
        ix.insert(&batch(0, "0")).unwrap();
        ix.insert(&batch(3, "1")).unwrap();
        assert_eq!(ix.roll_back_past(3).unwrap(), 3);
        assert_eq!(ix.entries(u64::MAX).unwrap(), batch(0, "0").entries);
        assert_eq!(ix.content(u64::MAX).unwrap().len(), 2);
        assert_eq!(ix.pdq_rows(u64::MAX).unwrap().len(), 1);
        assert_eq!(ix.roll_back_past(3).unwrap(), 0);
        ix.insert(&batch(3, "2")).unwrap();
    });
}

fn sub(item: &str, account: &str, leaf: u64) -> Submission {
    Submission {
        item_id: item.into(),
        account: account.into(),
        leaf_index: leaf,
    }
}

#[test]
fn submissions_are_read_below_the_size_and_roll_back() {
    on_every_backend(|s| {
        let ix = &s.index;
        let mut b = batch(0, "0");
        // k1 submits both items; k2 the first, recorded by the event.
        b.submissions = vec![sub("b0", "k1", 1), sub("a0", "k1", 0), sub("a0", "k2", 2)];
        ix.insert(&b).unwrap();
        let mut b = batch(3, "1");
        // The same content again by k1, and the new item by k2 then k1.
        b.submissions = vec![sub("a0", "k1", 3), sub("a1", "k2", 3), sub("a1", "k1", 4)];
        ix.insert(&b).unwrap();

        assert_eq!(ix.submissions_of("k1", 1).unwrap(), ["a0"]);
        assert_eq!(
            ix.submissions_of("k1", 3).unwrap(),
            ["a0", "b0"],
            "leaf order"
        );
        assert_eq!(
            ix.submissions_of("k1", u64::MAX).unwrap(),
            ["a0", "b0", "a1"],
            "each item once"
        );
        assert_eq!(ix.submissions_of("k2", 3).unwrap(), ["a0"]);
        assert!(ix.submissions_of("k3", u64::MAX).unwrap().is_empty());
        assert_eq!(ix.submitters("a0", 2).unwrap(), ["k1"]);
        assert_eq!(ix.submitters("a0", u64::MAX).unwrap(), ["k1", "k2"]);
        assert_eq!(ix.submitters("a1", u64::MAX).unwrap(), ["k2", "k1"]);
        assert!(ix.submitters("a1", 3).unwrap().is_empty());

        ix.roll_back_past(3).unwrap();
        assert!(ix.submitters("a1", u64::MAX).unwrap().is_empty());
        assert_eq!(ix.submissions_of("k1", u64::MAX).unwrap(), ["a0", "b0"]);
        assert_eq!(ix.submitters("a0", u64::MAX).unwrap(), ["k1", "k2"]);
    });
}

#[test]
fn a_submission_must_be_recorded_by_its_batch() {
    on_every_backend(|s| {
        let ix = &s.index;
        ix.insert(&batch(0, "0")).unwrap();
        for subs in [
            vec![sub("a0", "k1", 2)], // a stored entry, not of this batch
            vec![sub("a1", "k1", 6)], // no entry at all
            vec![sub("a1", "k1", 3), sub("a1", "k1", 4)], // the pair twice
        ] {
            let mut b = batch(3, "1");
            b.submissions = subs;
            let err = ix.insert(&b).unwrap_err();
            assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
            assert_eq!(ix.entries(u64::MAX).unwrap().len(), 3, "{err}");
            assert!(ix.submitters("a1", u64::MAX).unwrap().is_empty(), "{err}");
        }
    });
}

#[test]
fn audit_records_are_entries_of_their_own() {
    on_every_backend(|s| {
        let ix = &s.index;
        let mut b = batch(0, "0");
        b.entries.push(row(3, "f0", EntryKind::Audit, "f0"));
        ix.insert(&b).unwrap();
        assert_eq!(ix.entries(u64::MAX).unwrap()[3].kind, EntryKind::Audit);
        assert_eq!(ix.history("f0", u64::MAX).unwrap().len(), 1);
        assert!(ix.items_by_prefix("f", u64::MAX, 5).unwrap().is_empty());
        let mut b = batch(4, "1");
        b.pdq.push((3 + 4, vec![1])); // leaf 7 does not exist
        b.entries.push(row(7, "f1", EntryKind::Audit, "f1"));
        assert!(ix.insert(&b).is_err(), "a PDQ row for an audit record");
    });
}

#[test]
fn one_writer_at_a_time() {
    on_every_backend(|s| {
        let g = s.lock.try_lock().unwrap();
        assert!(matches!(s.lock.try_lock(), Err(StoreError::Locked(_))));
        drop(g);
        let _g = s.lock.try_lock().unwrap();
    });
}

#[test]
fn keyed_values_are_replaced_whole_and_listed_by_prefix() {
    on_every_backend(|s| {
        let k = &s.keyed;
        assert_eq!(k.get("tsa.json").unwrap(), None);
        k.put("tsa.json", b"{\"version\": 1}").unwrap();
        k.put("tsa.json", b"{}").unwrap();
        assert_eq!(k.get("tsa.json").unwrap().unwrap(), b"{}");
        for key in [
            "timestamps/12/b.tsr",
            "timestamps/12/a.tsr",
            "timestamps/3/a.tsr",
        ] {
            k.put(key, key.as_bytes()).unwrap();
        }
        assert_eq!(
            k.list("timestamps/").unwrap(),
            [
                "timestamps/12/a.tsr",
                "timestamps/12/b.tsr",
                "timestamps/3/a.tsr"
            ]
        );
        assert_eq!(k.list("timestamps/12/").unwrap().len(), 2);
        assert_eq!(k.list("timestamps/1").unwrap().len(), 2);
        assert_eq!(k.list("nothing/").unwrap().len(), 0);
        assert!(k.list("").unwrap().contains(&"tsa.json".to_string()));
        k.delete("timestamps/3/a.tsr").unwrap();
        k.delete("timestamps/3/a.tsr").unwrap();
        assert_eq!(k.get("timestamps/3/a.tsr").unwrap(), None);
        for bad in ["", "../x", "a/.b", "a//b", "/abs"] {
            assert!(
                matches!(k.put(bad, b"x"), Err(StoreError::InvalidName { .. })),
                "{bad:?}"
            );
        }
    });
}
