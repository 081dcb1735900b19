//! [`validate`]: a whole bag, checked.

use std::collections::{BTreeMap, BTreeSet};

use super::declaration::check_declaration;
use super::info::{check_bag_info, parse_bag_info_into};
use super::manifest::{check_entries, clean_path, parse_manifest};
use super::report::{BagReport, IssueKind, issue};
use super::text::{decode_text, fold, is_system_file, lines, path_problem};
use super::{Algorithm, BagFiles, is_parsed_tag_file, manifest_names};

/// Checks a whole bag: its declaration, every manifest, `bag-info.txt`,
/// `fetch.txt`, and every file's presence and digests. Never panics.
pub fn validate(files: &BagFiles) -> BagReport {
    let mut r = BagReport::default();
    if !files.has_payload_dir() {
        r.err(
            "data/",
            "missing: every bag must have a payload directory named data (RFC 8493 §2.1.2)",
        );
    }
    let Some(decl) = check_declaration(files, &mut r) else {
        return r;
    };
    let v1 = decl.version >= (1, 0);
    let enc = decl.encoding.clone();
    let text_of = |name: &str, r: &mut BagReport| -> Option<String> {
        let bytes = files.tag_contents.get(name)?;
        match decode_text(bytes, &enc) {
            Ok(t) => Some(t),
            Err(e) => {
                if name.contains("manifest-") {
                    r.manifest_err(name, e)
                } else {
                    r.err(name, e)
                }
                None
            }
        }
    };

    // Files present, with their case/normalisation-folded names.
    let mut folded: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in files.files.keys() {
        folded.entry(fold(p)).or_default().push(p.clone());
        if is_parsed_tag_file(p) && !files.tag_contents.contains_key(p) {
            r.err(p, "tag file contents not provided to the validator");
        }
        if let Some(why) = path_problem(p) {
            r.err(p, format!("unsafe file name: {why}"));
        }
        if p.starts_with("data/") && is_system_file(p) {
            r.warn(p, "operating-system metadata file in the payload");
        }
    }

    // Manifests.
    let mut payload = Vec::new();
    let mut tag = Vec::new();
    let mut unsupported_payload = Vec::new();
    for (is_tag, alg, name) in manifest_names(&files.tag_contents) {
        let Some(a) = Algorithm::from_name(&alg) else {
            if !is_tag {
                unsupported_payload.push(name.clone());
            }
            r.manifest_warn(
                &name,
                format!("unsupported checksum algorithm {alg:?}: not checked"),
            );
            continue;
        };
        let Some(text) = text_of(&name, &mut r) else {
            continue;
        };
        let m = parse_manifest(&name, a, &text, !is_tag, v1, &mut r);
        if is_tag { tag.push(m) } else { payload.push(m) }
    }
    if payload.is_empty() && !unsupported_payload.is_empty() {
        // Not proof of anything wrong: guwah just cannot check it.
        r.uncheckable = Some(issue(
            IssueKind::Bag,
            ".",
            format!(
                "cannot check the payload: its only payload manifests ({}) use algorithms guwah does not implement (supported: {})",
                unsupported_payload.join(", "),
                Algorithm::ALL.map(Algorithm::name).join(", ")
            ),
        ));
    } else if payload.is_empty() {
        r.manifest_err(
            ".",
            "no payload manifest (manifest-<algorithm>.txt) with a supported algorithm",
        );
    }

    // fetch.txt
    let mut fetch: BTreeSet<String> = BTreeSet::new();
    if let Some(text) = text_of("fetch.txt", &mut r) {
        for (n, line) in lines(&text).into_iter().enumerate() {
            let n = n + 1;
            if line.trim().is_empty() {
                continue;
            }
            let mut parts = line.splitn(3, [' ', '\t']);
            let (Some(url), Some(len), Some(raw)) = (parts.next(), parts.next(), parts.next())
            else {
                r.err("fetch.txt", format!("line {n}: not 'url length filepath'"));
                continue;
            };
            if url.is_empty() || (len != "-" && len.parse::<u64>().is_err()) {
                r.err("fetch.txt", format!("line {n}: not 'url length filepath'"));
                continue;
            }
            let Some(p) = clean_path(raw.trim_start_matches([' ', '\t']), "fetch.txt", n, &mut r)
            else {
                continue;
            };
            if !p.starts_with("data/") {
                r.err("fetch.txt", format!("line {n}: {p:?} is outside data/"));
                continue;
            }
            if !payload.iter().any(|m| m.entries.contains_key(&p)) && !payload.is_empty() {
                r.err(
                    "fetch.txt",
                    format!("line {n}: {p:?} is not listed in the payload manifests"),
                );
            }
            fetch.insert(p);
        }
    }

    // Payload manifests: every listed file present with the right digest,
    // every payload file listed. Files tolerated as missing count for the Oxum.
    let mut tolerated_missing: BTreeSet<String> = BTreeSet::new();
    for m in &payload {
        let mut covered: BTreeSet<&str> = BTreeSet::new();
        check_entries(
            files,
            &folded,
            m,
            &fetch,
            &mut covered,
            &mut tolerated_missing,
            &mut r,
        );
        for p in files.files.keys().filter(|p| p.starts_with("data/")) {
            if !covered.contains(p.as_str()) {
                r.manifest_err(p, format!("payload file not listed in {}", m.name));
            }
        }
    }

    // Tag manifests.
    for m in &tag {
        let mut covered = BTreeSet::new();
        let mut ignored = BTreeSet::new();
        check_entries(
            files,
            &folded,
            m,
            &BTreeSet::new(),
            &mut covered,
            &mut ignored,
            &mut r,
        );
        for p in &payload {
            if !m.entries.contains_key(&p.name) {
                let what = format!("does not list the payload manifest {}", p.name);
                if v1 {
                    r.manifest_err(&m.name, what)
                } else {
                    r.manifest_warn(&m.name, what)
                }
            }
        }
        for listed in m.entries.keys() {
            if listed.starts_with("tagmanifest-") && !listed.contains('/') {
                r.manifest_warn(&m.name, format!("lists another tag manifest, {listed}"));
            }
        }
    }

    // bag-info.txt
    if let Some(text) = text_of("bag-info.txt", &mut r) {
        r.info = parse_bag_info_into(&text, &mut r);
        check_bag_info(files, &tolerated_missing, &mut r);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bag::{FileDigest, IssueKind, MultiHasher, bagit_txt, manifest_text};

    fn bag_of(payload: &[u8], listed: &[u8]) -> BagFiles {
        let algs = [Algorithm::Sha256];
        let digest = |b: &[u8]| MultiHasher::digest(&algs, b);
        let mut files = BagFiles::default();
        let tag = |f: &mut BagFiles, name: &str, bytes: Vec<u8>| {
            f.files.insert(name.into(), digest(&bytes));
            f.tag_contents.insert(name.into(), bytes);
        };
        tag(&mut files, "bagit.txt", bagit_txt().as_bytes().to_vec());
        let listed: FileDigest = digest(listed);
        let manifest = manifest_text(
            Algorithm::Sha256,
            &[("data/x", listed.digests[&Algorithm::Sha256].as_str())],
        );
        tag(&mut files, "manifest-sha256.txt", manifest.into_bytes());
        files.files.insert("data/x".into(), digest(payload));
        files
    }

    #[test]
    fn issues_say_whether_a_manifest_is_concerned() {
        assert!(validate(&bag_of(b"x", b"x")).is_valid());
        let r = validate(&bag_of(b"x", b"y"));
        let kinds: Vec<(IssueKind, &str)> =
            r.errors.iter().map(|i| (i.kind, i.path.as_str())).collect();
        assert_eq!(kinds, [(IssueKind::Manifest, "data/x")], "{:?}", r.errors);
        let mut no_decl = bag_of(b"x", b"x");
        no_decl.tag_contents.remove("bagit.txt");
        let r = validate(&no_decl);
        assert_eq!(r.errors[0].kind, IssueKind::Bag, "{:?}", r.errors);
        let mut unlisted = bag_of(b"x", b"x");
        unlisted
            .files
            .insert("data/extra".into(), FileDigest::default());
        let r = validate(&unlisted);
        assert!(
            r.errors
                .iter()
                .any(|i| i.kind == IssueKind::Manifest && i.path == "data/extra"),
            "{:?}",
            r.errors
        );
    }
}
