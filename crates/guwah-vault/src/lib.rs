//! The guwah evidence vault: keep, seal and verify.
//!
//! A vault (see `docs/format.md`) is encrypted blobs, a signed append-only
//! log stored as C2SP tiles, an index whose private columns are encrypted
//! and a key file sealed under the user's passphrase, kept on any
//! [`guwah_store::Backend`] — by default one local folder
//! ([`Vault::open`], [`Vault::init`]; any backend: [`Vault::open_with`],
//! [`Vault::init_with`]). This crate is the policy layer between the pure
//! core (`guwah-core`: formats and proofs) and the storage contracts
//! (`guwah-store`): it decides what is encrypted with which key, in what
//! order things are made durable (one append transaction, `append.rs`),
//! and what `verify` checks.
//!
//! ```no_run
//! use guwah_vault::{AddOptions, Vault};
//! let vault = Vault::init("vault".as_ref(), b"correct horse", None, Default::default())?;
//! let report = vault.add(&["photo.jpg".into()], &AddOptions::default(), &mut |_| {})?;
//! println!("sealed {} items", report.items.len());
//! # Ok::<(), guwah_vault::VaultError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod accounts;
mod append;
mod blob_reader;
mod chat;
pub mod crypto;
mod error;
mod export;
mod index;
mod ingest;
mod keys;
mod log;
mod media;
mod report;
mod similar;
mod spool;
mod team;
mod timestamps;
mod vault;
mod verify;
mod witness;
pub mod witness_store;

pub use accounts::{
    Account, AuditEntry, LoginRefusal, MIN_PASSWORD_CHARS, NewSession, Principal, Role,
    SESSION_SECONDS, TotpEnrollment, check_name, unix_now,
};
pub use chat::{
    CHAT_MESSAGE_TYPE, CHAT_MESSAGE_V1, ChatAttachmentItem, ChatLinks, ChatMessageItem, ChatReport,
    LinkedItem, SearchHit, render_message,
};
pub use error::VaultError;
pub use export::{
    DisclosedField, ExportOptions, ExportReport, ExportedItem, PackageSink, SharedWitnessTransport,
};
pub use ingest::{AddOptions, AddProgress, AddReport, AddStatus, AddWarning, AddedItem};
pub use keys::KdfParams;
pub use log::{ConsistencyProof, Head, InclusionProof, LogWriter};
pub use media::sniff_media_type;
pub use report::Lang;
pub use similar::{
    ClusterItem, DuplicatesReport, MIN_QUALITY, PerceptualHash, PerceptualHashes, SimilarItem,
    SimilarReport,
};
pub use spool::{Appended, CHUNK as SPOOL_CHUNK, Spool, SpoolError, SpoolReader, UploadState};
pub use team::{Original, PushBundle, ReadSeek, Submission};
pub use timestamps::{
    SharedTransport, StampOutcome, TIMESTAMPS_DIR, TSA_FILE, TsaConfig, TsaTransport,
};
pub use vault::{CustodyEntry, FieldValue, ItemDetails, ItemSummary, Vault, short_id};
pub use verify::{Problem, VerifyProgress, VerifyReport};
pub use witness::{Transport, WitnessConfig, WitnessOutcome};
