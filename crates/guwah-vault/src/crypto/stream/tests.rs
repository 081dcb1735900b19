//! Round trips, edge sizes and the classification of every kind of damage,
//! through the public entry points.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

use super::format::PIECE;
use super::pipeline::BATCH_CHUNKS;
use super::seal::encrypt_with_salt;
use super::*;

const BATCH_PLAIN: usize = BATCH_CHUNKS * CHUNK_SIZE;

fn key(byte: u8) -> BlobKey {
    BlobKey::from_bytes(&[byte; 32])
}

/// Deterministic pseudo-random bytes (xorshift), no RNG dependency.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A reader that hands out at most `step` bytes per call.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.step).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn encrypt(plain: &[u8], k: &BlobKey) -> Vec<u8> {
    let mut out = Vec::new();
    let sealed = encrypt_and_hash(plain, &mut out, k, &mut |_| {}).unwrap();
    assert_eq!(sealed.size, plain.len() as u64);
    assert_eq!(sealed.sha256, <[u8; 32]>::from(Sha256::digest(plain)));
    out
}

fn decrypt(blob: &[u8], k: &BlobKey) -> Result<(Vec<u8>, Sealed), StreamError> {
    let mut out = Vec::new();
    decrypt_and_hash(blob, &mut out, k, &mut |_| {}).map(|s| (out, s))
}

fn expected_len(n: usize) -> usize {
    HEADER_LEN + n + TAG_SIZE * n.div_ceil(CHUNK_SIZE).max(1)
}

const K: usize = CHUNK_SIZE;

#[test]
fn round_trips_at_edge_sizes() {
    let k = key(7);
    for (i, size) in [
        0,
        1,
        K - 1,
        K,
        K + 1,
        3 * K,
        BATCH_PLAIN - 1,
        BATCH_PLAIN,
        BATCH_PLAIN + 1,
        2 * BATCH_PLAIN,
        5 * BATCH_PLAIN / 2 + 12345,
    ]
    .into_iter()
    .enumerate()
    {
        let plain = noise(size, i as u64 + 1);
        let blob = encrypt(&plain, &k);
        assert_eq!(blob.len(), expected_len(size), "size {size}");
        assert_eq!(&blob[..MAGIC.len()], MAGIC);
        let (back, sealed) = decrypt(&blob, &k).unwrap();
        assert_eq!(back, plain, "size {size}");
        assert_eq!(sealed.size, size as u64);
        assert_eq!(sealed.sha256, <[u8; 32]>::from(Sha256::digest(&plain)));
    }
}

/// The bytes of a v1 blob for a fixed key, salt and plaintext, pinned so
/// that a change to the code cannot silently change the format.
#[test]
fn output_is_pinned_for_a_fixed_salt() {
    let k = key(0x42);
    let salt = [0x5a; SALT_LEN];
    let cases: [(usize, &str); 6] = [
        (
            0,
            "7e73ce3627377b42a944ec75728f668bcdc56228f1ac54a0174250f15c1b97e8",
        ),
        (
            1,
            "a9d520f2b815542af3e29bc97a9b3acb3e97b9f841402c192f515faf82f88393",
        ),
        (
            K,
            "c12c1fcc3fe4342e8aef960579a9f6fe7ff4217759289482211c32a1ead48791",
        ),
        (
            K + 1,
            "918059cd5a4fd1024e9d958d27ba217b8f02a63ad92ea67b5e267070a23ecd08",
        ),
        (
            3 * K + 100,
            "3deb660779befdab691ff7dd4e888a063d56551f931e7a872a73ca03df753265",
        ),
        (
            BATCH_PLAIN + K,
            "58da0131ddaca010da0937c513e64c35a2962c8dbb0073cc93540ef2f1313967",
        ),
    ];
    let mut got = Vec::new();
    for (i, &(size, _)) in cases.iter().enumerate() {
        let plain = noise(size, 0x600d + i as u64);
        let mut blob = Vec::new();
        encrypt_with_salt(&mut &plain[..], &mut blob, &k, &salt, &mut |_| {}).unwrap();
        let digest: String = Sha256::digest(&blob)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(decrypt(&blob, &k).unwrap().0, plain, "size {size}");
        got.push((size, digest));
    }
    let want: Vec<_> = cases.iter().map(|&(n, d)| (n, d.to_string())).collect();
    assert_eq!(got, want);
}

#[test]
fn round_trips_with_trickling_reads() {
    let k = key(8);
    let plain = noise(BATCH_PLAIN + 3 * K + 17, 99);
    let mut blob = Vec::new();
    let reader = Trickle {
        data: &plain,
        step: 1000,
    };
    encrypt_and_hash(reader, &mut blob, &k, &mut |_| {}).unwrap();
    let mut back = Vec::new();
    let reader = Trickle {
        data: &blob,
        step: 777,
    };
    let sealed = decrypt_and_hash(reader, &mut back, &k, &mut |_| {}).unwrap();
    assert_eq!(back, plain);
    assert_eq!(sealed.size, plain.len() as u64);
}

