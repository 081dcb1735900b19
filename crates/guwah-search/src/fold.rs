//! Words as they are compared: the spellings a keyboard, an OCR engine or
//! an old encoding give the same word are made one.
//!
//! Every word goes through NFKC (which also turns Arabic presentation
//! forms, the shapes old Uyghur fonts stored, back into letters) and
//! lowercasing. Then, by script:
//!
//! - **Arabic script (Uyghur)**: the hamza carrier `ئ` and lone hamzas,
//!   tatweel, vowel marks and joiners are dropped (writers and OCR put the
//!   carrier in or leave it out); Persian and Arabic look-alikes become the
//!   Uyghur letter (`ی ي` → `ى`, `ک` → `ك`, `أ إ آ` → `ا`, `ؤ` → `و`), and
//!   the Arabic heh `ه`, which keyboards type for both, becomes `ە` at the
//!   end of a word and `ھ` inside it.
//! - **Latin script**: accents are dropped (`élève` → `eleve`), so French
//!   typed without them still matches.
//! - **Han**: Traditional characters become Simplified.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// What a word is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// Arabic script: Uyghur (and the occasional Arabic or Persian word).
    Arabic,
    /// Latin script: English, French, Uyghur Latin (ULY), numbers.
    Latin,
    /// Chinese characters.
    Han,
    /// Anything else (Cyrillic, …): kept as it is written.
    Other,
}

/// The script of one character, `None` for what separates words.
pub fn script_of(c: char) -> Option<Script> {
    let u = c as u32;
    if is_han(c) {
        Some(Script::Han)
    } else if (0x0600..=0x06FF).contains(&u)
        || (0x0750..=0x077F).contains(&u)
        || (0xFB50..=0xFDFF).contains(&u)
        || (0xFE70..=0xFEFF).contains(&u)
    {
        // Arabic punctuation is not part of a word.
        match c {
            '\u{060C}' | '\u{061B}' | '\u{061F}' | '\u{06D4}' | '\u{066A}'..='\u{066D}' => None,
            _ => Some(Script::Arabic),
        }
    } else if c.is_ascii_alphanumeric() {
        Some(Script::Latin)
    } else if c.is_alphanumeric() {
        // Latin letters with accents are Latin; the rest is "other".
        if u < 0x0250 || (0x1E00..=0x1EFF).contains(&u) {
            Some(Script::Latin)
        } else {
            Some(Script::Other)
        }
    } else if is_combining_mark(c) || c == '\u{200C}' || c == '\u{200D}' {
        // Marks and joiners belong to the word they are in.
        Some(Script::Other)
    } else {
        None
    }
}

fn is_han(c: char) -> bool {
    let u = c as u32;
    (0x4E00..=0x9FFF).contains(&u)
        || (0x3400..=0x4DBF).contains(&u)
        || (0x20000..=0x2A6DF).contains(&u)
        || (0xF900..=0xFAFF).contains(&u)
}

/// A word folded for comparison (see the module's documentation).
pub fn fold_word(word: &str, script: Script) -> String {
    let nfkc: String = word.nfkc().flat_map(char::to_lowercase).collect();
    match script {
        Script::Arabic => fold_uyghur(&nfkc),
        Script::Latin => nfkc.nfd().filter(|c| !is_combining_mark(*c)).collect(),
        Script::Han => fast2s::convert(&nfkc),
        Script::Other => nfkc,
    }
}

fn fold_uyghur(word: &str) -> String {
    let letters: Vec<char> = word
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{0626}' | '\u{0621}' | '\u{0654}' | '\u{0655}' | '\u{0640}' | '\u{0670}'
                    | '\u{064B}'..='\u{065F}'
                    | '\u{200C}'..='\u{200F}'
                    | '\u{061C}'
            )
        })
        .collect();
    let mut out = String::with_capacity(word.len());
    for (i, c) in letters.iter().enumerate() {
        let last = i + 1 == letters.len();
        out.push(match c {
            '\u{06CC}' | '\u{064A}' | '\u{06D2}' => '\u{0649}',
            '\u{06A9}' | '\u{06AA}' => '\u{0643}',
            '\u{0623}' | '\u{0625}' | '\u{0622}' => '\u{0627}',
            '\u{0624}' => '\u{0648}',
            '\u{0647}' | '\u{06C1}' | '\u{06C2}' if last => '\u{06D5}',
            '\u{0647}' | '\u{06C1}' | '\u{06C2}' => '\u{06BE}',
            other => *other,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uyghur_variants_fold_together() {
        let a = |s| fold_word(s, Script::Arabic);
        // With and without the hamza carrier.
        assert_eq!(a("ئۇيغۇر"), a("ۇيغۇر"));
        // Presentation forms (as old fonts stored them) and letters.
        assert_eq!(a("\u{FEE3}\u{FEE8}"), a("من"));
        // Persian yeh and keheh for the Uyghur letters.
        assert_eq!(a("كىشى"), a("کیشی"));
        // Arabic heh for ھ inside a word and for ە at its end.
        assert_eq!(a("ھەممە"), a("ھەممه"));
        assert_eq!(a("ھازىر"), a("هازىر"));
        // Tatweel and a zero-width non-joiner change nothing.
        assert_eq!(a("لاگـېر"), a("لاگ\u{200C}ېر"));
        assert_eq!(a("لاگـېر"), a("لاگېر"));
    }

    #[test]
    fn latin_and_han() {
        assert_eq!(fold_word("Élève", Script::Latin), "eleve");
        assert_eq!(fold_word("集中營", Script::Han), "集中营");
        assert_eq!(fold_word("ＣＡＭＰ", Script::Latin), "camp");
    }
}
