//! Relevance in each language: for every query of `relevance/cases.txt`,
//! the documents it must find come first, and nothing else matches that is
//! not allowed.

use std::collections::BTreeSet;

use guwah_search::{Doc, SearchIndex};

#[test]
fn each_language_finds_what_it_must_first() {
    let cases = include_str!("relevance/cases.txt");
    let index = SearchIndex::new().unwrap();
    let mut docs = Vec::new();
    let mut failures = Vec::new();
    let mut queries = 0;
    for line in cases.lines() {
        if let Some(rest) = line.strip_prefix("doc ") {
            let (key, text) = rest.split_once(' ').unwrap();
            docs.push(Doc {
                key: key.parse().unwrap(),
                texts: vec![text.to_owned()],
            });
        }
    }
    index.add(docs).unwrap();
    for line in cases.lines() {
        let Some(rest) = line.strip_prefix("query ") else {
            continue;
        };
        queries += 1;
        let (lang, rest) = rest.split_once(' ').unwrap();
        let (query, want) = rest.split_once(" => ").unwrap();
        let (want, extra) = want.split_once(" | ").unwrap_or((want, ""));
        let keys = |s: &str| -> BTreeSet<u64> {
            s.split_whitespace().map(|k| k.parse().unwrap()).collect()
        };
        let (want, extra) = (keys(want), keys(extra));
        let hits = index.search(query, 50).unwrap();
        let first: BTreeSet<u64> = hits.iter().take(want.len()).map(|h| h.key).collect();
        let rest: BTreeSet<u64> = hits.iter().skip(want.len()).map(|h| h.key).collect();
        if first != want || !rest.is_subset(&extra) {
            failures.push(format!(
                "{lang} {query:?}: want {want:?} first (extras allowed {extra:?}), got {:?}",
                hits.iter().map(|h| (h.key, h.score)).collect::<Vec<_>>()
            ));
        }
    }
    assert!(queries >= 20);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
