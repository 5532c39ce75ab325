//! Opening hours: when a business takes appointments, and the nearest times it can offer.

use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use thiserror::Error;

use crate::values::times::localize;

use crate::values::speech::spoken_time;

#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "opening hours {spec:?}: {reason} (expected e.g. \"Mon-Fri 09:00-17:00; Sat 10:00-14:00\")"
)]
pub struct HoursError {
    spec: String,
    reason: String,
}

/// Opening periods per weekday, Monday first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours {
    days: [Vec<(NaiveTime, NaiveTime)>; 7],
}

const DAY_CODES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl FromStr for OpeningHours {
    type Err = HoursError;

    /// "Mon-Fri 09:00-17:00; Sat 10:00-14:00", "Mon,Wed 09:00-12:00,13:00-17:00"
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| HoursError {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        let mut days: [Vec<(NaiveTime, NaiveTime)>; 7] = Default::default();
        for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (day_spec, periods) = part
                .split_once(' ')
                .ok_or_else(|| err("each part needs days and times"))?;
            let mut selected = Vec::new();
            for range in day_spec.split(',') {
                let day = |s: &str| {
                    let s = s.trim().to_ascii_lowercase();
                    DAY_CODES
                        .iter()
                        .position(|d| s.len() >= 3 && d.starts_with(&s[..3]))
                        .ok_or_else(|| err("unknown day name"))
                };
                match range.split_once('-') {
                    Some((a, b)) => {
                        let (a, b) = (day(a)?, day(b)?);
                        let mut i = a;
                        loop {
                            selected.push(i);
                            if i == b {
                                break;
                            }
                            i = (i + 1) % 7;
                        }
                    }
                    None => selected.push(day(range)?),
                }
            }
            for period in periods.split(',').map(str::trim) {
                let (open, close) = period
                    .split_once('-')
                    .ok_or_else(|| err("a period needs open-close"))?;
                let t = |s: &str| {
                    NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| err("times are HH:MM"))
                };
                let (open, close) = (t(open)?, t(close)?);
                if open >= close {
                    return Err(err("a period must close after it opens"));
                }
                for &d in &selected {
                    days[d].push((open, close));
                    days[d].sort();
                }
            }
        }
        if days.iter().all(Vec::is_empty) {
            return Err(err("no opening periods"));
        }
        Ok(Self { days })
    }
}

impl OpeningHours {
    fn periods(&self, day: Weekday) -> &[(NaiveTime, NaiveTime)] {
        &self.days[day.num_days_from_monday() as usize]
    }

    /// Whether an appointment of `minutes` starting at local `start` lies within one period.
    pub fn fits(&self, start: &DateTime<Tz>, minutes: u32) -> bool {
        let begin = start.naive_local();
        let Some(end) = begin.checked_add_signed(Duration::minutes(i64::from(minutes))) else {
            return false;
        };
        // An appointment that would run past midnight never fits.
        if end.date() != begin.date() || minutes == 0 {
            return false;
        }
        self.periods(start.weekday())
            .iter()
            .any(|(open, close)| begin.time() >= *open && end.time() <= *close)
    }

    /// Whether every opening and closing time lies on a `step_minutes` grid from midnight,
    /// the grid slot cells use: otherwise offered starts and cells would not line up.
    pub fn on_grid(&self, step_minutes: u32) -> bool {
        let step = step_minutes.max(1);
        self.days.iter().flatten().all(|(open, close)| {
            (open.hour() * 60 + open.minute()) % step == 0
                && (close.hour() * 60 + close.minute()) % step == 0
        })
    }

    pub fn is_open_on(&self, day: Weekday) -> bool {
        !self.periods(day).is_empty()
    }

    /// Up to `count` starts at or after `from` (and after `not_before`) on a `step_minutes`
    /// grid that fit an appointment of `minutes`, looking up to 14 days ahead.
    pub fn nearest_starts(
        &self,
        zone: Tz,
        from: DateTime<Tz>,
        not_before: DateTime<Utc>,
        minutes: u32,
        step_minutes: u32,
        count: usize,
    ) -> Vec<DateTime<Tz>> {
        let step = step_minutes.max(5);
        let mut found = Vec::with_capacity(count);
        let start_day = from.date_naive();
        for offset in 0..14 {
            let Some(day) = start_day.checked_add_signed(Duration::days(offset)) else {
                break;
            };
            for (open, close) in self.periods(day.weekday()) {
                let mut t = *open;
                while t < *close {
                    if let Ok(candidate) = localize(zone, day.and_time(t))
                        && candidate >= from
                        && candidate.with_timezone(&Utc) > not_before
                        && self.fits(&candidate, minutes)
                    {
                        found.push(candidate);
                        if found.len() == count {
                            return found;
                        }
                    }
                    let next = t + Duration::minutes(i64::from(step));
                    if next <= t {
                        break;
                    }
                    t = next;
                }
            }
        }
        found
    }

