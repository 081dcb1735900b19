//! The languages, and choosing one from what a browser asks for.

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English.
    En,
    /// French.
    Fr,
    /// Uyghur in Arabic script (right to left).
    Ug,
    /// Chinese, Simplified.
    ZhHans,
}

impl Lang {
    /// Every language, English first.
    pub const ALL: [Lang; 4] = [Lang::En, Lang::Fr, Lang::Ug, Lang::ZhHans];

    /// The code used in URLs, cookies, settings and `lang=`: `en`, `fr`,
    /// `ug`, `zh-Hans`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::Ug => "ug",
            Lang::ZhHans => "zh-Hans",
        }
    }

    /// The language id Fluent's plural rules use.
    pub(crate) fn fluent_id(self) -> &'static str {
        match self {
            Lang::ZhHans => "zh",
            other => other.code(),
        }
    }

    /// `rtl` for Uyghur, `ltr` for the others.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ug => "rtl",
            _ => "ltr",
        }
    }

    /// The language's name in itself, for the switch on every page.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
            Lang::Ug => "ئۇيغۇرچە",
            Lang::ZhHans => "中文（简体）",
        }
    }

    /// The language with this code (as [`Lang::code`] spells it, or a
    /// BCP 47 tag whose primary language is one of ours: `zh-CN`,
    /// `fr-CA`, `ug-Arab-CN`). Any Chinese goes to Simplified, the only
    /// Chinese there is.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            "ug" => Some(Lang::Ug),
            "zh" => Some(Lang::ZhHans),
            _ => None,
        }
    }

    /// The best of our languages for an `Accept-Language` header (RFC 9110
    /// §12.5.4): the highest `q` among the ones we have; ties go to the
    /// order they were listed in. `None` when none is ours.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(u16, Lang)> = None;
        for part in header.split(',').take(32) {
            let mut pieces = part.split(';');
            let Some(lang) = pieces.next().and_then(Lang::parse) else {
                continue;
            };
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .next()
                .map_or(Some(1000), quality);
            let Some(q) = q else { continue };
            if q > 0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }
}

/// A `q` value as thousandths (`0.5` → 500), `None` when malformed.
fn quality(s: &str) -> Option<u16> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_value = format!("{frac:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(frac_value),
        "1" if frac_value == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language() {
        let a = Lang::from_accept_language;
        assert_eq!(a("ug"), Some(Lang::Ug));
        assert_eq!(a("de-DE, fr;q=0.8, en;q=0.5"), Some(Lang::Fr));
        assert_eq!(a("en;q=0.2, zh-CN;q=0.9"), Some(Lang::ZhHans));
        assert_eq!(a("zh-TW"), Some(Lang::ZhHans));
        assert_eq!(a("fr;q=0, en"), Some(Lang::En));
        assert_eq!(a("de, *;q=0.1"), None);
        assert_eq!(a("fr;q=2, en;q=x, ug;q=0.3"), Some(Lang::Ug));
        assert_eq!(a(""), None);
        assert_eq!(a("ug, fr"), Some(Lang::Ug));
    }

    #[test]
    fn codes_round_trip() {
        for l in Lang::ALL {
            assert_eq!(Lang::parse(l.code()), Some(l));
        }
        assert_eq!(Lang::parse("ug-Arab-CN"), Some(Lang::Ug));
        assert_eq!(Lang::parse("xx"), None);
    }
}
