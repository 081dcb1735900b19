//! guwah's pure core: everything a stranger needs to check guwah evidence.
//!
//! This crate does no I/O and holds no policy: it hashes, encodes, parses,
//! signs and verifies. It builds for `wasm32-unknown-unknown` so that the
//! same code verifies evidence in a browser.
//!
//! - [`merkle`]: RFC 9162 (RFC 6962) tree hashing, inclusion and consistency proofs.
//! - [`tiles`]: C2SP tlog-tiles paths, hash tiles and entry bundles.
//! - [`note`]: C2SP signed notes with Ed25519 keys.
//! - [`checkpoint`]: C2SP tlog-checkpoint bodies.
//! - [`record`]: guwah's canonical log records (items and custody events).
//! - [`bag`]: BagIt (RFC 8493) validation and manifest writing.
//! - [`receipt`]: C2SP tlog-proof receipts (index, inclusion proof, checkpoint).
//! - [`bundle`]: offline verification of a guwah evidence package (a BagIt bag).
//! - [`witness`]: C2SP tlog-witness `add-checkpoint` (requests, the witness's checks, cosignature policies).
//! - [`ots`]: OpenTimestamps `.ots` proofs: parsed, replayed, attestations reported.
//! - [`monitor`]: a monitor of a published tlog-tiles log over a one-method fetch seam.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bag;
pub mod bundle;
pub mod checkpoint;
pub mod item_file;
pub mod merkle;
pub mod monitor;
pub mod note;
pub mod ots;
pub mod push;
pub mod receipt;
pub mod record;
pub mod tiles;
pub mod witness;
