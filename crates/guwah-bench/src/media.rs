//! `--media`: metadata extraction over a folder of 1,000 images (copies of
//! the JPEG and HEIC fixtures in `../shared/fixtures/exif/`), in process
//! with `guwah_media::extract`, against `exiftool -json -r FOLDER` on the
//! same folder. Target: at least 10x exiftool.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Build (or reuse) the folder of `n` images under `dir`, time both sides
/// and print the result.
pub fn run(dir: &Path, n: usize) -> Result<(), String> {
    let version = Command::new("exiftool").arg("-ver").output().map_err(|e| {
        format!(
            "exiftool not found ({e}); install it with `apt-get install -y libimage-exiftool-perl`"
        )
    })?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/exif");
    let mut sources = Vec::new();
    walk(&fixtures, &mut sources);
    sources.retain(|p| media_type(p).is_some());
    sources.sort();
    if sources.is_empty() {
        return Err(format!(
            "no JPEG or HEIC fixtures under {}",
            fixtures.display()
        ));
    }
    let folder = dir.join(format!("media-{n}"));
    let mut files = Vec::with_capacity(n);
    fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    let mut bytes = 0u64;
    for i in 0..n {
        let src = &sources[i % sources.len()];
        let name = src
            .file_name()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default();
        let dst = folder.join(format!("{i:04}-{name}"));
        if !dst.exists() {
            fs::copy(src, &dst).map_err(|e| format!("{}: {e}", dst.display()))?;
        }
        bytes += fs::metadata(&dst).map(|m| m.len()).unwrap_or(0);
        files.push(dst);
    }
    println!(
        "== media: metadata of {n} images ({:.1} MiB; copies of {} fixtures) in {}",
        bytes as f64 / (1024.0 * 1024.0),
        sources.len(),
        folder.display()
    );

    // guwah-media, in process, one thread: median of 5 runs after a warm-up.
    let mut walls = Vec::new();
    let mut fields = 0;
    for run in 0..6 {
        let t = Instant::now();
        let mut count = 0;
        for p in &files {
            let Ok(mut f) = File::open(p) else { continue };
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            let mut head = [0u8; 16];
            let _ = f.read(&mut head);
            let ty = media_type(p).unwrap_or("application/octet-stream");
            count += guwah_media::extract(ty, &mut f, len).fields.len();
        }
        if run > 0 {
            walls.push(t.elapsed());
        }
        fields = count;
    }
    walls.sort();
    let ours = walls[walls.len() / 2];

    // exiftool, warm (one untimed run first), median of 3.
    let exiftool = || -> Result<Duration, String> {
        let t = Instant::now();
        let st = Command::new("exiftool")
            .args(["-json", "-r"])
            .arg(&folder)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("exiftool: {e}"))?;
        if st.code().is_none_or(|c| c > 1) {
            return Err(format!("exiftool failed: {st}"));
        }
        Ok(t.elapsed())
    };
    exiftool()?;
    let mut theirs: Vec<Duration> = (0..3).map(|_| exiftool()).collect::<Result<_, _>>()?;
    theirs.sort();
    let theirs = theirs[1];
    let ratio = theirs.as_secs_f64() / ours.as_secs_f64().max(1e-9);
    println!(
        "{:<44} {:>10.1} ms  ({:.0} files/s, {fields} fields)",
        "guwah-media extract (1 thread, median of 5)",
        ours.as_secs_f64() * 1e3,
        n as f64 / ours.as_secs_f64().max(1e-9)
    );
    println!(
        "{:<44} {:>10.1} ms  ({:.0} files/s)",
        format!("exiftool {version} -json -r (median of 3)"),
        theirs.as_secs_f64() * 1e3,
        n as f64 / theirs.as_secs_f64().max(1e-9)
    );
    println!(
        "{:<44} {:>10.1}x  target >= 10x: {}",
        "speed-up",
        ratio,
        if ratio >= 10.0 { "PASS" } else { "MISS" }
    );
    println!(
        "note: exiftool reads every tag (maker notes too); guwah-media reads the fields in docs/metadata.md."
    );
    println!(
        "commands: exiftool -json -r {} > /dev/null",
        folder.display()
    );
    Ok(())
}

fn media_type(p: &Path) -> Option<&'static str> {
    let ext = p.extension()?.to_string_lossy().to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => Some("image/jpeg"),
        "heic" | "heif" => Some("image/heic"),
        _ => None,
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}
