//! tlog-tiles against a real Tessera log, and the appender against in-memory trees.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use guwah_core::merkle::{
    Hash, LeafHashes, consistency_proof, empty_root, inclusion_proof, leaf_hash,
    root_from_leaf_hashes, tree_root, verify_consistency, verify_inclusion,
};
use guwah_core::tiles::{
    EntryBundleId, TileError, TileId, TileNodeSource, append_entries, append_hash_tiles,
    check_entry_bundles, encode_entry_bundle, entry_bundles_for_size, parse_entry_bundle,
    parse_hash_tile, tiles_for_size,
};
use std::collections::HashMap;

const LOG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/tessera-log"
);

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(format!("{LOG}/{path}")).map_err(|e| e.to_string())
}

/// The entries, as SOURCE lists them.
fn entries() -> Vec<Vec<u8>> {
    let source = String::from_utf8(read("SOURCE").unwrap()).unwrap();
    let line = source
        .lines()
        .find_map(|l| l.strip_prefix("entries, in order: "));
    let words = line.unwrap().split(" (").next().unwrap();
    let entries: Vec<Vec<u8>> = words.split(' ').map(|w| w.as_bytes().to_vec()).collect();
    assert_eq!(entries.len(), 15);
    entries
}

/// (size, root) from the first three lines of `checkpoint.<size>`.
fn checkpoint(size: u64) -> Hash {
    let text = String::from_utf8(read(&format!("checkpoint.{size}")).unwrap()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "example.com/log/testdata");
    assert_eq!(lines[1].parse::<u64>().unwrap(), size);
    STANDARD.decode(lines[2]).unwrap().try_into().unwrap()
}

fn fixture_tiles(id: TileId) -> Result<Vec<u8>, String> {
    read(&id.path())
}

#[test]
fn tessera_log_reads_and_proves() {
    let entries = entries();
    assert_eq!(checkpoint(0), empty_root());
    let roots: Vec<Hash> = (0..=15).map(checkpoint).collect();
    for size in 1..=15u64 {
        let [bundle_id] = entry_bundles_for_size(size)[..] else {
            panic!("one bundle expected")
        };
        let bytes = read(&bundle_id.path()).unwrap();
        let got = parse_entry_bundle(bundle_id, &bytes).unwrap();
        assert_eq!(got, entries[..size as usize]);
        assert_eq!(encode_entry_bundle(&got).unwrap(), bytes);

        let [tile_id] = tiles_for_size(size)[..] else {
            panic!("one tile expected")
        };
        assert_eq!(tile_id, bundle_id.tile());
        let tile = parse_hash_tile(tile_id, &read(&tile_id.path()).unwrap()).unwrap();
        let leaves: Vec<Hash> = got.iter().map(|e| leaf_hash(e)).collect();
        assert_eq!(tile, leaves);
        check_entry_bundles(size, fixture_tiles, |b| read(&b.path())).unwrap();

        let mut src = TileNodeSource::new(size, fixture_tiles);
        assert_eq!(tree_root(size, &mut src).unwrap(), roots[size as usize]);
        assert_eq!(root_from_leaf_hashes(&leaves), roots[size as usize]);
        for i in 0..size {
            let proof = inclusion_proof(i, size, &mut src).unwrap();
            verify_inclusion(i, size, &leaves[i as usize], &proof, &roots[size as usize]).unwrap();
        }
        for old in 1..=size {
            let proof = consistency_proof(old, size, &mut src).unwrap();
            let (r1, r2) = (&roots[old as usize], &roots[size as usize]);
            verify_consistency(old, size, &proof, r1, r2).unwrap();
        }
    }
    // A level-0 tile that does not match its bundle is caught and named.
    let err = check_entry_bundles(3, fixture_tiles, |_| {
        Ok::<_, String>(encode_entry_bundle(&[b"one", b"two", b"tri"]).unwrap())
    });
    let msg = err.unwrap_err().to_string();
    assert!(
        msg.contains("tile/0/000.p/3") && msg.contains("hash 2"),
        "{msg}"
    );
}

