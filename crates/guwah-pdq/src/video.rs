//! Video: PDQ of frames sampled at a fixed rate, decoded by `ffmpeg`.
//!
//! Debian's `ffmpeg` runs as a child process:
//!
//! ```text
//! ffmpeg -nostdin -v error -i file:PATH -an -sn -dn
//!        -vf fps=1:round=up,scale=w='min(iw,1024)':h='min(ih,1024)':flags=area
//!        -f image2pipe -c:v ppm -pix_fmt rgb24 -
//! ```
//!
//! * `fps=1:round=up` keeps the frame *shown* at 0 s, 1 s, 2 s, … (the
//!   latest frame whose timestamp is ≤ k s; the filter's default rounding
//!   would take the frame shown at k + 0.5 s). The rate is
//!   [`VideoOptions::fps`]; the hash list of a video is its PDQ once a second.
//! * Frames keep their decoded size (as vpdq hashes them) unless a side is
//!   over 1024 pixels, which is area-scaled down; PDQ itself then reduces
//!   each frame to 64x64, so this only bounds the bytes piped to us.
//! * Each frame arrives as a binary PPM, whose header carries its size: no
//!   probing, and rotation or size changes mid-stream are handled.
//! * The input is named `file:PATH`, so no file name is ever taken as an
//!   ffmpeg protocol (`concat:`, `http:`, …).
//! * Bounded: a wall-clock timeout kills the process, at most
//!   [`VideoOptions::max_frames`] frames are read, and the PPM parser refuses
//!   frames over 4096x4096.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::{PdqError, PdqHash, pdq};

/// How a video is sampled.
#[derive(Debug, Clone)]
pub struct VideoOptions {
    /// Frames per second kept (default 1).
    pub fps: u32,
    /// Most frames hashed (default 7200: two hours at 1 fps); later frames
    /// are not hashed.
    pub max_frames: usize,
    /// Wall-clock limit for the whole decode (default 10 minutes).
    pub timeout: Duration,
    /// The `ffmpeg` program (default `ffmpeg` on `PATH`).
    pub ffmpeg: std::ffi::OsString,
}

impl Default for VideoOptions {
    fn default() -> Self {
        VideoOptions {
            fps: 1,
            max_frames: 7200,
            timeout: Duration::from_secs(600),
            ffmpeg: "ffmpeg".into(),
        }
    }
}

/// The PDQ hash of one sampled frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameHash {
    /// Time of the frame from the start of the video, in seconds.
    pub seconds: f64,
    /// Its hash and quality.
    pub pdq: PdqHash,
}

/// A command for ffmpeg with an environment of its own: ffmpeg parses
/// hostile video, so it inherits nothing of guwah's (no `GUWAH_PASSPHRASE`,
/// no credentials, no `HOME`) — only `PATH`, to find the program, and the C
/// locale, for stable messages.
fn ffmpeg_command(program: &std::ffi::OsStr) -> Command {
    let mut c = Command::new(program);
    c.env_clear().env("LC_ALL", "C");
    if let Some(path) = std::env::var_os("PATH") {
        c.env("PATH", path);
    }
    c
}

