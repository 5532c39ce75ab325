//! checkAvailability: what a caller hears when they ask "what do you have on Friday?".

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use crate::values::speech::Refusal;
use crate::values::speech::spoken_list;

use crate::domain::booking::with_room;
use crate::domain::business::{Business, ChosenService};
use crate::values::dates::{DayPart, day_part, resolve_date};
use crate::values::slots::SlotCell;
use crate::values::speech::{spoken_date, spoken_time};
use crate::values::times::{StartError, localize, parse_time};
use crate::vapi::envelope::CallContext;
use crate::vapi::tools::CHECK_AVAILABILITY;

/// How many times one answer offers: more is hard to remember on the phone.
const OFFERED: usize = 4;

/// Which part of the day the caller prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePreference {
    Any,
    Morning,
    Afternoon,
    Evening,
    /// Around a time ("around 3pm"): the nearest starts first.
    Around(NaiveTime),
}

impl TimePreference {
    pub fn parse(text: Option<&str>) -> Self {
        let Some(text) = text.map(|t| t.trim().to_lowercase()) else {
            return Self::Any;
        };
        match text.as_str() {
            "" | "any" | "anytime" | "any time" | "whenever" => Self::Any,
            t if t.contains("morning") => Self::Morning,
            t if t.contains("afternoon") || t.contains("lunch") => Self::Afternoon,
            t if t.contains("evening") || t.contains("night") || t.contains("after work") => {
                Self::Evening
            }
            t => {
                let t = t
                    .trim_start_matches("around ")
                    .trim_start_matches("about ")
                    .trim_start_matches("at ");
                parse_time(t).map_or(Self::Any, Self::Around)
            }
        }
    }

    fn admits(self, t: NaiveTime) -> bool {
        match self {
            Self::Any | Self::Around(_) => true,
            Self::Morning => t.hour() < 12,
            Self::Afternoon => (12..17).contains(&t.hour()),
            Self::Evening => t.hour() >= 17,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Morning => " in the morning",
            Self::Afternoon => " in the afternoon",
            Self::Evening => " in the evening",
            Self::Any | Self::Around(_) => "",
        }
    }
}

/// A checkAvailability call that passed its checks.
#[derive(Debug, Clone, PartialEq)]
pub struct AvailabilityRequest {
    pub service: ChosenService,
    pub day: NaiveDate,
    pub preference: TimePreference,
}

pub fn availability_request(
    args: &Map<String, Value>,
    call: &CallContext,
    business: &Business,
    now: DateTime<Utc>,
) -> Result<AvailabilityRequest, Refusal> {
    let args = CHECK_AVAILABILITY.arguments(args);
    let service = args.text("serviceType")?;
    let date = args.text("date")?;
    let preference = TimePreference::parse(args.text("timePreference")?.as_deref());
    let (Some(service), Some(date)) = (service, date) else {
        return Err("To check availability I need the service and the day.".into());
    };
    // "Tonight", "tomorrow morning": the day part is the preference when none is given.
    let preference = match (preference, day_part(&date)) {
        (TimePreference::Any, Some(DayPart::Morning)) => TimePreference::Morning,
        (TimePreference::Any, Some(DayPart::Afternoon)) => TimePreference::Afternoon,
        (TimePreference::Any, Some(DayPart::Evening)) => TimePreference::Evening,
        (preference, _) => preference,
    };
    let today = call
        .started_at
        .unwrap_or(now)
        .with_timezone(&business.zone)
        .date_naive();
    let service = business.service(&service)?;
    let day = resolve_date(&date, today, business.phone_region.month_first_dates())
        .map_err(|e| format!("{e}; could you say the day another way, like tomorrow or Friday?"))?;
    if day < today {
        return Err(format!(
            "{} has already passed; which day from today on would suit you?",
            spoken_date(day)
        )
        .into());
    }
    Ok(AvailabilityRequest {
        service,
        day,
        preference,
    })
}

/// Starts on `day` for an appointment of `minutes` that fit the opening hours, after `now`,
/// on the business's grid.
pub fn starts_on(
    business: &Business,
    day: NaiveDate,
    minutes: u32,
    now: DateTime<Utc>,
) -> Vec<DateTime<Tz>> {
    // Where clocks spring forward at midnight, the day starts at the first valid instant.
    let midnight = match localize(business.zone, day.and_time(NaiveTime::MIN)) {
        Ok(t) => t,
        Err(StartError::Nonexistent { after, .. }) => after,
        Err(_) => return Vec::new(),
    };
    business
        .hours
        .nearest_starts(
            business.zone,
            midnight,
            now,
            minutes,
            business.slot_minutes,
            24 * 12,
        )
        .into_iter()
        .take_while(|s| s.date_naive() == day)
        .collect()
}

