//! Random access to the plaintext of a sealed blob (`guwah/blob/v1`).
//!
//! [`stream`](super::stream) seals every 64 KiB chunk under a nonce made of
//! its index and a "last chunk" flag, and every chunk but the last has the
//! same sealed size. So the blob's total length alone says how many chunks
//! there are, where each one starts and which one is last, and any chunk can
//! be authenticated and decrypted on its own. [`BlobReader`] does exactly
//! that: it reads and opens only the chunks a read touches, which is what a
//! metadata parser (a bounded budget of reads here and there) and a ranged
//! HTTP response need.
//!
//! What it vouches for:
//! - the header (magic, key id, MAC) is checked on [`BlobReader::open`];
//! - the final chunk is opened on `open` too, so the plaintext length is
//!   authenticated before anyone relies on it: a blob cut short or extended
//!   at a chunk boundary fails to open;
//! - every byte returned comes from a chunk that authenticated at its own
//!   index; a chunk that does not is an error before any byte of it is
//!   returned.
//!
//! What it does not: chunks that are never read are never checked. A
//! reader that needs the whole plaintext vouched for reads it all (or uses
//! [`decrypt_and_hash`](super::stream::decrypt_and_hash)).
//!
//! Plaintext lives in one 64 KiB buffer (the one-chunk cache), zeroized on
//! drop; nothing is written anywhere.

use std::io::{self, Read, Seek, SeekFrom};

use zeroize::Zeroizing;

use super::stream::{
    BlobKey, BlobKeys, CHUNK_SIZE, HEADER_LEN, PIECE, StreamError, TAG_SIZE, diagnose, open_header,
};

/// Where a sealed blob's bytes come from: anything that can read a range.
///
/// Implemented for byte slices and vectors here, and by the vault for a
/// storage backend's ranged reads.
pub trait BlobSource {
    /// Total size of the sealed blob, in bytes.
    fn size(&self) -> u64;
    /// Fill `buf` with the sealed bytes at `offset..offset + buf.len()`; a
    /// range that is not wholly inside the blob is an error.
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
}

impl BlobSource for &[u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let start = usize::try_from(offset).ok();
        let range = start.and_then(|s| Some(s..s.checked_add(buf.len())?));
        match range.and_then(|r| self.get(r)) {
            Some(src) => {
                buf.copy_from_slice(src);
                Ok(())
            }
            None => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "range past the end of the blob",
            )),
        }
    }
}

impl BlobSource for Vec<u8> {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.as_slice().read_exact_at(offset, buf)
    }
}

/// A `Read + Seek` view of a sealed blob's plaintext that decrypts only the
/// chunks it reads (see the module docs for what it checks, and when).
///
/// Errors from `read` are [`io::Error`]s whose inner error is the
/// [`StreamError`] (`err.get_ref()` downcasts to it): a chunk that fails
/// authentication is `InvalidData` carrying `StreamError::Tampered` (or
/// `Reordered`, `Truncated`...); a failing source keeps its own kind and
/// comes as `StreamError::Read`.
pub struct BlobReader<S> {
    src: S,
    keys: BlobKeys,
    /// Number of chunks (at least 1).
    chunks: u64,
    /// Sealed size of the final chunk (16..=65552).
    tail: usize,
    /// Plaintext length.
    len: u64,
    /// Read position in the plaintext.
    pos: u64,
    /// The chunk whose plaintext is in `buf`, and its length.
    cached: Option<(u64, usize)>,
    /// One sealed chunk, opened in place.
    buf: Zeroizing<Vec<u8>>,
}

