//! What a team server asks of the vault beyond the command line's verbs:
//! submissions sealed from a stream with the account that sent them, the
//! submissions an account may see, originals opened for ranged reads after
//! their `exported` event, and notes signed for an account.

use std::io::{Read, Seek};
use std::path::PathBuf;

use guwah_core::record::{Action, hex32};
use guwah_store::EntryRow;

use crate::append::Append;
use crate::error::VaultError;
use crate::index::EntryKind;
use crate::ingest::{AddOptions, AddStatus, AddedItem, Blob, check_options};
use crate::spool::Spool;
use crate::vault::{Vault, timestamp_now};

/// What a submission says about itself (tus `Upload-Metadata`).
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// The file's name on the sender's device, sealed as `filename`.
    pub filename: Option<String>,
    /// Note, tags, source and capture time, as for `add`.
    pub options: AddOptions,
    /// How it came: `upload` (tus) or `push`.
    pub via: &'static str,
    /// The SHA-256 the sender computed before sending: bytes that do not
    /// have it are refused and nothing is sealed.
    pub expected_sha256: Option<[u8; 32]>,
    /// Field values checked elsewhere (a push's, against the sender's
    /// commitments), sealed in the item record.
    pub fields: Vec<(String, String)>,
    /// More fields of the `received` event (a push's `from-origin`,
    /// `from-index`, `from-checkpoint`).
    pub received: Vec<(String, String)>,
}

impl Submission {
    /// Check what it says before any byte is received (the same checks
    /// sealing makes), so a long upload is not refused at its end.
    pub fn check(&self) -> Result<(), VaultError> {
        check_options(&self.options)?;
        if let Some(f) = &self.filename {
            check_filename(f)?;
        }
        Ok(())
    }
}

/// What `guwah push` sends about an item, for the receiver to re-verify
/// (`guwah_core::push::verify_pushed`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PushBundle {
    /// The sender's log key (C2SP vkey).
    pub vkey: String,
    /// The sender's signed checkpoint.
    pub checkpoint: String,
    /// The item record, the sender's log leaf.
    #[serde(with = "b64")]
    pub record: Vec<u8>,
    /// Its index in the sender's log.
    pub index: u64,
    /// RFC 9162 inclusion proof, standard base64 hashes.
    pub proof: Vec<String>,
    /// Field name, value and salt (standard base64).
    pub fields: Vec<(String, String, String)>,
}

mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// An item's original, opened for reading anywhere in it.
pub struct Original {
    /// The item id.
    pub id: String,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// The sealed media type.
    pub media_type: String,
    /// Its file name when added, if known.
    pub filename: Option<String>,
    /// The plaintext, decrypted chunk by chunk as it is read.
    pub reader: Box<dyn ReadSeek + Send>,
}

/// `Read + Seek`, as one trait object.
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

impl std::fmt::Debug for Original {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Original")
            .field("id", &self.id)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

fn check_filename(name: &str) -> Result<(), VaultError> {
    if name.is_empty() || name.len() > 1024 || name.chars().any(char::is_control) {
        return Err(VaultError::BadArgument {
            what: "filename".into(),
            why: "must be a single line of 1 to 1024 bytes".into(),
        });
    }
    Ok(())
}

impl Vault {
    /// The spool of uploads in progress, in `dir` (the server's own disk),
    /// sealed under a key of this vault.
    pub fn spool(&self, dir: impl Into<PathBuf>) -> Result<Spool, VaultError> {
        let keys = self.keys()?;
        Spool::open(dir, zeroize::Zeroizing::new(*keys.spool_key))
            .map(|s| s.with_blob_key(keys.blob_key.clone()))
            .map_err(|e| VaultError::BadArgument {
                what: "spool".into(),
                why: e.to_string(),
            })
    }

    /// Seal `reader`'s bytes (exactly `length` of them) submitted by
    /// `account` (its name; `account_key` is the opaque key submissions
    /// are kept under): a new item whose record names the account in
    /// `submitted-by` — or, when the vault holds the same bytes already,
    /// that item — and a `received` custody event naming the account, in
    /// one append. Identical content is one item, with one `received`
    /// event per submission.
    pub fn add_submission(
        &self,
        reader: impl Read,
        length: u64,
        sub: &Submission,
        account: &str,
        account_key: &str,
    ) -> Result<AddedItem, VaultError> {
        self.submit(sub, account, account_key, |append, name| {
            append.store_stream(reader, name, Some(length), &mut |_| {})
        })
    }

