//! Streaming authenticated encryption of blobs (format `guwah/blob/v1`).
//!
//! The construction is the STREAM online AEAD as used by age's payload,
//! instantiated with AES-256-GCM: the plaintext is cut into 64 KiB chunks and
//! each chunk is sealed under a nonce made of its index and a "last chunk"
//! flag, so that truncation, extension and reordering are all detected.
//!
//! # Blob file format, version 1
//!
//! All integers are big-endian. Offsets are in bytes.
//!
//! ```text
//! offset  length  field
//! ------  ------  -----------------------------------------------------------
//!      0      14  magic: ASCII "guwah/blob/v1\n"
//!                 (67 75 77 61 68 2f 62 6c 6f 62 2f 76 31 0a)
//!     14      32  salt: 32 random bytes, fresh for every blob
//!     46      16  key id: HMAC-SHA256(K, "guwah/blob/v1 key id")[0..16]
//!     62      16  header MAC: HMAC-SHA256(H, bytes 0..62)[0..16]
//!     78       …  payload: the sealed chunks, back to back, nothing after
//! ```
//!
//! where `K` is the vault's 32-byte blob key and, with HKDF-SHA256 (RFC 5869)
//! extracting once from `ikm = K`, `salt = salt`:
//!
//! ```text
//! P (payload key, 32 bytes) = HKDF-Expand(PRK, info = "guwah/blob/v1 payload", 32)
//! H (header key, 32 bytes)  = HKDF-Expand(PRK, info = "guwah/blob/v1 header", 32)
//! ```
//!
//! The key id is the same for every blob sealed under one blob key: it lets a
//! reader tell "wrong key" apart from "damaged blob" (and commits the blob to
//! its key). The header MAC authenticates the magic, salt and key id.
//!
//! ## Payload
//!
//! The plaintext is split into chunks of exactly 65536 bytes (64 KiB), except
//! the final chunk, which holds the remaining 1..=65536 bytes. The final chunk
//! is empty (0 bytes) if and only if the whole plaintext is empty, in which
//! case it is the only chunk. A final chunk of a full 65536 bytes is allowed
//! (a plaintext whose size is a non-zero multiple of 64 KiB ends with one).
//! There is always exactly one final chunk.
//!
//! Chunk number `i` (counting from 0) is sealed as
//!
//! ```text
//! AES-256-GCM(key = P, nonce = N_i, associated data = empty, chunk plaintext)
//!   = ciphertext (same length as the chunk) || 16-byte tag
//! N_i = i as an 11-byte big-endian integer || last   (12 bytes)
//! last = 0x01 for the final chunk, 0x00 for every other chunk
//! ```
//!
//! so every sealed chunk but the last is exactly 65552 bytes long and the
//! last is 16..=65552 bytes long. A reader splits the payload into 65552-byte
//! pieces; the piece that ends at end-of-file is the final one.
//!
//! A plaintext of `n` bytes therefore gives a blob of
//! `78 + n + 16 * max(1, ceil(n / 65536))` bytes.
//!
//! # Decryption failures
//!
//! [`decrypt_and_hash`] reports what is wrong as a distinct [`StreamError`]:
//! [`WrongKey`](StreamError::WrongKey) (key id mismatch),
//! [`HeaderTampered`](StreamError::HeaderTampered) (salt or MAC altered),
//! [`Truncated`](StreamError::Truncated) (no final chunk),
//! [`TrailingData`](StreamError::TrailingData) (bytes after the final
//! chunk), [`Reordered`](StreamError::Reordered) (a chunk authenticates, but
//! at another index) and [`Tampered`](StreamError::Tampered) (a chunk does
//! not authenticate at all). A failed chunk is classified on the failure
//! path only, by recomputing its GCM tag for other (index, last flag) pairs
//! and other end offsets; the classification is exact for truncation at a
//! chunk boundary, for bytes appended after the final chunk and for chunks
//! moved up to [`REORDER_WINDOW`] positions. A blob cut in the middle of a
//! chunk, leaving 16 bytes or more of it, is reported as `Tampered` (the cut
//! removed the tag, so nothing distinguishes it from damage). Every one of
//! these alterations is always *detected*; only the label can be imprecise.
//!
//! Because each chunk is sealed under its own index and the total length
//! says which chunk is last, any chunk can also be opened alone:
//! [`BlobReader`](super::random_access::BlobReader) reads a blob at random
//! offsets and reports the same errors.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aes::Aes256;
use aes_gcm::aes::cipher::BlockEncrypt;
use aes_gcm::{KeyInit, Tag};
use ghash::GHash;
use ghash::universal_hash::UniversalHash;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{fill_random, hkdf_sha256, hmac_sha256};

