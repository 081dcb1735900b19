//! WhatsApp "Export chat" text, Android and iOS, in their many locales.
//!
//! A message starts with a line that begins with a date and a time; every
//! other line continues the message before it. The shapes handled:
//!
//! ```text
//! 12/31/23, 9:41 PM - Name: text            Android, US (12-hour; U+202F before PM in new versions)
//! 31/12/2023, 21:41 - Name: text            Android, most locales
//! 31.12.23, 21:41 - Name: text              Android, German and others
//! 2023-12-31, 21:41 - Name: text            Android, ISO-style locales
//! [31/12/2023, 21:41:05] Name: text         iOS (seconds; U+200E before some lines)
//! [12/31/23, 9:41:05 PM] Name: text         iOS, US
//! 31/12/2023, 21:41 - X added Y             a system line: no "Name: "
//! ```
//!
//! Date separators `/`, `.` and `-`; with or without the comma, seconds and
//! brackets; `AM`/`PM`, `am`/`pm`, `a.m.`/`p.m.` and `a. m.`/`p. m.`; the
//! invisible U+200E, U+200F, U+202A–U+202E, U+2066–U+2069 and U+FEFF marks
//! real exports contain are skipped where they precede a date or surround a
//! name (and kept in message text, which stays as written).
//!
//! Attachments: iOS `<attached: 00000012-PHOTO-2023-12-31-21-41-05.jpg>`
//! anywhere in the text; Android `IMG-20231231-WA0001.jpg (file attached)`
//! (and a few translations of "file attached") on the message's first line,
//! a caption possibly following. `<Media omitted>` and `image omitted` mean
//! the export was made without media: nothing to attach, counted in a
//! warning.
//!
//! **Day or month first?** The export does not say; it is decided once per
//! export by scanning every date: (1) a four-digit first number means
//! year-month-day; (2) if some first number is above 12, it is the day; if
//! some second number is above 12, the month comes first; (3) if both
//! orders fit every date, the one under which the dates go backwards less
//! often wins (exports are in time order); (4) if still tied, `.`
//! separators and 24-hour times mean day first, and `/` with AM/PM means
//! month first (the US convention), else day first. Cases (3) and (4) add a
//! warning naming the guess. Two-digit years are 20xx.
//!
//! **Times have no zone**: they are the exporting phone's local clock as it
//! was set. They are kept as written and as a naive `YYYY-MM-DDTHH:MM:SS`.

use crate::{ChatError, Conversation, Kind, Limits, Message, cut, one_line};

/// Invisible direction and byte-order marks real exports put around dates
/// and names.
fn is_mark(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{a0}' | '\u{202f}' | '\u{2009}')
}

/// The date and time that start a message line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header<'a> {
    /// The three numbers of the date, in the order written.
    nums: [u32; 3],
    /// The first number had four digits (year first).
    year_first: bool,
    /// The date separator.
    sep: char,
    hour: u32,
    minute: u32,
    second: u32,
    /// `Some(true)` for PM, `Some(false)` for AM, `None` for a 24-hour clock.
    pm: Option<bool>,
    /// Date and time as written.
    time_text: &'a str,
    /// What follows the header: `Name: text` or a system line.
    rest: &'a str,
}

