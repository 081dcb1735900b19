//! Finding and opening an export on disk: a `.zip`, a folder, or a lone
//! chat file; and reading the attachments its messages name.
//!
//! Which file is "the export" (the one sealed as the export item):
//! - a `.zip` (recognised by its bytes, not its name): the zip itself; the
//!   chat inside is `_chat.txt` (iOS), `WhatsApp Chat with NAME.txt`
//!   (Android), a `result.json` (Telegram), or the only `.txt`; media are
//!   its other entries. A zip inside the zip is never opened.
//! - a folder: its `result.json`, `_chat.txt` or `WhatsApp Chat*.txt`;
//!   media are looked up under that folder.
//! - a file: itself; media are looked up beside it.
//!
//! A zip must keep within its expansion budget (see
//! [`ZipLimits::max_expansion`]): its entries may declare at most 64 MiB
//! plus [`DEFAULT_MAX_EXPANSION`] times the zip's size, unless the caller
//! raises or lifts the ratio ([`open_with`]) for a genuine huge export.
//!
//! Attachment names come from the export, which may be hostile: a name is
//! used only if it is a safe relative path (no `..`, not absolute), and a
//! file found on disk only if it is a regular file, not a symbolic link,
//! inside the export's folder.

use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

/// The zip limits and errors an export is read with.
pub use guwah_package::zip::{DEFAULT_MAX_EXPANSION, ZipError};
use guwah_package::zip::{ZipArchive, ZipEntry, ZipLimits};

use crate::{ChatError, Conversation, Limits, whatsapp};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ChatError + '_ {
    move |source| ChatError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The file to seal as the export, for a path the user gave: the path
/// itself, or for a folder the chat file inside it.
pub fn locate(path: &Path) -> Result<PathBuf, ChatError> {
    if !path.is_dir() {
        return Ok(path.to_owned());
    }
    let mut names: Vec<String> = std::fs::read_dir(path)
        .map_err(io(path))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    pick_chat_file(names.iter().map(String::as_str))
        .map(|n| path.join(n))
        .ok_or_else(|| {
            ChatError::NotAChat(
                "the folder holds no result.json, _chat.txt or \"WhatsApp Chat ... .txt\"".into(),
            )
        })
}

/// The chat file among `names` (paths inside a container), by preference.
fn pick_chat_file<'a>(names: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    let base = |n: &'a str| n.rsplit('/').next().unwrap_or(n);
    let depth = |n: &str| n.matches('/').count();
    let best = |pred: &dyn Fn(&str) -> bool| {
        names
            .clone()
            .filter(|n| pred(base(n)))
            .min_by_key(|n| (depth(n), n.len()))
    };
    best(&|b| b == "_chat.txt")
        .or_else(|| best(&|b| b.starts_with("WhatsApp Chat") && b.ends_with(".txt")))
        .or_else(|| best(&|b| b == "result.json"))
        .or_else(|| {
            let txt: Vec<&str> = names
                .clone()
                .filter(|n| n.ends_with(".txt") && depth(n) == 0)
                .collect();
            (txt.len() == 1).then(|| txt[0])
        })
}

enum Source {
    Zip {
        path: PathBuf,
        archive: ZipArchive,
        /// Folder of the chat file inside the zip ("" or "x/").
        prefix: String,
    },
    Dir {
        base: PathBuf,
    },
}

/// An opened export: the parsed conversation and access to its media.
pub struct OpenedExport {
    /// The parsed conversation.
    pub conversation: Conversation,
    /// Where the chat text was: a name inside the zip, or the file's name.
    pub chat_file: String,
    /// Whether the export is a zip.
    pub zipped: bool,
    source: Source,
}

impl std::fmt::Debug for OpenedExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedExport")
            .field("chat_file", &self.chat_file)
            .field("zipped", &self.zipped)
            .finish_non_exhaustive()
    }
}

