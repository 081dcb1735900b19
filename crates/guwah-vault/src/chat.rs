//! `add --chat`: a messaging export sealed as one item, and every message
//! and attachment in it sealed as an item linked to it; and `search`.
//!
//! # What is sealed
//!
//! One `add_chat` call is one log append (one checkpoint), in the same
//! crash-safe order as `add` (see `ingest`): every blob is written and
//! flushed, then the records are appended as tiles, the index rows go in in
//! one transaction, and the checkpoint swap commits it all.
//!
//! 1. **The export**: the file exactly as given (the `.zip`, the `.txt`, or
//!    `result.json` for a folder), through the same `store_blob` as `add`,
//!    with the same `filename`/`file-modified` fields and the user's
//!    `note`/`tags`/`source`/`captured-at`, plus `chat.app` (`whatsapp` or
//!    `telegram`), `chat.title`, `chat.messages` (how many) and
//!    `chat.time-note` (how to read the times).
//! 2. **Each message** (system lines too): an item whose original is the
//!    message's canonical rendering (below), media type
//!    [`CHAT_MESSAGE_TYPE`], with the committed fields `chat.export` (the
//!    export item's id), `chat.index`, `chat.time` (RFC 3339, or a naive
//!    local `YYYY-MM-DDTHH:MM:SS` for WhatsApp, whose exports carry no
//!    zone), `chat.time-text` (as written), `chat.sender`, `chat.sender-id`,
//!    `chat.thread` (the chat, in a Telegram export of several), `chat.text`,
//!    `chat.attachment` (the attached file's path in the export) and
//!    `chat.system` (`yes` for a system line), each only when it applies.
//! 3. **Each attachment** the export holds: an item whose original is the
//!    file's bytes, with `filename`, `chat.export`, `chat.message` (the
//!    message item's id) and `chat.attachment`. A named attachment that the
//!    export does not hold (sent without media, deleted, refused as an
//!    unsafe name) is a warning; its message is sealed all the same.
//!
//! An export that cannot be read as a chat (not a chat, truncated or
//! corrupt zip, a zip bomb, nested archives only, too large) is still
//! sealed, as an opaque item exactly as `add` would seal it, and nothing
//! else; [`ChatReport::opaque`] says why. The one exception: a zip whose
//! entries would decompress past its expansion budget (64 MiB plus
//! `max_expansion` times its size, see [`Vault::add_chat_with`]) is
//! refused and nothing is written, because the user may mean it (a genuine
//! huge export) and can raise the budget.
//!
//! # The message rendering, `guwah/chat-message/v1`
//!
//! UTF-8; `key value` header lines in this order, each ending in `\n`, the
//! optional ones only when they apply; then an empty line; then the
//! message text exactly as parsed (lines joined by `\n`, nothing appended):
//!
//! ```text
//! guwah/chat-message/v1
//! app whatsapp                      whatsapp | telegram
//! export-sha256 <64 hex>            SHA-256 of the sealed export: binds the message to it
//! index 12                          position in the export, from 0
//! kind message                      message | system
//! time-text 12/31/23, 9:41 PM       optional: as written in the export
//! time 2023-12-31T21:41:00          optional: parsed (RFC 3339 when the zone is known)
//! sender Alice                      optional
//! sender-id user1234                optional (Telegram from_id)
//! thread Family                     optional (which chat, in a multi-chat export)
//! attachment IMG-20231231-WA0001.jpg        optional: path inside the export
//! attachment-sha256 <64 hex>        optional: when the attachment was found and sealed
//!
//! the text
//! ```
//!
//! Header values are single lines: control characters in them become
//! spaces. The rendering of an export is deterministic, so importing the
//! same export again finds every message (and attachment) already sealed
//! and reports them as existing, exactly as `add` does for any content.
//!
//! # Links
//!
//! The link of a message or attachment to its export is the committed
//! field `chat.export` (and `chat.message` for an attachment); its value is
//! the export's item id, which anyone given the value and salt can check
//! against the sealed record, and the rendering's `export-sha256` binds the
//! content itself. In the vault, the relation lives only in those sealed
//! index rows: no plaintext table says which items belong together (that
//! grouping is itself metadata). [`Vault::chat_links`] finds an export's
//! messages and attachments by opening every committed item row, a linear
//! scan like [`Vault::search`]. An attachment whose bytes were already in
//! the vault (identical content is one item) keeps its first context; the
//! new message still names it (`attachment`, `attachment-sha256`).