struct Cur<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cur<'a> {
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
    fn spaces(&mut self) -> usize {
        let mut n = 0;
        while self.peek().is_some_and(|c| is_space(c) || is_mark(c)) {
            self.bump();
            n += 1;
        }
        n
    }
    /// 1 to `max` ASCII digits.
    fn number(&mut self, max: usize) -> Option<(u32, usize)> {
        let start = self.i;
        let digits = self.s[start..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if digits == 0 || digits > max {
            return None;
        }
        self.i += digits;
        Some((self.s[start..self.i].parse().ok()?, digits))
    }
    fn am_pm(&mut self) -> Option<bool> {
        let rest = &self.s[self.i..];
        for (token, pm) in [
            ("a. m.", false),
            ("p. m.", true),
            ("a.m.", false),
            ("p.m.", true),
            ("am", false),
            ("pm", true),
        ] {
            if rest.len() >= token.len()
                && rest.is_char_boundary(token.len())
                && rest[..token.len()].eq_ignore_ascii_case(token)
            {
                // Not the start of a longer word ("amazing").
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
    let sep = c.bump().filter(|s| matches!(s, '/' | '.' | '-'))?;
    let (n2, _) = c.number(2)?;
    if !c.eat(sep) {
        return None;
    }
    let (n3, d3) = c.number(4)?;
    if d1 == 4 && d3 > 2 || d1 != 4 && d3 == 3 {
        return None;
    }
    c.eat('.');
    let comma = c.eat(',');
    if c.spaces() == 0 && !comma {
        return None;
    }
    let (hour, _) = c.number(2)?;
    if !c.eat(':') {
        return None;
    }
    let (minute, dm) = c.number(2)?;
    let mut second = 0;
    if c.eat(':') {
        let (s, ds) = c.number(2)?;
        if ds != 2 {
            return None;
        }
        second = s;
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
        year_first: d1 == 4,
        sep,
        hour,
        minute,
        second,
        pm,
        time_text: line[start..end].trim_end_matches(|ch| is_space(ch) || is_mark(ch)),
        rest: &line[c.i..],
    })
}

/// Day-month order of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Dmy,
    Mdy,
    Ymd,
}

fn ymd(h: &Header<'_>, order: Order) -> Option<(i32, u32, u32)> {
    let [a, b, c] = h.nums;
    let year = |y: u32| if y < 100 { 2000 + y } else { y };
    let (y, m, d) = match order {
        Order::Ymd => (a, b, c),
        Order::Dmy => (year(c), b, a),
        Order::Mdy => (year(c), a, b),
    };
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    let y = i32::try_from(y).ok()?;
    time::Date::from_calendar_date(y, month, u8::try_from(d).ok()?).ok()?;
    Some((y, m, d))
}

fn decide_order(heads: &[Header<'_>], warnings: &mut Vec<String>) -> Order {
    if heads.iter().all(|h| h.year_first) {
        return Order::Ymd;
    }
    let fits = |o: Order| heads.iter().filter(|h| ymd(h, o).is_some()).count();
    let (dmy, mdy) = (fits(Order::Dmy), fits(Order::Mdy));
    if dmy != mdy {
        let o = if dmy > mdy { Order::Dmy } else { Order::Mdy };
        if dmy.max(mdy) < heads.len() {
            warnings.push(format!(
                "{} date(s) fit neither day/month/year nor month/day/year; their times are left unparsed",
                heads.len() - dmy.max(mdy)
            ));
        }
        return o;
    }
    let backwards = |o: Order| {
        let mut prev = None;
        let mut n = 0usize;
        for h in heads {
            if let Some(d) = ymd(h, o) {
                if prev.is_some_and(|p| d < p) {
                    n += 1;
                }
                prev = Some(d);
            }
        }
        n
    };
    let (bd, bm) = (backwards(Order::Dmy), backwards(Order::Mdy));
    if bd != bm {
        let o = if bd < bm { Order::Dmy } else { Order::Mdy };
        warnings.push(format!(
            "day and month are ambiguous in every date of this export; assumed {} because the dates then stay in order",
            if o == Order::Dmy { "day/month/year" } else { "month/day/year" }
        ));
        return o;
    }
    let twelve_hour = heads.iter().any(|h| h.pm.is_some());
    let slash = heads.iter().any(|h| h.sep == '/');
    let o = if twelve_hour && slash {
        Order::Mdy
    } else {
        Order::Dmy
    };
    if heads.len() > 1 || heads.first().is_some_and(|h| h.nums[0] != h.nums[1]) {
        warnings.push(format!(
            "day and month are ambiguous in every date of this export; assumed {} ({})",
            if o == Order::Mdy {
                "month/day/year"
            } else {
                "day/month/year"
            },
            if o == Order::Mdy {
                "'/' dates with AM/PM times: the US convention"
            } else {
                "the convention of most locales"
            }
        ));
    }
    o
}

fn naive_time(h: &Header<'_>, order: Order) -> Option<String> {
    let (y, m, d) = ymd(h, order)?;
    let hour = match h.pm {
        None => h.hour,
        Some(false) => h.hour % 12,
        Some(true) => h.hour % 12 + 12,
    };
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{hour:02}:{:02}:{:02}",
        h.minute, h.second
    ))
}

