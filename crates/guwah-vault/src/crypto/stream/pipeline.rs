//! The two-thread pipeline under sealing and opening: batches of chunks go
//! from the calling (I/O) thread to a worker thread and back, in stream
//! order, through a small fixed pool of zeroizing buffers.

use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

use zeroize::Zeroizing;

use super::StreamError;
use super::format::{PIECE, TAG_SIZE};
use super::keys::BlobKeys;

/// Chunks per batch handed between the two threads (1 MiB of plaintext).
pub(super) const BATCH_CHUNKS: usize = 16;
/// Size of a batch buffer: sealed chunks back to back, plus one byte of
/// look-ahead to tell whether the input ends with this batch.
const BATCH_LEN: usize = BATCH_CHUNKS * PIECE + 1;
/// Batch buffers circulating between the two threads (about 4 MiB in all).
const POOL_BUFFERS: usize = 4;

/// Reads until `buf` is full or the source ends; returns the bytes read.
pub(super) fn read_full<R: Read>(src: &mut R, buf: &mut [u8]) -> Result<usize, StreamError> {
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

pub(super) type Buffer = Zeroizing<Vec<u8>>;

/// Up to [`BATCH_CHUNKS`] consecutive chunks travelling between the I/O
/// thread and the worker thread. Chunk `i` lives at `buf[i * PIECE..]`:
/// plaintext of `lens[i]` bytes, followed by room for its tag.
pub(super) struct Batch {
    pub(super) buf: Buffer,
    /// Number of chunks in the batch (at least 1).
    pub(super) chunks: usize,
    /// Plaintext length (encryption) or sealed piece length (decryption).
    pub(super) lens: [usize; BATCH_CHUNKS],
    /// Index of the first chunk in the stream.
    pub(super) first: u64,
    /// Whether the batch ends with the final chunk.
    pub(super) last: bool,
    /// Chunks `done..chunks` have been sealed (encryption) or chunks
    /// `..done` have been opened (decryption) by whichever thread did them.
    pub(super) done: usize,
    /// Decryption: the first chunk that failed authentication, if any.
    pub(super) failed: Option<usize>,
}

impl Batch {
    pub(super) fn is_last_chunk(&self, i: usize) -> bool {
        self.last && i + 1 == self.chunks
    }

    pub(super) fn span(&self, i: usize) -> std::ops::Range<usize> {
        i * PIECE..i * PIECE + self.lens[i]
    }

    /// Seals chunk `i` in place and appends its tag.
    pub(super) fn seal(&mut self, keys: &BlobKeys, i: usize) -> Result<(), StreamError> {
        let span = self.span(i);
        let (end, last) = (span.end, self.is_last_chunk(i));
        let tag = keys.seal_chunk(self.first + i as u64, last, &mut self.buf[span])?;
        self.buf[end..end + TAG_SIZE].copy_from_slice(&tag);
        Ok(())
    }

    /// Opens the sealed piece `i` in place; on success `lens[i]` becomes the
    /// plaintext length. On failure records it and leaves the piece intact.
    pub(super) fn open(&mut self, keys: &BlobKeys, i: usize) -> bool {
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
pub(super) struct Backlog {
    /// Batches sent to the worker and not yet taken by it.
    pub(super) worker: AtomicUsize,
    /// Batches sent back to the I/O thread and not yet taken by it.
    pub(super) io: AtomicUsize,
}

/// Adjusts a work share by one step towards balance: up when the other
/// thread has batches waiting, down when it has none.
pub(super) fn rebalance(share: usize, others_waiting: usize) -> usize {
    if others_waiting >= 2 {
        (share + 1).min(BATCH_CHUNKS - 1)
    } else if others_waiting == 0 {
        share.saturating_sub(1)
    } else {
        share
    }
}

/// The I/O thread's end of the pipeline.
pub(super) struct Pipe<'a> {
    to_worker: mpsc::Sender<Batch>,
    from_worker: mpsc::Receiver<Batch>,
    pub(super) backlog: &'a Backlog,
    free: Vec<Buffer>,
    unallocated: usize,
    in_flight: usize,
}

impl Pipe<'_> {
    /// A free batch buffer, if the pool is not exhausted.
    pub(super) fn buffer(&mut self) -> Option<Buffer> {
        if let Some(buf) = self.free.pop() {
            return Some(buf);
        }
        if self.unallocated == 0 {
            return None;
        }
        self.unallocated -= 1;
        Some(Zeroizing::new(vec![0u8; BATCH_LEN]))
    }

    pub(super) fn recycle(&mut self, buf: Buffer) {
        self.free.push(buf);
    }

    pub(super) fn send(&mut self, batch: Batch) -> Result<(), StreamError> {
        self.backlog.worker.fetch_add(1, Ordering::Relaxed);
        self.to_worker
            .send(batch)
            .map_err(|_| StreamError::Internal)?;
        self.in_flight += 1;
        Ok(())
    }

    /// The next batch back from the worker, in order; `None` if none is out.
    pub(super) fn recv(&mut self) -> Result<Option<Batch>, StreamError> {
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
pub(super) fn with_worker<T>(
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
