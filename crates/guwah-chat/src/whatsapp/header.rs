//! The date and time that start a WhatsApp message line, read as written:
//! three date numbers (their order is decided per export, in
//! [`super::order`]), an hour, minute and maybe second, maybe AM/PM.

/// Invisible direction and byte-order marks real exports put around dates
/// and names.
pub(super) fn is_mark(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

pub(super) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{a0}' | '\u{202f}' | '\u{2009}')
}

/// The value of a decimal digit in the scripts phones write dates in:
/// ASCII, Arabic-Indic (٠–٩), Extended Arabic-Indic / Persian (۰–۹) and
/// Devanagari (०–९).
fn digit(c: char) -> Option<u32> {
    let zero = match c {
        '0'..='9' => '0',
        '\u{660}'..='\u{669}' => '\u{660}',
        '\u{6f0}'..='\u{6f9}' => '\u{6f0}',
        '\u{966}'..='\u{96f}' => '\u{966}',
        _ => return None,
    };
    Some(c as u32 - zero as u32)
}

/// Day-period words after a 12-hour time, with whether they mean PM.
/// Longer spellings first, so "a. m." is not read as "a".
const AM_PM: &[(&str, bool)] = &[
    ("a. m.", false),
    ("p. m.", true),
    ("a.m.", false),
    ("p.m.", true),
    ("am", false),
    ("pm", true),
    // Arabic: صباحًا / مساءً, abbreviated.
    ("ص", false),
    ("م", true),
    // Persian: قبل‌ازظهر / بعدازظهر, abbreviated.
    ("ق.ظ.", false),
    ("ب.ظ.", true),
    ("ق.ظ", false),
    ("ب.ظ", true),
    // Hindi.
    ("पूर्वाह्न", false),
    ("अपराह्न", true),
];

/// The date and time that start a message line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header<'a> {
    /// The three numbers of the date, in the order written.
    pub(super) nums: [u32; 3],
    /// How many digits each of them had.
    pub(super) digits: [usize; 3],
    /// The date separator.
    pub(super) sep: char,
    pub(super) hour: u32,
    pub(super) minute: u32,
    pub(super) second: u32,
    /// `Some(true)` for PM, `Some(false)` for AM, `None` for a 24-hour clock.
    pub(super) pm: Option<bool>,
    /// Date and time as written.
    pub(super) time_text: &'a str,
    /// What follows the header: `Name: text` or a system line.
    pub(super) rest: &'a str,
}

struct Cur<'a> {
    s: &'a str,
    i: usize,
}

impl Cur<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.i..].chars().next()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += c.len_utf8();
        Some(c)
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.i += c.len_utf8();
            true
        } else {
            false
        }
    }
    fn eat_str(&mut self, s: &str) -> bool {
        if self.s[self.i..].starts_with(s) {
            self.i += s.len();
            true
        } else {
            false
        }
    }
    fn spaces(&mut self) -> usize {
        let mut n = 0;
        while self.peek().is_some_and(|c| is_space(c) || is_mark(c)) {
            self.bump();
            n += 1;
        }
        n
    }
    /// Direction marks only (Arabic exports put U+200F after numbers).
    fn marks(&mut self) {
        while self.peek().is_some_and(is_mark) {
            self.bump();
        }
    }
    /// 1 to `max` digits, all of one script.
    fn number(&mut self, max: usize) -> Option<(u32, usize)> {
        let first = self.peek()?;
        let zero = first as u32 - digit(first)?;
        let (mut value, mut n) = (0u32, 0usize);
        while let Some(c) = self.peek() {
            match digit(c) {
                Some(d) if c as u32 - d == zero => {
                    n += 1;
                    if n > max {
                        return None;
                    }
                    value = value * 10 + d;
                    self.bump();
                }
                _ => break,
            }
        }
        Some((value, n))
    }
    fn am_pm(&mut self) -> Option<bool> {
        let rest = &self.s[self.i..];
        for &(token, pm) in AM_PM {
            if rest.len() >= token.len()
                && rest.is_char_boundary(token.len())
                && rest[..token.len()].eq_ignore_ascii_case(token)
            {
                // Not the start of a longer word ("amazing", "مرحبا").
                let after = rest[token.len()..].chars().next();
                if after.is_some_and(char::is_alphanumeric) {
                    continue;
                }
                self.i += token.len();
                return Some(pm);
            }
        }
        None
    }
}

