//! Why a chunk failed to authenticate: the classification behind
//! `Truncated`, `TrailingData`, `Reordered` and `Tampered`.
//!
//! A GCM tag is `GHASH_H(ciphertext, lengths) ^ E(P, J0)`, and only the mask
//! `E(P, J0)` depends on the nonce. So one GHASH pass over a failed chunk
//! tests it against every (index, last flag) pair at one AES block each, and
//! against every shorter end offset. This runs on the failure path only and
//! never accepts data: it only picks the error.

use ghash::GHash;
use ghash::universal_hash::{KeyInit, UniversalHash};
use zeroize::Zeroizing;

use super::StreamError;
use super::format::{TAG_SIZE, constant_time_eq};
use super::keys::{BlobKeys, nonce_bytes};

/// How many positions away from its expected index a misplaced chunk is
/// searched for when classifying a failure as [`StreamError::Reordered`]
/// (65536 chunks = 4 GiB either way).
pub const REORDER_WINDOW: u64 = 1 << 16;

/// Works out why chunk `counter` (the sealed `piece`) failed to
/// authenticate. Runs only on the failure path; costs one GHASH pass plus
/// one AES block per candidate index and offset (tens of milliseconds).
pub(in crate::crypto) fn diagnose(
    keys: &BlobKeys,
    counter: u64,
    at_eof: bool,
    piece: &[u8],
) -> StreamError {
    let tags = Tags::new(keys);
    let tag_of = |end: usize| -> u128 {
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&piece[end - TAG_SIZE..end]);
        u128::from_be_bytes(tag)
    };
    let data = &piece[..piece.len() - TAG_SIZE];
    let hash = tags.ghash(data);
    let tag = tag_of(piece.len());
    let matches = |counter: u64, last: bool| ct_eq_u128(hash ^ tags.mask(counter, last), tag);

    // Right index, wrong "last" flag: cut at a chunk boundary, or extended.
    if matches(counter, !at_eof) {
        return if at_eof {
            StreamError::Truncated {
                chunks: counter + 1,
            }
        } else {
            StreamError::TrailingData {
                final_chunk: counter,
            }
        };
    }
    // An authentic chunk at the wrong index.
    for distance in 1..=REORDER_WINDOW {
        for found in [counter.checked_sub(distance), counter.checked_add(distance)]
            .into_iter()
            .flatten()
        {
            if matches(found, false) || matches(found, true) {
                return StreamError::Reordered {
                    position: counter,
                    found,
                };
            }
        }
    }
    // A short final chunk with bytes appended after it: find its real end.
    let mask = tags.mask(counter, true);
    for (len, hash) in tags.prefix_ghashes(data).enumerate() {
        if ct_eq_u128(hash ^ mask, tag_of(len + TAG_SIZE)) {
            return StreamError::TrailingData {
                final_chunk: counter,
            };
        }
    }
    StreamError::Tampered { chunk: counter }
}

fn ct_eq_u128(a: u128, b: u128) -> bool {
    constant_time_eq(&a.to_be_bytes(), &b.to_be_bytes())
}

/// GCM tags of chunks under one blob's payload key `P`, in two halves: the
/// GHASH of a ciphertext (no associated data) and the mask of a nonce.
struct Tags<'a> {
    keys: &'a BlobKeys,
    /// GHASH keyed with `H = E(P, 0^128)`, having absorbed nothing.
    empty: GHash,
}

impl<'a> Tags<'a> {
    fn new(keys: &'a BlobKeys) -> Self {
        let h = Zeroizing::new(keys.encrypt_block([0u8; 16]).to_be_bytes());
        let empty = GHash::new(ghash::Key::from_slice(h.as_ref()));
        Self { keys, empty }
    }

    /// The tag mask `E(P, nonce || 00000001)` of chunk (`counter`, `last`).
    fn mask(&self, counter: u64, last: bool) -> u128 {
        let mut j0 = [0u8; 16];
        j0[..12].copy_from_slice(&nonce_bytes(counter, last));
        j0[15] = 1;
        self.keys.encrypt_block(j0)
    }

    /// GHASH of `data` as a whole ciphertext.
    fn ghash(&self, data: &[u8]) -> u128 {
        finish(&self.empty, data, data.len())
    }

    /// GHASH of each proper prefix of `data` as a whole ciphertext, by
    /// length (0, 1, …, `data.len() - 1`), in one pass over `data`.
    fn prefix_ghashes<'d>(&self, data: &'d [u8]) -> impl Iterator<Item = u128> + use<'d> {
        let mut state = self.empty.clone();
        (0..data.len()).map(move |len| {
            let base = len - len % 16;
            if len % 16 == 0 && len > 0 {
                state.update(&[*ghash::Block::from_slice(&data[base - 16..base])]);
            }
            finish(&state, &data[base..len], len)
        })
    }
}