/// The 14 magic bytes that open every v1 blob.
pub const MAGIC: &[u8; 14] = b"guwah/blob/v1\n";
/// Size of the salt in the header.
pub const SALT_LEN: usize = 32;
/// Size of the key id in the header.
pub const KEY_ID_LEN: usize = 16;
/// Size of the header MAC.
pub const HEADER_MAC_LEN: usize = 16;
/// Total size of the v1 header, in bytes.
pub const HEADER_LEN: usize = MAGIC.len() + SALT_LEN + KEY_ID_LEN + HEADER_MAC_LEN;
/// Size of a plaintext chunk (all chunks but the final one have this size).
pub const CHUNK_SIZE: usize = 64 * 1024;
/// Size of the AES-GCM tag appended to every chunk.
pub const TAG_SIZE: usize = 16;
/// How many positions away from its expected index a misplaced chunk is
/// searched for when classifying a failure as [`StreamError::Reordered`]
/// (65536 chunks = 4 GiB either way).
pub const REORDER_WINDOW: u64 = 1 << 16;

pub(super) const PIECE: usize = CHUNK_SIZE + TAG_SIZE;
const INFO_PAYLOAD: &[u8] = b"guwah/blob/v1 payload";
const INFO_HEADER: &[u8] = b"guwah/blob/v1 header";
const LABEL_KEY_ID: &[u8] = b"guwah/blob/v1 key id";

/// Chunks per batch handed between the two threads (1 MiB of plaintext).
const BATCH_CHUNKS: usize = 16;
/// Size of a batch buffer: sealed chunks back to back, plus one byte of
/// look-ahead to tell whether the input ends with this batch.
const BATCH_LEN: usize = BATCH_CHUNKS * PIECE + 1;
/// Batch buffers circulating between the two threads (about 4 MiB in all).
const POOL_BUFFERS: usize = 4;

/// The vault's 32-byte blob key. Zeroized on drop; `Debug` is redacted.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct BlobKey([u8; 32]);

impl BlobKey {
    /// Wraps existing key bytes (for example, just unsealed from the key file).
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(*bytes)
    }

    /// Generates a fresh key from the operating system's random generator.
    pub fn generate() -> Result<Self, StreamError> {
        let mut key = Self([0u8; 32]);
        fill_random(&mut key.0).map_err(StreamError::Random)?;
        Ok(key)
    }

    /// The raw key bytes, for sealing the key itself (e.g. in the key file).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 16-byte key id stored in every blob header sealed under this key.
    fn key_id(&self) -> [u8; KEY_ID_LEN] {
        let mac = hmac_sha256(&self.0, &[LABEL_KEY_ID]);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&mac[..KEY_ID_LEN]);
        id
    }
}

impl std::fmt::Debug for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlobKey([REDACTED])")
    }
}

/// What a successful encryption or decryption saw of the plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sealed {
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
    /// Size of the plaintext in bytes.
    pub size: u64,
}

