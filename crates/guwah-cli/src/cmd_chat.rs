//! `guwah add --chat` and `guwah search`: messaging exports and finding
//! things in the sealed index.

use std::path::Path;

use clap::Args;
use guwah_vault::{AddOptions, AddStatus, Vault, short_id};

use crate::context::{Ctx, Exit, Failure, Outcome, print_json, write_stdout};
use crate::progress;
use crate::term::outln;

/// `guwah search` options.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Text to look for (case-insensitive) in message texts, senders, file
    /// names, notes, tags and sources.
    #[arg(value_name = "TEXT", required_unless_present = "sender")]
    pub text: Option<String>,
    /// Only messages whose sender contains NAME (or whose sender id is NAME).
    #[arg(long, value_name = "NAME")]
    pub sender: Option<String>,
}

/// First line of `s`, at most `max` characters.
fn snippet(s: &str, max: usize) -> String {
    let first = s.lines().next().unwrap_or("");
    let mut out: String = first.chars().take(max).collect();
    if out.len() < first.len() || s.lines().nth(1).is_some() {
        out.push('…');
    }
    out
}

/// `guwah add --chat EXPORT`: `max_expansion` bounds a .zip export (`None`: unlimited).
pub fn add_chat(
    ctx: &Ctx,
    export: &Path,
    opts: &AddOptions,
    max_expansion: Option<u64>,
) -> Outcome {
    let vault = ctx.open(true)?;
    let mut bar = progress::AddBar::new(ctx.quiet, None);
    let report = vault.add_chat_with(export, opts, max_expansion, &mut |p| bar.update(p))?;
    bar.finish();
    if let Some(why) = &report.opaque {
        eprintln!(
            "{}",
            crate::term::safe(&format!(
                "guwah: warning: {}: {why}",
                report.export.path.display()
            ))
        );
    }
    if ctx.json {
        print_json(&report)?;
        return Ok(Exit::Ok);
    }
    let status = |s: AddStatus| match s {
        AddStatus::Added => "added   ",
        AddStatus::Existing => "existing",
    };
    let mut out = String::new();
    let e = &report.export;
    outln!(
        out,
        "{} {}  {}  (the export{})",
        status(e.status),
        short_id(&e.id),
        e.path.display(),
        report
            .app
            .as_deref()
            .map(|a| format!(", {a}"))
            .unwrap_or_default()
    );
    if let Some(why) = &report.opaque {
        outln!(out, "         {why}");
    }
    let count =
        |s: AddStatus, it: &mut dyn Iterator<Item = AddStatus>| it.filter(|x| *x == s).count();
    let m_new = count(
        AddStatus::Added,
        &mut report.messages.iter().map(|m| m.status),
    );
    let a_new = count(
        AddStatus::Added,
        &mut report.attachments.iter().map(|a| a.status),
    );
    if report.opaque.is_none() {
        outln!(
            out,
            "messages     {} ({} new, {} existing; {} system lines)",
            report.messages.len(),
            m_new,
            report.messages.len() - m_new,
            report.messages.iter().filter(|m| m.system).count()
        );
        for a in &report.attachments {
            outln!(
                out,
                "{} {}  {}  (attachment of message {})",
                status(a.status),
                short_id(&a.id),
                a.name,
                a.message
            );
        }
    }
    for w in &report.warnings {
        outln!(out, "warning: {w}");
    }
    let new = usize::from(e.status == AddStatus::Added) + m_new + a_new;
    outln!(
        out,
        "sealed {new} new item(s); the log now holds {} entries",
        report.tree_size
    );
    write_stdout(out.as_bytes())?;
    Ok(Exit::Ok)
}

/// `guwah search TEXT [--sender NAME]`.
pub fn search(ctx: &Ctx, args: &SearchArgs) -> Outcome {
    let vault = ctx.open(true)?;
    let hits = vault.search(args.text.as_deref().unwrap_or(""), args.sender.as_deref())?;
    if ctx.json {
        print_json(&hits)?;
        return Ok(Exit::Ok);
    }
    let mut out = String::new();
    for h in &hits {
        let what = match h.kind.as_str() {
            "message" => format!(
                "{}  {}: {}",
                h.time.as_deref().unwrap_or("-"),
                h.sender.as_deref().unwrap_or("(system)"),
                snippet(h.text.as_deref().unwrap_or(""), 80)
            ),
            _ => format!("{}  {}", h.kind, h.text.as_deref().unwrap_or("-")),
        };
        outln!(
            out,
            "{}  {what}  [{}]",
            short_id(&h.id),
            h.matched.join(", ")
        );
    }
    outln!(out, "{} match(es)", hits.len());
    write_stdout(out.as_bytes())?;
    Ok(Exit::Ok)
}

/// The chat relations of an item, appended to `guwah show`'s text.
pub fn show_links(vault: &Vault, id: &str, out: &mut String) -> Result<(), Failure> {
    let links = vault.chat_links(id)?;
    if links.is_empty() {
        return Ok(());
    }
    outln!(out, "chat:");
    if let Some(e) = &links.export {
        outln!(out, "  export       {e}");
    }
    if let Some(m) = &links.message {
        outln!(out, "  message      {m}");
    }
    if !links.messages.is_empty() {
        outln!(out, "  messages     {}", links.messages.len());
    }
    for m in &links.messages {
        outln!(
            out,
            "    {}  #{:<5} {}  {}: {}",
            short_id(&m.id),
            m.index.map(|i| i.to_string()).unwrap_or_default(),
            m.time.as_deref().unwrap_or("-"),
            if m.system {
                "(system)"
            } else {
                m.sender.as_deref().unwrap_or("-")
            },
            snippet(&m.text, 60)
        );
    }
    if !links.attachments.is_empty() {
        outln!(out, "  attachments  {}", links.attachments.len());
    }
    for a in &links.attachments {
        outln!(out, "    {}  {}", short_id(&a.id), a.text);
    }
    Ok(())
}