use std::collections::HashMap;
use std::fs;
use std::io::Cursor;
use std::path::Path;

use guwah_chat::{ChatError, Conversation, Limits, Message};
use guwah_core::record::hex32;
use serde::Serialize;

use crate::append::Append;
use crate::error::VaultError;
use crate::index::{EntryKind, EntryRow, Private};
use crate::ingest::{
    AddOptions, AddProgress, AddStatus, AddedItem, Blob, check_options, file_values, is_inside,
    store_file,
};
use crate::vault::{Vault, timestamp_now};

/// Media type of a sealed message rendering.
pub const CHAT_MESSAGE_TYPE: &str = "application/vnd.guwah.chat-message";
/// First line of a message rendering.
pub const CHAT_MESSAGE_V1: &str = "guwah/chat-message/v1";

/// One message of an `add --chat`.
#[derive(Debug, Clone, Serialize)]
pub struct ChatMessageItem {
    /// Position in the export.
    pub index: u64,
    /// The message item's id.
    pub id: String,
    /// New or already sealed.
    pub status: AddStatus,
    /// Its index in the log.
    pub leaf_index: u64,
    /// A system line rather than a message.
    pub system: bool,
}

/// One attachment of an `add --chat`.
#[derive(Debug, Clone, Serialize)]
pub struct ChatAttachmentItem {
    /// The index of the message that names it.
    pub message: u64,
    /// Its path inside the export.
    pub name: String,
    /// The attachment item's id.
    pub id: String,
    /// New or already sealed.
    pub status: AddStatus,
    /// Its index in the log.
    pub leaf_index: u64,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Detected media type.
    pub media_type: String,
}

/// The result of an `add --chat`.
#[derive(Debug, Clone, Serialize)]
pub struct ChatReport {
    /// The export itself.
    pub export: AddedItem,
    /// `whatsapp` or `telegram`; `None` when the export could not be read.
    pub app: Option<String>,
    /// The chat text or JSON inside the export.
    pub chat_file: Option<String>,
    /// Why the export was sealed as an opaque item only, if it was.
    pub opaque: Option<String>,
    /// Every message, in export order.
    pub messages: Vec<ChatMessageItem>,
    /// Every attachment found and sealed.
    pub attachments: Vec<ChatAttachmentItem>,
    /// Tolerated oddities: missing media, guessed date order, cut text.
    pub warnings: Vec<String>,
    /// The log size after the add.
    pub tree_size: u64,
}

/// An item linked to another through the `chat.*` fields.
#[derive(Debug, Clone, Serialize)]
pub struct LinkedItem {
    /// Its item id.
    pub id: String,
    /// Its index in the log.
    pub leaf_index: u64,
    /// Its position in the export (messages).
    pub index: Option<u64>,
    /// The sender (messages).
    pub sender: Option<String>,
    /// The parsed time (messages).
    pub time: Option<String>,
    /// The text of a message, or the name of an attachment.
    pub text: String,
    /// Whether it is a system line (messages).
    pub system: bool,
}

/// The chat relations of one item, for `show`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChatLinks {
    /// For a message or attachment: its export's item id.
    pub export: Option<String>,
    /// For an attachment: its message's item id.
    pub message: Option<String>,
    /// For an export: its messages, in export order.
    pub messages: Vec<LinkedItem>,
    /// For an export or a message: the attachments sealed with it.
    pub attachments: Vec<LinkedItem>,
}

impl ChatLinks {
    /// No relation at all.
    pub fn is_empty(&self) -> bool {
        self.export.is_none()
            && self.message.is_none()
            && self.messages.is_empty()
            && self.attachments.is_empty()
    }
}

/// One result of [`Vault::search`].
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    /// The item id.
    pub id: String,
    /// Its index in the log.
    pub leaf_index: u64,
    /// `message`, `attachment`, `export` or `item`.
    pub kind: String,
    /// Which fields matched (`note (annotation)` for a custody note).
    pub matched: Vec<String>,
    /// The sender (messages).
    pub sender: Option<String>,
    /// The parsed time (messages).
    pub time: Option<String>,
    /// The message text, or the file name.
    pub text: Option<String>,
    /// The export it belongs to.
    pub export: Option<String>,
}

