//! What callers say about dates and times, resolved in the business's time zone relative to
//! the call's start. Models resolve "tomorrow" against the wrong day or append a `Z`; we
//! resolve server-side and always say the result back in local time.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq, Clone)]
pub enum DateError {
    #[error("the date is empty")]
    Empty,
    #[error("I could not understand the date {0:?}")]
    Unrecognized(String),
    #[error("{0:?} is not a date on the calendar")]
    NoSuchDate(String),
    #[error("{0:?} is more than a year away")]
    TooFarAhead(String),
}

/// How far ahead a date may be: appointments are booked up to a year out.
pub const MAX_DAYS_AHEAD: u32 = 366;

#[derive(Debug, Error, PartialEq, Eq, Clone)]
pub enum TimeError {
    #[error("the time is empty")]
    Empty,
    #[error("I could not understand the time {0:?}")]
    Unrecognized(String),
}

/// A requested start that cannot be used as it is.
#[derive(Debug, Error, PartialEq, Clone)]
pub enum StartError {
    #[error(transparent)]
    Date(#[from] DateError),
    #[error(transparent)]
    Time(#[from] TimeError),
    /// The local time falls in a daylight-saving gap; `before`/`after` are the nearest valid times.
    #[error("that time does not exist on that day because the clocks change")]
    Nonexistent {
        before: DateTime<Tz>,
        after: DateTime<Tz>,
    },
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

const NUMBER_WORDS: [&str; 13] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve",
];

fn weekday_named(word: &str) -> Option<Weekday> {
    let word = word.trim_end_matches('s'); // "fridays"
    WEEKDAYS
        .iter()
        .find(|(name, _)| *name == word || (word.len() >= 3 && name.starts_with(word)))
        .map(|(_, d)| *d)
}

fn month_named(word: &str) -> Option<u32> {
    let word = word.trim_end_matches('.');
    if word.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(word))
        .map(|i| i as u32 + 1)
}

fn number_word(word: &str) -> Option<u32> {
    word.parse::<u32>().ok().or_else(|| {
        NUMBER_WORDS
            .iter()
            .position(|w| *w == word)
            .map(|i| i as u32)
    })
}

/// "28th" → 28
fn day_number(word: &str) -> Option<u32> {
    let digits = word
        .strip_suffix("st")
        .or_else(|| word.strip_suffix("nd"))
        .or_else(|| word.strip_suffix("rd"))
        .or_else(|| word.strip_suffix("th"))
        .unwrap_or(word);
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

fn normalize(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .replace([',', '!', '?'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Resolves a spoken or written date relative to `today` (the call's date in the business zone).
/// `month_first` chooses how numeric dates read: 11/28 (US) or 28/11 (elsewhere).
pub fn resolve_date(
    text: &str,
    today: NaiveDate,
    month_first: bool,
) -> Result<NaiveDate, DateError> {
    let norm = normalize(text);
    let norm = norm.trim_end_matches('.').trim();
    if norm.is_empty() {
        return Err(DateError::Empty);
    }
    let unrecognized = || DateError::Unrecognized(text.trim().to_string());
    let norm = norm.strip_prefix("on ").unwrap_or(norm);

    match norm {
        "today" | "tonight" | "this evening" | "this afternoon" | "this morning" | "now" => {
            return Ok(today);
        }
        "tomorrow" | "tmrw" | "tomorrow morning" | "tomorrow afternoon" | "tomorrow evening" => {
            return Ok(today + Duration::days(1));
        }
        "the day after tomorrow" | "day after tomorrow" | "overmorrow" => {
            return Ok(today + Duration::days(2));
        }
        _ => {}
    }

    // ISO date, or a timestamp whose date part is wanted.
    if let Some(head) = norm.get(..10)
        && let Ok(d) = NaiveDate::parse_from_str(head, "%Y-%m-%d")
        && norm
            .get(10..)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['t', ' ']))
    {
        return within_horizon(today, d, text);
    }

    let words: Vec<&str> = norm.split(' ').collect();

    // "in 3 days", "in a week"
    if words.first() == Some(&"in") && words.len() == 3 {
        let n = if words[1] == "a" || words[1] == "an" {
            Some(1)
        } else {
            number_word(words[1])
        };
        if let Some(n) = n {
            let days = match words[2] {
                "day" | "days" => Some(n),
                "week" | "weeks" => n.checked_mul(7),
                _ => return Err(unrecognized()),
            };
            return days
                .filter(|d| *d <= MAX_DAYS_AHEAD)
                .and_then(|d| today.checked_add_signed(Duration::days(i64::from(d))))
                .ok_or_else(|| DateError::TooFarAhead(text.trim().to_string()));
        }
        return Err(unrecognized());
    }

    // "friday", "this friday", "next friday", "friday next week": the first one after today.
    let without_qualifier: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !matches!(*w, "this" | "next" | "coming" | "the" | "week"))
        .collect();
    if without_qualifier.len() == 1
        && let Some(day) = weekday_named(without_qualifier[0])
    {
        return Ok(next_weekday_after(today, day));
    }

    // Numeric: 11/28, 11/28/2026, 28/11/26
    if words.len() == 1 && norm.contains('/') {
        let parts: Vec<&str> = norm.split('/').collect();
        let nums: Option<Vec<i32>> = parts.iter().map(|p| p.parse::<i32>().ok()).collect();
        let nums = nums.ok_or_else(unrecognized)?;
        let (m, d) = match nums.as_slice() {
            [a, b] | [a, b, _] if month_first => (*a, *b),
            [a, b] | [a, b, _] => (*b, *a),
            _ => return Err(unrecognized()),
        };
        let year = match nums.get(2) {
            Some(y) if *y < 100 => Some(2000 + y),
            Some(y) => Some(*y),
            None => None,
        };
        return month_day(today, m as u32, d as u32, year, text);
    }

    // "November 28", "Nov 28th 2026", "28 November", "the 28th of November", "Friday November 28"
    let mut month = None;
    let mut day = None;
    let mut year = None;
    let mut weekday = None;
    for w in &words {
        if matches!(*w, "of" | "the") {
            continue;
        }
        if let Some(m) = month_named(w).filter(|_| month.is_none()) {
            month = Some(m);
        } else if let Some(d) =
            weekday_named(w).filter(|_| weekday.is_none() && month.is_none() && day.is_none())
        {
            weekday = Some(d);
        } else if let Some(d) = day_number(w).filter(|_| day.is_none()) {
            day = Some(d);
        } else if let Ok(y) = w.parse::<i32>()
            && (2000..=2100).contains(&y)
            && year.is_none()
        {
            year = Some(y);
        } else {
            return Err(unrecognized());
        }
    }
    match (month, day) {
        (Some(m), Some(d)) => month_day(today, m, d, year, text),
        _ => Err(unrecognized()),
    }
}

fn within_horizon(today: NaiveDate, date: NaiveDate, text: &str) -> Result<NaiveDate, DateError> {
    if (date - today).num_days() > i64::from(MAX_DAYS_AHEAD) {
        Err(DateError::TooFarAhead(text.trim().to_string()))
    } else {
        Ok(date)
    }
}

/// The first `day` strictly after `today`.
pub fn next_weekday_after(today: NaiveDate, day: Weekday) -> NaiveDate {
    let ahead =
        (7 + day.num_days_from_monday() as i64 - today.weekday().num_days_from_monday() as i64) % 7;
    today + Duration::days(if ahead == 0 { 7 } else { ahead })
}

fn month_day(
    today: NaiveDate,
    m: u32,
    d: u32,
    year: Option<i32>,
    text: &str,
) -> Result<NaiveDate, DateError> {
    let no_such = || DateError::NoSuchDate(text.trim().to_string());
    if let Some(y) = year {
        let date = NaiveDate::from_ymd_opt(y, m, d).ok_or_else(no_such)?;
        return within_horizon(today, date, text);
    }
    // Without a year: the next time that date comes round (today included).
    for y in today.year()..=today.year() + 4 {
        if let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
            && date >= today
        {
            return Ok(date);
        }
    }
    Err(no_such())
}

/// Parses a clock time: "2pm", "2:30 pm", "14:00", "noon", "half past two", "2 o'clock".
/// A bare hour from 1 to 6 means the afternoon: nobody books a 3 AM appointment.
pub fn parse_time(text: &str) -> Result<NaiveTime, TimeError> {
    let norm = normalize(text);
    let norm = norm.strip_prefix("at ").unwrap_or(&norm).trim();
    if norm.is_empty() {
        return Err(TimeError::Empty);
    }
    let unrecognized = || TimeError::Unrecognized(text.trim().to_string());
    match norm {
        "noon" | "midday" | "12 noon" | "noon time" => return Ok(hm(12, 0)),
        "midnight" => return Ok(hm(0, 0)),
        _ => {}
    }
    // Meridiem, in any of its spellings, at the end; or said in words.
    let (body, mut meridiem) = split_meridiem(norm);
    let mut body = body.trim();
    for (suffix, pm) in [
        (" in the morning", false),
        (" in the afternoon", true),
        (" in the evening", true),
        (" at night", true),
    ] {
        if let Some(b) = body.strip_suffix(suffix) {
            body = b.trim();
            meridiem = meridiem.or(Some(pm));
        }
    }
    let body = body
        .trim_end_matches("o'clock")
        .trim_end_matches("oclock")
        .trim();

    let (hour, minute, explicit_24h) = parse_clock_body(body).ok_or_else(unrecognized)?;
    let hour = match meridiem {
        Some(pm) => {
            if !(1..=12).contains(&hour) {
                return Err(unrecognized());
            }
            match (pm, hour) {
                (true, 12) => 12,
                (true, h) => h + 12,
                (false, 12) => 0,
                (false, h) => h,
            }
        }
        None if explicit_24h => hour,
        None if (1..=6).contains(&hour) => hour + 12,
        None => hour,
    };
    NaiveTime::from_hms_opt(hour, minute, 0).ok_or_else(unrecognized)
}

fn split_meridiem(s: &str) -> (&str, Option<bool>) {
    for (suffix, pm) in [
        ("p.m.", true),
        ("a.m.", false),
        ("p.m", true),
        ("a.m", false),
        ("pm", true),
        ("am", false),
        ("p", true),
        ("a", false),
    ] {
        if let Some(body) = s.strip_suffix(suffix)
            && (body.ends_with(|c: char| c.is_ascii_digit() || c == ' ') && !body.is_empty())
        {
            return (body, Some(pm));
        }
    }
    (s, None)
}

/// Returns (hour, minute, written as 24-hour clock).
fn parse_clock_body(body: &str) -> Option<(u32, u32, bool)> {
    // "14:00", "2:30", "2.30", "14:00:00", "1400"
    if let Some((h, rest)) = body.split_once([':', '.']) {
        let m = rest.split(':').next()?;
        let (hour, minute) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
        return (hour < 24 && minute < 60 && m.len() == 2).then_some((
            hour,
            minute,
            hour >= 13 || h.len() == 2 && h.starts_with('0'),
        ));
    }
    if body.len() == 4 && body.bytes().all(|b| b.is_ascii_digit()) {
        let (hour, minute) = (
            body[..2].parse::<u32>().ok()?,
            body[2..].parse::<u32>().ok()?,
        );
        return (hour < 24 && minute < 60).then_some((hour, minute, true));
    }
    let words: Vec<&str> = body.split(' ').collect();
    match words.as_slice() {
        [h] => number_word(h).filter(|h| *h < 24).map(|h| (h, 0, h >= 13)),
        ["half", "past", h] => number_word(h)
            .filter(|h| (1..=12).contains(h))
            .map(|h| (h, 30, false)),
        ["quarter", "past", h] => number_word(h)
            .filter(|h| (1..=12).contains(h))
            .map(|h| (h, 15, false)),
        ["quarter", "to", h] => number_word(h)
            .filter(|h| (1..=12).contains(h))
            .map(|h| (if h == 1 { 12 } else { h - 1 }, 45, false)),
        [h, m] => {
            let hour = number_word(h).filter(|h| (1..=12).contains(h))?;
            let minute = match *m {
                "fifteen" => 15,
                "thirty" => 30,
                "forty-five" => 45,
                m => m.parse::<u32>().ok().filter(|m| *m < 60)?,
            };
            Some((hour, minute, false))
        }
        [h, "forty", "five"] => number_word(h)
            .filter(|h| (1..=12).contains(h))
            .map(|h| (h, 45, false)),
        _ => None,
    }
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

/// Parses an RFC 3339 / ISO timestamp with or without offset.
fn parse_timestamp(text: &str, zone: Tz) -> Option<Result<DateTime<Tz>, StartError>> {
    let t = text.trim();
    let looks_like_timestamp = t.len() >= 16
        && t.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && t.get(10..)
            .is_some_and(|rest| rest.starts_with(['T', 't', ' ']));
    if !looks_like_timestamp {
        return None;
    }
    if let Ok(dt) = DateTime::<FixedOffset>::parse_from_rfc3339(&t.replace(' ', "T")) {
        return Some(Ok(dt.with_timezone(&zone)));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(&t.replace(' ', "T"), fmt) {
            return Some(localize(zone, naive));
        }
    }
    None
}

/// Local wall time → instant. A time in the spring gap is refused with the nearest valid
/// times; an ambiguous one (autumn overlap) takes the first occurrence.
pub fn localize(zone: Tz, naive: NaiveDateTime) -> Result<DateTime<Tz>, StartError> {
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(t) => Ok(t),
        LocalResult::Ambiguous(first, _) => Ok(first),
        LocalResult::None => {
            // Walk out of the gap a minute at a time each way (gaps are at most a couple of hours).
            let nearest = |step: i64| {
                (1..=180).find_map(|i| {
                    zone.from_local_datetime(&(naive + Duration::minutes(step * i)))
                        .earliest()
                })
            };
            if let (Some(before), Some(after)) = (nearest(-1), nearest(1)) {
                return Err(StartError::Nonexistent { before, after });
            }
            Err(StartError::Time(TimeError::Unrecognized(naive.to_string())))
        }
    }
}

/// A part of the day a date phrase names ("tonight", "tomorrow morning").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayPart {
    Morning,
    Afternoon,
    Evening,
}

pub fn day_part(date: &str) -> Option<DayPart> {
    let norm = normalize(date);
    if norm.contains("tonight") || norm.contains("evening") || norm.contains("night") {
        Some(DayPart::Evening)
    } else if norm.contains("afternoon") {
        Some(DayPart::Afternoon)
    } else if norm.contains("morning") {
        Some(DayPart::Morning)
    } else {
        None
    }
}

/// Resolves the `date` and `time` a caller gave into an instant in the business zone.
pub fn resolve_start(
    date: &str,
    time: &str,
    zone: Tz,
    call_started: DateTime<Utc>,
    month_first: bool,
) -> Result<DateTime<Tz>, StartError> {
    // A full timestamp is used as such (its offset, if any, honoured) when it is in `time`,
    // or in `date` with no separate time; a separate time wins over a timestamp's clock part
    // ("2026-11-25T00:00:00Z" + "2pm" is the 25th at 2 PM local).
    let today = call_started.with_timezone(&zone).date_naive();
    let timestamp = parse_timestamp(time, zone).or_else(|| {
        if time.trim().is_empty() {
            parse_timestamp(date, zone)
        } else {
            None
        }
    });
    if let Some(result) = timestamp {
        let start = result?;
        within_horizon(today, start.date_naive(), date)?;
        return Ok(start);
    }
    let day = resolve_date(date, today, month_first)?;
    // "Tonight at 8" and "this afternoon at 3" mean PM when the time does not say.
    let pm = matches!(day_part(date), Some(DayPart::Evening | DayPart::Afternoon))
        .then(|| parse_time(&format!("{time} pm")).ok())
        .flatten();
    let at = match pm {
        Some(at) => at,
        None => parse_time(time)?,
    };
    localize(zone, day.and_time(at))
}

/// "Tuesday, November 25 at 2:00 PM"
pub fn spoken_datetime(t: &DateTime<Tz>) -> String {
    format!(
        "{} at {}",
        spoken_date(t.date_naive()),
        spoken_time(t.time())
    )
}

/// "Tuesday, November 25"
pub fn spoken_date(d: NaiveDate) -> String {
    d.format("%A, %B %-d").to_string()
}

/// "2:00 PM"
pub fn spoken_time(t: NaiveTime) -> String {
    t.format("%-I:%M %p").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Europe::London};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    // 2026-11-24 is a Tuesday.
    const TODAY: (i32, u32, u32) = (2026, 11, 24);
    fn today() -> NaiveDate {
        d(TODAY.0, TODAY.1, TODAY.2)
    }

    #[test]
    fn relative_dates() {
        assert_eq!(resolve_date("today", today(), true), Ok(today()));
        assert_eq!(resolve_date("Tonight", today(), true), Ok(today()));
        assert_eq!(resolve_date("tomorrow", today(), true), Ok(d(2026, 11, 25)));
        assert_eq!(
            resolve_date("the day after tomorrow", today(), true),
            Ok(d(2026, 11, 26))
        );
        assert_eq!(
            resolve_date("in 3 days", today(), true),
            Ok(d(2026, 11, 27))
        );
        assert_eq!(
            resolve_date("in three days", today(), true),
            Ok(d(2026, 11, 27))
        );
        assert_eq!(resolve_date("in a week", today(), true), Ok(d(2026, 12, 1)));
    }

    #[test]
    fn weekday_names_mean_the_first_one_after_today() {
        for s in ["Friday", "this Friday", "next Friday", "on friday", "fri"] {
            assert_eq!(resolve_date(s, today(), true), Ok(d(2026, 11, 27)), "{s}");
        }
        // Today is Tuesday: "Tuesday" is a week away, not today.
        assert_eq!(resolve_date("tuesday", today(), true), Ok(d(2026, 12, 1)));
        assert_eq!(resolve_date("Monday", today(), true), Ok(d(2026, 11, 30)));
    }

    #[test]
    fn explicit_dates() {
        assert_eq!(
            resolve_date("2026-11-28", today(), true),
            Ok(d(2026, 11, 28))
        );
        assert_eq!(
            resolve_date("November 28", today(), true),
            Ok(d(2026, 11, 28))
        );
        assert_eq!(resolve_date("Nov 28th", today(), true), Ok(d(2026, 11, 28)));
        assert_eq!(
            resolve_date("28 November", today(), true),
            Ok(d(2026, 11, 28))
        );
        assert_eq!(
            resolve_date("the 28th of November", today(), true),
            Ok(d(2026, 11, 28))
        );
        assert_eq!(
            resolve_date("Saturday, November 28, 2026", today(), true),
            Ok(d(2026, 11, 28))
        );
        assert_eq!(resolve_date("11/28", today(), true), Ok(d(2026, 11, 28)));
        assert_eq!(resolve_date("28/11", today(), false), Ok(d(2026, 11, 28)));
        assert_eq!(
            resolve_date("11/28/2026", today(), true),
            Ok(d(2026, 11, 28))
        );
        // A date already past this year means next year's.
        assert_eq!(resolve_date("January 5", today(), true), Ok(d(2027, 1, 5)));
    }

    #[test]
    fn bad_dates_are_explained() {
        assert_eq!(resolve_date("", today(), true), Err(DateError::Empty));
        assert!(matches!(
            resolve_date("someday", today(), true),
            Err(DateError::Unrecognized(_))
        ));
        assert!(matches!(
            resolve_date("February 30 2027", today(), true),
            Err(DateError::NoSuchDate(_))
        ));
        assert!(matches!(
            resolve_date("13/45", today(), true),
            Err(DateError::NoSuchDate(_))
        ));
        assert!(matches!(
            resolve_date("in many days", today(), true),
            Err(DateError::Unrecognized(_))
        ));
    }

    #[test]
    fn times() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        for (s, want) in [
            ("2pm", t(14, 0)),
            ("2 PM", t(14, 0)),
            ("2:30 pm", t(14, 30)),
            ("2:30pm", t(14, 30)),
            ("2.30 p.m.", t(14, 30)),
            ("14:00", t(14, 0)),
            ("14:00:00", t(14, 0)),
            ("09:30", t(9, 30)),
            ("9am", t(9, 0)),
            ("12pm", t(12, 0)),
            ("12am", t(0, 0)),
            ("noon", t(12, 0)),
            ("at 3", t(15, 0)),
            ("10", t(10, 0)),
            ("half past two", t(14, 30)),
            ("quarter past ten", t(10, 15)),
            ("two thirty", t(14, 30)),
            ("3 o'clock", t(15, 0)),
            ("ten in the morning", t(10, 0)),
            ("four in the afternoon", t(16, 0)),
        ] {
            assert_eq!(parse_time(s), Ok(want), "{s}");
        }
        assert_eq!(parse_time(""), Err(TimeError::Empty));
        for bad in ["25:00", "2:75pm", "13pm", "lunchtime", "2:3"] {
            assert!(
                matches!(parse_time(bad), Err(TimeError::Unrecognized(_))),
                "{bad}"
            );
        }
    }

