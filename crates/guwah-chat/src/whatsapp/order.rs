//! Which of a date's three numbers is the day, the month and the year.
//!
//! The export does not say, so it is decided once per export from every
//! date in it, in this order of evidence:
//!
//! 1. **Values.** Only readings that make every date a real calendar date
//!    count: a month is 1–12, a day fits its month, a year has 2 or 4
//!    digits (two-digit years are 20xx) and lies in 1970–2099 — a year
//!    such as 1402 or 2566 is another calendar (Solar Hijri, Buddhist),
//!    left unparsed rather than misdated. If no reading fits every date,
//!    the one that fits most is used and the rest are counted in a warning.
//!    Readings that give every date the same value are one reading.
//! 2. **Attachment names.** iOS `00000005-PHOTO-2024-01-03-21-17-30.jpg`
//!    and Android `IMG-20240103-WA0005.jpg` carry the true date: the
//!    reading under which most such messages' dates equal their file's
//!    date wins.
//! 3. **Time order.** Exports run forwards: the reading under which the
//!    dates go backwards least often, then the one spanning the least time
//!    (a misread day becomes a month or year, stretching days into years)
//!    wins, with a warning naming the guess.
//! 4. **Convention.** Still tied: readings putting no date before 2009
//!    (when WhatsApp began) first, then `/` with AM/PM means month first
//!    (the US convention), else day first, then year first; with a warning.

use time::{Date, Month};

use super::header::Header;

/// A reading of a date's three numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    Dmy,
    Mdy,
    Ymd,
    Ydm,
}

const ALL: [Order; 4] = [Order::Dmy, Order::Mdy, Order::Ymd, Order::Ydm];

impl Order {
    fn name(self) -> &'static str {
        match self {
            Order::Dmy => "day/month/year",
            Order::Mdy => "month/day/year",
            Order::Ymd => "year/month/day",
            Order::Ydm => "year/day/month",
        }
    }

    /// Positions of the year, month and day among the three numbers.
    fn positions(self) -> (usize, usize, usize) {
        match self {
            Order::Dmy => (2, 1, 0),
            Order::Mdy => (2, 0, 1),
            Order::Ymd => (0, 1, 2),
            Order::Ydm => (0, 2, 1),
        }
    }
}

/// The date a header shows under a reading, if it is a real one.
pub(super) fn date(h: &Header<'_>, order: Order) -> Option<Date> {
    let (yi, mi, di) = order.positions();
    if h.digits[mi] > 2 || h.digits[di] > 2 {
        return None;
    }
    let year = match h.digits[yi] {
        2 => 2000 + h.nums[yi],
        4 => h.nums[yi],
        _ => return None,
    };
    if !(1970..=2099).contains(&year) {
        return None;
    }
    let month = Month::try_from(u8::try_from(h.nums[mi]).ok()?).ok()?;
    Date::from_calendar_date(
        i32::try_from(year).ok()?,
        month,
        u8::try_from(h.nums[di]).ok()?,
    )
    .ok()
}