/// A deterministic xorshift generator, so failures reproduce.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Tiles and bundles by path; a path written twice must get the same bytes.
#[derive(Default)]
struct Store(HashMap<String, Vec<u8>>);
impl Store {
    fn get(&self, path: String) -> Result<Vec<u8>, String> {
        self.0
            .get(&path)
            .cloned()
            .ok_or(format!("{path} not stored"))
    }
    fn put(&mut self, path: String, bytes: Vec<u8>) {
        if let Some(old) = self.0.insert(path.clone(), bytes.clone()) {
            assert_eq!(old, bytes, "{path} rewritten with different bytes");
        }
    }
    fn append(&mut self, old_size: u64, entries: &[Vec<u8>]) {
        let new = append_entries(
            old_size,
            entries,
            |t| self.get(t.path()),
            |b| self.get(b.path()),
        );
        let new = new.unwrap();
        for (id, bytes) in new.tiles {
            self.put(id.path(), bytes);
        }
        for (id, bytes) in new.bundles {
            self.put(id.path(), bytes);
        }
    }
}

#[test]
fn appender_matches_tessera() {
    let entries = entries();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut splits: Vec<Vec<usize>> = vec![vec![1; 15], vec![15]];
    for _ in 0..30 {
        let mut split = Vec::new();
        let mut left = 15;
        while left > 0 {
            let n = 1 + rng.below(left as u64) as usize;
            split.push(n);
            left -= n;
        }
        splits.push(split);
    }
    for split in splits {
        let mut store = Store::default();
        let mut size = 0;
        for n in split {
            store.append(size as u64, &entries[size..size + n]);
            size += n;
        }
        for (path, bytes) in &store.0 {
            assert_eq!(*bytes, read(path).unwrap(), "{path}");
        }
        assert!(store.0.contains_key("tile/0/000.p/15"));
    }
}

#[test]
fn appender_builds_large_trees() {
    const TOTAL: u64 = 70_000;
    let entries: Vec<Vec<u8>> = (0..TOTAL)
        .map(|i| format!("entry {i}").into_bytes())
        .collect();
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let must_stop = [
        1, 255, 256, 257, 511, 512, 513, 65_535, 65_536, 65_537, 65_792, TOTAL,
    ];
    let mut rng = Rng(42);
    let mut store = Store::default();
    let (mut size, mut checked) = (0u64, Vec::new());
    while size < TOTAL {
        let next_stop = *must_stop.iter().find(|s| **s > size).unwrap();
        let max = if rng.below(4) == 0 { 3000 } else { 300 };
        let n = (1 + rng.below(max)).min(next_stop - size);
        store.append(size, &entries[size as usize..(size + n) as usize]);
        size += n;
        if must_stop.contains(&size) || rng.below(40) == 0 {
            check_tree(&store, &leaves[..size as usize], &checked, &mut rng);
            checked.push(size);
        }
    }
    let expected: usize = tiles_for_size(TOTAL).len() + entry_bundles_for_size(TOTAL).len();
    assert!(
        store.0.len() > expected,
        "partial tiles of earlier sizes are kept"
    );
}

/// Roots and proofs read from the stored tiles equal those from the leaf hashes.
fn check_tree(store: &Store, leaves: &[Hash], earlier: &[u64], rng: &mut Rng) {
    let size = leaves.len() as u64;
    let mut src = TileNodeSource::new(size, |t: TileId| store.get(t.path()));
    let root = root_from_leaf_hashes(leaves);
    assert_eq!(
        tree_root(size, &mut src).unwrap(),
        root,
        "root at size {size}"
    );
    for t in tiles_for_size(size) {
        assert!(store.0.contains_key(&t.path()), "{} missing", t.path());
    }
    check_entry_bundles(size, |t| store.get(t.path()), |b| store.get(b.path())).unwrap();
    for index in [0, size / 2, size - 1, rng.below(size)] {
        let proof = inclusion_proof(index, size, &mut src).unwrap();
        assert_eq!(
            proof,
            inclusion_proof(index, size, &mut LeafHashes(leaves)).unwrap()
        );
        verify_inclusion(index, size, &leaves[index as usize], &proof, &root).unwrap();
    }
    let picks = earlier.iter().rev().take(2).chain(earlier.first());
    for &old in picks.chain([&1, &size]) {
        let proof = consistency_proof(old, size, &mut src).unwrap();
        assert_eq!(
            proof,
            consistency_proof(old, size, &mut LeafHashes(leaves)).unwrap()
        );
        let old_root = root_from_leaf_hashes(&leaves[..old as usize]);
        verify_consistency(old, size, &proof, &old_root, &root).unwrap();
    }
}

