//! Readers of messaging-app exports: WhatsApp chat exports and Telegram
//! Desktop `result.json`, into one model ([`Conversation`]).
//!
//! The parsers ([`whatsapp::parse`], [`telegram::parse`]) are pure: bytes
//! in, a conversation out, bounded by [`Limits`] and never panicking on any
//! input (a fuzz target checks this). [`export::open`] does the file work:
//! it finds the chat text inside a `.zip` (through guwah-package's checked
//! zip reader, which refuses bombs and unsafe names), a folder or a lone
//! file, and hands out the attachments the messages name.
//!
//! Times are kept as written (`time_text`) and parsed: a WhatsApp time has
//! no zone (it is the exporting phone's local clock), so it becomes a naive
//! `YYYY-MM-DDTHH:MM:SS` and [`Conversation::time_note`] says so; nothing
//! ever invents an offset. Telegram's `date_unixtime` is a real instant and
//! becomes RFC 3339 UTC.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod export;
pub mod telegram;
pub mod whatsapp;

use serde::Serialize;

/// Which app wrote the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A WhatsApp "Export chat" text (Android or iOS), alone or zipped.
    WhatsApp,
    /// A Telegram Desktop JSON export (`result.json`).
    Telegram,
}

impl Kind {
    /// Lowercase name: `whatsapp` or `telegram`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::WhatsApp => "whatsapp",
            Kind::Telegram => "telegram",
        }
    }
}

/// One message, or one system line ("X added Y", "Messages and calls are
/// end-to-end encrypted", a Telegram service message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Position in the export, from 0.
    pub index: u64,
    /// The sender's name (or phone number) as the export shows it; `None`
    /// for system lines that name nobody.
    pub sender: Option<String>,
    /// A stable sender id when the export has one (Telegram `from_id`).
    pub sender_id: Option<String>,
    /// The time exactly as written in the export.
    pub time_text: String,
    /// The parsed time: RFC 3339 when the zone is known (Telegram unixtime,
    /// UTC), else a naive local `YYYY-MM-DDTHH:MM:SS`; `None` if unparsable.
    pub time: Option<String>,
    /// The text, lines joined with `\n`, exactly as exported otherwise.
    pub text: String,
    /// An attached file, as a path inside the export.
    pub attachment: Option<String>,
    /// A system line rather than a message someone wrote.
    pub system: bool,
    /// The chat it belongs to, only for exports of several chats.
    pub chat: Option<String>,
}

/// A whole export, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conversation {
    /// Which app.
    pub source: Kind,
    /// The chat's name, when the export gives one.
    pub title: Option<String>,
    /// The messages, in export order.
    pub messages: Vec<Message>,
    /// What was odd but tolerated (dropped lines, truncated text, guesses).
    pub warnings: Vec<String>,
    /// How to read [`Message::time`] (e.g. "local time, zone unknown").
    pub time_note: Option<String>,
}

/// Bounds on what a parser accepts; the defaults suit real exports.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest chat text / JSON file read, in bytes.
    pub max_file: u64,
    /// Longer lines are cut (with a warning).
    pub max_line: usize,
    /// Longer message texts are cut (with a warning).
    pub max_text: usize,
    /// Messages past this many are dropped (with a warning).
    pub max_messages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file: 256 << 20,
            max_line: 1 << 20,
            max_text: 1 << 20,
            max_messages: 1_000_000,
        }
    }
}

/// Why an export could not be read as a chat.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The bytes are not an export of this kind (or any kind we know).
    #[error("not a recognised chat export: {0}")]
    NotAChat(String),
    /// The export is larger than [`Limits::max_file`].
    #[error("the chat text is {size} bytes, more than the {limit}-byte limit")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The zip container is refused (corrupt, truncated, a bomb, unsafe).
    #[error("{0}")]
    Zip(#[from] guwah_package::zip::ZipError),
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// What was being read.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Cut `s` to at most `max` bytes on a character boundary.
pub(crate) fn cut(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    true
}

/// A single-line, control-free version of an export-supplied name.
pub(crate) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Guess the kind of an export from its first bytes.
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if t.starts_with('{') {
        return Some(Kind::Telegram);
    }
    if t.lines().take(20).any(|l| whatsapp::header(l).is_some()) {
        return Some(Kind::WhatsApp);
    }
    None
}

/// Parse an export's chat text or JSON, whichever it is.
pub fn parse_any(
    bytes: &[u8],
    title_hint: Option<&str>,
    limits: &Limits,
) -> Result<Conversation, ChatError> {
    match sniff(bytes) {
        Some(Kind::Telegram) => telegram::parse(bytes, limits),
        Some(Kind::WhatsApp) => whatsapp::parse(bytes, title_hint, limits),
        None => whatsapp::parse(bytes, title_hint, limits),
    }
}