const E2E: &[&str] = &[
    "Messages and calls are end-to-end encrypted",
    "Messages to this group are now secured with end-to-end encryption",
    "Messages you send to this chat and calls are now secured with end-to-end encryption",
];

const ATTACHED_SUFFIXES: &[&str] = &[
    " (file attached)",
    " (Datei angehängt)",
    " (archivo adjunto)",
    " (fichier joint)",
    " (arquivo anexado)",
    " (file allegato)",
    " (bestand bijgevoegd)",
    " (dosya ekli)",
    " (файл прикреплен)",
    " (ملف مرفق)",
];

const OMITTED: &[&str] = &[
    "<Media omitted>",
    "<Medien ausgeschlossen>",
    "<Multimedia omitido>",
    "<Médias omis>",
    "<Mídia oculta>",
    "image omitted",
    "video omitted",
    "audio omitted",
    "sticker omitted",
    "document omitted",
    "GIF omitted",
    "Contact card omitted",
    "Bild weggelassen",
    "Video weggelassen",
    "Audio weggelassen",
];

fn trim_marks(s: &str) -> &str {
    s.trim_matches(|c: char| is_mark(c) || is_space(c))
}

/// Whether a name looks like a file name (no path, an extension).
fn file_like(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.contains(['/', '\\', '<', '>'])
        && name
            .rsplit_once('.')
            .is_some_and(|(b, e)| !b.is_empty() && (1..=8).contains(&e.len()))
}

/// The attachment a message's text names, if any.
fn attachment_of(text: &str) -> Option<String> {
    if let Some(at) = text.find("<attached: ") {
        let rest = &text[at + "<attached: ".len()..];
        if let Some(end) = rest.find('>') {
            let name = trim_marks(&rest[..end]);
            if file_like(name) {
                return Some(name.to_owned());
            }
        }
    }
    let first = trim_marks(text.lines().next().unwrap_or(""));
    for suffix in ATTACHED_SUFFIXES {
        if let Some(name) = first.strip_suffix(suffix) {
            let name = trim_marks(name);
            if file_like(name) {
                return Some(name.to_owned());
            }
        }
    }
    None
}

/// The title in a "WhatsApp Chat with NAME.txt" (or "WhatsApp Chat - NAME")
/// file name.
pub fn title_from_file_name(name: &str) -> Option<String> {
    let stem = name.strip_suffix(".txt").or(name.strip_suffix(".zip"))?;
    let t = stem
        .strip_prefix("WhatsApp Chat with ")
        .or(stem.strip_prefix("WhatsApp Chat - "))
        .or(stem.strip_prefix("WhatsApp-Chat mit "))
        .or(stem.strip_prefix("WhatsApp Chat mit "))
        .or(stem.strip_prefix("Chat de WhatsApp con "))?;
    let t = one_line(t);
    (!t.is_empty()).then_some(t)
}

struct Pending<'a> {
    head: Header<'a>,
    text: String,
}

