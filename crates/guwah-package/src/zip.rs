//! A small ZIP writer and reader (APPNOTE 6.3), enough for BagIt bags.
//!
//! The writer streams *stored* entries (no compression: evidence is usually
//! compressed already) with data descriptors, in constant memory, computing
//! CRC-32 on the way, and switches to ZIP64 records when an entry, an offset
//! or the entry count needs it (or always, when forced, for tests).
//!
//! The reader reads the central directory (ZIP64 too), checks every local
//! header against it, refuses duplicate, unsafe, encrypted, symlink and
//! special entries, overlapping entries and zip bombs (limits on sizes and
//! compression ratio), and streams stored or deflated entries, checking the
//! size and CRC-32 at the end of each.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use guwah_core::bag::path_problem;

/// What can go wrong reading or writing a ZIP file.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    /// An I/O error, with what was being done.
    #[error("{0}: {1}")]
    Io(String, #[source] io::Error),
    /// The archive is not a ZIP file, is truncated or is corrupt.
    #[error("corrupt or truncated zip: {0}")]
    Corrupt(String),
    /// An entry is refused (unsafe name, symlink, duplicate, encrypted, ...).
    #[error("zip entry {name:?}: {what}")]
    Entry {
        /// The entry's name as stored.
        name: String,
        /// What is wrong with it.
        what: String,
    },
    /// The archive exceeds a safety limit (a likely zip bomb).
    #[error("zip refused: {0}")]
    Limit(String),
    /// An entry's bytes do not match its recorded size or CRC-32.
    #[error("zip entry {0:?}: {1}")]
    Data(String, String),
    /// The entries would decompress to more than the archive's expansion
    /// budget ([`ZipLimits::max_expansion`]).
    #[error(
        "zip refused: entry {entry:?} takes the declared uncompressed total to {total} bytes, \
         past the budget of {budget} bytes ({EXPANSION_ALLOWANCE_MIB} MiB + {ratio} x the archive's \
         {archive_size} bytes): a zip bomb? If the archive is genuine, raise the ratio with \
         --max-expansion RATIO (or --max-expansion unlimited)"
    )]
    Expansion {
        /// The entry at which the total passes the budget.
        entry: String,
        /// The declared uncompressed total up to and including it.
        total: u64,
        /// The budget.
        budget: u64,
        /// The ratio the budget was computed with.
        ratio: u64,
        /// The archive's size in bytes.
        archive_size: u64,
    },
}

/// Uncompressed bytes any archive may hold whatever its size (see
/// [`ZipLimits::max_expansion`]), in MiB.
pub const EXPANSION_ALLOWANCE_MIB: u64 = 64;

/// The default of [`ZipLimits::max_expansion`]: at most 100 times the
/// archive's size (plus [`EXPANSION_ALLOWANCE_MIB`]). Genuine archives of
/// evidence (already-compressed media, text) expand far less; a zip bomb
/// expands by up to 1032 times per deflate layer.
pub const DEFAULT_MAX_EXPANSION: u64 = 100;

fn io_err(what: &str) -> impl FnOnce(io::Error) -> ZipError + '_ {
    move |e| ZipError::Io(what.to_string(), e)
}

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const FLAG_DESCRIPTOR: u16 = 1 << 3;
const FLAG_UTF8: u16 = 1 << 11;
/// 1980-01-01 00:00:00, the earliest DOS time: entries carry no clock.
const DOS_DATE: u16 = (1 << 5) | 1;

// ------------------------------------------------------------------ writer

struct Counting<W> {
    inner: W,
    pos: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct Central {
    name: String,
    crc: u32,
    size: u64,
    offset: u64,
}

/// A streaming ZIP writer of stored entries.
pub struct ZipWriter<W: Write> {
    out: Counting<W>,
    entries: Vec<Central>,
    names: BTreeSet<String>,
    force_zip64: bool,
}

impl<W: Write> ZipWriter<W> {
    /// A writer onto `out` (written strictly sequentially: a pipe will do).
    pub fn new(out: W) -> Self {
        ZipWriter {
            out: Counting { inner: out, pos: 0 },
            entries: Vec::new(),
            names: BTreeSet::new(),
            force_zip64: false,
        }
    }

    /// Writes ZIP64 records even when nothing needs them (for tests and peers).
    pub fn force_zip64(mut self, force: bool) -> Self {
        self.force_zip64 = force;
        self
    }

