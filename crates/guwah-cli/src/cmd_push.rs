//! `guwah push`: send items from this vault to a team server
//! (`guwah serve`), which re-verifies each one (record signature,
//! inclusion proof, checkpoint, field values) before it accepts the bytes
//! (tus, resumed from where the server stands after a dropped connection).
//! Items the server holds already from this vault's log are skipped, so a
//! run after an interruption sends only what is missing.

use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

use clap::Args;
use guwah_vault::short_id;
use serde_json::Value;

use crate::context::{Ctx, Exit, Failure, Outcome, print_json, say};
use crate::http::{HttpClient, Reply};

/// Bytes per PATCH.
const CHUNK: usize = 8 << 20;
/// Tries of one chunk after a transport failure.
const RETRIES: u32 = 6;

/// `guwah push` arguments.
#[derive(Debug, Args)]
#[command(after_help = "\
Each item goes with its signed record, its inclusion proof, this vault's checkpoint and log key, \
and its field values with their salts; the server checks all of them before it takes a byte, then \
seals the item with a `received` event naming this log's origin, the item's index in it and the \
checkpoint, so the two logs are linked. Sending is sealed here too, as an `exported` event \
(output `push`, recipient the server).

The token is an API token of a collector or coordinator account on the server \
(`guwah user token NAME` there); give it with --token or GUWAH_TOKEN.")]
pub struct PushArgs {
    /// The team server, e.g. https://evidence.example.org
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// An API token of the server (default: $GUWAH_TOKEN).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "GUWAH_TOKEN",
        hide_env_values = true
    )]
    pub token: String,
    /// Items to send (ids or unique prefixes; default: every item).
    pub ids: Vec<String>,
}

fn fail(message: impl Into<String>) -> Failure {
    Failure::new(Exit::BadInput, message)
}

fn error_of(r: &Reply) -> String {
    serde_json::from_slice::<Value>(&r.body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("HTTP {}", r.status))
}