/// The date in a WhatsApp media file name: iOS
/// `00000005-PHOTO-2024-01-03-21-17-30.jpg`, Android
/// `IMG-20240103-WA0005.jpg` (also `VID-`, `AUD-`, `PTT-`, `STK-`, `DOC-`).
pub(super) fn file_date(name: &str) -> Option<Date> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let upper = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase());
    let parts: Vec<&str> = name.splitn(8, '-').collect();
    let (y, m, d) = match parts.as_slice() {
        [n, kind, y, m, d, _, _, _]
            if digits(n, 8) && upper(kind) && digits(y, 4) && digits(m, 2) && digits(d, 2) =>
        {
            (*y, *m, *d)
        }
        [kind, ymd, wa, ..]
            if kind.len() == 3 && upper(kind) && digits(ymd, 8) && wa.starts_with("WA") =>
        {
            (&ymd[..4], &ymd[4..6], &ymd[6..])
        }
        _ => return None,
    };
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// Decide the reading of an export's dates. `files[i]` is the date in the
/// file name `heads[i]`'s message attaches, if any.
pub(super) fn decide(
    heads: &[Header<'_>],
    files: &[Option<Date>],
    warnings: &mut Vec<String>,
) -> Order {
    // 1. Values.
    let fits = ALL.map(|o| heads.iter().filter(|h| date(h, o).is_some()).count());
    let best = fits.iter().copied().max().unwrap_or(0);
    if best == 0 {
        warnings.push(
            "no date in this export is a calendar date in any day/month/year order (another calendar?); the times are left unparsed".into(),
        );
        return Order::Dmy;
    }
    if best < heads.len() {
        warnings.push(format!(
            "{} date(s) do not fit the day/month/year order of the others; their times are left unparsed",
            heads.len() - best
        ));
    }
    let mut cands: Vec<Order> = Vec::new();
    for (o, n) in ALL.into_iter().zip(fits) {
        let same_as_kept = |k: &Order| heads.iter().all(|h| date(h, o) == date(h, *k));
        if n == best && !cands.iter().any(same_as_kept) {
            cands.push(o);
        }
    }
    if let [only] = cands[..] {
        return only;
    }
    // 2. Attachment names.
    let matching = |o: Order| {
        heads
            .iter()
            .zip(files)
            .filter(|(h, f)| f.is_some() && date(h, o) == **f)
            .count()
    };
    let top = cands.iter().map(|&o| matching(o)).max().unwrap_or(0);
    if top > 0 {
        cands.retain(|&o| matching(o) == top);
        if let [only] = cands[..] {
            return only;
        }
    }
    // 3. Time order.
    let drift = |o: Order| {
        let (mut backwards, mut span, mut prev) = (0usize, 0u64, None::<i32>);
        for d in heads.iter().filter_map(|h| date(h, o)) {
            let day = d.to_julian_day();
            if let Some(p) = prev {
                backwards += usize::from(day < p);
                span += u64::from(day.abs_diff(p));
            }
            prev = Some(day);
        }
        (backwards, span)
    };
    let least = cands.iter().map(|&o| drift(o)).min().unwrap_or_default();
    let before = cands.clone();
    cands.retain(|&o| drift(o) == least);
    if let [only] = cands[..] {
        warnings.push(format!(
            "the order of day, month and year is ambiguous in every date of this export; assumed {} because the dates then stay in order over the shortest time (not {})",
            only.name(),
            others(&before, only)
        ));
        return only;
    }
    // 4. Convention.
    let pre_whatsapp = |o: Order| {
        heads
            .iter()
            .filter_map(|h| date(h, o))
            .any(|d| d.year() < 2009)
    };
    let us = heads.iter().any(|h| h.pm.is_some()) && heads.iter().any(|h| h.sep == '/');
    let prefs = if us {
        [Order::Mdy, Order::Dmy, Order::Ymd, Order::Ydm]
    } else {
        [Order::Dmy, Order::Mdy, Order::Ymd, Order::Ydm]
    };
    let pick = prefs
        .into_iter()
        .filter(|o| cands.contains(o))
        .min_by_key(|&o| pre_whatsapp(o))
        .unwrap_or(cands[0]);
    let why = if cands.iter().any(|&o| pre_whatsapp(o)) && !pre_whatsapp(pick) {
        "the others put dates before 2009, when WhatsApp began"
    } else if pick == Order::Mdy && us {
        "'/' dates with AM/PM times: the US convention"
    } else {
        "the convention of most locales"
    };
    warnings.push(format!(
        "the order of day, month and year is ambiguous in every date of this export; assumed {} ({why}; not {}), so the dates may be wrong",
        pick.name(),
        others(&cands, pick)
    ));
    pick
}

fn others(cands: &[Order], chosen: Order) -> String {
    cands
        .iter()
        .filter(|&&o| o != chosen)
        .map(|o| o.name())
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use super::super::header::header;
    use super::*;

    fn order_of(lines: &[&str], files: &[Option<&str>]) -> (Order, Vec<String>) {
        let heads: Vec<Header<'_>> = lines.iter().map(|l| header(l).expect(l)).collect();
        let mut f: Vec<Option<Date>> = files.iter().map(|n| n.and_then(file_date)).collect();
        f.resize(heads.len(), None);
        let mut w = Vec::new();
        (decide(&heads, &f, &mut w), w)
    }

    #[test]
    fn file_dates() {
        let d = |y, m, dd| Date::from_calendar_date(y, Month::try_from(m).unwrap(), dd).ok();
        assert_eq!(
            file_date("00000005-PHOTO-2024-01-03-21-17-30.jpg"),
            d(2024, 1, 3)
        );
        assert_eq!(file_date("IMG-20231231-WA0001.jpg"), d(2023, 12, 31));
        assert_eq!(file_date("PTT-20240229-WA0002.opus"), d(2024, 2, 29));
        for n in [
            "IMG-20230229-WA0001.jpg",
            "photo.jpg",
            "IMG-2023123-WA0001.jpg",
            "x-PHOTO-2024-01-03-21-17-30.jpg",
        ] {
            assert_eq!(file_date(n), None, "{n}");
        }
    }

    #[test]
    fn year_first_two_digit() {
        // Day-first would read 2030-12-19, 2031-12-19, 2001-01-20.
        let (o, w) = order_of(
            &[
                "19-12-30, 07:22 - A: x",
                "19-12-31, 08:00 - A: y",
                "20-01-01, 09:00 - A: z",
            ],
            &[],
        );
        assert_eq!(o, Order::Ymd);
        assert!(w.iter().any(|w| w.contains("stay in order")), "{w:?}");
        // Within one month every reading runs forwards: the span decides.
        let (o, _) = order_of(&["19-12-05, 07:22 - A: x", "19-12-07, 08:00 - A: y"], &[]);
        assert_eq!(o, Order::Ymd);
        let (o, _) = order_of(&["19-05-12, 07:22 - A: x", "19-07-12, 08:00 - A: y"], &[]);
        assert_eq!(o, Order::Ydm);
        // A value that can only be a day settles it without a warning.
        let (o, w) = order_of(&["19-30-12, 07:22 - A: x"], &[]);
        assert_eq!((o, w.len()), (Order::Ydm, 0));
    }

    #[test]
    fn attachment_names_break_ties() {
        // One message: every reading is in order; the file name says 3 Jan.
        let (o, w) = order_of(
            &["[24/01/03 21:17:30] A: <attached: 00000005-PHOTO-2024-01-03-21-17-30.jpg>"],
            &[Some("00000005-PHOTO-2024-01-03-21-17-30.jpg")],
        );
        assert_eq!((o, w.len()), (Order::Ymd, 0));
        let (o, w) = order_of(
            &["03/01/24, 21:17 - A: IMG-20240301-WA0005.jpg (file attached)"],
            &[Some("IMG-20240301-WA0005.jpg")],
        );
        assert_eq!((o, w.len()), (Order::Mdy, 0));
    }

    #[test]
    fn still_ambiguous_warns() {
        let (o, w) = order_of(&["24-03-05, 07:22 - A: x"], &[]);
        // Day first would be 2005, before WhatsApp; year/day/month is left.
        assert_eq!(o, Order::Ymd);
        assert!(
            w.iter()
                .any(|w| w.contains("ambiguous") && w.contains("2009")),
            "{w:?}"
        );
        let (o, w) = order_of(&["05.03.24, 07:22 - A: x"], &[]);
        assert_eq!(o, Order::Dmy);
        assert!(w.iter().any(|w| w.contains("may be wrong")), "{w:?}");
        // Readings that agree on every date are not ambiguous.
        let (_, w) = order_of(&["05.05.2024, 07:22 - A: x"], &[]);
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn other_calendars_are_not_misdated() {
        let (_, w) = order_of(&["1402/10/10, 07:22 - A: x"], &[]);
        assert!(w.iter().any(|w| w.contains("another calendar")), "{w:?}");
        let h = header("10/10/2566, 07:22 - A: x").unwrap();
        assert!(ALL.iter().all(|&o| date(&h, o).is_none()));
    }
}
