//! guwah-media against exiftool (Debian `libimage-exiftool-perl`), the
//! peer: on every fixture in `../shared/fixtures/exif/` and the MOV/MP4
//! files in `../shared/fixtures/media-edge/`, capture times, GPS, make and
//! model must agree with `exiftool -n -json`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// `shared/fixtures` beside the checkout: the nearest ancestor of this
/// crate holding one (the repository may be a worktree one level deeper).
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/fixtures"))
        .find(|p| p.is_dir())
        .expect("shared/fixtures next to the repository (see README)")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn media_type(p: &Path) -> &'static str {
    let ext = p
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "heic" | "heif" => "image/heic",
        "mov" => "video/quicktime",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

fn peer_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    walk(&fixtures().join("exif"), &mut files);
    walk(&fixtures().join("media-edge"), &mut files);
    files.retain(|p| media_type(p) != "application/octet-stream");
    files
}

/// `YYYY:MM:DD HH:MM:SS…` or `YYYY-MM-DDTHH:MM:SS…`: the first 19
/// characters in one spelling.
fn stamp(s: &str) -> String {
    s.chars()
        .take(19)
        .enumerate()
        .map(|(i, c)| match (i, c) {
            (4 | 7, ':') => '-',
            (10, ' ') => 'T',
            _ => c,
        })
        .collect()
}

/// Files where exiftool finds a value through a container we do not read
/// (Olympus APP12 text; Canon CIFF in APP0), with the tags concerned.
const KNOWN_GAPS: [(&str, &str); 4] = [
    ("olympus-d320l.jpg", "DateTimeOriginal"),
    ("sony-powershota5.jpg", "DateTimeOriginal"),
    ("sony-powershota5.jpg", "Make"),
    ("sony-powershota5.jpg", "Model"),
];

#[test]
fn agrees_with_exiftool() {
    let files = peer_files();
    assert!(files.len() >= 40, "fixtures missing: {} files", files.len());
    let run = Command::new("exiftool")
        .args(["-n", "-json", "-charset", "utf8"])
        .args([
            "-DateTimeOriginal",
            "-CreateDate",
            "-OffsetTimeOriginal",
            "-GPSLatitude",
            "-GPSLongitude",
            "-Make",
            "-Model",
        ])
        .args(&files)
        .output();
    let run = match run {
        Ok(r) => r,
        Err(e) => panic!(
            "exiftool is needed as the peer of this test ({e}); install it with \
             `apt-get install -y libimage-exiftool-perl`"
        ),
    };
    let text = String::from_utf8_lossy(&run.stdout);
    let peer: Vec<Value> = serde_json::from_str(&text).expect("exiftool -json output");
    let (mut compared, mut agreed, mut gps, mut times) = (0, 0, 0, 0);
    let mut problems = Vec::new();
    let mut gaps = Vec::new();
    for p in &files {
        let want = peer
            .iter()
            .find(|v| v["SourceFile"].as_str().map(Path::new) == Some(p.as_path()))
            .unwrap_or_else(|| panic!("exiftool gave nothing for {}", p.display()));
        let data = std::fs::read(p).unwrap();
        let got = guwah_media::extract_bytes(media_type(p), &data);
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let first = |names: &[&str]| names.iter().find_map(|n| got.get(n)).map(str::to_string);
        let mut check = |tag: &str,
                         ours: Option<String>,
                         ok: &dyn Fn(&str) -> bool,
                         theirs: &Value| {
            if theirs.is_null() {
                return;
            }
            compared += 1;
            match ours {
                Some(o) if ok(&o) => agreed += 1,
                Some(o) => problems.push(format!("{name}: {tag}: guwah {o:?}, exiftool {theirs}")),
                None => gaps.push((name.clone(), tag.to_string())),
            }
        };
        let s = |t: &str| want[t].as_str().unwrap_or("").to_string();
        for (tag, ours) in [
            (
                "DateTimeOriginal",
                // exiftool ranks a maker note's time below EXIF's and XMP's.
                first(&[
                    "exif.datetime-original",
                    "xmp.datetime-original",
                    "makernote.datetime-original",
                ]),
            ),
            (
                "CreateDate",
                first(&[
                    "exif.datetime-digitized",
                    "xmp.create-date",
                    "media.created",
                ]),
            ),
        ] {
            let theirs = s(tag);
            let offset = s("OffsetTimeOriginal");
            let with_offset = tag == "DateTimeOriginal"
                && !offset.is_empty()
                && got.get("exif.datetime-original").is_some();
            if !want[tag].is_null() {
                times += 1;
            }
            check(
                tag,
                ours,
                &|o: &str| stamp(o) == stamp(&theirs) && (!with_offset || o.ends_with(&offset)),
                &want[tag],
            );
        }
        for tag in ["GPSLatitude", "GPSLongitude"] {
            let field = if tag == "GPSLatitude" {
                "gps.latitude"
            } else {
                "gps.longitude"
            };
            let theirs = want[tag].as_f64();
            if theirs.is_some() {
                gps += 1;
            }
            check(
                tag,
                got.get(field).map(str::to_string),
                &|o: &str| {
                    o.parse::<f64>()
                        .is_ok_and(|x| (x - theirs.unwrap_or(f64::NAN)).abs() < 1e-6)
                },
                &want[tag],
            );
        }
        for (tag, ours) in [
            ("Make", first(&["exif.make", "media.make", "xmp.make"])),
            ("Model", first(&["exif.model", "media.model", "xmp.model"])),
        ] {
            let theirs = match &want[tag] {
                Value::String(x) => x.trim().to_string(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            check(tag, ours, &|o: &str| o == theirs, &want[tag]);
        }
    }
    let unexpected: Vec<_> = gaps
        .iter()
        .filter(|(f, t)| !KNOWN_GAPS.contains(&(f.as_str(), t.as_str())))
        .collect();
    eprintln!(
        "exiftool peer: {} files, {compared} values compared ({times} times, {gps} GPS coordinates), \
         {agreed} agree, {} disagree, {} not read (known: {})",
        files.len(),
        problems.len(),
        gaps.len(),
        KNOWN_GAPS.len()
    );
    assert!(
        problems.is_empty(),
        "disagreements with exiftool:\n{}",
        problems.join("\n")
    );
    assert!(
        unexpected.is_empty(),
        "values exiftool reads and guwah does not: {unexpected:?}"
    );
    assert!(compared >= 120, "only {compared} comparisons");
    assert!(gps >= 20, "only {gps} GPS comparisons");
    assert!(times >= 60, "only {times} time comparisons");
}
