//! Dates as articles write them, turned into instants with an offset.
//!
//! Rules (also in README.md):
//! - A time without an offset is read in the configured IANA zone.
//! - A local time that falls in a DST gap (clocks jump forward) is read with
//!   the offset in force just before the gap, so it lands as far after the
//!   jump as it was written after the last valid minute: 02:30 on the night
//!   New York springs forward becomes 03:30 EDT. This is what RFC 5545,
//!   java.time and Temporal ("compatible") do.
//! - A local time that happens twice (clocks fall back) is the first of the
//!   two, the one still on summer time: 01:30 becomes 01:30 EDT.
//! - A date without a time of day is midnight at the start of that day in
//!   the configured zone.
//! - Years outside 1900–9999 are refused: RSS needs four digits and no
//!   newsroom publishes from before 1900.

use std::sync::LazyLock;

use chrono::{
    DateTime, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
};
use chrono_tz::Tz;
use regex::Regex;

/// `Published May 14, 2024 | 02:10 PM` to the end of the line: a byline
/// from its keyword on. The author is whatever precedes the keyword, so the
/// regex need not find where the author ends (`^(.*?)\s+Published…` had
/// to try each position with the backtracker; this one is anchored and
/// runs as a one-pass DFA, on every scraped article). Digits are ASCII:
/// chrono reads no others, and Unicode `\d` shares leading UTF-8 bytes with
/// `\s`, which is not one-pass. A line with other digits is still a byline
/// to `LOOKS_LIKE_BYLINE`, so it is refused as unreadable.
static BYLINE_FROM_KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^Published\s+(?P<date>[A-Za-z]+\.?\s+[0-9]{1,2},?\s+[0-9]{4})\s*\|\s*(?P<time>[0-9]{1,2}:[0-9]{1,2}\s*[AaPp]\.?[Mm]\.?)\s*$")
        .expect("byline regex")
});

/// The `Published` keyword: a line that has it is meant as a byline, so a
/// byline we cannot read is an error rather than body text.
static LOOKS_LIKE_BYLINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(^|\s)Published\s+\S+.*\d{4}").expect("regex"));

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Byline {
    pub author: Option<String>,
    pub local: NaiveDateTime,
}

/// Reads a byline line. `None`: not a byline. `Some(Err)`: a byline whose
/// date or time is impossible (`February 30`, `25:61 PM`).
pub fn parse_byline(line: &str) -> Option<Result<Byline, String>> {
    let line = line.trim();
    // `[Author ]Published …`: the first `Published` that starts the line or
    // follows whitespace and has a date after it (an author may be called
    // "Published" too).
    let found = line
        .match_indices("Published")
        .filter(|&(at, _)| at == 0 || line[..at].ends_with(char::is_whitespace))
        .find_map(|(at, _)| Some((at, BYLINE_FROM_KEYWORD.captures(&line[at..])?)));
    let Some((at, caps)) = found else {
        return LOOKS_LIKE_BYLINE
            .is_match(line)
            .then(|| Err(format!("unreadable byline date: {line:?}")));
    };
    let author = Some(line[..at].trim().to_string()).filter(|a| !a.is_empty());
    let date_text = caps["date"].replace(['.', ','], "");
    let date = NaiveDate::parse_from_str(&date_text, "%B %d %Y")
        .or_else(|_| NaiveDate::parse_from_str(&date_text, "%b %d %Y"))
        .map_err(|_| format!("impossible date in byline: {:?}", &caps["date"]));
    let time_text = caps["time"].replace('.', "").to_ascii_uppercase();
    let time = NaiveTime::parse_from_str(&time_text, "%I:%M %p")
        .or_else(|_| NaiveTime::parse_from_str(&time_text, "%I:%M%p"))
        .map_err(|_| format!("impossible time in byline: {:?}", &caps["time"]));
    Some(date.and_then(|d| {
        time.map(|t| Byline {
            author,
            local: d.and_time(t),
        })
    }))
}

/// A dateline's date: `14th May, 2024`, `3 Mar 2024`. ASCII digits, as in
/// the byline: one-pass, and all chrono reads.
static DATELINE_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([0-9]{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+([0-9]{4})$").expect("regex")
});

/// Whether `text` is shaped as a dateline's date (whether it is a real
/// date is [`parse_dateline_date`]'s to say).
pub fn is_dateline_date(text: &str) -> bool {
    DATELINE_DATE.is_match(text.trim())
}

/// `14th May, 2024` / `3 March 2024` from a dateline.
pub fn parse_dateline_date(text: &str) -> Result<NaiveDate, String> {
    let caps = DATELINE_DATE
        .captures(text.trim())
        .ok_or_else(|| format!("unreadable dateline date: {text:?}"))?;
    let plain = format!("{} {} {}", &caps[1], &caps[2], &caps[3]);
    NaiveDate::parse_from_str(&plain, "%d %B %Y")
        .or_else(|_| NaiveDate::parse_from_str(&plain, "%d %b %Y"))
        .map_err(|_| format!("impossible date in dateline: {text:?}"))
}

