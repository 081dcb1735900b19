//! The parsers against the hand-written test exports in `tests/data/`
//! (see its README: we wrote them; the people in them are fictional).

use std::path::{Path, PathBuf};

use guwah_chat::{Kind, Limits, export};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[test]
fn android_us_txt() {
    let o = export::open(
        &data("WhatsApp Chat with Family (test).txt"),
        &Limits::default(),
    )
    .unwrap();
    let c = &o.conversation;
    assert_eq!(c.source, Kind::WhatsApp);
    assert_eq!(c.title.as_deref(), Some("Family (test)"));
    assert_eq!(c.messages.len(), 10);
    let system: Vec<bool> = c.messages.iter().map(|m| m.system).collect();
    assert_eq!(
        system,
        [
            true, true, true, false, false, false, false, false, false, true
        ]
    );
    let m = &c.messages[4];
    assert_eq!(m.sender.as_deref(), Some("Bob Sample"));
    assert_eq!(m.text.lines().count(), 3);
    assert_eq!(m.time.as_deref(), Some("2023-12-30T20:19:00"));
    let m = &c.messages[5];
    assert_eq!(m.attachment.as_deref(), Some("IMG-20231230-WA0003.jpg"));
    assert!(m.text.ends_with("\nthe street this morning"));
    assert!(o.attachment("IMG-20231230-WA0003.jpg").unwrap().is_none());
    assert!(c.messages[7].text.contains("ياخشىمۇسىز"));
    assert_eq!(c.messages[7].time.as_deref(), Some("2023-12-31T09:41:00"));
    assert!(c.warnings.iter().any(|w| w.contains("omitted")));
    // Unsafe names are refused, never looked up.
    assert!(o.attachment("../../etc/passwd").is_err());
    assert!(o.attachment("/etc/passwd").is_err());
}

#[test]
fn ios_zip_with_media() {
    let o = export::open(
        &data("WhatsApp Chat - Cousins (test).zip"),
        &Limits::default(),
    )
    .unwrap();
    assert!(o.zipped);
    assert_eq!(o.chat_file, "_chat.txt");
    let c = &o.conversation;
    assert_eq!(c.title.as_deref(), Some("Cousins (test)"));
    assert_eq!(c.messages.len(), 8);
    assert!(c.messages[0].system && c.messages[1].system && c.messages[7].system);
    assert!(c.messages[1].sender.is_none());
    let names: Vec<&str> = c
        .messages
        .iter()
        .filter_map(|m| m.attachment.as_deref())
        .collect();
    assert_eq!(
        names,
        [
            "00000003-PHOTO-2023-12-31-21-41-05.jpg",
            "00000005-AUDIO-2023-12-31-21-42-01.opus",
            "00000006-PHOTO-2023-12-31-21-43-10.jpg"
        ]
    );
    let mut a = o.attachment(names[0]).unwrap().expect("present");
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut a.reader, &mut bytes).unwrap();
    assert!(bytes.starts_with(b"\xff\xd8\xff"));
    assert_eq!(bytes.len() as u64, a.size);
    assert!(o.attachment(names[1]).unwrap().is_some());
    assert!(o.attachment(names[2]).unwrap().is_none());
    assert_eq!(c.messages[3].text.lines().count(), 2);
    assert_eq!(c.messages[6].time.as_deref(), Some("2024-01-01T08:02:44"));
    assert_eq!(c.messages[6].time_text, "01/01/2024, 08:02:44");
}

#[test]
fn european_seconds_crlf() {
    let o = export::open(
        &data("WhatsApp Chat mit Zeynep Beispiel.txt"),
        &Limits::default(),
    )
    .unwrap();
    let c = &o.conversation;
    assert_eq!(c.title.as_deref(), Some("Zeynep Beispiel"));
    assert_eq!(c.messages.len(), 4);
    assert_eq!(
        c.messages[0].text,
        "Guten Morgen. Hier ist die Liste.\n1. Meryem\n2. Abdullah"
    );
    assert_eq!(c.messages[0].time.as_deref(), Some("2023-12-30T07:05:09"));
    assert_eq!(c.messages[2].time.as_deref(), Some("2024-01-02T19:30:00"));
    assert!(c.messages.iter().all(|m| !m.system));
}

fn times(c: &guwah_chat::Conversation) -> Vec<&str> {
    c.messages
        .iter()
        .map(|m| m.time.as_deref().unwrap_or("-"))
        .collect()
}

#[test]
fn two_digit_year_first() {
    // Read day-first these would be 2030-12-19 … 2001-01-20, backwards.
    let o = export::open(
        &data("WhatsApp Chat with Lab (year-first).txt"),
        &Limits::default(),
    )
    .unwrap();
    let c = &o.conversation;
    assert_eq!(
        times(c),
        [
            "2019-12-30T07:22:00",
            "2019-12-30T07:22:00",
            "2019-12-30T07:23:00",
            "2019-12-31T18:05:00",
            "2020-01-01T00:12:00",
            "2020-01-02T09:30:00"
        ]
    );
    assert_eq!(c.messages[3].attachment.as_deref(), Some("Sample list.pdf"));
    // Only the time order decides it: that is a guess, and says so.
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("assumed year/month/day") && w.contains("stay in order")),
        "{:?}",
        c.warnings
    );
}