/// Whether `ffmpeg` can be run.
pub fn ffmpeg_available() -> bool {
    ffmpeg_command("ffmpeg".as_ref())
        .args(["-hide_banner", "-version"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Largest frame side the PPM reader accepts.
const MAX_SIDE: usize = 4096;

/// Hash a video's frames sampled at `opts.fps`. ffmpeg runs in its own
/// process under [`VideoOptions::timeout`]; a panic in our handling of its
/// frames is caught and returned as [`PdqError::Panicked`].
pub fn hash_video_file(path: &Path, opts: &VideoOptions) -> Result<Vec<FrameHash>, PdqError> {
    crate::guard::catch(|| hash_video(path, opts))
}

/// Sets a flag when dropped, unwinding or not.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

fn hash_video(path: &Path, opts: &VideoOptions) -> Result<Vec<FrameHash>, PdqError> {
    let mut input = std::ffi::OsString::from("file:");
    input.push(path.as_os_str());
    let filter = format!(
        "fps={}:round=up,scale=w='min(iw,1024)':h='min(ih,1024)':flags=area",
        opts.fps.max(1)
    );
    let mut child = match ffmpeg_command(opts.ffmpeg.as_ref())
        .args(["-nostdin", "-hide_banner", "-v", "error", "-i"])
        .arg(&input)
        .args(["-an", "-sn", "-dn", "-vf", &filter])
        .args(["-f", "image2pipe", "-c:v", "ppm", "-pix_fmt", "rgb24", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(PdqError::NoFfmpeg),
        Err(e) => return Err(PdqError::Io(e)),
    };
    let stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    // Keep the first 4 KiB of ffmpeg's complaints; drain the rest.
    let err_reader = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            let room = 4096usize.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        String::from_utf8_lossy(&kept).trim().to_string()
    });
    // The watchdog kills ffmpeg at the deadline or when we stop reading.
    let done = Arc::new(AtomicBool::new(false));
    let timed_out = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (done, timed_out) = (done.clone(), timed_out.clone());
        let deadline = Instant::now() + opts.timeout;
        std::thread::spawn(move || {
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    return Some(status);
                }
                if done.load(Ordering::Acquire) {
                    let _ = child.kill();
                    return child.wait().ok();
                }
                if Instant::now() >= deadline {
                    timed_out.store(true, Ordering::Release);
                    let _ = child.kill();
                    return child.wait().ok();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    // From here on, leaving in any way (even by a panic) stops ffmpeg.
    let stop = SetOnDrop(done.clone());
    let mut reader = BufReader::with_capacity(1 << 20, stdout);
    let mut frames = Vec::new();
    let mut luma = Vec::new();
    let mut rgb = Vec::new();
    let read_result = loop {
        if frames.len() >= opts.max_frames {
            break Ok(());
        }
        match read_ppm(&mut reader, &mut rgb) {
            Ok(Some((w, h))) => {
                pdq::luma_from_rgb(&rgb, &mut luma);
                let pdq = pdq::hash_luma(&mut luma, w, h);
                frames.push(FrameHash {
                    seconds: frames.len() as f64 / f64::from(opts.fps.max(1)),
                    pdq,
                });
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    drop(stop);
    drop(reader);
    let status = watchdog.join().ok().flatten();
    let complaints = err_reader.join().unwrap_or_default();
    if timed_out.load(Ordering::Acquire) {
        return Err(PdqError::Video(format!(
            "ffmpeg took longer than {} s",
            opts.timeout.as_secs()
        )));
    }
    read_result?;
    let finished_early = frames.len() >= opts.max_frames;
    if !finished_early && !status.is_some_and(|s| s.success()) {
        let why = if complaints.is_empty() {
            "ffmpeg failed".to_string()
        } else {
            complaints
        };
        return Err(PdqError::Video(why));
    }
    if frames.is_empty() {
        return Err(PdqError::Video("no video frames".into()));
    }
    Ok(frames)
}

/// Read one binary PPM (`P6`, maxval 255) into `rgb`; `None` at a clean end
/// of stream. Refuses anything else, and frames over 4096 pixels a side.
pub fn read_ppm<R: BufRead>(
    r: &mut R,
    rgb: &mut Vec<u8>,
) -> Result<Option<(usize, usize)>, PdqError> {
    let bad = |why: &str| PdqError::Video(format!("malformed frame from ffmpeg: {why}"));
    if r.fill_buf()?.is_empty() {
        return Ok(None);
    }
    let mut magic = [0u8; 2];
    r.read_exact(&mut magic)?;
    if &magic != b"P6" {
        return Err(bad("not a binary PPM"));
    }
    let mut fields = [0usize; 3];
    for f in &mut fields {
        *f = ppm_number(r).ok_or_else(|| bad("bad header"))?;
    }
    let [w, h, maxval] = fields;
    if maxval != 255 {
        return Err(bad("not 8 bits per sample"));
    }
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(bad("frame size out of range"));
    }
    rgb.clear();
    rgb.resize(w * h * 3, 0);
    r.read_exact(rgb).map_err(|_| bad("truncated pixel data"))?;
    Ok(Some((w, h)))
}

/// Skip whitespace (and `#` comments), read a decimal number, and consume
/// the single whitespace byte after it.
fn ppm_number<R: BufRead>(r: &mut R) -> Option<usize> {
    let mut byte = [0u8; 1];
    let mut next = |r: &mut R| r.read_exact(&mut byte).ok().map(|_| byte[0]);
    let mut c = next(r)?;
    loop {
        if c == b'#' {
            while c != b'\n' {
                c = next(r)?;
            }
        } else if c.is_ascii_whitespace() {
            c = next(r)?;
        } else {
            break;
        }
    }
    let mut n: usize = 0;
    let mut digits = 0;
    while c.is_ascii_digit() {
        n = n.checked_mul(10)?.checked_add(usize::from(c - b'0'))?;
        digits += 1;
        if digits > 6 {
            return None;
        }
        c = next(r)?;
    }
    (digits > 0 && c.is_ascii_whitespace()).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppm_frames_parse_and_bad_ones_are_refused() {
        let mut data = b"P6\n2 1\n255\n".to_vec();
        data.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
        data.extend_from_slice(b"P6 # comment\n1 1 255 ");
        data.extend_from_slice(&[9, 9, 9]);
        let mut r = std::io::Cursor::new(data);
        let mut rgb = Vec::new();
        assert_eq!(read_ppm(&mut r, &mut rgb).unwrap(), Some((2, 1)));
        assert_eq!(rgb, [1, 2, 3, 4, 5, 6]);
        assert_eq!(read_ppm(&mut r, &mut rgb).unwrap(), Some((1, 1)));
        assert_eq!(read_ppm(&mut r, &mut rgb).unwrap(), None);
        for bad in [
            &b"P5\n1 1\n255\n\0"[..],
            b"P6\n99999 1\n255\n",
            b"P6\n1 1\n65535\n",
            b"P6\n2 2\n255\n\0\0",
            b"P6\n1",
        ] {
            assert!(read_ppm(&mut std::io::Cursor::new(bad), &mut rgb).is_err());
        }
    }

    #[test]
    fn missing_ffmpeg_is_reported() {
        let opts = VideoOptions {
            ffmpeg: "/nonexistent/ffmpeg".into(),
            ..VideoOptions::default()
        };
        let r = hash_video_file(Path::new("x.mp4"), &opts);
        assert!(matches!(r, Err(PdqError::NoFfmpeg)), "{r:?}");
    }
}
