//! `REPORT.html`: the evidence package explained to a lawyer.
//!
//! One self-contained page: no scripts, no styles from elsewhere, no
//! network. Every value is HTML-escaped. All words come from one table per
//! language ([`EN`], [`FR`]); a test checks that both hold every key, so a
//! new language is one more table.

use std::fmt::Write as _;

/// The report's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// French.
    Fr,
}

impl Lang {
    /// Every language, for `--lang` help.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// `en` or `fr`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// Parse a language code.
    pub fn parse(code: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code))
    }

    fn table(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Lang::En => EN,
            Lang::Fr => FR,
        }
    }
}

/// English strings. `{…}` marks are filled in by the renderer.
pub const EN: &[(&str, &str)] = &[
    ("title", "Evidence package: report"),
    (
        "intro",
        "This package holds {items} item(s) of evidence. Each was sealed when it entered a guwah evidence vault: its exact bytes were hashed, described in a record signed by the person who collected it, and added to a public append-only log. The package lets anyone check, alone and offline, that each file is byte for byte the one sealed, when it was sealed and by whom, and every step of its custody since.",
    ),
    (
        "not-evidence",
        "This page is a convenience for readers. The evidence is the files and proofs in the package; if this page and the verification ever disagree, the verification prevails.",
    ),
    ("package", "About this package"),
    ("prepared-by", "Prepared by"),
    ("contact", "Contact"),
    ("created", "Created"),
    ("identifier", "Identifier"),
    ("description", "Description"),
    ("log", "Log"),
    (
        "log-text",
        "Every record in this package is proven to be in the log {origin}, as of its signed checkpoint covering {size} entries. The log's public key is:",
    ),
    (
        "key-warning",
        "Obtain this key from the vault's owner through another channel (in person, a published document) and compare it: a check against a key taken only from this package proves consistency, not origin.",
    ),
    ("how", "How to check this package"),
    ("how-cli", "With the guwah program:"),
    (
        "how-web",
        "Or open guwah's verify.html page in a browser (it works offline) and drop the package on it.",
    ),
    (
        "how-bagit",
        "Any BagIt tool (for example the Library of Congress's bagit-python) also checks that every file is complete and unaltered.",
    ),
    ("checks", "What the verification checks"),
    (
        "check-bag",
        "the package is a complete, valid BagIt bag: every file is listed, none is missing or extra, every SHA-256 and SHA-512 matches;",
    ),
    (
        "check-payload",
        "each original file has the size and SHA-256 fingerprint written in its sealed record;",
    ),
    (
        "check-record",
        "each record is well formed and signed by the collector's key it names;",
    ),
    (
        "check-proof",
        "each record is in the log: its inclusion proof leads to the root hash of the checkpoint;",
    ),
    (
        "check-checkpoint",
        "the checkpoint is signed by the log's key (the one you trust);",
    ),
    (
        "check-fields",
        "each disclosed detail (file name, note, source…) reproduces the salted fingerprint sealed in the record, and each withheld one is named;",
    ),
    (
        "check-events",
        "each custody event is signed, is about this item, and is in the log.",
    ),
    ("items", "Items"),
    ("item", "Item"),
    ("file", "File in the package"),
    ("media-type", "Type"),
    ("size", "Size"),
    ("bytes", "bytes"),
    ("sha256", "SHA-256"),
    ("sha512", "SHA-512"),
    ("sealed-at", "Sealed at (UTC)"),
    ("collector", "Collector's key"),
    ("log-entry", "Log entry"),
    ("details", "Details sealed with it"),
    ("withheld", "withheld"),
    (
        "withheld-text",
        "A withheld detail is left out of this package, but its salted fingerprint is still in the sealed record: if its value is disclosed later, anyone can check that it is the value sealed at the time (guwah disclose).",
    ),
    ("no-details", "No details were sealed with this item."),
    ("custody", "Custody timeline"),
    ("when", "When (UTC)"),
    ("what", "What"),
    ("by", "By (key)"),
    ("action-added", "sealed into the vault"),
    ("action-exported", "exported"),
    ("action-annotated", "annotated"),
    ("action-derived", "derivative made"),
    ("action-transferred", "custody transferred"),
    ("action-disclosed", "detail disclosed"),
    (
        "timestamps",
        "Independent timestamps: none in this package.",
    ),
    (
        "footer",
        "Generated by guwah. Times are UTC. Fingerprints are lowercase hexadecimal.",
    ),
];

