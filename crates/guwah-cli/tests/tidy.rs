//! Docs that cannot drift (rust-analyzer's `tidy` is the model): the code
//! map in ARCHITECTURE.md names every crate and every top-level module of
//! each crate, and the format docs name no version marker, SQL table,
//! column or metadata field that the code does not have.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// All the Rust source of the workspace's crates, concatenated.
fn all_source() -> String {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    files
        .iter()
        .map(|p| fs::read_to_string(p).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn crates() -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(root().join("crates"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The top-level modules of a crate: `src/NAME.rs` and `src/NAME/`, less
/// the roots and test-only modules.
fn modules(krate: &str) -> Vec<String> {
    let src = root().join("crates").join(krate).join("src");
    let mut v: Vec<String> = fs::read_dir(&src)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            let name = p.file_stem()?.to_string_lossy().into_owned();
            let is_mod = p.is_dir() && p.join("mod.rs").is_file()
                || p.extension().is_some_and(|x| x == "rs");
            (is_mod && !["lib", "main", "tests"].contains(&name.as_str())).then_some(name)
        })
        .collect();
    v.sort();
    v
}

/// The code map: the text of the "## Code map" section.
fn code_map(arch: &str) -> &str {
    let map = arch
        .split("## Code map")
        .nth(1)
        .expect("ARCHITECTURE.md has a \"## Code map\" section");
    map.split("\n## ").next().unwrap_or(map)
}

/// The bullets of the code map, each joined into one line.
fn bullets(map: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in map.lines() {
        if let Some(rest) = line.strip_prefix("- ") {
            out.push(rest.to_owned());
        } else if line.trim().is_empty() {
            out.push(String::new());
        } else if let Some(last) = out.last_mut() {
            last.push(' ');
            last.push_str(line.trim());
        }
    }
    out.retain(|b| !b.is_empty());
    out
}

/// The words inside backticks of the code-map bullets about `crates/KRATE`,
/// and the module names of `KRATE/src/NAME` paths anywhere in the map.
fn code_map_words(arch: &str, krate: &str) -> BTreeSet<String> {
    let map = code_map(arch);
    let mut words = BTreeSet::new();
    for b in bullets(map) {
        let about = is_about(&b, krate);
        let spans = b.split('`').skip(1).step_by(2);
        for span in spans {
            let path = format!("{krate}/src/");
            if let Some(i) = span.find(&path) {
                words.extend(
                    span[i + path.len()..]
                        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .filter(|w| !w.is_empty() && *w != "rs")
                        .map(str::to_owned),
                );
            }
            if about {
                words.extend(
                    span.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .filter(|w| !w.is_empty())
                        .map(str::to_owned),
                );
            }
        }
    }
    words
}

/// Whether the code map has a bullet about `crates/KRATE`.
fn has_bullet(arch: &str, krate: &str) -> bool {
    bullets(code_map(arch)).iter().any(|b| is_about(b, krate))
}

/// Whether a bullet is about `crates/KRATE`: its head (before the dash)
/// names it.
fn is_about(bullet: &str, krate: &str) -> bool {
    let head = bullet.split(" — ").next().unwrap_or(bullet);
    head.contains(&format!("`crates/{krate}`")) || head.contains(&format!("`crates/{krate}/"))
}

#[test]
fn the_code_map_names_every_crate_and_module() {
    let arch = read("ARCHITECTURE.md");
    let mut missing = Vec::new();
    for krate in crates() {
        let words = code_map_words(&arch, &krate);
        if !has_bullet(&arch, &krate) {
            missing.push(format!(
                "crate {krate}: no `crates/{krate}` bullet in the code map"
            ));
            continue;
        }
        for m in modules(&krate) {
            if !words.contains(&m) {
                missing.push(format!(
                    "crates/{krate}/src/{m}: not named in its code-map bullet"
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's code map is out of date:\n  {}",
        missing.join("\n  ")
    );
}

/// The backticked `guwah/NAME/vN` markers in a doc.
fn version_markers(doc: &str) -> BTreeSet<String> {
    doc.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.trim_end_matches("\\n").to_owned())
        .filter(|s| {
            s.strip_prefix("guwah/").is_some_and(|rest| {
                rest.rsplit_once("/v").is_some_and(|(name, n)| {
                    !name.is_empty()
                        && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
                        && !n.is_empty()
                        && n.bytes().all(|b| b.is_ascii_digit())
                })
            })
        })
        .collect()
}

#[test]
fn every_version_marker_in_the_docs_is_in_the_code() {
    let source = all_source();
    let mut unknown = Vec::new();
    for doc in ["docs/format.md", "docs/package.md", "docs/metadata.md"] {
        for marker in version_markers(&read(doc)) {
            if !source.contains(&marker) {
                unknown.push(format!("{doc}: {marker}"));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "docs name versions the code does not have:\n  {}",
        unknown.join("\n  ")
    );
}

/// `(table, columns)` of every `CREATE TABLE name(col TYPE, ...)` in `text`,
/// and of the `name(col TYPE, ...)` table descriptions after "tables".
fn tables(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let flat: String = text
        .lines()
        .map(|l| l.split("--").next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join(" ");
    for part in flat.split("CREATE TABLE").skip(1) {
        let part = part
            .trim_start()
            .trim_start_matches("IF NOT EXISTS")
            .trim_start();
        let Some((name, rest)) = part.split_once('(') else {
            continue;
        };
        let body = rest.split(");").next().unwrap_or(rest);
        let cols = body
            .split(',')
            .filter_map(|c| {
                let w = c.split_whitespace().next()?;
                (w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                    && !["primary", "unique", "foreign", "check"].contains(&w))
                .then(|| w.to_owned())
            })
            .collect();
        out.push((name.trim().to_owned(), cols));
    }
    out
}

#[test]
fn the_index_schema_in_the_docs_is_the_codes() {
    let doc = read("docs/format.md");
    let code = read("crates/guwah-store/src/sqlite.rs");
    let code_tables = tables(&code);
    let mut doc_tables = tables(&doc);
    // The tables described in prose: `pdq(leaf_index INTEGER PRIMARY KEY, sealed BLOB)`.
    for span in doc.split('`').skip(1).step_by(2) {
        if let Some((name, rest)) = span.split_once('(')
            && name.bytes().all(|b| b.is_ascii_lowercase())
            && rest.contains("INTEGER")
        {
            doc_tables.extend(tables(&format!("CREATE TABLE {span};")));
        }
    }
    assert!(doc_tables.len() >= 4, "found {doc_tables:?}");
    for (name, cols) in &doc_tables {
        let Some((_, code_cols)) = code_tables.iter().find(|(n, _)| n == name) else {
            panic!("docs/format.md names the table {name:?}, which sqlite.rs does not create");
        };
        for c in cols {
            assert!(
                code_cols.contains(c),
                "docs/format.md: table {name} has no column {c:?} in sqlite.rs ({code_cols:?})"
            );
        }
    }
    let version = doc
        .split("schema version ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .expect("docs/format.md states the index schema version");
    assert!(
        code.contains(&format!("SCHEMA_VERSION: i64 = {version};")),
        "docs/format.md says index schema version {version}; sqlite.rs differs"
    );
}

#[test]
fn every_metadata_field_in_the_docs_is_written_by_the_code() {
    let doc = read("docs/metadata.md");
    let fields_table = doc
        .split("## Fields")
        .nth(1)
        .expect("docs/metadata.md has a Fields table");
    let fields_table = fields_table.split("\n## ").next().unwrap_or(fields_table);
    let mut media = Vec::new();
    rust_files(&root().join("crates/guwah-media/src"), &mut media);
    let source: String = media
        .iter()
        .map(|p| fs::read_to_string(p).unwrap())
        .collect();
    let mut unknown = Vec::new();
    let mut seen = 0;
    for row in fields_table.lines().filter(|l| l.starts_with("| `")) {
        let first = row.split('|').nth(1).unwrap_or_default();
        for name in first.split('`').skip(1).step_by(2) {
            seen += 1;
            // A field is written as a literal, as a group prefix and a
            // literal leaf (`"media.{}"` and `"encoder"`), or, for a
            // `<placeholder>`, as its literal prefix (`"png.text.`).
            let ok = if let Some((prefix, _)) = name.split_once('<') {
                source.contains(&format!("\"{prefix}"))
            } else {
                let (group, leaf) = name.split_once('.').unwrap_or(("", name));
                source.contains(&format!("\"{name}\""))
                    || (source.contains(&format!("\"{group}."))
                        && source.contains(&format!("\"{leaf}\"")))
            };
            if !ok {
                unknown.push(name.to_owned());
            }
        }
    }
    assert!(seen > 50, "read only {seen} fields from docs/metadata.md");
    assert!(
        unknown.is_empty(),
        "docs/metadata.md lists fields guwah-media never writes: {unknown:?}"
    );
}

/// The `crate::module` names a source file refers to (in `use` lines and paths).
fn crate_refs(source: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    let mut note = |word: &str| {
        let name: String = word
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if modules.contains(&name) {
            refs.insert(name);
        }
    };
    for (i, _) in source.match_indices("crate::") {
        let rest = &source[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::c, d};`: each top-level name of the group.
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for part in group.split(',') {
                note(part.trim());
            }
        } else {
            note(rest);
        }
    }
    refs
}

#[test]
fn the_cli_modules_form_a_tree_not_a_circle() {
    let src = root().join("crates/guwah-cli/src");
    let modules: BTreeSet<String> = modules("guwah-cli")
        .iter()
        .map(|m| m.rsplit('/').next().unwrap().to_string())
        .collect();
    let mut graph = std::collections::BTreeMap::new();
    for m in &modules {
        let text = fs::read_to_string(src.join(format!("{m}.rs"))).unwrap();
        let mut refs = crate_refs(&text, &modules);
        refs.remove(m);
        graph.insert(m.clone(), refs);
    }
    // Only `main` dispatches on the syntax; commands see `context`.
    let into_cli: Vec<&String> = graph
        .iter()
        .filter(|(m, r)| *m != "main" && r.contains("cli"))
        .map(|(m, _)| m)
        .collect();
    assert!(
        into_cli.is_empty(),
        "these modules import the command-line syntax (cli.rs) instead of context.rs: {into_cli:?}"
    );
    // No circle: repeatedly remove modules that import nothing left.
    let mut left = graph.clone();
    loop {
        let leaves: Vec<String> = left
            .iter()
            .filter(|(_, r)| r.iter().all(|x| !left.contains_key(x)))
            .map(|(m, _)| m.clone())
            .collect();
        if leaves.is_empty() {
            break;
        }
        for l in leaves {
            left.remove(&l);
        }
    }
    assert!(
        left.is_empty(),
        "the CLI's modules import each other in a circle: {left:?}"
    );
}

#[test]
fn commands_exit_through_the_exit_enum() {
    let src = root().join("crates/guwah-cli/src");
    let mut numeric = Vec::new();
    for e in fs::read_dir(&src).unwrap().flatten() {
        let p = e.path();
        let text = fs::read_to_string(&p).unwrap();
        for (n, line) in text.lines().enumerate() {
            let l = line.trim();
            let literal = [
                "Ok(0)", "Ok(1)", "Ok(2)", "Ok(3)", "Ok(5)", "Ok(7)", "code: ",
            ]
            .iter()
            .any(|pat| l.contains(pat));
            if literal && !l.starts_with("//") && !l.contains("Ok(0) =>") {
                numeric.push(format!("{}:{}: {l}", p.display(), n + 1));
            }
        }
    }
    assert!(
        numeric.is_empty(),
        "numeric exit codes outside context.rs's Exit:\n{}",
        numeric.join("\n")
    );
}