/// Run `guwah push`.
pub fn run(ctx: &Ctx, args: &PushArgs) -> Outcome {
    let server = args.server.trim_end_matches('/');
    if !(server.starts_with("https://") || server.starts_with("http://")) {
        return Err(fail(format!("--server {server:?}: give an http(s):// URL")));
    }
    let vault = ctx.open(true)?;
    let http = HttpClient::new("push", Duration::from_secs(300), 0);
    let auth = format!("Bearer {}", args.token.trim());
    let tus = [("Authorization", auth.as_str()), ("Tus-Resumable", "1.0.0")];

    let origin = vault.origin().to_owned();
    let url = format!("{server}/api/push/received?origin={}", percent(&origin));
    let r = http
        .send("GET", &url, &tus[..1], b"", 1 << 24)
        .map_err(|e| fail(format!("{server}: {e}")))?;
    if r.status != 200 {
        return Err(fail(format!("{server}: {}", error_of(&r))));
    }
    let received: std::collections::BTreeSet<u64> = serde_json::from_slice::<Value>(&r.body)
        .ok()
        .and_then(|v| v["indices"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_u64)
        .collect();

    let items = vault.list()?;
    let chosen: Vec<_> = if args.ids.is_empty() {
        items
    } else {
        let want: Vec<String> = args
            .ids
            .iter()
            .map(|i| vault.item_id(i))
            .collect::<Result<_, _>>()?;
        items.into_iter().filter(|i| want.contains(&i.id)).collect()
    };
    let (mut sent, mut skipped, mut refused) = (Vec::new(), 0usize, Vec::new());
    for item in &chosen {
        if received.contains(&item.leaf_index) {
            skipped += 1;
            continue;
        }
        let (bundle, mut original) = vault.push_out(&item.id, server)?;
        let body =
            serde_json::to_vec(&guwah_server::team::push_request(&bundle)).expect("serializes");
        let r = http
            .send(
                "POST",
                &format!("{server}/api/push"),
                &[(tus[0].0, tus[0].1), ("Content-Type", "application/json")],
                &body,
                1 << 20,
            )
            .map_err(|e| fail(format!("{server}: {e}")))?;
        let answer: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        match r.status {
            200 => {
                skipped += 1;
                continue;
            }
            201 => {}
            _ => {
                if !ctx.json {
                    say!("refused {}: {}", short_id(&item.id), error_of(&r));
                }
                refused.push((item.id.clone(), error_of(&r)));
                continue;
            }
        }
        let at = answer["upload"]
            .as_str()
            .ok_or_else(|| fail(format!("{server}: no upload named")))?;
        let upload = format!("{server}{at}");
        let sealed = send_bytes(&http, &upload, &tus, &mut original.reader, original.size)?;
        if !ctx.json {
            say!(
                "pushed {} -> {}  ({} bytes)",
                short_id(&item.id),
                short_id(&sealed),
                original.size
            );
        }
        sent.push((item.id.clone(), sealed));
    }
    if ctx.json {
        print_json(&serde_json::json!({
            "server": server,
            "sent": sent.iter().map(|(id, at)| serde_json::json!({"id": id, "item": at})).collect::<Vec<_>>(),
            "already": skipped,
            "refused": refused.iter().map(|(id, why)| serde_json::json!({"id": id, "why": why})).collect::<Vec<_>>(),
        }))?;
    } else {
        say!(
            "{} sent, {skipped} on the server already, {} refused",
            sent.len(),
            refused.len()
        );
    }
    Ok(if refused.is_empty() {
        Exit::Ok
    } else {
        Exit::Damaged
    })
}

/// Send the bytes of `reader` to the tus upload `url`, resuming from
/// where the server stands after a failure; the item it was sealed as.
fn send_bytes(
    http: &HttpClient,
    url: &str,
    tus: &[(&str, &str); 2],
    reader: &mut Box<dyn guwah_vault::ReadSeek + Send>,
    size: u64,
) -> Result<String, Failure> {
    let mut offset = 0u64;
    let mut tries = 0;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = usize::try_from((size - offset).min(CHUNK as u64)).expect("at most CHUNK");
        reader
            .seek(SeekFrom::Start(offset))
            .and_then(|_| reader.read_exact(&mut buf[..n]))
            .map_err(|e| Failure::new(Exit::Damaged, format!("reading the original: {e}")))?;
        let off = offset.to_string();
        let headers = [
            tus[0],
            tus[1],
            ("Upload-Offset", off.as_str()),
            ("Content-Type", "application/offset+octet-stream"),
        ];
        match http.send("PATCH", url, &headers, &buf[..n], 1 << 20) {
            Ok(r) if r.status == 204 => {
                offset = r
                    .header("upload-offset")
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| fail(format!("{url}: no Upload-Offset")))?;
                tries = 0;
                if offset == size {
                    return r
                        .header("x-guwah-item")
                        .map(str::to_owned)
                        .ok_or_else(|| fail(format!("{url}: no item named")));
                }
            }
            Ok(r) if r.status < 500 && r.status != 409 && r.status != 423 => {
                return Err(fail(format!("{url}: {}", error_of(&r))));
            }
            other => {
                tries += 1;
                if tries > RETRIES {
                    let why = match other {
                        Ok(r) => error_of(&r),
                        Err(e) => e.to_string(),
                    };
                    return Err(fail(format!(
                        "{url}: {why} (gave up after {RETRIES} tries)"
                    )));
                }
                std::thread::sleep(Duration::from_millis(250 << tries.min(5)));
                // Where the server stands now.
                if let Ok(r) = http.send("HEAD", url, tus, b"", 0)
                    && let Some(o) = r.header("upload-offset").and_then(|v| v.parse().ok())
                {
                    offset = o;
                }
            }
        }
    }
}

/// `s` percent-encoded for a query value.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