/// French strings.
pub const FR: &[(&str, &str)] = &[
    ("title", "Dossier de preuves : rapport"),
    (
        "intro",
        "Ce dossier contient {items} élément(s) de preuve. Chacun a été scellé à son entrée dans un coffre de preuves guwah : ses octets exacts ont été hachés, décrits dans un enregistrement signé par la personne qui l'a recueilli, et ajoutés à un journal public en ajout seul. Le dossier permet à quiconque de vérifier, seul et hors ligne, que chaque fichier est octet pour octet celui qui a été scellé, quand et par qui il l'a été, et chaque étape de sa chaîne de possession depuis.",
    ),
    (
        "not-evidence",
        "Cette page est une aide à la lecture. La preuve, ce sont les fichiers et les preuves cryptographiques du dossier ; si cette page et la vérification divergent, la vérification prévaut.",
    ),
    ("package", "À propos de ce dossier"),
    ("prepared-by", "Préparé par"),
    ("contact", "Contact"),
    ("created", "Créé le"),
    ("identifier", "Identifiant"),
    ("description", "Description"),
    ("log", "Journal"),
    (
        "log-text",
        "Chaque enregistrement de ce dossier est prouvé présent dans le journal {origin}, selon son point de contrôle signé couvrant {size} entrées. La clé publique du journal est :",
    ),
    (
        "key-warning",
        "Obtenez cette clé auprès du détenteur du coffre par un autre canal (en personne, un document publié) et comparez-la : une vérification avec une clé prise seulement dans ce dossier prouve la cohérence, pas l'origine.",
    ),
    ("how", "Comment vérifier ce dossier"),
    ("how-cli", "Avec le programme guwah :"),
    (
        "how-web",
        "Ou ouvrez la page verify.html de guwah dans un navigateur (elle fonctionne hors ligne) et déposez-y le dossier.",
    ),
    (
        "how-bagit",
        "Tout outil BagIt (par exemple bagit-python de la Bibliothèque du Congrès) vérifie aussi que chaque fichier est complet et inaltéré.",
    ),
    ("checks", "Ce que la vérification contrôle"),
    (
        "check-bag",
        "le dossier est un sac BagIt complet et valide : chaque fichier est listé, aucun ne manque ni n'est en trop, chaque SHA-256 et SHA-512 correspond ;",
    ),
    (
        "check-payload",
        "chaque fichier original a la taille et l'empreinte SHA-256 inscrites dans son enregistrement scellé ;",
    ),
    (
        "check-record",
        "chaque enregistrement est bien formé et signé par la clé du collecteur qu'il nomme ;",
    ),
    (
        "check-proof",
        "chaque enregistrement est dans le journal : sa preuve d'inclusion mène à l'empreinte racine du point de contrôle ;",
    ),
    (
        "check-checkpoint",
        "le point de contrôle est signé par la clé du journal (celle en laquelle vous avez confiance) ;",
    ),
    (
        "check-fields",
        "chaque détail divulgué (nom de fichier, note, source…) reproduit l'empreinte salée scellée dans l'enregistrement, et chaque détail retenu est nommé ;",
    ),
    (
        "check-events",
        "chaque événement de la chaîne de possession est signé, concerne cet élément et figure dans le journal.",
    ),
    ("items", "Éléments"),
    ("item", "Élément"),
    ("file", "Fichier dans le dossier"),
    ("media-type", "Type"),
    ("size", "Taille"),
    ("bytes", "octets"),
    ("sha256", "SHA-256"),
    ("sha512", "SHA-512"),
    ("sealed-at", "Scellé le (UTC)"),
    ("collector", "Clé du collecteur"),
    ("log-entry", "Entrée du journal"),
    ("details", "Détails scellés avec lui"),
    ("withheld", "retenu"),
    (
        "withheld-text",
        "Un détail retenu est absent de ce dossier, mais son empreinte salée reste dans l'enregistrement scellé : si sa valeur est divulguée plus tard, chacun peut vérifier qu'il s'agit bien de la valeur scellée à l'époque (guwah disclose).",
    ),
    (
        "no-details",
        "Aucun détail n'a été scellé avec cet élément.",
    ),
    ("custody", "Chaîne de possession"),
    ("when", "Quand (UTC)"),
    ("what", "Quoi"),
    ("by", "Par (clé)"),
    ("action-added", "scellé dans le coffre"),
    ("action-exported", "exporté"),
    ("action-annotated", "annoté"),
    ("action-derived", "dérivé produit"),
    ("action-transferred", "possession transférée"),
    ("action-disclosed", "détail divulgué"),
    (
        "timestamps",
        "Horodatages indépendants : aucun dans ce dossier.",
    ),
    (
        "footer",
        "Produit par guwah. Heures en UTC. Empreintes en hexadécimal minuscule.",
    ),
];