/// The free starts on the day that match the preference, in the order to offer them.
pub fn free_starts(
    business: &Business,
    request: &AvailabilityRequest,
    now: DateTime<Utc>,
    taken: &HashMap<SlotCell, u32>,
) -> Vec<DateTime<Tz>> {
    let candidates: Vec<DateTime<Tz>> =
        starts_on(business, request.day, request.service.minutes, now)
            .into_iter()
            .filter(|s| request.preference.admits(s.time()))
            .collect();
    let mut free = with_room(
        business,
        request.service.minutes,
        &candidates,
        taken,
        usize::MAX,
    );
    if let TimePreference::Around(t) = request.preference {
        let minutes = |s: &DateTime<Tz>| {
            (i64::from(s.time().num_seconds_from_midnight())
                - i64::from(t.num_seconds_from_midnight()))
            .abs()
        };
        free.sort_by_key(minutes);
        free.truncate(OFFERED);
        free.sort();
        return free;
    }
    spread(free, OFFERED)
}

/// Up to `n` of `starts`, spread across the day rather than the first few in a row.
fn spread(starts: Vec<DateTime<Tz>>, n: usize) -> Vec<DateTime<Tz>> {
    if starts.len() <= n {
        return starts;
    }
    (0..n)
        .map(|i| starts[i * (starts.len() - 1) / (n - 1)])
        .collect()
}

/// "On Wednesday, November 25 I have 9:00 AM, 11:00 AM, 1:30 PM or 4:00 PM for a Consultation."
pub fn availability_answer(request: &AvailabilityRequest, free: &[DateTime<Tz>]) -> String {
    let times: Vec<String> = free.iter().map(|s| spoken_time(s.time())).collect();
    let list = match times.as_slice() {
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => String::new(),
    };
    format!(
        "On {} I have {list}{} for a {}. Which would you like?",
        spoken_date(request.day),
        request.preference.describe(),
        request.service.name
    )
}

