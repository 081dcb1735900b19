//! The index: tantivy in memory (a `RamDirectory`), so no word of the
//! private text it holds is ever written to a file; it is rebuilt from
//! the vault's encrypted index when the server starts.

use std::sync::Mutex;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::analyze::{analyzers, query_terms, stem, words};
use crate::fold::Script;

/// Why the index failed (tantivy's own errors: memory, a bug).
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// tantivy refused.
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
}

/// One searchable thing: an item's key and its texts.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    /// The caller's key (guwah: the item's leaf index).
    pub key: u64,
    /// Every text to search, in any of the languages.
    pub texts: Vec<String>,
}

/// A hit, best first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// The document's key.
    pub key: u64,
    /// Its BM25 score.
    pub score: f32,
}

struct Fields {
    key: Field,
    words: Field,
    prefix: Field,
    en: Field,
    fr: Field,
}

/// How much each field's match counts: the word as written above its
/// stem, a Uyghur prefix least.
const BOOST_WORD: f32 = 3.0;
const BOOST_STEM: f32 = 1.5;
const BOOST_PREFIX: f32 = 1.0;

/// A full-text index over documents in four languages, in memory.
pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    en: Mutex<TextAnalyzer>,
    fr: Mutex<TextAnalyzer>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

fn text_field(schema: &mut tantivy::schema::SchemaBuilder, name: &str, analyzer: &str) -> Field {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(analyzer)
        .set_index_option(IndexRecordOption::WithFreqs);
    schema.add_text_field(name, TextOptions::default().set_indexing_options(indexing))
}

impl SearchIndex {
    /// An empty index.
    pub fn new() -> Result<SearchIndex, SearchError> {
        let mut schema = Schema::builder();
        let key = schema.add_u64_field("key", INDEXED | FAST);
        let fields = Fields {
            key,
            words: text_field(&mut schema, "words", "guwah_words"),
            prefix: text_field(&mut schema, "prefix", "guwah_prefix"),
            en: text_field(&mut schema, "en", "guwah_en"),
            fr: text_field(&mut schema, "fr", "guwah_fr"),
        };
        let index = Index::create_in_ram(schema.build());
        let mut en = None;
        let mut fr = None;
        for (name, analyzer) in analyzers() {
            match name {
                "guwah_en" => en = Some(analyzer.clone()),
                "guwah_fr" => fr = Some(analyzer.clone()),
                _ => {}
            }
            index.tokenizers().register(name, analyzer);
        }
        // A thread per core (at most 4): the whole index is built at the
        // server's start, before it answers anything; later additions are
        // a few items at a time. 40 MB a thread holds ~50,000 notes.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let writer = index.writer_with_num_threads(threads, threads * 40_000_000)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            reader,
            writer: Mutex::new(writer),
            fields,
            en: Mutex::new(en.expect("an English analyzer")),
            fr: Mutex::new(fr.expect("a French analyzer")),
        })
    }

    /// Add `docs` and make them searchable.
    pub fn add(&self, docs: impl IntoIterator<Item = Doc>) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        for d in docs {
            let mut doc = TantivyDocument::default();
            doc.add_u64(self.fields.key, d.key);
            for t in &d.texts {
                for f in [
                    self.fields.words,
                    self.fields.prefix,
                    self.fields.en,
                    self.fields.fr,
                ] {
                    doc.add_text(f, t);
                }
            }
            writer.add_document(doc)?;
        }
        writer.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// How many documents are searchable.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The query for `text`: every word must match, as written, by its
    /// stem (English, French), as the start of a Uyghur word, or (Chinese)
    /// by all of its character pairs.
    fn query(&self, text: &str) -> Option<Box<dyn Query>> {
        let f = &self.fields;
        let term = |field: Field, t: &str, boost: f32| -> Box<dyn Query> {
            Box::new(BoostQuery::new(
                Box::new(TermQuery::new(
                    Term::from_field_text(field, t),
                    IndexRecordOption::WithFreqs,
                )),
                boost,
            ))
        };
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in words(text).into_iter().take(32) {
            let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            match w.script {
                Script::Han => {
                    let pairs: Vec<(Occur, Box<dyn Query>)> = query_terms(&w)
                        .iter()
                        .map(|t| (Occur::Must, term(f.words, t, BOOST_WORD)))
                        .collect();
                    any.push((Occur::Should, Box::new(BooleanQuery::new(pairs))));
                }
                Script::Arabic => {
                    any.push((Occur::Should, term(f.words, &w.text, BOOST_WORD)));
                    if w.text.chars().count() >= crate::analyze::MIN_PREFIX {
                        any.push((Occur::Should, term(f.prefix, &w.text, BOOST_PREFIX)));
                    }
                }
                Script::Latin => {
                    any.push((Occur::Should, term(f.words, &w.text, BOOST_WORD)));
                    for (field, analyzer) in [(f.en, &self.en), (f.fr, &self.fr)] {
                        let mut a = analyzer.lock().unwrap_or_else(|p| p.into_inner());
                        if let Some(s) = stem(&mut a, &w.text) {
                            any.push((Occur::Should, term(field, &s, BOOST_STEM)));
                        }
                    }
                }
                Script::Other => any.push((Occur::Should, term(f.words, &w.text, BOOST_WORD))),
            }
            must.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        (!must.is_empty()).then(|| Box::new(BooleanQuery::new(must)) as Box<dyn Query>)
    }

    /// The documents matching `text`, best first, at most `limit`; ties in
    /// the order they were added.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        let Some(query) = self.query(text) else {
            return Ok(Vec::new());
        };
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())?;
        // Keys from the fast field (a column), not the document store:
        // a common word can match most of the index.
        let mut columns = std::collections::HashMap::new();
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let column = match columns.entry(addr.segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(
                    searcher
                        .segment_reader(addr.segment_ord)
                        .fast_fields()
                        .u64("key")?,
                ),
            };
            if let Some(key) = column.first(addr.doc_id) {
                hits.push(Hit { key, score });
            }
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.key.cmp(&b.key)));
        Ok(hits)
    }
}