impl<S: BlobSource> BlobReader<S> {
    /// Opens a sealed blob: checks its header against `key`, works out its
    /// layout from its size and authenticates its final chunk (so the
    /// length is trustworthy). A blob that is not one, was sealed under
    /// another key, or is cut short or extended fails here.
    pub fn open(mut src: S, key: &BlobKey) -> Result<Self, StreamError> {
        let total = src.size();
        let mut header = [0u8; HEADER_LEN];
        let n = total.min(HEADER_LEN as u64) as usize;
        src.read_exact_at(0, &mut header[..n])
            .map_err(StreamError::Read)?;
        let keys = open_header(&header[..n], key)?;
        let payload = total - HEADER_LEN as u64;
        if payload == 0 {
            return Err(StreamError::Truncated { chunks: 0 });
        }
        let chunks = payload.div_ceil(PIECE as u64);
        // `payload - (chunks - 1) * PIECE` is in 1..=PIECE.
        let tail = (payload - (chunks - 1) * PIECE as u64) as usize;
        if tail < TAG_SIZE {
            // Cut inside the final chunk's tag.
            return Err(StreamError::Truncated { chunks: chunks - 1 });
        }
        let len = payload - chunks * TAG_SIZE as u64;
        let mut reader = Self {
            src,
            keys,
            chunks,
            tail,
            len,
            pos: 0,
            cached: None,
            buf: Zeroizing::new(vec![0u8; PIECE]),
        };
        reader.load(chunks - 1)?;
        if tail == TAG_SIZE && chunks > 1 {
            return Err(StreamError::EmptyFinalChunk { chunk: chunks - 1 });
        }
        Ok(reader)
    }

    /// Length of the plaintext, in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the plaintext is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Gives the source back.
    pub fn into_inner(self) -> S {
        self.src
    }

    /// Makes chunk `i` the cached one: reads it, authenticates it at its
    /// index and decrypts it in place.
    fn load(&mut self, i: u64) -> Result<(), StreamError> {
        if self.cached.is_some_and(|(c, _)| c == i) {
            return Ok(());
        }
        self.cached = None;
        let last = i + 1 == self.chunks;
        let sealed = if last { self.tail } else { PIECE };
        let piece = &mut self.buf[..sealed];
        let offset = HEADER_LEN as u64 + i * PIECE as u64;
        self.src
            .read_exact_at(offset, piece)
            .map_err(StreamError::Read)?;
        match self.keys.open_chunk(i, last, piece) {
            Some(n) => {
                self.cached = Some((i, n));
                Ok(())
            }
            // `open_chunk` left the ciphertext intact for the diagnosis.
            None => Err(diagnose(&self.keys, i, last, piece)),
        }
    }
}

/// An [`io::Error`] carrying a [`StreamError`].
fn to_io(e: StreamError) -> io::Error {
    let kind = match &e {
        StreamError::Read(inner) => inner.kind(),
        _ => io::ErrorKind::InvalidData,
    };
    io::Error::new(kind, e)
}

impl<S: BlobSource> Read for BlobReader<S> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut done = 0;
        while done < out.len() && self.pos < self.len {
            let chunk = self.pos / CHUNK_SIZE as u64;
            if let Err(e) = self.load(chunk) {
                // Hand over what did authenticate; the next call fails.
                return if done > 0 { Ok(done) } else { Err(to_io(e)) };
            }
            let (_, n) = self.cached.expect("load caches the chunk");
            let at = (self.pos - chunk * CHUNK_SIZE as u64) as usize;
            let take = (n - at).min(out.len() - done);
            out[done..done + take].copy_from_slice(&self.buf[at..at + take]);
            done += take;
            self.pos += take as u64;
        }
        Ok(done)
    }
}

impl<S: BlobSource> Seek for BlobReader<S> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let (base, delta) = match to {
            SeekFrom::Start(at) => {
                self.pos = at;
                return Ok(at);
            }
            SeekFrom::End(d) => (self.len, d),
            SeekFrom::Current(d) => (self.pos, d),
        };
        match base.checked_add_signed(delta) {
            Some(at) => {
                self.pos = at;
                Ok(at)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a negative or overflowing position",
            )),
        }
    }
}