/// Why a blob could not be encrypted or decrypted.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// Reading the source failed.
    #[error("cannot read the source: {0}")]
    Read(#[source] io::Error),
    /// Writing the destination failed.
    #[error("cannot write the destination: {0}")]
    Write(#[source] io::Error),
    /// The operating system's random generator failed.
    #[error("the operating system's random generator failed: {0}")]
    Random(getrandom::Error),
    /// The input does not start with the blob magic.
    #[error("not a guwah blob: the magic bytes do not match")]
    NotABlob,
    /// The input is a guwah blob of a version this build cannot read.
    #[error("unsupported guwah blob version: this build reads guwah/blob/v1 only")]
    UnsupportedVersion,
    /// The input ends inside the header.
    #[error("blob is truncated inside its {HEADER_LEN}-byte header")]
    TruncatedHeader,
    /// The blob was sealed under another key (its key id does not match).
    #[error("wrong key: the blob was sealed under a different blob key")]
    WrongKey,
    /// The header MAC does not verify: the salt, key id or MAC were altered.
    #[error("blob header failed authentication: its salt or MAC was altered")]
    HeaderTampered,
    /// The blob ends without a final chunk.
    #[error("blob is truncated: it ends after {chunks} chunk(s) without its final chunk")]
    Truncated {
        /// Number of intact chunks before the end of the file.
        chunks: u64,
    },
    /// There are bytes after the final chunk.
    #[error("blob has extra data after its final chunk (chunk {final_chunk})")]
    TrailingData {
        /// Index of the genuine final chunk.
        final_chunk: u64,
    },
    /// A chunk authenticates, but under another index: chunks were moved.
    #[error("blob chunks are out of order: chunk {found} sits at position {position}")]
    Reordered {
        /// Position at which the chunk was found.
        position: u64,
        /// Index the chunk was sealed with.
        found: u64,
    },
    /// A chunk does not authenticate: it was altered, corrupted or cut short.
    #[error("chunk {chunk} failed authentication: it was altered, corrupted or cut short")]
    Tampered {
        /// Index of the failing chunk.
        chunk: u64,
    },
    /// An authentic but non-canonical layout (an empty final chunk after data).
    #[error("chunk {chunk} is an empty final chunk after data, which v1 forbids")]
    EmptyFinalChunk {
        /// Index of the empty final chunk.
        chunk: u64,
    },
    /// The plaintext exceeds what one blob can hold.
    #[error("plaintext too large for one blob")]
    TooLarge,
    /// The hashing thread stopped unexpectedly (a bug, not bad input).
    #[error("internal error: the hashing thread stopped unexpectedly")]
    Internal,
}

/// Per-blob keys derived from the blob key and the salt.
///
/// Chunks are sealed and opened with ring's AES-256-GCM (assembly with
/// AES-NI/VAES and carry-less multiply: about 3x RustCrypto's here), which
/// matters because encryption shares two cores with SHA-256 on the add path.
pub(super) struct BlobKeys {
    aead: ring::aead::LessSafeKey,
    /// Raw AES-256 under the payload key, used only to classify failures.
    block: Aes256,
    header_key: Zeroizing<[u8; 32]>,
}

impl BlobKeys {
    fn derive(key: &BlobKey, salt: &[u8; SALT_LEN]) -> Self {
        let payload = hkdf_sha256(Some(salt), &key.0, INFO_PAYLOAD);
        let header_key = hkdf_sha256(Some(salt), &key.0, INFO_HEADER);
        let aead = ring::aead::LessSafeKey::new(
            ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, payload.as_ref())
                .expect("AES-256-GCM takes a 32-byte key"),
        );
        let block = Aes256::new(GenericArray::from_slice(payload.as_ref()));
        Self {
            aead,
            block,
            header_key,
        }
    }

    fn header_mac(&self, prefix: &[u8]) -> [u8; 32] {
        hmac_sha256(self.header_key.as_ref(), &[prefix])
    }

    fn seal_chunk(&self, counter: u64, last: bool, buf: &mut [u8]) -> Result<Tag, StreamError> {
        let tag = self
            .aead
            .seal_in_place_separate_tag(ring_nonce(counter, last), ring::aead::Aad::empty(), buf)
            .map_err(|_| StreamError::TooLarge)?;
        Ok(*Tag::from_slice(tag.as_ref()))
    }

    /// Authenticates and decrypts `piece` (ciphertext || tag) in place; on
    /// failure the piece is left unchanged. Returns the plaintext length.
    pub(super) fn open_chunk(&self, counter: u64, last: bool, piece: &mut [u8]) -> Option<usize> {
        let data_len = piece.len().checked_sub(TAG_SIZE)?;
        let (data, tag) = piece.split_at_mut(data_len);
        let tag = ring::aead::Tag::try_from(&tag[..]).ok()?;
        // ring wipes the buffer when the tag fails, but a failed chunk's
        // ciphertext is still needed to classify the failure: keep a copy.
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        SCRATCH.with_borrow_mut(|copy| {
            copy.clear();
            copy.extend_from_slice(data);
            let opened = self
                .aead
                .open_in_place_separate_tag(
                    ring_nonce(counter, last),
                    ring::aead::Aad::empty(),
                    tag,
                    data,
                    0..,
                )
                .is_ok();
            if !opened {
                data.copy_from_slice(copy);
            }
            opened.then_some(data_len)
        })
    }

    fn encrypt_block(&self, input: [u8; 16]) -> u128 {
        let mut block = GenericArray::from(input);
        self.block.encrypt_block(&mut block);
        u128::from_be_bytes(block.into())
    }
}

