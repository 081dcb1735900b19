//! Opening: [`decrypt_and_hash`] authenticates and decrypts a v1 blob and
//! hashes the plaintext in the same pass, and says what is wrong with a blob
//! that fails.

use std::io::{Read, Write};
use std::sync::atomic::Ordering;
use std::sync::mpsc;

use sha2::{Digest, Sha256};

use super::diagnose::diagnose;
use super::format::{HEADER_LEN, PIECE, TAG_SIZE, open_header};
use super::keys::BlobKey;
use super::pipeline::{BATCH_CHUNKS, Backlog, Batch, Buffer, read_full, rebalance, with_worker};
use super::{Sealed, StreamError};

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
/// Pass [`io::sink()`](std::io::sink) as `dst` to verify a blob without
/// keeping the plaintext. Hashing runs on a second thread, overlapped with
/// decryption and I/O on the calling thread; the two threads share the
/// decryption work. Memory use is about 4 MiB whatever the size. `progress`
/// is called on the calling thread, about once per MiB, with the total
/// number of plaintext bytes produced so far.
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