/// A blob written for this call.
fn bad(path: &Path, why: impl Into<String>) -> VaultError {
    VaultError::BadInput {
        path: path.to_owned(),
        why: why.into(),
    }
}

/// A header value on one line.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The canonical `guwah/chat-message/v1` rendering of a message.
pub fn render_message(
    app: &str,
    export_sha256: &[u8; 32],
    m: &Message,
    attachment_sha256: Option<&[u8; 32]>,
) -> Vec<u8> {
    let mut s = String::with_capacity(256 + m.text.len());
    s.push_str(CHAT_MESSAGE_V1);
    s.push('\n');
    let mut line = |k: &str, v: &str| {
        s.push_str(k);
        s.push(' ');
        s.push_str(&one_line(v));
        s.push('\n');
    };
    line("app", app);
    line("export-sha256", &hex32(export_sha256));
    line("index", &m.index.to_string());
    line("kind", if m.system { "system" } else { "message" });
    if !m.time_text.is_empty() {
        line("time-text", &m.time_text);
    }
    if let Some(t) = &m.time {
        line("time", t);
    }
    if let Some(v) = &m.sender {
        line("sender", v);
    }
    if let Some(v) = &m.sender_id {
        line("sender-id", v);
    }
    if let Some(v) = &m.chat {
        line("thread", v);
    }
    if let Some(v) = &m.attachment {
        line("attachment", v);
    }
    if let Some(h) = attachment_sha256 {
        line("attachment-sha256", &hex32(h));
    }
    s.push('\n');
    s.push_str(&m.text);
    s.into_bytes()
}

fn message_values(export_id: &str, m: &Message) -> Vec<(String, String)> {
    let mut v = vec![
        ("chat.export".to_string(), export_id.to_string()),
        ("chat.index".into(), m.index.to_string()),
        ("chat.text".into(), m.text.clone()),
    ];
    let mut opt = |k: &str, val: &Option<String>| {
        if let Some(x) = val {
            v.push((k.into(), x.clone()));
        }
    };
    opt("chat.time", &m.time);
    opt("chat.sender", &m.sender);
    opt("chat.sender-id", &m.sender_id);
    opt("chat.thread", &m.chat);
    opt("chat.attachment", &m.attachment);
    if !m.time_text.is_empty() {
        v.push(("chat.time-text".into(), m.time_text.clone()));
    }
    if m.system {
        v.push(("chat.system".into(), "yes".into()));
    }
    v
}

/// The item holding `b` in `append`: an existing one, or a new record with
/// `values` (deduplicated against the vault and within the batch, as in
/// `add`).
fn item(
    append: &mut Append<'_, '_>,
    sealed_at: &str,
    b: &Blob,
    values: impl FnOnce() -> Vec<(String, String)>,
) -> Result<(u64, String, AddStatus), VaultError> {
    if let Some((leaf, id)) = append.existing_item(&b.blob)? {
        return Ok((leaf, id, AddStatus::Existing));
    }
    let (leaf, id) = append.push_item(b, sealed_at, &values(), "chat item")?;
    Ok((leaf, id, AddStatus::Added))
}

impl Vault {
    /// Seal a messaging export, its messages and its attachments, linked;
    /// see the module docs. `path` is a WhatsApp `.txt` or `.zip`, a
    /// Telegram `result.json`, or a folder holding one of them.
    pub fn add_chat(
        &self,
        path: &Path,
        opts: &AddOptions,
        progress: &mut dyn FnMut(AddProgress),
    ) -> Result<ChatReport, VaultError> {
        let ratio = guwah_chat::export::DEFAULT_MAX_EXPANSION;
        self.add_chat_with(path, opts, Some(ratio), progress)
    }