#[test]
fn progress_is_monotonic_and_complete() {
    let k = key(9);
    let plain = noise(3 * BATCH_PLAIN + 5, 3);
    let mut seen = Vec::new();
    let mut blob = Vec::new();
    encrypt_and_hash(&plain[..], &mut blob, &k, &mut |n| seen.push(n)).unwrap();
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(seen.last(), Some(&(plain.len() as u64)));
    seen.clear();
    decrypt_and_hash(&blob[..], io::sink(), &k, &mut |n| seen.push(n)).unwrap();
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(seen.last(), Some(&(plain.len() as u64)));
}

#[test]
fn same_plaintext_gives_different_blobs() {
    let k = key(1);
    assert_ne!(encrypt(b"same", &k), encrypt(b"same", &k));
}

#[test]
fn ciphertext_does_not_contain_a_marker() {
    let marker = b"EVIDENCE-MARKER-0123456789-do-not-leak";
    let mut plain = vec![0u8; 1 << 20];
    for at in (0..plain.len() - marker.len()).step_by(10_007) {
        plain[at..at + marker.len()].copy_from_slice(marker);
    }
    let blob = encrypt(&plain, &key(3));
    assert!(!blob.windows(marker.len()).any(|w| w == marker));
    assert!(!blob.windows(16).any(|w| w == &marker[..16]));
}

#[test]
fn key_debug_is_redacted() {
    let k = key(0xab);
    let shown = format!("{k:?}");
    assert_eq!(shown, "BlobKey([REDACTED])");
    assert!(!shown.contains("171"));
}

#[test]
fn generated_keys_differ() {
    let a = BlobKey::generate().unwrap();
    let b = BlobKey::generate().unwrap();
    assert_ne!(a.as_bytes(), b.as_bytes());
}

/// Start of sealed chunk `i` in a blob.
fn chunk_at(i: usize) -> usize {
    HEADER_LEN + i * PIECE
}

fn assert_err(blob: &[u8], k: &BlobKey, want: &str) {
    let mut out = Vec::new();
    let err = decrypt_and_hash(blob, &mut out, k, &mut |_| {}).unwrap_err();
    assert_eq!(format!("{err:?}"), want, "{err}");
}

#[test]
fn wrong_key_is_reported_as_such() {
    let blob = encrypt(&noise(3 * K, 1), &key(1));
    assert_err(&blob, &key(2), "WrongKey");
    assert_err(&encrypt(b"", &key(1)), &key(2), "WrongKey");
}

#[test]
fn header_damage_is_detected() {
    let k = key(4);
    let blob = encrypt(&noise(2 * K + 5, 4), &k);
    let cases: [(usize, &str); 6] = [
        (0, "NotABlob"),
        (12, "UnsupportedVersion"),
        (14, "HeaderTampered"),
        (45, "HeaderTampered"),
        (46, "WrongKey"),
        (62, "HeaderTampered"),
    ];
    for (at, want) in cases {
        let mut bad = blob.clone();
        bad[at] ^= 0x01;
        assert_err(&bad, &k, want);
    }
    assert_err(&blob[..HEADER_LEN - 1], &k, "TruncatedHeader");
    assert_err(&blob[..10], &k, "TruncatedHeader");
    assert_err(b"", &k, "TruncatedHeader");
    assert_err(
        b"PK\x03\x04 not a blob at all, just some zip",
        &k,
        "NotABlob",
    );
}

#[test]
fn flipped_bits_in_every_chunk_are_detected() {
    let k = key(5);
    let plain = noise(3 * K + 100, 5);
    let blob = encrypt(&plain, &k);
    for chunk in 0..4 {
        let start = chunk_at(chunk);
        let end = (start + PIECE).min(blob.len());
        // first byte, middle, last ciphertext byte, inside the tag
        for at in [
            start,
            (start + end) / 2,
            end - TAG_SIZE - 1,
            end - 1,
            end - 9,
        ] {
            let mut bad = blob.clone();
            bad[at] ^= 0x80;
            let mut out = Vec::new();
            let err = decrypt_and_hash(&bad[..], &mut out, &k, &mut |_| {}).unwrap_err();
            assert_eq!(format!("{err:?}"), format!("Tampered {{ chunk: {chunk} }}"));
            // Nothing from the failing batch was released.
            assert!(out.is_empty());
        }
    }
    // Tag of the empty final chunk of an empty plaintext.
    let mut empty = encrypt(b"", &k);
    let last = empty.len() - 1;
    empty[last] ^= 1;
    assert_err(&empty, &k, "Tampered { chunk: 0 }");
}

