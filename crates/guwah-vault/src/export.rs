//! `export` and `disclose`: evidence packages for someone who does not
//! trust us (see `docs/package.md`).
//!
//! An export seals one `exported` custody event per item first (one
//! checkpoint for the batch), then writes, against that checkpoint: each
//! original (decrypted straight into the package, its SHA-256 checked
//! against the sealed record), each record, a C2SP tlog-proof receipt, the
//! fields disclosed or withheld, every custody event with its own receipt
//! (all of an item's parts in one item file, package v2), the checkpoint,
//! the log's key, and `REPORT.html`. The package itself
//! (BagIt folder or zip) is written by a [`PackageSink`], so this crate
//! knows nothing of BagIt.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::sync::mpsc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use guwah_core::bag::FileDigest;
use guwah_core::bundle::{
    self, CHECKPOINT, Disclosure, FieldEntry, FieldsFile, KEYS, PACKAGE_TXT, PackageIndex,
    RECEIPT_FILE, RECORD_FILE,
};
use guwah_core::item_file::ItemFile;
use guwah_core::merkle::Hash;
use guwah_core::receipt::TlogProof;
use guwah_core::record::{
    Action, FieldCommitment, Record, check_field_name, commit_field, hex32, parse_hex32,
};
use serde::Serialize;

use crate::crypto;
use crate::error::VaultError;
use crate::index::{EntryKind, EntryRow, Private};
use crate::report::{self, Lang, ReportData, ReportEvent, ReportField, ReportItem};
use crate::vault::{Vault, short_id, timestamp_now};

/// Where an export writes the package: a BagIt writer (folder or zip).
pub trait PackageSink {
    /// Write one payload file (`data/...`) from `reader`; returns its size
    /// and digests (at least SHA-256).
    fn add_payload(&mut self, path: &str, reader: &mut dyn Read) -> std::io::Result<FileDigest>;
    /// Write one tag file (outside `data/`).
    fn add_tag_file(&mut self, path: &str, bytes: &[u8]) -> std::io::Result<()>;
}

/// What to export and how to describe it.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Item ids or unique prefixes.
    pub ids: Vec<String>,
    /// Also every item whose `tags` field holds one of these.
    pub tags: Vec<String>,
    /// Field names to leave out (of items and of their events).
    pub withhold: Vec<String>,
    /// Who the package is for (`--to`), sealed in each `exported` event;
    /// never a local path (see [`handover_values`]).
    pub recipient: Option<String>,
    /// What the package is written as, sealed as the event's `output`
    /// field: `package folder` or `package zip`.
    pub output: String,
    /// Why (sealed in each `exported` event).
    pub reason: Option<String>,
    /// `Source-Organization`.
    pub org: Option<String>,
    /// `Contact-Name`.
    pub contact_name: Option<String>,
    /// `Contact-Email`.
    pub contact_email: Option<String>,
    /// `External-Description`.
    pub description: Option<String>,
    /// `External-Identifier`.
    pub identifier: Option<String>,
    /// Language of `REPORT.html`.
    pub lang: Lang,
    /// The team-server account exporting, sealed as `account` in each
    /// `exported` event.
    pub account: Option<String>,
    /// Stamp the export's checkpoint with every configured TSA through this
    /// transport before writing (see `docs/format.md`, "Timestamps").
    pub timestamp: Option<crate::timestamps::SharedTransport>,
    /// Ask every configured witness to cosign the export's checkpoint
    /// through this transport before writing, so the package carries the
    /// cosignatures (`verify-bundle --witness`).
    pub witness: Option<SharedWitnessTransport>,
}

/// A witness transport that export options can own (see [`crate::witness::Transport`]).
#[derive(Clone)]
pub struct SharedWitnessTransport(
    /// The transport.
    pub std::sync::Arc<crate::witness::Transport<'static>>,
);

impl std::fmt::Debug for SharedWitnessTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedWitnessTransport(..)")
    }
}

