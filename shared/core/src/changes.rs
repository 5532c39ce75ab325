//! Changing bookings the caller already has: which booking they mean (by reference or by
//! phone), rescheduling and cancelling it (the tools' arguments and answers), listing their
//! upcoming appointments, and applying a change to the stored record exactly once.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use crate::booking::{AuditEntry, BookingRecord, BookingStatus, spoken_list};
use crate::business::Business;
use crate::jobs::{BookingChange, BookingChangeJob};
use crate::phone::PhoneNumber;
use crate::reference::BookingReference;
use crate::slots::SlotCell;
use crate::tools::{Arguments, CANCEL_APPOINTMENT, GET_APPOINTMENTS, RESCHEDULE_APPOINTMENT};
use crate::vapi::CallContext;

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
) -> Result<Option<PhoneNumber>, String> {
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
) -> Result<BookingLookup, String> {
    if let Some(raw) = args.text("bookingReference")? {
        return BookingReference::parse(&raw)
            .map(BookingLookup::Reference)
            .ok_or_else(|| {
                "That booking reference doesn't look right: it has six letters and digits. Could you read it again, or should I look it up by your phone number?".to_string()
            });
    }
    phone_of(args, call, business)?
        .map(BookingLookup::Phone)
        .ok_or_else(|| {
            "I need the booking reference or the phone number the booking was made with."
                .to_string()
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
    fn of(args: &Arguments<'_>, call: &CallContext, business: &Business) -> Result<Self, String> {
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
    fn privacy(&self) -> String {
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
) -> Result<RescheduleRequest, String> {
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
        ));
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
) -> Result<CancelRequest, String> {
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
) -> Result<(PhoneNumber, Requester), String> {
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
) -> Result<&'a BookingRecord, String> {
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
            ),
            Some(b) if b.status == BookingStatus::Cancelled => format!(
                "The booking with reference {} was already cancelled.",
                reference.spoken()
            ),
            Some(b) => format!(
                "The booking with reference {} was for {}, which has passed.",
                reference.spoken(),
                b.spoken_start(business.zone)
            ),
            None => format!(
                "I couldn't find a booking with reference {}. Could you read it again, or should I look it up by your phone number?",
                reference.spoken()
            ),
        }),
        (BookingLookup::Phone(phone), []) => Err(format!(
            "I couldn't find an upcoming appointment for the number ending in {}. Do you have the booking reference?",
            last_digits(phone)
        )),
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
            ))
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
        return requester.privacy();
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
        crate::dates::spoken_datetime(new_start),
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

/// The calendar side of a booking change, written in the same transaction as the record, so
/// the cells a booking holds are always the cells its record names (plus the new time's cells
/// the webhook reserved for a change still on its way).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarChange {
    /// Cells the booking gives up (each held by it).
    pub release: Vec<SlotCell>,
    /// Cells of the new time it does not hold yet (an earlier change freed them after the
    /// webhook looked): taken now, within `capacity`, or the change cannot apply.
    pub reserve: Vec<SlotCell>,
    pub capacity: u32,
    /// The old start's holder claim to drop: (its first cell, holder tag).
    pub unclaim: Option<(SlotCell, String)>,
    /// The new start's holder claim: (its first cell, holder tag).
    pub claim: Option<(SlotCell, String)>,
}

impl CalendarChange {
    /// Every cell this change touches, once each (a transaction may touch an item once).
    pub fn cells(&self) -> Vec<SlotCell> {
        let mut cells: Vec<SlotCell> = self
            .release
            .iter()
            .chain(&self.reserve)
            .copied()
            .chain(self.unclaim.iter().map(|(c, _)| *c))
            .chain(self.claim.iter().map(|(c, _)| *c))
            .collect();
        cells.sort();
        cells.dedup();
        cells
    }
}

