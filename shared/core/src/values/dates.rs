//! What callers say about dates ("tomorrow", "next Tuesday", "the 3rd"), resolved relative to
//! the call's start in the business's time zone. Models resolve "tomorrow" against the wrong
//! day or append a `Z`; we resolve server-side and always say the result back in local time
//! (times of day and instants: `times`).

use chrono::{Datelike, Duration, NaiveDate, Weekday};
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

pub(crate) fn number_word(word: &str) -> Option<u32> {
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

pub(crate) fn normalize(text: &str) -> String {
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

pub(crate) fn within_horizon(
    today: NaiveDate,
    date: NaiveDate,
    text: &str,
) -> Result<NaiveDate, DateError> {
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

#[cfg(test)]
mod tests;
