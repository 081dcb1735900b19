//! Telegram Desktop's JSON export (`result.json`, "Export chat history" or
//! "Export Telegram data" with the JSON format).
//!
//! A single chat is `{"name", "type", "id", "messages": [...]}`; a full
//! export holds them under `{"chats": {"list": [...]}}`, or a bare
//! `{"chats": [...]}` (each message then carries its chat's name in
//! [`Message::chat`]). Each message has `type`
//! (`message` or `service`), `date` (the exporting computer's local time,
//! `YYYY-MM-DDTHH:MM:SS`), `date_unixtime` (seconds, as a string), `from`
//! and `from_id` (`actor` and `actor_id` on service messages), `text` as a
//! string or an array of strings and `{"type", "text"}` entities, and
//! `photo` or `file` with a path relative to `result.json` (or a
//! "(File not included...)" placeholder when the export left media out).
//!
//! Times: [`Message::time`] is RFC 3339 UTC from `date_unixtime` (a real
//! instant); [`Message::time_text`] keeps `date` as written. Without a
//! unixtime, `date` itself is used as a naive local time.

use serde_json::Value;

use crate::{ChatError, Conversation, Kind, Limits, Message, cut, one_line};

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => {
            let mut out = String::new();
            for p in parts {
                match p {
                    Value::String(s) => out.push_str(s),
                    Value::Object(o) => {
                        if let Some(Value::String(s)) = o.get("text") {
                            out.push_str(s);
                        }
                    }
                    _ => {}
                }
            }
            out
        }
        _ => String::new(),
    }
}

fn string_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn utc_of(unix: &str) -> Option<String> {
    let secs: i64 = unix.trim().parse().ok()?;
    let t = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

fn naive_of(date: &str) -> Option<String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(date, &fmt)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
}

/// A path inside the export, or `None` for a "(File not included...)" note.
fn media_path(v: Option<&Value>) -> Option<Result<String, String>> {
    let s = match v? {
        Value::String(s) => s,
        _ => return None,
    };
    if s.starts_with('(') || s.is_empty() {
        return Some(Err(s.clone()));
    }
    Some(Ok(s.clone()))
}

struct Ctx<'a> {
    limits: &'a Limits,
    messages: Vec<Message>,
    dropped: usize,
    not_included: usize,
    long: usize,
    no_time: usize,
}

impl Ctx<'_> {
    fn chat(&mut self, chat: &serde_json::Map<String, Value>, chat_name: Option<String>) {
        let Some(Value::Array(list)) = chat.get("messages") else {
            return;
        };
        for m in list {
            let Value::Object(m) = m else { continue };
            if self.messages.len() >= self.limits.max_messages {
                self.dropped += 1;
                continue;
            }
            let system = m.get("type").and_then(Value::as_str) == Some("service");
            let (from, from_id) = if system {
                ("actor", "actor_id")
            } else {
                ("from", "from_id")
            };
            let sender = string_of(m.get(from)).map(|s| one_line(&s));
            let sender_id = string_of(m.get(from_id)).map(|s| one_line(&s));
            let date = string_of(m.get("date"))
                .map(|s| one_line(&s))
                .unwrap_or_default();
            let time = string_of(m.get("date_unixtime"))
                .and_then(|u| utc_of(&u))
                .or_else(|| naive_of(&date));
            if time.is_none() {
                self.no_time += 1;
            }
            let mut text = text_of(m.get("text"));
            if system {
                let mut parts = Vec::new();
                if let Some(a) = string_of(m.get("action")) {
                    parts.push(format!("[{}]", one_line(&a)));
                }
                if let Some(t) = string_of(m.get("title")) {
                    parts.push(one_line(&t));
                }
                if let Some(Value::Array(members)) = m.get("members") {
                    let names: Vec<String> = members
                        .iter()
                        .filter_map(|v| string_of(Some(v)))
                        .map(|s| one_line(&s))
                        .collect();
                    if !names.is_empty() {
                        parts.push(names.join(", "));
                    }
                }
                if !text.is_empty() {
                    parts.push(text);
                }
                text = parts.join(" ");
            }
            let mut attachment = None;
            for key in ["photo", "file"] {
                match media_path(m.get(key)) {
                    Some(Ok(p)) if attachment.is_none() => attachment = Some(p),
                    Some(Err(_)) => self.not_included += 1,
                    _ => {}
                }
            }
            if cut(&mut text, self.limits.max_text) {
                self.long += 1;
            }
            self.messages.push(Message {
                index: self.messages.len() as u64,
                sender,
                sender_id,
                time_text: date,
                time,
                text,
                attachment,
                system,
                chat: chat_name.clone(),
            });
        }
    }
}

/// The chats of a full export: `{"chats": {"list": [...]}}` as Telegram
/// Desktop writes it, or a bare `{"chats": [...]}` as some tools and older
/// exports do.
fn chat_list(root: &serde_json::Map<String, Value>) -> Option<&Vec<Value>> {
    match root.get("chats")? {
        Value::Array(list) => Some(list),
        Value::Object(chats) => chats.get("list")?.as_array(),
        _ => None,
    }
}