    /// [`Vault::add_submission`] of a blob already sealed under this
    /// vault's blob key, in the local `file` (a complete upload of the
    /// spool, [`Spool::sealed_blob`]): it is decrypted once to check it
    /// and learn its SHA-256, and then kept as it is — not written again.
    pub fn add_submission_sealed(
        &self,
        file: &std::path::Path,
        length: u64,
        sub: &Submission,
        account: &str,
        account_key: &str,
    ) -> Result<AddedItem, VaultError> {
        let keys = self.keys()?;
        let name = sub.filename.clone().unwrap_or_default();
        let read_err = |why: String| VaultError::BadInput {
            path: PathBuf::from(shown_name(&name)),
            why,
        };
        let opened = std::fs::File::open(file).map_err(|e| read_err(e.to_string()))?;
        let mut head = HeadOf::default();
        let sealed =
            crate::crypto::decrypt_and_hash(opened, &mut head, &keys.blob_key, &mut |_| {})
                .map_err(|e| read_err(format!("its sealed bytes do not open: {e}")))?;
        if sealed.size != length {
            return Err(read_err(format!(
                "its sealed bytes are {} bytes long, not {length}",
                sealed.size
            )));
        }
        self.submit(sub, account, account_key, |append, name| {
            append.store_sealed_file(file, &sealed, &head.0, name)
        })
    }

    /// The append both kinds of submission share, with `store` giving
    /// the blob.
    fn submit(
        &self,
        sub: &Submission,
        account: &str,
        account_key: &str,
        store: impl FnOnce(&mut Append<'_, '_>, &str) -> Result<Result<Blob, String>, VaultError>,
    ) -> Result<AddedItem, VaultError> {
        let keys = self.keys()?;
        let mut values = check_options(&sub.options)?;
        let name = sub.filename.clone().unwrap_or_default();
        if let Some(f) = &sub.filename {
            check_filename(f)?;
            values.push(("filename".into(), f.clone()));
        }
        for (name, value) in &sub.fields {
            guwah_core::record::check_field_name(name).map_err(|e| VaultError::BadArgument {
                what: format!("field {name:?}"),
                why: e.to_string(),
            })?;
            if name != "submitted-by" && !values.iter().any(|(n, _)| n == name) {
                values.push((name.clone(), value.clone()));
            }
        }
        values.push(("submitted-by".into(), account.into()));
        let mut w = self.writer()?;
        let mut append = w.append()?;
        let blob = store(&mut append, &name)?.map_err(|why| VaultError::BadInput {
            path: PathBuf::from(shown_name(&name)),
            why: format!("could not be read and sealed: {why}"),
        })?;
        if let Some(want) = sub.expected_sha256
            && want != blob.sha256
        {
            return Err(VaultError::BadInput {
                path: PathBuf::from(shown_name(&name)),
                why: format!(
                    "its bytes have SHA-256 {}, not the {} it was sent with; nothing was sealed",
                    hex32(&blob.sha256),
                    hex32(&want)
                ),
            });
        }
        let (leaf_index, id, status) = match append.existing_item(&blob.blob)? {
            Some((leaf, id)) => (leaf, id, AddStatus::Existing),
            None => {
                // What the file says about itself is read back from the
                // sealed blob, as `add` does; problems never fail it.
                let _warnings = self.media_values(&blob, keys, &mut values)?;
                let what = shown_name(&name);
                let (leaf, id) = append.push_item(&blob, &timestamp_now(), &values, what)?;
                (leaf, id, AddStatus::Added)
            }
        };
        let item_row = EntryRow {
            leaf_index,
            record_id: id.clone(),
            kind: EntryKind::Item,
            item_id: id.clone(),
            sealed: Vec::new(),
        };
        let mut event = vec![
            ("account".to_string(), account.to_string()),
            ("via".to_string(), sub.via.to_string()),
        ];
        event.extend(sub.received.iter().cloned());
        let (event_leaf, _) =
            append.push_event(Action::Received, &item_row, &event, &timestamp_now())?;
        append.push_submission(&id, account_key, event_leaf);
        let item = AddedItem {
            path: PathBuf::from(&name),
            id,
            status,
            leaf_index,
            sha256: hex32(&blob.sha256),
            size: blob.size,
            media_type: blob.media_type.into(),
        };
        if status == AddStatus::Added {
            let (pdq, _) = self.similarity_rows(std::slice::from_ref(&item));
            for (leaf, sealed) in pdq {
                append.push_pdq(leaf, sealed);
            }
        }
        append.commit()?;
        Ok(item)
    }

    /// The ids of the items the account with key `account_key` submitted,
    /// oldest first.
    pub fn submissions_of(&self, account_key: &str) -> Result<Vec<String>, VaultError> {
        let size = self.size()?;
        Ok(self.index().submissions_of(account_key, size)?)
    }

    /// Whether the account with key `account_key` submitted item `id`
    /// (a full id).
    pub fn submitted(&self, id: &str, account_key: &str) -> Result<bool, VaultError> {
        let size = self.size()?;
        Ok(self
            .index()
            .submitters(id, size)?
            .iter()
            .any(|a| a == account_key))
    }

    /// Open item `id`'s original for `account` to read, after sealing an
    /// `exported` event that names the account (output `download`): no
    /// byte leaves before its record is in the log.
    pub fn open_original(&self, id: &str, account: &str) -> Result<Original, VaultError> {
        let mut values = crate::export::handover_values("download", None, None)?;
        values.push(("account".into(), account.into()));
        Ok(self.hand_over(id, values)?.0)
    }

