//! Why a blob could not be sealed or opened.

use std::io;

use super::format::HEADER_LEN;

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
