//! Print what `guwah_media::extract` reads from each file given.
//!
//! `cargo run -p guwah-media --example inspect -- FILE...`

use std::fs::File;

fn main() {
    for path in std::env::args().skip(1) {
        let Ok(mut f) = File::open(&path) else {
            eprintln!("{path}: cannot open");
            continue;
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let mut head = [0u8; 16];
        let n = std::io::Read::read(&mut f, &mut head).unwrap_or(0);
        let mt = guess(&head[..n]);
        let e = guwah_media::extract(mt, &mut f, len);
        println!("{path} ({mt})");
        for (k, v) in &e.fields {
            println!("  {k} = {v:?}");
        }
        for w in &e.warnings {
            println!("  warning: {w}");
        }
    }
}

fn guess(h: &[u8]) -> &'static str {
    if h.get(4..8) == Some(b"ftyp") {
        "video/mp4"
    } else {
        "application/octet-stream"
    }
}