fn t(lang: Lang, key: &str) -> &'static str {
    lang.table()
        .iter()
        .find(|(k, _)| *k == key)
        .or_else(|| EN.iter().find(|(k, _)| *k == key))
        .map_or("", |(_, v)| *v)
}

/// A field as shown in the report.
#[derive(Debug, Clone)]
pub struct ReportField {
    /// Name.
    pub name: String,
    /// Value, or `None` if withheld.
    pub value: Option<String>,
}

/// A custody event as shown in the report.
#[derive(Debug, Clone)]
pub struct ReportEvent {
    /// Log entry.
    pub leaf_index: u64,
    /// Action.
    pub action: String,
    /// When.
    pub at: String,
    /// Actor key, base64.
    pub actor: String,
    /// Details.
    pub fields: Vec<ReportField>,
}

/// An item as shown in the report.
#[derive(Debug, Clone)]
pub struct ReportItem {
    /// Item id.
    pub id: String,
    /// Log entry.
    pub leaf_index: u64,
    /// Payload path.
    pub payload: String,
    /// Media type.
    pub media_type: String,
    /// Size.
    pub size: u64,
    /// SHA-256 hex.
    pub sha256: String,
    /// SHA-512 hex (may be empty).
    pub sha512: String,
    /// Sealed at.
    pub sealed_at: String,
    /// Collector key, base64.
    pub collector: String,
    /// Fields.
    pub fields: Vec<ReportField>,
    /// Events, oldest first.
    pub events: Vec<ReportEvent>,
}

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct ReportData {
    /// Log origin.
    pub origin: String,
    /// Checkpoint size.
    pub checkpoint_size: u64,
    /// Log key (vkey).
    pub log_key: String,
    /// When the package was made.
    pub created: String,
    /// Source organization.
    pub org: Option<String>,
    /// Contact name.
    pub contact_name: Option<String>,
    /// Contact email.
    pub contact_email: Option<String>,
    /// Description.
    pub description: String,
    /// Identifier.
    pub identifier: String,
    /// Items.
    pub items: Vec<ReportItem>,
}