    /// Number of entries written so far.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True before the first entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Starts a stored entry; write its bytes to the returned writer, then call
    /// [`EntryWriter::finish`]. Names must be safe relative `/` paths.
    pub fn start_entry(&mut self, name: &str) -> Result<EntryWriter<'_, W>, ZipError> {
        if let Some(why) = path_problem(name) {
            return Err(ZipError::Entry {
                name: name.into(),
                what: why.into(),
            });
        }
        if name.len() > 0xFFFF {
            return Err(ZipError::Entry {
                name: name.into(),
                what: "name longer than 65535 bytes".into(),
            });
        }
        if !self.names.insert(name.to_string()) {
            return Err(ZipError::Entry {
                name: name.into(),
                what: "added twice".into(),
            });
        }
        let offset = self.out.pos;
        let mut h = Vec::with_capacity(30 + name.len());
        put32(&mut h, LOCAL_SIG);
        put16(&mut h, 45); // version needed: ZIP64-capable
        put16(&mut h, FLAG_DESCRIPTOR | FLAG_UTF8);
        put16(&mut h, 0); // stored
        put16(&mut h, 0);
        put16(&mut h, DOS_DATE);
        put32(&mut h, 0); // crc, sizes: in the data descriptor
        put32(&mut h, 0);
        put32(&mut h, 0);
        put16(&mut h, name.len() as u16);
        put16(&mut h, 0);
        h.extend_from_slice(name.as_bytes());
        self.out.write_all(&h).map_err(io_err(name))?;
        Ok(EntryWriter {
            zip: self,
            name: name.to_string(),
            offset,
            crc: crc32fast::Hasher::new(),
            size: 0,
        })
    }

    /// Adds a whole entry from a reader; returns its size.
    pub fn add_entry(&mut self, name: &str, mut data: impl Read) -> Result<u64, ZipError> {
        let mut e = self.start_entry(name)?;
        io::copy(&mut data, &mut e).map_err(io_err(name))?;
        e.finish()
    }

    /// Writes the central directory and end records; returns the sink.
    pub fn finish(mut self) -> Result<W, ZipError> {
        let cd_start = self.out.pos;
        let mut buf = Vec::new();
        for e in &self.entries {
            let big_size = self.force_zip64 || e.size >= 0xFFFF_FFFF;
            let big_off = self.force_zip64 || e.offset >= 0xFFFF_FFFF;
            let mut extra = Vec::new();
            if big_size || big_off {
                let mut body = Vec::new();
                if big_size {
                    put64(&mut body, e.size);
                    put64(&mut body, e.size);
                }
                if big_off {
                    put64(&mut body, e.offset);
                }
                put16(&mut extra, 1);
                put16(&mut extra, body.len() as u16);
                extra.extend_from_slice(&body);
            }
            put32(&mut buf, CENTRAL_SIG);
            put16(&mut buf, (3 << 8) | 45); // made by: Unix, 4.5
            put16(&mut buf, 45);
            put16(&mut buf, FLAG_DESCRIPTOR | FLAG_UTF8);
            put16(&mut buf, 0);
            put16(&mut buf, 0);
            put16(&mut buf, DOS_DATE);
            put32(&mut buf, e.crc);
            let s32 = if big_size { 0xFFFF_FFFF } else { e.size as u32 };
            put32(&mut buf, s32);
            put32(&mut buf, s32);
            put16(&mut buf, e.name.len() as u16);
            put16(&mut buf, extra.len() as u16);
            put16(&mut buf, 0); // comment
            put16(&mut buf, 0); // disk
            put16(&mut buf, 0); // internal attributes
            put32(&mut buf, (0o100644u32) << 16); // regular file, rw-r--r--
            put32(
                &mut buf,
                if big_off {
                    0xFFFF_FFFF
                } else {
                    e.offset as u32
                },
            );
            buf.extend_from_slice(e.name.as_bytes());
            buf.extend_from_slice(&extra);
            if buf.len() >= 1 << 20 {
                self.out
                    .write_all(&buf)
                    .map_err(io_err("central directory"))?;
                buf.clear();
            }
        }
        self.out
            .write_all(&buf)
            .map_err(io_err("central directory"))?;
        buf.clear();
        let cd_end = self.out.pos;
        let (count, cd_size) = (self.entries.len() as u64, cd_end - cd_start);
        let zip64 = self.force_zip64
            || count >= 0xFFFF
            || cd_size >= 0xFFFF_FFFF
            || cd_start >= 0xFFFF_FFFF;
        if zip64 {
            put32(&mut buf, ZIP64_EOCD_SIG);
            put64(&mut buf, 44);
            put16(&mut buf, (3 << 8) | 45);
            put16(&mut buf, 45);
            put32(&mut buf, 0);
            put32(&mut buf, 0);
            put64(&mut buf, count);
            put64(&mut buf, count);
            put64(&mut buf, cd_size);
            put64(&mut buf, cd_start);
            put32(&mut buf, ZIP64_LOCATOR_SIG);
            put32(&mut buf, 0);
            put64(&mut buf, cd_end);
            put32(&mut buf, 1);
        }
        put32(&mut buf, EOCD_SIG);
        put16(&mut buf, 0);
        put16(&mut buf, 0);
        let c16 = if zip64 { 0xFFFF } else { count as u16 };
        put16(&mut buf, c16);
        put16(&mut buf, c16);
        put32(&mut buf, if zip64 { 0xFFFF_FFFF } else { cd_size as u32 });
        put32(&mut buf, if zip64 { 0xFFFF_FFFF } else { cd_start as u32 });
        put16(&mut buf, 0);
        self.out
            .write_all(&buf)
            .map_err(io_err("end of central directory"))?;
        self.out.flush().map_err(io_err("flush"))?;
        Ok(self.out.inner)
    }
}