/// Nonce for chunk `counter`: 11-byte big-endian counter || last-chunk flag.
fn nonce_bytes(counter: u64, last: bool) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[3..11].copy_from_slice(&counter.to_be_bytes());
    n[11] = u8::from(last);
    n
}

fn ring_nonce(counter: u64, last: bool) -> ring::aead::Nonce {
    ring::aead::Nonce::assume_unique_for_key(nonce_bytes(counter, last))
}

/// Reads until `buf` is full or the source ends; returns the bytes read.
fn read_full<R: Read>(src: &mut R, buf: &mut [u8]) -> Result<usize, StreamError> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) if k <= buf.len() - n => n += k,
            Ok(_) => {
                return Err(StreamError::Read(io::Error::other(
                    "reader claimed more bytes than the buffer holds",
                )));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(StreamError::Read(e)),
        }
    }
    Ok(n)
}

type Buffer = Zeroizing<Vec<u8>>;

/// Up to [`BATCH_CHUNKS`] consecutive chunks travelling between the I/O
/// thread and the worker thread. Chunk `i` lives at `buf[i * PIECE..]`:
/// plaintext of `lens[i]` bytes, followed by room for its tag.
struct Batch {
    buf: Buffer,
    /// Number of chunks in the batch (at least 1).
    chunks: usize,
    /// Plaintext length (encryption) or sealed piece length (decryption).
    lens: [usize; BATCH_CHUNKS],
    /// Index of the first chunk in the stream.
    first: u64,
    /// Whether the batch ends with the final chunk.
    last: bool,
    /// Chunks `done..chunks` have been sealed (encryption) or chunks
    /// `..done` have been opened (decryption) by whichever thread did them.
    done: usize,
    /// Decryption: the first chunk that failed authentication, if any.
    failed: Option<usize>,
}

impl Batch {
    fn is_last_chunk(&self, i: usize) -> bool {
        self.last && i + 1 == self.chunks
    }

    fn span(&self, i: usize) -> std::ops::Range<usize> {
        i * PIECE..i * PIECE + self.lens[i]
    }

    /// Seals chunk `i` in place and appends its tag.
    fn seal(&mut self, keys: &BlobKeys, i: usize) -> Result<(), StreamError> {
        let span = self.span(i);
        let (end, last) = (span.end, self.is_last_chunk(i));
        let tag = keys.seal_chunk(self.first + i as u64, last, &mut self.buf[span])?;
        self.buf[end..end + TAG_SIZE].copy_from_slice(&tag);
        Ok(())
    }

    /// Opens the sealed piece `i` in place; on success `lens[i]` becomes the
    /// plaintext length. On failure records it and leaves the piece intact.
    fn open(&mut self, keys: &BlobKeys, i: usize) -> bool {
        let span = self.span(i);
        let last = self.is_last_chunk(i);
        match keys.open_chunk(self.first + i as u64, last, &mut self.buf[span]) {
            Some(n) => {
                self.lens[i] = n;
                true
            }
            None => {
                self.failed = Some(i);
                false
            }
        }
    }
}

/// Queue lengths, read to decide how to share the AES-GCM work.
#[derive(Default)]
struct Backlog {
    /// Batches sent to the worker and not yet taken by it.
    worker: AtomicUsize,
    /// Batches sent back to the I/O thread and not yet taken by it.
    io: AtomicUsize,
}

/// Adjusts a work share by one step towards balance: up when the other
/// thread has batches waiting, down when it has none.
fn rebalance(share: usize, others_waiting: usize) -> usize {
    if others_waiting >= 2 {
        (share + 1).min(BATCH_CHUNKS - 1)
    } else if others_waiting == 0 {
        share.saturating_sub(1)
    } else {
        share
    }
}