/// One exported item.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedItem {
    /// Item id.
    pub id: String,
    /// Its original in the package.
    pub payload: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Custody events included.
    pub events: usize,
    /// Fields withheld.
    pub withheld: Vec<String>,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    /// The items, in log order.
    pub items: Vec<ExportedItem>,
    /// The checkpoint every receipt is against.
    pub checkpoint_size: u64,
    /// The log's origin.
    pub origin: String,
    /// The log's key (vkey): give it to the recipient by another channel.
    pub log_key: String,
    /// `bag-info.txt` fields for the writer, in order (without
    /// `Payload-Oxum`, which the writer computes).
    pub bag_info: Vec<(String, String)>,
    /// What each TSA did when asked with `timestamp` (empty otherwise).
    pub timestamps: Vec<crate::timestamps::StampOutcome>,
    /// What each witness did when asked with `witness` (empty otherwise).
    pub witnesses: Vec<crate::witness::WitnessOutcome>,
}

/// A disclosed field: what `guwah disclose` prints.
#[derive(Debug, Clone, Serialize)]
pub struct DisclosedField {
    /// The item id.
    pub item: String,
    /// Field name.
    pub field: String,
    /// Its value.
    pub value: String,
    /// The salt, base64.
    pub salt: String,
    /// The commitment sealed in the record, base64.
    pub commitment: String,
    /// The log entry of the `disclosed` custody event.
    pub event_leaf_index: u64,
    /// The disclosure file (`guwah/disclosure/v1`), checkable with
    /// `guwah verify-bundle PACKAGE --disclosure FILE`.
    pub disclosure: String,
}

/// A bounded in-memory pipe: decryption writes on one thread, the package
/// writer reads on another; memory stays constant whatever the size.
struct PipeWriter(mpsc::SyncSender<Vec<u8>>);

impl Write for PipeWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.send(buf.to_vec()).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "package writer stopped")
        })?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct PipeReader<'a> {
    rx: mpsc::Receiver<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
    progress: &'a mut dyn FnMut(u64),
}

impl Read for PipeReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.buf.len() {
            match self.rx.recv() {
                Ok(b) => {
                    self.buf = b;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        (self.progress)(n as u64);
        Ok(n)
    }
}

/// A safe payload name: `data/<16 hex>-<filename, [A-Za-z0-9._-] only>`.
fn payload_path(id: &str, filename: Option<&str>, media_type: &str) -> String {
    let short = short_id(id);
    if let Some(name) = filename {
        let clean: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let clean = clean.trim_start_matches('.');
        let clean: String = clean.chars().take(120).collect();
        if !clean.is_empty() {
            return format!("data/{short}-{clean}");
        }
    }
    let ext = match media_type {
        "image/jpeg" => ".jpg",
        "image/png" => ".png",
        "image/gif" => ".gif",
        "image/webp" => ".webp",
        "image/heic" => ".heic",
        "video/mp4" => ".mp4",
        "video/quicktime" => ".mov",
        "audio/mpeg" => ".mp3",
        "audio/ogg" => ".ogg",
        "application/pdf" => ".pdf",
        "text/plain" => ".txt",
        "application/zip" => ".zip",
        _ => "",
    };
    format!("data/{short}{ext}")
}

fn io_err(what: &str) -> impl FnOnce(std::io::Error) -> VaultError + '_ {
    move |e| VaultError::Io {
        path: what.into(),
        source: e,
    }
}

/// Is field `name` withheld: named itself, or inside a named group of
/// fields (`gps` withholds `gps.latitude`, `gps.longitude`, `gps.altitude`,
/// …, as metadata fields are named; see docs/metadata.md).
fn is_withheld(withhold: &BTreeSet<String>, name: &str) -> bool {
    withhold.contains(name)
        || name
            .match_indices('.')
            .any(|(i, _)| withhold.contains(&name[..i]))
}

/// Disclosed or withheld, for each committed field of a record.
fn fields_file(
    fields: &[FieldCommitment],
    private: &Private,
    withhold: &BTreeSet<String>,
    thing: &str,
) -> Result<(FieldsFile, Vec<ReportField>), VaultError> {
    let mut out = FieldsFile::default();
    let mut view = Vec::new();
    for f in fields {
        let sv = private.fields.get(&f.name);
        match sv {
            Some(sv) if !is_withheld(withhold, &f.name) => {
                let salt: [u8; 32] = B64
                    .decode(&sv.salt)
                    .ok()
                    .and_then(|s| s.try_into().ok())
                    .ok_or_else(|| {
                        VaultError::damaged(thing, format!("index salt of field {:?}", f.name))
                    })?;
                if commit_field(&f.name, &salt, sv.value.as_bytes()) != f.commitment {
                    return Err(VaultError::damaged(
                        thing,
                        format!(
                            "the index's value of field {:?} does not match the sealed commitment",
                            f.name
                        ),
                    ));
                }
                out.entries.push(FieldEntry::Disclosed {
                    name: f.name.clone(),
                    salt,
                    value: sv.value.as_bytes().to_vec(),
                });
                view.push(ReportField {
                    name: f.name.clone(),
                    value: Some(sv.value.clone()),
                });
            }
            _ => {
                out.entries.push(FieldEntry::Withheld {
                    name: f.name.clone(),
                });
                view.push(ReportField {
                    name: f.name.clone(),
                    value: None,
                });
            }
        }
    }
    Ok((out, view))
}

