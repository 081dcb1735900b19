//! Text from outside (manifest paths, file names, chat messages, metadata,
//! errors that quote them) made safe to print on a terminal.
//!
//! A bag's manifest can name a file `x\e[8m`: printed raw, the escape
//! sequence hides the verdict line that follows; a CR LF forges lines; a
//! right-to-left override reverses what a reader sees. Every such character
//! is shown as an escape instead, so what is printed is what is there.
//! JSON output is not passed through here: serde escapes control
//! characters, and scripts get the exact strings.

use std::borrow::Cow;

/// `writeln!` into a `String` for one line of text, with [`safe`] applied
/// to the whole line: `outln!(out, "{status} {}", name)`.
macro_rules! outln {
    ($out:expr, $($arg:tt)*) => {{
        $out.push_str(&$crate::term::safe(&format!($($arg)*)));
        $out.push('\n');
    }};
}
pub(crate) use outln;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal raw: control characters (C0,
/// DEL, C1), bidirectional embeddings, overrides and isolates (which
/// reorder the text around them), and the Unicode line and paragraph
/// separators. The bidi *marks* (U+200E, U+200F, U+061C) stay: they only
/// settle the direction of neighbouring punctuation, and Uyghur and Arabic
/// text, and WhatsApp's own exports, use them.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `s` with every character of [`needs_escape`] written as `\n`, `\r`,
/// `\t` or `\u{XXXX}`; borrowed unchanged when there is none.
pub fn safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`safe`] for a path (lossy for names that are not UTF-8).
pub fn path(p: &std::path::Path) -> String {
    safe(&p.to_string_lossy()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_escaped() {
        assert_eq!(safe("data/photo.jpg"), "data/photo.jpg");
        assert!(matches!(safe("plain ئۇيغۇرچە 中文"), Cow::Borrowed(_)));
        assert_eq!(safe("a\u{1b}[8mb"), "a\\u{001b}[8mb");
        assert_eq!(safe("x\r\nOK: forged"), "x\\r\\nOK: forged");
        assert_eq!(safe("evil\u{202E}gpj.exe"), "evil\\u{202e}gpj.exe");
        assert_eq!(safe("\u{9b}31m"), "\\u{009b}31m", "C1 CSI");
        assert_eq!(safe("tab\there\u{7f}"), "tab\\there\\u{007f}");
        assert_eq!(safe("\u{2066}iso\u{2069}"), "\\u{2066}iso\\u{2069}");
        assert_eq!(
            safe("\u{200e}<attached: x.jpg>"),
            "\u{200e}<attached: x.jpg>"
        );
    }
}