/// What applying a change job to a stored booking comes to.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeDecision {
    /// Write `record` and `calendar` together, conditionally on the record's version;
    /// `value_delta` adjusts the customer's lifetime value.
    Apply {
        record: Box<BookingRecord>,
        calendar: CalendarChange,
        value_delta: i64,
    },
    /// This job was applied before (a redelivery): nothing to write; its notifications are
    /// asked for again (deduplicated downstream).
    AlreadyApplied,
    /// Nothing to apply: the booking was cancelled meanwhile, a newer change won, or it is
    /// already at that time. The cells the webhook reserved for this job and the booking
    /// does not use are freed (`release`); nobody is notified.
    Superseded { release: Vec<SlotCell> },
}

impl BookingRecord {
    /// Decides what `job` does to this booking (pure: the store writes the result).
    pub fn decide(&self, job: &BookingChangeJob, now: DateTime<Utc>) -> ChangeDecision {
        if self
            .audit
            .iter()
            .any(|e| e.job_id.as_deref() == Some(job.job_id.as_str()))
        {
            return ChangeDecision::AlreadyApplied;
        }
        let not_used = |cells: &[SlotCell]| -> Vec<SlotCell> {
            cells
                .iter()
                .filter(|c| !self.slot_cells.contains(c))
                .copied()
                .collect()
        };
        let newer_change_applied = self
            .audit
            .iter()
            .any(|e| e.requested_at.is_some_and(|at| at > job.requested_at));
        let old_claim = match (self.slot_cells.first(), &self.holder) {
            (Some(cell), Some(tag)) => Some((*cell, tag.clone())),
            _ => None,
        };
        let mut record = self.clone();
        record.version = self.version + 1;
        record.updated_at = now;
        match &job.change {
            BookingChange::Cancel { .. } if self.status == BookingStatus::Cancelled => {
                ChangeDecision::Superseded {
                    release: Vec::new(),
                }
            }
            BookingChange::Cancel { reason } => {
                record.status = BookingStatus::Cancelled;
                record.holder = None;
                record.audit.push(AuditEntry {
                    at: now,
                    status: BookingStatus::Cancelled,
                    note: match reason {
                        Some(r) => format!("cancelled by phone assistant: {r}"),
                        None => "cancelled by phone assistant".to_string(),
                    },
                    job_id: Some(job.job_id.clone()),
                    requested_at: Some(job.requested_at),
                    released: self.slot_cells.clone(),
                });
                ChangeDecision::Apply {
                    record: Box::new(record),
                    calendar: CalendarChange {
                        release: self.slot_cells.clone(),
                        reserve: Vec::new(),
                        capacity: 0,
                        unclaim: old_claim,
                        claim: None,
                    },
                    value_delta: -(self.price_cents.unwrap_or(0) as i64),
                }
            }
            BookingChange::Reschedule { reserved, .. }
                if self.status == BookingStatus::Cancelled || newer_change_applied =>
            {
                ChangeDecision::Superseded {
                    release: not_used(reserved),
                }
            }
            BookingChange::Reschedule {
                start_utc,
                reserved,
                ..
            } if *start_utc == self.start_utc => ChangeDecision::Superseded {
                release: not_used(reserved),
            },
            BookingChange::Reschedule {
                start_utc,
                start_local,
                slot_cells,
                reserved,
                holder,
                capacity,
            } => {
                let release: Vec<SlotCell> = self
                    .slot_cells
                    .iter()
                    .filter(|c| !slot_cells.contains(c))
                    .copied()
                    .collect();
                let reserve: Vec<SlotCell> = slot_cells
                    .iter()
                    .filter(|c| !self.slot_cells.contains(c) && !reserved.contains(c))
                    .copied()
                    .collect();
                record.status = BookingStatus::Rescheduled;
                record.start_utc = *start_utc;
                record.start_local = *start_local;
                record.slot_cells = slot_cells.clone();
                record.holder = holder.clone();
                record.audit.push(AuditEntry {
                    at: now,
                    status: BookingStatus::Rescheduled,
                    note: format!(
                        "moved from {} to {} by phone assistant",
                        self.start_local.to_rfc3339(),
                        start_local.to_rfc3339()
                    ),
                    job_id: Some(job.job_id.clone()),
                    requested_at: Some(job.requested_at),
                    released: release.clone(),
                });
                let claim = match (slot_cells.first(), holder) {
                    (Some(cell), Some(tag)) => Some((*cell, tag.clone())),
                    _ => None,
                };
                ChangeDecision::Apply {
                    record: Box::new(record),
                    calendar: CalendarChange {
                        release,
                        reserve,
                        capacity: *capacity,
                        unclaim: old_claim.filter(|old| Some(old) != claim.as_ref()),
                        claim,
                    },
                    value_delta: 0,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::{BookingJob, CustomerDetails};
    use crate::slots::cells_for;
    use chrono::TimeZone;
    use serde_json::json;

    fn business() -> Business {
        Business::from_lookup(&|_: &str| None).unwrap()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
    }

    fn at(day: u32, hour: u32) -> DateTime<Tz> {
        chrono_tz::America::New_York
            .with_ymd_and_hms(2026, 11, day, hour, 0, 0)
            .unwrap()
    }

    fn booking(reference: &str, start: DateTime<Tz>) -> BookingRecord {
        let b = business();
        let job = BookingJob {
            job_id: format!("default#{reference}"),
            business_id: "default".into(),
            business_name: "Clinic".into(),
            reference: BookingReference::parse(reference).unwrap(),
            customer: CustomerDetails {
                name: "Test User".into(),
                phone: PhoneNumber::parse("+17025551234", b.phone_region).unwrap(),
                email: crate::email::EmailAddress::parse("test@example.com").unwrap(),
            },
            service: "Consultation".into(),
            duration_minutes: 60,
            price_cents: Some(15_000),
            start_utc: start.with_timezone(&Utc),
            start_local: start.fixed_offset(),
            time_zone: "America/New_York".into(),
            slot_cells: cells_for(start, 60, 30),
            call_id: None,
            tool_call_id: None,
            requested_at: now(),
            owner: Vec::new(),
            holder: None,
        };
        BookingRecord::from_job(&job, now())
    }

    fn change(reference: &str, id: &str, change: BookingChange, secs: i64) -> BookingChangeJob {
        BookingChangeJob {
            job_id: id.into(),
            business_id: "default".into(),
            business_name: "Clinic".into(),
            reference: BookingReference::parse(reference).unwrap(),
            change,
            call_id: None,
            tool_call_id: None,
            requested_at: now() + chrono::Duration::seconds(secs),
        }
    }

    /// A move as the webhook makes it when the booking stands at `from`: it reserved the
    /// new cells the booking did not hold.
    fn move_to(from: DateTime<Tz>, start: DateTime<Tz>) -> BookingChange {
        let held = cells_for(from, 60, 30);
        let cells = cells_for(start, 60, 30);
        BookingChange::Reschedule {
            start_utc: start.with_timezone(&Utc),
            start_local: start.fixed_offset(),
            reserved: cells
                .iter()
                .filter(|c| !held.contains(c))
                .copied()
                .collect(),
            slot_cells: cells,
            holder: Some(format!("tag-{}", start.format("%d%H%M"))),
            capacity: 1,
        }
    }

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_reference_wins_over_the_phone_and_must_be_valid() {
        let b = business();
        let call = CallContext {
            customer_number: Some("+17025551234".into()),
            ..Default::default()
        };
        let r = cancel_request(&args(json!({"bookingReference": "k-7-p 2x9"})), &call, &b).unwrap();
        assert_eq!(
            r.lookup,
            BookingLookup::Reference(BookingReference::parse("K7P2X9").unwrap())
        );
        let r = cancel_request(&args(json!({"reason": "sick"})), &call, &b).unwrap();
        assert!(matches!(r.lookup, BookingLookup::Phone(_)));
        assert_eq!(r.reason.as_deref(), Some("sick"));
        let err = cancel_request(&args(json!({"bookingReference": "K7P"})), &call, &b).unwrap_err();
        assert!(err.starts_with("That booking reference doesn't look right"));
        let err = cancel_request(&args(json!({})), &CallContext::default(), &b).unwrap_err();
        assert_eq!(
            err,
            "I need the booking reference or the phone number the booking was made with."
        );
        let err = reschedule_request(&args(json!({"bookingReference": "K7P2X9"})), &call, &b)
            .unwrap_err();
        assert_eq!(
            err,
            "To move the appointment I need the new date and new time."
        );
    }

    #[test]
    fn choosing_a_booking_speaks_every_case() {
        let b = business();
        let phone = PhoneNumber::parse("+17025551234", b.phone_region).unwrap();
        let one = booking("K7P2X9", at(25, 14));
        let two = booking("M4N5P6", at(27, 10));
        let by_phone = BookingLookup::Phone(phone.clone());
        let me = Requester {
            calling_from: Some(phone.clone()),
            name: None,
        };
        assert_eq!(
            choose_booking(&by_phone, std::slice::from_ref(&one), &me, &b, now())
                .unwrap()
                .reference,
            one.reference
        );
        let err =
            choose_booking(&by_phone, &[one.clone(), two.clone()], &me, &b, now()).unwrap_err();
        assert_eq!(
            err,
            "You have 2 upcoming appointments: Consultation on Wednesday, November 25 at 2:00 PM, reference K-7-P-2-X-9 and Consultation on Friday, November 27 at 10:00 AM, reference M-4-N-5-P-6. Which one do you mean? Please tell me its booking reference."
        );
        assert!(
            choose_booking(&by_phone, &[], &me, &b, now())
                .unwrap_err()
                .contains("ending in 1234")
        );
        let by_ref = BookingLookup::Reference(one.reference.clone());
        let mut cancelled = one.clone();
        cancelled.status = BookingStatus::Cancelled;
        assert_eq!(
            choose_booking(&by_ref, &[cancelled], &me, &b, now()).unwrap_err(),
            "The booking with reference K-7-P-2-X-9 was already cancelled."
        );
        assert!(
            choose_booking(&by_ref, &[], &me, &b, now())
                .unwrap_err()
                .starts_with("I couldn't find a booking with reference K-7-P-2-X-9")
        );
        assert_eq!(
            appointments_answer(&phone, &[two.clone(), one.clone()], &me, &b, now()),
            "You have 2 upcoming appointments: Consultation on Wednesday, November 25 at 2:00 PM, reference K-7-P-2-X-9 and Consultation on Friday, November 27 at 10:00 AM, reference M-4-N-5-P-6."
        );
        assert_eq!(
            appointments_answer(&phone, &[], &me, &b, now()),
            "I can't find any upcoming appointments for the number ending in 1234."
        );
    }

    #[test]
    fn cancelling_frees_every_cell_and_its_claim_once_and_lowers_the_value() {
        let mut record = booking("K7P2X9", at(25, 14));
        record.holder = Some("tag-251400".into());
        let job = change(
            "K7P2X9",
            "default#K7P2X9#cancel",
            BookingChange::Cancel {
                reason: Some("sick".into()),
            },
            1,
        );
        let ChangeDecision::Apply {
            record: after,
            calendar,
            value_delta,
        } = record.decide(&job, now())
        else {
            panic!("a cancel applies");
        };
        assert_eq!(
            (
                after.status,
                calendar.release.len(),
                value_delta,
                after.version
            ),
            (BookingStatus::Cancelled, 2, -15_000, 2)
        );
        assert_eq!(
            calendar.unclaim,
            Some((record.slot_cells[0], "tag-251400".to_string()))
        );
        assert_eq!(
            after.audit.last().unwrap().note,
            "cancelled by phone assistant: sick"
        );
        // A redelivery writes nothing (the cells were freed with the record).
        assert_eq!(after.decide(&job, now()), ChangeDecision::AlreadyApplied);
        let mut again = job.clone();
        again.job_id = "other".into();
        assert_eq!(
            after.decide(&again, now()),
            ChangeDecision::Superseded {
                release: Vec::new()
            }
        );
    }

    #[test]
    fn rescheduling_moves_cells_and_claim_with_the_record_and_old_changes_lose() {
        let mut record = booking("K7P2X9", at(25, 14));
        record.holder = Some("tag-251400".into());
        // 14:00-15:00 → 14:30-15:30: 14:00 is freed, 14:30 kept, 15:00 was reserved.
        let later = at(25, 14) + chrono::Duration::minutes(30);
        let first = change("K7P2X9", "r1", move_to(at(25, 14), later), 10);
        let ChangeDecision::Apply {
            record: moved,
            calendar,
            ..
        } = record.decide(&first, now())
        else {
            panic!("a reschedule applies");
        };
        assert_eq!(calendar.release, cells_for(at(25, 14), 30, 30));
        assert!(calendar.reserve.is_empty(), "the webhook reserved 15:00");
        assert_eq!(
            calendar.unclaim,
            Some((record.slot_cells[0], "tag-251400".to_string()))
        );
        assert_eq!(
            calendar.claim,
            Some((moved.slot_cells[0], "tag-251430".to_string()))
        );
        assert_eq!(
            calendar.cells().len(),
            2,
            "14:00 freed and unclaimed; 14:30 claimed"
        );
        assert_eq!(
            (moved.status, moved.start_utc),
            (BookingStatus::Rescheduled, later.with_timezone(&Utc))
        );
        assert_eq!(moved.decide(&first, now()), ChangeDecision::AlreadyApplied);
        // A change asked for before the one applied arrives late: only what the webhook
        // reserved for it, and the booking does not use, is freed.
        let stale = change("K7P2X9", "r0", move_to(at(25, 14), at(26, 9)), 5);
        assert_eq!(
            moved.decide(&stale, now()),
            ChangeDecision::Superseded {
                release: cells_for(at(26, 9), 60, 30)
            }
        );
        let same = change("K7P2X9", "r2", move_to(later, later), 20);
        assert_eq!(
            moved.decide(&same, now()),
            ChangeDecision::Superseded {
                release: Vec::new()
            }
        );
        // A move the webhook planned from a stale view (it thought 14:00 was still held):
        // the cell it did not reserve is taken when the change applies.
        let back = change("K7P2X9", "r3", move_to(at(25, 14), at(25, 14)), 30);
        let ChangeDecision::Apply { calendar, .. } = moved.decide(&back, now()) else {
            panic!("applies");
        };
        assert_eq!(calendar.reserve, cells_for(at(25, 14), 30, 30));
        assert_eq!(calendar.release, vec![cells_for(later, 60, 30)[1]]);
    }

    #[test]
    fn another_number_must_name_who_the_booking_is_for() {
        let b = business();
        let one = booking("K7P2X9", at(25, 14));
        let by_ref = BookingLookup::Reference(one.reference.clone());
        let stranger = |name: Option<&str>| Requester {
            calling_from: Some(PhoneNumber::parse("+17025559999", b.phone_region).unwrap()),
            name: name.map(str::to_string),
        };
        let found = std::slice::from_ref(&one);
        assert_eq!(
            choose_booking(&by_ref, found, &stranger(None), &b, now()).unwrap_err(),
            "For your privacy, could you tell me the full name the booking was made under?"
        );
        assert!(
            choose_booking(&by_ref, found, &stranger(Some("Someone Else")), &b, now())
                .unwrap_err()
                .starts_with("That name doesn't match")
        );
        for name in ["Test User", "test user", "User"] {
            assert!(
                choose_booking(&by_ref, found, &stranger(Some(name)), &b, now()).is_ok(),
                "{name}"
            );
        }
        let phone = one.customer_phone.clone();
        assert_eq!(
            appointments_answer(&phone, found, &stranger(None), &b, now()),
            "For your privacy, could you tell me the full name the booking was made under?"
        );
        // A cancelled booking's details are not told to a stranger either.
        let mut cancelled = one.clone();
        cancelled.status = BookingStatus::Cancelled;
        assert_eq!(
            choose_booking(&by_ref, &[cancelled], &stranger(None), &b, now()).unwrap_err(),
            "I couldn't find an upcoming booking with reference K-7-P-2-X-9."
        );
    }
}
