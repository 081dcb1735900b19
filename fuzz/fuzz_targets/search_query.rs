//! Fuzzes what a searcher types and what a browser sends: a search query
//! (folding, segmentation, Chinese pairs, stems) over a small index, and
//! `Accept-Language`. Nothing may panic; a search answers at most its
//! limit, and every language tag chosen is one of ours.
#![no_main]

use std::sync::OnceLock;

use guwah_search::{Doc, SearchIndex};

fn index() -> &'static SearchIndex {
    static INDEX: OnceLock<SearchIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let index = SearchIndex::new().expect("an index in memory");
        index
            .add([
                Doc { key: 1, texts: vec!["ئۇلار مېنى لاگېرغا ئېلىپ باردى".into()] },
                Doc { key: 2, texts: vec!["他们把我带到了集中營".into()] },
                Doc { key: 3, texts: vec!["They took me to the camp; l’école".into()] },
            ])
            .expect("indexed");
        index
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let hits = index().search(&text, 2).expect("a search never fails");
    assert!(hits.len() <= 2);
    for script in [guwah_search::Script::Arabic, guwah_search::Script::Latin, guwah_search::Script::Han] {
        let _ = guwah_search::fold_word(&text, script);
    }
    if let Some(lang) = guwah_i18n::Lang::from_accept_language(&text) {
        assert!(guwah_i18n::Lang::ALL.contains(&lang));
    }
});
