//! Storage contracts for a guwah vault, and the local backend.
//!
//! A vault keeps its state behind narrow traits, each with its durability
//! promise written on it:
//!
//! - [`BlobStore`]: encrypted blobs named by a keyed hash of their content,
//!   written once, read whole or by range ([`RangedBlob`]).
//! - [`LogStore`]: the log's tiles and entry bundles (C2SP tlog-tiles
//!   paths), written once.
//! - [`CheckpointStore`]: the latest signed checkpoint, replaced only by
//!   compare-and-swap (the commit point), and the history.
//! - [`IndexStore`]: the private rows about log entries, one transaction
//!   per append, read below the committed size.
//! - [`AccountStore`]: a team server's accounts and their credentials
//!   (sessions, API tokens), the current state only.
//! - [`WriterLock`]: one writer at a time.
//! - [`KeyedStore`]: small values (the vault marker, the sealed key file,
//!   configuration, timestamp tokens), each replaced atomically.
//!
//! A [`Backend`] holds one of each. [`Backend::local`] is the embedded
//! default, a folder with an SQLite index; [`mem::MemStore`] enforces the
//! contracts in tests and simulates faults and crashes; an object store
//! with a database implements the same traits. This crate knows nothing
//! about encryption or log semantics: it moves opaque bytes durably.
//!
//! ```
//! use guwah_store::Backend;
//! let dir = tempfile::tempdir().unwrap();
//! let store = Backend::create_local(dir.path()).unwrap();
//! store.log.write("tile/0/000.p/1", b"hash").unwrap();
//! store.log.sync_log().unwrap();
//! assert_eq!(store.log.read("tile/0/000.p/1").unwrap().unwrap(), b"hash");
//! // Written once: the same bytes again are fine, others are refused.
//! store.log.write("tile/0/000.p/1", b"hash").unwrap();
//! assert!(store.log.write("tile/0/000.p/1", b"other").is_err());
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod accounts;
mod backend;
mod contract;
mod fs;
mod index;
pub mod mem;
mod sqlite;

pub use accounts::{AccountRow, AccountStore, CredentialKind, CredentialRow};
pub use backend::Backend;
pub use contract::{
    BlobStore, CheckpointStore, KeyedStore, LogStore, RangedBlob, StagedBlob, StoreError,
    WriterGuard, WriterLock, check_range, validate_blob_name, validate_key, validate_log_path,
};
pub use index::{EntryKind, EntryRow, IndexBatch, IndexStore, Submission};