/// HTML-escape text (element content and attribute values).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:Georgia,serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.45;color:#111}\
h1,h2,h3{font-family:Helvetica,Arial,sans-serif}h3{border-top:1px solid #999;padding-top:1em}\
code,.hash{font-family:Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.25em .5em;vertical-align:top;text-align:left}\
th{background:#eee}.withheld{color:#8a1c1c;font-style:italic}.note{background:#f6f3e6;padding:.5em 1em;border-left:4px solid #b59b3b}\
pre{white-space:pre-wrap;word-break:break-all;background:#f4f4f4;padding:.5em}";

fn row(out: &mut String, k: &str, v: &str) {
    let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", escape(k), v);
}

fn field_value(lang: Lang, f: &ReportField) -> String {
    match &f.value {
        Some(v) => escape(v).replace('\n', "<br>"),
        None => format!(
            "<span class=\"withheld\">{}</span>",
            escape(t(lang, "withheld"))
        ),
    }
}

/// The whole page.
pub fn render(d: &ReportData, lang: Lang) -> String {
    let tr = |k: &str| escape(t(lang, k));
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        lang.code(),
        tr("title")
    );
    let _ = writeln!(o, "<h1>{}</h1>", tr("title"));
    let _ = writeln!(
        o,
        "<p>{}</p>",
        escape(&t(lang, "intro").replace("{items}", &d.items.len().to_string()))
    );
    let _ = writeln!(o, "<p class=\"note\">{}</p>", tr("not-evidence"));

    let _ = writeln!(o, "<h2>{}</h2>\n<table>", tr("package"));
    if let Some(org) = &d.org {
        row(&mut o, t(lang, "prepared-by"), &escape(org));
    }
    let contact: Vec<String> = [&d.contact_name, &d.contact_email]
        .into_iter()
        .flatten()
        .map(|s| escape(s))
        .collect();
    if !contact.is_empty() {
        row(&mut o, t(lang, "contact"), &contact.join(", "));
    }
    row(&mut o, t(lang, "created"), &escape(&d.created));
    row(&mut o, t(lang, "identifier"), &escape(&d.identifier));
    row(&mut o, t(lang, "description"), &escape(&d.description));
    let _ = writeln!(o, "</table>");

    let _ = writeln!(o, "<h2>{}</h2>", tr("log"));
    let _ = writeln!(
        o,
        "<p>{}</p>\n<pre>{}</pre>\n<p class=\"note\">{}</p>",
        escape(
            &t(lang, "log-text")
                .replace("{origin}", &d.origin)
                .replace("{size}", &d.checkpoint_size.to_string())
        ),
        escape(&d.log_key),
        tr("key-warning")
    );

    let _ = writeln!(o, "<h2>{}</h2>", tr("how"));
    let _ = writeln!(
        o,
        "<p>{}</p>\n<pre>guwah verify-bundle PACKAGE --trust '{}'</pre>\n<p>{}</p>\n<p>{}</p>",
        tr("how-cli"),
        escape(&d.log_key),
        tr("how-web"),
        tr("how-bagit")
    );
    let _ = writeln!(o, "<h3>{}</h3>\n<ul>", tr("checks"));
    for k in [
        "check-bag",
        "check-payload",
        "check-record",
        "check-proof",
        "check-checkpoint",
        "check-fields",
        "check-events",
    ] {
        let _ = writeln!(o, "<li>{}</li>", tr(k));
    }
    let _ = writeln!(o, "</ul>\n<p>{}</p>", tr("timestamps"));

    let _ = writeln!(o, "<h2>{}</h2>", tr("items"));
    let any_withheld = d
        .items
        .iter()
        .any(|i| i.fields.iter().any(|f| f.value.is_none()));
    if any_withheld {
        let _ = writeln!(o, "<p class=\"note\">{}</p>", tr("withheld-text"));
    }
    for (n, it) in d.items.iter().enumerate() {
        let _ = writeln!(
            o,
            "<h3 id=\"item-{}\">{} {}: <code>{}</code></h3>\n<table>",
            escape(&it.id),
            tr("item"),
            n + 1,
            escape(&it.payload)
        );
        row(
            &mut o,
            t(lang, "item"),
            &format!("<span class=\"hash\">{}</span>", escape(&it.id)),
        );
        row(
            &mut o,
            t(lang, "file"),
            &format!("<code>{}</code>", escape(&it.payload)),
        );
        row(&mut o, t(lang, "media-type"), &escape(&it.media_type));
        row(
            &mut o,
            t(lang, "size"),
            &format!("{} {}", it.size, tr("bytes")),
        );
        row(
            &mut o,
            t(lang, "sha256"),
            &format!("<span class=\"hash\">{}</span>", escape(&it.sha256)),
        );
        if !it.sha512.is_empty() {
            row(
                &mut o,
                t(lang, "sha512"),
                &format!("<span class=\"hash\">{}</span>", escape(&it.sha512)),
            );
        }
        row(&mut o, t(lang, "sealed-at"), &escape(&it.sealed_at));
        row(
            &mut o,
            t(lang, "collector"),
            &format!("<span class=\"hash\">{}</span>", escape(&it.collector)),
        );
        row(&mut o, t(lang, "log-entry"), &it.leaf_index.to_string());
        let _ = writeln!(o, "</table>");
        let _ = writeln!(o, "<h4>{}</h4>", tr("details"));
        if it.fields.is_empty() {
            let _ = writeln!(o, "<p>{}</p>", tr("no-details"));
        } else {
            let _ = writeln!(o, "<table>");
            for f in &it.fields {
                row(&mut o, &f.name, &field_value(lang, f));
            }
            let _ = writeln!(o, "</table>");
        }
        let _ = writeln!(
            o,
            "<h4>{}</h4>\n<table>\n<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            tr("custody"),
            tr("when"),
            tr("what"),
            tr("log-entry"),
            tr("by")
        );
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"hash\">{}</td></tr>",
            escape(&it.sealed_at),
            tr("action-added"),
            it.leaf_index,
            escape(&it.collector)
        );
        for e in &it.events {
            let label = match t(lang, &format!("action-{}", e.action)) {
                "" => escape(&e.action),
                s => escape(s),
            };
            let details: Vec<String> = e
                .fields
                .iter()
                .map(|f| format!("{}: {}", escape(&f.name), field_value(lang, f)))
                .collect();
            let details = if details.is_empty() {
                String::new()
            } else {
                format!("<br><small>{}</small>", details.join("<br>"))
            };
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{label}{details}</td><td>{}</td><td class=\"hash\">{}</td></tr>",
                escape(&e.at),
                e.leaf_index,
                escape(&e.actor)
            );
        }
        let _ = writeln!(o, "</table>");
    }
    let _ = writeln!(
        o,
        "<hr>\n<p><small>{}</small></p>\n</body>\n</html>",
        tr("footer")
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_in_every_language() {
        for lang in Lang::ALL {
            for (k, _) in EN {
                assert!(
                    lang.table().iter().any(|(k2, v)| k2 == k && !v.is_empty()),
                    "{k} missing in {}",
                    lang.code()
                );
            }
            for (k, _) in lang.table() {
                assert!(
                    EN.iter().any(|(k2, _)| k2 == k),
                    "{k} only in {}",
                    lang.code()
                );
            }
        }
    }

    #[test]
    fn escapes_everything_and_has_no_script() {
        let d = ReportData {
            origin: "o<x>".into(),
            checkpoint_size: 3,
            log_key: "k+1".into(),
            created: "2026-01-01T00:00:00Z".into(),
            org: Some("<script>alert(1)</script>".into()),
            contact_name: None,
            contact_email: Some("a\"b@c".into()),
            description: "d & e".into(),
            identifier: "i'd".into(),
            items: vec![ReportItem {
                id: "ab".into(),
                leaf_index: 0,
                payload: "data/ab-<img>".into(),
                media_type: "image/jpeg".into(),
                size: 1,
                sha256: "00".into(),
                sha512: String::new(),
                sealed_at: "t".into(),
                collector: "c".into(),
                fields: vec![
                    ReportField {
                        name: "note".into(),
                        value: Some("<b>x</b>".into()),
                    },
                    ReportField {
                        name: "gps".into(),
                        value: None,
                    },
                ],
                events: vec![],
            }],
        };
        for lang in Lang::ALL {
            let html = render(&d, lang);
            assert!(!html.contains("<script"), "{html}");
            assert!(!html.contains("<b>x"));
            assert!(!html.contains("<img"));
            assert!(html.contains("&lt;script&gt;"));
            assert!(!html.contains("http://") && !html.contains("https://"));
        }
        assert!(render(&d, Lang::Fr).contains("retenu"));
    }
}