/// When the day has no room: the next days that do, with their first free time.
pub fn fully_booked_answer(
    request: &AvailabilityRequest,
    next: &[DateTime<Tz>],
    closed: bool,
) -> String {
    let first = if closed {
        format!("We're closed on {}.", spoken_date(request.day))
    } else {
        format!(
            "{} is fully booked{}.",
            spoken_date(request.day),
            request.preference.describe()
        )
    };
    if next.is_empty() {
        return format!("{first} I have no free times in the next two weeks.");
    }
    let days: Vec<String> = next
        .iter()
        .map(|s| {
            format!(
                "{} from {}",
                spoken_date(s.date_naive()),
                spoken_time(s.time())
            )
        })
        .collect();
    format!(
        "{first} The next days with room are {}. Would one of those work?",
        spoken_list(&days)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::slots::cells_for;
    use chrono::TimeZone;
    use serde_json::json;

    fn business() -> Business {
        Business::from_lookup(&|_: &str| None).unwrap()
    }

    /// Tuesday 2026-11-24, 10:00 in New York.
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
    }

    fn request(date: &str, preference: Option<&str>) -> Result<AvailabilityRequest, Refusal> {
        let mut args = json!({"serviceType": "Consultation", "date": date});
        if let Some(p) = preference {
            args["timePreference"] = json!(p);
        }
        availability_request(
            args.as_object().unwrap(),
            &CallContext::default(),
            &business(),
            now(),
        )
    }

    #[test]
    fn a_free_day_offers_a_few_times_spread_across_it() {
        let r = request("tomorrow", None).unwrap();
        let free = free_starts(&business(), &r, now(), &HashMap::new());
        assert_eq!(
            availability_answer(&r, &free),
            "On Wednesday, November 25 I have 9:00 AM, 11:00 AM, 1:30 PM or 4:00 PM for a Consultation. Which would you like?"
        );
    }

    #[test]
    fn preferences_narrow_the_offer() {
        let b = business();
        let r = request("tomorrow", Some("afternoon")).unwrap();
        let free = free_starts(&b, &r, now(), &HashMap::new());
        assert!(
            free.iter().all(|s| (12..17).contains(&s.hour())),
            "{free:?}"
        );
        assert!(availability_answer(&r, &free).contains("in the afternoon"));
        let r = request("tomorrow", Some("around 2pm")).unwrap();
        let times: Vec<String> = free_starts(&b, &r, now(), &HashMap::new())
            .iter()
            .map(|s| spoken_time(s.time()))
            .collect();
        assert_eq!(times, ["1:00 PM", "1:30 PM", "2:00 PM", "2:30 PM"]);
        assert_eq!(
            TimePreference::parse(Some("in the morning please")),
            TimePreference::Morning
        );
        assert_eq!(
            TimePreference::parse(Some("whatever works")),
            TimePreference::Any
        );
    }

    #[test]
    fn tonight_and_tomorrow_morning_are_preferences() {
        assert_eq!(
            request("tonight", None).unwrap().preference,
            TimePreference::Evening
        );
        let r = request("tomorrow morning", None).unwrap();
        assert_eq!(
            (r.preference, r.day.to_string().as_str()),
            (TimePreference::Morning, "2026-11-25")
        );
        // An explicit preference wins over the day part.
        assert_eq!(
            request("tonight", Some("around 5pm")).unwrap().preference,
            TimePreference::Around(chrono::NaiveTime::from_hms_opt(17, 0, 0).unwrap())
        );
    }

    #[test]
    fn taken_cells_are_not_offered_and_today_starts_after_now() {
        let b = business();
        let r = request("today", Some("morning")).unwrap();
        // It is 10:00, so morning starts are 10:30, 11:00 and 11:30; a booking holds 10:30-11:30.
        let mut taken = HashMap::new();
        for c in cells_for(
            b.zone.with_ymd_and_hms(2026, 11, 24, 10, 30, 0).unwrap(),
            60,
            30,
        ) {
            taken.insert(c, 1);
        }
        let times: Vec<String> = free_starts(&b, &r, now(), &taken)
            .iter()
            .map(|s| spoken_time(s.time()))
            .collect();
        // 10:30 and 11:00 would overlap it; 11:30 (to 12:30) is free.
        assert_eq!(times, ["11:30 AM"]);
    }

    #[test]
    fn bad_requests_are_spoken() {
        assert!(
            request("someday", None)
                .unwrap_err()
                .contains("could you say the day another way")
        );
        let err = availability_request(
            json!({"date": "tomorrow"}).as_object().unwrap(),
            &CallContext::default(),
            &business(),
            now(),
        );
        assert_eq!(
            err.unwrap_err(),
            "To check availability I need the service and the day.".into()
        );
    }

    #[test]
    fn fully_booked_and_closed_days_point_to_the_next_days() {
        let b = business();
        let r = request("Saturday", None).unwrap();
        let next = [
            b.zone.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap(),
            b.zone.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
        ];
        assert_eq!(
            fully_booked_answer(&r, &next, true),
            "We're closed on Saturday, November 28. The next days with room are Monday, November 30 from 9:00 AM and Tuesday, December 1 from 9:00 AM. Would one of those work?"
        );
        assert!(
            fully_booked_answer(&r, &[], false).ends_with("no free times in the next two weeks.")
        );
    }

    #[test]
    fn a_day_that_starts_in_a_clock_change_still_has_times() {
        // Chile springs forward at midnight: 2026-09-06 00:00 does not exist in Santiago.
        let b = Business::from_lookup(&|k: &str| {
            (k == "BUSINESS_TIME_ZONE").then(|| "America/Santiago".to_string())
        })
        .unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 9, 7).unwrap(); // the Monday after
        let sunday = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 9, 1, 12, 0, 0).unwrap();
        assert!(
            localize(b.zone, sunday.and_time(NaiveTime::MIN)).is_err(),
            "the test needs a midnight gap"
        );
        let open: Business = Business {
            hours: "Mon-Sun 09:00-17:00".parse().unwrap(),
            ..b
        };
        assert_eq!(
            starts_on(&open, sunday, 60, now)
                .first()
                .map(|s| spoken_time(s.time())),
            Some("9:00 AM".into())
        );
        assert!(!starts_on(&open, day, 60, now).is_empty());
    }
}
