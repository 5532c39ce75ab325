//! Changing bookings the caller already has: which booking they mean (by reference or by
//! phone), rescheduling and cancelling it (the tools' arguments and answers), listing their
//! upcoming appointments, and applying a change to the stored record exactly once.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use crate::domain::booking::{BookingRecord, BookingStatus};
use crate::values::speech::Refusal;

use crate::domain::business::Business;
use crate::domain::callers::sentences::{ANOTHER_NUMBER, NOT_FOUND_OR_NOT_YOURS};
use crate::domain::callers::{Caller, last_digits};
use crate::values::phone::PhoneNumber;
use crate::values::reference::BookingReference;
use crate::values::speech::spoken_list;
use crate::vapi::envelope::CallContext;
use crate::vapi::tools::{Arguments, CANCEL_APPOINTMENT, GET_APPOINTMENTS, RESCHEDULE_APPOINTMENT};

/// How many upcoming appointments are read out at most.
const LISTED: usize = 3;

/// Which booking the caller means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookingLookup {
    Reference(BookingReference),
    /// Their upcoming bookings made with this number.
    Phone(PhoneNumber),
}

fn phone_of(
    args: &Arguments<'_>,
    call: &CallContext,
    business: &Business,
) -> Result<Option<PhoneNumber>, Refusal> {
    let Some(raw) = args
        .text("customerPhone")?
        .or_else(|| call.customer_number.clone())
    else {
        return Ok(None);
    };
    PhoneNumber::parse_spoken(&raw, business.phone_region).map(Some)
}

