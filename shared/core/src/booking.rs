//! Bookings: the `bookAppointment` tool's arguments made into a valid request, the stored
//! record with its audit trail, and the customer it belongs to.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::business::{Business, ChosenService};
use crate::dates::{StartError, resolve_start, spoken_date, spoken_datetime, spoken_time};
use crate::email::{EmailAddress, EmailError};
use crate::hours::round_up;
use crate::jobs::{BookingJob, CustomerDetails};
use crate::phone::PhoneNumber;
use crate::reference::BookingReference;
use crate::slots::{SlotCell, cells_for};
use crate::tools::BOOK_APPOINTMENT;
use crate::vapi::CallContext;
use std::collections::HashMap;

/// How many alternative times a refusal offers.
const ALTERNATIVES: usize = 3;

/// A bookAppointment call that passed every check: who, what, and when in the business zone.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingRequest {
    pub customer: CustomerDetails,
    pub service: ChosenService,
    pub start: DateTime<Tz>,
}

/// "a, b and c"
pub fn spoken_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// "Monday, November 30 at 9:00 AM, 9:30 AM or 10:00 AM"
pub fn spoken_options(starts: &[DateTime<Tz>]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut previous: Option<chrono::NaiveDate> = None;
    for s in starts {
        let day = s.date_naive();
        parts.push(if previous == Some(day) {
            spoken_time(s.time())
        } else {
            spoken_datetime(s)
        });
        previous = Some(day);
    }
    match parts.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Validates the arguments of a bookAppointment call. `Err` says what is missing or wrong, or
/// why the time cannot be had (the caller then hears the nearest times with room).
pub fn book_appointment_request(
    args: &Map<String, Value>,
    call: &CallContext,
    business: &Business,
    now: DateTime<Utc>,
) -> Result<BookingRequest, BookingRefusal> {
    let args = BOOK_APPOINTMENT.arguments(args);
    let name = args.text("customerName")?;
    let phone = args
        .text("customerPhone")?
        .or_else(|| call.customer_number.clone());
    let email = args.text("customerEmail")?;
    let service = args.text("serviceType")?;
    let date = args.text("date")?;
    let time = args.text("time")?;

    // A full timestamp in `date` carries the time too.
    let date_has_time = date
        .as_deref()
        .is_some_and(|d| d.len() > 10 && d.contains(':'));
    let missing = args.missing(&[
        ("customerName", name.is_none()),
        ("customerPhone", phone.is_none()),
        ("customerEmail", email.is_none()),
        ("serviceType", service.is_none()),
        ("date", date.is_none()),
        ("time", time.is_none() && !date_has_time),
    ]);
    if !missing.is_empty() {
        return Err(format!(
            "To book the appointment I still need the {}.",
            spoken_list(&missing)
        )
        .into());
    }
    let (name, phone, email, service, date) = (
        name.unwrap_or_default(),
        phone.unwrap_or_default(),
        email.unwrap_or_default(),
        service.unwrap_or_default(),
        date.unwrap_or_default(),
    );
    let time = time.unwrap_or_default();
    let service = business.service(&service)?;

    let phone = PhoneNumber::parse_spoken(&phone, business.phone_region)?;
    let email = EmailAddress::parse(&email).map_err(|e| match e {
        EmailError::Empty | EmailError::Invalid => {
            "That email address doesn't look right; could you spell it again?".to_string()
        }
    })?;

    let start = bookable_start(&date, &time, service.minutes, call, business, now)?;
    Ok(BookingRequest {
        customer: CustomerDetails { name, phone, email },
        service,
        start,
    })
}

/// The start a caller asked for, resolved in the business's zone relative to the call, if it
/// can be booked for `minutes`: not in the past, within opening hours, not in a clock change.
pub fn bookable_start(
    date: &str,
    time: &str,
    minutes: u32,
    call: &CallContext,
    business: &Business,
    now: DateTime<Utc>,
) -> Result<DateTime<Tz>, BookingRefusal> {
    let call_started = call.started_at.unwrap_or(now);
    let start = resolve_start(date, time, business.zone, call_started, business.phone_region.month_first_dates())
        .map_err(|e| match e {
            StartError::Date(e) => format!("{e}; could you say the date another way, like tomorrow, Friday or November 28?"),
            StartError::Time(e) => format!("{e}; could you say the time another way, like 2 PM or 14:30?"),
            StartError::Nonexistent { before, after } => format!(
                "That time doesn't exist on {} because the clocks change; the nearest times are {} and {}.",
                spoken_date(before.date_naive()),
                spoken_time(before.time()),
                spoken_time(after.time())
            ),
        })?;

    if start.with_timezone(&Utc) <= now {
        return Err(BookingRefusal::Unavailable {
            reason: format!("{} has already passed.", spoken_datetime(&start)),
            from: round_up(now.with_timezone(&business.zone), business.slot_minutes),
            minutes,
        });
    }
    if !business.hours.fits(&start, minutes) {
        let from = round_up(start, business.slot_minutes);
        let from = if from.date_naive() == start.date_naive() {
            from
        } else {
            start
        };
        let reason = if business.hours.is_open_on(chrono::Datelike::weekday(&start)) {
            format!(
                "We can't book {} because we're open {}.",
                spoken_datetime(&start),
                business.hours.spoken()
            )
        } else {
            format!(
                "We're closed on {}; we're open {}.",
                start.format("%As"),
                business.hours.spoken()
            )
        };
        return Err(BookingRefusal::Unavailable {
            reason,
            from,
            minutes,
        });
    }
    Ok(start)
}

/// Why a booking cannot be made as asked.
#[derive(Debug, Clone, PartialEq)]
pub enum BookingRefusal {
    /// Something to fix in what the caller said: spoken as it is.
    Invalid(String),
    /// The time cannot be had (past, closed, taken): spoken with the nearest times from
    /// `from` on that have room.
    Unavailable {
        reason: String,
        from: DateTime<Tz>,
        minutes: u32,
    },
}

impl From<String> for BookingRefusal {
    fn from(spoken: String) -> Self {
        Self::Invalid(spoken)
    }
}

/// How many upcoming starts are checked for room when offering alternatives.
pub const CANDIDATES: usize = 48;

impl BookingRefusal {
    /// Every place at `start` is taken.
    pub fn taken(start: DateTime<Tz>, minutes: u32) -> Self {
        Self::Unavailable {
            minutes,
            reason: format!("Sorry, {} is already booked.", spoken_datetime(&start)),
            from: start,
        }
    }

    /// The starts worth checking for room (none for an invalid request).
    pub fn candidates(&self, business: &Business, now: DateTime<Utc>) -> Vec<DateTime<Tz>> {
        match self {
            Self::Invalid(_) => Vec::new(),
            Self::Unavailable { from, minutes, .. } => business.hours.nearest_starts(
                business.zone,
                *from,
                now,
                *minutes,
                business.slot_minutes,
                CANDIDATES,
            ),
        }
    }

    /// The sentence for the caller, offering up to three of the candidates that have room.
    pub fn spoken(
        &self,
        business: &Business,
        candidates: &[DateTime<Tz>],
        taken: &HashMap<SlotCell, u32>,
    ) -> String {
        match self {
            Self::Invalid(text) => text.clone(),
            Self::Unavailable {
                reason, minutes, ..
            } => refusal(
                reason,
                &with_room(business, *minutes, candidates, taken, ALTERNATIVES),
            ),
        }
    }
}

fn refusal(reason: &str, options: &[DateTime<Tz>]) -> String {
    if options.is_empty() {
        format!("{reason} I have no free times in the next two weeks.")
    } else {
        format!(
            "{reason} The nearest times I can offer are {}. Would one of those work?",
            spoken_options(options)
        )
    }
}

/// Of `candidates`, the first `count` whose cells all have room, given how many bookings
/// hold each taken cell.
pub fn with_room(
    business: &Business,
    minutes: u32,
    candidates: &[DateTime<Tz>],
    taken: &HashMap<SlotCell, u32>,
    count: usize,
) -> Vec<DateTime<Tz>> {
    candidates
        .iter()
        .filter(|start| {
            cells_for(**start, minutes, business.slot_minutes)
                .iter()
                .all(|cell| taken.get(cell).copied().unwrap_or(0) < business.capacity)
        })
        .take(count)
        .copied()
        .collect()
}

/// The sentence the caller hears once the booking job is accepted.
pub fn booking_confirmation(request: &BookingRequest, reference: &BookingReference) -> String {
    format!(
        "You're booked for {} on {}. Your booking reference is {}. We'll send a confirmation by text and email.",
        request.service.name,
        spoken_datetime(&request.start),
        reference.spoken()
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BookingStatus {
    Confirmed,
    Rescheduled,
    Cancelled,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Rescheduled => "rescheduled",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One status change, kept forever on the booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub status: BookingStatus,
    pub note: String,
    /// The change job that made this entry: a redelivered job finds it and applies nothing.
    #[serde(default)]
    pub job_id: Option<String>,
    /// When the caller asked for the change (orders changes that arrive out of order).
    #[serde(default)]
    pub requested_at: Option<DateTime<Utc>>,
    /// The calendar cells this change gave up.
    #[serde(default)]
    pub released: Vec<SlotCell>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingRecord {
    pub business_id: String,
    pub reference: BookingReference,
    pub job_id: String,
    pub customer_phone: PhoneNumber,
    pub customer_name: String,
    pub customer_email: EmailAddress,
    pub service: String,
    pub duration_minutes: u32,
    #[serde(default)]
    pub price_cents: Option<u64>,
    pub start_utc: DateTime<Utc>,
    pub start_local: DateTime<chrono::FixedOffset>,
    pub time_zone: String,
    #[serde(default)]
    pub slot_cells: Vec<crate::slots::SlotCell>,
    pub status: BookingStatus,
    pub call_id: Option<String>,
    pub tool_call_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub audit: Vec<AuditEntry>,
    /// Bumped on every change; changes are written conditionally on it (optimistic locking).
    #[serde(default)]
    pub version: u64,
    /// The holder claim on its first cell (see `SlotStore::reserve`), dropped when it moves.
    #[serde(default)]
    pub holder: Option<String>,
}

impl BookingRecord {
    /// Not cancelled and not yet started.
    pub fn is_upcoming(&self, now: DateTime<Utc>) -> bool {
        self.status != BookingStatus::Cancelled && self.start_utc > now
    }

    /// The start in the business's zone, as the caller hears it.
    pub fn spoken_start(&self, zone: Tz) -> String {
        spoken_datetime(&self.start_utc.with_timezone(&zone))
    }
}

impl BookingRecord {
    pub fn from_job(job: &BookingJob, now: DateTime<Utc>) -> Self {
        Self {
            business_id: job.business_id.clone(),
            reference: job.reference.clone(),
            job_id: job.job_id.clone(),
            customer_phone: job.customer.phone.clone(),
            customer_name: job.customer.name.clone(),
            customer_email: job.customer.email.clone(),
            service: job.service.clone(),
            duration_minutes: job.duration_minutes,
            price_cents: job.price_cents,
            start_utc: job.start_utc,
            start_local: job.start_local,
            time_zone: job.time_zone.clone(),
            slot_cells: job.slot_cells.clone(),
            status: BookingStatus::Confirmed,
            call_id: job.call_id.clone(),
            tool_call_id: job.tool_call_id.clone(),
            created_at: now,
            updated_at: now,
            audit: vec![AuditEntry {
                at: now,
                status: BookingStatus::Confirmed,
                note: "booked by phone assistant".into(),
                job_id: Some(job.job_id.clone()),
                requested_at: Some(job.requested_at),
                released: Vec::new(),
            }],
            version: 1,
            holder: job.holder.clone(),
        }
    }
}

/// A caller, one per business and phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRecord {
    pub business_id: String,
    pub phone: PhoneNumber,
    /// Empty for a caller who has called but never booked.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: Option<EmailAddress>,
    pub first_contact_at: DateTime<Utc>,
    pub last_contact_at: DateTime<Utc>,
    #[serde(default)]
    pub booking_count: u32,
    pub last_booking_reference: Option<BookingReference>,
    /// Sum of the prices of their booked services, less cancelled ones (cents).
    #[serde(default)]
    pub lifetime_value_cents: i64,
    /// Calls recorded from end-of-call reports.
    #[serde(default)]
    pub call_count: u32,
    #[serde(default)]
    pub last_call_id: Option<String>,
}

impl CustomerRecord {
    /// The customer after `job` is recorded: the latest name and email win.
    pub fn after_booking(
        existing: Option<&CustomerRecord>,
        job: &BookingJob,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            business_id: job.business_id.clone(),
            phone: job.customer.phone.clone(),
            name: job.customer.name.clone(),
            email: Some(job.customer.email.clone()),
            first_contact_at: existing.map_or(now, |c| c.first_contact_at),
            last_contact_at: now,
            booking_count: existing.map_or(0, |c| c.booking_count) + 1,
            last_booking_reference: Some(job.reference.clone()),
            lifetime_value_cents: existing.map_or(0, |c| c.lifetime_value_cents)
                + job.price_cents.unwrap_or(0) as i64,
            call_count: existing.map_or(0, |c| c.call_count),
            last_call_id: existing.and_then(|c| c.last_call_id.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn business() -> Business {
        Business::from_lookup(&|_: &str| None).unwrap()
    }

    /// Tuesday 2026-11-24, 10:00 in New York.
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
    }

    /// The refusal as the caller hears it with an empty calendar.
    fn say(result: Result<BookingRequest, BookingRefusal>) -> String {
        let b = business();
        let refusal = result.unwrap_err();
        refusal.spoken(&b, &refusal.candidates(&b, now()), &HashMap::new())
    }

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn seed_args() -> Value {
        json!({"customerName": "Test User", "customerPhone": "+17025551234", "customerEmail": "test@example.com",
               "serviceType": "Consultation", "date": "tomorrow", "time": "2pm"})
    }

    #[test]
    fn the_seed_booking_resolves() {
        let r = book_appointment_request(
            &args(seed_args()),
            &CallContext::default(),
            &business(),
            now(),
        )
        .unwrap();
        assert_eq!(
            r.start,
            chrono_tz::America::New_York
                .with_ymd_and_hms(2026, 11, 25, 14, 0, 0)
                .unwrap()
        );
        assert_eq!(r.customer.phone.as_str(), "+17025551234");
        let reference = BookingReference::parse("K7P2X9").unwrap();
        assert_eq!(
            booking_confirmation(&r, &reference),
            "You're booked for Consultation on Wednesday, November 25 at 2:00 PM. Your booking reference is K-7-P-2-X-9. We'll send a confirmation by text and email."
        );
    }

    #[test]
    fn missing_arguments_are_listed() {
        let err = book_appointment_request(
            &args(json!({"customerName": "A", "date": "tomorrow"})),
            &CallContext::default(),
            &business(),
            now(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            BookingRefusal::Invalid(
                "To book the appointment I still need the phone number, email address, service and time.".into()
            )
        );
    }

    #[test]
    fn the_callers_number_fills_in_a_missing_phone() {
        let mut a = args(seed_args());
        a.remove("customerPhone");
        let call = CallContext {
            customer_number: Some("+17025550000".into()),
            ..Default::default()
        };
        let r = book_appointment_request(&a, &call, &business(), now()).unwrap();
        assert_eq!(r.customer.phone.as_str(), "+17025550000");
    }

    #[test]
    fn bad_values_get_spoken_errors() {
        let cases = [
            (
                "customerPhone",
                json!("555"),
                "phone number doesn't look complete",
            ),
            (
                "customerEmail",
                json!("test@"),
                "email address doesn't look right",
            ),
            ("date", json!("someday"), "could not understand the date"),
            ("time", json!("lunchtime"), "could not understand the time"),
            ("customerName", json!("x".repeat(201)), "too long"),
        ];
        for (key, value, expected) in cases {
            let mut a = args(seed_args());
            a.insert(key.into(), value);
            let err = say(book_appointment_request(
                &a,
                &CallContext::default(),
                &business(),
                now(),
            ));
            assert!(err.contains(expected), "{key}: {err}");
        }
    }

    #[test]
    fn closed_days_offer_the_next_open_times() {
        let mut a = args(seed_args());
        a.insert("date".into(), json!("Saturday"));
        let err = say(book_appointment_request(
            &a,
            &CallContext::default(),
            &business(),
            now(),
        ));
        assert_eq!(
            err,
            "We're closed on Saturdays; we're open Monday to Friday, 9:00 AM to 5:00 PM. The nearest times I can offer are Monday, November 30 at 9:00 AM, 9:30 AM or 10:00 AM. Would one of those work?"
        );
    }

    #[test]
    fn outside_hours_and_past_times_are_refused_with_alternatives() {
        let mut a = args(seed_args());
        a.insert("time".into(), json!("4:30pm"));
        let err = say(book_appointment_request(
            &a,
            &CallContext::default(),
            &business(),
            now(),
        ));
        assert!(
            err.starts_with("We can't book Wednesday, November 25 at 4:30 PM because we're open"),
            "{err}"
        );
        assert!(err.contains("Thursday, November 26 at 9:00 AM"), "{err}");

        a.insert("date".into(), json!("today"));
        a.insert("time".into(), json!("9am"));
        let err = say(book_appointment_request(
            &a,
            &CallContext::default(),
            &business(),
            now(),
        ));
        assert!(
            err.starts_with("Tuesday, November 24 at 9:00 AM has already passed."),
            "{err}"
        );
        // It is 10:00 now: the next bookable start is 10:30.
        assert!(
            err.contains("Tuesday, November 24 at 10:30 AM, 11:00 AM or 11:30 AM"),
            "{err}"
        );
    }

    #[test]
    fn customer_history_accumulates() {
        let r = book_appointment_request(
            &args(seed_args()),
            &CallContext::default(),
            &business(),
            now(),
        )
        .unwrap();
        let job = BookingJob {
            job_id: "j".into(),
            business_id: "default".into(),
            business_name: "Clinic".into(),
            reference: BookingReference::parse("K7P2X9").unwrap(),
            customer: r.customer.clone(),
            service: r.service.name.clone(),
            duration_minutes: 60,
            price_cents: None,
            start_utc: r.start.with_timezone(&Utc),
            start_local: r.start.fixed_offset(),
            time_zone: "America/New_York".into(),
            slot_cells: Vec::new(),
            call_id: None,
            tool_call_id: None,
            requested_at: now(),
            owner: Vec::new(),
            holder: None,
        };
        let first = CustomerRecord::after_booking(None, &job, now());
        let later = now() + chrono::Duration::days(1);
        let second = CustomerRecord::after_booking(Some(&first), &job, later);
        assert_eq!(
            (
                second.booking_count,
                second.first_contact_at,
                second.last_contact_at
            ),
            (2, now(), later)
        );
        assert_eq!(BookingRecord::from_job(&job, now()).audit.len(), 1);
    }
}