/// The I/O thread's end of the pipeline.
struct Pipe<'a> {
    to_worker: mpsc::Sender<Batch>,
    from_worker: mpsc::Receiver<Batch>,
    backlog: &'a Backlog,
    free: Vec<Buffer>,
    unallocated: usize,
    in_flight: usize,
}

impl Pipe<'_> {
    /// A free batch buffer, if the pool is not exhausted.
    fn buffer(&mut self) -> Option<Buffer> {
        if let Some(buf) = self.free.pop() {
            return Some(buf);
        }
        if self.unallocated == 0 {
            return None;
        }
        self.unallocated -= 1;
        Some(Zeroizing::new(vec![0u8; BATCH_LEN]))
    }

    fn recycle(&mut self, buf: Buffer) {
        self.free.push(buf);
    }

    fn send(&mut self, batch: Batch) -> Result<(), StreamError> {
        self.backlog.worker.fetch_add(1, Ordering::Relaxed);
        self.to_worker
            .send(batch)
            .map_err(|_| StreamError::Internal)?;
        self.in_flight += 1;
        Ok(())
    }

    /// The next batch back from the worker, in order; `None` if none is out.
    fn recv(&mut self) -> Result<Option<Batch>, StreamError> {
        if self.in_flight == 0 {
            return Ok(None);
        }
        let batch = self.from_worker.recv().map_err(|_| StreamError::Internal)?;
        self.backlog.io.fetch_sub(1, Ordering::Relaxed);
        self.in_flight -= 1;
        Ok(Some(batch))
    }
}

/// Runs `io` on the calling thread and `worker` on a second thread, joined by
/// a pair of channels that carry batches in stream order. The worker returns
/// the SHA-256 of the plaintext.
fn with_worker<T>(
    worker: impl FnOnce(&Backlog, mpsc::Receiver<Batch>, mpsc::Sender<Batch>) -> [u8; 32] + Send,
    io: impl FnOnce(&mut Pipe<'_>) -> Result<T, StreamError>,
) -> Result<(T, [u8; 32]), StreamError> {
    let (to_worker, worker_rx) = mpsc::channel::<Batch>();
    let (worker_tx, from_worker) = mpsc::channel::<Batch>();
    let backlog = Backlog::default();
    thread::scope(|scope| {
        let backlog = &backlog;
        let handle = scope.spawn(move || worker(backlog, worker_rx, worker_tx));
        let mut pipe = Pipe {
            to_worker,
            from_worker,
            backlog,
            free: Vec::with_capacity(POOL_BUFFERS),
            unallocated: POOL_BUFFERS,
            in_flight: 0,
        };
        let result = io(&mut pipe);
        drop(pipe); // closes the channels, so the worker finishes
        let digest = handle.join();
        match (result, digest) {
            (Err(e), _) => Err(e),
            (Ok(t), Ok(d)) => Ok((t, d)),
            (Ok(_), Err(_)) => Err(StreamError::Internal),
        }
    })
}

/// Encrypts `src` into `dst` as a v1 blob while computing the SHA-256 of the
/// plaintext, in a single pass over the input.
///
/// Hashing runs on a second thread, overlapped with encryption and I/O on
/// the calling thread; the second thread also seals a share of the chunks,
/// adjusted continuously so that both cores stay busy. Memory use is about
/// 4 MiB whatever the input size. `progress` is called on the calling
/// thread, about once per MiB, with the total number of plaintext bytes
/// processed so far.
///
/// Nothing but ciphertext is ever written to `dst`; writes are ~1 MiB each
/// and sequential. On error `dst` holds an incomplete blob to be discarded.
pub fn encrypt_and_hash<R: Read, W: Write>(
    mut src: R,
    mut dst: W,
    key: &BlobKey,
    progress: &mut dyn FnMut(u64),
) -> Result<Sealed, StreamError> {
    let mut salt = [0u8; SALT_LEN];
    fill_random(&mut salt).map_err(StreamError::Random)?;
    encrypt_with_salt(&mut src, &mut dst, key, &salt, progress)
}

fn build_header(key: &BlobKey, keys: &BlobKeys, salt: &[u8; SALT_LEN]) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    let (magic_end, salt_end, id_end) = (MAGIC.len(), MAGIC.len() + SALT_LEN, HEADER_LEN - 16);
    header[..magic_end].copy_from_slice(MAGIC);
    header[magic_end..salt_end].copy_from_slice(salt);
    header[salt_end..id_end].copy_from_slice(&key.key_id());
    let mac = keys.header_mac(&header[..id_end]);
    header[id_end..].copy_from_slice(&mac[..HEADER_MAC_LEN]);
    header
}

