//! Follow-ups: reminders before an appointment, the mark after it, and the next-day message to
//! a lead who did not book. Pure: when each is due and what its one-time schedule is called;
//! the booking and analytics workers put the schedules (`FollowUpSchedules`), the followup
//! worker does what each says when it fires.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::values::config::{ConfigError, setting};
use crate::values::hours::OpeningHours;
use crate::values::reference::{BookingReference, stable_id};

/// A business's follow-up settings. Carried by the booking, change and lead jobs (as `texts`
/// is), so the workers that schedule need no business lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowUpSettings {
    /// Minutes before the start each reminder goes (24 h and 2 h unless the business says).
    pub reminders: Vec<u32>,
    /// Local hours no reminder goes in; one due then goes at their start, the evening before.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// Whether reminders say "Reply C to confirm or X to cancel" (the deployment's number
    /// must take replies: README, "Reminders and replies").
    #[serde(default)]
    pub replies: bool,
    /// The local time a lead who did not book hears from the business, the next day it is
    /// open; `None`: no lead follow-up.
    #[serde(default)]
    pub lead_follow_up_at: Option<NaiveTime>,
}

/// Local quiet hours, `from` to `until`, across midnight when `until` is earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    pub from: NaiveTime,
    pub until: NaiveTime,
}

/// The most reminders one booking may have (each is a schedule and two messages).
pub const MAX_REMINDERS: usize = 4;
/// The earliest a reminder may go: 30 days before.
const MAX_REMINDER_MINUTES: u32 = 30 * 24 * 60;

impl Default for FollowUpSettings {
    fn default() -> Self {
        Self {
            reminders: vec![24 * 60, 2 * 60],
            quiet_hours: Some(QuietHours {
                from: hm(21, 0),
                until: hm(8, 0),
            }),
            replies: false,
            lead_follow_up_at: Some(hm(10, 0)),
        }
    }
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

fn local_time(raw: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M").ok()
}

fn is_off(raw: &str) -> bool {
    matches!(
        raw.trim().to_ascii_lowercase().as_str(),
        "off" | "none" | "no"
    )
}

/// "24h, 2h, 30m" → minutes, largest first; "off" → none.
pub fn parse_reminders(raw: &str) -> Result<Vec<u32>, String> {
    if is_off(raw) {
        return Ok(Vec::new());
    }
    let mut minutes = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("{part:?}: write each as 24h, 2h or 30m");
        // Split at the last character, whatever its width (a business file may say "24ч").
        let unit = part.chars().last().ok_or_else(bad)?;
        let number = &part[..part.len() - unit.len_utf8()];
        let n: u32 = number.trim().parse().map_err(|_| bad())?;
        let m = match unit {
            'h' | 'H' => n.saturating_mul(60),
            'm' | 'M' => n,
            _ => return Err(bad()),
        };
        if m == 0 || m > MAX_REMINDER_MINUTES {
            return Err(format!("{part:?}: between 1 minute and 30 days before"));
        }
        minutes.push(m);
    }
    minutes.sort_unstable_by(|a, b| b.cmp(a));
    minutes.dedup();
    if minutes.len() > MAX_REMINDERS {
        return Err(format!("at most {MAX_REMINDERS} reminders"));
    }
    Ok(minutes)
}

/// "21:00-08:00" → quiet hours; "off" → none.
pub fn parse_quiet_hours(raw: &str) -> Result<Option<QuietHours>, String> {
    if is_off(raw) {
        return Ok(None);
    }
    let bad = || format!("{raw:?}: write it as 21:00-08:00, or off");
    let (from, until) = raw.split_once('-').ok_or_else(bad)?;
    let (from, until) = (
        local_time(from).ok_or_else(bad)?,
        local_time(until).ok_or_else(bad)?,
    );
    if from == until {
        return Err(format!("{raw:?}: quiet hours must end at another time"));
    }
    Ok(Some(QuietHours { from, until }))
}

