//! Small helpers: bounded integer reads, text decoding, dates, numbers.

/// Big-endian u16 at `off`, if in bounds.
pub(crate) fn be16(d: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        d.get(off..off.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// Big-endian u32 at `off`, if in bounds.
pub(crate) fn be32(d: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        d.get(off..off.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Big-endian u64 at `off`, if in bounds.
pub(crate) fn be64(d: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_be_bytes(
        d.get(off..off.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// Little-endian u16 at `off`, if in bounds.
pub(crate) fn le16(d: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        d.get(off..off.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// Little-endian u32 at `off`, if in bounds.
pub(crate) fn le32(d: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        d.get(off..off.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Text that is UTF-8 if it is valid UTF-8, else Latin-1.
pub(crate) fn text(b: &[u8]) -> String {
    let b = match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    };
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => latin1(b),
    }
}

/// Latin-1 bytes as a string.
pub(crate) fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

/// UTF-16 (big-endian unless `le`) as a string, up to a NUL.
pub(crate) fn utf16(b: &[u8], le: bool) -> String {
    let units = b.chunks_exact(2).map(|c| {
        if le {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    char::decode_utf16(units.take_while(|&u| u != 0))
        .map(|r| r.unwrap_or('\u{FFFD}'))
        .collect()
}

/// `YYYY:MM:DD HH:MM:SS` (EXIF) or `YYYY-MM-DDTHH:MM:SS` to
/// `YYYY-MM-DDTHH:MM:SS`, keeping any zone suffix (`Z`, `+08:00`) and
/// dropping fractions. `None` for blank or all-zero dates; anything else
/// that does not look like a date is returned trimmed as it is.
pub(crate) fn norm_datetime(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() || s.starts_with("0000") || s.chars().all(|c| !c.is_ascii_digit()) {
        return None;
    }
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|x| x.iter().all(u8::is_ascii_digit))
    };
    if b.len() >= 19
        && digits(0..4)
        && digits(5..7)
        && digits(8..10)
        && digits(11..13)
        && digits(14..16)
        && digits(17..19)
        && matches!(b[10], b' ' | b'T')
    {
        let mut rest = &s[19..];
        if let Some(r) = rest.strip_prefix('.') {
            rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
        }
        return Some(format!(
            "{}-{}-{}T{}:{}:{}{}",
            &s[0..4],
            &s[5..7],
            &s[8..10],
            &s[11..13],
            &s[14..16],
            &s[17..19],
            norm_zone(rest.trim()).unwrap_or_default()
        ));
    }
    Some(s.to_string())
}

/// `Z`, `+08:00`, `+0800` or `-05` to `Z` / `+08:00`; `None` otherwise.
pub(crate) fn norm_zone(z: &str) -> Option<String> {
    let b = z.as_bytes();
    if z == "Z" {
        return Some("Z".into());
    }
    if b.is_empty() || !matches!(b[0], b'+' | b'-') {
        return None;
    }
    let d: String = z[1..].chars().filter(|c| *c != ':').collect();
    if !d.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match d.len() {
        2 => Some(format!("{}{}:00", &z[..1], d)),
        4 => Some(format!("{}{}:{}", &z[..1], &d[..2], &d[2..])),
        _ => None,
    }
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn unix_to_rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A number with at most `places` decimals, trailing zeros removed.
pub(crate) fn num(x: f64, places: usize) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let s = format!("{x:.places$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

/// Turn free text into a field-name part: lowercase ASCII letters and
/// digits, runs of anything else become one `-`, at most `max` bytes.
pub(crate) fn slug(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= max {
            break;
        }
    }
    out.truncate(max);
    out.trim_end_matches('-').to_string()
}

/// Parse an ISO 6709 string such as `+27.1281+100.2508+000.000/` into
/// (latitude, longitude, altitude).
pub(crate) fn iso6709(s: &str) -> Option<(f64, f64, Option<f64>)> {
    let s = s.trim().trim_end_matches('/');
    let mut parts = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c == '+' || c == '-' {
            if let Some(st) = start {
                parts.push(&s[st..i]);
            }
            start = Some(i);
        }
    }
    if let Some(st) = start {
        parts.push(&s[st..]);
    }
    let lat: f64 = parts.first()?.parse().ok()?;
    let lon: f64 = parts.get(1)?.parse().ok()?;
    let alt = parts.get(2).and_then(|a| a.parse().ok());
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return None;
    }
    Some((lat, lon, alt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            norm_datetime("2008:05:30 15:56:01").as_deref(),
            Some("2008-05-30T15:56:01")
        );
        assert_eq!(
            norm_datetime("2005-09-07T15:07:40-07:00").as_deref(),
            Some("2005-09-07T15:07:40-07:00")
        );
        assert_eq!(
            norm_datetime("2024-02-02T16:09:57+0800").as_deref(),
            Some("2024-02-02T16:09:57+08:00")
        );
        assert_eq!(norm_datetime("0000:00:00 00:00:00"), None);
        assert_eq!(norm_datetime("    :  :     :  :  "), None);
        assert_eq!(unix_to_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(unix_to_rfc3339(1_706_861_397), "2024-02-02T08:09:57Z");
    }

    #[test]
    fn places() {
        assert_eq!(
            iso6709("+27.1281+100.2508+000.000/"),
            Some((27.1281, 100.2508, Some(0.0)))
        );
        assert_eq!(iso6709("-33.8+151.2/").map(|p| p.1), Some(151.2));
        assert_eq!(num(-0.00000001, 6), "0");
        assert_eq!(num(43.25, 9), "43.25");
        assert_eq!(slug("XML:com.adobe.xmp", 20), "xml-com-adobe-xmp");
    }
}