/// Reads the next batch of plaintext chunks into their slots in `buf`.
/// The byte after the batch, if any, is moved to `carry`.
fn read_plain_batch<R: Read>(
    src: &mut R,
    buf: Buffer,
    first: u64,
    carry: &mut Option<u8>,
) -> Result<Batch, StreamError> {
    let mut batch = Batch {
        buf,
        chunks: 0,
        lens: [0; BATCH_CHUNKS],
        first,
        last: false,
        done: BATCH_CHUNKS,
        failed: None,
    };
    while batch.chunks < BATCH_CHUNKS && !batch.last {
        let at = batch.chunks * PIECE;
        let slot = &mut batch.buf[at..=at + CHUNK_SIZE];
        let mut n = 0;
        if let Some(byte) = carry.take() {
            slot[0] = byte;
            n = 1;
        }
        n += read_full(src, &mut slot[n..])?;
        if n > CHUNK_SIZE {
            *carry = Some(slot[CHUNK_SIZE]);
            n = CHUNK_SIZE;
        } else {
            batch.last = true;
        }
        batch.lens[batch.chunks] = n;
        batch.chunks += 1;
    }
    batch.done = batch.chunks;
    Ok(batch)
}

fn encrypt_with_salt<R: Read, W: Write>(
    src: &mut R,
    dst: &mut W,
    key: &BlobKey,
    salt: &[u8; SALT_LEN],
    progress: &mut dyn FnMut(u64),
) -> Result<Sealed, StreamError> {
    let keys = BlobKeys::derive(key, salt);
    dst.write_all(&build_header(key, &keys, salt))
        .map_err(StreamError::Write)?;

    let keys = &keys;
    let worker = move |backlog: &Backlog, rx: mpsc::Receiver<Batch>, tx: mpsc::Sender<Batch>| {
        let mut sha = Sha256::new();
        let mut share = 0;
        for mut batch in rx {
            backlog.worker.fetch_sub(1, Ordering::Relaxed);
            for i in 0..batch.chunks {
                sha.update(&batch.buf[batch.span(i)]);
            }
            // Seal the last `share` chunks here; the I/O thread does the rest.
            share = rebalance(share, backlog.io.load(Ordering::Relaxed));
            let from = batch.chunks.saturating_sub(share);
            for i in (from..batch.chunks).rev() {
                // Cannot fail for a 64 KiB chunk; if it did, the I/O thread
                // redoes the chunk and reports the error.
                if batch.seal(keys, i).is_err() {
                    break;
                }
                batch.done = i;
            }
            backlog.io.fetch_add(1, Ordering::Relaxed);
            if tx.send(batch).is_err() {
                break;
            }
        }
        <[u8; 32]>::from(sha.finalize())
    };
    let (size, sha256) = with_worker(worker, |pipe| {
        let mut carry = None;
        let mut read_all = false;
        let mut next: u64 = 0;
        let mut total: u64 = 0;
        loop {
            while !read_all {
                let Some(buf) = pipe.buffer() else { break };
                let batch = read_plain_batch(src, buf, next, &mut carry)?;
                read_all = batch.last;
                next = next
                    .checked_add(batch.chunks as u64)
                    .ok_or(StreamError::TooLarge)?;
                pipe.send(batch)?;
            }
            let Some(mut batch) = pipe.recv()? else {
                return Err(StreamError::Internal);
            };
            for i in 0..batch.done {
                batch.seal(keys, i)?;
            }
            // Full chunks fill their slots exactly, so the sealed batch is
            // contiguous; only the final chunk may be shorter.
            let end = batch.span(batch.chunks - 1).end + TAG_SIZE;
            dst.write_all(&batch.buf[..end])
                .map_err(StreamError::Write)?;
            let plain: usize = batch.lens[..batch.chunks].iter().sum();
            total = total
                .checked_add(plain as u64)
                .ok_or(StreamError::TooLarge)?;
            progress(total);
            let last = batch.last;
            pipe.recycle(batch.buf);
            if last {
                return Ok(total);
            }
        }
    })?;
    dst.flush().map_err(StreamError::Write)?;
    Ok(Sealed { sha256, size })
}