/// The bytes of one entry being written; CRC-32 and size are computed on the way.
pub struct EntryWriter<'a, W: Write> {
    zip: &'a mut ZipWriter<W>,
    name: String,
    offset: u64,
    crc: crc32fast::Hasher,
    size: u64,
}

impl<W: Write> Write for EntryWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.zip.out.write(buf)?;
        self.crc.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.zip.out.flush()
    }
}

impl<W: Write> EntryWriter<'_, W> {
    /// Ends the entry (writes its data descriptor); returns its size.
    pub fn finish(self) -> Result<u64, ZipError> {
        let crc = self.crc.finalize();
        let mut d = Vec::with_capacity(24);
        put32(&mut d, DESCRIPTOR_SIG);
        put32(&mut d, crc);
        if self.zip.force_zip64 || self.size >= 0xFFFF_FFFF {
            put64(&mut d, self.size);
            put64(&mut d, self.size);
        } else {
            put32(&mut d, self.size as u32);
            put32(&mut d, self.size as u32);
        }
        self.zip.out.write_all(&d).map_err(io_err(&self.name))?;
        self.zip.entries.push(Central {
            name: self.name,
            crc,
            size: self.size,
            offset: self.offset,
        });
        Ok(self.size)
    }
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}

// ------------------------------------------------------------------ reader

/// Safety limits for reading archives from strangers.
#[derive(Clone, Debug)]
pub struct ZipLimits {
    /// Most entries accepted.
    pub max_entries: u64,
    /// Largest uncompressed size of one entry.
    pub max_entry_size: u64,
    /// Largest total uncompressed size.
    pub max_total_size: u64,
    /// Largest uncompressed/compressed ratio of an entry bigger than 1 MiB.
    pub max_ratio: u64,
    /// The expansion budget: the entries' declared uncompressed sizes may
    /// total at most [`EXPANSION_ALLOWANCE_MIB`] MiB plus this many times
    /// the archive's size; `None`: no such budget. Checked on the central
    /// directory, whose sizes every entry's reader holds the bytes to, so
    /// nothing past the budget is ever decompressed.
    pub max_expansion: Option<u64>,
}

impl ZipLimits {
    /// The expansion budget for an archive of `archive_size` bytes, if any.
    pub fn expansion_budget(&self, archive_size: u64) -> Option<u64> {
        self.max_expansion.map(|ratio| {
            (EXPANSION_ALLOWANCE_MIB << 20).saturating_add(ratio.saturating_mul(archive_size))
        })
    }
}

impl Default for ZipLimits {
    fn default() -> Self {
        ZipLimits {
            max_entries: 2_000_000,
            max_entry_size: 1 << 40,
            max_total_size: 1 << 42,
            max_ratio: 1000,
            max_expansion: Some(DEFAULT_MAX_EXPANSION),
        }
    }
}