fn decode_hashes(hashes: &[String]) -> Result<Vec<Hash>, VaultError> {
    hashes
        .iter()
        .map(|h| {
            B64.decode(h)
                .ok()
                .and_then(|b| <Hash>::try_from(b).ok())
                .ok_or_else(|| VaultError::damaged("log", "a proof hash is not 32 bytes"))
        })
        .collect()
}

impl Vault {
    /// The items an export names: by id prefix and by tag, in log order.
    fn export_rows(&self, opts: &ExportOptions, size: u64) -> Result<Vec<EntryRow>, VaultError> {
        let keys = self.keys()?;
        let mut chosen: Vec<EntryRow> = Vec::new();
        for id in &opts.ids {
            chosen.push(self.resolve(id)?);
        }
        if !opts.tags.is_empty() {
            let rows = self.index().entries(size)?;
            for row in rows.into_iter().filter(|r| r.kind == EntryKind::Item) {
                let private = Private::open(&keys.index_key, &row)?;
                let has = private
                    .fields
                    .get("tags")
                    .is_some_and(|t| t.value.lines().any(|l| opts.tags.iter().any(|x| x == l)));
                if has {
                    chosen.push(row);
                }
            }
        }
        chosen.sort_by_key(|r| r.leaf_index);
        chosen.dedup_by(|a, b| a.leaf_index == b.leaf_index);
        if chosen.is_empty() {
            return Err(VaultError::BadArgument {
                what: "export".into(),
                why: if opts.tags.is_empty() {
                    "no items given: name item ids or --tag".into()
                } else {
                    format!("no item has the tag(s) {}", opts.tags.join(", "))
                },
            });
        }
        Ok(chosen)
    }