#[test]
fn append_throughput() {
    let mut store = Store::default();
    let leaves: Vec<Hash> = (0..100_000u64)
        .map(|i| leaf_hash(&i.to_be_bytes()))
        .collect();
    let start = std::time::Instant::now();
    for (i, batch) in leaves.chunks(1000).enumerate() {
        let tiles = append_hash_tiles(i as u64 * 1000, batch, |t| store.get(t.path())).unwrap();
        for (id, bytes) in tiles {
            store.put(id.path(), bytes);
        }
    }
    let rate = 100_000.0 / start.elapsed().as_secs_f64();
    eprintln!("appended {rate:.0} leaves/s");
    if !cfg!(debug_assertions) {
        assert!(rate >= 100_000.0, "{rate:.0} leaves/s");
    }
    let mut src = TileNodeSource::new(100_000, |t: TileId| store.get(t.path()));
    assert_eq!(
        tree_root(100_000, &mut src).unwrap(),
        root_from_leaf_hashes(&leaves)
    );
}

#[test]
fn paths_round_trip_and_reject_non_canonical() {
    let cases = [
        (
            TileId {
                level: 0,
                index: 0,
                width: 256,
            },
            "tile/0/000",
        ),
        (
            TileId {
                level: 1,
                index: 1_234_067,
                width: 7,
            },
            "tile/1/x001/x234/067.p/7",
        ),
        (
            TileId {
                level: 63,
                index: u64::MAX,
                width: 255,
            },
            "tile/63/x018/x446/x744/x073/x709/x551/615.p/255",
        ),
    ];
    for (id, path) in cases {
        assert_eq!(id.path(), path);
        assert_eq!(TileId::parse_path(path).unwrap(), id);
    }
    let bundle = EntryBundleId {
        index: 1000,
        width: 3,
    };
    assert_eq!(bundle.path(), "tile/entries/x001/000.p/3");
    assert_eq!(
        EntryBundleId::parse_path("tile/entries/x001/000.p/3").unwrap(),
        bundle
    );
    for bad in [
        "tile/00/000",
        "tile/64/000",
        "tile/0/00",
        "tile/0/0000",
        "tile/0/x000/001",
        "tile/0/001/002",
        "tile/0/x1/002",
        "tile/0/000.p/256",
        "tile/0/000.p/0",
        "tile/0/000.p/07",
        "tile/0/000.p/",
        "tile/0/x018/x446/x744/x073/x709/x551/616",
        "tile/0/x001/x000/x000/x000/x000/x000/x000/000",
        "tile/0/000/",
        "tile/0/",
        "tile/entries/000",
        "tiles/0/000",
        "tile/0/+01",
        "tile/-1/000",
        "tile/0/000.p/1.p/2",
        "/tile/0/000",
    ] {
        assert!(TileId::parse_path(bad).is_err(), "{bad}");
    }
    assert!(EntryBundleId::parse_path("tile/0/000").is_err());
    assert!(EntryBundleId::parse_path("tile/entries/x000/000").is_err());
    assert!(TileId::new(64, 0, 1).is_err() && TileId::new(0, 0, 0).is_err());
    assert!(TileId::new(0, 0, 257).is_err() && EntryBundleId::new(0, 256).is_ok());
}

