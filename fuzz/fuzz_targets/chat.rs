//! Fuzzes the messaging-export parsers: no input may panic, and every
//! message they return keeps its invariants (indices in order, single-line
//! names, a parsed time in one of the two documented shapes).
#![no_main]

use guwah_chat::{Limits, telegram, whatsapp};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_file: 1 << 20,
        max_line: 4096,
        max_text: 8192,
        max_messages: 1000,
    };
    let _ = guwah_chat::sniff(data);
    for conv in [
        whatsapp::parse(data, Some("hint"), &limits),
        telegram::parse(data, &limits),
    ]
    .into_iter()
    .flatten()
    {
        assert!(conv.messages.len() <= limits.max_messages + 1);
        for (i, m) in conv.messages.iter().enumerate() {
            assert_eq!(m.index, i as u64);
            assert!(m.text.len() <= limits.max_text);
            for name in [&m.sender, &m.sender_id].into_iter().flatten() {
                assert!(!name.contains('\n'));
            }
            if let Some(t) = &m.time {
                assert!(t.len() == 19 || t.ends_with('Z'), "{t}");
            }
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = whatsapp::title_from_file_name(s);
    }
});
