//! Bookings: the `bookAppointment` tool's arguments made into a valid request, the stored
//! record with its audit trail, and the customer it belongs to.

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::business::{Business, ChosenService};
use crate::domain::followups::FollowUpSettings;
use crate::domain::limits::TextPermission;
use crate::values::email::{EmailAddress, EmailError};
use crate::values::hours::round_up;
use crate::values::name::CustomerName;
use crate::values::phone::PhoneNumber;
use crate::values::recipient::Recipient;
use crate::values::reference::BookingReference;
use crate::values::slots::{SlotCell, cells_for};
use crate::values::speech::{Refusal, spoken_date, spoken_datetime, spoken_list, spoken_time};
use crate::values::times::{StartError, resolve_start};
use crate::vapi::envelope::CallContext;
use crate::vapi::tools::BOOK_APPOINTMENT;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDetails {
    pub name: CustomerName,
    pub phone: PhoneNumber,
    pub email: EmailAddress,
}

/// A booking the webhook accepted; the booking worker records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingJob {
    /// Stable for the life of the job: redeliveries carry the same id.
    pub job_id: String,
    pub business_id: String,
    pub business_name: String,
    pub reference: BookingReference,
    pub customer: CustomerDetails,
    pub service: String,
    pub duration_minutes: u32,
    /// The service's price when the catalogue lists one (for the customer's lifetime value).
    #[serde(default)]
    pub price_cents: Option<u64>,
    pub start_utc: DateTime<Utc>,
    /// The same instant in the business's zone, as it was spoken to the caller.
    pub start_local: DateTime<FixedOffset>,
    pub time_zone: String,
    /// The calendar cells the webhook reserved for it (released when it is cancelled).
    #[serde(default)]
    pub slot_cells: Vec<SlotCell>,
    pub call_id: Option<String>,
    pub tool_call_id: Option<String>,
    pub requested_at: DateTime<Utc>,
    /// The business's own recipients for new bookings (owner email and phone).
    #[serde(default)]
    pub owner: Vec<Recipient>,
    /// The holder claim the webhook set on its first cell (a hash: no phone in clear).
    #[serde(default)]
    pub holder: Option<String>,
    #[serde(default)] // whether the customer's number may be texted (`textCountries`)
    pub texts: TextPermission,
    /// The business's reminders and follow-ups; `None`: queued before them, none scheduled.
    #[serde(default)]
    pub followups: Option<FollowUpSettings>,
}

/// How many alternative times a refusal offers.
const ALTERNATIVES: usize = 3;

/// A bookAppointment call that passed every check: who, what, and when in the business zone.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingRequest {
    pub customer: CustomerDetails,
    pub service: ChosenService,
    pub start: DateTime<Tz>,
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
        CustomerName::parse_spoken(&name.unwrap_or_default())?,
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
    Invalid(Refusal),
    /// The time cannot be had (past, closed, taken): spoken with the nearest times from
    /// `from` on that have room.
    Unavailable {
        reason: String,
        from: DateTime<Tz>,
        minutes: u32,
    },
}

impl From<Refusal> for BookingRefusal {
    fn from(refusal: Refusal) -> Self {
        Self::Invalid(refusal)
    }
}

impl From<String> for BookingRefusal {
    fn from(sentence: String) -> Self {
        Self::Invalid(Refusal::new(sentence))
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
    ) -> Refusal {
        match self {
            Self::Invalid(refusal) => refusal.clone(),
            Self::Unavailable {
                reason, minutes, ..
            } => Refusal::new(refusal(
                reason,
                &with_room(business, *minutes, candidates, taken, ALTERNATIVES),
            )),
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
    pub slot_cells: Vec<crate::values::slots::SlotCell>,
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
    /// When the customer confirmed it by replying C to a reminder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_by_customer_at: Option<DateTime<Utc>>,
    /// Whether the customer came: marked `ToConfirm` once the appointment has ended, for the
    /// business to say (the no-show signal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendance: Option<Attendance>,
}

/// Attendance of an appointment that has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Attendance {
    /// It ended; the business has not yet said whether the customer came.
    ToConfirm,
    Attended,
    NoShow,
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
            customer_name: job.customer.name.to_string(),
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
            confirmed_by_customer_at: None,
            attendance: None,
        }
    }
}

mod customer;
pub use customer::CustomerRecord;

#[cfg(test)]
mod tests;