/// Parse a WhatsApp chat export's text. `title_hint` is the chat name when
/// the caller knows it (from the file name).
pub fn parse(
    bytes: &[u8],
    title_hint: Option<&str>,
    limits: &Limits,
) -> Result<Conversation, ChatError> {
    if bytes.len() as u64 > limits.max_file {
        return Err(ChatError::TooLarge {
            size: bytes.len() as u64,
            limit: limits.max_file,
        });
    }
    let mut warnings = Vec::new();
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => {
            warnings.push(
                "the chat text is not valid UTF-8; undecodable bytes were replaced by U+FFFD (the sealed export keeps them)".into(),
            );
            String::from_utf8_lossy(bytes)
        }
    };
    let mut pending: Vec<Pending<'_>> = Vec::new();
    let mut preamble = String::new();
    let (mut long_lines, mut long_texts, mut dropped) = (0usize, 0usize, 0usize);
    for mut line in text.lines() {
        if line.len() > limits.max_line {
            long_lines += 1;
            let mut end = limits.max_line;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line = &line[..end];
        }
        if let Some(head) = header(line) {
            if pending.len() >= limits.max_messages {
                dropped += 1;
                continue;
            }
            let text = head.rest.to_owned();
            pending.push(Pending { head, text });
            continue;
        }
        if dropped > 0 {
            continue;
        }
        match pending.last_mut() {
            Some(p) => {
                if p.text.len() + 1 + line.len() > limits.max_text {
                    long_texts += 1;
                    continue;
                }
                p.text.push('\n');
                p.text.push_str(line);
            }
            None => {
                if !line.is_empty() && preamble.len() + line.len() < limits.max_text {
                    if !preamble.is_empty() {
                        preamble.push('\n');
                    }
                    preamble.push_str(line);
                }
            }
        }
    }
    if pending.is_empty() {
        return Err(ChatError::NotAChat(
            "no WhatsApp message lines (such as \"12/31/23, 9:41 PM - Name: text\" or \"[31/12/2023, 21:41:05] Name: text\") were found".into(),
        ));
    }
    if long_lines > 0 {
        warnings.push(format!(
            "{long_lines} line(s) longer than {} bytes were cut",
            limits.max_line
        ));
    }
    if dropped > 0 {
        warnings.push(format!(
            "{dropped} message(s) past the limit of {} were not read (the sealed export keeps them)",
            limits.max_messages
        ));
    }
    let heads: Vec<Header<'_>> = pending.iter().map(|p| p.head.clone()).collect();
    let order = decide_order(&heads, &mut warnings);
    let mut title = title_hint.map(one_line).filter(|t| !t.is_empty());
    let mut messages = Vec::with_capacity(pending.len() + 1);
    if !preamble.is_empty() {
        warnings.push("text before the first dated line was kept as a system line".into());
        messages.push(Message {
            index: 0,
            sender: None,
            sender_id: None,
            time_text: String::new(),
            time: None,
            text: preamble,
            attachment: None,
            system: true,
            chat: None,
        });
    }
    let mut omitted = 0usize;
    for p in pending {
        let h = &p.head;
        let (sender, mut body) = split_sender(&p.text);
        let bare = trim_marks(&body);
        let mut system = sender.is_none();
        if E2E.iter().any(|e| bare.starts_with(e)) {
            system = true;
            if title.is_none() && h.pm.is_none() && sender.is_some() && h.time_text.contains(':') {
                // iOS attributes the notice to the chat itself.
                title = sender.clone();
            }
        } else if sender.is_some()
            && sender == title
            && body.starts_with('\u{200e}')
            && attachment_of(&body).is_none()
            && !OMITTED.iter().any(|o| bare.starts_with(o))
        {
            // iOS writes group events as the group "saying" them, after U+200E.
            system = true;
        }
        if OMITTED.iter().any(|o| bare.starts_with(o)) {
            omitted += 1;
        }
        let attachment = if system { None } else { attachment_of(&body) };
        if cut(&mut body, limits.max_text) {
            long_texts += 1;
        }
        messages.push(Message {
            index: messages.len() as u64,
            sender: if system && sender == title {
                None
            } else {
                sender
            },
            sender_id: None,
            time_text: h.time_text.to_owned(),
            time: naive_time(h, order),
            text: body,
            attachment,
            system,
            chat: None,
        });
    }
    if long_texts > 0 {
        warnings.push(format!(
            "{long_texts} message(s) longer than {} bytes were cut",
            limits.max_text
        ));
    }
    if omitted > 0 {
        warnings.push(format!(
            "{omitted} message(s) say their media was omitted: the chat was exported without media"
        ));
    }
    Ok(Conversation {
        source: Kind::WhatsApp,
        title,
        messages,
        warnings,
        time_note: Some(
            "local time of the exporting phone as written in the export; its time zone is not recorded".into(),
        ),
    })
}