/// Checks a v1 header and derives the per-blob keys from it.
pub(super) fn open_header(header: &[u8], key: &BlobKey) -> Result<BlobKeys, StreamError> {
    let magic_len = header.len().min(MAGIC.len());
    if header[..magic_len] != MAGIC[..magic_len] {
        return Err(if header.starts_with(b"guwah/blob/") {
            StreamError::UnsupportedVersion
        } else {
            StreamError::NotABlob
        });
    }
    if header.len() < HEADER_LEN {
        return Err(StreamError::TruncatedHeader);
    }
    let salt_end = MAGIC.len() + SALT_LEN;
    let id_end = salt_end + KEY_ID_LEN;
    if header[salt_end..id_end] != key.key_id() {
        return Err(StreamError::WrongKey);
    }
    let mut salt = [0u8; SALT_LEN];
    salt.copy_from_slice(&header[MAGIC.len()..salt_end]);
    let keys = BlobKeys::derive(key, &salt);
    let mac = keys.header_mac(&header[..id_end]);
    if !constant_time_eq(&mac[..HEADER_MAC_LEN], &header[id_end..HEADER_LEN]) {
        return Err(StreamError::HeaderTampered);
    }
    Ok(keys)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Works out why chunk `counter` (the sealed `piece`) failed to
/// authenticate. Runs only on the failure path; costs one GHASH pass plus
/// one AES block per candidate index and offset (tens of milliseconds).
pub(super) fn diagnose(keys: &BlobKeys, counter: u64, at_eof: bool, piece: &[u8]) -> StreamError {
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

/// Reads the next batch of sealed pieces into `buf`. The byte after the
/// batch, if any, is moved to `carry`. Also returns the bytes read (0 only
/// when the input has nothing after the header).
fn read_sealed_batch<R: Read>(
    src: &mut R,
    mut buf: Buffer,
    first: u64,
    carry: &mut Option<u8>,
) -> Result<(Batch, usize), StreamError> {
    let mut n = 0;
    if let Some(byte) = carry.take() {
        buf[0] = byte;
        n = 1;
    }
    n += read_full(src, &mut buf[n..])?;
    let full = BATCH_CHUNKS * PIECE;
    let last = n <= full;
    if !last {
        *carry = Some(buf[full]);
        n = full;
    }
    let chunks = n.div_ceil(PIECE);
    let mut lens = [PIECE; BATCH_CHUNKS];
    if chunks > 0 {
        lens[chunks - 1] = n - (chunks - 1) * PIECE;
    }
    let batch = Batch {
        buf,
        chunks,
        lens,
        first,
        last,
        done: 0,
        failed: None,
    };
    Ok((batch, n))
}

/// Decrypts the v1 blob in `src` into `dst` while computing the SHA-256 of
/// the plaintext, in a single pass.
///
/// Pass [`io::sink()`] as `dst` to verify a blob without keeping the
/// plaintext. Hashing runs on a second thread, overlapped with decryption
/// and I/O on the calling thread; the two threads share the decryption
/// work. Memory use is about 4 MiB whatever the size. `progress` is called
/// on the calling thread, about once per MiB, with the total number of
/// plaintext bytes produced so far.
///
/// Plaintext is written to `dst` (and nowhere else) in blocks of up to
/// 1 MiB, each written only after all of its chunks have authenticated.
///
/// **If this returns an error, whatever was already written to `dst` must be
/// treated as untrusted and discarded**: each chunk written was authentic,
/// but the blob as a whole was not (it may be truncated, reordered or
/// altered further on). Only an `Ok` result vouches for the whole plaintext.
pub fn decrypt_and_hash<R: Read, W: Write>(
    mut src: R,
    mut dst: W,
    key: &BlobKey,
    progress: &mut dyn FnMut(u64),
) -> Result<Sealed, StreamError> {
    let mut header = [0u8; HEADER_LEN];
    let n = read_full(&mut src, &mut header)?;
    let keys = open_header(&header[..n], key)?;

    let keys = &keys;
    let worker = move |backlog: &Backlog, rx: mpsc::Receiver<Batch>, tx: mpsc::Sender<Batch>| {
        let mut sha = Sha256::new();
        for mut batch in rx {
            backlog.worker.fetch_sub(1, Ordering::Relaxed);
            if batch.failed.is_none() {
                for i in batch.done..batch.chunks {
                    if !batch.open(keys, i) {
                        break;
                    }
                }
            }
            if batch.failed.is_none() {
                for i in 0..batch.chunks {
                    sha.update(&batch.buf[batch.span(i)]);
                }
            }
            backlog.io.fetch_add(1, Ordering::Relaxed);
            if tx.send(batch).is_err() {
                break;
            }
        }
        <[u8; 32]>::from(sha.finalize())
    };
    let (size, sha256) = with_worker(worker, |pipe| {
        let mut carry = None;
        let mut read_all = false;
        // A problem found while reading, reported once the batches before it
        // (still in flight) have been checked, so that the first one wins.
        let mut deferred: Option<StreamError> = None;
        let mut next: u64 = 0;
        let mut share = 0;
        let mut total: u64 = 0;
        loop {
            while !read_all && deferred.is_none() {
                let Some(buf) = pipe.buffer() else { break };
                let (mut batch, n) = read_sealed_batch(&mut src, buf, next, &mut carry)?;
                read_all = batch.last;
                if n == 0 {
                    // Only possible at the very start: a header and nothing else.
                    deferred = Some(StreamError::Truncated { chunks: next });
                    break;
                }
                let tail = batch.lens[batch.chunks - 1];
                if tail < TAG_SIZE {
                    // Cut inside the final chunk's tag.
                    let chunks = next + batch.chunks as u64 - 1;
                    if batch.chunks == 1 {
                        deferred = Some(StreamError::Truncated { chunks });
                        break;
                    }
                    // Check the whole chunks before it first.
                    batch.chunks -= 1;
                    batch.last = false;
                    deferred = Some(StreamError::Truncated { chunks });
                }
                // Open the first `share` chunks here; the worker does the rest.
                share = rebalance(share, pipe.backlog.worker.load(Ordering::Relaxed));
                for i in 0..share.min(batch.chunks) {
                    if !batch.open(keys, i) {
                        break;
                    }
                    batch.done = i + 1;
                }
                next = next
                    .checked_add(batch.chunks as u64)
                    .ok_or(StreamError::TooLarge)?;
                pipe.send(batch)?;
            }
            let Some(mut batch) = pipe.recv()? else {
                return Err(deferred.unwrap_or(StreamError::Internal));
            };
            if let Some(i) = batch.failed {
                let span = batch.span(i);
                let last = batch.is_last_chunk(i);
                return Err(diagnose(
                    keys,
                    batch.first + i as u64,
                    last,
                    &batch.buf[span],
                ));
            }
            // Compact the plaintext to the front of the buffer.
            let mut plain = 0;
            for i in 0..batch.chunks {
                let span = batch.span(i);
                let len = span.len();
                batch.buf.copy_within(span, plain);
                plain += len;
            }
            let final_chunk = batch.first + batch.chunks as u64 - 1;
            if batch.last && batch.lens[batch.chunks - 1] == 0 && final_chunk > 0 {
                return Err(StreamError::EmptyFinalChunk { chunk: final_chunk });
            }
            dst.write_all(&batch.buf[..plain])
                .map_err(StreamError::Write)?;
            total = total
                .checked_add(plain as u64)
                .ok_or(StreamError::TooLarge)?;
            progress(total);
            let last = batch.last;
            pipe.recycle(batch.buf);
            if last {
                return Ok(total);
            }
        }
    })?;
    dst.flush().map_err(StreamError::Write)?;
    Ok(Sealed { sha256, size })
}

#[cfg(test)]
mod tests {
    use aes_gcm::{AeadInPlace, Aes256Gcm, Nonce};

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
