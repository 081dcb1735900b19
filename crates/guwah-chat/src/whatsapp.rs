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
//! 23-12-31, 21:41 - Name: text              Android, two-digit year first
//! 31.12.2023 klo 21.41 - Name: text         Android, Finnish (and "21.41" times elsewhere)
//! ٣١‏/١٢‏/٢٠٢٣، ٩:٤١ م - Name: text          Android, Arabic (U+200F after numbers)
//! [31/12/2023, 21:41:05] Name: text         iOS (seconds; U+200E before some lines)
//! [12/31/23, 9:41:05 PM] Name: text         iOS, US
//! 31/12/2023, 21:41 - X added Y             a system line: no "Name: "
//! ```
//!
//! Date separators `/`, `.` and `-`; time separators `:` and `.`; with or
//! without the comma (or Arabic `،`), seconds and brackets; digits ASCII,
//! Arabic-Indic (٠–٩), Persian (۰–۹) or Devanagari (०–९); `AM`/`PM`,
//! `am`/`pm`, `a.m.`/`p.m.`, `a. m.`/`p. m.`, Arabic `ص`/`م`, Persian
//! `ق.ظ.`/`ب.ظ.` and Hindi `पूर्वाह्न`/`अपराह्न`; the
//! invisible U+200E, U+200F, U+202A–U+202E, U+2066–U+2069 and U+FEFF marks
//! real exports contain are skipped where they precede a date, sit between
//! its numbers or surround a name (and kept in message text, which stays
//! as written).
//!
//! Attachments: iOS `<attached: 00000012-PHOTO-2023-12-31-21-41-05.jpg>`
//! anywhere in the text; Android `IMG-20231231-WA0001.jpg (file attached)`
//! (and a few translations of "file attached") on the message's first line,
//! a caption possibly following. `<Media omitted>` and `image omitted` mean
//! the export was made without media: nothing to attach, counted in a
//! warning.
//!
//! **Day, month or year first?** The export does not say; it is decided
//! once per export from every date in it: the values (a number above 12
//! is no month, one of four digits is the year), then the dates in
//! attachment names, then time order, then convention (the rules are in
//! `whatsapp/order.rs`). Whenever the values and attachment names leave
//! more than one reading, a warning names the reading assumed. Two-digit
//! years are 20xx; years outside 1970–2099 (another calendar) leave the
//! time unparsed rather than misdated.
//!
//! **Times have no zone**: they are the exporting phone's local clock as it
//! was set. They are kept as written and as a naive `YYYY-MM-DDTHH:MM:SS`.

mod header;
mod order;

pub(crate) use header::header;
use header::{Header, is_mark, is_space};
use order::Order;

use crate::{ChatError, Conversation, Kind, Limits, Message, cut, one_line};

fn naive_time(h: &Header<'_>, order: Order) -> Option<String> {
    let d = order::date(h, order)?;
    let (y, m, d) = (d.year(), u8::from(d.month()), d.day());
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

/// A message line split into its parts, its date not yet read.
struct Split<'a> {
    head: Header<'a>,
    sender: Option<String>,
    body: String,
    attachment: Option<String>,
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
    // Senders and attachments first: the dates in attachment names help
    // decide how every date of the export is read.
    let split: Vec<Split<'_>> = pending
        .into_iter()
        .map(|p| {
            let (sender, body) = split_sender(&p.text);
            let attachment = attachment_of(&body);
            Split {
                head: p.head,
                sender,
                body,
                attachment,
            }
        })
        .collect();
    let heads: Vec<Header<'_>> = split.iter().map(|p| p.head.clone()).collect();
    let files: Vec<Option<time::Date>> = split
        .iter()
        .map(|p| p.attachment.as_deref().and_then(order::file_date))
        .collect();
    let order = order::decide(&heads, &files, &mut warnings);
    drop((heads, files));
    let mut title = title_hint.map(one_line).filter(|t| !t.is_empty());
    let mut messages = Vec::with_capacity(split.len() + 1);
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
    for p in split {
        let h = &p.head;
        let (sender, mut body) = (p.sender, p.body);
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
            && p.attachment.is_none()
            && !OMITTED.iter().any(|o| bare.starts_with(o))
        {
            // iOS writes group events as the group "saying" them, after U+200E.
            system = true;
        }
        if OMITTED.iter().any(|o| bare.starts_with(o)) {
            omitted += 1;
        }
        let attachment = if system { None } else { p.attachment };
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
    fn persian_and_devanagari_digits() {
        let c = p("۳۱/۱۲/۲۰۲۳, ۹:۴۱ ب.ظ. - Ali: سلام\n۱/۱/۲۰۲۴, ۱۰:۰۵ ق.ظ. - Sara: x\n");
        assert_eq!(c.messages[0].time.as_deref(), Some("2023-12-31T21:41:00"));
        assert_eq!(c.messages[0].sender.as_deref(), Some("Ali"));
        assert_eq!(c.messages[1].time.as_deref(), Some("2024-01-01T10:05:00"));
        let c = p("३१/१२/२३, ९:४१ अपराह्न - Asha: नमस्ते\n");
        assert_eq!(c.messages[0].time.as_deref(), Some("2023-12-31T21:41:00"));
        assert_eq!(c.messages[0].text, "नमस्ते");
        // A Solar Hijri date is parsed as a message but never misdated.
        let c = p("۱۴۰۲/۱۰/۱۰, ۲۱:۴۱ - Ali: سلام\n");
        assert_eq!(c.messages.len(), 1);
        assert_eq!(c.messages[0].time, None);
        assert!(c.warnings.iter().any(|w| w.contains("another calendar")));
    }

    #[test]
    fn one_order_for_the_whole_export() {
        // "20-01-05" alone could be 20 January 2005; the other lines make
        // the export year-first, and that holds for this line too.
        let c = p("19-12-30, 07:22 - A: x\n19-12-31, 07:22 - A: y\n20-01-05, 07:22 - A: z\n");
        assert_eq!(c.messages[2].time.as_deref(), Some("2020-01-05T07:22:00"));
        // Four-digit year first, the day above 12 in the middle.
        let c = p("2023-31-12, 21:41 - A: x\n");
        assert_eq!(c.messages[0].time.as_deref(), Some("2023-12-31T21:41:00"));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
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