/// One file entry of an archive, as its central directory describes it.
#[derive(Clone, Debug)]
pub struct ZipEntry {
    /// Name (a safe relative `/` path; directory entries are not listed).
    pub name: String,
    /// 0 stored, 8 deflated.
    pub method: u16,
    /// Bytes stored in the archive.
    pub compressed_size: u64,
    /// Bytes after decompression.
    pub size: u64,
    /// CRC-32 of the uncompressed bytes.
    pub crc32: u32,
    /// Where the entry's data starts in the archive.
    pub data_offset: u64,
}

/// A ZIP archive opened for reading: the checked list of file entries.
#[derive(Debug)]
pub struct ZipArchive {
    entries: Vec<ZipEntry>,
    /// Names of the directory entries, without their final `/`.
    dirs: BTreeSet<String>,
    /// Entry index by name (names are unique: [`ZipArchive::open`] checks).
    by_name: std::collections::HashMap<String, usize>,
}

struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ZipError> {
        let s = self
            .b
            .get(self.i..self.i + n)
            .ok_or_else(|| ZipError::Corrupt("central directory cut short".into()))?;
        self.i += n;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16, ZipError> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, ZipError> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> Result<u64, ZipError> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
}

fn read_at(
    f: &mut (impl Read + Seek),
    off: u64,
    n: usize,
    what: &str,
) -> Result<Vec<u8>, ZipError> {
    f.seek(SeekFrom::Start(off)).map_err(io_err(what))?;
    let mut v = vec![0u8; n];
    f.read_exact(&mut v).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            ZipError::Corrupt(format!("{what} runs past the end of the file"))
        } else {
            ZipError::Io(what.to_string(), e)
        }
    })?;
    Ok(v)
}

fn le32(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}
fn le16(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}
fn le64(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(a)
}

impl ZipArchive {
    /// Reads and checks the central directory of the archive at `path`.
    pub fn open_path(path: &Path, limits: &ZipLimits) -> Result<Self, ZipError> {
        let mut f = File::open(path).map_err(io_err(&path.display().to_string()))?;
        Self::open(&mut f, limits)
    }