/// Dates as front matter and JSON write them: RFC 3339, RFC 2822, naive
/// `YYYY-MM-DD[T ]HH:MM[:SS[.f]]`, or a bare `YYYY-MM-DD`.
pub fn parse_date_str(s: &str, tz: Tz) -> Result<DateTime<FixedOffset>, String> {
    let s = s.trim();
    let at = if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        Some(d)
    } else if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        Some(d)
    } else if let Some(n) = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    {
        Some(localize(n, tz))
    } else {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(|d| start_of_day(d, tz))
    };
    let at = at.ok_or_else(|| format!("unreadable or impossible date {s:?}"))?;
    check_range(at)?;
    Ok(at)
}

/// Midnight at the start of `day` in `tz` (the documented time of day for a
/// date-only source).
pub fn start_of_day(day: NaiveDate, tz: Tz) -> DateTime<FixedOffset> {
    localize(day.and_time(NaiveTime::MIN), tz)
}

/// A wall-clock time in `tz`, with the DST rules in the module docs.
pub fn localize(local: NaiveDateTime, tz: Tz) -> DateTime<FixedOffset> {
    let at = match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.fixed_offset(),
        LocalResult::Ambiguous(first, _) => first.fixed_offset(),
        LocalResult::None => {
            // Offset before the gap: the one in force a day earlier (no zone
            // has two transitions within a day).
            let before = tz
                .offset_from_local_datetime(&(local - Duration::days(1)))
                .earliest()
                .map(|o| chrono::Offset::fix(&o))
                .unwrap_or_else(|| chrono::Offset::fix(&chrono::Utc));
            let utc = local - Duration::seconds(i64::from(before.local_minus_utc()));
            tz.from_utc_datetime(&utc).fixed_offset()
        }
    };
    whole_minutes(at)
}

/// The same instant with an offset of whole minutes, which RFC 3339 and
/// RFC 2822 can write: a zone's local mean time, before it took standard
/// time, has seconds in its offset (Karachi until 1907: +04:28:12), and
/// writing that offset cut to minutes beside the same wall clock would
/// name another instant.
pub fn whole_minutes(at: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    let seconds = at.offset().local_minus_utc();
    if seconds % 60 == 0 {
        return at;
    }
    let minutes = (f64::from(seconds) / 60.0).round() as i32;
    FixedOffset::east_opt(minutes * 60).map_or(at, |offset| at.with_timezone(&offset))
}

/// `at` without its fraction of a second.
pub fn whole_seconds(at: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    use chrono::Timelike;
    at.with_nanosecond(0).unwrap_or(at)
}

