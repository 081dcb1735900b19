//! `guwah add --chat` and `guwah search`, end to end, on the hand-written
//! test exports in `crates/guwah-chat/tests/data/` (we wrote them; the
//! people in them are fictional) and on hostile exports built here.

mod common;
mod support;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use guwah_package::zip::ZipWriter;
use serde_json::Value;

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../guwah-chat/tests/data")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).expect("json")
}

fn add_chat(v: &TestVault, export: &str) -> Value {
    json(&v.ok(&["--json", "add", "--chat", export]))
}

fn statuses(report: &Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap().to_owned())
        .collect()
}

fn list_ids(v: &TestVault) -> Vec<String> {
    v.list()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn exports_are_sealed_linked_searchable_and_idempotent() {
    let v = TestVault::init();
    // iOS zip: 8 messages, 2 of 3 attachments present.
    let ios = add_chat(&v, &data("WhatsApp Chat - Cousins (test).zip"));
    assert_eq!(ios["app"], "whatsapp");
    assert_eq!(ios["chat_file"], "_chat.txt");
    assert!(ios["opaque"].is_null());
    assert_eq!(ios["export"]["status"], "added");
    assert_eq!(ios["export"]["media_type"], "application/zip");
    assert_eq!(ios["messages"].as_array().unwrap().len(), 8);
    assert_eq!(ios["attachments"].as_array().unwrap().len(), 2);
    assert!(
        ios["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("00000006-PHOTO")),
        "missing media is a warning: {ios}"
    );
    assert_eq!(ios["tree_size"], 11);

    // Android txt (no media beside it), German iOS text, Telegram folder.
    let android = add_chat(&v, &data("WhatsApp Chat with Family (test).txt"));
    assert_eq!(android["messages"].as_array().unwrap().len(), 10);
    assert_eq!(android["attachments"].as_array().unwrap().len(), 0);
    let german = add_chat(&v, &data("WhatsApp Chat mit Zeynep Beispiel.txt"));
    assert_eq!(german["messages"].as_array().unwrap().len(), 4);
    let tg = add_chat(&v, &data("telegram/ChatExport_2024-01-02"));
    assert_eq!(tg["app"], "telegram");
    assert!(
        tg["export"]["path"]
            .as_str()
            .unwrap()
            .ends_with("result.json")
    );
    assert_eq!(tg["messages"].as_array().unwrap().len(), 6);
    // The photo is the same bytes as the iOS one: one item, reported existing.
    assert_eq!(statuses(&tg, "attachments"), ["existing", "added"]);
    let size = tg["tree_size"].as_u64().unwrap();
    assert_eq!(size, 11 + 11 + 5 + 8);

    // list: the export, every message, every attachment.
    let ids = list_ids(&v);
    assert_eq!(ids.len() as u64, size);
    let export_id = ios["export"]["id"].as_str().unwrap();
    assert!(ids.iter().any(|i| i == export_id));
    for m in ios["messages"].as_array().unwrap() {
        assert!(ids.iter().any(|i| i == m["id"].as_str().unwrap()));
    }
    let types: Vec<String> = v
        .list()
        .iter()
        .map(|i| i["media_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types
            .iter()
            .filter(|t| *t == "application/vnd.guwah.chat-message")
            .count(),
        8 + 10 + 4 + 6
    );

    // show: the export lists its messages and attachments.
    let shown = json(&v.ok(&["--json", "show", export_id]));
    let chat = &shown["chat"];
    assert_eq!(chat["messages"].as_array().unwrap().len(), 8);
    assert_eq!(chat["attachments"].as_array().unwrap().len(), 2);
    assert_eq!(chat["messages"][3]["sender"], "Dilnur Test");
    let field = |d: &Value, name: &str| {
        d["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .map(|f| {
                assert_eq!(f["matches"], true);
                f["value"].as_str().unwrap().to_owned()
            })
    };
    assert_eq!(field(&shown, "chat.app").as_deref(), Some("whatsapp"));
    assert_eq!(field(&shown, "chat.messages").as_deref(), Some("8"));
    let text = v.ok(&["show", export_id]);
    assert!(
        text.contains("chat:") && text.contains("messages     8"),
        "{text}"
    );
    // A message: its fields, its export; an attachment: its export and message.
    let msg_id = ios["messages"][3]["id"].as_str().unwrap();
    let m = json(&v.ok(&["--json", "show", msg_id]));
    assert_eq!(m["media_type"], "application/vnd.guwah.chat-message");
    assert_eq!(field(&m, "chat.export").as_deref(), Some(export_id));
    assert_eq!(field(&m, "chat.sender").as_deref(), Some("Dilnur Test"));
    assert_eq!(
        field(&m, "chat.time").as_deref(),
        Some("2023-12-31T21:41:30")
    );
    assert_eq!(
        field(&m, "chat.time-text").as_deref(),
        Some("31/12/2023, 21:41:30")
    );
    assert_eq!(m["chat"]["export"], export_id);
    let att = &ios["attachments"][0];
    let a = json(&v.ok(&["--json", "show", att["id"].as_str().unwrap()]));
    assert_eq!(a["media_type"], "image/jpeg");
    assert_eq!(a["chat"]["export"], export_id);
    assert_eq!(a["chat"]["message"], ios["messages"][2]["id"]);
    // The message's original is its canonical rendering.
    let out = v.work.join("m.txt");
    v.ok(&["get", msg_id, "--out", out.to_str().unwrap()]);
    let size = size + 1; // `get` sealed an `exported` custody event.
    let rendered = fs::read_to_string(&out).unwrap();
    assert!(rendered.starts_with("guwah/chat-message/v1\napp whatsapp\nexport-sha256 "));
    assert!(rendered.contains("\nsender Dilnur Test\n"));
    assert!(rendered.ends_with(
        "\n\nThe list of names is in the voice note.\nPlease keep it, in case my phone is taken."
    ));

    // search: by a word (any case), by sender, by both; RTL text too.
    let hits = json(&v.ok(&["--json", "search", "VOICE NOTE"]));
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
    assert_eq!(hits[0]["id"], msg_id);
    let hits = json(&v.ok(&["--json", "search", "--sender", "kamil"]));
    assert_eq!(hits.as_array().unwrap().len(), 3, "{hits}");
    let hits = json(&v.ok(&["--json", "search", "statement", "--sender", "Kamil Sample"]));
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
    let hits = json(&v.ok(&["--json", "search", "ساقلىۋالدىم"]));
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
    let hits = json(&v.ok(&["--json", "search", "Cousins"]));
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .any(|h| h["kind"] == "export")
    );
    let text = v.ok(&["search", "north road"]);
    assert!(
        text.contains("Merve Example") && text.contains("1 match(es)"),
        "{text}"
    );
    let none = v.run(&["search"]);
    assert_eq!(none.status.code(), Some(2), "{}", common::text(&none));

    // verify passes; re-importing reports everything as existing.
    assert!(v.ok(&["verify"]).contains("OK:"));
    let again = add_chat(&v, &data("WhatsApp Chat - Cousins (test).zip"));
    assert_eq!(again["export"]["status"], "existing");
    assert!(statuses(&again, "messages").iter().all(|s| s == "existing"));
    assert!(
        statuses(&again, "attachments")
            .iter()
            .all(|s| s == "existing")
    );
    assert_eq!(again["tree_size"].as_u64(), Some(size));
    let again = add_chat(&v, &data("telegram/ChatExport_2024-01-02/result.json"));
    assert_eq!(again["tree_size"].as_u64(), Some(size));
    let text = v.ok(&[
        "add",
        "--chat",
        &data("WhatsApp Chat with Family (test).txt"),
    ]);
    assert!(text.contains("sealed 0 new item(s)"), "{text}");
}

/// Every file under `root`, recursively.
fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn sender_names_and_numbers_never_reach_the_disk() {
    let v = TestVault::init();
    let name = "Qzvmarker Ophelantis";
    let phone = "+99 555 0172 8831";
    let tg_id = "user7777123456789";
    let chat = format!(
        "[01/02/2024, 10:00:00] {name}: first words\n\
         [01/02/2024, 10:01:00] {phone}: ‎<attached: 00000001-PHOTO-2024-02-01-10-01-00.jpg>\n\
         [01/02/2024, 10:02:00] {name}: hello {phone}\n"
    );
    let zip_path = v.work.join(format!("WhatsApp Chat - {name}.zip"));
    let mut z = ZipWriter::new(fs::File::create(&zip_path).unwrap());
    z.add_entry("_chat.txt", chat.as_bytes()).unwrap();
    z.add_entry(
        "00000001-PHOTO-2024-02-01-10-01-00.jpg",
        &b"\xff\xd8\xff\xe0 photo"[..],
    )
    .unwrap();
    z.finish().unwrap();
    let txt = v.file(&format!("WhatsApp Chat with {name}.txt"), chat.as_bytes());
    let tg = v.file(
        "result.json",
        format!(
            r#"{{"name":"{name}","type":"personal_chat","id":1,"messages":[{{"id":1,"type":"message","date":"2024-02-01T10:00:00","date_unixtime":"1706781600","from":"{name}","from_id":"{tg_id}","text":"{phone}"}}]}}"#
        )
        .as_bytes(),
    );
    let r = add_chat(&v, zip_path.to_str().unwrap());
    assert_eq!(r["attachments"].as_array().unwrap().len(), 1);
    add_chat(&v, &txt);
    add_chat(&v, &tg);
    // The index holds them (sealed): search finds them.
    let hits = json(&v.ok(&["--json", "search", "--sender", "qzvmarker"]));
    assert_eq!(hits.as_array().unwrap().len(), 5, "{hits}");
    assert!(v.ok(&["verify"]).contains("OK:"));
    // ... and no vault file holds them in the clear.
    let all = files(&v.root);
    assert!(all.len() > 20);
    for f in all {
        let bytes = fs::read(&f).unwrap();
        for marker in [name, "Qzvmarker", "Ophelantis", phone, "0172 8831", tg_id] {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "{marker:?} found in {}",
                f.display()
            );
        }
    }
}