#[test]
fn plaintext_of_a_failed_batch_is_not_written() {
    let k = key(6);
    let plain = noise(BATCH_PLAIN + 2 * K, 6);
    let mut blob = encrypt(&plain, &k);
    // Damage chunk 17 (second batch): first batch is released, nothing after.
    blob[chunk_at(17) + 3] ^= 1;
    let mut out = Vec::new();
    let err = decrypt_and_hash(&blob[..], &mut out, &k, &mut |_| {}).unwrap_err();
    assert!(matches!(err, StreamError::Tampered { chunk: 17 }));
    assert_eq!(out, plain[..BATCH_PLAIN]);
}

#[test]
fn truncation_at_every_chunk_boundary_is_detected() {
    let k = key(7);
    for size in [3 * K + 100, 3 * K, BATCH_PLAIN + K] {
        let blob = encrypt(&noise(size, 7), &k);
        let chunks = size.div_ceil(K);
        for c in 0..chunks {
            assert_err(
                &blob[..chunk_at(c)],
                &k,
                &format!("Truncated {{ chunks: {c} }}"),
            );
        }
    }
    let empty = encrypt(b"", &k);
    assert_err(&empty[..HEADER_LEN], &k, "Truncated { chunks: 0 }");
}

#[test]
fn truncation_mid_chunk_is_detected() {
    let k = key(8);
    let blob = encrypt(&noise(3 * K + 100, 8), &k);
    // Inside a tag: too short to be a chunk.
    assert_err(&blob[..chunk_at(2) + 10], &k, "Truncated { chunks: 2 }");
    assert_err(&blob[..chunk_at(0) + 1], &k, "Truncated { chunks: 0 }");
    // Inside chunk data: the remaining piece fails authentication.
    for cut in [chunk_at(1) + 5000, chunk_at(2) + PIECE - 1, blob.len() - 1] {
        let err = decrypt(&blob[..cut], &k).unwrap_err();
        assert!(matches!(err, StreamError::Tampered { .. }), "{err:?}");
    }
}

#[test]
fn appended_bytes_are_detected() {
    let k = key(9);
    for size in [0, 1, 100, 3 * K + 100, 2 * K, K - 1, BATCH_PLAIN] {
        let blob = encrypt(&noise(size, 9), &k);
        let final_chunk = size.div_ceil(K).max(1) - 1;
        let want = format!("TrailingData {{ final_chunk: {final_chunk} }}");
        for extra in [1, 15, 16, 100, 5000, PIECE, PIECE + 3] {
            let mut bad = blob.clone();
            bad.extend(noise(extra, extra as u64));
            let err = decrypt(&bad, &k).unwrap_err();
            assert_eq!(format!("{err:?}"), want, "size {size} + {extra}");
        }
        // Appending a copy of the final chunk.
        let mut bad = blob.clone();
        bad.extend_from_slice(&blob[chunk_at(final_chunk)..]);
        assert_err(&bad, &k, &want);
    }
}

#[test]
fn reordered_chunks_are_detected() {
    let k = key(10);
    let plain = noise(40 * K + 300, 10);
    let blob = encrypt(&plain, &k);
    let swap = |a: usize, b: usize| {
        let mut bad = blob.clone();
        let (pa, pb) = (chunk_at(a), chunk_at(b));
        let tmp = bad[pa..pa + PIECE].to_vec();
        bad.copy_within(pb..pb + PIECE, pa);
        bad[pb..pb + PIECE].copy_from_slice(&tmp);
        bad
    };
    assert_err(&swap(0, 1), &k, "Reordered { position: 0, found: 1 }");
    assert_err(&swap(3, 30), &k, "Reordered { position: 3, found: 30 }");
    assert_err(&swap(15, 16), &k, "Reordered { position: 15, found: 16 }");
    // Dropping a middle chunk shifts the next one into its place.
    let mut dropped = blob.clone();
    dropped.drain(chunk_at(5)..chunk_at(6));
    assert_err(&dropped, &k, "Reordered { position: 5, found: 6 }");
    // Duplicating a chunk.
    let mut dup = blob.clone();
    let copy = blob[chunk_at(2)..chunk_at(3)].to_vec();
    dup.splice(chunk_at(3)..chunk_at(3), copy);
    assert_err(&dup, &k, "Reordered { position: 3, found: 2 }");
}

#[test]
fn chunks_from_another_blob_are_rejected() {
    let k = key(11);
    let a = encrypt(&noise(2 * K, 1), &k);
    let b = encrypt(&noise(2 * K, 2), &k);
    let mut mixed = a.clone();
    mixed[chunk_at(1)..].copy_from_slice(&b[chunk_at(1)..]);
    assert_err(&mixed, &k, "Tampered { chunk: 1 }");
}

#[test]
fn write_errors_are_reported() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let err = encrypt_and_hash(&[1u8; 10][..], Broken, &key(1), &mut |_| {}).unwrap_err();
    assert!(matches!(err, StreamError::Write(_)));
}