/// Years 1900-9999, where it is written and in UTC (what feeds write and
/// the catalog compares).
pub fn check_range(at: DateTime<FixedOffset>) -> Result<(), String> {
    use chrono::Datelike;
    let years = 1900..=9999;
    if years.contains(&at.year()) && years.contains(&at.naive_utc().year()) {
        Ok(())
    } else {
        Err(format!(
            "date out of range (years 1900-9999): {}",
            at.to_rfc3339()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use chrono_tz::Asia::Karachi;

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("test date")
    }

    #[test]
    fn seed_byline_reads_in_karachi() {
        let b = parse_byline("Umer Jamshaid Published May 14, 2024 | 02:10 PM")
            .expect("is a byline")
            .expect("valid");
        assert_eq!(b.author.as_deref(), Some("Umer Jamshaid"));
        assert_eq!(
            localize(b.local, Karachi).to_rfc2822(),
            "Tue, 14 May 2024 14:10:00 +0500"
        );
    }

    #[test]
    fn twelve_o_clock_am_is_midnight_and_pm_is_noon() {
        let am = parse_byline("Published June 1, 2024 | 12:30 AM")
            .expect("byline")
            .expect("ok");
        let pm = parse_byline("Published June 1, 2024 | 12:05 PM")
            .expect("byline")
            .expect("ok");
        assert_eq!(am.author, None);
        let named = parse_byline("Published Desk Published June 1, 2024 | 12:05 PM")
            .expect("byline")
            .expect("ok");
        assert_eq!(named.author.as_deref(), Some("Published Desk"));
        assert!(parse_byline("UnPublished June 1, 2024 | 12:05 PM").is_none());
        assert_eq!(am.local, local("2024-06-01 00:30"));
        assert_eq!(pm.local, local("2024-06-01 12:05"));
    }

    #[test]
    fn impossible_dates_are_errors_not_guesses() {
        assert!(parse_byline("X Published February 30, 2024 | 10:00 AM")
            .expect("byline")
            .is_err());
        assert!(parse_byline("X Published May 14, 2024 | 25:61 PM")
            .expect("byline")
            .is_err());
        assert!(parse_byline("Published Maytember 14, 2024 | 10:00 AM")
            .expect("byline")
            .is_err());
        assert!(parse_byline("The plan was published last year").is_none());
        assert!(parse_date_str("2024-02-30", Karachi).is_err());
        assert!(parse_date_str("0000-01-01T00:00:00Z", Karachi).is_err());
        assert!(parse_date_str("9999-12-31T00:00:00Z", Karachi).is_ok());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// The keyword search reads every line as the whole-line regex it
        /// replaced does (kept here as the definition, with the ASCII digits
        /// that chrono reads).
        #[test]
        fn the_byline_reader_agrees_with_the_one_regex_definition(
            words in proptest::collection::vec(proptest::sample::select(
                &["Published", "UnPublished", "Umer", "14,", "|", "Ш"][..],
            ), 0..4),
            tail in proptest::sample::select(&[
                "Published May 14, 2024 | 02:10 PM",
                "Published  Sept. 3 2024|2:05 p.m. ",
                "Published February 30, 2024 | 10:00 AM",
                "Published May 14, 2024 | 25:61 PM",
                "Published May 14, 2024",
                "Published May 14, 2024 | 02:10 PM and more",
                "PublishedMay 14, 2024 | 02:10 PM",
                "",
            ][..]),
            seps in proptest::collection::vec("[ \t\u{a0}]{0,2}", 5),
        ) {
            let line: String = words.iter().chain([&tail]).zip(&seps).map(|(w, s)| format!("{w}{s}")).collect();
            let definition = Regex::new(r"^(?:(?P<author>.*?)\s+)?Published\s+(?P<date>[A-Za-z]+\.?\s+[0-9]{1,2},?\s+[0-9]{4})\s*\|\s*(?P<time>[0-9]{1,2}:[0-9]{1,2}\s*[AaPp]\.?[Mm]\.?)\s*$")
                .expect("regex");
            let expected = definition.captures(line.trim()).map(|c| {
                c.name("author").map(|a| a.as_str().trim().to_string()).filter(|a| !a.is_empty())
            });
            match parse_byline(&line) {
                Some(Ok(b)) => proptest::prop_assert_eq!(Some(b.author), expected, "{:?}", line),
                // A byline the regex matches whose date is impossible.
                Some(Err(e)) if e.starts_with("impossible") => proptest::prop_assert!(expected.is_some(), "{:?}", line),
                _ => proptest::prop_assert!(expected.is_none(), "{:?}", line),
            }
        }
    }

    #[test]
    fn dst_gap_moves_forward_and_repeat_takes_the_first() {
        assert_eq!(
            localize(local("2024-03-10 02:30"), New_York).to_rfc3339(),
            "2024-03-10T03:30:00-04:00"
        );
        assert_eq!(
            localize(local("2024-11-03 01:30"), New_York).to_rfc3339(),
            "2024-11-03T01:30:00-04:00"
        );
    }

    #[test]
    fn an_offset_with_seconds_becomes_whole_minutes_at_the_same_instant() {
        let local = NaiveDate::from_ymd_opt(1901, 6, 1)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("date");
        let at = localize(local, Karachi);
        assert_eq!(at.to_utc().to_rfc3339(), "1901-06-01T05:31:48+00:00");
        assert_eq!(at.offset().local_minus_utc(), 4 * 3600 + 28 * 60);
        let written = DateTime::parse_from_rfc2822(&at.to_rfc2822()).expect("rfc2822");
        assert_eq!(written, at, "{}", at.to_rfc2822());
    }

    #[test]
    fn a_date_past_9999_in_utc_is_out_of_range() {
        let late = DateTime::parse_from_rfc3339("9999-12-31T23:00:00-05:00").expect("date");
        assert!(check_range(late).is_err());
        let early = DateTime::parse_from_rfc3339("1900-01-01T01:00:00+05:00").expect("date");
        assert!(check_range(early).is_err(), "1899 in UTC");
    }

    #[test]
    fn front_matter_formats() {
        let p = parse_date_str("2024-05-21T10:00:00+05:00", New_York).expect("rfc3339");
        assert_eq!(p.to_rfc3339(), "2024-05-21T10:00:00+05:00");
        let p = parse_date_str("2024-05-20T08:30:00", Karachi).expect("naive");
        assert_eq!(p.to_rfc3339(), "2024-05-20T08:30:00+05:00");
        let p = parse_date_str("2024-05-23", Karachi).expect("date");
        assert_eq!(p.to_rfc3339(), "2024-05-23T00:00:00+05:00");
        let p = parse_date_str("Tue, 14 May 2024 14:10:00 +0500", Karachi).expect("2822");
        assert_eq!(p.to_rfc3339(), "2024-05-14T14:10:00+05:00");
    }

    #[test]
    fn dateline_dates() {
        assert_eq!(
            parse_dateline_date("14th May, 2024"),
            Ok(NaiveDate::from_ymd_opt(2024, 5, 14).expect("d"))
        );
        assert_eq!(
            parse_dateline_date("3 Mar 2024"),
            Ok(NaiveDate::from_ymd_opt(2024, 3, 3).expect("d"))
        );
        assert!(parse_dateline_date("30th February, 2024").is_err());
    }
}