/// A reference when one is given (and must then be valid), else the phone number.
fn lookup(
    args: &Arguments<'_>,
    call: &CallContext,
    business: &Business,
) -> Result<BookingLookup, Refusal> {
    if let Some(raw) = args.text("bookingReference")? {
        return BookingReference::parse(&raw)
            .map(BookingLookup::Reference)
            .ok_or_else(|| {
                Refusal::from("That booking reference doesn't look right: it has six letters and digits. Could you read it again, or should I look it up by your phone number?")
            });
    }
    phone_of(args, call, business)?
        .map(BookingLookup::Phone)
        .ok_or_else(|| {
            Refusal::from(
                "I need the booking reference or the phone number the booking was made with.",
            )
        })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RescheduleRequest {
    pub lookup: BookingLookup,
    pub date: String,
    pub time: String,
}

pub fn reschedule_request(
    args: &Map<String, Value>,
    call: &CallContext,
    business: &Business,
) -> Result<RescheduleRequest, Refusal> {
    let args = RESCHEDULE_APPOINTMENT.arguments(args);
    let date = args.text("newDate")?;
    let time = args.text("newTime")?;
    let date_has_time = date
        .as_deref()
        .is_some_and(|d| d.len() > 10 && d.contains(':'));
    let missing = args.missing(&[
        ("newDate", date.is_none()),
        ("newTime", time.is_none() && !date_has_time),
    ]);
    if !missing.is_empty() {
        return Err(format!(
            "To move the appointment I need the {}.",
            spoken_list(&missing)
        )
        .into());
    }
    Ok(RescheduleRequest {
        lookup: lookup(&args, call, business)?,
        date: date.unwrap_or_default(),
        time: time.unwrap_or_default(),
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelRequest {
    pub lookup: BookingLookup,
    pub reason: Option<String>,
}

pub fn cancel_request(
    args: &Map<String, Value>,
    call: &CallContext,
    business: &Business,
) -> Result<CancelRequest, Refusal> {
    let args = CANCEL_APPOINTMENT.arguments(args);
    Ok(CancelRequest {
        reason: args.text("reason")?,
        lookup: lookup(&args, call, business)?,
    })
}

/// getAppointments: the number to look up (the caller's own by default).
pub fn appointments_phone(
    args: &Map<String, Value>,
    call: &CallContext,
    business: &Business,
) -> Result<PhoneNumber, Refusal> {
    let args = GET_APPOINTMENTS.arguments(args);
    Ok(phone_of(&args, call, business)?
        .ok_or_else(|| "Which phone number was the booking made with?".to_string())?)
}

fn describe(booking: &BookingRecord, zone: Tz) -> String {
    format!(
        "{} on {}, reference {}",
        booking.service,
        booking.spoken_start(zone),
        booking.reference.spoken()
    )
}

/// The booking a change applies to, from what the lookup found: by reference, the one
/// booking (if any); by phone, the caller's upcoming bookings. `Err` is the sentence. Only
/// bookings of a number the caller acts for count: for any other, or none, the caller hears
/// one and the same sentence, so a reference or a number cannot be tested for existence.
pub fn choose_booking<'a>(
    lookup: &BookingLookup,
    found: &'a [BookingRecord],
    caller: &Caller,
    business: &Business,
    now: DateTime<Utc>,
) -> Result<&'a BookingRecord, Refusal> {
    let theirs: Vec<&BookingRecord> = found
        .iter()
        .filter(|b| caller.acts_for(&b.customer_phone))
        .collect();
    let upcoming: Vec<&BookingRecord> = theirs
        .iter()
        .copied()
        .filter(|b| b.is_upcoming(now))
        .collect();
    match (lookup, upcoming.as_slice()) {
        (_, [one]) => Ok(one),
        (BookingLookup::Reference(reference), []) => Err(match theirs.first() {
            None => NOT_FOUND_OR_NOT_YOURS.into(),
            Some(b) if b.status == BookingStatus::Cancelled => format!(
                "The booking with reference {} was already cancelled.",
                reference.spoken()
            ).into(),
            Some(b) => format!(
                "The booking with reference {} was for {}, which has passed.",
                reference.spoken(),
                b.spoken_start(business.zone)
            ).into(),
        }),
        (BookingLookup::Phone(phone), []) if caller.acts_for(phone) => Err(format!(
            "I couldn't find an upcoming appointment for the number ending in {}. Do you have the booking reference?",
            last_digits(phone)
        ).into()),
        (BookingLookup::Phone(_), []) => Err(ANOTHER_NUMBER.into()),
        (_, many) => {
            let listed: Vec<String> = many
                .iter()
                .take(LISTED)
                .map(|b| describe(b, business.zone))
                .collect();
            let which = if many.len() > LISTED {
                format!("; the next {LISTED} are")
            } else {
                ":".to_string()
            };
            Err(format!(
                "You have {} upcoming appointments{which} {}. Which one do you mean? Please tell me its booking reference.",
                many.len(),
                spoken_list(&listed)
            ).into())
        }
    }
}

/// getAppointments' answer from the bookings of `phone`: read out only to a caller who acts
/// for that number.
pub fn appointments_answer(
    phone: &PhoneNumber,
    found: &[BookingRecord],
    caller: &Caller,
    business: &Business,
    now: DateTime<Utc>,
) -> String {
    if !caller.acts_for(phone) {
        return ANOTHER_NUMBER.to_string();
    }
    let mut upcoming: Vec<&BookingRecord> = found
        .iter()
        .filter(|b| b.is_upcoming(now) && b.customer_phone == *phone)
        .collect();
    upcoming.sort_by_key(|b| b.start_utc);
    let listed: Vec<String> = upcoming
        .iter()
        .take(LISTED)
        .map(|b| describe(b, business.zone))
        .collect();
    match upcoming.len() {
        0 => format!(
            "I can't find any upcoming appointments for the number ending in {}.",
            last_digits(phone)
        ),
        1 => format!("You have one upcoming appointment: {}.", listed[0]),
        n if n <= LISTED => format!(
            "You have {n} upcoming appointments: {}.",
            spoken_list(&listed)
        ),
        n => format!(
            "You have {n} upcoming appointments; the next {LISTED} are {}.",
            spoken_list(&listed)
        ),
    }
}

pub fn reschedule_confirmation(
    booking: &BookingRecord,
    new_start: &DateTime<Tz>,
    business: &Business,
) -> String {
    format!(
        "Done: your {} is moved from {} to {}. Your booking reference stays {}, and we'll send the new time by text and email.",
        booking.service,
        booking.spoken_start(business.zone),
        crate::values::speech::spoken_datetime(new_start),
        booking.reference.spoken()
    )
}

pub fn cancel_confirmation(booking: &BookingRecord, business: &Business) -> String {
    format!(
        "Your {} on {} is cancelled, and we'll confirm by text and email.",
        booking.service,
        booking.spoken_start(business.zone)
    )
}

#[cfg(test)]
mod tests;