    /// [`Vault::add_chat`], a zip export's entries declaring at most 64 MiB
    /// plus `max_expansion` times the zip's size (`None`: no such budget);
    /// past it, nothing is written and the error names the entry.
    pub fn add_chat_with(
        &self,
        path: &Path,
        opts: &AddOptions,
        max_expansion: Option<u64>,
        progress: &mut dyn FnMut(AddProgress),
    ) -> Result<ChatReport, VaultError> {
        self.keys()?; // before anything else: this needs the passphrase
        let shared = check_options(opts)?;
        // 1. The input, checked before anything is written.
        match fs::metadata(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(bad(path, "does not exist"));
            }
            Err(e) => return Err(bad(path, format!("cannot be read: {e}"))),
        }
        if is_inside(path, self.local_root()) {
            return Err(bad(path, "is inside the vault itself"));
        }
        let export_path = guwah_chat::export::locate(path).map_err(|e| bad(path, e.to_string()))?;
        let meta = fs::metadata(&export_path)
            .map_err(|e| bad(&export_path, format!("cannot be read: {e}")))?;
        if !meta.is_file() {
            return Err(bad(&export_path, "is not a regular file"));
        }
        let limits = Limits::default();
        let (opened, opaque) =
            match guwah_chat::export::open_with(&export_path, &limits, max_expansion) {
                Ok(o) => (Some(o), None),
                Err(ChatError::Io { source, .. }) => {
                    return Err(bad(&export_path, format!("cannot be read: {source}")));
                }
                Err(ChatError::Zip(e @ guwah_chat::export::ZipError::Expansion { .. })) => {
                    return Err(bad(&export_path, e.to_string()));
                }
                Err(e) => (
                    None,
                    Some(format!(
                        "not read as a chat export ({e}); sealed as an opaque item"
                    )),
                ),
            };
        progress(AddProgress::Planned {
            files: 1,
            bytes: meta.len(),
        });
        let mut w = self.writer()?;
        let mut append = w.append()?;

        // 2. Blobs: the export, the attachments, the message renderings.
        // An error from here to the commit removes every blob of this call.
        let mut warnings = Vec::new();
        let (export, attachments, rendered) = {
            progress(AddProgress::File(export_path.clone()));
            let export = store_file(&mut append, &export_path, progress)?;
            let mut attachments: HashMap<String, Option<Blob>> = HashMap::new();
            let mut rendered = Vec::new();
            if let Some(o) = &opened {
                let conv = &o.conversation;
                warnings.extend(conv.warnings.iter().cloned());
                let (mut missing, mut missing_examples) = (0usize, Vec::new());
                for m in &conv.messages {
                    let Some(name) = &m.attachment else { continue };
                    if attachments.contains_key(name) {
                        continue;
                    }
                    let stored = match o.attachment(name) {
                        Ok(Some(a)) => {
                            progress(AddProgress::File(export_path.join(name)));
                            match append.store_stream(a.reader, name, Some(a.size), progress)? {
                                Ok(b) => Some(b),
                                Err(why) => {
                                    warnings.push(format!(
                                        "attachment {name:?} could not be read ({why}); its message is sealed without it"
                                    ));
                                    None
                                }
                            }
                        }
                        Ok(None) => {
                            missing += 1;
                            if missing_examples.len() < 3 {
                                missing_examples.push(format!("{name:?}"));
                            }
                            None
                        }
                        Err(why) => {
                            warnings.push(format!("{why}; its message is sealed without it"));
                            None
                        }
                    };
                    attachments.insert(name.clone(), stored);
                }
                if missing > 0 {
                    warnings.push(format!(
                        "{missing} attachment(s) named in the chat are not in the export (e.g. {}); their messages are sealed without them",
                        missing_examples.join(", ")
                    ));
                }
                let app = conv.source.as_str();
                for m in &conv.messages {
                    let att = m
                        .attachment
                        .as_ref()
                        .and_then(|n| attachments.get(n))
                        .and_then(Option::as_ref);
                    let bytes = render_message(app, &export.blob.sha256, m, att.map(|a| &a.sha256));
                    let b = append
                        .store_stream(Cursor::new(bytes), "message", None, &mut |_| {})?
                        .map_err(|why| VaultError::damaged("message rendering", why))?;
                    rendered.push(Blob {
                        media_type: CHAT_MESSAGE_TYPE,
                        ..b
                    });
                }
            }
            (export, attachments, rendered)
        };
        progress(AddProgress::Sealing);

