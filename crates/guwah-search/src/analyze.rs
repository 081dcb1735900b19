//! Text into the terms of each field.
//!
//! - `words`: every word folded (`fold`), and Chinese as its characters
//!   and overlapping pairs of characters (bigrams: the usual way to search
//!   Chinese without a dictionary; a query's pairs must all be there, in
//!   any order a phrase would also allow).
//! - `prefix`: every prefix of 2 characters or more (after the hamza carrier is dropped) of each Uyghur word, so
//!   that a stem finds its suffixed forms (`لاگېر` finds `لاگېرغا`,
//!   `لاگېرلاردا`): Uyghur is agglutinative, and edge n-grams need no
//!   dictionary of suffixes.
//! - `en`, `fr`: Latin words stemmed by Snowball (English, French).

use tantivy::tokenizer::{Language, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer};

use crate::fold::{Script, fold_word, script_of};

/// The shortest Uyghur prefix indexed.
pub const MIN_PREFIX: usize = 2;

/// A run of one script in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Folded.
    pub text: String,
    /// Its script.
    pub script: Script,
}

/// The words of `text`, folded, in order. A Chinese run is one word.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut script: Option<Script> = None;
    let mut flush = |current: &mut String, script: Option<Script>| {
        if let Some(s) = script
            && !current.is_empty()
        {
            let text = fold_word(current, s);
            if !text.is_empty() {
                out.push(Word { text, script: s });
            }
        }
        current.clear();
    };
    for c in text.chars() {
        match script_of(c) {
            None => {
                flush(&mut current, script);
                script = None;
            }
            Some(s) => {
                // Marks and joiners (`Other`) stay with the word they are in.
                let same = script == Some(s)
                    || (s == Script::Other && script.is_some() && !c.is_alphanumeric());
                if !same && script.is_some() {
                    flush(&mut current, script);
                }
                if !same || script.is_none() {
                    script = Some(s);
                }
                current.push(c);
            }
        }
    }
    flush(&mut current, script);
    out
}

/// Characters and bigrams of a Chinese run.
pub fn han_terms(run: &str) -> Vec<String> {
    let chars: Vec<char> = run.chars().collect();
    let mut out: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
    out.extend(chars.windows(2).map(|w| w.iter().collect()));
    out
}

/// The terms a query word looks for in `words`: itself, or for Chinese its
/// bigrams (a single character: itself).
pub fn query_terms(w: &Word) -> Vec<String> {
    if w.script == Script::Han {
        let chars: Vec<char> = w.text.chars().collect();
        if chars.len() == 1 {
            return vec![w.text.clone()];
        }
        return chars.windows(2).map(|p| p.iter().collect()).collect();
    }
    vec![w.text.clone()]
}

/// Which field's terms a tokenizer makes.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    /// Folded words, Chinese characters and bigrams.
    Words,
    /// Prefixes of Uyghur words.
    Prefix,
    /// Latin words only (for a stemmer after it).
    Latin,
}

/// A tantivy tokenizer for one field.
#[derive(Debug, Clone)]
pub struct GuwahTokenizer(pub Field);

/// Tokens made up front (our texts are notes and names, not books).
pub struct Tokens {
    tokens: Vec<Token>,
    at: usize,
}

impl TokenStream for Tokens {
    fn advance(&mut self) -> bool {
        self.at += 1;
        self.at <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.at - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.at - 1]
    }
}

impl Tokenizer for GuwahTokenizer {
    type TokenStream<'a> = Tokens;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens {
        let mut terms: Vec<String> = Vec::new();
        for w in words(text) {
            match (self.0, w.script) {
                (Field::Words, Script::Han) => terms.extend(han_terms(&w.text)),
                (Field::Words, _) => terms.push(w.text),
                (Field::Prefix, Script::Arabic) => {
                    let chars: Vec<char> = w.text.chars().collect();
                    for n in MIN_PREFIX..=chars.len() {
                        terms.push(chars[..n].iter().collect());
                    }
                }
                (Field::Latin, Script::Latin) => terms.push(w.text),
                _ => {}
            }
        }
        let tokens = terms
            .into_iter()
            .enumerate()
            .map(|(position, text)| Token {
                offset_from: 0,
                offset_to: 0,
                position,
                text,
                position_length: 1,
            })
            .collect();
        Tokens { tokens, at: 0 }
    }
}

/// The analyzer of each field, by the name the schema uses.
pub fn analyzers() -> Vec<(&'static str, TextAnalyzer)> {
    vec![
        (
            "guwah_words",
            TextAnalyzer::from(GuwahTokenizer(Field::Words)),
        ),
        (
            "guwah_prefix",
            TextAnalyzer::from(GuwahTokenizer(Field::Prefix)),
        ),
        (
            "guwah_en",
            TextAnalyzer::builder(GuwahTokenizer(Field::Latin))
                .filter(Stemmer::new(Language::English))
                .build(),
        ),
        (
            "guwah_fr",
            TextAnalyzer::builder(GuwahTokenizer(Field::Latin))
                .filter(Stemmer::new(Language::French))
                .build(),
        ),
    ]
}

/// The one term `analyzer` makes of a single folded Latin word.
pub fn stem(analyzer: &mut TextAnalyzer, word: &str) -> Option<String> {
    let mut stream = analyzer.token_stream(word);
    stream.advance().then(|| stream.token().text.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_split_into_words() {
        let w =
            words("ئۇلار مېنى لاگېرغا ئېلىپ باردى. 他们把我带到了集中營。 They took me, à l’école!");
        let texts: Vec<&str> = w.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "ۇلار",
                "مېنى",
                "لاگېرغا",
                "ېلىپ",
                "باردى",
                "他们把我带到了集中营",
                "they",
                "took",
                "me",
                "a",
                "l",
                "ecole"
            ]
        );
        assert_eq!(w[5].script, Script::Han);
    }

    #[test]
    fn han_bigrams() {
        assert_eq!(han_terms("集中营"), ["集", "中", "营", "集中", "中营"]);
        let q = query_terms(&Word {
            text: "集中营".into(),
            script: Script::Han,
        });
        assert_eq!(q, ["集中", "中营"]);
    }
}
