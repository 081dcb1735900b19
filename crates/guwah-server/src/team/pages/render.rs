//! Templates (minijinja, autoescaped) and the strings they show (Fluent,
//! through `t("key", var=value)`).

use std::sync::LazyLock;

use guwah_i18n::{Arg, Catalog, Lang};
use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind, State};

/// Every template, by name, compiled in.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("items.html", include_str!("templates/items.html")),
    ("item.html", include_str!("templates/item.html")),
    ("upload.html", include_str!("templates/upload.html")),
    ("audit.html", include_str!("templates/audit.html")),
    ("users.html", include_str!("templates/users.html")),
    ("settings.html", include_str!("templates/settings.html")),
    ("error.html", include_str!("templates/error.html")),
];

/// The strings of every language.
pub static CATALOG: LazyLock<Catalog> = LazyLock::new(Catalog::new);

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // `.html` templates escape every value they print; that is the only
    // way evidence (file names, notes, metadata) reaches a page.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name}: {e}"));
    }
    env.add_function("t", translate);
    env.add_filter("size", human_size);
    env
});

/// The language of the page being rendered (its `lang` variable).
fn page_lang(state: &State) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or(Lang::En)
}

/// `t("key", name=value, …)`: the message in the page's language.
fn translate(state: &State, key: &str, kwargs: Kwargs) -> Result<String, Error> {
    if !CATALOG.has(key) {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            format!("no message {key:?} in the Fluent files"),
        ));
    }
    let names: Vec<&str> = kwargs.args().collect();
    let mut values: Vec<(String, Value)> = Vec::new();
    for name in &names {
        values.push((name.to_string(), kwargs.get::<Value>(name)?));
    }
    kwargs.assert_all_used()?;
    let texts: Vec<String> = values.iter().map(|(_, v)| v.to_string()).collect();
    let args: Vec<(&str, Arg<'_>)> = values
        .iter()
        .zip(&texts)
        .map(|((name, v), text)| {
            let arg = match v.as_i64() {
                Some(n) if v.kind() == minijinja::value::ValueKind::Number => Arg::Number(n as f64),
                _ => Arg::Text(text),
            };
            (name.as_str(), arg)
        })
        .collect();
    Ok(CATALOG.text(page_lang(state), key, &args))
}

/// Bytes as a short size (`1.4 MB`), in SI units as phones show them.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Render `template` with `ctx`; a template error is a bug (every
/// template and key is exercised by the tests), logged and answered 500.
pub fn render(template: &str, ctx: Value) -> Result<String, String> {
    let tpl = ENV.get_template(template).map_err(|e| e.to_string())?;
    tpl.render(ctx).map_err(|e| {
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            msg.push_str(&format!(": {s}"));
            source = s.source();
        }
        msg
    })
}

/// What a template shows that is not an expression, tag or comment: the
/// text the tests require to hold no words (every word comes from `t`).
pub fn template_text_outside_expressions(source: &str) -> String {
    let mut out = String::new();
    let mut rest = source;
    loop {
        let next = ["{{", "{%", "{#"]
            .iter()
            .filter_map(|open| rest.find(open).map(|i| (i, *open)))
            .min();
        let Some((at, open)) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..at]);
        let close = match open {
            "{{" => "}}",
            "{%" => "%}",
            _ => "#}",
        };
        rest = rest[at..]
            .find(close)
            .map_or("", |end| &rest[at + end + 2..]);
        out.push(' ');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(1_400_000), "1.4 MB");
    }

    #[test]
    fn text_outside_expressions() {
        assert_eq!(
            template_text_outside_expressions("<p>{{ t(\"a\") }}</p>{% if x %}b{% endif %}{# c #}"),
            "<p> </p> b  "
        );
    }
}