/// A zip of `entries`, as bytes.
fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut z = ZipWriter::new(Vec::new());
    for (n, b) in entries {
        z.add_entry(n, *b).unwrap();
    }
    z.finish().unwrap()
}

/// Patch the central-directory entry of the `nth` file: its method, CRC
/// and sizes as given.
fn patch_central(zip: &mut [u8], nth: usize, method: u16, crc: Option<u32>, size: Option<u32>) {
    let pos = zip
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"PK\x01\x02")
        .map(|(i, _)| i)
        .nth(nth)
        .unwrap();
    zip[pos + 10..pos + 12].copy_from_slice(&method.to_le_bytes());
    if let Some(c) = crc {
        zip[pos + 16..pos + 20].copy_from_slice(&c.to_le_bytes());
    }
    if let Some(s) = size {
        zip[pos + 24..pos + 28].copy_from_slice(&s.to_le_bytes());
    }
}

#[test]
fn hostile_exports_are_sealed_opaque_with_a_clear_message() {
    let v = TestVault::init();
    let chat = b"[01/02/2024, 10:00:00] A: hi\n".repeat(100);
    // A zip bomb: 2 KB that claim to inflate to 4 GB.
    let mut bomb = zip_bytes(&[("_chat.txt", &chat[..])]);
    patch_central(&mut bomb, 0, 8, None, Some(0xF000_0000));
    // A zip whose chat text fails its CRC (corrupt).
    let mut corrupt = zip_bytes(&[("_chat.txt", &chat[..])]);
    patch_central(&mut corrupt, 0, 0, Some(0xDEAD_BEEF), None);
    // Recursive containers: zips in a zip in a zip, no chat text anywhere.
    let inner = zip_bytes(&[("_chat.txt", &chat[..])]);
    let middle = zip_bytes(&[("inner.zip", &inner[..])]);
    let outer = zip_bytes(&[("middle.zip", &middle[..]), ("outer.zip", &middle[..])]);
    // Truncated: the iOS test export cut in half.
    let ios = fs::read(data("WhatsApp Chat - Cousins (test).zip")).unwrap();
    let truncated = ios[..ios.len() / 2].to_vec();
    // Mislabeled: a JPEG named as a chat export, and JSON that is no Telegram export.
    let jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00 not a chat".to_vec();
    let json_doc = br#"{"type": "FeatureCollection", "features": []}"#.to_vec();
    let cases: [(&str, &[u8], &str); 6] = [
        ("WhatsApp Chat - bomb.zip", &bomb, "zip bomb"),
        ("WhatsApp Chat - corrupt.zip", &corrupt, "CRC-32"),
        ("WhatsApp Chat - nested.zip", &outer, "nested archives"),
        ("WhatsApp Chat - cut.zip", &truncated, "truncated"),
        (
            "WhatsApp Chat with jpeg.txt",
            &jpeg,
            "no WhatsApp message lines",
        ),
        ("result.json", &json_doc, "not a Telegram Desktop export"),
    ];
    for (n, (name, bytes, why)) in cases.iter().enumerate() {
        let path = v.file(name, bytes);
        let o = v.run(&["--json", "add", "--chat", &path]);
        must_succeed(&o, name);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.lines().count() == 1 && err.contains("warning") && err.contains(why),
            "{name}: stderr {err:?}"
        );
        assert!(err.contains("sealed as an opaque item"), "{err}");
        let r = json(&String::from_utf8(o.stdout).unwrap());
        assert!(r["opaque"].as_str().unwrap().contains(why), "{r}");
        assert!(r["app"].is_null());
        assert_eq!(r["export"]["status"], "added");
        assert_eq!(r["messages"].as_array().unwrap().len(), 0);
        assert_eq!(r["attachments"].as_array().unwrap().len(), 0);
        // The file itself, exactly, and nothing else.
        assert_eq!(r["tree_size"].as_u64(), Some(n as u64 + 1), "{name}");
        assert_eq!(r["export"]["size"].as_u64(), Some(bytes.len() as u64));
    }
    assert_eq!(list_ids(&v).len(), cases.len());
    assert!(v.ok(&["verify"]).contains("OK:"));
    // Bad input that is not an export at all changes nothing.
    let o = v.run(&["add", "--chat", "/nonexistent/export.zip"]);
    assert_eq!(o.status.code(), Some(3));
    let empty = v.work.join("empty");
    fs::create_dir(&empty).unwrap();
    let o = v.run(&["add", "--chat", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", common::text(&o));
    assert_eq!(list_ids(&v).len(), cases.len());
}

#[test]
fn an_export_past_its_expansion_budget_is_refused_and_nothing_is_written() {
    let v = TestVault::init();
    let photo = "00000001-PHOTO-2024-02-01-10-01-00.jpg";
    let chat = format!(
        "[01/02/2024, 10:00:00] A: look\n[01/02/2024, 10:01:00] A: \u{200e}<attached: {photo}>\n"
    );
    // A 256 MiB "photo" (random bytes, then zeros) deflated into about
    // 300 KB: under the 1000x per-entry limit, past 64 MiB + 100 x the zip.
    let mut rng = common::Rng::from_env("expansion_budget");
    let big = support::deflate_zeros(&rng.bytes(50_000), 256 << 20);
    let zip = v.work.join("WhatsApp Chat - A.zip");
    support::write_zip(
        &zip,
        &[
            ("_chat.txt", &support::deflate(chat.as_bytes())),
            (photo, &big),
        ],
    );
    let zip_size = fs::metadata(&zip).unwrap().len();
    assert!(zip_size < 1 << 20, "{zip_size}");
    let before = common::snapshot(&v.root, &|_| false);
    let o = v.run(&["add", "--chat", zip.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{}", common::text(&o));
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for want in [
        zip.to_str().unwrap(),
        &format!("entry {photo:?}"),
        &format!("the archive's {zip_size} bytes"),
        "--max-expansion RATIO",
    ] {
        assert!(err.contains(want), "{want:?} not in {err}");
    }
    assert!(
        common::snapshot(&v.root, &|_| false) == before,
        "the vault changed"
    );
    assert!(list_ids(&v).is_empty());
    // A genuine huge export: the user raises the ratio, and it is sealed.
    let r = json(&v.ok(&[
        "--json",
        "add",
        "--chat",
        zip.to_str().unwrap(),
        "--max-expansion",
        "1000",
    ]));
    let att = r["attachments"].as_array().unwrap();
    assert_eq!(att.len(), 1, "{r}");
    assert_eq!(att[0]["size"].as_u64(), Some(256 << 20));
    // The flag only makes sense with --chat.
    let o = v.run(&["add", &v.file("x.txt", b"x"), "--max-expansion", "5"]);
    assert_eq!(o.status.code(), Some(2), "{}", common::text(&o));
}
