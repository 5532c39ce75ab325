//! What callers say about times of day, and a date and time made into an instant in the
//! business's zone (daylight-saving gaps refused with the nearest valid times).

use chrono::{
    DateTime, Duration, FixedOffset, LocalResult, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;
use thiserror::Error;

use crate::values::dates::{
    DateError, DayPart, day_part, normalize, number_word, resolve_date, within_horizon,
};

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