/// Parse a Telegram Desktop `result.json`.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Conversation, ChatError> {
    if bytes.len() as u64 > limits.max_file {
        return Err(ChatError::TooLarge {
            size: bytes.len() as u64,
            limit: limits.max_file,
        });
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let root: Value = serde_json::from_slice(bytes)
        .map_err(|e| ChatError::NotAChat(format!("not valid JSON ({e})")))?;
    let Value::Object(root) = root else {
        return Err(ChatError::NotAChat("the JSON is not an object".into()));
    };
    let mut ctx = Ctx {
        limits,
        messages: Vec::new(),
        dropped: 0,
        not_included: 0,
        long: 0,
        no_time: 0,
    };
    let mut warnings = Vec::new();
    let title;
    if root.get("messages").is_some_and(Value::is_array) {
        title = string_of(root.get("name")).map(|s| one_line(&s));
        ctx.chat(&root, None);
    } else if let Some(list) = chat_list(&root) {
        let chats: Vec<&serde_json::Map<String, Value>> =
            list.iter().filter_map(Value::as_object).collect();
        title = Some(format!("Telegram export of {} chat(s)", chats.len()));
        for c in chats {
            let name = string_of(c.get("name"))
                .map(|s| one_line(&s))
                .or_else(|| string_of(c.get("id")));
            ctx.chat(c, name);
        }
    } else {
        return Err(ChatError::NotAChat(
            "JSON without \"messages\" or \"chats\": not a Telegram Desktop export".into(),
        ));
    }
    if ctx.not_included > 0 {
        warnings.push(format!(
            "{} media file(s) were not included in the export (Telegram's export settings)",
            ctx.not_included
        ));
    }
    if ctx.dropped > 0 {
        warnings.push(format!(
            "{} message(s) past the limit of {} were not read (the sealed export keeps them)",
            ctx.dropped, limits.max_messages
        ));
    }
    if ctx.long > 0 {
        warnings.push(format!(
            "{} message text(s) longer than {} bytes were cut",
            ctx.long, limits.max_text
        ));
    }
    if ctx.no_time > 0 {
        warnings.push(format!("{} message(s) have no readable date", ctx.no_time));
    }
    Ok(Conversation {
        source: Kind::Telegram,
        title,
        messages: ctx.messages,
        warnings,
        time_note: Some(
            "UTC, from Telegram's date_unixtime; the time as written is the exporting computer's local time".into(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_chat() {
        let json = r#"{"name":"Group","type":"private_group","id":42,"messages":[
          {"id":1,"type":"service","date":"2023-12-31T21:40:00","date_unixtime":"1704058800","actor":"Alice","actor_id":"user1","action":"create_group","title":"Group","members":["Alice","Bob"],"text":"","text_entities":[]},
          {"id":2,"type":"message","date":"2023-12-31T21:41:05","date_unixtime":"1704058865","from":"Bob","from_id":"user2","text":["see ",{"type":"bold","text":"this"}],"photo":"photos/photo_1@31-12-2023_21-41-05.jpg","width":1,"height":1},
          {"id":3,"type":"message","date":"2023-12-31T21:42:00","from":"Alice","from_id":"user1","file":"(File not included. Change data exporting settings to download.)","media_type":"video_file","text":""}
        ]}"#;
        let c = parse(json.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(c.title.as_deref(), Some("Group"));
        assert_eq!(c.messages.len(), 3);
        assert!(c.messages[0].system);
        assert_eq!(c.messages[0].text, "[create_group] Group Alice, Bob");
        assert_eq!(c.messages[0].time.as_deref(), Some("2023-12-31T21:40:00Z"));
        let m = &c.messages[1];
        assert_eq!(m.sender.as_deref(), Some("Bob"));
        assert_eq!(m.sender_id.as_deref(), Some("user2"));
        assert_eq!(m.text, "see this");
        assert_eq!(m.time_text, "2023-12-31T21:41:05");
        assert_eq!(
            m.attachment.as_deref(),
            Some("photos/photo_1@31-12-2023_21-41-05.jpg")
        );
        assert_eq!(c.messages[2].time.as_deref(), Some("2023-12-31T21:42:00"));
        assert!(c.messages[2].attachment.is_none());
        assert_eq!(c.warnings.len(), 1);
    }

    #[test]
    fn full_export_and_garbage() {
        let json = r#"{"about":"x","chats":{"about":"y","list":[{"name":"A","id":1,"messages":[{"type":"message","from":"X","text":"hi","date":"2024-01-01T00:00:00"}]},{"name":null,"id":2,"messages":[{"type":"message","text":7}]}]}}"#;
        let c = parse(json.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(c.messages.len(), 2);
        assert_eq!(c.messages[0].chat.as_deref(), Some("A"));
        assert_eq!(c.messages[1].chat.as_deref(), Some("2"));
        for bad in [
            "",
            "[]",
            "{",
            "{\"messages\":3}",
            "nul",
            "{\"chats\":3}",
            "{\"chats\":{\"list\":{}}}",
        ] {
            assert!(parse(bad.as_bytes(), &Limits::default()).is_err(), "{bad}");
        }
        let deep = "[".repeat(100_000);
        assert!(parse(deep.as_bytes(), &Limits::default()).is_err());
    }

    #[test]
    fn bare_chat_list() {
        let json = r#"{"chats":[{"name":"A","id":1,"messages":[{"type":"message","from":"X","text":"hi","date":"2024-01-01T00:00:00","date_unixtime":"1704067200"}]},{"name":"B","id":2,"messages":[{"type":"message","from":"Y","text":"yo","date":"2024-01-02T00:00:00"}]}]}"#;
        let c = parse(json.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(c.title.as_deref(), Some("Telegram export of 2 chat(s)"));
        let got: Vec<(Option<&str>, &str, Option<&str>)> = c
            .messages
            .iter()
            .map(|m| (m.chat.as_deref(), m.text.as_str(), m.time.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (Some("A"), "hi", Some("2024-01-01T00:00:00Z")),
                (Some("B"), "yo", Some("2024-01-02T00:00:00"))
            ]
        );
        // An empty list is an export of no chats, not garbage.
        let c = parse(br#"{"chats":[]}"#, &Limits::default()).unwrap();
        assert!(c.messages.is_empty());
    }
}