    /// Export items as an evidence package into `sink`. Seals one
    /// `exported` custody event per item *before* writing anything, under
    /// one checkpoint that every receipt in the package is against.
    pub fn export(
        &self,
        opts: &ExportOptions,
        sink: &mut dyn PackageSink,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ExportReport, VaultError> {
        let keys = self.keys()?;
        let withhold: BTreeSet<String> = opts.withhold.iter().cloned().collect();
        for w in &withhold {
            check_field_name(w).map_err(|e| VaultError::BadArgument {
                what: format!("--withhold {w:?}"),
                why: e.to_string(),
            })?;
        }
        let mut w = self.writer()?;
        let rows = self.export_rows(opts, w.size())?;
        // 1. The custody events, sealed before anything leaves the vault.
        let mut values = handover_values(
            &opts.output,
            opts.recipient.as_deref(),
            opts.reason.as_deref(),
        )?;
        if let Some(account) = &opts.account {
            values.push(("account".into(), account.clone()));
        }
        let batch: Vec<(&EntryRow, Vec<(String, String)>)> =
            rows.iter().map(|r| (r, values.clone())).collect();
        let head = w.append_events(&batch, Action::Exported)?.clone();
        let size = head.checkpoint.size;
        // Cosignatures go on the checkpoint before the receipts quote it.
        let (note, witnesses) = match &opts.witness {
            Some(t) => {
                let (lines, outcomes, configs) = self.ask_witnesses(&head, &*t.0)?;
                let note = self.keep_cosignatures(&mut w, &head, &lines)?;
                self.save_witness_sizes(&w, &configs)?;
                (note, outcomes)
            }
            None => (head.note.clone(), Vec::new()),
        };
        let timestamps = match &opts.timestamp {
            Some(t) => self.stamp_checkpoint(&w, size, &note, &self.tsas()?, &*t.0)?,
            None => Vec::new(),
        };
        // Everything below reads what `size` committed, which no writer
        // changes: other writes go on while the package is written (a
        // server streams it to a client at the client's pace).
        drop(w);

        // 2. Per item: record, receipt, fields, events, payload.
        let mut index = PackageIndex {
            version: 2,
            origin: self.origin.clone(),
            checkpoint_size: size,
            items: Vec::new(),
        };
        let mut items = Vec::new();
        let mut report_items = Vec::new();
        let receipt_for = |leaf_index: u64, leaf: &[u8]| -> Result<Vec<u8>, VaultError> {
            let proof = self.log().inclusion(leaf_index, size, leaf)?;
            Ok(TlogProof {
                extra: None,
                index: leaf_index,
                proof: decode_hashes(&proof.hashes)?,
                checkpoint: note.clone(),
            }
            .encode())
        };
        for row in &rows {
            let (leaf, record) = self.record_of(row, size)?;
            let Record::Item(item) = &record else {
                return Err(VaultError::damaged(
                    format!("log entry {}", row.leaf_index),
                    "indexed as an item but is an event",
                ));
            };
            let id = record.id();
            // Every tag file of the item goes into one item file (package v2).
            let item_path = bundle::item_file_path(&id);
            let mut packed = ItemFile::default();
            let thing = format!("item {}", short_id(&row.record_id));
            let private = Private::open(&keys.index_key, row)?;
            let (fields, field_view) = fields_file(&item.fields, &private, &withhold, &thing)?;
            let filename = (!is_withheld(&withhold, "filename"))
                .then(|| private.fields.get("filename").map(|v| v.value.as_str()))
                .flatten();
            let payload = payload_path(&row.record_id, filename, &item.media_type);
            packed
                .parts
                .push((RECEIPT_FILE.into(), receipt_for(row.leaf_index, &leaf)?));
            packed
                .parts
                .push((bundle::FIELDS_FILE.into(), fields.encode()));
            // Custody events.
            let mut events = Vec::new();
            for ev_row in self
                .index()
                .history(&row.record_id, size)?
                .into_iter()
                .filter(|r| r.kind == EntryKind::Event)
            {
                let (ev_leaf, ev_rec) = self.record_of(&ev_row, size)?;
                let Record::Event(ev) = &ev_rec else {
                    return Err(VaultError::damaged(
                        format!("log entry {}", ev_row.leaf_index),
                        "indexed as an event but is an item",
                    ));
                };
                let edir = format!("events/{}/", hex32(&ev_rec.id()));
                let p = Private::open(&keys.index_key, &ev_row)?;
                let ething = format!("custody event at log entry {}", ev_row.leaf_index);
                let (ef, eview) = fields_file(&ev.fields, &p, &withhold, &ething)?;
                packed.parts.push((
                    format!("{edir}{RECEIPT_FILE}"),
                    receipt_for(ev_row.leaf_index, &ev_leaf)?,
                ));
                if !ev.fields.is_empty() {
                    packed
                        .parts
                        .push((format!("{edir}{}", bundle::FIELDS_FILE), ef.encode()));
                }
                packed.parts.push((format!("{edir}{RECORD_FILE}"), ev_leaf));
                events.push(ReportEvent {
                    leaf_index: ev_row.leaf_index,
                    action: ev.action.as_str().into(),
                    at: ev.at.clone(),
                    actor: B64.encode(ev.actor),
                    fields: eview,
                });
            }
            packed.parts.push((RECORD_FILE.into(), leaf));
            sink.add_tag_file(&item_path, &packed.encode())
                .map_err(io_err(&item_path))?;
            // The original, decrypted straight into the package.
            let digest = self.write_payload(&payload, item, sink, progress)?;
            let withheld: Vec<String> = field_view
                .iter()
                .filter(|f| f.value.is_none())
                .map(|f| f.name.clone())
                .collect();
            items.push(ExportedItem {
                id: row.record_id.clone(),
                payload: payload.clone(),
                size: item.size,
                sha256: hex32(&item.sha256),
                events: events.len(),
                withheld,
            });
            report_items.push(ReportItem {
                id: row.record_id.clone(),
                leaf_index: row.leaf_index,
                payload: payload.clone(),
                media_type: item.media_type.clone(),
                size: item.size,
                sha256: hex32(&item.sha256),
                sha512: digest
                    .digests
                    .get(&guwah_core::bag::Algorithm::Sha512)
                    .cloned()
                    .unwrap_or_default(),
                sealed_at: item.sealed_at.clone(),
                collector: B64.encode(item.collector),
                fields: field_view,
                events,
            });
            index.items.push((id, payload));
        }

        // 3. Once: index, checkpoint, keys, report.
        sink.add_tag_file(PACKAGE_TXT, &index.encode())
            .map_err(io_err(PACKAGE_TXT))?;
        sink.add_tag_file(CHECKPOINT, &note)
            .map_err(io_err(CHECKPOINT))?;
        // RFC 3161 tokens stored for this checkpoint, as received.
        for (name, token) in self.timestamp_tokens(size)? {
            let path = format!("{}{name}.tsr", bundle::TIMESTAMPS_DIR);
            sink.add_tag_file(&path, &token).map_err(io_err(&path))?;
        }
        let log_key = self.log_vkey();
        sink.add_tag_file(KEYS, format!("{log_key}\n").as_bytes())
            .map_err(io_err(KEYS))?;
        let date = timestamp_now();
        let bagging_date = date.get(..10).unwrap_or("1970-01-01").to_owned();
        let mut bag_info = Vec::new();
        let mut put = |k: &str, v: Option<&String>| {
            if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
                bag_info.push((k.to_owned(), v.replace(['\r', '\n'], " ")));
            }
        };
        put("Source-Organization", opts.org.as_ref());
        put("Contact-Name", opts.contact_name.as_ref());
        put("Contact-Email", opts.contact_email.as_ref());
        let description = opts.description.clone().unwrap_or_else(|| {
            format!(
                "guwah evidence package: {} item(s) sealed in the log {}, with proofs against its checkpoint of size {size}",
                items.len(),
                self.origin
            )
        });
        put("External-Description", Some(&description));
        put("Bagging-Date", Some(&bagging_date));
        let identifier = opts
            .identifier
            .clone()
            .unwrap_or_else(|| format!("guwah:{}:{size}", self.origin));
        put("External-Identifier", Some(&identifier));
        put(
            "Bag-Software-Agent",
            Some(&format!("guwah {}", env!("CARGO_PKG_VERSION"))),
        );
        let html = report::render(
            &ReportData {
                origin: self.origin.clone(),
                checkpoint_size: size,
                log_key: log_key.clone(),
                created: date,
                org: opts.org.clone(),
                contact_name: opts.contact_name.clone(),
                contact_email: opts.contact_email.clone(),
                description: description.clone(),
                identifier: identifier.clone(),
                items: report_items,
            },
            opts.lang,
        );
        sink.add_tag_file(bundle::REPORT, html.as_bytes())
            .map_err(io_err(bundle::REPORT))?;
        Ok(ExportReport {
            items,
            checkpoint_size: size,
            origin: self.origin.clone(),
            log_key,
            bag_info,
            timestamps,
            witnesses,
        })
    }