    fn at(zone: Tz, y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Tz> {
        zone.with_ymd_and_hms(y, m, day, h, min, 0)
            .single()
            .unwrap()
    }

    #[test]
    fn resolves_in_the_business_zone_relative_to_the_call() {
        // 03:30 UTC on Nov 25 is still Nov 24 in New York: "tomorrow" is the 25th.
        let call = Utc.with_ymd_and_hms(2026, 11, 25, 3, 30, 0).unwrap();
        let start = resolve_start("tomorrow", "2pm", New_York, call, true).unwrap();
        assert_eq!(start, at(New_York, 2026, 11, 25, 14, 0));
        assert_eq!(spoken_datetime(&start), "Wednesday, November 25 at 2:00 PM");
    }

    #[test]
    fn explicit_offsets_are_honoured_and_spoken_locally() {
        let call = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
        let start = resolve_start("2026-11-25T19:00:00Z", "", New_York, call, true).unwrap();
        assert_eq!(spoken_datetime(&start), "Wednesday, November 25 at 2:00 PM");
        let local =
            resolve_start("2026-11-25", "2026-11-25T14:00:00", New_York, call, true).unwrap();
        assert_eq!(local, start);
    }

    #[test]
    fn a_separate_time_wins_over_a_timestamps_clock() {
        let call = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
        let start = resolve_start("2026-11-25T00:00:00Z", "2pm", New_York, call, true).unwrap();
        assert_eq!(spoken_datetime(&start), "Wednesday, November 25 at 2:00 PM");
    }

    #[test]
    fn absurd_input_is_refused_without_panicking() {
        let call = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
        for (date, time) in [
            ("2026-11-2é 14:00:00", "2pm"),
            ("in 999999999 weeks", "2pm"),
            ("in 99999999 days", "2pm"),
            ("12/31/262143", "2pm"),
            ("12/31/9999", "2pm"),
            ("9999-12-31", "2pm"),
            ("2026-11-25", "9999-12-31T10:00:00Z"),
            ("é", "é"),
            ("2026-11-2é5T14:00", ""),
            ("tomorrow", "2026-11-2é5T14:00:00"),
            ("1234567890é", "1234567890123456é"),
        ] {
            assert!(
                resolve_start(date, time, New_York, call, true).is_err(),
                "{date} {time}"
            );
        }
        assert!(matches!(
            resolve_date("in 400 days", call.date_naive(), true),
            Err(DateError::TooFarAhead(_))
        ));
        assert!(resolve_date("in 300 days", call.date_naive(), true).is_ok());
    }

    #[test]
    fn spring_gap_is_refused_with_nearest_times() {
        let call = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        // 2026-03-08 02:30 does not exist in New York.
        match resolve_start("2026-03-08", "2:30am", New_York, call, true) {
            Err(StartError::Nonexistent { before, after }) => {
                assert_eq!(spoken_time(before.time()), "1:59 AM");
                assert_eq!(spoken_time(after.time()), "3:00 AM");
            }
            other => panic!("expected a gap, got {other:?}"),
        }
        // London springs forward on 2026-03-29 at 01:00.
        assert!(matches!(
            resolve_start("March 29", "1:30am", London, call, false),
            Err(StartError::Nonexistent { .. })
        ));
    }

    #[test]
    fn autumn_overlap_takes_the_first_occurrence() {
        let call = Utc.with_ymd_and_hms(2026, 10, 20, 12, 0, 0).unwrap();
        let ny = resolve_start("2026-11-01", "1:30am", New_York, call, true).unwrap();
        assert_eq!(
            ny.with_timezone(&Utc),
            Utc.with_ymd_and_hms(2026, 11, 1, 5, 30, 0).unwrap()
        );
        let ldn = resolve_start("October 25", "1:30am", London, call, false).unwrap();
        assert_eq!(
            ldn.with_timezone(&Utc),
            Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap()
        );
    }

    #[test]
    fn dst_changes_keep_wall_clock_times() {
        // The day after the spring change, 2pm is still 2pm local (18:00 UTC, not 19:00).
        let call = Utc.with_ymd_and_hms(2026, 3, 7, 15, 0, 0).unwrap();
        let start = resolve_start("Monday", "2pm", New_York, call, true).unwrap();
        assert_eq!(
            start.with_timezone(&Utc),
            Utc.with_ymd_and_hms(2026, 3, 9, 18, 0, 0).unwrap()
        );
    }

    #[test]
    fn tonight_and_this_afternoon_mean_pm_unless_the_time_says() {
        let zone = chrono_tz::America::New_York;
        let call = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
        let at = |date: &str, time: &str| {
            resolve_start(date, time, zone, call, true)
                .unwrap()
                .format("%d %H:%M")
                .to_string()
        };
        assert_eq!(at("tonight", "8"), "24 20:00");
        assert_eq!(at("this afternoon", "3:30"), "24 15:30");
        assert_eq!(at("tomorrow evening", "7"), "25 19:00");
        assert_eq!(at("tonight", "19:00"), "24 19:00");
        assert_eq!(at("tomorrow morning", "9"), "25 09:00");
        assert_eq!(day_part("Tonight"), Some(DayPart::Evening));
        assert_eq!(day_part("Friday"), None);
    }
}