    /// Reads and checks the central directory of an archive.
    pub fn open(f: &mut (impl Read + Seek), limits: &ZipLimits) -> Result<Self, ZipError> {
        let len = f.seek(SeekFrom::End(0)).map_err(io_err("zip"))?;
        if len < 22 {
            return Err(ZipError::Corrupt("too short to be a zip file".into()));
        }
        let tail_len = len.min(22 + 65535);
        let tail = read_at(
            f,
            len - tail_len,
            tail_len as usize,
            "end of central directory",
        )?;
        let pos = (0..=tail.len() - 22)
            .rev()
            .find(|&i| {
                le32(&tail, i) == EOCD_SIG
                    && i + 22 + usize::from(le16(&tail, i + 20)) == tail.len()
            })
            .or_else(|| {
                (0..=tail.len() - 22)
                    .rev()
                    .find(|&i| le32(&tail, i) == EOCD_SIG)
            })
            .ok_or_else(|| {
                ZipError::Corrupt(
                    "no end-of-central-directory record (not a zip, or truncated)".into(),
                )
            })?;
        let eocd_off = len - tail_len + pos as u64;
        let e = &tail[pos..];
        if le16(e, 4) != 0 || le16(e, 6) != 0 {
            return Err(ZipError::Corrupt(
                "multi-disk archives are not supported".into(),
            ));
        }
        let (mut count, mut cd_size, mut cd_off) = (
            u64::from(le16(e, 10)),
            u64::from(le32(e, 12)),
            u64::from(le32(e, 16)),
        );
        if eocd_off >= 20 {
            let loc = read_at(f, eocd_off - 20, 20, "zip64 locator")?;
            if le32(&loc, 0) == ZIP64_LOCATOR_SIG {
                let z_off = le64(&loc, 8);
                let z = read_at(f, z_off, 56, "zip64 end of central directory")?;
                if le32(&z, 0) != ZIP64_EOCD_SIG {
                    return Err(ZipError::Corrupt(
                        "bad zip64 end-of-central-directory signature".into(),
                    ));
                }
                count = le64(&z, 32);
                cd_size = le64(&z, 40);
                cd_off = le64(&z, 48);
            }
        }
        if count > limits.max_entries {
            return Err(ZipError::Limit(format!(
                "{count} entries (limit {})",
                limits.max_entries
            )));
        }
        if cd_off.checked_add(cd_size).is_none_or(|end| end > eocd_off) {
            return Err(ZipError::Corrupt(
                "central directory lies outside the file".into(),
            ));
        }
        if cd_size > count.saturating_mul(46 + 65535 * 3) || cd_size > 1 << 32 {
            return Err(ZipError::Corrupt(
                "central directory size is implausible".into(),
            ));
        }
        let cd = read_at(f, cd_off, cd_size as usize, "central directory")?;
        let mut c = Cur { b: &cd, i: 0 };
        let mut entries = Vec::new();
        let mut names = BTreeSet::new();
        let mut dirs = BTreeSet::new();
        let mut total: u64 = 0;
        let budget = limits.expansion_budget(len);
        for _ in 0..count {
            if c.u32()? != CENTRAL_SIG {
                return Err(ZipError::Corrupt(
                    "bad central directory entry signature".into(),
                ));
            }
            let made_by = c.u16()?;
            let _needed = c.u16()?;
            let flags = c.u16()?;
            let method = c.u16()?;
            let _time = c.u32()?;
            let crc32 = c.u32()?;
            let mut csize = u64::from(c.u32()?);
            let mut size = u64::from(c.u32()?);
            let (nlen, xlen, clen) = (c.u16()?, c.u16()?, c.u16()?);
            let _disk = c.u16()?;
            let _internal = c.u16()?;
            let external = c.u32()?;
            let mut offset = u64::from(c.u32()?);
            let raw_name = c.take(usize::from(nlen))?.to_vec();
            let extra = c.take(usize::from(xlen))?.to_vec();
            c.take(usize::from(clen))?;
            let name = String::from_utf8(raw_name).map_err(|e| ZipError::Entry {
                name: String::from_utf8_lossy(e.as_bytes()).into(),
                what: "name is not UTF-8".into(),
            })?;
            // ZIP64 extra: the 0xFFFFFFFF fields, in order.
            let mut x = Cur { b: &extra, i: 0 };
            while x.i + 4 <= extra.len() {
                let (id, n) = (x.u16()?, usize::from(x.u16()?));
                let body = x.take(n)?;
                if id == 1 {
                    let mut z = Cur { b: body, i: 0 };
                    if size == 0xFFFF_FFFF {
                        size = z.u64()?;
                    }
                    if csize == 0xFFFF_FFFF {
                        csize = z.u64()?;
                    }
                    if offset == 0xFFFF_FFFF {
                        offset = z.u64()?;
                    }
                }
            }
            let bad = |what: &str| ZipError::Entry {
                name: name.clone(),
                what: what.to_string(),
            };
            let unix_mode = if made_by >> 8 == 3 { external >> 16 } else { 0 };
            let kind = unix_mode & 0o170000;
            if kind == 0o120000 {
                return Err(bad("is a symbolic link"));
            }
            let is_dir = name.ends_with('/') || kind == 0o040000 || external & 0x10 != 0;
            if kind != 0 && kind != 0o100000 && kind != 0o040000 {
                return Err(bad("is a special file (device, FIFO or socket)"));
            }
            let check_name = name.strip_suffix('/').unwrap_or(&name);
            if let Some(why) = path_problem(check_name) {
                return Err(bad(why));
            }
            if !names.insert(check_name.to_string()) {
                return Err(bad("appears twice"));
            }
            if is_dir {
                if size != 0 {
                    return Err(bad("directory entry with data"));
                }
                dirs.insert(check_name.to_string());
                continue;
            }
            if flags & 1 != 0 {
                return Err(bad("is encrypted"));
            }
            if method != 0 && method != 8 {
                return Err(bad(&format!("unsupported compression method {method}")));
            }
            if method == 0 && csize != size {
                return Err(bad("stored entry whose sizes disagree"));
            }
            if size > limits.max_entry_size {
                return Err(ZipError::Limit(format!(
                    "entry {name:?} declares {size} bytes (limit {})",
                    limits.max_entry_size
                )));
            }
            if size > 1 << 20 && size / csize.max(1) > limits.max_ratio {
                return Err(ZipError::Limit(format!(
                    "entry {name:?} expands {csize} bytes to {size} (ratio limit {}): a zip bomb?",
                    limits.max_ratio
                )));
            }
            total = total.saturating_add(size);
            if let Some(budget) = budget.filter(|b| total > *b) {
                return Err(ZipError::Expansion {
                    entry: name,
                    total,
                    budget,
                    ratio: limits.max_expansion.unwrap_or_default(),
                    archive_size: len,
                });
            }
            if total > limits.max_total_size {
                return Err(ZipError::Limit(format!(
                    "entries total more than {} bytes",
                    limits.max_total_size
                )));
            }
            entries.push(ZipEntry {
                name,
                method,
                compressed_size: csize,
                size,
                crc32,
                data_offset: offset,
            });
        }
        // Check local headers; find where each entry's data starts; refuse overlaps.
        let mut spans = Vec::with_capacity(entries.len());
        for e in &mut entries {
            let h = read_at(
                f,
                e.data_offset,
                30,
                &format!("local header of {:?}", e.name),
            )?;
            if le32(&h, 0) != LOCAL_SIG {
                return Err(ZipError::Corrupt(format!(
                    "entry {:?}: bad local header",
                    e.name
                )));
            }
            let (n, x) = (u64::from(le16(&h, 26)), u64::from(le16(&h, 28)));
            let lname = read_at(f, e.data_offset + 30, n as usize, "local name")?;
            if lname != e.name.as_bytes() {
                return Err(ZipError::Corrupt(format!(
                    "entry {:?}: local header names another file",
                    e.name
                )));
            }
            let start = e.data_offset;
            e.data_offset = start + 30 + n + x;
            let end = e
                .data_offset
                .checked_add(e.compressed_size)
                .filter(|&end| end <= cd_off);
            let Some(end) = end else {
                return Err(ZipError::Corrupt(format!(
                    "entry {:?}: data runs past the central directory",
                    e.name
                )));
            };
            spans.push((start, end, e.name.clone()));
        }
        spans.sort();
        for w in spans.windows(2) {
            if w[1].0 < w[0].1 {
                return Err(ZipError::Limit(format!(
                    "entries {:?} and {:?} overlap: a zip bomb?",
                    w[0].2, w[1].2
                )));
            }
        }
        let by_name = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        Ok(ZipArchive {
            entries,
            dirs,
            by_name,
        })
    }