    /// Decrypt an item's blob into the sink, checking size and SHA-256.
    fn write_payload(
        &self,
        path: &str,
        item: &guwah_core::record::ItemRecord,
        sink: &mut dyn PackageSink,
        progress: &mut dyn FnMut(u64),
    ) -> Result<FileDigest, VaultError> {
        let keys = self.keys()?;
        let blob_name = keys.blob_name(&item.sha256);
        let src = self.blobs.open(&blob_name)?;
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(8);
        let blob_key = &keys.blob_key;
        let (sealed, written) = std::thread::scope(|s| {
            let worker = s.spawn(move || {
                let mut w = std::io::BufWriter::with_capacity(256 * 1024, PipeWriter(tx));
                let r = crypto::decrypt_and_hash(src, &mut w, blob_key, &mut |_| {});
                let r2 = w.flush();
                drop(w);
                r.map_err(|e| e.to_string())
                    .and_then(|s| r2.map(|_| s).map_err(|e| e.to_string()))
            });
            let mut reader = PipeReader {
                rx,
                buf: Vec::new(),
                pos: 0,
                progress,
            };
            let written = sink.add_payload(path, &mut reader);
            drop(reader);
            let sealed = worker
                .join()
                .unwrap_or_else(|_| Err("decryption thread panicked".into()));
            (sealed, written)
        });
        let sealed = sealed.map_err(|e| VaultError::damaged(format!("blob {blob_name}"), e))?;
        let digest = written.map_err(io_err(path))?;
        if sealed.sha256 != item.sha256 || sealed.size != item.size || digest.size != item.size {
            return Err(VaultError::damaged(
                format!("blob {blob_name}"),
                "decrypts to bytes whose SHA-256 or size differs from the sealed record",
            ));
        }
        Ok(digest)
    }