        // 3. Records: the export, then each message followed by its attachment.
        let sealed_at = timestamp_now();
        let conv: Option<&Conversation> = opened.as_ref().map(|o| &o.conversation);
        let (leaf_index, export_id, status) = item(&mut append, &sealed_at, &export.blob, || {
            let mut v = shared.clone();
            v.extend(file_values(&export_path, &export.meta));
            if let Some(c) = conv {
                v.push(("chat.app".into(), c.source.as_str().into()));
                v.push(("chat.messages".into(), c.messages.len().to_string()));
                if let Some(t) = &c.title {
                    v.push(("chat.title".into(), t.clone()));
                }
                if let Some(n) = &c.time_note {
                    v.push(("chat.time-note".into(), n.clone()));
                }
            }
            v
        })?;
        let mut messages = Vec::new();
        let mut attached = Vec::new();
        if let Some(c) = conv {
            for (m, b) in c.messages.iter().zip(&rendered) {
                let (leaf_index, id, status) =
                    item(&mut append, &sealed_at, b, || message_values(&export_id, m))?;
                messages.push(ChatMessageItem {
                    index: m.index,
                    id: id.clone(),
                    status,
                    leaf_index,
                    system: m.system,
                });
                let Some(name) = &m.attachment else { continue };
                let Some(Some(a)) = attachments.get(name) else {
                    continue;
                };
                let (a_leaf, a_id, a_status) = item(&mut append, &sealed_at, a, || {
                    let base = name.rsplit('/').next().unwrap_or(name);
                    vec![
                        ("filename".into(), base.to_string()),
                        ("chat.export".into(), export_id.clone()),
                        ("chat.message".into(), id.clone()),
                        ("chat.attachment".into(), name.clone()),
                    ]
                })?;
                attached.push(ChatAttachmentItem {
                    message: m.index,
                    name: name.clone(),
                    id: a_id,
                    status: a_status,
                    leaf_index: a_leaf,
                    sha256: hex32(&a.sha256),
                    size: a.size,
                    media_type: a.media_type.into(),
                });
            }
        }
        // 4. The append transaction: blobs synced, tiles, index, checkpoint.
        append.commit()?;
        Ok(ChatReport {
            export: AddedItem {
                path: export_path.clone(),
                id: export_id,
                status,
                leaf_index,
                sha256: hex32(&export.blob.sha256),
                size: export.blob.size,
                media_type: export.blob.media_type.into(),
            },
            app: conv.map(|c| c.source.as_str().into()),
            chat_file: opened.as_ref().map(|o| o.chat_file.clone()),
            opaque,
            messages,
            attachments: attached,
            warnings,
            tree_size: w.size(),
        })
    }

    /// Every committed item row with its opened private part.
    fn opened_rows(&self, with_events: bool) -> Result<Vec<(EntryRow, Private)>, VaultError> {
        let keys = self.keys()?;
        let size = self.size()?;
        let rows = self.index().entries(size)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if row.kind != EntryKind::Item && !with_events {
                continue;
            }
            let p = Private::open(&keys.index_key, &row)?;
            out.push((row, p));
        }
        Ok(out)
    }

    /// The chat relations of an item: an export's messages and attachments,
    /// a message's export and attachment, an attachment's export and
    /// message. Empty for items that are none of these.
    pub fn chat_links(&self, id: &str) -> Result<ChatLinks, VaultError> {
        let keys = self.keys()?;
        let row = self.resolve(id)?;
        let me = Private::open(&keys.index_key, &row)?;
        let get = |p: &Private, k: &str| p.fields.get(k).map(|v| v.value.clone());
        let mut links = ChatLinks {
            export: get(&me, "chat.export"),
            message: get(&me, "chat.message"),
            ..ChatLinks::default()
        };
        let is_export = me.fields.contains_key("chat.app");
        let is_message = links.export.is_some() && links.message.is_none();
        if !is_export && !is_message {
            return Ok(links);
        }
        for (r, p) in self.opened_rows(false)? {
            let linked = if is_export {
                get(&p, "chat.export").as_deref() == Some(row.record_id.as_str())
            } else {
                get(&p, "chat.message").as_deref() == Some(row.record_id.as_str())
            };
            if !linked {
                continue;
            }
            let item = LinkedItem {
                id: r.record_id.clone(),
                leaf_index: r.leaf_index,
                index: get(&p, "chat.index").and_then(|i| i.parse().ok()),
                sender: get(&p, "chat.sender"),
                time: get(&p, "chat.time"),
                text: get(&p, "chat.text")
                    .or_else(|| get(&p, "chat.attachment"))
                    .unwrap_or_default(),
                system: p.fields.contains_key("chat.system"),
            };
            if p.fields.contains_key("chat.message") {
                links.attachments.push(item);
            } else {
                links.messages.push(item);
            }
        }
        links.messages.sort_by_key(|m| (m.index, m.leaf_index));
        Ok(links)
    }

    /// Items whose message text, sender, file name, note, tags, source,
    /// chat title or attachment name contain `text` (case-insensitively),
    /// and, with `sender`, whose sender contains it (or whose sender id is
    /// it). Custody notes count for their item. A linear scan over the
    /// opened index rows: everything private stays sealed on disk.
    pub fn search(&self, text: &str, sender: Option<&str>) -> Result<Vec<SearchHit>, VaultError> {
        const FIELDS: &[&str] = &[
            "chat.text",
            "chat.sender",
            "filename",
            "note",
            "tags",
            "source",
            "chat.title",
            "chat.attachment",
        ];
        let needle = text.trim().to_lowercase();
        let who = sender.map(|s| s.trim().to_lowercase());
        if needle.is_empty() && who.as_deref().is_none_or(str::is_empty) {
            return Err(VaultError::BadArgument {
                what: "search".into(),
                why: "give a text to look for, or --sender NAME".into(),
            });
        }
        let rows = self.opened_rows(true)?;
        let mut hits: Vec<SearchHit> = Vec::new();
        let mut by_id: HashMap<String, usize> = HashMap::new();
        let mut notes: Vec<(String, String)> = Vec::new();
        for (row, p) in &rows {
            let get = |k: &str| p.fields.get(k).map(|v| v.value.clone());
            if row.kind == EntryKind::Event {
                if !needle.is_empty()
                    && who.is_none()
                    && get("note").is_some_and(|n| n.to_lowercase().contains(&needle))
                {
                    notes.push((row.item_id.clone(), "note (annotation)".into()));
                }
                continue;
            }
            if let Some(w) = &who {
                let sender_ok = get("chat.sender")
                    .is_some_and(|s| s.to_lowercase().contains(w.as_str()))
                    || get("chat.sender-id").is_some_and(|s| s.to_lowercase() == *w);
                if !sender_ok {
                    continue;
                }
            }
            let matched: Vec<String> = if needle.is_empty() {
                vec!["chat.sender".into()]
            } else {
                FIELDS
                    .iter()
                    .filter(|f| get(f).is_some_and(|v| v.to_lowercase().contains(&needle)))
                    .map(|f| f.to_string())
                    .collect()
            };
            if matched.is_empty() {
                continue;
            }
            by_id.insert(row.record_id.clone(), hits.len());
            hits.push(hit(row, p, matched));
        }
        for (item, what) in notes {
            if let Some(&i) = by_id.get(&item) {
                hits[i].matched.push(what);
            } else if let Some((row, p)) = rows.iter().find(|(r, _)| r.record_id == item) {
                by_id.insert(item.clone(), hits.len());
                hits.push(hit(row, p, vec![what]));
            }
        }
        hits.sort_by_key(|h| h.leaf_index);
        Ok(hits)
    }
}

fn hit(row: &EntryRow, p: &Private, matched: Vec<String>) -> SearchHit {
    let get = |k: &str| p.fields.get(k).map(|v| v.value.clone());
    let kind = if p.fields.contains_key("chat.message") {
        "attachment"
    } else if p.fields.contains_key("chat.export") {
        "message"
    } else if p.fields.contains_key("chat.app") {
        "export"
    } else {
        "item"
    };
    SearchHit {
        id: row.record_id.clone(),
        leaf_index: row.leaf_index,
        kind: kind.into(),
        matched,
        sender: get("chat.sender"),
        time: get("chat.time"),
        text: get("chat.text")
            .filter(|t| !t.is_empty())
            .or_else(|| get("chat.attachment"))
            .or_else(|| get("filename")),
        export: get("chat.export"),
    }
}