/// Parse the date and time a message line starts with.
pub(crate) fn header(line: &str) -> Option<Header<'_>> {
    let mut c = Cur { s: line, i: 0 };
    c.spaces();
    let bracketed = c.eat('[');
    c.spaces();
    let start = c.i;
    let (n1, d1) = c.number(4)?;
    c.marks();
    let sep = c.bump().filter(|s| matches!(s, '/' | '.' | '-'))?;
    c.marks();
    let (n2, d2) = c.number(2)?;
    c.marks();
    if !c.eat(sep) {
        return None;
    }
    c.marks();
    let (n3, d3) = c.number(4)?;
    // One year of 2 or 4 digits, at one end; the day and month 1 or 2.
    if !matches!((d1, d3), (4, 1 | 2) | (1 | 2, 4) | (1 | 2, 1 | 2)) {
        return None;
    }
    c.marks();
    c.eat('.');
    let comma = c.eat(',') || c.eat('،');
    if c.spaces() == 0 && !comma {
        return None;
    }
    // Finnish writes "31.12.2023 klo 18.00".
    if c.eat_str("klo") && c.spaces() == 0 {
        return None;
    }
    let (hour, _) = c.number(2)?;
    // "18:00" or, in several locales, "18.00".
    let tsep = c.bump().filter(|s| matches!(s, ':' | '.'))?;
    let (minute, dm) = c.number(2)?;
    let mut second = 0;
    let before_seconds = c.i;
    if c.eat(tsep) {
        match c.number(2) {
            Some((s, 2)) => second = s,
            // "18.00." ends a sentence; "18:00:" is not a time.
            _ if tsep == '.' => c.i = before_seconds,
            _ => return None,
        }
    }
    let before_ampm = c.i;
    c.spaces();
    let pm = c.am_pm();
    if pm.is_none() {
        c.i = before_ampm;
    }
    let end = c.i;
    if dm != 2 || minute > 59 || second > 59 {
        return None;
    }
    match pm {
        None if hour > 23 => return None,
        Some(_) if hour == 0 || hour > 12 => return None,
        _ => {}
    }
    if bracketed {
        c.spaces();
        if !c.eat(']') {
            return None;
        }
        c.spaces();
    } else {
        c.spaces();
        if !(c.eat('-') || c.eat('–')) {
            return None;
        }
        // "- " then the rest; a bare "-" at the end of the line is a header too.
        if c.peek().is_some() && c.spaces() == 0 {
            return None;
        }
    }
    Some(Header {
        nums: [n1, n2, n3],
        digits: [d1, d2, d3],
        sep,
        hour,
        minute,
        second,
        pm,
        time_text: line[start..end].trim_end_matches(|ch| is_space(ch) || is_mark(ch)),
        rest: &line[c.i..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_of_four_scripts() {
        for (line, nums) in [
            ("31/12/2023, 21:41 - A: x", [31, 12, 2023]),
            ("٣١/١٢/٢٠٢٣, ٢١:٤١ - A: x", [31, 12, 2023]),
            ("۳۱/۱۲/۲۰۲۳, ۲۱:۴۱ - A: x", [31, 12, 2023]),
            ("३१/१२/२०२३, २१:४१ - A: x", [31, 12, 2023]),
        ] {
            let h = header(line).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(h.nums, nums, "{line}");
            assert_eq!((h.hour, h.minute), (21, 41), "{line}");
        }
        // One number is one script.
        assert!(header("3١/12/2023, 21:41 - A: x").is_none());
    }

    #[test]
    fn arabic_marks_comma_and_day_period() {
        let h = header("٣١\u{200f}/١٢\u{200f}/٢٠٢٣، ٩:٤١ م - A: x").unwrap();
        assert_eq!((h.nums, h.hour, h.pm), ([31, 12, 2023], 9, Some(true)));
        assert_eq!(h.rest, "A: x");
        let h = header("[١\u{200f}/٦\u{200f}/٢٤، ١٠:٠٥:٠٧ ص] A: x").unwrap();
        assert_eq!((h.second, h.pm), (7, Some(false)));
        // "م" starting a word is text, not PM.
        assert!(header("1/6/24, 10:05 مرحبا - A: x").is_none());
    }

    #[test]
    fn dotted_times() {
        let h = header("31.12.23 18.05 - A: x").unwrap();
        assert_eq!((h.hour, h.minute, h.second), (18, 5, 0));
        let h = header("31.12.2023 klo 18.05.09 - A: x").unwrap();
        assert_eq!((h.hour, h.minute, h.second), (18, 5, 9));
        // Indonesian and others: slashes, no comma, a dotted time.
        let h = header("31/12/23 18.05 - A: x").unwrap();
        assert_eq!((h.nums, h.hour, h.minute), ([31, 12, 23], 18, 5));
        assert!(header("31.12.23 18.5 - A: x").is_none());
        assert!(header("31.12.23 18:05:5 - A: x").is_none());
    }

    #[test]
    fn not_headers() {
        for l in [
            "1/1/24 - x",
            "99/99/99999, 1:00 - A: x",
            "1/1/24, 25:00 - A: x",
            "1/1/24, 9:00 PMX - A: x",
            "2024/1/2024, 9:00 - A: x",
            "123/1/24, 9:00 - A: x",
            "1/1/245, 9:00 - A: x",
        ] {
            assert!(header(l).is_none(), "{l}");
        }
        assert!(header("1/1/24, 9:00 - ").is_some());
    }
}
