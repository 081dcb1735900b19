//! Storage contracts for a guwah vault, and the local-filesystem backend.
//!
//! A vault keeps three kinds of objects, each behind a narrow trait:
//!
//! - [`BlobStore`]: encrypted blobs named by a keyed hash of their content,
//!   read whole or by range ([`RangedBlob`]).
//! - [`LogStore`]: the log's tiles and entry bundles (C2SP tlog-tiles paths).
//! - [`CheckpointStore`]: the latest signed checkpoint, replaced only by
//!   compare-and-swap, and the history of every checkpoint ever committed.
//!
//! The contracts are written on each trait. They are what a future S3 or
//! PostgreSQL backend must honour; [`mem::MemStore`] enforces them in tests.
//! This crate knows nothing about encryption or log semantics: it moves
//! opaque bytes durably.
//!
//! ```
//! use guwah_store::{fs::FsStore, LogStore};
//! let dir = tempfile::tempdir().unwrap();
//! let store = FsStore::create(dir.path()).unwrap();
//! store.write("tile/0/000.p/1", b"hash").unwrap();
//! store.sync_log().unwrap();
//! assert_eq!(store.read("tile/0/000.p/1").unwrap().unwrap(), b"hash");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod contract;
pub mod fs;
pub mod mem;

pub use contract::{
    BlobStore, CheckpointStore, LogStore, RangedBlob, StagedBlob, StoreError, check_range,
    validate_blob_name, validate_log_path,
};