#[test]
fn tile_shapes_follow_the_spec() {
    // The spec's example: 273 full level-0 tiles, one partial of width 112, one full level-1
    // tile, one partial of width 17, one partial level-2 tile of width 1.
    let tiles = tiles_for_size(70_000);
    let partial: Vec<_> = tiles.iter().filter(|t| t.width < 256).collect();
    assert_eq!(
        tiles
            .iter()
            .filter(|t| t.level == 0 && t.width == 256)
            .count(),
        273
    );
    assert_eq!(
        tiles
            .iter()
            .filter(|t| t.level == 1 && t.width == 256)
            .count(),
        1
    );
    let shapes: Vec<_> = partial
        .iter()
        .map(|t| (t.level, t.index, t.width))
        .collect();
    assert_eq!(shapes, [(0, 273, 112), (1, 1, 17), (2, 0, 1)]);
    let at_256: Vec<_> = tiles_for_size(256).iter().map(TileId::path).collect();
    assert_eq!(at_256, ["tile/0/000", "tile/1/000.p/1"]);
    assert!(tiles_for_size(0).is_empty() && entry_bundles_for_size(0).is_empty());
    let at_65536: Vec<_> = tiles_for_size(65_536)
        .iter()
        .rev()
        .take(2)
        .map(TileId::path)
        .collect();
    assert_eq!(at_65536, ["tile/2/000.p/1", "tile/1/000"]);
}

#[test]
fn tile_and_bundle_contents_are_checked() {
    let id = TileId::parse_path("tile/0/x001/234.p/7").unwrap();
    let err = parse_hash_tile(id, &[0; 200]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tile/0/x001/234.p/7: expected 7 hashes (224 bytes), got 200 bytes"
    );
    assert!(parse_hash_tile(id, &[0; 224]).is_ok());

    let b = EntryBundleId { index: 0, width: 2 };
    let good = encode_entry_bundle(&[b"ab".as_slice(), b""]).unwrap();
    assert_eq!(good, [0, 2, b'a', b'b', 0, 0]);
    assert_eq!(
        parse_entry_bundle(b, &good).unwrap(),
        [b"ab".as_slice(), b""]
    );
    let trailing = parse_entry_bundle(b, &[good.as_slice(), &[0]].concat()).unwrap_err();
    assert!(
        matches!(trailing, TileError::BundleTrailing { extra: 1, .. }),
        "{trailing}"
    );
    for cut in 0..good.len() {
        let err = parse_entry_bundle(b, &good[..cut]).unwrap_err();
        assert!(
            err.to_string().starts_with("tile/entries/000.p/2: "),
            "{err}"
        );
    }
    assert!(parse_entry_bundle(EntryBundleId { index: 0, width: 1 }, &good).is_err());
    assert!(encode_entry_bundle(&[vec![0; 65_535]]).is_ok());
    let too_long = encode_entry_bundle(&[vec![], vec![0; 65_536]]).unwrap_err();
    assert!(matches!(
        too_long,
        TileError::EntryTooLong {
            entry: 1,
            len: 65_536
        }
    ));

    // Appending reads the old partial tile and rejects it when it is malformed.
    let short = append_hash_tiles(3, &[[0; 32]], |_| Ok::<_, String>(vec![0; 95]));
    assert!(
        short
            .unwrap_err()
            .to_string()
            .starts_with("tile/0/000.p/3: expected 3 hashes")
    );
    let missing = append_hash_tiles(3, &[[0; 32]], |_| Err("gone".to_string()));
    assert_eq!(
        missing.unwrap_err().to_string(),
        "tile/0/000.p/3: could not be read: gone"
    );
    assert!(append_hash_tiles(u64::MAX, &[[0; 32]], |_| Ok::<_, String>(vec![])).is_err());
    // A node source over a tree with a wrong-sized tile names the tile.
    let mut src = TileNodeSource::new(5, |_: TileId| Ok::<_, String>(vec![0; 32]));
    let err = tree_root(5, &mut src).unwrap_err().to_string();
    assert!(
        err.starts_with("tile/0/000.p/5: expected 5 hashes"),
        "{err}"
    );
    assert!(
        tree_root(
            6,
            &mut TileNodeSource::new(5, |_: TileId| Ok::<_, String>(vec![]))
        )
        .is_err()
    );
}