impl<S> std::fmt::Debug for BlobReader<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the cached plaintext.
        f.debug_struct("BlobReader")
            .field("len", &self.len)
            .field("pos", &self.pos)
            .field("chunks", &self.chunks)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::stream::encrypt_and_hash;

    const K: usize = CHUNK_SIZE;

    fn key(byte: u8) -> BlobKey {
        BlobKey::from_bytes(&[byte; 32])
    }

    /// Deterministic pseudo-random bytes (xorshift).
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

    fn seal(plain: &[u8], k: &BlobKey) -> Vec<u8> {
        let mut out = Vec::new();
        encrypt_and_hash(plain, &mut out, k, &mut |_| {}).unwrap();
        out
    }

    /// Start of sealed chunk `i`.
    fn chunk_at(i: usize) -> usize {
        HEADER_LEN + i * PIECE
    }

    fn stream_error(e: &io::Error) -> String {
        let inner = e.get_ref().expect("carries the StreamError");
        format!("{:?}", inner.downcast_ref::<StreamError>().unwrap())
    }

    fn open_err(blob: &[u8], k: &BlobKey) -> String {
        format!("{:?}", BlobReader::open(blob, k).unwrap_err())
    }

    /// A source that counts the reads it serves and can be told to fail.
    struct Counting<'a> {
        data: &'a [u8],
        reads: Vec<(u64, usize)>,
        fail: bool,
    }

    impl BlobSource for Counting<'_> {
        fn size(&self) -> u64 {
            self.data.len() as u64
        }
        fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
            if self.fail {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "backend gone"));
            }
            self.reads.push((offset, buf.len()));
            self.data.read_exact_at(offset, buf)
        }
    }

    #[test]
    fn every_range_across_chunk_boundaries_matches_the_plaintext() {
        let k = key(1);
        for size in [1, 100, K - 1, K + 1, 3 * K + 100] {
            let plain = noise(size, size as u64);
            let blob = seal(&plain, &k);
            let mut r = BlobReader::open(&blob[..], &k).unwrap();
            assert_eq!(r.len(), size as u64);
            let mut offsets = vec![0, 1, size / 2, size - 1, size];
            for c in 1..=size / K {
                offsets.extend([c * K - 1, c * K, c * K + 1]);
            }
            for &off in &offsets {
                for want in [0, 1, 2, 15, 16, 17, K - 1, K, K + 1, 2 * K + 3, size] {
                    let end = (off + want).min(size);
                    assert_eq!(r.seek(SeekFrom::Start(off as u64)).unwrap(), off as u64);
                    let mut got = vec![0u8; end - off];
                    r.read_exact(&mut got).unwrap();
                    assert_eq!(got, plain[off..end], "size {size} at {off} len {want}");
                    // Past the end: nothing more.
                    if end == size {
                        assert_eq!(r.read(&mut [0u8; 8]).unwrap(), 0);
                    }
                }
            }
            // Whole plaintext in one go, and with odd read sizes.
            r.rewind().unwrap();
            let mut all = Vec::new();
            r.read_to_end(&mut all).unwrap();
            assert_eq!(all, plain);
            r.rewind().unwrap();
            let mut all = Vec::new();
            let mut step = vec![0u8; 7777];
            loop {
                let n = r.read(&mut step).unwrap();
                if n == 0 {
                    break;
                }
                all.extend_from_slice(&step[..n]);
            }
            assert_eq!(all, plain);
        }
    }

    #[test]
    fn seeks_from_end_and_current() {
        let k = key(2);
        let plain = noise(2 * K + 10, 2);
        let blob = seal(&plain, &k);
        let mut r = BlobReader::open(&blob[..], &k).unwrap();
        assert_eq!(r.seek(SeekFrom::End(-20)).unwrap(), (2 * K - 10) as u64);
        let mut b = [0u8; 5];
        r.read_exact(&mut b).unwrap();
        assert_eq!(b, plain[2 * K - 10..2 * K - 5]);
        assert_eq!(
            r.seek(SeekFrom::Current(-(K as i64))).unwrap(),
            (K - 5) as u64
        );
        r.read_exact(&mut b).unwrap();
        assert_eq!(b, plain[K - 5..K]);
        assert!(r.seek(SeekFrom::Current(-(3 * K as i64))).is_err());
        // Beyond the end is allowed, and reads nothing (like a file).
        assert_eq!(r.seek(SeekFrom::End(100)).unwrap(), (2 * K + 110) as u64);
        assert_eq!(r.read(&mut b).unwrap(), 0);
    }

    #[test]
    fn empty_blob() {
        let k = key(3);
        let blob = seal(b"", &k);
        let mut r = BlobReader::open(&blob[..], &k).unwrap();
        assert!(r.is_empty());
        assert_eq!(r.read(&mut [0u8; 4]).unwrap(), 0);
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert!(all.is_empty());
    }

    #[test]
    fn exact_multiples_of_the_chunk_size() {
        let k = key(4);
        for size in [K, 2 * K, 5 * K] {
            let plain = noise(size, size as u64);
            let blob = seal(&plain, &k);
            let mut r = BlobReader::open(&blob[..], &k).unwrap();
            assert_eq!(r.len(), size as u64);
            r.seek(SeekFrom::Start(size as u64 - 1)).unwrap();
            let mut b = [0u8; 4];
            assert_eq!(r.read(&mut b).unwrap(), 1);
            assert_eq!(b[0], plain[size - 1]);
            if let Some(edge) = size.checked_sub(K).filter(|&e| e > 0) {
                // Across the boundary into the full final chunk.
                r.seek(SeekFrom::Start(edge as u64 - 2)).unwrap();
                let mut b = [0u8; 4];
                r.read_exact(&mut b).unwrap();
                assert_eq!(b, plain[edge - 2..edge + 2]);
            }
            r.rewind().unwrap();
            let mut all = Vec::new();
            r.read_to_end(&mut all).unwrap();
            assert_eq!(all, plain);
        }
    }

    #[test]
    fn only_the_touched_chunks_are_read() {
        let k = key(5);
        let plain = noise(40 * K + 300, 5);
        let blob = seal(&plain, &k);
        let mut src = Counting {
            data: &blob,
            reads: Vec::new(),
            fail: false,
        };
        let mut r = BlobReader::open(&mut src, &k).unwrap();
        let mut b = vec![0u8; 100];
        r.seek(SeekFrom::Start(7 * K as u64 + 10)).unwrap();
        r.read_exact(&mut b).unwrap();
        r.seek(SeekFrom::Start(7 * K as u64 + 5000)).unwrap();
        r.read_exact(&mut b).unwrap(); // the cached chunk: no read
        assert_eq!(b, plain[7 * K + 5000..7 * K + 5100]);
        drop(r);
        let tail = blob.len() - chunk_at(40);
        assert_eq!(
            src.reads,
            [
                (0, HEADER_LEN),
                (chunk_at(40) as u64, tail),
                (chunk_at(7) as u64, PIECE)
            ]
        );
    }

    impl BlobSource for &mut Counting<'_> {
        fn size(&self) -> u64 {
            (**self).size()
        }
        fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
            (**self).read_exact_at(offset, buf)
        }
    }

    #[test]
    fn a_tampered_chunk_at_the_seek_target_is_an_error() {
        let k = key(6);
        let plain = noise(3 * K + 100, 6);
        let mut blob = seal(&plain, &k);
        blob[chunk_at(1) + 500] ^= 0x01;
        let mut r = BlobReader::open(&blob[..], &k).unwrap();
        // Chunk 0 is intact and readable.
        let mut b = [0u8; 10];
        r.read_exact(&mut b).unwrap();
        assert_eq!(b, plain[..10]);
        r.seek(SeekFrom::Start(K as u64 + 3)).unwrap();
        let err = r.read(&mut b).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(stream_error(&err), "Tampered { chunk: 1 }");
        assert_eq!(b, plain[..10], "nothing of the failed chunk was returned");
        // A read running into it returns the good part, then fails.
        r.seek(SeekFrom::Start(K as u64 - 4)).unwrap();
        let mut b = [0u8; 10];
        assert_eq!(r.read(&mut b).unwrap(), 4);
        assert_eq!(b[..4], plain[K - 4..K]);
        assert_eq!(b[4..], [0u8; 6]);
        assert!(r.read(&mut b).is_err());
        // A damaged final chunk fails on open (the length is vouched for).
        let mut bad = seal(&plain, &k);
        let last = bad.len() - 1;
        bad[last] ^= 0x80;
        assert_eq!(open_err(&bad, &k), "Tampered { chunk: 3 }");
    }

    #[test]
    fn moved_chunks_are_reported_as_reordered() {
        let k = key(7);
        let blob = seal(&noise(4 * K, 7), &k);
        let mut bad = blob.clone();
        bad.copy_within(chunk_at(2)..chunk_at(3), chunk_at(1));
        let mut r = BlobReader::open(&bad[..], &k).unwrap();
        r.seek(SeekFrom::Start(K as u64)).unwrap();
        let err = r.read(&mut [0u8; 1]).unwrap_err();
        assert_eq!(stream_error(&err), "Reordered { position: 1, found: 2 }");
    }

    #[test]
    fn truncated_and_extended_blobs_fail_to_open() {
        let k = key(8);
        let blob = seal(&noise(3 * K + 100, 8), &k);
        for c in 1..=3 {
            assert_eq!(
                open_err(&blob[..chunk_at(c)], &k),
                format!("Truncated {{ chunks: {c} }}")
            );
        }
        assert_eq!(open_err(&blob[..HEADER_LEN], &k), "Truncated { chunks: 0 }");
        assert_eq!(
            open_err(&blob[..chunk_at(2) + 10], &k),
            "Truncated { chunks: 2 }"
        );
        assert_eq!(
            open_err(&blob[..blob.len() - 1], &k),
            "Tampered { chunk: 3 }"
        );
        assert_eq!(open_err(&blob[..HEADER_LEN - 1], &k), "TruncatedHeader");
        assert_eq!(open_err(b"", &k), "TruncatedHeader");
        let mut longer = blob.clone();
        longer.extend_from_slice(&[0u8; 100]);
        assert_eq!(open_err(&longer, &k), "TrailingData { final_chunk: 3 }");
    }

    #[test]
    fn wrong_key_and_damaged_header_fail_to_open() {
        let blob = seal(&noise(2 * K, 9), &key(9));
        assert_eq!(open_err(&blob, &key(10)), "WrongKey");
        let mut bad = blob.clone();
        bad[20] ^= 1;
        assert_eq!(open_err(&bad, &key(9)), "HeaderTampered");
        assert_eq!(open_err(b"PK\x03\x04 a zip", &key(9)), "NotABlob");
    }

    #[test]
    fn source_errors_keep_their_kind() {
        let k = key(11);
        let blob = seal(&noise(3 * K, 11), &k);
        let mut src = Counting {
            data: &blob,
            reads: Vec::new(),
            fail: false,
        };
        let mut r = BlobReader::open(&mut src, &k).unwrap();
        r.seek(SeekFrom::Start(10)).unwrap();
        r.src.fail = true;
        let err = r.read(&mut [0u8; 4]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        let inner = err.get_ref().unwrap().downcast_ref::<StreamError>();
        assert!(matches!(inner, Some(StreamError::Read(_))), "{err:?}");
    }

    #[test]
    fn debug_shows_no_plaintext() {
        let k = key(12);
        let blob = seal(b"SECRET-PLAINTEXT", &k);
        let r = BlobReader::open(&blob[..], &k).unwrap();
        let shown = format!("{r:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert_eq!(shown, "BlobReader { len: 16, pos: 0, chunks: 1, .. }");
    }
}
