//! Sealing: [`encrypt_and_hash`] writes a v1 blob and hashes the plaintext
//! in the same pass.

use std::io::{Read, Write};
use std::sync::atomic::Ordering;
use std::sync::mpsc;

use sha2::{Digest, Sha256};

use super::format::{CHUNK_SIZE, PIECE, SALT_LEN, TAG_SIZE, build_header};
use super::keys::{BlobKey, BlobKeys};
use super::pipeline::{BATCH_CHUNKS, Backlog, Batch, Buffer, read_full, rebalance, with_worker};
use super::{Sealed, StreamError};
use crate::crypto::fill_random;

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

pub(super) fn encrypt_with_salt<R: Read, W: Write>(
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