    /// Disclose one metadata field of an item: its value and salt, after
    /// sealing a `disclosed` custody event (field name in its `field`).
    pub fn disclose(&self, id: &str, field: &str) -> Result<DisclosedField, VaultError> {
        let keys = self.keys()?;
        check_field_name(field).map_err(|e| VaultError::BadArgument {
            what: format!("field {field:?}"),
            why: e.to_string(),
        })?;
        let row = self.resolve(id)?;
        let mut w = self.writer()?;
        let (_, record) = self.record_of(&row, w.size())?;
        let sealed = record
            .fields()
            .iter()
            .find(|f| f.name == field)
            .ok_or_else(|| VaultError::BadArgument {
                what: format!("field {field:?}"),
                why: format!(
                    "item {} has no such field; it has: {}",
                    short_id(&row.record_id),
                    record
                        .fields()
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?
            .clone();
        let private = Private::open(&keys.index_key, &row)?;
        let sv = private.fields.get(field).ok_or_else(|| {
            VaultError::damaged(
                format!("index row for item {}", short_id(&row.record_id)),
                format!("holds no value for field {field:?}"),
            )
        })?;
        let salt: [u8; 32] = B64
            .decode(&sv.salt)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| VaultError::damaged("index", "bad salt"))?;
        if commit_field(field, &salt, sv.value.as_bytes()) != sealed.commitment {
            return Err(VaultError::damaged(
                format!("item {}", short_id(&row.record_id)),
                format!("the index's value of {field:?} does not match the sealed commitment"),
            ));
        }
        let item = parse_hex32(&row.record_id)
            .ok_or_else(|| VaultError::damaged("index", "bad item id"))?;
        let head = w.append_events(
            &[(&row, vec![("field".into(), field.into())])],
            Action::Disclosed,
        )?;
        let d = Disclosure {
            item,
            name: field.to_owned(),
            salt,
            value: sv.value.as_bytes().to_vec(),
            commitment: sealed.commitment,
        };
        Ok(DisclosedField {
            item: row.record_id.clone(),
            field: field.to_owned(),
            value: sv.value.clone(),
            salt: sv.salt.clone(),
            commitment: B64.encode(sealed.commitment),
            event_leaf_index: head.checkpoint.size - 1,
            disclosure: String::from_utf8_lossy(&d.encode()).into_owned(),
        })
    }
}

/// The fields of an `exported` event: what kind of output it went to
/// (`output`: `file`, `standard output`, `package folder`, `package zip`),
/// and the `recipient` and `reason` the user chose, each a single line of
/// at most 1 KiB — never a local path. Events sealed before this held a
/// `destination` field with the path; they stay as they are, and an export
/// can withhold that field. (`output` is also what keeps two exports of an
/// item in the same second distinct records: every field's commitment is
/// salted.)
pub(crate) fn handover_values(
    output: &str,
    recipient: Option<&str>,
    reason: Option<&str>,
) -> Result<Vec<(String, String)>, VaultError> {
    let mut values = vec![("output".to_string(), output.to_string())];
    for (flag, name, v) in [
        ("--to", "recipient", recipient),
        ("--reason", "reason", reason),
    ] {
        let Some(v) = v else { continue };
        if v.trim().is_empty() || v.len() > 1024 || v.contains(['\n', '\r']) {
            return Err(VaultError::BadArgument {
                what: format!("{flag} {v:?}"),
                why: "must be one non-empty line of at most 1 KiB".into(),
            });
        }
        values.push((name.to_string(), v.to_string()));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_paths_are_safe() {
        let id = "0123456789abcdef0123";
        assert_eq!(
            payload_path(id, Some("IMG 0001.JPG"), "image/jpeg"),
            "data/0123456789abcdef-IMG_0001.JPG"
        );
        assert_eq!(
            payload_path(id, Some("../../etc/passwd"), "text/plain"),
            "data/0123456789abcdef-_.._etc_passwd"
        );
        assert_eq!(
            payload_path(id, Some("..."), "image/png"),
            "data/0123456789abcdef.png"
        );
        assert_eq!(payload_path(id, None, "x/y"), "data/0123456789abcdef");
        for p in [
            payload_path(id, Some("é\n%20ü.pdf"), "application/pdf"),
            payload_path(id, Some(&"a".repeat(500)), "x/y"),
        ] {
            assert!(bundle::is_payload_name(&p), "{p}");
        }
    }
}