impl FollowUpSettings {
    /// From the default business's environment: `REMINDERS` ("24h,2h" or "off"),
    /// `QUIET_HOURS` ("21:00-08:00" or "off"), `SMS_REPLIES` ("on"/"off"),
    /// `LEAD_FOLLOW_UP_AT` ("10:00" or "off").
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let invalid =
            |name: &'static str| move |reason: String| ConfigError::Invalid { name, reason };
        let reminders = match setting(lookup, "REMINDERS") {
            Some(raw) => parse_reminders(&raw).map_err(invalid("REMINDERS"))?,
            None => defaults.reminders,
        };
        let quiet_hours = match setting(lookup, "QUIET_HOURS") {
            Some(raw) => parse_quiet_hours(&raw).map_err(invalid("QUIET_HOURS"))?,
            None => defaults.quiet_hours,
        };
        let replies = match setting(lookup, "SMS_REPLIES").map(|v| v.to_ascii_lowercase()) {
            None => defaults.replies,
            Some(v) if matches!(v.as_str(), "on" | "true" | "yes") => true,
            Some(v) if matches!(v.as_str(), "off" | "false" | "no") => false,
            Some(v) => return Err(invalid("SMS_REPLIES")(format!("{v:?}: on or off"))),
        };
        let lead_follow_up_at = match setting(lookup, "LEAD_FOLLOW_UP_AT") {
            Some(raw) if is_off(&raw) => None,
            Some(raw) => Some(local_time(&raw).ok_or_else(|| {
                invalid("LEAD_FOLLOW_UP_AT")(format!("{raw:?}: a local time such as 10:00, or off"))
            })?),
            None => defaults.lead_follow_up_at,
        };
        Ok(Self {
            reminders,
            quiet_hours,
            replies,
            lead_follow_up_at,
        })
    }
}

impl QuietHours {
    fn contains(&self, t: NaiveTime) -> bool {
        if self.from < self.until {
            t > self.from && t < self.until
        } else {
            t > self.from || t < self.until
        }
    }

    /// `at`, or the start of the quiet hours it falls in (the last time allowed before it).
    pub fn last_allowed(&self, at: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
        let local = at.with_timezone(&zone);
        if !self.contains(local.time()) {
            return at;
        }
        // Quiet hours began today, or (after midnight) the day before.
        let day = if self.from < self.until || local.time() > self.from {
            local.date_naive()
        } else {
            local.date_naive() - Duration::days(1)
        };
        at_local(zone, day, self.from).unwrap_or(at)
    }
}

/// A local date and time as an instant: the earlier of an ambiguous one, the first instant
/// after a skipped one.
fn at_local(zone: Tz, day: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    let naive = day.and_time(time);
    zone.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
}

/// One reminder to schedule: how long before the start it was asked for, when it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedReminder {
    pub minutes_before: u32,
    pub at: DateTime<Utc>,
}

/// The reminders a booking starting at `start` gets, made `now`: each offset moved out of the
/// quiet hours; those already past skipped (never sent at once with a wrong "tomorrow"), and
/// one falling at the same time as a larger one left out.
pub fn plan_reminders(
    settings: &FollowUpSettings,
    zone: Tz,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<PlannedReminder> {
    let mut planned: Vec<PlannedReminder> = Vec::new();
    let mut offsets = settings.reminders.clone();
    offsets.sort_unstable_by(|a, b| b.cmp(a));
    for minutes_before in offsets {
        let due = start - Duration::minutes(i64::from(minutes_before));
        let at = match settings.quiet_hours {
            Some(quiet) => quiet.last_allowed(due, zone),
            None => due,
        };
        if at <= now || at >= start || planned.iter().any(|p| p.at == at) {
            continue;
        }
        planned.push(PlannedReminder { minutes_before, at });
    }
    planned
}

/// Scheduler names: 1-64 of `[0-9A-Za-z-_.]`, derived from what they are about, so creating one
/// twice is harmless and a move or cancel finds it.
pub fn reminder_schedule_name(
    business_id: &str,
    reference: &BookingReference,
    minutes_before: u32,
) -> String {
    format!(
        "reminder-{}-{minutes_before}m",
        stable_id(format!("{business_id}#{reference}").as_bytes())
    )
}

/// The schedule that marks a booking for the business to confirm attendance once it ends.
pub fn ended_schedule_name(business_id: &str, reference: &BookingReference) -> String {
    format!(
        "ended-{}",
        stable_id(format!("{business_id}#{reference}").as_bytes())
    )
}

/// The schedule of a lead's follow-up.
pub fn lead_schedule_name(business_id: &str, lead_id: &str) -> String {
    format!(
        "lead-{}",
        stable_id(format!("{business_id}#{lead_id}").as_bytes())
    )
}

/// When a lead captured at `captured` hears from the business: at `at` local time on the next
/// day after the capture that the business is open (within two weeks); `None` when it is
/// never open or the business sends no lead follow-ups.
pub fn lead_follow_up_due(
    settings: &FollowUpSettings,
    zone: Tz,
    hours: &OpeningHours,
    captured: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let at = settings.lead_follow_up_at?;
    let today = captured.with_timezone(&zone).date_naive();
    (1..=14)
        .map(|d| today + Duration::days(d))
        .find(|day| hours.is_open_on(day.weekday()))
        .and_then(|day| at_local(zone, day, at))
}

#[cfg(test)]
mod tests;
