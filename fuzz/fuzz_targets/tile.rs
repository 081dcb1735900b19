#![no_main]
//! Tile paths and hash tiles must parse or fail cleanly, and round-trip when they parse.

use guwah_core::tiles::{TileId, encode_hash_tile, parse_hash_tile};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(path) = std::str::from_utf8(data) {
        if let Ok(id) = TileId::parse_path(path) {
            assert_eq!(id.path(), path);
        }
    }
    let Some((&w, tile)) = data.split_first() else {
        return;
    };
    let id = TileId {
        level: 0,
        index: 0,
        width: u16::from(w) + 1,
    };
    if let Ok(hashes) = parse_hash_tile(id, tile) {
        assert_eq!(encode_hash_tile(&hashes), tile);
    }
});