/// An attachment's bytes, ready to stream.
pub struct Attachment {
    /// Its size as the container declares it.
    pub size: u64,
    /// Its bytes (for a zip entry, checked against size and CRC-32 at the end).
    pub reader: Box<dyn Read + Send>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

fn zip_limits(max_expansion: Option<u64>) -> ZipLimits {
    ZipLimits {
        max_entries: 1_000_000,
        max_entry_size: 16 << 30,
        max_total_size: 256 << 30,
        max_ratio: 1000,
        max_expansion,
    }
}

fn read_capped(mut r: impl Read, cap: u64, what: &Path) -> Result<Vec<u8>, ChatError> {
    let mut buf = Vec::new();
    (&mut r)
        .take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(io(what))?;
    if buf.len() as u64 > cap {
        return Err(ChatError::TooLarge {
            size: buf.len() as u64,
            limit: cap,
        });
    }
    Ok(buf)
}

/// Open the export file `path` (as [`locate`] returned it) and parse it,
/// a zip within the default expansion budget.
pub fn open(path: &Path, limits: &Limits) -> Result<OpenedExport, ChatError> {
    open_with(path, limits, Some(DEFAULT_MAX_EXPANSION))
}

/// [`open`], a zip's entries declaring at most 64 MiB plus `max_expansion`
/// times its size (`None`: no such budget). Past it, the error
/// ([`guwah_package::zip::ZipError::Expansion`]) names the entry.
pub fn open_with(
    path: &Path,
    limits: &Limits,
    max_expansion: Option<u64>,
) -> Result<OpenedExport, ChatError> {
    let mut f = File::open(path).map_err(io(path))?;
    let mut magic = [0u8; 4];
    let n = f.read(&mut magic).map_err(io(path))?;
    f.rewind().map_err(io(path))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if n == 4 && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06") {
        let archive = ZipArchive::open(&mut f, &zip_limits(max_expansion))?;
        let names = archive.entries().iter().map(|e| e.name.as_str());
        let Some(chat) = pick_chat_file(names) else {
            let nested = archive
                .entries()
                .iter()
                .any(|e| e.name.to_ascii_lowercase().ends_with(".zip"));
            return Err(ChatError::NotAChat(if nested {
                "the zip holds no chat text, only other files and nested archives (which are never opened)".into()
            } else {
                "the zip holds no _chat.txt, \"WhatsApp Chat ... .txt\" or result.json".into()
            }));
        };
        let chat = chat.to_owned();
        let entry = archive
            .entries()
            .iter()
            .find(|e| e.name == chat)
            .cloned()
            .ok_or_else(|| ChatError::NotAChat("chat entry vanished".into()))?;
        if entry.size > limits.max_file {
            return Err(ChatError::TooLarge {
                size: entry.size,
                limit: limits.max_file,
            });
        }
        let reader = ZipArchive::reader(&entry, File::open(path).map_err(io(path))?)?;
        // A bad entry (corrupt data, wrong CRC, more bytes than declared) is
        // the archive's fault, not an I/O error of ours.
        let bytes = read_capped(reader, limits.max_file, path).map_err(|e| match e {
            ChatError::Io { source, .. } => ChatError::Zip(guwah_package::zip::ZipError::Data(
                chat.clone(),
                source.to_string(),
            )),
            e => e,
        })?;
        let base = chat.rsplit('/').next().unwrap_or(&chat).to_owned();
        let hint = whatsapp::title_from_file_name(&base)
            .or_else(|| whatsapp::title_from_file_name(&file_name));
        let conversation = if base == "result.json" {
            crate::telegram::parse(&bytes, limits)?
        } else {
            whatsapp::parse(&bytes, hint.as_deref(), limits)?
        };
        let prefix = chat
            .rfind('/')
            .map(|i| chat[..=i].to_owned())
            .unwrap_or_default();
        return Ok(OpenedExport {
            conversation,
            chat_file: chat,
            zipped: true,
            source: Source::Zip {
                path: path.to_owned(),
                archive,
                prefix,
            },
        });
    }
    let len = f.metadata().map_err(io(path))?.len();
    if len > limits.max_file {
        return Err(ChatError::TooLarge {
            size: len,
            limit: limits.max_file,
        });
    }
    let bytes = read_capped(f, limits.max_file, path)?;
    let hint = whatsapp::title_from_file_name(&file_name);
    let conversation = crate::parse_any(&bytes, hint.as_deref(), limits)?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned();
    Ok(OpenedExport {
        conversation,
        chat_file: file_name,
        zipped: false,
        source: Source::Dir { base },
    })
}

impl OpenedExport {
    /// The attachment a message names, if the export holds it. `Err` says
    /// why a name present in the export cannot be used.
    pub fn attachment(&self, name: &str) -> Result<Option<Attachment>, String> {
        if let Some(why) = guwah_core::bag::path_problem(name) {
            return Err(format!("attachment name {name:?} refused: {why}"));
        }
        match &self.source {
            Source::Zip {
                path,
                archive,
                prefix,
            } => {
                let entries = archive.entries();
                let full = format!("{prefix}{name}");
                let find = |n: &str| entries.iter().find(|e| e.name == n);
                let entry: Option<&ZipEntry> = find(&full).or_else(|| find(name)).or_else(|| {
                    let base = name.rsplit('/').next().unwrap_or(name);
                    let mut hits = entries
                        .iter()
                        .filter(|e| e.name.rsplit('/').next() == Some(base));
                    match (hits.next(), hits.next()) {
                        (Some(e), None) => Some(e),
                        _ => None,
                    }
                });
                let Some(entry) = entry else { return Ok(None) };
                let f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
                let reader = ZipArchive::reader(entry, f).map_err(|e| e.to_string())?;
                Ok(Some(Attachment {
                    size: entry.size,
                    reader,
                }))
            }
            Source::Dir { base } => {
                let p = base.join(name);
                let Ok(meta) = std::fs::symlink_metadata(&p) else {
                    return Ok(None);
                };
                if !meta.is_file() {
                    return Err(format!(
                        "attachment {name:?} is not a regular file (a link or a folder); not read"
                    ));
                }
                let inside = match (p.canonicalize(), base.canonicalize()) {
                    (Ok(a), Ok(b)) => a.starts_with(b),
                    _ => false,
                };
                if !inside {
                    return Err(format!(
                        "attachment {name:?} lies outside the export's folder; not read"
                    ));
                }
                let f = File::open(&p).map_err(|e| format!("attachment {name:?}: {e}"))?;
                Ok(Some(Attachment {
                    size: meta.len(),
                    reader: Box::new(f),
                }))
            }
        }
    }
}