    /// Whether the archive has a directory entry of this name (without
    /// its final `/`). Directories are otherwise implied by file names.
    pub fn has_dir(&self, name: &str) -> bool {
        self.dirs.contains(name)
    }

    /// The entry with this exact name.
    pub fn entry(&self, name: &str) -> Option<&ZipEntry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }

    /// The file entries, in central-directory order.
    pub fn entries(&self) -> &[ZipEntry] {
        &self.entries
    }

    /// A reader of one entry's uncompressed bytes from `f` (the same archive),
    /// failing with [`ZipError::Data`]-style errors (as `io::Error`) when the
    /// bytes exceed the declared size or the CRC-32 does not match.
    pub fn reader<'a, R: Read + Seek + Send + 'a>(
        entry: &ZipEntry,
        mut f: R,
    ) -> Result<Box<dyn Read + Send + 'a>, ZipError> {
        f.seek(SeekFrom::Start(entry.data_offset))
            .map_err(io_err(&entry.name))?;
        let raw = f.take(entry.compressed_size);
        let inner: Box<dyn Read + Send + 'a> = if entry.method == 8 {
            Box::new(flate2::read::DeflateDecoder::new(raw))
        } else {
            Box::new(raw)
        };
        Ok(Box::new(Checked {
            inner,
            name: entry.name.clone(),
            want_size: entry.size,
            want_crc: entry.crc32,
            size: 0,
            crc: crc32fast::Hasher::new(),
            done: false,
        }))
    }
}

struct Checked<'a> {
    inner: Box<dyn Read + Send + 'a>,
    name: String,
    want_size: u64,
    want_crc: u32,
    size: u64,
    crc: crc32fast::Hasher,
    done: bool,
}

impl Read for Checked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        // Never read more than one byte past the declared size.
        let room = (self.want_size - self.size).saturating_add(1);
        let cap = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..cap]).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("zip entry {:?}: corrupt data: {e}", self.name),
            )
        })?;
        self.size += n as u64;
        if self.size > self.want_size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "zip entry {:?}: more data than its declared {} bytes",
                    self.name, self.want_size
                ),
            ));
        }
        self.crc.update(&buf[..n]);
        if n == 0 {
            self.done = true;
            if self.size != self.want_size {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "zip entry {:?}: {} bytes, but {} declared (truncated?)",
                        self.name, self.size, self.want_size
                    ),
                ));
            }
            let crc = self.crc.clone().finalize();
            if crc != self.want_crc {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("zip entry {:?}: CRC-32 mismatch (corrupt)", self.name),
                ));
            }
        }
        Ok(n)
    }
}
