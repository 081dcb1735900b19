//! guwah's strings in four languages, one Fluent file per language
//! (`locales/<lang>/web.ftl`), compiled in.
//!
//! English is the reference. `tests` fail when a language lacks a key
//! English has (or has one English lacks), when a message's variables
//! differ, or when a file does not parse — so a page can never fall back
//! to English in the middle of Uyghur text.
//!
//! ```
//! use guwah_i18n::{Catalog, Lang};
//! let strings = Catalog::new();
//! assert_eq!(strings.text(Lang::Fr, "nav-items", &[]), "Éléments");
//! assert_eq!(Lang::Ug.dir(), "rtl");
//! assert_eq!(Lang::from_accept_language("ug-CN, en;q=0.5"), Some(Lang::Ug));
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod lang;

pub use lang::Lang;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// The source of each language's file, by language.
pub fn source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => include_str!("../locales/en/web.ftl"),
        Lang::Fr => include_str!("../locales/fr/web.ftl"),
        Lang::Ug => include_str!("../locales/ug/web.ftl"),
        Lang::ZhHans => include_str!("../locales/zh-CN/web.ftl"),
    }
}

/// A value for a message's variable.
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    /// Text, shown as it is.
    Text(&'a str),
    /// A number (plural rules choose by it).
    Number(f64),
}

/// Every language's messages, parsed once; shared by every request.
pub struct Catalog {
    bundles: Vec<(Lang, FluentBundle<FluentResource>)>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").finish_non_exhaustive()
    }
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog::new()
    }
}

impl Catalog {
    /// Parse the compiled-in files. They are checked by this crate's
    /// tests, so a failure here is a build that never passed them.
    pub fn new() -> Catalog {
        let bundles = Lang::ALL
            .into_iter()
            .map(|lang| {
                let resource =
                    FluentResource::try_new(source(lang).to_owned()).unwrap_or_else(|(_, e)| {
                        panic!("{}: web.ftl does not parse: {e:?}", lang.code())
                    });
                let id: unic_langid::LanguageIdentifier =
                    lang.fluent_id().parse().expect("a valid language id");
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                // Variables (names, ids, numbers) are isolated from the
                // text around them (U+2068 … U+2069), so that a Latin name
                // or a hex id inside Uyghur keeps its own direction.
                bundle.set_use_isolating(true);
                bundle
                    .add_resource(resource)
                    .unwrap_or_else(|e| panic!("{}: duplicate keys: {e:?}", lang.code()));
                (lang, bundle)
            })
            .collect();
        Catalog { bundles }
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        &self
            .bundles
            .iter()
            .find(|(l, _)| *l == lang)
            .expect("every language has a bundle")
            .1
    }

    /// Whether `key` is a message.
    pub fn has(&self, key: &str) -> bool {
        self.bundle(Lang::En).has_message(key)
    }

    /// The message `key` in `lang` with `args`. A key that does not exist
    /// comes back as itself in brackets (`[key]`), which the tests of every
    /// page look for.
    pub fn text(&self, lang: Lang, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        let bundle = self.bundle(lang);
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            return format!("[{key}]");
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            let v = match value {
                Arg::Text(s) => FluentValue::from(*s),
                Arg::Number(n) => FluentValue::from(*n),
            };
            fluent_args.set(*name, v);
        }
        let mut errors = Vec::new();
        let out = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        if errors.is_empty() {
            out.into_owned()
        } else {
            format!("[{key}]")
        }
    }

    /// The message ids of `lang`'s file, in file order.
    pub fn keys(lang: Lang) -> Vec<String> {
        messages(source(lang)).into_iter().map(|m| m.0).collect()
    }
}

/// Each message of a Fluent source with the variables it uses: the
/// `key = …` lines and their indented continuations. Enough for our files'
/// shape (no terms, no attributes), which the tests hold them to.
fn messages(src: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in src.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let body = if line.starts_with(' ') || line.starts_with('}') {
            line
        } else if let Some((key, rest)) = line
            .split_once(" = ")
            .or_else(|| line.strip_suffix(" =").map(|k| (k, "")))
        {
            out.push((key.to_owned(), Vec::new()));
            rest
        } else {
            out.push((line.to_owned(), Vec::new()));
            ""
        };
        if let Some(last) = out.last_mut() {
            let mut rest = body;
            while let Some(at) = rest.find('$') {
                let name: String = rest[at + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                rest = &rest[at + 1 + name.len()..];
                if !last.1.contains(&name) {
                    last.1.push(name);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_key_and_the_same_variables() {
        let reference = messages(source(Lang::En));
        assert!(reference.len() > 100);
        for lang in Lang::ALL {
            let theirs = messages(source(lang));
            for (key, vars) in &reference {
                let Some((_, v)) = theirs.iter().find(|(k, _)| k == key) else {
                    panic!("{}: key {key} is missing", lang.code());
                };
                let (mut a, mut b) = (vars.clone(), v.clone());
                a.sort();
                b.sort();
                assert_eq!(a, b, "{}: {key} uses other variables", lang.code());
            }
            for (key, _) in &theirs {
                assert!(
                    reference.iter().any(|(k, _)| k == key),
                    "{}: key {key} is not in English",
                    lang.code()
                );
                assert!(
                    key.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                    "{}: {key:?} is not a plain key (a line the checks cannot read)",
                    lang.code()
                );
            }
        }
    }

    #[test]
    fn every_message_formats_without_errors_in_every_language() {
        let c = Catalog::new();
        for lang in Lang::ALL {
            for (key, vars) in messages(source(lang)) {
                let args: Vec<(&str, Arg<'_>)> = vars
                    .iter()
                    .map(|v| (v.as_str(), Arg::Number(2.0)))
                    .collect();
                let s = c.text(lang, &key, &args);
                assert!(
                    !s.starts_with('['),
                    "{}: {key} does not format",
                    lang.code()
                );
                assert!(!s.trim().is_empty(), "{}: {key} is empty", lang.code());
            }
        }
    }

    #[test]
    fn other_languages_translate_rather_than_copy_english() {
        // Words that are the same in every language: names and standards.
        let same_everywhere = ["app-name", "item-sha256"];
        let c = Catalog::new();
        for lang in [Lang::Ug, Lang::ZhHans] {
            for (key, vars) in messages(source(Lang::En)) {
                if same_everywhere.contains(&key.as_str()) {
                    continue;
                }
                let args: Vec<(&str, Arg<'_>)> = vars
                    .iter()
                    .map(|v| (v.as_str(), Arg::Number(3.0)))
                    .collect();
                let ours = c.text(Lang::En, &key, &args);
                let theirs = c.text(lang, &key, &args);
                assert_ne!(ours, theirs, "{}: {key} is still English", lang.code());
            }
        }
    }

    #[test]
    fn plurals_and_variables() {
        let c = Catalog::new();
        assert_eq!(
            c.text(Lang::En, "items-count", &[("total", Arg::Number(1.0))]),
            "One item"
        );
        assert_eq!(
            c.text(Lang::En, "items-count", &[("total", Arg::Number(3.0))]),
            "\u{2068}3\u{2069} items"
        );
        assert_eq!(c.text(Lang::En, "no-such-key", &[]), "[no-such-key]");
        let ug = c.text(
            Lang::Ug,
            "signed-in-as",
            &[("name", Arg::Text("amina")), ("role", Arg::Text("x"))],
        );
        assert!(ug.contains("\u{2068}amina\u{2069}"), "{ug}");
    }
}