/// Ends a GHASH whose `state` has absorbed every whole block before `rest`:
/// absorbs `rest` zero-padded, then the lengths block for a ciphertext of
/// `len` bytes and no associated data.
fn finish(state: &GHash, rest: &[u8], len: usize) -> u128 {
    let mut ghash = state.clone();
    ghash.update_padded(rest);
    let mut lengths = ghash::Block::default();
    lengths[8..].copy_from_slice(&(len as u64 * 8).to_be_bytes());
    ghash.update(&[lengths]);
    u128::from_be_bytes(ghash.finalize().into())
}

#[cfg(test)]
mod tests {
    use aes_gcm::{AeadInPlace, Aes256Gcm, KeyInit as _, Nonce};

    use super::*;
    use crate::crypto::stream::format::{CHUNK_SIZE, INFO_PAYLOAD, SALT_LEN};
    use crate::crypto::stream::keys::BlobKey;
    use crate::crypto::{fill_random, hkdf_sha256};

    /// xorshift64*, seeded from the operating system; the seed is in every
    /// failure message, so a failing case can be replayed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn fill(&mut self, buf: &mut [u8]) {
            buf.iter_mut().for_each(|b| *b = self.next() as u8);
        }
    }

    fn seed() -> u64 {
        let mut seed = [0u8; 8];
        fill_random(&mut seed).unwrap();
        u64::from_le_bytes(seed) | 1
    }

    /// aes-gcm's tag for `plain` sealed as chunk (`counter`, `last`) under
    /// `payload`, and the ciphertext.
    fn aes_gcm_seal(payload: &[u8], counter: u64, last: bool, plain: &[u8]) -> (Vec<u8>, u128) {
        let gcm = Aes256Gcm::new_from_slice(payload).unwrap();
        let mut data = plain.to_vec();
        let nonce = nonce_bytes(counter, last);
        let tag = gcm
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), b"", &mut data)
            .unwrap();
        (data, u128::from_be_bytes(tag.into()))
    }

    /// The diagnosis may only label failures correctly if the tags it
    /// recomputes are the AEAD's own: checked against aes-gcm (the
    /// reference) and ring (what seals chunks) for random keys, salts,
    /// indexes, flags and lengths, whole chunks and every prefix.
    #[test]
    fn recomputed_tags_are_the_aeads() {
        let seed = seed();
        let mut rng = Rng(seed);
        for case in 0..48 {
            let (mut key, mut salt) = ([0u8; 32], [0u8; SALT_LEN]);
            rng.fill(&mut key);
            rng.fill(&mut salt);
            let key = BlobKey::from_bytes(&key);
            let keys = BlobKeys::derive(&key, &salt);
            let payload = hkdf_sha256(Some(&salt), key.as_bytes(), INFO_PAYLOAD);
            let counter = match case % 3 {
                0 => rng.next(),
                1 => rng.next() % 4,
                _ => u64::MAX - rng.next() % 4,
            };
            let last = rng.next() & 1 == 1;
            let len = match case % 4 {
                0 => rng.below(CHUNK_SIZE + 1),
                1 => CHUNK_SIZE - rng.below(2),
                2 => rng.below(50),
                _ => rng.below(400),
            };
            let mut plain = vec![0u8; len];
            rng.fill(&mut plain);
            let at =
                format!("seed {seed:#x}, case {case}: chunk {counter} last {last}, {len} bytes");

            let tags = Tags::new(&keys);
            let (data, want) = aes_gcm_seal(payload.as_ref(), counter, last, &plain);
            let mask = tags.mask(counter, last);
            assert_eq!(tags.ghash(&data) ^ mask, want, "aes-gcm, {at}");
            let mut sealed = plain.clone();
            let ring_tag = keys.seal_chunk(counter, last, &mut sealed).unwrap();
            assert_eq!(sealed, data, "ring ciphertext, {at}");
            assert_eq!(u128::from_be_bytes(ring_tag.into()), want, "ring, {at}");

            // Every prefix for short chunks; around block edges and at random
            // for long ones (aes-gcm costs O(len) per prefix).
            let prefixes: Vec<u128> = tags.prefix_ghashes(&data).collect();
            assert_eq!(prefixes.len(), len, "{at}");
            let mut lens: Vec<usize> = if len <= 400 {
                (0..len).collect()
            } else {
                (0..40).map(|_| rng.below(len)).collect()
            };
            lens.extend([15, 16, 17, 31, 32, 33, len.saturating_sub(1)]);
            for n in lens.into_iter().filter(|&n| n < len) {
                let (_, want) = aes_gcm_seal(payload.as_ref(), counter, last, &plain[..n]);
                assert_eq!(prefixes[n] ^ mask, want, "prefix of {n} bytes, {at}");
            }
        }
    }
}