/// Split `Name: text`; a line without a plausible name is a system line.
fn split_sender(rest: &str) -> (Option<String>, String) {
    let first_line = rest.split('\n').next().unwrap_or("");
    let pos = first_line
        .find(": ")
        .or_else(|| first_line.strip_suffix(':').map(|s| s.len()));
    if let Some(pos) = pos {
        let name = trim_marks(&rest[..pos]);
        let plausible = !name.is_empty()
            && name.chars().count() <= 100
            && !name.contains(['"', '“', '”', '«', '»']);
        if plausible {
            let text = rest[pos + 1..]
                .strip_prefix(' ')
                .unwrap_or(&rest[pos + 1..]);
            return (Some(one_line(name)), text.to_owned());
        }
    }
    (None, rest.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Conversation {
        parse(text.as_bytes(), None, &Limits::default()).expect("parses")
    }

    #[test]
    fn android_us_12_hour() {
        let c = p(
            "12/31/23, 9:41\u{202f}PM - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.\n\
                   12/31/23, 9:41\u{202f}PM - Alice: hello\nsecond line\n\
                   1/1/24, 12:05 AM - Bob: IMG-20240101-WA0001.jpg (file attached)\ncaption\n\
                   1/1/24, 12:06 PM - Bob added Carol\n",
        );
        assert_eq!(c.messages.len(), 4);
        assert!(c.messages[0].system && c.messages[0].sender.is_none());
        let m = &c.messages[1];
        assert_eq!(m.sender.as_deref(), Some("Alice"));
        assert_eq!(m.text, "hello\nsecond line");
        assert_eq!(m.time.as_deref(), Some("2023-12-31T21:41:00"));
        assert_eq!(m.time_text, "12/31/23, 9:41\u{202f}PM");
        let m = &c.messages[2];
        assert_eq!(m.attachment.as_deref(), Some("IMG-20240101-WA0001.jpg"));
        assert_eq!(m.time.as_deref(), Some("2024-01-01T00:05:00"));
        assert!(c.messages[3].system);
        assert_eq!(c.messages[3].text, "Bob added Carol");
        assert_eq!(c.messages[3].time.as_deref(), Some("2024-01-01T12:06:00"));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn ios_bracketed_with_seconds_and_marks() {
        let c = p(
            "[31/12/2023, 21:40:00] Family: \u{200e}Messages and calls are end-to-end encrypted.\n\
                   \u{200e}[31/12/2023, 21:41:05] Alice: \u{200e}<attached: 00000012-PHOTO-2023-12-31-21-41-05.jpg>\n\
                   [31/12/2023, 21:42:00] \u{200e}Bob\u{200e}: مرحبا 👋\n\
                   [31/12/2023, 21:43:00] Family: \u{200e}Alice added Bob\n",
        );
        assert_eq!(c.title.as_deref(), Some("Family"));
        assert!(c.messages[0].system);
        assert_eq!(
            c.messages[1].attachment.as_deref(),
            Some("00000012-PHOTO-2023-12-31-21-41-05.jpg")
        );
        assert_eq!(c.messages[1].time.as_deref(), Some("2023-12-31T21:41:05"));
        assert_eq!(c.messages[2].sender.as_deref(), Some("Bob"));
        assert_eq!(c.messages[2].text, "مرحبا 👋");
        assert!(c.messages[3].system && c.messages[3].sender.is_none());
    }

    #[test]
    fn european_dots_and_iso() {
        let c = p("31.12.23, 21:41 - Alice: a\n01.01.24, 00:01 - Bob: b\n");
        assert_eq!(c.messages[0].time.as_deref(), Some("2023-12-31T21:41:00"));
        assert_eq!(c.messages[1].time.as_deref(), Some("2024-01-01T00:01:00"));
        let c = p("2023-12-31, 21:41 - Alice: a\n");
        assert_eq!(c.messages[0].time.as_deref(), Some("2023-12-31T21:41:00"));
        let c = p("31/12/2023 21:41:07 - Alice: a\n");
        assert_eq!(c.messages[0].time.as_deref(), Some("2023-12-31T21:41:07"));
        let c = p("12/31/23, 9:41 p. m. - Alice: a\n");
        assert_eq!(c.messages[0].time.as_deref(), Some("2023-12-31T21:41:00"));
    }

    #[test]
    fn day_month_order() {
        // Ambiguous everywhere, but only day-first keeps the dates in order.
        let c = p("05/03/2024, 10:00 - A: x\n06/03/2024, 10:00 - A: y\n01/04/2024, 10:00 - A: z\n");
        assert_eq!(c.messages[2].time.as_deref(), Some("2024-04-01T10:00:00"));
        assert!(c.warnings.iter().any(|w| w.contains("stay in order")));
        // A day above 12 settles it without a warning.
        let c = p("3/13/24, 9:00 AM - A: x\n3/14/24, 9:00 AM - A: y\n");
        assert_eq!(c.messages[0].time.as_deref(), Some("2024-03-13T09:00:00"));
        assert!(c.warnings.is_empty());
        // Fully ambiguous and in order either way: US with AM/PM.
        let c = p("1/2/24, 9:00 AM - A: x\n");
        assert_eq!(c.messages[0].time.as_deref(), Some("2024-01-02T09:00:00"));
        let c = p("1/2/24, 09:00 - A: x\n");
        assert_eq!(c.messages[0].time.as_deref(), Some("2024-02-01T09:00:00"));
    }

    #[test]
    fn tolerant() {
        assert!(parse(b"just some text\nnot a chat", None, &Limits::default()).is_err());
        assert!(parse(b"", None, &Limits::default()).is_err());
        let c = p("preamble\n12/31/23, 9:41 PM - Alice: hi\r\nmore\r\n");
        assert!(c.messages[0].system);
        assert_eq!(c.messages[0].text, "preamble");
        assert_eq!(c.messages[1].text, "hi\nmore");
        let c = parse(b"12/31/23, 9:41 PM - A: \xff\n", None, &Limits::default()).unwrap();
        assert!(!c.warnings.is_empty());
        let limits = Limits {
            max_messages: 1,
            ..Limits::default()
        };
        let c = parse(
            b"1/1/24, 9:00 AM - A: x\n1/1/24, 9:01 AM - A: y\n",
            None,
            &limits,
        )
        .unwrap();
        assert_eq!(c.messages.len(), 1);
        assert!(c.warnings.iter().any(|w| w.contains("limit")));
        // Not headers.
        for l in [
            "1/1/24 - x",
            "99/99/99999, 1:00 - A: x",
            "1/1/24, 25:00 - A: x",
            "1/1/24, 9:00 PMX - A: x",
        ] {
            assert!(header(l).is_none(), "{l}");
        }
        assert!(header("1/1/24, 9:00 - ").is_some());
    }

    #[test]
    fn titles() {
        assert_eq!(
            title_from_file_name("WhatsApp Chat with Alice.txt").as_deref(),
            Some("Alice")
        );
        assert_eq!(title_from_file_name("_chat.txt"), None);
    }
}