    /// "Monday to Friday, 9:00 AM to 5:00 PM"
    pub fn spoken(&self) -> String {
        let names = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        let mut parts: Vec<String> = Vec::new();
        let mut i = 0;
        while i < 7 {
            if self.days[i].is_empty() {
                i += 1;
                continue;
            }
            let mut j = i;
            while j + 1 < 7 && self.days[j + 1] == self.days[i] {
                j += 1;
            }
            let days = if i == j {
                names[i].to_string()
            } else {
                format!("{} to {}", names[i], names[j])
            };
            let periods: Vec<String> = self.days[i]
                .iter()
                .map(|(o, c)| format!("{} to {}", spoken_time(*o), spoken_time(*c)))
                .collect();
            parts.push(format!("{days}, {}", periods.join(" and ")));
            i = j + 1;
        }
        parts.join("; ")
    }
}

/// Rounds a local time up to the next multiple of `step` minutes.
pub fn round_up(t: DateTime<Tz>, step_minutes: u32) -> DateTime<Tz> {
    let step = i64::from(step_minutes.max(1));
    let minutes = i64::from(t.hour() * 60 + t.minute());
    let rem = minutes % step;
    let base = t
        - Duration::seconds(i64::from(t.second()))
        - Duration::nanoseconds(i64::from(t.nanosecond()));
    if rem == 0 && t.second() == 0 && t.nanosecond() == 0 {
        t
    } else {
        base + Duration::minutes(step - rem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::America::New_York;

    fn weekdays() -> OpeningHours {
        "Mon-Fri 09:00-17:00".parse().unwrap()
    }

    #[test]
    fn parses_specs() {
        let h: OpeningHours = "Mon-Fri 09:00-12:00,13:00-17:00; Sat 10:00-14:00"
            .parse()
            .unwrap();
        assert!(h.is_open_on(Weekday::Sat));
        assert!(!h.is_open_on(Weekday::Sun));
        assert_eq!(
            h.spoken(),
            "Monday to Friday, 9:00 AM to 12:00 PM and 1:00 PM to 5:00 PM; Saturday, 10:00 AM to 2:00 PM"
        );
        assert_eq!(weekdays().spoken(), "Monday to Friday, 9:00 AM to 5:00 PM");
        for bad in [
            "",
            "Mon-Fri",
            "Xyz 09:00-17:00",
            "Mon 17:00-09:00",
            "Mon 9-5",
        ] {
            assert!(bad.parse::<OpeningHours>().is_err(), "{bad}");
        }
    }

    #[test]
    fn an_appointment_must_fit_inside_a_period() {
        let h = weekdays();
        let at = |d, hh, mm| New_York.with_ymd_and_hms(2026, 11, d, hh, mm, 0).unwrap();
        assert!(h.fits(&at(25, 9, 0), 60));
        assert!(h.fits(&at(25, 16, 0), 60));
        assert!(!h.fits(&at(25, 16, 30), 60));
        assert!(!h.fits(&at(25, 8, 30), 30));
        assert!(!h.fits(&at(28, 10, 0), 30)); // Saturday
    }

    #[test]
    fn nearest_starts_skip_closed_days_and_the_past() {
        let h = weekdays();
        let sat = New_York.with_ymd_and_hms(2026, 11, 28, 14, 0, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
        let got = h.nearest_starts(New_York, sat, now, 60, 30, 3);
        let want: Vec<_> = [(9, 0), (9, 30), (10, 0)]
            .iter()
            .map(|(hh, mm)| {
                New_York
                    .with_ymd_and_hms(2026, 11, 30, *hh, *mm, 0)
                    .unwrap()
            })
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn rounds_up_to_the_grid() {
        let t = New_York.with_ymd_and_hms(2026, 11, 24, 10, 7, 30).unwrap();
        assert_eq!(
            round_up(t, 30),
            New_York.with_ymd_and_hms(2026, 11, 24, 10, 30, 0).unwrap()
        );
        let on = New_York.with_ymd_and_hms(2026, 11, 24, 10, 30, 0).unwrap();
        assert_eq!(round_up(on, 30), on);
    }
}
