//! Manifests and tag manifests: parsing, and every listed file against the files present.

use std::collections::{BTreeMap, BTreeSet};

use super::report::BagReport;
use super::text::{decode_path, fold, is_empty_digest, is_system_file, lines, path_problem};
use super::{Algorithm, BagFiles, FileDigest};

pub(super) struct Manifest {
    pub(super) name: String,
    pub(super) algorithm: Algorithm,
    /// decoded path → lowercase digest
    pub(super) entries: BTreeMap<String, String>,
}

/// Cleans and checks one path from a manifest or fetch.txt: decoding,
/// md5sum's `*`, a leading `./`, safety. `None` when unusable (error reported).
pub(super) fn clean_path(raw: &str, file: &str, n: usize, r: &mut BagReport) -> Option<String> {
    // fetch.txt is not a manifest: its problems are the bag's.
    let manifest = file != "fetch.txt";
    let warn = |r: &mut BagReport, what: String| {
        if manifest {
            r.manifest_warn(file, what)
        } else {
            r.warn(file, what)
        }
    };
    let mut p = decode_path(raw);
    if let Some(rest) = p.strip_prefix('*') {
        warn(
            r,
            format!("line {n}: '*' before {rest:?} (md5sum's binary-mode marker) ignored"),
        );
        p = rest.to_string();
    }
    let mut stripped = false;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.to_string();
        stripped = true;
    }
    if stripped {
        warn(r, format!("line {n}: leading './' in {raw:?} ignored"));
    }
    if let Some(why) = path_problem(&p) {
        let what = format!("line {n}: {p:?}: {why}");
        if manifest {
            r.manifest_err(file, what)
        } else {
            r.err(file, what)
        }
        return None;
    }
    Some(p)
}

pub(super) fn parse_manifest(
    name: &str,
    algorithm: Algorithm,
    text: &str,
    payload: bool,
    v1: bool,
    r: &mut BagReport,
) -> Manifest {
    let mut entries: BTreeMap<String, String> = BTreeMap::new();
    let mut folded: BTreeMap<String, String> = BTreeMap::new();
    for (n, line) in lines(text).into_iter().enumerate() {
        let n = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let Some(i) = line.find([' ', '\t']) else {
            r.manifest_err(name, format!("line {n}: not 'checksum filepath'"));
            continue;
        };
        let digest = line[..i].to_ascii_lowercase();
        let raw = line[i..].trim_start_matches([' ', '\t']);
        if digest.len() != algorithm.hex_len() || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            r.manifest_err(
                name,
                format!("line {n}: {digest:?} is not a {algorithm} checksum"),
            );
            continue;
        }
        if raw.is_empty() {
            r.manifest_err(name, format!("line {n}: no file path"));
            continue;
        }
        let Some(path) = clean_path(raw, name, n, r) else {
            continue;
        };
        let under_data = path.starts_with("data/");
        if payload && !under_data {
            r.manifest_err(name, format!("line {n}: {path:?} is outside data/: a payload manifest lists payload files only"));
            continue;
        }
        if !payload && under_data {
            r.manifest_err(
                name,
                format!(
                    "line {n}: {path:?} is a payload file: a tag manifest lists tag files only"
                ),
            );
            continue;
        }
        if let Some(prev) = entries.get(&path) {
            if *prev != digest {
                r.manifest_err(
                    name,
                    format!("line {n}: {path:?} listed again with a different checksum"),
                );
            } else if v1 {
                r.manifest_err(name, format!("line {n}: {path:?} listed more than once"));
            } else {
                r.manifest_warn(name, format!("line {n}: {path:?} listed more than once"));
            }
            continue;
        }
        let f = fold(&path);
        if let Some(other) = folded.get(&f) {
            r.manifest_warn(
                name,
                format!(
                    "line {n}: {path:?} and {other:?} differ only in case or Unicode normalisation: \
                     on many file systems they are the same file"
                ),
            );
        } else {
            folded.insert(f, path.clone());
        }
        entries.insert(path, digest);
    }
    Manifest {
        name: name.to_string(),
        algorithm,
        entries,
    }
}

/// How a listed path was found among the files present.
enum Found<'a> {
    Exact(&'a FileDigest),
    Equivalent(&'a str, &'a FileDigest),
    Missing,
}

fn find<'a>(
    files: &'a BagFiles,
    folded: &'a BTreeMap<String, Vec<String>>,
    path: &str,
) -> Found<'a> {
    if let Some(d) = files.files.get(path) {
        return Found::Exact(d);
    }
    if let Some([only]) = folded.get(&fold(path)).map(Vec::as_slice)
        && let Some(d) = files.files.get(only)
    {
        return Found::Equivalent(only, d);
    }
    Found::Missing
}

pub(super) fn check_entries<'a>(
    files: &'a BagFiles,
    folded: &'a BTreeMap<String, Vec<String>>,
    m: &Manifest,
    fetch: &BTreeSet<String>,
    covered: &mut BTreeSet<&'a str>,
    tolerated_missing: &mut BTreeSet<String>,
    r: &mut BagReport,
) {
    let a = m.algorithm;
    for (path, want) in &m.entries {
        let (present, got) = match find(files, folded, path) {
            Found::Exact(d) => {
                covered.insert(
                    files
                        .files
                        .get_key_value(path)
                        .map(|(k, _)| k.as_str())
                        .unwrap_or(""),
                );
                (path.as_str(), d)
            }
            Found::Equivalent(other, d) => {
                if d.digests.get(&a) == Some(want) {
                    r.manifest_warn(
                        path,
                        format!(
                            "listed in {} but present only as {other:?} (same name on case-insensitive or \
                             normalising file systems); checksum matches",
                            m.name
                        ),
                    );
                    covered.insert(other);
                    continue;
                }
                (other, d)
            }
            Found::Missing => {
                if fetch.contains(path) {
                    r.manifest_err(
                        path,
                        format!(
                            "listed in {} and fetch.txt but not fetched: the bag is not complete",
                            m.name
                        ),
                    );
                } else if is_system_file(path) && is_empty_digest(a, want) {
                    r.manifest_warn(
                        path,
                        format!(
                            "empty operating-system metadata file listed in {} is missing",
                            m.name
                        ),
                    );
                    tolerated_missing.insert(path.clone());
                } else {
                    r.manifest_err(path, format!("listed in {} but missing", m.name));
                }
                continue;
            }
        };
        match got.digests.get(&a) {
            None => r.err(present, format!("{a} digest not computed by the caller")),
            Some(have) if have != want => r.manifest_err(
                present,
                format!(
                    "{a} checksum mismatch: {} says {want}, file has {have}",
                    m.name
                ),
            ),
            Some(_) => {}
        }
    }
}