#[test]
fn year_first_settled_by_attachment_name() {
    // All on one day: day-first (2003-01-24), year/month/day and
    // year/day/month all run in order; the photo's name says 3 January.
    let o = export::open(
        &data("WhatsApp Chat with Archive (year-first, one day).txt"),
        &Limits::default(),
    )
    .unwrap();
    let c = &o.conversation;
    assert_eq!(
        times(c),
        [
            "2024-01-03T21:15:02",
            "2024-01-03T21:16:40",
            "2024-01-03T21:17:30",
            "2024-01-03T21:18:03"
        ]
    );
    assert_eq!(
        c.messages[2].attachment.as_deref(),
        Some("00000005-PHOTO-2024-01-03-21-17-30.jpg")
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn arabic_indic_digits() {
    let o = export::open(
        &data("WhatsApp Chat with Clinic (Arabic digits).txt"),
        &Limits::default(),
    )
    .unwrap();
    let c = &o.conversation;
    assert_eq!(
        times(c),
        [
            "2023-12-31T21:41:00",
            "2023-12-31T23:58:00",
            "2024-01-01T00:03:00",
            "2024-01-02T08:15:00"
        ]
    );
    assert_eq!(c.messages[0].sender.as_deref(), Some("أمينة مثال"));
    assert_eq!(
        c.messages[0].time_text,
        "٣١\u{200f}/١٢\u{200f}/٢٠٢٣، ٩:٤١ م"
    );
    assert_eq!(c.messages[3].text, "الاجتماع في الساعة ١٠\nفي المكتب");
    assert!(c.messages.iter().all(|m| !m.system));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn dotted_times() {
    let o = export::open(
        &data("WhatsApp Chat with Cabin (dotted times).txt"),
        &Limits::default(),
    )
    .unwrap();
    let c = &o.conversation;
    assert_eq!(
        times(c),
        [
            "2023-12-30T18:00:00",
            "2023-12-30T18:07:00",
            "2023-12-31T23:59:00",
            "2024-01-01T00:01:00"
        ]
    );
    assert_eq!(c.messages[1].sender.as_deref(), Some("Ville Testi"));
    assert_eq!(c.messages[1].text, "Selvä. Tuon puita.");
    assert_eq!(c.messages[0].time_text, "30.12.2023 klo 18.00");
}

#[test]
fn telegram_folder() {
    let dir = data("telegram/ChatExport_2024-01-02");
    let file = export::locate(&dir).unwrap();
    assert!(file.ends_with("result.json"));
    let o = export::open(&file, &Limits::default()).unwrap();
    let c = &o.conversation;
    assert_eq!(c.source, Kind::Telegram);
    assert_eq!(c.title.as_deref(), Some("Witnesses (test)"));
    assert_eq!(c.messages.len(), 6);
    assert!(c.messages[0].system);
    assert_eq!(c.messages[0].sender.as_deref(), Some("Merve Example"));
    assert_eq!(
        c.messages[2].text,
        "The checkpoint on the north road was closed.\nNobody could pass. https://example.org/map"
    );
    assert_eq!(c.messages[2].time.as_deref(), Some("2023-12-31T21:42:30Z"));
    assert_eq!(c.messages[2].sender_id.as_deref(), Some("user100000001"));
    assert!(
        o.attachment("photos/photo_1@31-12-2023_21-41-05.jpg")
            .unwrap()
            .is_some()
    );
    assert!(o.attachment("files/statement.txt").unwrap().is_some());
    assert!(c.messages[4].attachment.is_none());
    assert!(c.warnings.iter().any(|w| w.contains("not included")));
}

#[test]
fn not_chats() {
    for bytes in [
        &b"\xff\xd8\xff\xe0 a jpeg"[..],
        b"PK\x03\x04 truncated zip",
        b"{\"a\": 1}",
        b"",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.txt");
        std::fs::write(&p, bytes).unwrap();
        assert!(export::open(&p, &Limits::default()).is_err());
    }
}

/// A cheap stand-in for the fuzz target in every `cargo test`: cut and
/// flipped versions of every test export must not panic any parser.
#[test]
fn mutations_never_panic() {
    let files = [
        data("WhatsApp Chat with Family (test).txt"),
        data("WhatsApp Chat mit Zeynep Beispiel.txt"),
        data("WhatsApp Chat with Lab (year-first).txt"),
        data("WhatsApp Chat with Clinic (Arabic digits).txt"),
        data("WhatsApp Chat with Cabin (dotted times).txt"),
        data("telegram/ChatExport_2024-01-02/result.json"),
    ];
    let limits = Limits {
        max_line: 64,
        max_text: 100,
        max_messages: 5,
        ..Limits::default()
    };
    for f in files {
        let bytes = std::fs::read(f).unwrap();
        for cut in 0..bytes.len() {
            let _ = guwah_chat::parse_any(&bytes[..cut], None, &limits);
        }
        let mut x = 0x9e37_79b9u32;
        for _ in 0..2000 {
            let mut b = bytes.clone();
            for _ in 0..4 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let i = x as usize % b.len();
                b[i] = (x >> 8) as u8;
            }
            let _ = guwah_chat::whatsapp::parse(&b, None, &limits);
            let _ = guwah_chat::telegram::parse(&b, &limits);
        }
    }
}
