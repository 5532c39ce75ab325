use super::*;
use crate::domain::booking::{BookingJob, CustomerDetails};
use crate::domain::booking_change::{BookingChange, BookingChangeJob, ChangeDecision};
use crate::domain::callers::sentences::{ANOTHER_NUMBER, NOT_FOUND_OR_NOT_YOURS};
use crate::values::slots::cells_for;
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
            name: "Test User".parse().unwrap(),
            phone: PhoneNumber::parse("+17025551234", b.phone_region).unwrap(),
            email: crate::values::email::EmailAddress::parse("test@example.com").unwrap(),
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
        texts: Default::default(),
        followups: None,
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
        texts: Default::default(),
        followups: None,
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
        "I need the booking reference or the phone number the booking was made with.".into()
    );
    let err =
        reschedule_request(&args(json!({"bookingReference": "K7P2X9"})), &call, &b).unwrap_err();
    assert_eq!(
        err,
        "To move the appointment I need the new date and new time.".into()
    );
}

#[test]
fn choosing_a_booking_speaks_every_case() {
    let b = business();
    let phone = PhoneNumber::parse("+17025551234", b.phone_region).unwrap();
    let one = booking("K7P2X9", at(25, 14));
    let two = booking("M4N5P6", at(27, 10));
    let by_phone = BookingLookup::Phone(phone.clone());
    let me = Caller {
        calling_from: Some(phone.clone()),
        verified: vec![],
    };
    assert_eq!(
        choose_booking(&by_phone, std::slice::from_ref(&one), &me, &b, now())
            .unwrap()
            .reference,
        one.reference
    );
    let err = choose_booking(&by_phone, &[one.clone(), two.clone()], &me, &b, now()).unwrap_err();
    assert_eq!(
        err,
        "You have 2 upcoming appointments: Consultation on Wednesday, November 25 at 2:00 PM, reference K-7-P-2-X-9 and Consultation on Friday, November 27 at 10:00 AM, reference M-4-N-5-P-6. Which one do you mean? Please tell me its booking reference.".into()
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
        "The booking with reference K-7-P-2-X-9 was already cancelled.".into()
    );
    assert_eq!(
        choose_booking(&by_ref, &[], &me, &b, now()).unwrap_err(),
        NOT_FOUND_OR_NOT_YOURS.into()
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
fn another_number_hears_the_same_words_whatever_exists_until_verified() {
    let b = business();
    let one = booking("K7P2X9", at(25, 14));
    let by_ref = BookingLookup::Reference(one.reference.clone());
    let stranger = Caller {
        calling_from: Some(PhoneNumber::parse("+17025559999", b.phone_region).unwrap()),
        verified: vec![],
    };
    let mut cancelled = one.clone();
    cancelled.status = BookingStatus::Cancelled;
    let mut past = one.clone();
    past.start_utc = now() - chrono::Duration::days(2);
    // Upcoming, cancelled, past or absent: one sentence, which names none of them.
    for found in [
        vec![one.clone()],
        vec![cancelled.clone()],
        vec![past],
        vec![],
    ] {
        assert_eq!(
            choose_booking(&by_ref, &found, &stranger, &b, now()).unwrap_err(),
            NOT_FOUND_OR_NOT_YOURS.into()
        );
    }
    // A name is no key: whatever the caller says, the booking's number is.
    let phone = one.customer_phone.clone();
    let found = std::slice::from_ref(&one);
    assert_eq!(
        choose_booking(
            &BookingLookup::Phone(phone.clone()),
            found,
            &stranger,
            &b,
            now()
        )
        .unwrap_err(),
        ANOTHER_NUMBER.into()
    );
    assert_eq!(
        appointments_answer(&phone, found, &stranger, &b, now()),
        ANOTHER_NUMBER
    );
    // Once the call proved the booking's number, it acts for it.
    let verified = Caller {
        verified: vec![phone.clone()],
        ..stranger
    };
    assert!(choose_booking(&by_ref, found, &verified, &b, now()).is_ok());
    assert_eq!(
        choose_booking(&by_ref, &[cancelled], &verified, &b, now()).unwrap_err(),
        "The booking with reference K-7-P-2-X-9 was already cancelled.".into()
    );
    assert!(appointments_answer(&phone, found, &verified, &b, now()).starts_with("You have one"));
}

#[test]
fn a_confirmation_by_text_and_the_end_mark_are_about_one_start_and_a_move_clears_them() {
    let from = at(25, 14);
    let record = booking("K7P2X9", from);
    let confirm = change("K7P2X9", "c1", BookingChange::Confirm, 0);
    let ChangeDecision::Apply {
        record: confirmed,
        calendar,
        ..
    } = record.decide(&confirm, now())
    else {
        panic!("a confirmation applies")
    };
    assert_eq!(confirmed.confirmed_by_customer_at, Some(now()));
    assert_eq!(
        calendar,
        crate::domain::booking_change::CalendarChange::default()
    );
    // Once: a second C finds it confirmed.
    let again = change("K7P2X9", "c2", BookingChange::Confirm, 1);
    assert!(matches!(
        confirmed.decide(&again, now()),
        ChangeDecision::Superseded { .. }
    ));

    let ended = change(
        "K7P2X9",
        "e1",
        BookingChange::Ended {
            start_utc: from.with_timezone(&Utc),
        },
        2,
    );
    let ChangeDecision::Apply { record: marked, .. } = confirmed.decide(&ended, now()) else {
        panic!("the end applies")
    };
    assert_eq!(
        marked.attendance,
        Some(crate::domain::booking::Attendance::ToConfirm)
    );

    let ChangeDecision::Apply { record: moved, .. } =
        marked.decide(&change("K7P2X9", "m1", move_to(from, at(26, 10)), 3), now())
    else {
        panic!("the move applies")
    };
    assert_eq!(
        (moved.confirmed_by_customer_at, moved.attendance),
        (None, None)
    );
    // The old start's end mark no longer applies.
    assert!(matches!(
        moved.decide(
            &change(
                "K7P2X9",
                "e2",
                BookingChange::Ended {
                    start_utc: from.with_timezone(&Utc)
                },
                4
            ),
            now()
        ),
        ChangeDecision::Superseded { .. }
    ));
}
