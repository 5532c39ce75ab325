//! Changing bookings the caller already has: which booking they mean (by reference or by
//! phone), rescheduling and cancelling it (the tools' arguments and answers), listing their
//! upcoming appointments, and applying a change to the stored record exactly once.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use crate::domain::booking::{BookingRecord, BookingStatus};
use crate::values::speech::Refusal;

use crate::domain::business::Business;
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

/// Who is asking: the number they call from and the name they gave. A booking is shown to,
/// and changed for, a caller calling from its phone, or one who names who it was made for
/// (knowing a reference or a phone number alone is not enough).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requester {
    pub calling_from: Option<PhoneNumber>,
    pub name: Option<String>,
}

impl Requester {
    fn of(args: &Arguments<'_>, call: &CallContext, business: &Business) -> Result<Self, Refusal> {
        Ok(Self {
            calling_from: call
                .customer_number
                .as_deref()
                .and_then(|n| PhoneNumber::parse(n, business.phone_region).ok()),
            name: args.text("customerName")?,
        })
    }

    pub fn may_see(&self, booking: &BookingRecord) -> bool {
        self.calling_from.as_ref() == Some(&booking.customer_phone)
            || self
                .name
                .as_deref()
                .is_some_and(|name| same_person(name, &booking.customer_name))
    }

    /// What the caller hears when bookings exist that they may not see.
    fn privacy(&self) -> Refusal {
        match self.name {
            None => "For your privacy, could you tell me the full name the booking was made under?".into(),
            Some(_) => "That name doesn't match the booking I found. Could you tell me the full name it was made under?".into(),
        }
    }
}

/// The same person, as far as a phone call can tell: the same full name, or the same family
/// name (the last word), ignoring case and punctuation.
fn same_person(given: &str, booked: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (given, booked) = (words(given), words(booked));
    !given.is_empty() && (given == booked || given.last() == booked.last())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RescheduleRequest {
    pub lookup: BookingLookup,
    pub requester: Requester,
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
        requester: Requester::of(&args, call, business)?,
        date: date.unwrap_or_default(),
        time: time.unwrap_or_default(),
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelRequest {
    pub lookup: BookingLookup,
    pub requester: Requester,
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
        requester: Requester::of(&args, call, business)?,
    })
}

/// getAppointments: the number to look up (the caller's own by default), and who asks.
pub fn appointments_phone(
    args: &Map<String, Value>,
    call: &CallContext,
    business: &Business,
) -> Result<(PhoneNumber, Requester), Refusal> {
    let args = GET_APPOINTMENTS.arguments(args);
    let phone = phone_of(&args, call, business)?
        .ok_or_else(|| "Which phone number was the booking made with?".to_string())?;
    Ok((phone, Requester::of(&args, call, business)?))
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
/// booking (if any); by phone, the caller's upcoming bookings. `Err` is the sentence.
pub fn choose_booking<'a>(
    lookup: &BookingLookup,
    found: &'a [BookingRecord],
    requester: &Requester,
    business: &Business,
    now: DateTime<Utc>,
) -> Result<&'a BookingRecord, Refusal> {
    let upcoming: Vec<&BookingRecord> = found.iter().filter(|b| b.is_upcoming(now)).collect();
    let visible: Vec<&BookingRecord> = upcoming
        .iter()
        .copied()
        .filter(|b| requester.may_see(b))
        .collect();
    if visible.is_empty() && !upcoming.is_empty() {
        return Err(requester.privacy());
    }
    match (lookup, visible.as_slice()) {
        (_, [one]) => Ok(one),
        (BookingLookup::Reference(reference), []) => Err(match found.first() {
            Some(b) if !requester.may_see(b) => format!(
                "I couldn't find an upcoming booking with reference {}.",
                reference.spoken()
            ).into(),
            Some(b) if b.status == BookingStatus::Cancelled => format!(
                "The booking with reference {} was already cancelled.",
                reference.spoken()
            ).into(),
            Some(b) => format!(
                "The booking with reference {} was for {}, which has passed.",
                reference.spoken(),
                b.spoken_start(business.zone)
            ).into(),
            None => format!(
                "I couldn't find a booking with reference {}. Could you read it again, or should I look it up by your phone number?",
                reference.spoken()
            ).into(),
        }),
        (BookingLookup::Phone(phone), []) => Err(format!(
            "I couldn't find an upcoming appointment for the number ending in {}. Do you have the booking reference?",
            last_digits(phone)
        ).into()),
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

/// The last four digits, as a receptionist would say them back.
fn last_digits(phone: &PhoneNumber) -> &str {
    let s = phone.as_str();
    &s[s.len().saturating_sub(4)..]
}

/// getAppointments' answer from the caller's bookings.
pub fn appointments_answer(
    phone: &PhoneNumber,
    found: &[BookingRecord],
    requester: &Requester,
    business: &Business,
    now: DateTime<Utc>,
) -> String {
    let upcoming: Vec<&BookingRecord> = found.iter().filter(|b| b.is_upcoming(now)).collect();
    let mut visible: Vec<&BookingRecord> = upcoming
        .iter()
        .copied()
        .filter(|b| requester.may_see(b))
        .collect();
    if visible.is_empty() && !upcoming.is_empty() {
        return requester.privacy().into_sentence();
    }
    let mut upcoming = std::mem::take(&mut visible);
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