    /// Open item `id`'s original to make a preview of it for `account`
    /// (a thumbnail, or media played in the page). With `record`, an
    /// `exported` event with output `preview` naming the account is sealed
    /// first; the server records an account's first opening of an item in
    /// each span of time, since a media player asks for many ranges.
    pub fn open_preview(
        &self,
        id: &str,
        account: &str,
        record: bool,
    ) -> Result<Original, VaultError> {
        let values = if record {
            let mut values = crate::export::handover_values("preview", None, None)?;
            values.push(("account".into(), account.into()));
            Some(values)
        } else {
            None
        };
        Ok(self.open_with_event(id, values)?.0)
    }

    /// Item `id` as `guwah push` sends it to the team server `server`:
    /// what the server re-verifies (record, inclusion proof, checkpoint,
    /// log key, field values with their salts) and the original, after
    /// sealing an `exported` event (output `push`, recipient the server).
    pub fn push_out(&self, id: &str, server: &str) -> Result<(PushBundle, Original), VaultError> {
        let values = crate::export::handover_values("push", Some(server), None)?;
        let (original, row) = self.hand_over(id, values)?;
        let keys = self.keys()?;
        let size = self.size()?;
        let (record, _) = self.record_of(&row, size)?;
        let proof = self.log().inclusion(row.leaf_index, size, &record)?;
        let checkpoint = self.checkpoint_note(Some(proof.tree_size))?;
        let fields = crate::index::Private::open(&keys.index_key, &row)?
            .fields
            .into_iter()
            .map(|(name, v)| (name, v.value, v.salt))
            .collect();
        let bundle = PushBundle {
            vkey: self.log_vkey(),
            checkpoint: String::from_utf8_lossy(&checkpoint).into_owned(),
            record,
            index: row.leaf_index,
            proof: proof.hashes,
            fields,
        };
        Ok((bundle, original))
    }

    /// Seal an `exported` event with `values` on item `id`, then open its
    /// original.
    fn hand_over(
        &self,
        id: &str,
        values: Vec<(String, String)>,
    ) -> Result<(Original, EntryRow), VaultError> {
        self.open_with_event(id, Some(values))
    }

    /// Open item `id`'s original, after sealing an `exported` event with
    /// `values` when there are any.
    fn open_with_event(
        &self,
        id: &str,
        values: Option<Vec<(String, String)>>,
    ) -> Result<(Original, EntryRow), VaultError> {
        let keys = self.keys()?;
        let row = self.resolve(id)?;
        let item = if let Some(values) = values {
            let mut w = self.writer()?;
            let (_, record) = self.record_of(&row, w.size())?;
            let item = Self::item_record(&record, &row)?;
            w.append_events(&[(&row, values)], Action::Exported)?;
            item
        } else {
            let (_, record) = self.record_of(&row, self.size()?)?;
            Self::item_record(&record, &row)?
        };
        let reader = self.blob_reader(&keys.blob_name(&item.sha256), &keys.blob_key)?;
        if reader.len() != item.size {
            return Err(VaultError::damaged(
                format!("item {}", &row.record_id[..16]),
                "its blob holds another number of bytes than the record seals",
            ));
        }
        let filename = crate::index::Private::open(&keys.index_key, &row)?
            .fields
            .get("filename")
            .map(|v| v.value.clone());
        let original = Original {
            id: row.record_id.clone(),
            sha256: hex32(&item.sha256),
            size: item.size,
            media_type: item.media_type.clone(),
            filename,
            reader: Box::new(reader),
        };
        Ok((original, row))
    }

    /// Add a note to item `id` for `account`, as an `annotated` event
    /// naming it. Returns the event's leaf index.
    pub fn annotate_for(&self, id: &str, note: &str, account: &str) -> Result<u64, VaultError> {
        if note.trim().is_empty() || note.len() > 16 * 1024 {
            return Err(VaultError::BadArgument {
                what: "note".into(),
                why: "must be 1 byte to 16 KiB of text".into(),
            });
        }
        let row = self.resolve(id)?;
        let mut w = self.writer()?;
        let leaf_index = w.size();
        w.append_events(
            &[(
                &row,
                vec![
                    ("note".into(), note.into()),
                    ("account".into(), account.into()),
                ],
            )],
            Action::Annotated,
        )?;
        Ok(leaf_index)
    }
}

/// What a submission is called in messages and custody: its file name,
/// or "upload" when it came without one.
fn shown_name(name: &str) -> &str {
    if name.is_empty() { "upload" } else { name }
}

/// The first 512 plaintext bytes of a blob being checked (what the media
/// type is sniffed from); the rest is only hashed.
#[derive(Default)]
struct HeadOf(zeroize::Zeroizing<Vec<u8>>);

impl std::io::Write for HeadOf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = 512usize.saturating_sub(self.0.len()).min(buf.len());
        self.0.extend_from_slice(&buf[..room]);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
