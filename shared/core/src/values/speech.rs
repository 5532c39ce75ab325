//! How things are said to a caller: lists, dates and times as the assistant speaks them, and
//! a refusal (what the caller hears when a request cannot be done as asked).

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveTime};
use chrono_tz::Tz;

/// "a, b and c"
pub fn spoken_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
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

/// What the caller hears when their request cannot be done as asked: one sentence that says
/// what to do next. A refusal is an answer (remembered for a repeated tool call), unlike a
/// system failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(String);

impl Refusal {
    pub fn new(sentence: impl Into<String>) -> Self {
        Self(sentence.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_sentence(self) -> String {
        self.0
    }
}

/// A refusal reads as its sentence.
impl std::ops::Deref for Refusal {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Refusal {
    fn from(sentence: String) -> Self {
        Self(sentence)
    }
}

impl From<&str> for Refusal {
    fn from(sentence: &str) -> Self {
        Self(sentence.to_string())
    }
}
